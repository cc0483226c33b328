import { KeyObject, X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { caServiceDefinition, type GetBundleResponse, type SignCertificateResponse } from '../api/ca-proto.ts';
import { caSpiffeId } from '../api/serving-identity.ts';
import { splitPemCertificates } from '../issuer/pem.ts';
import { generateP256 } from '../keys/p256-keys.ts';
import { SIGNING_ALGORITHM } from '../sign/sign-certificate.ts';
import { checkSvidProfile } from '../validate/svid-profile.ts';
import { verifySvid } from '../validate/svid-validator.ts';
import { x509 } from '../x509-lib.ts';

export interface CaConnectionOptions {
  /** HOST:PORT of `ztmesh ca serve`. */
  readonly address: string;
  /** The trust bundle the CA's serving certificate must chain to. */
  readonly bundlePem: string;
  /** The SPIFFE ID the CA must present; default spiffe://<bundle's trust domain>/ns/ztmesh-system/sa/ztmesh-ca. */
  readonly caIdentity?: string;
  readonly signal?: AbortSignal;
  /** Deadline of the call; default 10 s. */
  readonly timeoutMs?: number;
}

export interface RequestSvidOptions extends CaConnectionOptions {
  /** A join token or a Kubernetes ServiceAccount token, sent as `authorization: Bearer ...`. */
  readonly token?: string;
  /** The current SVID and its key: presented as the TLS client certificate to renew (same SPIFFE ID). */
  readonly current?: { certChainPem: string; privateKey: KeyObject };
  /** Requested lifetime like `30m`; the CA's default when absent. */
  readonly ttl?: string;
  /** DNS SANs to ask for (the CA issues them only to callers its `--allow-dns` list names). */
  readonly dnsNames?: readonly string[];
}

export interface SvidResult {
  readonly certChainPem: string;
  readonly privateKey: KeyObject;
  readonly bundlePem: string;
  readonly spiffeId: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

function trustDomainOfBundle(bundlePem: string): string {
  for (const pem of splitPemCertificates(bundlePem, 'trust bundle')) {
    const uri = /URI:spiffe:\/\/([^,/\s]+)/.exec(new X509Certificate(pem).subjectAltName ?? '');
    if (uri !== null) return uri[1]!;
  }
  throw new MeshError('ZTMESH_CA_RPC_FAILED', 'the trust bundle names no trust domain; pass caIdentity');
}

function rpcError(err: grpc.ServiceError | Error, what: string): MeshError {
  const code = (err as grpc.ServiceError).code;
  const details = (err as grpc.ServiceError).details ?? err.message;
  const serverCode = /^(ZTMESH_[A-Z0-9_]+):/.exec(details ?? '')?.[1];
  return new MeshError('ZTMESH_CA_RPC_FAILED', `${what} failed: ${typeof code === 'number' ? grpc.status[code] : 'error'}: ${details}`, {
    cause: err,
    details: { grpcCode: code, serverCode },
  });
}

function openClient(options: CaConnectionOptions, identity?: { keyPem: Buffer; certChainPem: string }): grpc.Client {
  const expected = options.caIdentity ?? caSpiffeId(trustDomainOfBundle(options.bundlePem));
  const credentials = grpc.credentials.createSsl(Buffer.from(options.bundlePem), identity?.keyPem ?? null, identity ? Buffer.from(identity.certChainPem) : null, {
    // The chain is verified against the bundle by TLS; the name checked is the CA's SPIFFE ID, not a hostname.
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const profile = checkSvidProfile(cert.raw);
      if (!profile.ok) return new Error(`CA certificate is not an SVID: ${profile.reason}`);
      return profile.id.id === expected ? undefined : new Error(`CA presented ${profile.id.id}, expected ${expected}`);
    },
  });
  const Client = caServiceDefinition();
  return new Client(options.address, credentials, {
    'grpc.max_receive_message_length': 1024 * 1024,
    // SNI must be a DNS name (not the IP of a loopback address); the CA's identity is checked above.
    'grpc.ssl_target_name_override': 'ztmesh-ca',
  });
}

function unary<Res>(client: grpc.Client, method: string, request: unknown, metadata: grpc.Metadata, options: CaConnectionOptions): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new MeshError('ZTMESH_CA_RPC_FAILED', `${method} aborted`, { cause: options.signal.reason }));
      return;
    }
    const deadline = new Date(Date.now() + (options.timeoutMs ?? 10_000));
    const fn = (client as unknown as Record<string, (...args: unknown[]) => grpc.ClientUnaryCall>)[method]!.bind(client);
    const call = fn(request, metadata, { deadline }, (err: grpc.ServiceError | null, response: Res) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err !== null) reject(rpcError(err, method));
      else resolve(response);
    });
    function onAbort(): void {
      call.cancel();
    }
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Gets an X.509-SVID from the CA: a fresh P-256 key in memory (never written), a CSR, and
 * SignCertificate authenticated by `token` or by `current` as the TLS client certificate. The
 * returned chain is checked against the caller's own bundle and key before it is returned.
 */
export async function requestSvid(opts: RequestSvidOptions): Promise<SvidResult> {
  const keys = await generateP256();
  const dnsNames = opts.dnsNames ?? [];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    ...(dnsNames.length > 0 ? { extensions: [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))] } : {}),
  });
  const metadata = new grpc.Metadata();
  if (opts.token !== undefined) metadata.set('authorization', `Bearer ${opts.token}`);
  const identity = opts.current === undefined ? undefined : { keyPem: Buffer.from(opts.current.privateKey.export({ format: 'pem', type: 'pkcs8' })), certChainPem: opts.current.certChainPem };
  const client = openClient(opts, identity);
  let response: SignCertificateResponse;
  try {
    response = await unary<SignCertificateResponse>(client, 'SignCertificate', { csr: Buffer.from(csr.rawData), ttl: opts.ttl ?? '' }, metadata, opts);
  } finally {
    client.close();
  }
  const privateKey = KeyObject.from(keys.privateKey);
  try {
    const chain = splitPemCertificates(response.certChain, 'issued chain').map((pem) => new X509Certificate(pem));
    const roots = splitPemCertificates(opts.bundlePem, 'trust bundle').map((pem) => new X509Certificate(pem));
    const trustDomain = /^spiffe:\/\/([^/]+)/.exec(response.spiffeId)?.[1] ?? '';
    const verified = verifySvid(chain, { trustDomain, roots }, Date.now());
    if (!chain[0]!.checkPrivateKey(privateKey)) throw new Error('the certificate is not for the key we sent');
    if (verified.spiffeId !== response.spiffeId) throw new Error('the certificate names another SPIFFE ID than the response');
    return { certChainPem: response.certChain, privateKey, bundlePem: response.bundle, spiffeId: verified.spiffeId, notBefore: verified.notBefore, notAfter: verified.notAfter };
  } catch (err) {
    throw new MeshError('ZTMESH_CA_BAD_SVID', `the CA returned a certificate that does not verify: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** The CA's trust bundle over GetBundle (the connection itself is verified against `bundlePem`). */
export async function fetchBundle(opts: CaConnectionOptions): Promise<string> {
  const client = openClient(opts);
  try {
    return (await unary<GetBundleResponse>(client, 'GetBundle', {}, new grpc.Metadata(), opts)).bundle;
  } finally {
    client.close();
  }
}
