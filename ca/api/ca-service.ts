import { trace, type Tracer } from '@opentelemetry/api';
import { withSpan } from '../../core/telemetry/tracing.ts';
import * as grpc from '@grpc/grpc-js';
import { errorCode } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { AuthenticatedCaller, CallerAuthenticator } from '../authn/caller-authenticator.ts';
import type { X509Authority } from '../issuer/x509-authority.ts';
import type { GetBundleResponse, SignCertificateRequest, SignCertificateResponse } from './ca-proto.ts';
import { checkRequestedIdentity, parseCsr } from './csr-check.ts';
import type { DnsAllowList } from './dns-allow-list.ts';
import { grpcStatusFor } from './grpc-status.ts';

type Unary<Req, Res> = (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => void;

function metadataString(metadata: grpc.Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' ? value : undefined;
}

/**
 * The CertificateAuthority handlers. Every issuance and every refusal is one audit line (caller,
 * SPIFFE ID, serial, notAfter, reason); errors become gRPC statuses at one rescue point; a failing
 * call never affects other callers.
 */
export function caServiceHandlers(deps: { authority: X509Authority; authenticator: CallerAuthenticator; audit: Logger; logger: Logger; dnsAllowList?: DnsAllowList | undefined; tracer?: Tracer | undefined }) {
  const { authority, authenticator, audit, logger } = deps;

  /** The rescue point: maps an error to a status; unknown errors become INTERNAL and a warning. */
  function fail<Res>(callback: grpc.sendUnaryData<Res>, err: unknown): void {
    const { code, known } = grpcStatusFor(err);
    if (!known) logger.warn({ err, event: 'ca.internal_error' }, 'unexpected error in CA call');
    const details = known && err instanceof Error ? `${errorCode(err)}: ${err.message}` : 'internal error';
    callback({ code, details, metadata: new grpc.Metadata() }, null);
  }

  const signCertificate: Unary<SignCertificateRequest, SignCertificateResponse> = (call, callback) => {
    const peer = call.getPeer();
    let caller: AuthenticatedCaller | undefined;
    const run = (): Promise<SignCertificateResponse> =>
      // One SERVER span per issuance (or refusal: the span then carries the error code, never the message).
      withSpan(deps.tracer, 'ca.SignCertificate', { 'rpc.system': 'grpc', 'rpc.method': 'SignCertificate' }, async (ctx) => {
        const response = await sign();
        trace.getSpan(ctx)?.setAttributes({ 'ztmesh.ca.caller': caller?.method ?? 'unauthenticated', 'ztmesh.spiffe_id': response.spiffeId, 'ztmesh.ca.not_after': new Date(response.notAfter).toISOString() });
        return response;
      }, { kind: 'server' });
    const sign = async (): Promise<SignCertificateResponse> => {
      // The CSR's structure first (bounded, cheap): a malformed CSR burns no join token and costs no TokenReview.
      const csr = await parseCsr(call.request.csr);
      const peerCert = call.getAuthContext()?.sslPeerCertificate?.raw;
      caller = await authenticator.authenticate({ peerCertificate: peerCert, authorization: metadataString(call.metadata, 'authorization') });
      const dnsNames = checkRequestedIdentity(csr, caller.spiffeId, deps.dnsAllowList?.get(caller.spiffeId));
      const issued = await authority.issue({ spiffeId: caller.spiffeId, publicKey: csr.publicKey, ttl: call.request.ttl === '' ? undefined : call.request.ttl, ...(dnsNames.length > 0 ? { dnsNames } : {}) });
      audit.info(
        { audit: 'ca.issue', result: 'issued', peer, caller: caller.method, spiffeId: issued.spiffeId, serial: issued.serial, notAfter: new Date(issued.notAfter).toISOString(), ...(dnsNames.length > 0 ? { dnsNames } : {}) },
        'certificate issued',
      );
      return { certChain: issued.certChainPem, bundle: issued.bundlePem, notAfter: issued.notAfter, spiffeId: issued.spiffeId };
    };
    run().then(
      (response) => callback(null, response),
      (err: unknown) => {
        audit.warn(
          {
            audit: 'ca.issue',
            result: 'refused',
            peer,
            caller: caller?.method ?? 'unauthenticated',
            spiffeId: caller?.spiffeId,
            serial: null,
            notAfter: null,
            code: errorCode(err),
            reason: err instanceof Error ? err.message : String(err),
          },
          'certificate refused',
        );
        fail(callback, err);
      },
    );
  };

  const getBundle: Unary<unknown, GetBundleResponse> = (_call, callback) => {
    callback(null, { bundle: authority.bundlePem });
  };

  return { signCertificate, getBundle };
}
