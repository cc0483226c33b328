/**
 * The stable `reason` strings of decisions: logs, audit records and `policy explain --json` carry
 * them, and dashboards group by them. Change none once published; add new ones.
 */
export const REASONS = Object.freeze({
  deniedByPolicy: 'denied by DENY policy',
  allowedByPolicy: 'allowed by ALLOW policy',
  noAllowMatched: 'no ALLOW policy matched',
  defaultDeny: 'no ALLOW policy selects the workload: mesh default DENY',
  defaultAllow: 'no ALLOW policy selects the workload: mesh default ALLOW',
  denyListed: 'source principal is on the mesh deny list',
  invalidPolicySet: 'no valid policy set (fail closed)',
  pathRefused: 'path refused by normalization',
});
