import { canonicalIp } from './cidr.ts';
import { principalNamespace, stripScheme } from './principal-match.ts';
import type { RequestAttributes } from './request.ts';

/**
 * The attributes of one request in the shapes the matchers compare, derived once per evaluation:
 * the principal without `spiffe://`, its namespace (computed on first use), the canonical source IP.
 */
export class RequestView {
  readonly attrs: RequestAttributes;
  /** False for opaque TCP connections (no method): HTTP-only fields then apply as Istio does. */
  readonly http: boolean;
  readonly principal: string | undefined;
  readonly sourceIp: string;
  #namespace: string | undefined = undefined;
  #namespaceDone = false;

  constructor(attrs: RequestAttributes) {
    this.attrs = attrs;
    this.http = attrs.method !== undefined;
    this.principal = attrs.principal === undefined ? undefined : stripScheme(attrs.principal);
    this.sourceIp = canonicalIp(attrs.sourceIp);
  }

  /** The namespace of the peer's SPIFFE ID (`.../ns/<ns>/...`), or undefined. */
  get namespace(): string | undefined {
    if (!this.#namespaceDone) {
      this.#namespace = this.principal === undefined ? undefined : principalNamespace(this.principal);
      this.#namespaceDone = true;
    }
    return this.#namespace;
  }
}

export function requestView(attrs: RequestAttributes): RequestView {
  return new RequestView(attrs);
}
