import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { READ_BUFFER_BYTES, reusedReadBuffer, type ReadSink } from './reused-read-buffer.ts';

let server: Server | undefined;
afterEach(() => server?.close());

/** A server that writes `pieces` one per 5 ms, and a client reading with `reusedReadBuffer`. */
async function readAll(pieces: string[], keep: (chunk: Buffer) => boolean): Promise<{ reads: Buffer[]; buffers: Set<ArrayBufferLike> }> {
  server = createServer((s) => {
    s.on('error', () => undefined);
    let i = 0;
    const next = (): void => {
      if (i === pieces.length) return void s.end();
      s.write(pieces[i++]!);
      setTimeout(next, 5);
    };
    next();
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const reads: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const sink: ReadSink = {
    onRead(socket, chunk) {
      expect(socket).toBe(client);
      buffers.add(chunk.buffer);
      reads.push(chunk);
      return keep(chunk);
    },
  };
  const client: Socket = connect({ port: (server.address() as { port: number }).port, host: '127.0.0.1', onread: reusedReadBuffer(sink, () => client) });
  await new Promise((r) => client.on('end', r));
  client.destroy();
  return { reads, buffers };
}

describe('reusedReadBuffer', () => {
  it('reads every chunk into the same buffer while the sink keeps nothing', async () => {
    const { reads, buffers } = await readAll(['alpha', 'beta', 'gamma'], () => false);
    expect(reads.length).toBe(3);
    expect(buffers.size).toBe(1);
    expect([...buffers][0]!.byteLength).toBeGreaterThanOrEqual(READ_BUFFER_BYTES);
  });

  it('moves to a fresh buffer after a read the sink kept, so kept bytes are never overwritten', async () => {
    const { reads, buffers } = await readAll(['alpha', 'beta', 'gamma'], () => true);
    expect(buffers.size).toBe(3);
    expect(reads.map((b) => b.toString())).toEqual(['alpha', 'beta', 'gamma']);
  });
});
