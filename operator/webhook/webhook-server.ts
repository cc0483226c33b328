import { SpanKind, type Tracer } from '@opentelemetry/api';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/telemetry/logger.ts';
import { MeshError, errorCode } from '../../core/errors/mesh-error.ts';
import type { InjectOptions } from '../inject/inject-options.ts';
import { type AdmissionOutcome, type AdmissionResult, reviewAdmission } from './admission-review.ts';

export interface WebhookCredentials {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface WebhookServerOptions {
  /** `host:port`; port 0 picks a free one (read it back from `address`). */
  readonly listen: string;
  /**
   * The current serving certificate. Called when each connection is accepted, before its TLS
   * handshake: when it returns a different certificate or key (renewed by the operator from the
   * mesh CA), the server switches to it for this and every later connection.
   */
  readonly credentials: () => WebhookCredentials;
  readonly options: InjectOptions | (() => InjectOptions);
  readonly logger: Logger;
  readonly namespaceEnabled?: (namespace: string) => boolean | undefined;
  /** Largest AdmissionReview body accepted (default 3 MiB: an object of etcd's 1.5 MiB limit, twice, for UPDATE). */
  readonly maxBodyBytes?: number;
  /** Traces each admission request (OTEL_* configured); undefined: no spans. */
  readonly tracer?: Tracer | undefined;
}

export interface WebhookServer {
  readonly address: { readonly host: string; readonly port: number };
  /** Requests answered, by outcome (every answer allows; 'invalid' ones carry a warning). */
  counters(): Readonly<Record<AdmissionOutcome | 'error', number>>;
  close(): Promise<void>;
}

export const WEBHOOK_PATH = '/inject';

function splitListen(listen: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  if (m === null || Number(m[2]) > 65535) {
    throw new MeshError('ZTMESH_INJECT_WEBHOOK_LISTEN_FAILED', `webhook listen address ${JSON.stringify(listen)} is not host:port`);
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

/** Pulls `request.uid` out of a body too large or too broken to parse, so the answer can still name it. */
function sniffUid(text: string): string {
  return /"uid"\s*:\s*"([0-9A-Za-z-]{1,64})"/.exec(text)?.[1] ?? '';
}

/**
 * The mutating admission webhook: HTTPS, POST /inject with an AdmissionReview v1, answered with an
 * AdmissionReview whose response allows the pod and carries the injection as a JSONPatch. Whatever
 * arrives (no request, a non-Pod, malformed JSON, an oversized body, an injector failure), the answer
 * is HTTP 200 "allowed, unchanged" with a warning: the webhook never breaks pod creation by itself;
 * whether pods may be created while it is unreachable is the chart's failurePolicy.
 */
export async function startWebhookServer(config: WebhookServerOptions): Promise<WebhookServer> {
  const { host, port } = splitListen(config.listen);
  const maxBody = config.maxBodyBytes ?? 3 * 1024 * 1024;
  const counts: Record<AdmissionOutcome | 'error', number> = { patched: 0, unchanged: 0, invalid: 0, error: 0 };
  let current = config.credentials();
  // The API server waits at most 30 s (timeoutSeconds); a slower client is not one of its calls.
  const server: Server = createServer({ cert: current.certPem, key: current.keyPem, minVersion: 'TLSv1.2', requestTimeout: 30_000, headersTimeout: 10_000 });

  // Runs before tls.Server's own 'connection' listener, which builds the TLS socket from the
  // server's current context: a renewed certificate is in place for the very connection that saw it.
  server.prependListener('connection', (socket) => {
    socket.on('error', () => {}); // a client that resets mid-handshake is not our error
    let next: WebhookCredentials;
    try {
      next = config.credentials();
    } catch (err) {
      config.logger.warn({ code: errorCode(err) }, 'webhook credentials getter failed; keeping the current certificate');
      return;
    }
    if (next.certPem !== current.certPem || next.keyPem !== current.keyPem) {
      try {
        server.setSecureContext({ cert: next.certPem, key: next.keyPem, minVersion: 'TLSv1.2' });
        current = next;
        config.logger.info('webhook serving certificate renewed');
      } catch (err) {
        config.logger.warn({ code: errorCode(err) }, 'renewed webhook certificate is unusable; keeping the current one');
      }
    }
  });
  server.on('tlsClientError', (err) => config.logger.debug({ code: errorCode(err) }, 'webhook TLS handshake failed'));

  const send = (res: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const answer = (res: ServerResponse, result: AdmissionResult, startTime: number): void => {
    counts[result.outcome]++;
    config.tracer
      ?.startSpan('operator.admission', { kind: SpanKind.SERVER, startTime, attributes: { 'ztmesh.admission.uid': result.review.response.uid, 'ztmesh.admission.outcome': result.outcome, ...(result.code !== undefined ? { 'error.type': result.code } : {}) } })
      .end();
    if (result.code !== undefined) config.logger.warn({ code: result.code, uid: result.review.response.uid, outcome: result.outcome }, 'admission request allowed unchanged');
    send(res, 200, result.review);
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    req.on('error', () => {});
    res.on('error', () => {});
    const url = req.url ?? '';
    if (req.method === 'GET' && url === '/healthz') return send(res, 200, { status: 'ok' });
    if (url.split('?')[0] !== WEBHOOK_PATH) return send(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'POST an AdmissionReview' });
    const startTime = Date.now();
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBody) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const invalid = (message: string): AdmissionResult => {
        const base = reviewAdmission(undefined, { options: resolveOptions(config.options) });
        return { ...base, review: { ...base.review, response: { ...base.review.response, uid: sniffUid(text), warnings: [message] } } };
      };
      if (tooLarge) return answer(res, invalid(`ztmesh: AdmissionReview larger than ${maxBody} bytes; allowed unchanged`), startTime);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return answer(res, invalid('ztmesh: AdmissionReview is not valid JSON; allowed unchanged'), startTime);
      }
      try {
        answer(res, reviewAdmission(body, { options: resolveOptions(config.options), ...(config.namespaceEnabled === undefined ? {} : { namespaceEnabled: config.namespaceEnabled }) }), startTime);
      } catch (err) {
        counts.error++;
        config.logger.error({ code: errorCode(err), err }, 'injector failed; pod allowed unchanged');
        const uid = sniffUid(text);
        send(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true, warnings: ['ztmesh: internal error in the injector; allowed unchanged'] } });
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new MeshError('ZTMESH_INJECT_WEBHOOK_LISTEN_FAILED', `webhook cannot listen on ${config.listen}: ${errorCode(err)}`, { cause: err }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      server.on('error', (err) => config.logger.error({ code: errorCode(err) }, 'webhook server error'));
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    counters: () => ({ ...counts }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function resolveOptions(options: InjectOptions | (() => InjectOptions)): InjectOptions {
  return typeof options === 'function' ? options() : options;
}
