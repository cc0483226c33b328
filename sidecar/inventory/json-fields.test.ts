import { describe, expect, it } from 'vitest';
import { sniffJsonFields } from './json-fields.ts';

describe('sniffJsonFields', () => {
  it('lists top-level names with their JSON types, never values', () => {
    const r = sniffJsonFields('{"id":1,"email":"a@b.c","tags":[],"addr":{},"ok":true,"x":null}');
    expect(r.ok && Object.fromEntries(r.fields)).toEqual({ id: 'number', email: 'string', tags: 'array', addr: 'object', ok: 'boolean', x: 'null' });
  });

  it('reads the first element of a list', () => {
    const r = sniffJsonFields(Buffer.from('[{"sku":"a","price":3}]'));
    expect(r.ok && [...r.fields.keys()]).toEqual(['sku', 'price']);
  });

  it('reports malformed, oversized and non-object bodies without throwing', () => {
    expect(sniffJsonFields('{"a":')).toEqual({ ok: false, reason: 'malformed' });
    expect(sniffJsonFields('{"a":1}', 3)).toEqual({ ok: false, reason: 'too-large' });
    expect(sniffJsonFields('42')).toEqual({ ok: false, reason: 'not-object' });
  });

  it('caps the number of names', () => {
    const body = JSON.stringify(Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`f${i}`, i])));
    const r = sniffJsonFields(body, 1 << 20, 10);
    expect(r.ok && r.fields.size).toBe(10);
  });
});
