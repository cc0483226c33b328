import { ListWatch, Watch, type KubeConfig, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../core/telemetry/logger.ts';
import { JitteredBackoff } from '../../sidecar/control/jittered-backoff.ts';

/** A watch that asks the API server for bookmarks, so its resourceVersion stays fresh on quiet resources. */
class BookmarkWatch extends Watch {
  override watch(path: string, queryParams: Record<string, string | number | boolean | undefined>, callback: (phase: string, apiObj: any, watchObj?: any) => void, done: (err: any) => void): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

export interface InformerHealth {
  readonly name: string;
  /** True after the first successful list. */
  readonly synced: boolean;
  /** False from a failed list or watch until the next successful restart. */
  readonly healthy: boolean;
  readonly restarts: number;
  readonly lastError: string | undefined;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  readonly name: string;
  readonly kubeConfig: KubeConfig;
  /** The watch path, e.g. /api/v1/pods. */
  readonly path: string;
  readonly list: () => Promise<KubernetesListObject<T>>;
  readonly logger: Logger;
  /** Called after any add, update or delete, and on every resync. */
  readonly onChange: () => void;
  /** Restart backoff after a failed list or watch; default 500 ms doubling to 30 s, jittered. */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number; readonly random?: () => number };
  /** Re-deliver the cache (onChange) this often even without events; default 5 min, 0 disables. */
  readonly resyncMs?: number;
}

/**
 * A @kubernetes/client-node ListWatch that does not stay dead: the library re-watches after a
 * normal end and relists after 410 Gone, but stops for good after a failed list or a non-200 watch
 * (kubernetes-client/javascript #301, #958). This wrapper restarts it with jittered capped backoff,
 * resyncs periodically, and reports health for /ready.
 */
export class ResilientInformer<T extends KubernetesObject> {
  readonly #o: ResilientInformerOptions<T>;
  readonly #lw: ListWatch<T>;
  readonly #backoff: JitteredBackoff;
  readonly #log: Logger;
  #synced = false;
  #healthy = false;
  #restarts = 0;
  #lastError: string | undefined = undefined;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined = undefined;
  #resyncTimer: NodeJS.Timeout | undefined = undefined;
  #failedDuringStart = false;

  constructor(options: ResilientInformerOptions<T>) {
    this.#o = options;
    this.#log = options.logger.child({ informer: options.name });
    this.#backoff = new JitteredBackoff(options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    this.#lw = new ListWatch<T>(options.path, new BookmarkWatch(options.kubeConfig), options.list, false);
    const changed = () => {
      this.#healthy = true;
      this.#backoff.reset();
      options.onChange();
    };
    this.#lw.on('add', changed);
    this.#lw.on('update', changed);
    this.#lw.on('delete', changed);
    this.#lw.on('error', (err: unknown) => this.#failed(err));
  }

  /** Lists and starts watching; resolves after the first attempt (successful or not: it retries by itself). */
  async start(): Promise<void> {
    this.#stopped = false;
    await this.#run();
    const resync = this.#o.resyncMs ?? 300_000;
    if (resync > 0) {
      this.#resyncTimer = setInterval(() => {
        if (this.#synced) this.#o.onChange();
      }, resync);
      this.#resyncTimer.unref();
    }
  }

  list(): readonly T[] {
    return this.#lw.list();
  }

  health(): InformerHealth {
    return { name: this.#o.name, synced: this.#synced, healthy: this.#healthy, restarts: this.#restarts, lastError: this.#lastError };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#restartTimer !== undefined) clearTimeout(this.#restartTimer);
    if (this.#resyncTimer !== undefined) clearInterval(this.#resyncTimer);
    await this.#lw.stop();
  }

  async #run(): Promise<void> {
    this.#failedDuringStart = false;
    try {
      await this.#lw.start();
    } catch (err) {
      this.#failed(err);
      return;
    }
    if (this.#failedDuringStart || this.#stopped) return;
    const firstSync = !this.#synced;
    this.#synced = true;
    this.#healthy = true;
    this.#backoff.reset();
    if (firstSync) this.#o.onChange();
  }

  #failed(err: unknown): void {
    this.#failedDuringStart = true;
    this.#healthy = false;
    const e = err as { statusCode?: number; code?: number; message?: string };
    this.#lastError = `${e.statusCode ?? e.code ?? ''} ${e.message ?? String(err)}`.trim();
    if (this.#stopped || this.#restartTimer !== undefined) return;
    const delay = this.#backoff.next();
    this.#log.warn({ code: 'ZTMESH_CONTROL_WATCH_FAILED', error: this.#lastError, retryInMs: delay }, 'watch failed; restarting with backoff');
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#stopped) return;
      this.#restarts++;
      void this.#run();
    }, delay);
    this.#restartTimer.unref();
  }
}
