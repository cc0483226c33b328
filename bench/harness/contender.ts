import type { ManagedChild } from './child-processes.ts';
import type { AppKind, BenchEnv } from './bench-env.ts';

/** The proxy processes of a running contender whose CPU and memory are measured. */
export interface MeasuredProcess {
  /** `outbound` (client side) or `inbound` (server side). */
  readonly role: 'outbound' | 'inbound';
  readonly child: ManagedChild;
}

export interface RunningContender {
  /** Where the load generator connects (plaintext HTTP/1.1 or h2c). */
  readonly port: number;
  /** The server-side proxy's mTLS port, for the handshake scenario; undefined for `direct`. */
  readonly mtlsPort?: number;
  readonly proxies: readonly MeasuredProcess[];
  stop(): Promise<void>;
}

/** Options only the ztmesh contender understands (scenario 5). */
export interface ZtmeshVariant {
  /** Extra environment for both sidecars, e.g. OTEL_TRACES_SAMPLER. */
  readonly env?: Readonly<Record<string, string>>;
  /** Rules in the server side's policy (the matching one last); 1 when absent. */
  readonly policyRules?: number;
}

export interface ContenderSpec {
  /** Stable id in results (`direct`, `nginx`, `ztmesh`, `node-tls-pipe`, `ztmesh-trace100`...). */
  readonly id: string;
  readonly label: string;
  /** The family for ratios and the chart: the same for every ztmesh variant. */
  readonly family: 'direct' | 'nginx' | 'ztmesh' | 'node-tls-pipe';
  /** Starts the contender in front of the app of `kind`, ready to serve; throws with the child's log if not. */
  start(env: BenchEnv, kind: AppKind): Promise<RunningContender>;
}
