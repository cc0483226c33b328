import { MeshError, errorCode } from '../../core/errors/mesh-error.ts';
import type { InjectOptions } from '../inject/inject-options.ts';
import { injectPod } from '../inject/inject-pod.ts';
import { diffJsonPatch } from './json-patch-diff.ts';

export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The AdmissionReview v1 answer the API server expects. */
export interface AdmissionReviewResponse {
  readonly apiVersion: typeof ADMISSION_API_VERSION;
  readonly kind: 'AdmissionReview';
  readonly response: {
    readonly uid: string;
    readonly allowed: true;
    readonly patchType?: 'JSONPatch';
    /** base64 of the JSON-encoded RFC 6902 patch. */
    readonly patch?: string;
    readonly warnings?: string[];
  };
}

export type AdmissionOutcome = 'patched' | 'unchanged' | 'invalid';

export interface AdmissionResult {
  readonly review: AdmissionReviewResponse;
  readonly outcome: AdmissionOutcome;
  /** The error code behind an 'invalid' or a warned 'unchanged' outcome, for logs and counters. */
  readonly code: string | undefined;
}

export interface AdmissionContext {
  readonly options: InjectOptions;
  /**
   * Whether a namespace is labelled ztmesh.io/inject=enabled, when the caller knows (the operator's
   * namespace informer); undefined trusts the webhook's namespaceSelector.
   */
  readonly namespaceEnabled?: (namespace: string) => boolean | undefined;
}

// The API server shows warnings to kubectl users; it asks for them to be short.
const MAX_WARNING = 120;

function warning(text: string): string {
  return text.length > MAX_WARNING ? `${text.slice(0, MAX_WARNING - 3)}...` : text;
}

function allow(uid: string, outcome: AdmissionOutcome, code: string | undefined, warnings: string[], patch?: unknown[]): AdmissionResult {
  const response: AdmissionReviewResponse['response'] = {
    uid,
    allowed: true,
    ...(patch !== undefined && patch.length > 0 ? { patchType: 'JSONPatch' as const, patch: Buffer.from(JSON.stringify(patch)).toString('base64') } : {}),
    ...(warnings.length > 0 ? { warnings: warnings.map(warning) } : {}),
  };
  return { review: { apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response }, outcome, code };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Answers one AdmissionReview (already JSON-parsed). Always allows: a pod that should be injected
 * gets a JSONPatch computed from the same injectPod() the CLI runs; anything the webhook cannot or
 * should not handle is allowed unchanged, with a warning when it was bad input. Pure.
 */
export function reviewAdmission(body: unknown, context: AdmissionContext): AdmissionResult {
  if (!isObject(body) || body['kind'] !== 'AdmissionReview' || !isObject(body['request'])) {
    return allow('', 'invalid', 'ZTMESH_INJECT_ADMISSION_REJECTED', ['ztmesh: not an AdmissionReview with a request; allowed unchanged']);
  }
  const request = body['request'];
  const uid = typeof request['uid'] === 'string' ? request['uid'] : '';
  if (body['apiVersion'] !== ADMISSION_API_VERSION) {
    return allow(uid, 'invalid', 'ZTMESH_INJECT_ADMISSION_REJECTED', [`ztmesh: AdmissionReview ${String(body['apiVersion'])} is not ${ADMISSION_API_VERSION}; allowed unchanged`]);
  }
  const kind = isObject(request['kind']) ? request['kind'] : {};
  if (kind['kind'] !== 'Pod' || kind['group'] !== '' || request['subResource'] !== undefined && request['subResource'] !== '') {
    return allow(uid, 'invalid', 'ZTMESH_INJECT_ADMISSION_REJECTED', [`ztmesh: only Pods are injected, not ${String(kind['kind'])}; allowed unchanged`]);
  }
  if (request['operation'] !== 'CREATE') return allow(uid, 'unchanged', undefined, []);
  const pod = request['object'];
  const namespace = typeof request['namespace'] === 'string' && request['namespace'] !== '' ? request['namespace'] : undefined;
  if (!isObject(pod) || namespace === undefined) {
    return allow(uid, 'invalid', 'ZTMESH_INJECT_ADMISSION_REJECTED', ['ztmesh: the request has no pod object or namespace; allowed unchanged']);
  }
  if (context.namespaceEnabled?.(namespace) === false) return allow(uid, 'unchanged', undefined, []);
  try {
    const result = injectPod(pod, namespace, context.options);
    if (result.outcome !== 'injected') {
      const code = result.outcome === 'already-injected' ? 'ZTMESH_INJECT_ALREADY_INJECTED' : undefined;
      return allow(uid, 'unchanged', code, result.warnings.map((w) => `ztmesh: ${w}`));
    }
    return allow(uid, 'patched', undefined, result.warnings.map((w) => `ztmesh: ${w}`), diffJsonPatch(pod, result.template));
  } catch (err) {
    if (!(err instanceof MeshError)) throw err;
    return allow(uid, 'invalid', errorCode(err), [`ztmesh: not injected: ${err.code}: ${err.message}`]);
  }
}
