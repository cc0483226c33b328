import { createServer, request, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fakeRequestInfo } from '../telemetry/fake-request-info.ts';
import { ApiInventory } from './api-inventory.ts';
import { inventoryHandler } from './inventory-handler.ts';

const inventory = new ApiInventory({ service: 'items' });
let server: Server;
let port: number;

function call(method: string): Promise<{ status: number; body: string; type: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/inventory' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  inventory.start(fakeRequestInfo({ path: '/items/3' })).end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 5 });
  server = createServer(inventoryHandler(inventory));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('inventoryHandler', () => {
  it('answers GET with the snapshot as JSON', async () => {
    const r = await call('GET');
    expect(r.status).toBe(200);
    expect(r.type).toBe('application/json');
    expect(JSON.parse(r.body)).toMatchObject({ service: 'items', overflow: 0, apis: [{ method: 'GET', route: '/items/{id}', count: 1 }] });
  });

  it('answers HEAD without a body and refuses other methods with 405', async () => {
    expect(await call('HEAD')).toMatchObject({ status: 200, body: '' });
    const post = await call('POST');
    expect(post.status).toBe(405);
    expect(JSON.parse(post.body).error.code).toBe('ZTMESH_ADMIN_METHOD_NOT_ALLOWED');
  });
});
