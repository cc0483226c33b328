import { defineCodes } from '../../core/errors/code-registry.ts';

/** Codes of the API inventory (sidecar recording, `ztmesh inventory`). */
export const inventoryCodes = defineCodes('INVENTORY', {
  ZTMESH_INVENTORY_UNREACHABLE: 'A sidecar admin port named by `ztmesh inventory --from` could not be reached or did not answer 200.',
  ZTMESH_INVENTORY_BAD_SNAPSHOT: 'A sidecar answered /inventory with something that is not an inventory snapshot (bad JSON or shape).',
  ZTMESH_INVENTORY_UNKNOWN_SERVICE: '`ztmesh inventory --openapi SERVICE` names a service none of the sidecars reported.',
});
