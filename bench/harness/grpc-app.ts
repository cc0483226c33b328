// The gRPC app of scenario 4: a grpc-js server (one Node process) with one unary method,
// /bench.Bench/Echo, answering each request with its own bytes. Raw-bytes (de)serializers: no .proto
// needed, and h2load can send a pre-framed request. Run as a child: node grpc-app.ts PORT
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { GRPC_ECHO_PATH } from './grpc-request.ts';

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  process.stderr.write('usage: grpc-app.ts PORT\n');
  process.exit(2);
}
const identity = (b: Buffer): Buffer => b;
const server = new Server();
server.addService(
  { Echo: { path: GRPC_ECHO_PATH, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
  { Echo: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => callback(null, call.request) },
);
server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (err) => {
  if (err !== null) {
    process.stderr.write(`grpc-app: ${err.message}\n`);
    process.exit(1);
  }
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
