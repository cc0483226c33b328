import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

/** What the fake API server knows of one ServiceAccount token. */
export interface FakeTokenInfo {
  readonly username: string;
  readonly audiences: readonly string[];
}

/**
 * A hand-written fake of the Kubernetes API server's TokenReview endpoint, on loopback HTTP, for
 * driving @kubernetes/client-node's real HTTP client in tests. It checks the reviewer's own bearer
 * token, answers like the real API (audiences intersected with spec.audiences), and can be told
 * to fail with a status code.
 */
export class FakeKubeApi {
  readonly tokens = new Map<string, FakeTokenInfo>();
  failWith: number | undefined = undefined;
  /** When true, TokenReview requests are never answered (a hung API server). */
  hang = false;
  reviews = 0;
  readonly #server: Server;
  readonly #reviewerToken: string;

  private constructor(server: Server, reviewerToken: string) {
    this.#server = server;
    this.#reviewerToken = reviewerToken;
  }

  static async start(reviewerToken = 'fake-reviewer-token'): Promise<FakeKubeApi> {
    let api: FakeKubeApi | undefined;
    const server = createServer((req, res) => {
      req.on('error', () => res.destroy());
      api!.#handle(req).then(
        ({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        },
        () => {
          res.writeHead(500);
          res.end();
        },
      );
    });
    api = new FakeKubeApi(server, reviewerToken);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** A KubeConfig pointing at this fake, authenticating with the reviewer token. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'ztmesh-ca', token: this.#reviewerToken }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'ztmesh-ca' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async #handle(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url?.split('?')[0] !== '/apis/authentication.k8s.io/v1/tokenreviews') {
      return { status: 404, body: { kind: 'Status', status: 'Failure', code: 404 } };
    }
    if (req.headers.authorization !== `Bearer ${this.#reviewerToken}`) return { status: 401, body: { kind: 'Status', status: 'Failure', code: 401 } };
    this.reviews++;
    if (this.hang) return new Promise(() => undefined);
    if (this.failWith !== undefined) return { status: this.failWith, body: { kind: 'Status', status: 'Failure', code: this.failWith } };
    const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { spec?: { token?: string; audiences?: string[] } };
    const info = this.tokens.get(review.spec?.token ?? '');
    const wanted = review.spec?.audiences ?? [];
    const granted = info === undefined ? [] : info.audiences.filter((a) => wanted.length === 0 || wanted.includes(a));
    const authenticated = info !== undefined && (wanted.length === 0 || granted.length > 0);
    return {
      status: 201,
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: review.spec,
        status: authenticated
          ? { authenticated: true, user: { username: info.username, groups: ['system:serviceaccounts'] }, audiences: granted }
          : { authenticated: false, error: info === undefined ? 'invalid bearer token' : 'token audiences are invalid' },
      },
    };
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
