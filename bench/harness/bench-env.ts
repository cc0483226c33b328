import type { ChildGroup } from './child-processes.ts';
import type { OtlpSink } from './otlp-sink.ts';
import type { BenchPki } from './pki.ts';

/** Which app a scenario talks to: nginx over HTTP/1.1 or h2c, or the grpc-js server. */
export type AppKind = 'http1' | 'h2c' | 'grpc';

/** What every contender needs to start: the run's temp dir, children, PKI, programs and app ports. */
export interface BenchEnv {
  readonly tmpDir: string;
  readonly group: ChildGroup;
  readonly pki: BenchPki;
  readonly repoRoot: string;
  /** Node 24 (node_modules/.bin/node, resolved), for the sidecar and the Node reference contenders. */
  readonly nodeBin: string;
  readonly appPorts: Readonly<Record<AppKind, number>>;
  readonly sink: OtlpSink;
  readonly sinkPort: number;
}
