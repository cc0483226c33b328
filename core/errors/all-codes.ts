import { cliCodes } from '../../cli/error-codes.ts';
import { anomalyCodes } from '../../sidecar/anomaly/error-codes.ts';
import { configCodes } from '../config/error-codes.ts';
import { spiffeCodes } from '../spiffe/error-codes.ts';
import { injectCodes } from '../../operator/error-codes.ts';
import { demoCodes } from '../../demo/error-codes.ts';
import { sealCodes } from '../seal/error-codes.ts';
import { caCodes } from '../../ca/error-codes.ts';
import { adminCodes } from '../../sidecar/admin/error-codes.ts';
import { telemetryCodes } from '../telemetry/error-codes.ts';
import { httpPathCodes } from '../http/error-codes.ts';
import { policyCodes } from '../policy/error-codes.ts';
import { authnCodes } from '../../sidecar/authn/error-codes.ts';
import { rateLimitCodes } from '../../sidecar/ratelimit/error-codes.ts';
import { balanceCodes } from '../../sidecar/balance/error-codes.ts';
import { sidecarCodes } from '../../sidecar/error-codes.ts';
import { inventoryCodes } from '../../sidecar/inventory/error-codes.ts';
import { validationCodes } from '../../sidecar/validation/error-codes.ts';
import { controlCodes } from '../../operator/control-error-codes.ts';
import { dashboardCodes } from '../../dashboard/error-codes.ts';
import type { CodeTable } from './code-registry.ts';

/** Every area's code table, in the order docs/errors.md lists them. Add a new area's table here. */
export const allCodeTables: readonly { readonly area: string; readonly codes: CodeTable }[] = [
  { area: 'CLI', codes: cliCodes },
  { area: 'CONFIG', codes: configCodes },
  { area: 'SPIFFE', codes: spiffeCodes },
  { area: 'INJECT', codes: injectCodes },
  { area: 'DEMO', codes: demoCodes },
  { area: 'SEAL', codes: sealCodes },
  { area: 'CA', codes: caCodes },
  { area: 'ADMIN', codes: adminCodes },
  { area: 'TELEMETRY', codes: telemetryCodes },
  { area: 'HTTP', codes: httpPathCodes },
  { area: 'POLICY', codes: policyCodes },
  { area: 'AUTHN', codes: authnCodes },
  { area: 'RATELIMIT', codes: rateLimitCodes },
  { area: 'BALANCE', codes: balanceCodes },
  { area: 'SIDECAR', codes: sidecarCodes },
  { area: 'INVENTORY', codes: inventoryCodes },
  { area: 'DASHBOARD', codes: dashboardCodes },
  { area: 'CONTROL', codes: controlCodes },
  { area: 'ANOMALY', codes: anomalyCodes },
  { area: 'VALIDATION', codes: validationCodes },
];
