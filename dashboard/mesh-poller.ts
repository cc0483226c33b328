import { buildMeshView, type MeshView } from './mesh-view.ts';
import type { MeshListener, MeshViewSource } from './mesh-view-source.ts';
import { readSidecar, type SidecarReading } from './sidecar-reading.ts';

export interface MeshPollerOptions {
  /** Sidecar admin addresses, HOST:PORT. */
  readonly sources: readonly string[];
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly now?: () => number;
  /** How one sidecar is read (tests pass a fake). */
  readonly read?: (admin: string, timeoutMs: number) => Promise<SidecarReading>;
  /** Told when a round fails as a whole (a bug: reading a sidecar never throws); polling goes on. */
  readonly onError?: (err: unknown) => void;
}

/**
 * Polls every sidecar's admin port, one round after the other (never overlapping; a slow sidecar
 * delays the round by at most `timeoutMs`), keeps the latest view and hands each new one to the
 * listeners (the server's event streams).
 */
export class MeshPoller implements MeshViewSource {
  readonly #o: MeshPollerOptions;
  readonly #listeners = new Set<MeshListener>();
  #view: MeshView | undefined = undefined;
  #timer: NodeJS.Timeout | undefined = undefined;
  #stopped = false;
  #round: Promise<void> | undefined = undefined;

  constructor(options: MeshPollerOptions) {
    this.#o = options;
  }

  /** The latest view (after the first round). */
  get current(): MeshView | undefined {
    return this.#view;
  }

  /** Runs the first round, then keeps polling every `intervalMs` until `stop()`. */
  async start(): Promise<void> {
    await this.poll();
    this.#schedule();
  }

  /** One round now; resolves with its view. */
  async poll(): Promise<MeshView> {
    this.#round ??= this.#poll().finally(() => (this.#round = undefined));
    await this.#round;
    return this.#view!;
  }

  subscribe(listener: MeshListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  async #poll(): Promise<void> {
    const read = this.#o.read ?? readSidecar;
    const readings = await Promise.all(this.#o.sources.map((s) => read(s, this.#o.timeoutMs)));
    this.#view = buildMeshView(readings, (this.#o.now ?? Date.now)());
    for (const listener of this.#listeners) listener(this.#view);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.poll().then(
        () => this.#schedule(),
        (err: unknown) => {
          this.#o.onError?.(err);
          this.#schedule();
        },
      );
    }, this.#o.intervalMs);
  }
}
