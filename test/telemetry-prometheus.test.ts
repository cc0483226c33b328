import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestCa, type TestCa } from '../ca/testing/test-ca.ts';
import { freePort } from '../bench/harness/free-port.ts';
import { writeIdentityFiles, writeSidecarConfig, httpGet, startSidecar, waitForReady, yaml, type SidecarAddresses, type ZtmeshProcess } from './helpers/sidecar-process.ts';
import { startOtlpReceiver, type OtlpReceiver } from './fixtures/otlp-receiver.ts';

// Two real `ztmesh sidecar` processes (frontend -> orders -> app), configured for tracing by the
// standard OTEL_* variables to an OTLP receiver in the test, and a real Prometheus (Debian's
// package; CI installs it) scraping both admin ports; the series are read back through its HTTP API.

const PROMETHEUS = '/usr/bin/prometheus';
const TD = 'example.org';
const ORDERS = `spiffe://${TD}/ns/shop/sa/orders`;
const FRONTEND = `spiffe://${TD}/ns/shop/sa/frontend`;

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

const installed = existsSync(PROMETHEUS);
const title = installed
  ? 'sidecar processes: Prometheus scrape and OTLP traces'
  : `sidecar processes: Prometheus scrape and OTLP traces: skipped, ${PROMETHEUS} is absent (CI installs the Debian prometheus package)`;

describe.skipIf(!installed)(title, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-telemetry-'));
  const procs: ZtmeshProcess[] = [];
  const appSaw: IncomingHttpHeaders[] = [];
  let ca: TestCa;
  let app: Server;
  let receiver: OtlpReceiver;
  let orders: { proc: ZtmeshProcess; addr: SidecarAddresses };
  let frontend: { proc: ZtmeshProcess; addr: SidecarAddresses };
  let prometheus: ChildProcess | undefined;
  let promPort = 0;
  let promLog = '';

  const writeIdentity = (name: string, spiffeId: string) => writeIdentityFiles(ca, dir, name, spiffeId);

  const config = (name: string, body: Record<string, unknown>): string => writeSidecarConfig(dir, TD, name, body, '1s');

  beforeAll(async () => {
    ca = await createTestCa({ trustDomain: TD });
    receiver = await startOtlpReceiver('http/protobuf');
    app = createServer((req, res) => {
      appSaw.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    const appPort = (app.address() as AddressInfo).port;

    const policyFile = join(dir, 'orders-policy.yaml');
    writeFileSync(
      policyFile,
      yaml({
        apiVersion: 'ztmesh.io/v1alpha1', kind: 'AuthorizationPolicy',
        metadata: { name: 'orders', namespace: 'shop' },
        spec: { selector: { matchLabels: { app: 'orders' } }, rules: [{ from: [{ source: { principals: [FRONTEND] } }], to: [{ operation: { methods: ['GET'] } }] }] },
      }),
    );
    const emptyPolicy = join(dir, 'frontend-policy.yaml');
    writeFileSync(emptyPolicy, '');
    const otel = (service: string) => ({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: service,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    // Fixed ports (free ones), so that both sidecars and Prometheus start at once.
    const [ordersAdmin, ordersInbound, frontendAdmin] = [`127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`, `127.0.0.1:${await freePort()}`];
    const promConfig = join(dir, 'prometheus.yml');
    writeFileSync(
      promConfig,
      yaml({
        global: { scrape_interval: '1s', scrape_timeout: '1s' },
        scrape_configs: [{ job_name: 'ztmesh-sidecar', static_configs: [{ targets: [ordersAdmin, frontendAdmin] }] }],
      }),
    );
    promPort = await freePort();
    prometheus = spawn(PROMETHEUS, [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    prometheus.on('error', (err) => (promLog += `spawn error: ${err.message}\n`));
    prometheus.stderr!.on('data', (chunk: Buffer) => (promLog = (promLog + chunk.toString()).slice(-4000)));
    const ordersIdentity = await writeIdentity('orders', ORDERS);
    const frontendIdentity = await writeIdentity('frontend', FRONTEND);
    const started = await Promise.allSettled([
      startSidecar(
        config('orders', {
          admin: ordersAdmin,
          workload: { namespace: 'shop', name: 'orders', labels: { app: 'orders' } },
          identity: ordersIdentity,
          inbound: { listen: ordersInbound, app: `127.0.0.1:${appPort}` },
          outbound: { listen: '127.0.0.1:0' },
          policyFile,
        }),
        otel('orders'),
      ),
      startSidecar(
        config('frontend', {
          admin: frontendAdmin,
          workload: { namespace: 'shop', name: 'frontend', labels: { app: 'frontend' } },
          identity: frontendIdentity,
          inbound: { listen: '127.0.0.1:0', app: '127.0.0.1:1' },
          outbound: { listen: '127.0.0.1:0', services: { orders: { address: ordersInbound, identity: ORDERS } } },
          policyFile: emptyPolicy,
        }),
        otel('frontend'),
      ),
    ]);
    for (const s of started) if (s.status === 'fulfilled') procs.push(s.value.proc);
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    [orders, frontend] = started.map((s) => (s as PromiseFulfilledResult<{ proc: ZtmeshProcess; addr: SidecarAddresses }>).value) as [typeof orders, typeof frontend];
    await waitForReady(orders.addr.admin);
    await waitForReady(frontend.addr.admin);
  });

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await receiver?.close();
    await new Promise<void>((r) => (app ? app.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  /** Polls Prometheus' query API until `query` returns samples (Prometheus gives no event to await). */
  async function queryUntil(query: string, done: (s: Sample[]) => boolean = (s) => s.length > 0, deadlineMs = 40_000): Promise<Sample[]> {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    while (Date.now() < deadline) {
      if (prometheus!.exitCode !== null) throw new Error(`prometheus exited with ${prometheus!.exitCode}: ${promLog}`);
      try {
        const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`);
        last = await res.text();
        if (res.ok) {
          const result = (JSON.parse(last) as { data: { result: Sample[] } }).data.result;
          if (done(result)) return result;
        }
      } catch (err) {
        last = String(err); // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`no satisfying samples for ${query} within ${deadlineMs} ms; last answer: ${last}; prometheus log: ${promLog}`);
  }

  it('carries requests and exports one connected trace per request over OTLP from both processes', async () => {
    for (let i = 0; i < 3; i++) expect((await httpGet(frontend.addr.outbound, `/items/${i}`, { host: 'orders' })).status).toBe(200);
    expect((await httpGet(frontend.addr.outbound, '/items/9', { host: 'orders', method: 'DELETE' })).status).toBe(403);
    const seen = appSaw[0]!['traceparent'] as string;
    const [, traceId, parentOfApp] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(seen)!;
    let spans = receiver.spans.filter((s) => s.traceId === traceId);
    while (spans.length < 2) {
      await receiver.waitForSpans(receiver.spanCount + 1, 20_000);
      spans = receiver.spans.filter((s) => s.traceId === traceId);
    }
    const client = spans.find((s) => s.kind === 3)!;
    const server = spans.find((s) => s.kind === 2)!;
    expect(client.resource['service.name']).toBe('frontend');
    expect(server.resource['service.name']).toBe('orders');
    expect(server.parentSpanId).toBe(client.spanId);
    expect(parentOfApp).toBe(server.spanId);
    expect(server.attributes).toMatchObject({ 'ztmesh.source.principal': FRONTEND, 'ztmesh.authz.decision': 'ALLOW', 'url.path': '/items/0' });
  });

  it('Prometheus reads ztmesh_requests_total back from both sidecars, with bounded labels', async () => {
    const samples = await queryUntil('ztmesh_requests_total', (s) => s.some((x) => x.metric['direction'] === 'inbound' && x.metric['decision'] === 'DENY') && s.some((x) => x.metric['direction'] === 'outbound'));
    const allowed = samples.find((s) => s.metric['direction'] === 'inbound' && s.metric['decision'] === 'ALLOW');
    expect(allowed?.metric).toEqual({
      __name__: 'ztmesh_requests_total',
      job: 'ztmesh-sidecar',
      instance: orders.addr.admin,
      direction: 'inbound',
      source_identity: FRONTEND,
      destination_identity: ORDERS,
      method: 'GET',
      status_class: '2xx',
      decision: 'ALLOW',
    });
    expect(allowed?.value[1]).toBe('3');
    expect(samples.find((s) => s.metric['decision'] === 'DENY')?.metric).toMatchObject({ method: 'DELETE', status_class: '4xx', instance: orders.addr.admin });
    expect(samples.find((s) => s.metric['direction'] === 'outbound' && s.metric['status_class'] === '2xx')?.metric).toMatchObject({
      instance: frontend.addr.admin,
      source_identity: FRONTEND,
      destination_identity: ORDERS,
      decision: 'none',
    });
    for (const s of samples) for (const v of Object.values(s.metric)) expect(v.startsWith('/') || /^\d+\.\d+\.\d+\.\d+$/.test(v)).toBe(false);
  });

  it('Prometheus reads denials by policy, the duration histogram and the policy version', async () => {
    const [denials] = await queryUntil('ztmesh_denials_total');
    expect(denials?.metric['policy']).toBe('none'); // DENY by default: no ALLOW rule matched DELETE
    expect(denials?.value[1]).toBe('1');
    const [count] = await queryUntil(`ztmesh_request_duration_seconds_count{instance="${orders.addr.admin}",status_class="2xx"}`);
    expect(count?.value[1]).toBe('3');
    const versions = await queryUntil('ztmesh_policy_version', (s) => s.length === 2);
    expect(versions.every((v) => v.value[1] === '1' && v.metric['version'] !== undefined)).toBe(true);
  });
});
