import type { Authorizer } from '../../core/policy/decision.ts';
import { normalizePath, type PathNormalizationMode } from '../../core/http/normalize-path.ts';
import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { UpstreamPool } from '../pool/upstream-pool.ts';
import type { Http1Connection } from '../http1/http1-connection.ts';
import type { Http1Router, Route, RoutedRefusal } from '../http1/http1-router.ts';
import type { RequestHead } from '../http1/request-head.ts';
import { refusal } from '../errors/refusal.ts';
import { InboundRequest } from './inbound-request.ts';

const NOT_ORIGIN_FORM: RoutedRefusal = {
  refusal: refusal(400, 'ZTMESH_SIDECAR_BAD_TARGET', 'inbound requests must use an origin-form target ("/path")'),
  scope: undefined,
};

/**
 * Inbound HTTP/1.1 layer: normalize the path (the app receives exactly the path the policy saw),
 * authorize against the current policy snapshot (none loaded: deny, fail closed), then forward to
 * the app with the verified peer identity in `x-ztmesh-peer-identity`.
 */
export class InboundRouter implements Http1Router {
  readonly direction = 'inbound' as const;
  readonly #app: UpstreamPool;
  readonly #appPort: number;
  readonly #authorizer: () => Authorizer | undefined;
  readonly #observer: RequestObserver;
  readonly #credentials: CredentialsRef;
  readonly #mode: PathNormalizationMode;

  constructor(app: UpstreamPool, appPort: number, authorizer: () => Authorizer | undefined, observer: RequestObserver, credentials: CredentialsRef, mode: PathNormalizationMode) {
    this.#app = app;
    this.#appPort = appPort;
    this.#authorizer = authorizer;
    this.#observer = observer;
    this.#credentials = credentials;
    this.#mode = mode;
  }

  route(conn: Http1Connection, head: RequestHead): Route | RoutedRefusal {
    if (head.targetForm !== 'origin') return NOT_ORIGIN_FORM;
    const norm = normalizePath(head.target, this.#mode);
    if (!norm.ok) return { refusal: refusal(400, norm.code, norm.reason), scope: undefined };
    const peer = conn.peer;
    const req = new InboundRequest(peer?.id, this.#credentials.current?.identity, conn.remoteAddress, this.#appPort, head.method, norm.path, head);
    const authorizer = this.#authorizer();
    if (authorizer === undefined) {
      const scope = this.#observer.start(req);
      return { refusal: refusal(403, 'ZTMESH_SIDECAR_NO_POLICY', 'no valid authorization policy is loaded: denied'), scope };
    }
    const decision = authorizer.evaluate(req);
    req.decision = decision;
    const scope = this.#observer.start(req);
    if (decision.decision !== 'ALLOW') return { refusal: refusal(403, 'ZTMESH_SIDECAR_DENIED', `denied: ${decision.reason}`), scope };
    return {
      pool: this.#app,
      target: norm.target,
      extraHeaders: peer === undefined ? '' : `x-ztmesh-peer-identity: ${peer.id}\r\n`,
      scope,
    };
  }
}
