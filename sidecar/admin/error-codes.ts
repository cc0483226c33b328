import { defineCodes } from '../../core/errors/code-registry.ts';

/** Codes of the sidecar's admin port (health, readiness, metrics, probe proxy). */
export const adminCodes = defineCodes('ADMIN', {
  ZTMESH_ADMIN_LISTEN_FAILED: 'The admin server could not bind its address (in use, not permitted, or not a local address).',
  ZTMESH_ADMIN_NOT_FOUND: 'No admin endpoint (or no configured app probe) has that path (404).',
  ZTMESH_ADMIN_METHOD_NOT_ALLOWED: 'Admin endpoints answer GET and HEAD only (405).',
  ZTMESH_ADMIN_BODY_TOO_LARGE: 'A request to the admin port carried a body over 1 KiB (413).',
  ZTMESH_ADMIN_PROBE_FAILED: 'The app\'s probe endpoint could not be reached or did not answer in time (503).',
  ZTMESH_ADMIN_NO_IDENTITY: 'The sidecar holds no SVID yet, so /debug/identity has nothing to show (404).',
});
