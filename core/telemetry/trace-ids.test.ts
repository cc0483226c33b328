import { describe, expect, it } from 'vitest';
import { TraceIdSource } from './trace-ids.ts';

describe('TraceIdSource', () => {
  it('yields distinct lowercase hex ids and a preset trace id exactly once', () => {
    const ids = new TraceIdSource();
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) seen.add(ids.generateTraceId());
    expect(seen.size).toBe(1000);
    for (const id of seen) expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(ids.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
    ids.presetTraceId('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateTraceId()).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(ids.generateTraceId()).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
