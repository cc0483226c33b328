import type { AnomalyKind } from './anomaly-config.ts';

/** One detected deviation, as logged (`"type":"anomaly"`) and handed to the response. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  /** The caller's SPIFFE ID. */
  readonly caller: string;
  readonly method: string;
  readonly route: string;
  /** What deviated, in words (`requests per 10s`, `401/403 ratio over 10s`...). */
  readonly measure: string;
  readonly observed: number;
  /** The learned value it is compared with (mean), and its spread where there is one. */
  readonly baseline: number;
  readonly baselineStddev: number | undefined;
  /** How far off: standard deviations above the mean when known, else observed/baseline. */
  readonly deviation: number;
  /** Observed milliseconds of this caller's history (steady clock). */
  readonly callerAgeMs: number;
}
