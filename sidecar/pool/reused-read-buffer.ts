import type { Socket } from 'node:net';

/** The size of a plain upstream socket's read buffer (what libuv would allocate per read). */
export const READ_BUFFER_BYTES = 64 * 1024;

/** Receives what one socket read; returns true when it may still reference `chunk` afterwards. */
export interface ReadSink {
  onRead(socket: Socket, chunk: Buffer): boolean;
}

/**
 * `net.connect`'s `onread` option for a plain upstream socket: every read lands in the same 64 KiB
 * buffer instead of a fresh ArrayBuffer per read. At a few hundred MB/s those per-read
 * allocations are external memory that makes V8 run a full mark-compact every ~50 ms (measured
 * with --trace-gc on the 1 MiB bench scenario). When the sink says it kept a reference to the
 * chunk (bytes still queued in a socket's write buffer, a partial head kept for later), the next
 * read gets a fresh buffer, so nothing a reader holds is ever overwritten.
 */
export function reusedReadBuffer(sink: ReadSink, getSocket: () => Socket): { buffer: () => Buffer; callback: (n: number, buf: Buffer) => boolean } {
  let buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  return {
    buffer: () => buf,
    callback: (n, read) => {
      if (sink.onRead(getSocket(), read.subarray(0, n))) buf = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      return true;
    },
  };
}
