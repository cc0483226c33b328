import { normalizePath, type PathNormalizationMode } from '../../core/http/normalize-path.ts';
import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { UpstreamPool } from '../pool/upstream-pool.ts';
import type { Http1Connection } from '../http1/http1-connection.ts';
import type { Http1Router, PendingRoute, Route, RoutedRefusal } from '../http1/http1-router.ts';
import type { RequestHead } from '../http1/request-head.ts';
import { isRefusal, refusal, type Refusal } from '../errors/refusal.ts';
import type { BodyCheck } from '../validation/body-check.ts';
import type { RequestValidator } from '../validation/request-validator.ts';
import type { InboundGate } from './inbound-gate.ts';
import { InboundRequest } from './inbound-request.ts';
import type { BodyLimits } from './body-limits.ts';

const NOT_ORIGIN_FORM: RoutedRefusal = {
  refusal: refusal(400, 'ZTMESH_SIDECAR_BAD_TARGET', 'inbound requests must use an origin-form target ("/path")'),
  scope: undefined,
};

/**
 * Inbound HTTP/1.1 layer: normalize the path (the app receives exactly the path the policy saw),
 * pass the inbound gate (end-user JWT, authorization, rate limit), then forward to the app with
 * the verified peer identity in `x-ztmesh-peer-identity`. Only a request carrying a token to
 * verify takes the asynchronous route.
 */
export class InboundRouter implements Http1Router {
  readonly direction = 'inbound' as const;
  readonly #app: UpstreamPool;
  readonly #appPort: number;
  readonly #gate: InboundGate;
  readonly #observer: RequestObserver;
  readonly #credentials: CredentialsRef;
  readonly #mode: PathNormalizationMode;
  readonly #bodyLimits: BodyLimits | undefined;
  readonly #maxBodyBytes: number;
  readonly #validator: RequestValidator | undefined;

  constructor(
    app: UpstreamPool,
    appPort: number,
    gate: InboundGate,
    observer: RequestObserver,
    credentials: CredentialsRef,
    mode: PathNormalizationMode,
    bodyLimits: BodyLimits | undefined,
    maxBodyBytes: number,
    validator?: RequestValidator,
  ) {
    this.#validator = validator;
    this.#bodyLimits = bodyLimits;
    this.#maxBodyBytes = maxBodyBytes;
    this.#app = app;
    this.#appPort = appPort;
    this.#gate = gate;
    this.#observer = observer;
    this.#credentials = credentials;
    this.#mode = mode;
  }

  route(conn: Http1Connection, head: RequestHead): Route | RoutedRefusal | PendingRoute {
    if (head.targetForm !== 'origin') return NOT_ORIGIN_FORM;
    const norm = normalizePath(head.target, this.#mode);
    if (!norm.ok) return { refusal: refusal(400, norm.code, norm.reason), scope: undefined };
    // A route can only lower the listener-wide limit (already enforced on Content-Length before routing).
    const maxBody = this.#bodyLimits === undefined ? this.#maxBodyBytes : Math.min(this.#bodyLimits.limitFor(norm.path, this.#maxBodyBytes), this.#maxBodyBytes);
    if (head.contentLength > maxBody) return { refusal: refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${maxBody} bytes for this route`), scope: undefined };
    const peer = conn.peer?.id;
    const req = new InboundRequest(peer, this.#credentials.current?.identity, conn.remoteAddress, this.#appPort, head.method, norm.path, head);
    if (this.#gate.needsAuthn(req)) return { pending: this.#authenticated(req, head, norm.target, peer, maxBody) };
    return this.#finish(req, head, norm.target, peer, maxBody, this.#gate.admit(req));
  }

  async #authenticated(req: InboundRequest, head: RequestHead, target: string, peer: SpiffeId | undefined, maxBody: number): Promise<Route | RoutedRefusal> {
    return this.#finish(req, head, target, peer, maxBody, await this.#gate.authenticateAndAdmit(req));
  }

  #finish(req: InboundRequest, head: RequestHead, target: string, peer: SpiffeId | undefined, maxBodyBytes: number, refused: Refusal | undefined): Route | RoutedRefusal {
    const scope = this.#observer.start(req);
    if (refused !== undefined) return { refusal: refused, scope };
    // Request validation (sidecar/validation), after authorization: route, query, then maybe the whole body.
    let bodyCheck: BodyCheck | undefined;
    const validator = this.#validator;
    if (validator !== undefined) {
      const checked = validator.check(req, target, head.hasBody());
      if (checked !== undefined) {
        if (isRefusal(checked)) return { refusal: checked, scope };
        bodyCheck = checked;
        if (validator.maxBodyBytes < maxBodyBytes) maxBodyBytes = validator.maxBodyBytes;
        if (head.contentLength > maxBodyBytes) return { refusal: refusal(413, 'ZTMESH_SIDECAR_BODY_TOO_LARGE', `request body exceeds ${maxBodyBytes} bytes, the most buffered for validation`), scope };
      }
    }
    const authn = this.#gate.authn;
    if (authn !== undefined && req.claims !== undefined) {
      const strip = authn.headersToStrip(req);
      if (strip.length > 0) for (let k = 0; k < head.names.length; k++) if (strip.includes(head.names[k]!)) head.drop[k] = true;
    }
    return {
      pool: this.#app,
      target,
      extraHeaders: peer === undefined ? '' : `x-ztmesh-peer-identity: ${peer}\r\n`,
      scope,
      maxBodyBytes,
      bodyCheck,
    };
  }
}
