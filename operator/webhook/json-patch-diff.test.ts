import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyJsonPatch } from './json-patch-apply.ts';
import { diffJsonPatch, escapePointerToken } from './json-patch-diff.ts';

describe('diffJsonPatch', () => {
  it('escapes ~ and / in keys (RFC 6901)', () => {
    expect(escapePointerToken('ztmesh.io/status')).toBe('ztmesh.io~1status');
    expect(escapePointerToken('a~b/c')).toBe('a~0b~1c');
    const ops = diffJsonPatch({ metadata: {} }, { metadata: { annotations: { 'ztmesh.io/x': '1' } } });
    expect(ops).toEqual([{ op: 'add', path: '/metadata/annotations', value: { 'ztmesh.io/x': '1' } }]);
  });

  it('adds missing keys, removes vanished ones, replaces arrays whose length changed', () => {
    const from = { a: 1, b: [1, 2], c: { d: 'x' } };
    const to = { a: 2, b: [0, 1, 2], e: true };
    expect(diffJsonPatch(from, to)).toEqual([
      { op: 'remove', path: '/c' },
      { op: 'replace', path: '/a', value: 2 },
      { op: 'replace', path: '/b', value: [0, 1, 2] },
      { op: 'add', path: '/e', value: true },
    ]);
  });

  it('equal documents give an empty patch', () => {
    expect(diffJsonPatch({ a: [1, { b: null }] }, { a: [1, { b: null }] })).toEqual([]);
  });

  it('handles a `__proto__` key as an ordinary member (found by the property below)', () => {
    const b = JSON.parse('{"__proto__":false,"x":{"__proto__":{"y":1}}}') as unknown;
    const patched = applyJsonPatch({}, diffJsonPatch({}, b));
    expect(patched).toEqual(b);
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
  });

  it('applying the diff of any two JSON documents to the first yields the second', () => {
    const json = fc.jsonValue({ maxDepth: 4 });
    fc.assert(
      fc.property(json, json, (a, b) => {
        expect(applyJsonPatch(a, diffJsonPatch(a, b))).toEqual(b);
      }),
      { numRuns: 300 },
    );
  });
});
