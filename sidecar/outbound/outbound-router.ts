import type { RequestObserver } from '../telemetry/request-observer.ts';
import type { CredentialsRef } from '../tls/credentials.ts';
import type { Http1Connection } from '../http1/http1-connection.ts';
import type { Http1Router, Route, RoutedRefusal } from '../http1/http1-router.ts';
import type { RequestHead } from '../http1/request-head.ts';
import { refusal } from '../errors/refusal.ts';
import { OutboundRequest } from './outbound-request.ts';
import { authorityHost, authorityPort, lookupService, type ServiceEntry } from './service-table.ts';

const BAD_FORM: RoutedRefusal = {
  refusal: refusal(400, 'ZTMESH_SIDECAR_BAD_TARGET', 'outbound requests must use an origin-form or http:// absolute-form target (no CONNECT)'),
  scope: undefined,
};
const NO_HOST: RoutedRefusal = { refusal: refusal(400, 'ZTMESH_SIDECAR_BAD_HOST', 'request names no authority (Host header or absolute-form target)'), scope: undefined };

/**
 * Outbound HTTP/1.1 layer: route by authority (absolute-form target, rewritten to origin-form,
 * else the Host header) to a configured service, then to one of its endpoints' mTLS pools.
 */
export class OutboundRouter implements Http1Router {
  readonly direction = 'outbound' as const;
  readonly #services: ReadonlyMap<string, ServiceEntry>;
  readonly #observer: RequestObserver;
  readonly #credentials: CredentialsRef;

  constructor(services: ReadonlyMap<string, ServiceEntry>, observer: RequestObserver, credentials: CredentialsRef) {
    this.#services = services;
    this.#observer = observer;
    this.#credentials = credentials;
  }

  route(conn: Http1Connection, head: RequestHead): Route | RoutedRefusal {
    let target = head.target;
    let authority = head.host;
    if (head.targetForm === 'absolute') {
      // http://authority[/path]
      const rest = target.slice(7);
      const slash = rest.indexOf('/');
      const q = rest.indexOf('?');
      const cut = slash === -1 ? q : q === -1 ? slash : Math.min(slash, q);
      authority = cut === -1 ? rest : rest.slice(0, cut);
      target = cut === -1 ? '/' : rest[cut] === '?' ? `/${rest.slice(cut)}` : rest.slice(cut);
      if (authority.length === 0 || authority.includes('@')) return BAD_FORM;
    } else if (head.targetForm !== 'origin') {
      return BAD_FORM;
    }
    if (authority === undefined) return NO_HOST;
    const host = authorityHost(authority);
    const entry = lookupService(this.#services, host, authorityPort(authority));
    if (entry === undefined) {
      return { refusal: refusal(503, 'ZTMESH_SIDECAR_NO_ROUTE', `no service is configured for ${JSON.stringify(host.slice(0, 100))}`), scope: undefined };
    }
    if (!entry.pool.reserve()) {
      return { refusal: refusal(503, 'ZTMESH_BALANCE_NO_ENDPOINTS', `service ${entry.target.name} has no endpoint in rotation`), scope: undefined };
    }
    const q = target.indexOf('?');
    const info = new OutboundRequest(
      head,
      q === -1 ? target : target.slice(0, q),
      this.#credentials.current?.identity,
      entry.target.identity,
      entry.target.name,
      conn.remoteAddress,
      conn.localPort,
    );
    const policy = entry.policy;
    policy.deposit(Date.now());
    return { pool: entry.pool, target, extraHeaders: '', scope: this.#observer.start(info), timeoutMs: policy.timeoutFor(target), retry: policy };
  }
}
