import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpSink } from './otlp-sink.ts';

describe('OtlpSink', () => {
  const sink = new OtlpSink();
  let port = 0;
  beforeAll(async () => {
    port = await sink.listen();
    sink.watch('svc-a');
  });
  afterAll(() => sink.close());

  it('accepts an OTLP/HTTP export and counts its marker', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/traces', headers: { 'content-type': 'application/x-protobuf' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end(Buffer.from('\x0a\x05svc-a'));
    });
    expect(status).toBe(200);
    expect(sink.markers.get('svc-a')).toBe(1);
  });
});
