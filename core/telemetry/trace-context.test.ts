import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseB3Multi, parseB3Single, parseTraceparent, validTracestate } from './trace-context.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('accepts a version-00 header and reads the sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, traceState: undefined });
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.sampled).toBe(false);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.sampled).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['other version', `01-${TRACE}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero span id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['trailing data', `00-${TRACE}-${SPAN}-01-extra`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['injected CRLF', `00-${TRACE}-${SPAN}-0\r`],
  ])('rejects %s', (_name, header) => {
    expect(parseTraceparent(header)).toBeUndefined();
  });

  it('keeps a valid tracestate and drops an invalid one', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7')?.traceState).toBe('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7');
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`, 'BAD KEY=1')?.traceState).toBeUndefined();
  });
});

describe('validTracestate', () => {
  it('accepts multi-tenant keys and rejects duplicates, bad values and too many members', () => {
    expect(validTracestate('tenant@vendor=abc')).toBe('tenant@vendor=abc');
    expect(validTracestate('a=1,a=2')).toBeUndefined();
    expect(validTracestate('a=has,comma')).toBeUndefined();
    expect(validTracestate('a=x=y')).toBeUndefined();
    expect(validTracestate(Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(','))).toBeUndefined();
    expect(validTracestate('x'.repeat(600))).toBeUndefined();
  });
});

describe('B3', () => {
  it('parses the single-header form with 128- and 64-bit trace ids', () => {
    expect(parseB3Single(`${TRACE}-${SPAN}-1`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, traceState: undefined });
    expect(parseB3Single(`a3ce929d0e0e4736-${SPAN}-0-05e3ac9a4f6e3b90`)).toEqual({ traceId: `0000000000000000a3ce929d0e0e4736`, spanId: SPAN, sampled: false, traceState: undefined });
    expect(parseB3Single(`${TRACE}-${SPAN}`)).toEqual({ traceId: TRACE, spanId: SPAN, sampled: undefined, traceState: undefined });
    expect(parseB3Single(`${TRACE}-${SPAN}-d`)).toMatchObject({ sampled: true });
    expect(parseB3Single('0')).toEqual({ sampledOnly: false });
  });

  it.each([`${TRACE}-${SPAN}-x`, `${TRACE}`, `${TRACE}-zz`, `${TRACE}-${SPAN}-1-bad`, '2', `${'0'.repeat(32)}-${SPAN}-1`])('rejects %s', (header) => {
    expect(parseB3Single(header)).toBeUndefined();
  });

  it('parses the multi-header form', () => {
    const h = (m: Record<string, string>) => ({ header: (name: string) => m[name] });
    expect(parseB3Multi(h({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-sampled': '1' }))).toEqual({ traceId: TRACE, spanId: SPAN, sampled: true, traceState: undefined });
    expect(parseB3Multi(h({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }))).toMatchObject({ sampled: true });
    expect(parseB3Multi(h({ 'x-b3-sampled': '0' }))).toEqual({ sampledOnly: false });
    expect(parseB3Multi(h({ 'x-b3-traceid': TRACE }))).toBeUndefined();
    expect(parseB3Multi(h({}))).toBeUndefined();
  });
});

it('formats W3C traceparent', () => {
  expect(formatTraceparent(TRACE, SPAN, true)).toBe(`00-${TRACE}-${SPAN}-01`);
  expect(formatTraceparent(TRACE, SPAN, false)).toBe(`00-${TRACE}-${SPAN}-00`);
});
