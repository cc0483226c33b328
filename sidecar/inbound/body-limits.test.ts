import { describe, expect, it } from 'vitest';
import { BodyLimits, bodyLimitSchema } from './body-limits.ts';

describe('BodyLimits', () => {
  it('takes the longest covering prefix, on segment boundaries, else the fallback', () => {
    const limits = new BodyLimits([
      { pathPrefix: '/api', maxBodyBytes: 100 },
      { pathPrefix: '/api/upload', maxBodyBytes: 10_000 },
      { pathPrefix: '/static/', maxBodyBytes: 0 },
    ]);
    expect(limits.limitFor('/api', 1)).toBe(100);
    expect(limits.limitFor('/api/x', 1)).toBe(100);
    expect(limits.limitFor('/api/upload/big', 1)).toBe(10_000);
    expect(limits.limitFor('/apis', 1)).toBe(1);
    expect(limits.limitFor('/static/a.css', 1)).toBe(0);
    expect(limits.limitFor('/other', 7)).toBe(7);
  });

  it('refuses prefixes that are not paths and negative sizes', () => {
    expect(bodyLimitSchema.safeParse({ pathPrefix: 'api', maxBodyBytes: 1 }).success).toBe(false);
    expect(bodyLimitSchema.safeParse({ pathPrefix: '/api?x', maxBodyBytes: 1 }).success).toBe(false);
    expect(bodyLimitSchema.safeParse({ pathPrefix: '/api', maxBodyBytes: -1 }).success).toBe(false);
  });
});
