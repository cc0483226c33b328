import { defineCodes } from '../errors/code-registry.ts';

export const telemetryCodes = defineCodes('TELEMETRY', {
  ZTMESH_TELEMETRY_INVALID_OPTIONS: 'Telemetry was set up with an invalid option (e.g. an audit sampling rate outside 0..1).',
});
