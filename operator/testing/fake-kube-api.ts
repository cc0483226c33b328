import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { ApiError, FAKE_RESOURCES, FakeKubeStore, type FakeResource, type Obj, type StoreEvent } from './fake-kube-store.ts';

interface Route {
  readonly resource: FakeResource;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: 'status' | undefined;
}

/** One request the fake answered, for tests that check the client does not hammer it. */
export interface FakeRequest {
  readonly method: string;
  readonly plural: string;
  readonly watch: boolean;
  readonly subresource: 'status' | undefined;
  /** The bearer token the client sent (tells replicas apart in tests). */
  readonly token: string | undefined;
  readonly at: number;
}

function parseRoute(url: URL): Route | undefined {
  const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 2) [group, version, rest] = ['', parts[1]!, parts.slice(2)];
  else if (parts[0] === 'apis' && parts.length >= 3) [group, version, rest] = [parts[1]!, parts[2]!, parts.slice(3)];
  else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub, ...extra] = rest;
  const resource = FAKE_RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
  if (resource === undefined || extra.length > 0 || (sub !== undefined && sub !== 'status')) return undefined;
  if (namespace !== undefined && !resource.namespaced) return undefined;
  return { resource, namespace, name, subresource: sub === 'status' ? 'status' : undefined };
}

function statusBody(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/**
 * A hand-written fake of the Kubernetes API server for the kinds the operator uses (pods,
 * namespaces, service accounts, Services, EndpointSlices, AuthorizationPolicies, MeshConfigs, Leases), on loopback HTTP,
 * driven by @kubernetes/client-node's real HTTP client: list (with the collection's
 * resourceVersion), watch (from a resourceVersion, with bookmarks on request, ERROR 410 Expired
 * for versions older than the history), get, create, replace, JSON/merge patch, delete, and the
 * status subresource. Tests can break watches, compact history and make requests fail.
 */
export class FakeKubeApiServer {
  readonly store: FakeKubeStore;
  readonly requests: FakeRequest[] = [];
  /** Bookmark interval for watches that ask for them. */
  bookmarkMs: number;
  readonly #server: Server;
  readonly #watches = new Set<ServerResponse>();
  readonly #failures = new Map<string, { remaining: number; status: number }>();

  private constructor(server: Server, store: FakeKubeStore, bookmarkMs: number) {
    this.#server = server;
    this.store = store;
    this.bookmarkMs = bookmarkMs;
  }

  static async start(options: { bookmarkMs?: number; historyLimit?: number } = {}): Promise<FakeKubeApiServer> {
    const store = new FakeKubeStore(options.historyLimit);
    let api: FakeKubeApiServer | undefined;
    const server = createServer((req, res) => {
      req.on('error', () => res.destroy());
      res.on('error', () => undefined);
      api!.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) api!.#send(res, 500, statusBody(500, 'InternalError', err instanceof Error ? err.message : String(err)));
        else res.destroy();
      });
    });
    api = new FakeKubeApiServer(server, store, options.bookmarkMs ?? 1000);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A KubeConfig pointing at this fake; `token` tells clients apart in `requests`. */
  kubeConfig(token = 'fake-token'): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'ztmesh-operator', token }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ztmesh-operator', namespace: 'ztmesh-system' }],
      currentContext: 'fake',
    });
    return kc;
  }

  resource(plural: string): FakeResource {
    const r = FAKE_RESOURCES.find((x) => x.plural === plural);
    if (r === undefined) throw new Error(`the fake does not serve ${plural}`);
    return r;
  }

  /** Test set-up as a real client would do it: create, or replace when it exists. */
  apply(plural: string, obj: Obj): Obj {
    const r = this.resource(plural);
    const ns = r.namespaced ? (obj.metadata['namespace'] as string | undefined) : undefined;
    const name = obj.metadata['name'] as string;
    try {
      const current = this.store.get(r, ns, name);
      return this.store.replace(r, ns, name, { ...obj, metadata: { ...current.metadata, ...obj.metadata, resourceVersion: current.metadata['resourceVersion'] } }, undefined);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) return this.store.create(r, ns, obj);
      throw err;
    }
  }

  remove(plural: string, namespace: string | undefined, name: string): void {
    this.store.delete(this.resource(plural), namespace, name);
  }

  /** Ends every open watch (as an API server restart or a load balancer timeout would). */
  dropWatches(): void {
    for (const res of this.#watches) res.end();
    this.#watches.clear();
  }

  /** The next `count` list and watch requests for `plural` fail with `status`. */
  failNext(plural: string, count: number, status = 500): void {
    this.#failures.set(plural, { remaining: count, status });
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #send(res: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async #body(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > 3 * 1024 * 1024) throw new ApiError(413, 'RequestEntityTooLarge', 'request body too large');
      chunks.push(chunk as Buffer);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      throw new ApiError(400, 'BadRequest', 'the request body is not JSON');
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const route = parseRoute(url);
    if (route === undefined) {
      this.#send(res, 404, statusBody(404, 'NotFound', `the server could not find the requested resource ${url.pathname}`));
      return;
    }
    const { resource: r, namespace, name, subresource } = route;
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') === true ? auth.slice(7) : undefined;
    this.requests.push({ method: req.method ?? 'GET', plural: r.plural, watch, subresource, token, at: Date.now() });
    try {
      const failure = this.#failures.get(r.plural);
      if (failure !== undefined && failure.remaining > 0 && req.method === 'GET' && name === undefined) {
        failure.remaining--;
        throw new ApiError(failure.status, 'InternalError', 'injected failure');
      }
      if (req.method === 'GET' && name === undefined && watch) {
        this.#watch(req, res, r, namespace, url);
        return;
      }
      if (req.method === 'GET' && name === undefined) {
        const items = this.store.list(r, namespace);
        this.#send(res, 200, { kind: `${r.kind}List`, apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`, metadata: { resourceVersion: String(this.store.resourceVersion) }, items });
        return;
      }
      if (req.method === 'POST' && name === undefined && subresource === undefined) {
        this.#send(res, 201, this.store.create(r, namespace, (await this.#body(req)) as Obj));
        return;
      }
      if (name === undefined) throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported on a collection`);
      if (req.method === 'GET') this.#send(res, 200, this.store.get(r, namespace, name));
      else if (req.method === 'PUT') this.#send(res, 200, this.store.replace(r, namespace, name, (await this.#body(req)) as Obj, subresource));
      else if (req.method === 'PATCH') this.#send(res, 200, this.store.patch(r, namespace, name, req.headers['content-type'] ?? '', await this.#body(req), subresource));
      else if (req.method === 'DELETE' && subresource === undefined) this.#send(res, 200, this.store.delete(r, namespace, name));
      else throw new ApiError(405, 'MethodNotAllowed', `${req.method} is not supported here`);
    } catch (err) {
      if (err instanceof ApiError) this.#send(res, err.status, statusBody(err.status, err.reason, err.message));
      else throw err;
    }
  }

  #watch(req: IncomingMessage, res: ServerResponse, r: FakeResource, namespace: string | undefined, url: URL): void {
    const from = url.searchParams.get('resourceVersion');
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const write = (type: string, object: unknown) => res.write(`${JSON.stringify({ type, object })}\n`);
    const matches = (e: StoreEvent) => e.plural === r.plural && (namespace === undefined || e.object.metadata['namespace'] === namespace);
    const start = from === null || from === '' || from === '0' ? this.store.resourceVersion : Number(from);
    let backlog: StoreEvent[];
    try {
      backlog = this.store.since(r, Number.isFinite(start) ? start : 0);
    } catch (err) {
      // As the real server: a 200 watch carrying one ERROR event with the 410 Status, then the end.
      const e = err as ApiError;
      write('ERROR', statusBody(e.status, e.reason, e.message));
      res.end();
      return;
    }
    this.#watches.add(res);
    for (const e of backlog) if (matches(e)) write(e.type, e.object);
    const unsubscribe = this.store.onEvent((e) => {
      if (matches(e)) write(e.type, e.object);
    });
    const apiVersion = r.group === '' ? r.version : `${r.group}/${r.version}`;
    const bookmarkTimer = bookmarks ? setInterval(() => write('BOOKMARK', { kind: r.kind, apiVersion, metadata: { resourceVersion: String(this.store.resourceVersion) } }), this.bookmarkMs) : undefined;
    const timeout = timeoutSeconds > 0 ? setTimeout(() => res.end(), timeoutSeconds * 1000) : undefined;
    const stop = () => {
      unsubscribe();
      if (bookmarkTimer !== undefined) clearInterval(bookmarkTimer);
      if (timeout !== undefined) clearTimeout(timeout);
      this.#watches.delete(res);
    };
    res.on('close', stop);
    req.on('close', stop);
  }
}
