import { describe, expect, it } from 'vitest';
import { DEFAULT_HTTP1_LIMITS, http1LimitsSchema, resolveHttp1Limits } from './limits.ts';

describe('http1 limits config', () => {
  it('fills defaults and parses durations', () => {
    const limits = resolveHttp1Limits(http1LimitsSchema.parse({ headersTimeout: '2s', maxBodyBytes: 1024 }));
    expect(limits).toEqual({ ...DEFAULT_HTTP1_LIMITS, headersTimeoutMs: 2000, maxBodyBytes: 1024 });
  });
  it('names unknown keys and bad durations', () => {
    const r = http1LimitsSchema.safeParse({ headerTimeout: '2s', idleTimeout: 'soon' });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : String((i as { keys?: string[] }).keys)));
    expect(paths).toEqual(expect.arrayContaining(['headerTimeout', 'idleTimeout']));
  });
});
