import { describe, expect, it } from 'vitest';
import { EJECT_AFTER_FAILURES, EJECT_AFTER_GATEWAY_ERRORS, EndpointState } from './endpoint-state.ts';

describe('EndpointState', () => {
  it('takes a slower sample at once (peak) and lets a faster one decay in', () => {
    const s = new EndpointState('a:1');
    s.sample(10, 1_000);
    expect(s.ewmaMs).toBe(10);
    s.sample(50, 1_001);
    expect(s.ewmaMs).toBe(50);
    s.sample(10, 1_002); // 1 ms later: barely moves
    expect(s.ewmaMs).toBeGreaterThan(49.9);
    s.sample(10, 61_002); // a minute later: mostly the new value
    expect(s.ewmaMs).toBeLessThan(11);
  });

  it('counts outstanding requests into its cost', () => {
    const s = new EndpointState('a:1');
    s.sample(10, 1);
    expect(s.cost()).toBe(10);
    s.begin(2);
    s.begin(2);
    expect(s.cost()).toBe(30);
    s.end(true, 3);
    expect(s.cost()).toBe(20);
  });

  it('ejects after consecutive connect failures, then lets exactly one probe through', () => {
    const s = new EndpointState('a:1');
    let ejected = false;
    for (let i = 0; i < EJECT_AFTER_FAILURES; i++) {
      s.begin(0);
      ejected = s.end(false, 0);
    }
    expect(ejected).toBe(true);
    expect(s.available(500)).toBe(false);
    expect(s.available(1_000)).toBe(true);
    s.begin(1_000); // the probe
    expect(s.available(1_001)).toBe(false);
    // The probe fails: out again, for twice as long.
    expect(s.end(false, 1_010)).toBe(true);
    expect(s.ejectedUntil).toBe(1_010 + 2_000);
    expect(s.available(2_500)).toBe(false);
    s.begin(3_010);
    expect(s.end(true, 3_020)).toBe(false);
    expect(s.ejectedUntil).toBe(0);
    expect(s.ejections).toBe(0);
    expect(s.available(3_021)).toBe(true);
  });

  it('ejects at once on a wrong identity, with a capped backoff', () => {
    const s = new EndpointState('a:1');
    let now = 0;
    const gaps: number[] = [];
    for (let i = 0; i < 8; i++) {
      expect(s.failed(now, true)).toBe(true);
      gaps.push(s.ejectedUntil - now);
      now = s.ejectedUntil;
    }
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('a retired endpoint is never available', () => {
    const s = new EndpointState('a:1');
    s.retired = true;
    expect(s.available(0)).toBe(false);
  });

  it('ejects after consecutive gateway errors; a probe answered 5xx doubles the backoff, a good one restores it', () => {
    const s = new EndpointState('a:1');
    for (let i = 1; i < EJECT_AFTER_GATEWAY_ERRORS; i++) expect(s.responded(true, 10)).toBe(false);
    expect(s.responded(false, 10)).toBe(false); // a good answer resets the count
    for (let i = 1; i < EJECT_AFTER_GATEWAY_ERRORS; i++) expect(s.responded(true, 10)).toBe(false);
    expect(s.responded(true, 10)).toBe(true);
    expect(s.available(10)).toBe(false);
    const first = s.ejectedUntil - 10;
    s.begin(s.ejectedUntil); // the probe
    expect(s.available(s.ejectedUntil)).toBe(false); // one probe at a time
    const at = s.ejectedUntil;
    expect(s.responded(true, at)).toBe(true);
    s.end(true, at);
    expect(s.ejectedUntil - at).toBe(first * 2);
    s.begin(s.ejectedUntil);
    expect(s.responded(false, s.ejectedUntil)).toBe(false);
    s.end(true, s.ejectedUntil);
    expect(s.ejectedUntil).toBe(0);
    expect(s.available(1)).toBe(true);
  });
});
