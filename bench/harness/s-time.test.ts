import { describe, expect, it } from 'vitest';
import { parseSTimeOutput } from './s-time.ts';

describe('parseSTimeOutput', () => {
  it('reads the connection count and bytes per connection', () => {
    const out = '****\n\n667 connections in 0.63s; 1058.73 connections/user sec, bytes read 113390\n667 connections in 4 real seconds, 170 bytes read per connection\n';
    expect(parseSTimeOutput(out)).toEqual({ connections: 667, bytesPerConnection: 170 });
  });
  it('rejects output without a count', () => {
    expect(() => parseSTimeOutput('connect error')).toThrow(/s_time/);
  });
});
