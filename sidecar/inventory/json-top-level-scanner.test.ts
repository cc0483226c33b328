import { describe, expect, it } from 'vitest';
import { jsonTypeOf, type JsonType } from './json-fields.ts';
import { JsonTopLevelScanner, type ScanResult } from './json-top-level-scanner.ts';
import { JsonResponseSniff } from './json-response-sniff.ts';

function scan(body: string | Buffer, chunkSizes: readonly number[] = [Infinity], maxBytes = 65_536, maxFields = 64): { result: ScanResult; fields: Record<string, JsonType> } {
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  const s = new JsonTopLevelScanner(maxBytes, maxFields);
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = Math.min(chunkSizes[k++ % chunkSizes.length]!, buf.length - i);
    const more = s.feed(buf, i, i + n);
    i += n;
    if (!more) break;
  }
  return { result: s.finish(), fields: Object.fromEntries(s.fields) };
}

/** What JSON.parse says the top-level fields are (the reference the scanner must agree with). */
function reference(text: string): Record<string, JsonType> {
  let v = JSON.parse(text) as unknown;
  if (Array.isArray(v)) v = v[0];
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, jsonTypeOf(x)]));
}

let seed = 42;
function rnd(n: number): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
}
function randomValue(depth: number): unknown {
  switch (rnd(depth > 3 ? 5 : 7)) {
    case 0: return rnd(2) === 0 ? -rnd(1e6) / 7 : rnd(1e9);
    case 1: return ['plain', 'quote " inside', 'back\\slash\\', 'brace } ] {', 'unicode é ✓', '\\"\\', ''][rnd(7)];
    case 2: return rnd(2) === 0;
    case 3: return null;
    case 4: return 1e21 * rnd(3);
    case 5: return Array.from({ length: rnd(4) }, () => randomValue(depth + 1));
    default: return Object.fromEntries(Array.from({ length: rnd(5) }, (_, i) => [`k${i}"\\${rnd(9)}`, randomValue(depth + 1)]));
  }
}

describe('JsonTopLevelScanner', () => {
  it('reads the top-level field names and types of an object, never values', () => {
    const r = scan('{"id": 7, "email":"a@b.c", "tags":["x",{"y":1}], "addr":{"city":"Z"}, "ok":true, "gone":null, "neg":-1.5e3}');
    expect(r).toEqual({ result: 'fields', fields: { id: 'number', email: 'string', tags: 'array', addr: 'object', ok: 'boolean', gone: 'null', neg: 'number' } });
    expect(scan('{"prénom":"x","\\u00e9t\\u00e9":1}', [3])).toEqual({ result: 'fields', fields: { prénom: 'string', été: 'number' } });
  });

  it('reads the first element of an array of objects, and checks the rest of the array', () => {
    expect(scan(' [{"sku":"a","price":3},{"sku":"b","price":4}] ')).toEqual({ result: 'fields', fields: { sku: 'string', price: 'number' } });
    expect(scan('[{"sku":"a"},{"sku":"b"')).toMatchObject({ result: 'truncated' });
    expect(scan('[{"sku":"a"},}]')).toMatchObject({ result: 'malformed' });
    expect(scan('[]')).toEqual({ result: 'fields', fields: {} });
  });

  it('agrees with JSON.parse on random documents split at random places', () => {
    for (let n = 0; n < 300; n++) {
      const doc = n % 5 === 0 ? [randomValue(1), randomValue(1)].map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : { v })) : { ...(randomValue(0) as object), a: randomValue(1), 'esc\\"\u00e9': randomValue(1) };
      const text = JSON.stringify(doc, null, n % 3 === 0 ? 2 : undefined);
      const splits = [1 + rnd(7), 1 + rnd(50), 1 + rnd(3)];
      expect(scan(text, splits)).toEqual({ result: 'fields', fields: reference(text) });
    }
  });

  it('reports malformed bodies, whatever the chunking', () => {
    const bad = ['<html>oops</html>', '{"a":1,}', '{"a" 1}', '{"a":tru}', '{"a":1} x', '{a:1}', '{"a":[1,2}', '{"a":{"b":#}}', '{"a\u0001":1}', '\ufeff{"a":1}'];
    for (const body of bad) {
      expect(scan(body).result, body).toBe('malformed');
      expect(scan(body, [1]).result, body).toBe('malformed');
    }
  });

  it('reports a body that ends inside the JSON value as truncated', () => {
    for (const body of ['', '{', '{"a":', '{"a":"unterminated', '{"a":[1,2', '{"a":1', '[{"a":1}']) expect(scan(body).result, body).toBe('truncated');
  });

  it('reports a root that is not an object (nor an array starting with one) as not-object', () => {
    for (const body of ['42', '"text"', 'null', '[1,2]', '[["x"]]']) expect(scan(body).result, body).toBe('not-object');
  });

  it('reads at most maxBytes: fields seen by then are kept, the scan is partial', () => {
    const body = `{"id":1,"name":"${'x'.repeat(10_000)}","email":"e"}`;
    expect(scan(body, [100], 1024)).toEqual({ result: 'partial', fields: { id: 'number', name: 'string' } });
    expect(scan('{"a":1}', [Infinity], 7)).toEqual({ result: 'fields', fields: { a: 'number' } });
  });

  it('keeps at most maxFields names and skips overlong names, still checking the whole body', () => {
    const doc = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, i]));
    const r = scan(JSON.stringify({ [`${'k'.repeat(300)}`]: 1, ...doc }), [Infinity], 65_536, 10);
    expect(r.result).toBe('fields');
    expect(Object.keys(r.fields)).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`));
    const split = scan(JSON.stringify({ [`${'k'.repeat(300)}`]: 1, ...doc }), [7], 65_536, 10);
    expect(split).toEqual(r);
    expect(scan(`${JSON.stringify(doc).slice(0, -1)},}`, [Infinity], 65_536, 10).result).toBe('malformed');
  });

  it('does not overflow its bracket stack on deeply nested values', () => {
    const deep = `{"a":${'['.repeat(5000)}${']'.repeat(5000)},"b":1}`;
    expect(scan(deep).result).toBe('partial');
  });
});

describe('JsonResponseSniff', () => {
  function sniff(wire: string, chunked: boolean, splits: readonly number[]): { result: ScanResult; fields: string[] } {
    let out: { result: ScanResult; fields: string[] } | undefined;
    const tap = new JsonResponseSniff({ sniffed: (s, result) => (out = { result, fields: [...s.fields.keys()] }) }, 'caller', chunked, 65_536, 64);
    const buf = Buffer.from(wire);
    let i = 0;
    let k = 0;
    let more = true;
    while (i < buf.length && more) {
      const n = Math.min(splits[k++ % splits.length]!, buf.length - i);
      more = tap.data(buf, i, i + n);
      i += n;
    }
    if (more) tap.end();
    return out!;
  }

  it('de-chunks a chunked body (extensions and trailers included) before scanning', () => {
    const wire = '5;ext=1\r\n{"id"\r\n0a\r\n:1,"email"\r\n6\r\n:"x@y"\r\n1\r\n}\r\n0\r\ntrailer: x\r\n\r\n';
    for (const splits of [[1], [2, 3], [1000]]) expect(sniff(wire, true, splits)).toEqual({ result: 'fields', fields: ['id', 'email'] });
  });

  it('reports the result once, when the body ends', () => {
    expect(sniff('{"a":', false, [2])).toEqual({ result: 'truncated', fields: [] });
    expect(sniff('<nope>', false, [1])).toEqual({ result: 'malformed', fields: [] });
  });
});
