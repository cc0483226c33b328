import type { PromSample } from './prometheus-text.ts';

/** A workload, by its SPIFFE ID. */
export interface GraphNode {
  readonly id: string;
  /** A short name for the picture: the service account (`.../sa/NAME`), else the ID's last segment. */
  readonly label: string;
  /** True when one of the polled sidecars holds this identity (its admin port was read). */
  readonly polled: boolean;
}

/** Calls from one workload to another, summed over methods and status classes. */
export interface GraphEdge {
  readonly source: string;
  readonly destination: string;
  /** Authorized by the destination's sidecar. */
  readonly allowed: number;
  /** Refused by the destination's sidecar (decision DENY). */
  readonly denied: number;
  /** Seen without an authorization decision (refused before it, or seen only by the caller's sidecar). */
  readonly undecided: number;
  /** Answers with status 5xx, of all the above. */
  readonly errors: number;
  /**
   * Carried over mutual TLS: sidecars only accept peer traffic over mTLS 1.3 with a verified SPIFFE
   * ID, and only reach peers that way, so every edge the metrics show is mTLS.
   */
  readonly mtls: true;
  /** Which side reported it: the destination's sidecar (authoritative) or only the caller's. */
  readonly observedBy: 'destination' | 'source';
}

export interface MeshGraph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

/** What the graph needs of one polled sidecar. */
export interface GraphSource {
  /** The SPIFFE ID the sidecar holds (from /debug/identity), when known. */
  readonly identity: string | undefined;
  readonly samples: readonly PromSample[];
}

const REQUESTS = 'ztmesh_requests_total';

export function shortName(id: string): string {
  const sa = /\/sa\/([^/]+)$/.exec(id);
  if (sa !== null) return sa[1]!;
  const parts = id.split('/').filter((p) => p !== '');
  return parts[parts.length - 1] ?? id;
}

interface Counts {
  allowed: number;
  denied: number;
  undecided: number;
  errors: number;
}

/**
 * The service graph from the sidecars' `ztmesh_requests_total`: an edge per (caller, callee) pair.
 * The destination's inbound series are authoritative (that is where authorization decides); a
 * caller's outbound series add an edge only towards a workload none of the polled sidecars is
 * (a callee whose own sidecar is not polled), so calls are never counted twice.
 */
export function buildMeshGraph(sources: readonly GraphSource[]): MeshGraph {
  const polled = new Set(sources.map((s) => s.identity).filter((id): id is string => id !== undefined));
  const inbound = new Map<string, Map<string, Counts>>();
  const outbound = new Map<string, Map<string, Counts>>();
  for (const source of sources) {
    for (const s of source.samples) {
      if (s.name !== REQUESTS || !(s.value > 0)) continue;
      const { direction, source_identity: from, destination_identity: to, decision, status_class: status } = s.labels;
      if (from === undefined || to === undefined) continue;
      const table = direction === 'inbound' ? inbound : direction === 'outbound' ? outbound : undefined;
      if (table === undefined) continue;
      let row = table.get(from);
      if (row === undefined) table.set(from, (row = new Map()));
      let c = row.get(to);
      if (c === undefined) row.set(to, (c = { allowed: 0, denied: 0, undecided: 0, errors: 0 }));
      if (decision === 'ALLOW') c.allowed += s.value;
      else if (decision === 'DENY') c.denied += s.value;
      else c.undecided += s.value;
      if (status === '5xx') c.errors += s.value;
    }
  }
  const edges: GraphEdge[] = [];
  for (const [from, row] of inbound) for (const [to, c] of row) edges.push({ source: from, destination: to, ...c, mtls: true, observedBy: 'destination' });
  for (const [from, row] of outbound) {
    for (const [to, c] of row) {
      if (polled.has(to) || inbound.get(from)?.has(to) === true) continue;
      edges.push({ source: from, destination: to, allowed: 0, denied: 0, undecided: c.allowed + c.denied + c.undecided, errors: c.errors, mtls: true, observedBy: 'source' });
    }
  }
  edges.sort((a, b) => a.source.localeCompare(b.source) || a.destination.localeCompare(b.destination));
  const ids = new Set<string>(polled);
  for (const e of edges) ids.add(e.source).add(e.destination);
  const nodes = [...ids].sort().map((id) => ({ id, label: shortName(id), polled: polled.has(id) }));
  return { nodes, edges };
}
