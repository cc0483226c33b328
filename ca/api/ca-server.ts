import type { Tracer } from '@opentelemetry/api';
import * as grpc from '@grpc/grpc-js';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { CallerAuthenticator } from '../authn/caller-authenticator.ts';
import type { X509Authority } from '../issuer/x509-authority.ts';
import { caServiceDefinition, MAX_CSR_BYTES } from './ca-proto.ts';
import { caServiceHandlers } from './ca-service.ts';
import type { DnsAllowList } from './dns-allow-list.ts';
import { ServingIdentity } from './serving-identity.ts';

export interface RunningCaServer {
  readonly port: number;
  readonly identity: ServingIdentity;
  close(): Promise<void>;
}

/**
 * Serves the CA API on `listen` (HOST:PORT; port 0 picks one) over TLS 1.3 with the CA's own,
 * self-issued, auto-renewed serving SVID.
 */
export async function startCaServer(options: {
  authority: X509Authority;
  authenticator: CallerAuthenticator;
  listen: string;
  logger: Logger;
  audit: Logger;
  dnsNames?: readonly string[];
  /** Which callers may ask for which DNS SANs (`ztmesh ca serve --allow-dns`). */
  dnsAllowList?: DnsAllowList | undefined;
  /** Traces each issuance (OTEL_* configured); undefined: no spans. */
  tracer?: Tracer | undefined;
}): Promise<RunningCaServer> {
  const identity = await ServingIdentity.start({ authority: options.authority, logger: options.logger, ...(options.dnsNames ? { dnsNames: options.dnsNames } : {}) });
  const server = new grpc.Server({
    // Room for a 64 KiB CSR plus framing; larger CSRs get our own RESOURCE_EXHAUSTED, far larger ones grpc's.
    'grpc.max_receive_message_length': MAX_CSR_BYTES + 16 * 1024,
    'grpc.max_concurrent_streams': 100,
  });
  const handlers = caServiceHandlers(options);
  server.addService(caServiceDefinition().service, {
    SignCertificate: handlers.signCertificate,
    GetBundle: handlers.getBundle,
  });
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(options.listen, identity.credentials, (err, bound) => (err === null ? resolve(bound) : reject(err)));
    });
  } catch (err) {
    identity.stop();
    server.forceShutdown();
    throw new MeshError('ZTMESH_CA_LISTEN_FAILED', `cannot listen on ${options.listen}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, details: { listen: options.listen } });
  }
  return {
    port,
    identity,
    async close() {
      identity.stop();
      await new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
      });
    },
  };
}
