import { defineCodes } from '../../core/errors/code-registry.ts';

/** Codes of per-request endpoint balancing on the outbound side. */
export const balanceCodes = defineCodes('BALANCE', {
  ZTMESH_BALANCE_NO_ENDPOINTS: 'The service has no endpoint in rotation (none configured, or all ejected after failures); answered 503 at once.',
  ZTMESH_BALANCE_TIMEOUT: 'No complete response head arrived within the service (or route) timeout of the outbound config, retries included; answered 504 and the upstream connection discarded.',
});
