import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { parseManifestText } from '../operator/inject/inject-manifests.ts';
import { CaProcess } from './helpers/ca-process.ts';
import { canRunNetns, NetnsBridge, type NetnsPod } from './helpers/netns-pod.ts';
import { httpGet, waitForReady, ZTMESH_BIN } from './helpers/sidecar-process.ts';

/**
 * Pods as network namespaces: two pod manifests go through `ztmesh inject`, and the test then does
 * what the kubelet would with the result: materialises the pod's volumes (downward API annotation,
 * projected token, ConfigMaps) as files, runs the injected init container's command in the pod's
 * namespace, starts the injected sidecar with the injected arguments and UID, and starts the app.
 * Two things stand in for the cluster: the token is a CA join token (there is no API server for
 * TokenReview), and the test fills in the client sidecar's outbound service table (the operator's
 * job in a cluster). Volume paths are rooted in a per-pod directory instead of being mounted.
 */
const TD = 'example.org';
const FIXTURE = new URL('./fixtures/k8s/netns/pods.yaml', import.meta.url).pathname;
const tag = `${process.pid % 10000}`;
const subnet = `10.${200 + (process.pid % 50)}.${process.pid % 250}`;

type Obj = { metadata: { name: string; namespace: string; annotations: Record<string, string> }; spec: any };

// The app: answers /healthz, and echoes the path and the peer identity the sidecar verified.
const SERVER_APP = `
require('node:http').createServer((req, res) => {
  if (req.url === '/healthz') return res.end('healthy');
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ app: 'server', path: req.url, peer: req.headers['x-ztmesh-peer-identity'] ?? null }));
}).listen(8080, '0.0.0.0', () => process.stdout.write('listening\\n'));`;

// The client app's plaintext call, as the app would make it: to the destination address, with a Host.
const CALL = `
const [host, port, authority, path] = process.argv.slice(1);
const req = require('node:http').get({ host, port: Number(port), path, headers: { host: authority }, timeout: 5000 }, (res) => {
  let body = '';
  res.on('data', (d) => (body += d));
  res.on('end', () => process.stdout.write(JSON.stringify({ status: res.statusCode, body })));
});
req.on('timeout', () => req.destroy(new Error('TIMEOUT')));
req.on('error', (e) => process.stdout.write(JSON.stringify({ error: e.code ?? e.message })));`;

interface Call {
  status?: number;
  body?: string;
  error?: string;
}

function call(pod: NetnsPod, host: string, port: number, authority: string, path: string): Call {
  return JSON.parse(pod.exec([process.execPath, '-e', CALL, host, String(port), authority, path], { uid: 1000 })) as Call;
}

/** What the kubelet does with a pod's volumes, for the kinds the injector uses, rooted at `root`. */
function materialiseVolumes(pod: Obj, root: string, inputs: { configMaps: Record<string, Record<string, string>>; token: string }, group: number): void {
  const proxy = pod.spec.initContainers.find((c: { name: string }) => c.name === 'ztmesh-proxy');
  for (const mount of proxy.volumeMounts as { name: string; mountPath: string }[]) {
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    chownSync(dir, 0, group);
    const volume = pod.spec.volumes.find((v: { name: string }) => v.name === mount.name);
    const write = (path: string, text: string, mode = 0o644): void => {
      const file = join(dir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, text);
      chownSync(file, 0, group);
      chmodSync(file, mode);
    };
    for (const source of volume.projected?.sources ?? []) {
      for (const item of source.downwardAPI?.items ?? []) {
        const key = /^metadata\.annotations\['(.+)'\]$/.exec(item.fieldRef.fieldPath)![1]!;
        write(item.path, pod.metadata.annotations[key]!);
      }
      if (source.configMap !== undefined) {
        const data = inputs.configMaps[source.configMap.name];
        if (data === undefined && source.configMap.optional !== true) throw new Error(`ConfigMap ${source.configMap.name} is missing`);
        for (const item of source.configMap.items ?? []) if (data?.[item.key] !== undefined) write(item.path, data[item.key]!);
      }
      // The kubelet writes projected tokens 0600, or 0640 to the fsGroup when the pod has one.
      if (source.serviceAccountToken !== undefined) write(source.serviceAccountToken.path, `${inputs.token}\n`, 0o640);
    }
    if (volume.emptyDir !== undefined) chmodSync(dir, 0o775);
  }
}

/** Points the sidecar config's and arguments' absolute paths into the pod's volume root. */
function rooted(text: string, root: string, mounts: { mountPath: string }[]): string {
  return mounts.reduce((t, m) => t.split(`${m.mountPath}/`).join(`${root}${m.mountPath}/`), text);
}

describe.skipIf(!canRunNetns())('injected pods in network namespaces', () => {
  let bridge: NetnsBridge;
  let server: NetnsPod;
  let client: NetnsPod;
  let outside: NetnsPod;
  const ca = new CaProcess(TD);
  const roots: string[] = [];
  const sidecars: ChildProcess[] = [];
  let injected: Record<string, Obj>;

  async function startPod(netns: NetnsPod, pod: Obj, services: Record<string, unknown>, policies: string): Promise<void> {
    const root = mkdtempSync(join(tmpdir(), `ztmesh-pod-${pod.metadata.name}-`));
    chmodSync(root, 0o755);
    roots.push(root);
    const [init, proxy] = pod.spec.initContainers as any[];
    expect(init.name).toBe('ztmesh-init');
    expect(proxy.name).toBe('ztmesh-proxy');
    const group = pod.spec.securityContext.fsGroup as number;
    const token = await ca.token(`spiffe://${TD}/ns/${pod.metadata.namespace}/sa/${pod.spec.serviceAccountName}`);
    materialiseVolumes(pod, root, { configMaps: { 'ztmesh-policies': { 'policies.yaml': policies }, 'ztmesh-ca-bundle': { 'bundle.pem': readFileSync(ca.bundleFile, 'utf8') } }, token }, group);
    // The sidecar config: paths into the volume root; the outbound services the operator would push.
    const configFile = join(root, '/etc/ztmesh/sidecar.yaml');
    const config = parse(rooted(readFileSync(configFile, 'utf8'), root, proxy.volumeMounts)) as { outbound: { services: Record<string, unknown> } };
    config.outbound.services = services;
    writeFileSync(configFile, stringify(config));
    // 1. The init container, as root with the injected arguments.
    await netns.run([process.execPath, ZTMESH_BIN, ...init.args], { uid: init.securityContext.runAsUser });
    // 2. The native sidecar, with its injected arguments, UID and group; the app starts once it has started.
    const child = netns.spawn([process.execPath, ZTMESH_BIN, ...proxy.args.map((a: string) => rooted(a, root, proxy.volumeMounts))], {
      uid: proxy.securityContext.runAsUser,
      gid: proxy.securityContext.runAsGroup,
    });
    sidecars.push(child);
    let log = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (log += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (log += d));
    await waitForReady(`${netns.ip}:${proxy.startupProbe.httpGet.port}`, 200, 40_000).catch((err: Error) => {
      throw new Error(`${pod.metadata.name} sidecar not ready: ${err.message}\n${log}`);
    });
  }

  beforeAll(async () => {
    bridge = new NetnsBridge(tag, subnet);
    server = bridge.addPod('server');
    client = bridge.addPod('client');
    outside = bridge.addPod('outside');
    await ca.init();
    await ca.serve(['--listen', `${bridge.gateway}:0`]);
    const caAddress = `${bridge.gateway}:${ca.address.split(':')[1]}`;
    const out = execFileSync(process.execPath, [ZTMESH_BIN, 'inject', '-f', FIXTURE, '--trust-domain', TD, '--ca-address', caAddress], { encoding: 'utf8' });
    injected = Object.fromEntries((parseManifestText(out, 'inject output') as Obj[]).map((p) => [p.metadata.name, p]));
    const policy = stringify({
      apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy', metadata: { name: 'server-from-client', namespace: 'shop' },
      spec: { selector: { matchLabels: { app: 'server' } }, rules: [{ from: [{ source: { principals: [`spiffe://${TD}/ns/shop/sa/client`] } }] }] },
    });
    const serverApp = server.spawn([process.execPath, '-e', SERVER_APP], { uid: 1000 });
    await new Promise<void>((resolve, reject) => {
      serverApp.stdout!.once('data', () => resolve());
      serverApp.once('exit', (code) => reject(new Error(`server app exited ${code}`)));
    });
    await Promise.all([
      startPod(server, injected['server']!, { client: { address: `${client.ip}:15006`, identity: `spiffe://${TD}/ns/shop/sa/client` } }, policy),
      startPod(client, injected['client']!, { server: { address: `${server.ip}:15006`, identity: `spiffe://${TD}/ns/shop/sa/server` } }, ''),
    ]);
  }, 120_000);

  afterAll(async () => {
    for (const child of sidecars) child.kill('SIGKILL');
    await ca.server?.stop('SIGKILL');
    bridge?.destroy();
    for (const root of roots) rmSync(root, { recursive: true, force: true });
    rmSync(ca.dir, { recursive: true, force: true });
  });

  it("intercepts the client app's plaintext call and carries it over mTLS with the client's verified identity", () => {
    const res = call(client, server.ip, 80, 'server.shop.svc.cluster.local', '/orders/1');
    expect(res.status, JSON.stringify(res)).toBe(200);
    expect(JSON.parse(res.body!)).toEqual({ app: 'server', path: '/orders/1', peer: `spiffe://${TD}/ns/shop/sa/client` });
    const direct = call(client, server.ip, 8080, 'server', '/direct');
    expect(direct.status, JSON.stringify(direct)).toBe(200);
    expect(JSON.parse(direct.body!).peer).toBe(`spiffe://${TD}/ns/shop/sa/client`);
  });

  it('enforces policy on the receiving side: the client denies the server (no policy allows it)', () => {
    const res = call(server, client.ip, 80, 'client.shop.svc.cluster.local', '/');
    expect(res.status, JSON.stringify(res)).toBe(403);
  });

  it('a namespace without a sidecar cannot reach the app port (the connection is intercepted into mTLS)', () => {
    const res = call(outside, server.ip, 8080, 'server', '/from-outside');
    expect(res.status, JSON.stringify(res)).toBeUndefined();
    expect(res.error).toBeDefined();
  });

  it("a kubelet-style plaintext probe from the host passes, on the injected probe's port and path", async () => {
    const probe = injected['server']!.spec.containers[0].readinessProbe.httpGet;
    expect(probe).toMatchObject({ port: 15020, path: '/app-health/server-readiness' });
    const res = await httpGet(`${server.ip}:${probe.port}`, probe.path);
    expect(res).toMatchObject({ status: 200, body: 'healthy' });
    const liveness = injected['server']!.spec.containers[0].livenessProbe.httpGet;
    expect((await httpGet(`${server.ip}:${liveness.port}`, liveness.path)).status).toBe(200);
  });
});
