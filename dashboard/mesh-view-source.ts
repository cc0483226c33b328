import type { MeshView } from './mesh-view.ts';

export type MeshListener = (view: MeshView) => void;

/**
 * Where the dashboard server gets its view: the poller of sidecar admin ports (local mode,
 * mesh-poller.ts) or the operator's aggregate of the sidecars' reports (operator/report/).
 */
export interface MeshViewSource {
  /** The latest view, or undefined before the first one. */
  readonly current: MeshView | undefined;
  /** Calls `listener` with every new view; returns the unsubscribe function. */
  subscribe(listener: MeshListener): () => void;
}
