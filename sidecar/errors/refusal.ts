import type { SidecarCode } from '../error-codes.ts';
import type { PathRefusalCode } from '../../core/http/normalize-path.ts';
import type { authnCodes } from '../authn/error-codes.ts';
import type { rateLimitCodes } from '../ratelimit/error-codes.ts';
import type { balanceCodes } from '../balance/error-codes.ts';
import type { anomalyCodes } from '../anomaly/error-codes.ts';
import type { ValidationCode } from '../validation/error-codes.ts';

/** Every code a refusal of the data plane can carry. */
export type RefusalCode = SidecarCode | PathRefusalCode | keyof typeof authnCodes | keyof typeof rateLimitCodes | keyof typeof balanceCodes | keyof typeof anomalyCodes | ValidationCode;

/** A request the sidecar answers itself instead of forwarding: the status, a stable code, a message. */
export interface Refusal {
  readonly status: number;
  readonly code: RefusalCode;
  /** Safe to show the caller: never a secret, attacker input only as a bounded, escaped excerpt. */
  readonly message: string;
  /** Extra response headers (lowercase names, safe values), e.g. WWW-Authenticate, Retry-After. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

export function refusal(status: number, code: RefusalCode, message: string, headers?: Readonly<Record<string, string>>): Refusal {
  return headers === undefined ? { status, code, message } : { status, code, message, headers };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'code' in value && !('method' in value);
}
