import type { Container, Probe } from './k8s-types.ts';

/** One probe the sidecar answers on the app's behalf: `/app-health/<name>` → the app's port and path. */
export interface AppProbe {
  readonly port: number;
  readonly path: string;
}

export interface ProbeRewrite {
  readonly containers: Container[];
  /** Keyed `<container>-<kind>`, the sidecar config's `appProbes`. */
  readonly appProbes: Record<string, AppProbe>;
  readonly warnings: string[];
}

const KINDS = [
  ['livenessProbe', 'liveness'],
  ['readinessProbe', 'readiness'],
  ['startupProbe', 'startup'],
] as const;

/**
 * Moves every plain-HTTP `httpGet` probe of the app containers to the sidecar's admin port at
 * `/app-health/<container>-<kind>` (as Istio does), so the kubelet's plaintext probes keep working
 * when every inbound connection must be mTLS. The sidecar forwards each to the recorded port and path.
 * tcpSocket, exec and grpc probes are left alone: tcpSocket and grpc probes to app ports are
 * intercepted like any inbound connection, so list those ports in ztmesh.io/exclude-inbound-ports.
 * HTTPS probes and probes with a `host` are left alone too, with a warning.
 */
export function rewriteProbes(containers: readonly Container[], adminPort: number, excludedInboundPorts: readonly number[] = []): ProbeRewrite {
  const appProbes: Record<string, AppProbe> = {};
  const warnings: string[] = [];
  const out = containers.map((container) => {
    let next: Container = container;
    for (const [field, kind] of KINDS) {
      const probe = container[field];
      const httpGet = probe?.httpGet;
      if (probe === undefined) continue;
      if (httpGet === undefined) {
        warnIntercepted(container, kind, probe, excludedInboundPorts, warnings);
        continue;
      }
      const name = `${container.name}-${kind}`;
      if (name.length > 63) {
        warnings.push(`container ${container.name}: ${kind} probe left unchanged (the name ${name} is longer than 63 characters)`);
        continue;
      }
      if (httpGet.scheme !== undefined && httpGet.scheme.toUpperCase() !== 'HTTP') {
        warnings.push(`container ${container.name}: ${kind} probe uses scheme ${httpGet.scheme}; left unchanged`);
        continue;
      }
      if (httpGet.host !== undefined && httpGet.host !== '') {
        warnings.push(`container ${container.name}: ${kind} probe targets host ${httpGet.host}; left unchanged`);
        continue;
      }
      const port = resolvePort(container, httpGet.port);
      if (port === undefined) {
        warnings.push(`container ${container.name}: ${kind} probe port ${JSON.stringify(httpGet.port)} is not a declared container port; left unchanged`);
        continue;
      }
      appProbes[name] = { port, path: httpGet.path === undefined || httpGet.path === '' ? '/' : httpGet.path };
      const rewritten: Probe = { ...probe, httpGet: { ...httpGet, path: `/app-health/${name}`, port: adminPort, scheme: 'HTTP' } };
      next = { ...next, [field]: rewritten };
    }
    return next;
  });
  return { containers: out, appProbes, warnings };
}

/** tcpSocket and grpc probes to an intercepted port reach the sidecar, not the app: say so. */
function warnIntercepted(container: Container, kind: string, probe: Probe, excluded: readonly number[], warnings: string[]): void {
  for (const type of ['tcpSocket', 'grpc'] as const) {
    const action = probe[type] as { port?: number | string } | undefined;
    if (action?.port === undefined) continue;
    const port = resolvePort(container, action.port);
    if (port !== undefined && excluded.includes(port)) continue;
    warnings.push(
      type === 'tcpSocket'
        ? `container ${container.name}: ${kind} tcpSocket probe on port ${String(action.port)} now reaches the sidecar, not the app; use httpGet or exclude the port`
        : `container ${container.name}: ${kind} grpc probe on port ${String(action.port)} is intercepted and will fail; list the port in ztmesh.io/exclude-inbound-ports`,
    );
  }
}

function resolvePort(container: Container, port: number | string): number | undefined {
  if (typeof port === 'number') return Number.isInteger(port) && port >= 1 && port <= 65535 ? port : undefined;
  if (/^\d+$/.test(port)) return resolvePort(container, Number(port));
  return container.ports?.find((p) => p.name === port)?.containerPort;
}
