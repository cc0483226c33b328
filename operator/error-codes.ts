import { defineCodes } from '../core/errors/code-registry.ts';

/** Codes of sidecar injection, the admission webhook and the iptables installer. */
export const injectCodes = defineCodes('INJECT', {
  ZTMESH_INJECT_BAD_MANIFEST: 'A manifest is not YAML, or a document in it is not a Kubernetes object (no kind or apiVersion).',
  ZTMESH_INJECT_BAD_ANNOTATION: 'A ztmesh.io/* annotation has an invalid value (port list, CIDR list, resource quantity, true/false flag, API spec ConfigMap reference, byte count); the message names the annotation.',
  ZTMESH_INJECT_CONFLICTING_ANNOTATIONS: 'Two ztmesh.io/* annotations contradict each other (e.g. the app port is also excluded from interception).',
  ZTMESH_INJECT_PARTIALLY_INJECTED: 'A pod carries the ztmesh.io/status annotation but not the containers or volumes it records; it was edited by hand.',
  ZTMESH_INJECT_ALREADY_INJECTED: 'A pod was already injected; it is left unchanged (a warning, not a failure).',
  ZTMESH_INJECT_BAD_OPTIONS: 'The injector options (chart values or CLI flags) are invalid.',
  ZTMESH_INJECT_BAD_POD: 'A pod spec cannot be injected (no containers, or a container name ztmesh reserves).',
  ZTMESH_INJECT_IPTABLES_FAILED: 'iptables-restore (or ip6tables-restore) failed or could not be run while installing the interception rules.',
  ZTMESH_INJECT_ADMISSION_REJECTED: 'An AdmissionReview could not be handled (malformed body, no request, too large); the webhook allows the object unchanged with a warning.',
  ZTMESH_INJECT_WEBHOOK_LISTEN_FAILED: 'The admission webhook HTTPS server could not listen on its address.',
});
