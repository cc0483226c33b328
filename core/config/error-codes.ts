import { defineCodes } from '../errors/code-registry.ts';

export const configCodes = defineCodes('CONFIG', {
  ZTMESH_CONFIG_INVALID: 'A config document failed validation; the message lists every offending key path.',
  ZTMESH_CONFIG_BAD_YAML: 'A config document is not valid YAML.',
  ZTMESH_CONFIG_UNREADABLE: 'A config file could not be read.',
  ZTMESH_CONFIG_BAD_DURATION: 'A duration is not written like 30s, 30m or 1h.',
});
