import { X509Certificate } from 'node:crypto';
import { isIP, type Socket } from 'node:net';
import { connect, type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { HostPort } from '../config/host-port.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { Connector } from '../pool/upstream-pool.ts';
import { type ReadSink, reusedReadBuffer } from '../pool/reused-read-buffer.ts';
import { TLS_VERSIONS } from '../tls/build-credentials.ts';
import { verifyPeerSvid } from '../tls/verify-svid.ts';

/**
 * mTLS connections to a destination sidecar: TLS 1.3 with the current SVID, the server chain
 * verified against the bundle, then its leaf checked against the SVID rules and required to be
 * exactly `identity` (ZTMESH_SIDECAR_WRONG_PEER_IDENTITY otherwise, before a byte is sent).
 */
export class PeerConnector implements Connector {
  readonly readyEvent = 'secureConnect' as const;
  readonly #endpoint: HostPort;
  readonly #identity: SpiffeId;
  readonly #credentials: CredentialsRef;
  readonly #trustDomains: ReadonlySet<string>;
  readonly #alpn: string[];
  readonly #checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;

  constructor(endpoint: HostPort, identity: SpiffeId, credentials: CredentialsRef, trustDomains: ReadonlySet<string>, alpn: string) {
    this.#endpoint = endpoint;
    this.#identity = identity;
    this.#credentials = credentials;
    this.#trustDomains = trustDomains;
    this.#alpn = [alpn];
    this.#checkServerIdentity = (_host, cert) => this.check(cert);
  }

  check(cert: PeerCertificate): Error | undefined {
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(cert.raw);
    } catch (err) {
      return new MeshError('ZTMESH_SIDECAR_PEER_TLS_FAILED', 'peer certificate cannot be parsed', { cause: err });
    }
    const verdict = verifyPeerSvid(leaf, { trustDomains: this.#trustDomains, now: Date.now() });
    if (!verdict.ok) return new MeshError('ZTMESH_SIDECAR_PEER_TLS_FAILED', `peer SVID refused: ${verdict.reason}`);
    if (verdict.id !== this.#identity) {
      return new MeshError('ZTMESH_SIDECAR_WRONG_PEER_IDENTITY', `peer is ${verdict.id}, expected ${this.#identity}`, {
        details: { expected: this.#identity, actual: verdict.id },
      });
    }
    return undefined;
  }

  /** With `sink`, decrypted reads land in one reused buffer and go to the sink (no 'data' events). */
  connect(sink?: ReadSink): Socket {
    const creds = this.#credentials.current;
    if (creds === undefined || creds.notAfter < Date.now()) {
      throw new MeshError('ZTMESH_SIDECAR_NO_CREDENTIALS', 'no valid SVID to present to the peer sidecar');
    }
    const host = this.#endpoint.host;
    const options: ConnectionOptions = {
      host,
      port: this.#endpoint.port,
      secureContext: creds.clientContext,
      ...TLS_VERSIONS,
      ALPNProtocols: this.#alpn,
      rejectUnauthorized: true,
      ...(isIP(host) === 0 ? { servername: host } : {}),
      checkServerIdentity: this.#checkServerIdentity,
    };
    if (sink === undefined) return connect(options);
    // tls.connect passes `onread` on to the socket it creates (Node's TLSSocket does, for a socket
    // it connects itself); @types/node leaves it out of ConnectionOptions.
    const socket: Socket = connect({ ...options, onread: reusedReadBuffer(sink, () => socket) } as ConnectionOptions);
    return socket;
  }
}
