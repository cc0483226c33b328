import { defineCodes } from '../core/errors/code-registry.ts';

/** Codes of `ztmesh dashboard`: its listener, its access control and the sidecars it reads. */
export const dashboardCodes = defineCodes('DASHBOARD', {
  ZTMESH_DASHBOARD_TOKEN_REQUIRED: 'The dashboard was asked to listen on a non-loopback address without --token-file (the operator\'s: --dashboard-token-file): it refuses to start.',
  ZTMESH_DASHBOARD_BAD_TOKEN_FILE: 'The --token-file could not be read, or holds no usable token (at least 16 printable characters, one line).',
  ZTMESH_DASHBOARD_BAD_ADDRESS: 'A --listen or --from address is not HOST:PORT (IPv6 as [ADDR]:PORT) with a port from 0 (listen only) to 65535.',
  ZTMESH_DASHBOARD_LISTEN_FAILED: 'The dashboard could not bind its address (in use, not permitted, or not a local address).',
  ZTMESH_DASHBOARD_UNAUTHORIZED: 'A request to a token-protected dashboard carried no valid bearer token (401).',
  ZTMESH_DASHBOARD_NOT_FOUND: 'The dashboard has no page or API at that path (404).',
  ZTMESH_DASHBOARD_METHOD_NOT_ALLOWED: 'The dashboard answers GET and HEAD only (405).',
  ZTMESH_DASHBOARD_BUSY: 'Too many event streams are open on the dashboard; the browser retries (503).',
  ZTMESH_DASHBOARD_INTERNAL: 'The dashboard failed to answer a request (a bug; 500, with a warning logged).',
  ZTMESH_DASHBOARD_BAD_METRICS: 'A sidecar\'s /metrics is not valid Prometheus text exposition format (the line is named).',
  ZTMESH_DASHBOARD_SOURCE_FAILED: 'A sidecar admin port could not be read (unreachable, timed out, not 200, too large, or not the expected JSON).',
});
