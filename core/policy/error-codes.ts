import { defineCodes } from '../errors/code-registry.ts';

export const policyCodes = defineCodes('POLICY', {
  ZTMESH_POLICY_INVALID: 'A policy file has invalid documents; the message lists each with file, document and field path.',
  ZTMESH_POLICY_UNREADABLE: 'A policy file could not be read.',
  ZTMESH_POLICY_INVALID_SET: 'The workload has no valid policy set (missing or invalid): every request is denied (fail closed).',
  ZTMESH_POLICY_DENIED: 'A request was denied by authorization: a DENY policy matched, no ALLOW policy matched, or the mesh default is DENY.',
  ZTMESH_POLICY_DENY_LISTED: 'The peer\'s SPIFFE ID is on the mesh-wide deny list (emergency revocation).',
});
