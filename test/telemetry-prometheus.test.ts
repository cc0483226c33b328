import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../bench/harness/free-port.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import { startAdminServer, type AdminServer } from '../sidecar/admin/admin-server.ts';
import { createRequestObserver } from '../sidecar/telemetry/create-request-observer.ts';
import { allow, deny, fakeRequestInfo } from '../sidecar/telemetry/fake-request-info.ts';

// A real Prometheus (Debian's package; CI installs it) scrapes the sidecar admin port serving the
// registry the request observer writes to, and the series are read back through its HTTP API.

const PROMETHEUS = '/usr/bin/prometheus';
const SELF = 'spiffe://mesh.test/ns/shop/sa/items';
const PEER = 'spiffe://mesh.test/ns/web/sa/frontend';

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

const installed = existsSync(PROMETHEUS);
const title = installed ? 'Prometheus scraping the sidecar metrics' : `Prometheus scraping the sidecar metrics: skipped, ${PROMETHEUS} is absent (CI installs the Debian prometheus package)`;

describe.skipIf(!installed)(title, () => {
  let dir: string;
  let admin: AdminServer;
  let prometheus: ChildProcess;
  let promPort: number;
  let promLog = '';

  beforeAll(async () => {
    const registry = new Registry();
    const observer = createRequestObserver({
      registry,
      logger: silentLogger(),
      audit: { sampleAllowed: 0 },
      tracing: undefined,
      workload: { namespace: 'shop', labels: { app: 'items' }, identity: () => SELF },
    });
    const ok = { status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 10 };
    for (let i = 0; i < 3; i++) observer.start(fakeRequestInfo({ path: `/items/${i}`, decision: allow() })).end(ok);
    observer.start(fakeRequestInfo({ method: 'DELETE', path: '/admin', decision: deny('shop/deny-admin', 0) })).end({ ...ok, status: 403 });
    observer.setPolicyVersion('42');

    admin = await startAdminServer({
      listen: { host: '127.0.0.1', port: 0 },
      readiness: () => ({ ready: true, missing: [] }),
      registry,
      identity: () => undefined,
      appProbes: new Map(),
      logger: silentLogger(),
    });

    dir = await mkdtemp(join(tmpdir(), 'ztmesh-prom-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: ztmesh-sidecar',
      '    static_configs:',
      `      - targets: ['${admin.address.host}:${admin.address.port}']`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    promPort = await freePort();
    prometheus = spawn(
      PROMETHEUS,
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prometheus.on('error', (err) => (promLog += `spawn error: ${err.message}\n`));
    prometheus.stderr!.on('data', (chunk: Buffer) => (promLog = (promLog + chunk.toString()).slice(-4000)));
  });

  afterAll(async () => {
    if (prometheus !== undefined && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await admin?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  /** Polls Prometheus' query API until `query` returns samples (Prometheus gives no event to await). */
  async function queryUntilPresent(query: string, deadlineMs = 40_000): Promise<Sample[]> {
    const deadline = Date.now() + deadlineMs;
    let last = '';
    while (Date.now() < deadline) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited with ${prometheus.exitCode}: ${promLog}`);
      try {
        const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`);
        last = await res.text();
        if (res.ok) {
          const body = JSON.parse(last) as { data: { result: Sample[] } };
          if (body.data.result.length > 0) return body.data.result;
        }
      } catch (err) {
        last = String(err); // not listening yet
      }
      await sleep(250);
    }
    throw new Error(`no samples for ${query} within ${deadlineMs} ms; last answer: ${last}; prometheus log: ${promLog}`);
  }

  it('reads ztmesh_requests_total back with bounded labels', async () => {
    const samples = await queryUntilPresent('ztmesh_requests_total');
    const allowed = samples.find((s) => s.metric['decision'] === 'ALLOW');
    const denied = samples.find((s) => s.metric['decision'] === 'DENY');
    expect(allowed?.metric).toEqual({
      __name__: 'ztmesh_requests_total',
      job: 'ztmesh-sidecar',
      instance: `${admin.address.host}:${admin.address.port}`,
      direction: 'inbound',
      source_identity: PEER,
      destination_identity: SELF,
      method: 'GET',
      status_class: '2xx',
      decision: 'ALLOW',
    });
    expect(allowed?.value[1]).toBe('3');
    expect(denied?.metric).toMatchObject({ method: 'DELETE', status_class: '4xx' });
    expect(samples.every((s) => !Object.values(s.metric).some((v) => v.startsWith('/') || v === '10.1.2.3'))).toBe(true);
  });

  it('reads denials by policy, the duration histogram and the policy version', async () => {
    const [denials] = await queryUntilPresent('ztmesh_denials_total{policy="shop/deny-admin"}');
    expect(denials?.value[1]).toBe('1');
    const [count] = await queryUntilPresent('ztmesh_request_duration_seconds_count{status_class="2xx"}');
    expect(count?.value[1]).toBe('3');
    const [version] = await queryUntilPresent('ztmesh_policy_version');
    expect(version?.metric['version']).toBe('42');
  });
});
