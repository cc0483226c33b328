import type { AppKind } from './bench-env.ts';
import type { ContenderSpec } from './contender.ts';
import { direct } from './contenders/direct.ts';
import { nginxPair } from './contenders/nginx-pair.ts';
import { nodeTlsPipe } from './contenders/node-tls-pipe.ts';
import { ztmeshPair } from './contenders/ztmesh-pair.ts';
import { APP_PATHS, SMALL_BODY } from './nginx-config.ts';

export type Load =
  | { readonly tool: 'wrk'; readonly path: string; readonly connections: number; readonly headers: readonly string[] }
  | { readonly tool: 'h2load'; readonly path: string; readonly clients: number; readonly streams: number; readonly grpc: boolean }
  /** openssl s_time: one full mTLS 1.3 handshake (no resumption) and one GET per connection, straight to the server-side proxy. */
  | { readonly tool: 's_time'; readonly path: string };

export interface Scenario {
  /** `1-c16`, `4-grpc`...: the scenario number, then the variant. */
  readonly id: string;
  readonly group: number;
  readonly title: string;
  readonly app: AppKind;
  readonly load: Load;
  /** Bytes of one response body (checked once through each contender before measuring). */
  readonly bodyBytes: number;
  /** The figure the chart shows: requests/s, or MB/s for large bodies. */
  readonly headline: 'rps' | 'mbps';
  readonly contenders: readonly ContenderSpec[];
  /** Proxy processes whose CPU is measured (default both): the handshake scenario only loads the server side. */
  readonly measureRoles?: readonly ('outbound' | 'inbound')[];
  /** Contenders (by id) whose scenario 5 feature must be proven in use, or they count as not supported. */
  readonly tracing?: Readonly<Record<string, string>>;
}

const ztmesh = ztmeshPair('ztmesh', 'ztmesh sidecar pair');
const pairs = [direct, nginxPair, ztmesh, nodeTlsPipe];
const HOST = 'Host: app';
const ONE_MIB = 1024 * 1024;

function traced(ratio: string, serviceName: string): Record<string, string> {
  return {
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: ratio,
    OTEL_SERVICE_NAME: serviceName,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'none',
  };
}

/** Issue 8's scenarios. wrk runs with one thread (-t1): the load generator shares the 2 cores. */
export const SCENARIOS: readonly Scenario[] = [
  {
    id: '1-c16', group: 1, title: 'HTTP/1.1 keep-alive, 13-byte body, 16 connections', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.small, connections: 16, headers: [HOST] },
    bodyBytes: SMALL_BODY.length, headline: 'rps', contenders: pairs,
  },
  {
    id: '1-c64', group: 1, title: 'HTTP/1.1 keep-alive, 13-byte body, 64 connections', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.small, connections: 64, headers: [HOST] },
    bodyBytes: SMALL_BODY.length, headline: 'rps', contenders: pairs,
  },
  {
    id: '1-1k-c16', group: 1, title: 'HTTP/1.1 keep-alive, 1 KiB body, 16 connections', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.oneKiB, connections: 16, headers: [HOST] },
    bodyBytes: 1024, headline: 'rps', contenders: pairs,
  },
  {
    id: '2-1m', group: 2, title: 'HTTP/1.1 keep-alive, 1 MiB body, 8 connections (throughput)', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.oneMiB, connections: 8, headers: [HOST] },
    bodyBytes: ONE_MIB, headline: 'mbps', contenders: pairs,
  },
  {
    id: '3-close', group: 3, title: 'New client connection per request (Connection: close), 16 connections', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.small, connections: 16, headers: [HOST, 'Connection: close'] },
    bodyBytes: SMALL_BODY.length, headline: 'rps', contenders: pairs,
  },
  {
    id: '3-handshake', group: 3, title: 'Full mTLS 1.3 handshake per request to the server-side proxy (openssl s_time -new, ECDSA P-256)', app: 'http1',
    load: { tool: 's_time', path: APP_PATHS.small },
    bodyBytes: SMALL_BODY.length, headline: 'rps', contenders: [nginxPair, ztmesh, nodeTlsPipe], measureRoles: ['inbound'],
  },
  {
    id: '4-h2', group: 4, title: 'HTTP/2 (h2c from the client), 13-byte body, 4 connections x 16 streams', app: 'h2c',
    load: { tool: 'h2load', path: APP_PATHS.small, clients: 4, streams: 16, grpc: false },
    bodyBytes: SMALL_BODY.length, headline: 'rps', contenders: pairs,
  },
  {
    id: '4-grpc', group: 4, title: 'gRPC unary echo (grpc-js app), 4 connections x 16 streams', app: 'grpc',
    load: { tool: 'h2load', path: '/bench.Bench/Echo', clients: 4, streams: 16, grpc: true },
    bodyBytes: 0, headline: 'rps', contenders: pairs,
  },
  {
    id: '5-telemetry-policy', group: 5, title: 'Scenario 1 (16 connections) with tracing on, and with 1,000 policy rules', app: 'http1',
    load: { tool: 'wrk', path: APP_PATHS.small, connections: 16, headers: [HOST] },
    bodyBytes: SMALL_BODY.length, headline: 'rps',
    contenders: [
      direct, nginxPair, ztmesh,
      ztmeshPair('ztmesh-trace100', 'ztmesh, 100% trace sampling', { env: traced('1.0', 'ztmesh-bench-trace100') }),
      ztmeshPair('ztmesh-trace10', 'ztmesh, 10% trace sampling', { env: traced('0.1', 'ztmesh-bench-trace10') }),
      ztmeshPair('ztmesh-policy1000', 'ztmesh, 1,000 policy rules (match last)', { policyRules: 1000 }),
    ],
    tracing: { 'ztmesh-trace100': 'ztmesh-bench-trace100', 'ztmesh-trace10': 'ztmesh-bench-trace10' },
  },
];
