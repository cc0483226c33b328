import type { SidecarCode } from '../error-codes.ts';
import type { PathRefusalCode } from '../../core/http/normalize-path.ts';

/** A request the sidecar answers itself instead of forwarding: the status, a stable code, a message. */
export interface Refusal {
  readonly status: number;
  readonly code: SidecarCode | PathRefusalCode;
  /** Safe to show the caller: never a secret, attacker input only as a bounded, escaped excerpt. */
  readonly message: string;
}

export function refusal(status: number, code: SidecarCode | PathRefusalCode, message: string): Refusal {
  return { status, code, message };
}

export function isRefusal(value: unknown): value is Refusal {
  return typeof value === 'object' && value !== null && 'status' in value && 'code' in value && !('method' in value);
}
