import { describe, expect, it } from 'vitest';
import { EndpointPicker } from './endpoint-picker.ts';
import { EndpointState } from './endpoint-state.ts';

function states(latencies: number[]): EndpointState[] {
  return latencies.map((ms, i) => {
    const s = new EndpointState(`h:${i}`);
    s.sample(ms, 1);
    return s;
  });
}

describe('EndpointPicker', () => {
  it('p2c spreads equal endpoints evenly', () => {
    const p = new EndpointPicker('p2c-ewma');
    const s = states([5, 5, 5]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[p.pick(s, 2, null)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(8_000);
  });

  it('p2c sends clearly less to a slow endpoint and avoids loaded ones', () => {
    const p = new EndpointPicker('p2c-ewma');
    const s = states([5, 5, 50]);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30_000; i++) counts[p.pick(s, 2, null)]!++;
    expect(counts[2]).toBe(0); // the slow one loses every comparison it is in
    s[0]!.outstanding = 100;
    const c2 = [0, 0, 0];
    for (let i = 0; i < 3_000; i++) c2[p.pick(s, 2, null)]!++;
    expect(c2[1]).toBeGreaterThan(c2[0]!);
  });

  it('p2c explores a never-measured endpoint one request at a time, even against a fast measured one', () => {
    const p = new EndpointPicker('p2c-ewma');
    const s = [...states([1]), new EndpointState('h:new')];
    // Sequential traffic: the new endpoint's default estimate would lose every draw; it is explored instead.
    expect(p.pick(s, 2, null)).toBe(1);
    // While that exploring request is outstanding, the measured endpoint takes the rest.
    s[1]!.begin(2);
    for (let i = 0; i < 100; i++) expect(p.pick(s, 2, null)).toBe(0);
    // Once measured (slow here), it competes on cost like any other endpoint.
    s[1]!.end(true, 3);
    s[1]!.sample(40, 3);
    for (let i = 0; i < 100; i++) expect(p.pick(s, 4, null)).toBe(0);
  });

  it('skips ejected, retired and excluded endpoints; -1 when none is left', () => {
    for (const kind of ['p2c-ewma', 'round-robin'] as const) {
      const p = new EndpointPicker(kind);
      const s = states([5, 5, 5]);
      s[0]!.ejectedUntil = 1_000;
      s[1]!.retired = true;
      for (let i = 0; i < 100; i++) expect(p.pick(s, 2, null)).toBe(2);
      expect(p.pick(s, 2, s[2]!)).toBe(-1);
      expect(p.pick([], 2, null)).toBe(-1);
      expect(p.pick(s, 1_000, s[2]!)).toBe(0); // the ejection expired: probe
    }
  });

  it('round-robin cycles', () => {
    const p = new EndpointPicker('round-robin');
    const s = states([1, 50, 1]);
    const seen = [p.pick(s, 2, null), p.pick(s, 2, null), p.pick(s, 2, null)].sort();
    expect(seen).toEqual([0, 1, 2]);
  });
});
