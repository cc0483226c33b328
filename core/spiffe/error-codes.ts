import { defineCodes } from '../errors/code-registry.ts';

export const spiffeCodes = defineCodes('SPIFFE', {
  ZTMESH_SPIFFE_INVALID_ID: 'A SPIFFE ID breaks a rule of the SPIFFE-ID specification; the message names the rule.',
});
