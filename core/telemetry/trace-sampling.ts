/**
 * The sampling decision, made by the sidecar before any span object exists so the unsampled path
 * allocates nothing. Mirrors the OTEL_TRACES_SAMPLER values: a root sampler (always_on,
 * always_off, traceidratio) optionally wrapped parent-based (a remote parent's sampled flag wins).
 */
export interface SamplingPolicy {
  readonly root: 'always_on' | 'always_off' | 'traceidratio';
  /** 0..1, used by traceidratio. */
  readonly ratio: number;
  readonly parentBased: boolean;
}

const TWO_POW_32 = 0x1_0000_0000;

/**
 * True when the trace-id-ratio sampler keeps this trace. Deterministic on the trace id's last
 * 8 hex digits (random per W3C), so every hop deciding on the same trace id agrees.
 */
export function traceIdRatioKeeps(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (ratio <= 0) return false;
  return parseInt(traceId.slice(24, 32), 16) < ratio * TWO_POW_32;
}

/**
 * Decides whether to record a span. `parentSampled` is the incoming context's flag: true/false,
 * or undefined when there is no parent or the parent deferred the decision (B3).
 */
export function shouldSample(policy: SamplingPolicy, traceId: string, parentSampled: boolean | undefined): boolean {
  if (policy.parentBased && parentSampled !== undefined) return parentSampled;
  switch (policy.root) {
    case 'always_on':
      return true;
    case 'always_off':
      return false;
    case 'traceidratio':
      return traceIdRatioKeeps(traceId, policy.ratio);
  }
}
