import { defineCodes } from '../../core/errors/code-registry.ts';

export const anomalyCodes = defineCodes('ANOMALY', {
  ZTMESH_ANOMALY_QUARANTINED: 'The caller is quarantined (a temporary DENY) after an anomaly it caused; the measure expires on its own or is released by an operator.',
  ZTMESH_ANOMALY_THROTTLED: 'The caller is throttled (a temporary rate limit) after an anomaly it caused; retry after the Retry-After delay.',
});
