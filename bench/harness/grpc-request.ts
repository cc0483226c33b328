/** The one gRPC method of the benchmark's gRPC app (bench/harness/grpc-app.ts). */
export const GRPC_ECHO_PATH = '/bench.Bench/Echo';

/** The request message the load generator sends (raw bytes: the app echoes them). */
export const GRPC_PAYLOAD = Buffer.from('hello, world\n');

/** A gRPC length-prefixed message: flag byte 0 (uncompressed), 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/** Headers h2load must send for a gRPC unary call. */
export const GRPC_HEADERS: readonly string[] = ['content-type: application/grpc', 'te: trailers'];
