import { defineCodes } from '../core/errors/code-registry.ts';

/** Codes of the control plane: policy distribution (operator and sidecar sides), reconcilers, watches, leader election. */
export const controlCodes = defineCodes('CONTROL', {
  ZTMESH_CONTROL_PERMISSION_DENIED: 'A sidecar asked for the policies of a workload its SVID does not identify (other namespace, or a pod running under another service account); refused with PERMISSION_DENIED.',
  ZTMESH_CONTROL_UNKNOWN_WORKLOAD: 'A sidecar subscribed for a pod the operator does not know (yet); refused with NOT_FOUND, the sidecar retries with backoff.',
  ZTMESH_CONTROL_BAD_REQUEST: 'A subscription stream broke the protocol (no subscribe first, a second subscribe, an empty message); closed with INVALID_ARGUMENT.',
  ZTMESH_CONTROL_UNAUTHENTICATED: 'A distribution client presented no valid SVID of the mesh trust domain; refused with UNAUTHENTICATED.',
  ZTMESH_CONTROL_LISTEN_FAILED: 'The policy distribution gRPC server could not listen on its address.',
  ZTMESH_CONTROL_SNAPSHOT_REJECTED: 'The sidecar refused a pushed policy snapshot (invalid policy, mesh config or workload); it NACKed with the reason and kept its previous snapshot.',
  ZTMESH_CONTROL_STREAM_FAILED: 'The sidecar\'s subscription to the operator failed or ended; it keeps its last good snapshot and reconnects with jittered backoff.',
  ZTMESH_CONTROL_BAD_OPTIONS: 'The operator\'s or subscriber\'s options are invalid (address, certificate files, durations).',
  ZTMESH_CONTROL_WATCH_FAILED: 'A Kubernetes watch failed; it is restarted with jittered backoff and reported unhealthy on /ready until it recovers.',
  ZTMESH_CONTROL_STATUS_WRITE_FAILED: 'Writing a policy\'s status to the Kubernetes API failed; retried on the next reconcile.',
  ZTMESH_CONTROL_LEASE_FAILED: 'Acquiring or renewing the leader Lease failed; the replica stops acting as leader until it holds the Lease again.',
  ZTMESH_CONTROL_CA_BUNDLE_WRITE_FAILED: 'Reading or patching the MutatingWebhookConfiguration\'s caBundle failed; the leader retries on its next check.',
  ZTMESH_CONTROL_IDENTITY_FAILED: 'The operator could not obtain or renew its SVID from the mesh CA (token file, bundle file or the CA call); it retries with backoff and keeps serving with the current one.',
  ZTMESH_CONTROL_BAD_REPORT: 'A sidecar\'s report (what it observed, sent on its subscription stream) is over 1 MiB or off-schema (the part is named); the operator counts and logs it, keeps the previous report, and goes on delivering policies.',
  ZTMESH_CONTROL_REPORT_DROPPED: 'A sidecar\'s report was not kept: sent too often on one stream (past a burst of 5, more than one per 500 ms; sidecars send at most one a second), or the operator\'s report memory budget is full; counted, the next one is tried again.',
  ZTMESH_CONTROL_DISCOVERY_REJECTED: 'The sidecar refused a pushed endpoint discovery update (an invalid service, port, address or identity); it NACKed with the reason and kept its previous services; the operator sends the next update whole.',
  ZTMESH_CONTROL_DISCOVERY_MIXED_IDENTITIES: 'The endpoints of one Service port run under several service accounts; the sidecar uses only those of the identity most endpoints have (a client requires one identity per service) and logs the others as left out.',
  ZTMESH_CONTROL_BAD_OUTBOUND_SERVICES: 'A pod\'s ztmesh.io/outbound-services annotation has an entry that is not NAME or NAME.NAMESPACE; that entry is ignored and logged, the valid ones are used.',
  ZTMESH_CONTROL_PEER_REPORTS_FAILED: 'An operator replica could not read another replica\'s sidecar reports (--dashboard-peers: unresolvable, unreachable, wrong token, or not a list of reports); its dashboard shows the rest, and retries.',
  ZTMESH_CONTROL_ADMIN_FAILED: 'The operator admin endpoint could not be reached or answered with an error (`ztmesh status`).',
});
