/** The outcome of authorizing one request. `policy` is "NS/NAME" of the deciding policy, or null. */
export interface Decision {
  readonly decision: 'ALLOW' | 'DENY';
  readonly policy: string | null;
  /** Index of the matching rule within the deciding policy, or null. */
  readonly rule: number | null;
  /** A short, stable explanation, e.g. "denied by DENY policy", "no ALLOW policy matched". */
  readonly reason: string;
  /** True when an AUDIT policy matched: the request must be written to the audit log. */
  readonly audit: boolean;
  /** Decisions that dry-run policies would have made, for the log only. */
  readonly dryRun: readonly { readonly policy: string; readonly decision: 'ALLOW' | 'DENY' }[];
  /**
   * For a DENY from the evaluator, the stable error code the sidecar puts in its 403 body:
   * ZTMESH_POLICY_DENIED, ZTMESH_POLICY_DENY_LISTED or ZTMESH_POLICY_INVALID_SET (fail closed).
   */
  readonly code?: string;
}

/** An authorizer evaluates requests against one immutable, compiled policy snapshot. */
export interface Authorizer {
  readonly version: string;
  evaluate(request: import('./request.ts').RequestAttributes): Decision;
}
