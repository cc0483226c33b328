/**
 * Quick loopback load check of the HTTP/1.1 data plane (not the full `npm run bench`):
 * nginx as the app (one worker), a ztmesh inbound and outbound sidecar as two child processes
 * (this same file with --role), wrk against the app directly and through the pair.
 *
 *   node bench/profile-http1-pair.ts [--seconds 5] [--connections 16] [--path /] [--cpu-prof] [--h2]
 *
 * --h2: the app speaks h2c (nginx `listen ... http2`), the load is h2load with one stream per
 * connection, so the sidecars' HTTP/2 path (h2c -> h2 over mTLS -> h2c) is what is measured.
 *
 * Prints requests/s, p50/p99 latency, CPU-seconds per 1,000 requests and peak RSS per sidecar,
 * and with --cpu-prof the top self-time frames of each sidecar's profile.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createServer } from 'node:net';

const SELF = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    dir: { type: 'string' },
    app: { type: 'string' },
    inbound: { type: 'string' },
    seconds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    path: { type: 'string', default: '/' },
    'cpu-prof': { type: 'boolean', default: false },
    h2: { type: 'boolean', default: false },
  },
});

async function runSidecar(role: string, dir: string): Promise<void> {
  const { CredentialsRef } = await import('../sidecar/tls/credentials.ts');
  const { buildCredentials } = await import('../sidecar/tls/build-credentials.ts');
  const { DEFAULT_HTTP1_LIMITS } = await import('../sidecar/http1/limits.ts');
  const { noopObserver } = await import('../sidecar/telemetry/request-observer.ts');
  const { Registry } = await import('../core/telemetry/metrics.ts');
  const { silentLogger } = await import('../core/telemetry/logger.ts');
  const leaf = JSON.parse(readFileSync(join(dir, `${role}.json`), 'utf8')) as { certChainPem: string; keyPem: string; bundlePem: string };
  const creds = new CredentialsRef();
  creds.swap(buildCredentials({ certChainPem: leaf.certChainPem, privateKey: leaf.keyPem, bundlePem: leaf.bundlePem, trustDomain: 'example.org' }));
  const common = { credentials: creds, trustDomains: new Set(['example.org']), limits: DEFAULT_HTTP1_LIMITS, observer: noopObserver, metrics: new Registry(), logger: silentLogger() };
  let port: number;
  if (role === 'inbound') {
    const { startInbound } = await import('../sidecar/inbound/inbound-server.ts');
    const allow = { version: 'bench', evaluate: () => ({ decision: 'ALLOW' as const, policy: null, rule: null, reason: 'bench', audit: false, dryRun: [] }) };
    const s = await startInbound({ ...common, listen: { host: '127.0.0.1', port: 0 }, app: { host: '127.0.0.1', port: Number(values.app) }, tcpPorts: new Set(), authorizer: () => allow, peerAllowed: () => undefined });
    port = s.address.port;
  } else {
    const { startOutbound } = await import('../sidecar/outbound/outbound-server.ts');
    const { parseSpiffeId } = await import('../core/spiffe/spiffe-id.ts');
    const identity = parseSpiffeId('spiffe://example.org/ns/shop/sa/orders').id;
    const services = new Map([['orders', { name: 'orders', identity, endpoints: [{ host: '127.0.0.1', port: Number(values.inbound) }], protocol: 'http' as const }]]);
    const s = await startOutbound({ ...common, listen: { host: '127.0.0.1', port: 0 }, services });
    port = s.address.port;
  }
  process.stdout.write(`PORT ${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

function startChild(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m !== null) resolve({ child, port: Number(m[1]) });
    });
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

function peakRssMb(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) / 1024;
}

function h2load(url: string, headers: string[]): Promise<{ rps: number; p50: string; p99: string; requests: number; mbps: string }> {
  const args = ['-c', String(values.connections), '-m', '1', '-D', String(values.seconds), ...headers.flatMap((h) => ['-H', h]), url];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, (err, stdout) => {
      if (err !== null) return reject(err);
      const rps = Number(/finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? 0);
      const requests = Number(/requests: \d+ total, \d+ started, (\d+) done/.exec(stdout)?.[1] ?? 0);
      const mean = /time for request:\s+\S+\s+\S+\s+(\S+)/.exec(stdout)?.[1] ?? '?';
      if (!/ 0 failed, 0 errored/.test(stdout)) process.stdout.write(`h2load reported failures:\n${stdout}`);
      resolve({ rps, p50: `mean ${mean}`, p99: '?', requests, mbps: '?' });
    });
  });
}

function load(url: string, headers: string[]): Promise<{ rps: number; p50: string; p99: string; requests: number; mbps: string }> {
  if (!values.h2) return wrk(url, headers.map((h) => `Host: ${h}`));
  return h2load(url, headers.map((h) => `:authority: ${h}`));
}

function wrk(url: string, headers: string[]): Promise<{ rps: number; p50: string; p99: string; requests: number; mbps: string }> {
  const args = ['-t1', `-c${values.connections}`, `-d${values.seconds}s`, '--latency', ...headers.flatMap((h) => ['-H', h]), url];
  return new Promise((resolve, reject) => {
    execFile('wrk', args, (err, stdout) => {
      if (err !== null) return reject(err);
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? 0);
      const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0);
      const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? '?';
      const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? '?';
      const mbps = /Transfer\/sec:\s+(\S+)/.exec(stdout)?.[1] ?? '?';
      if (/Non-2xx|Socket errors/.test(stdout)) process.stdout.write(`wrk reported errors:\n${stdout}`);
      resolve({ rps, p50, p99, requests, mbps });
    });
  });
}

function topFrames(dir: string, label: string): void {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount: number }[];
    };
    const total = profile.nodes.reduce((n, x) => n + x.hitCount, 0);
    const byFrame = new Map<string, number>();
    for (const n of profile.nodes) {
      const key = `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber + 1}`;
      byFrame.set(key, (byFrame.get(key) ?? 0) + n.hitCount);
    }
    const top = [...byFrame.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
    process.stdout.write(`\n${label} top self-time frames (${file}):\n`);
    for (const [k, v] of top) process.stdout.write(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ztmesh-prof-'));
  chmodSync(dir, 0o755); // nginx workers run unprivileged and must read the body file
  const { TestPki } = await import('../test/fixtures/pki-mesh.ts');
  const pki = await TestPki.create('example.org');
  for (const [role, sa] of [['inbound', 'orders'], ['outbound', 'frontend']] as const) {
    const leaf = await pki.svid('shop', sa);
    writeFileSync(join(dir, `${role}.json`), JSON.stringify({ ...leaf, bundlePem: pki.bundlePem }));
    writeFileSync(join(dir, `${role}.pem`), leaf.certChainPem);
    writeFileSync(join(dir, `${role}-key.pem`), leaf.keyPem);
  }
  writeFileSync(join(dir, 'bundle.pem'), pki.bundlePem);
  writeFileSync(join(dir, '1m.bin'), Buffer.alloc(1024 * 1024, 0x61));
  const appPort = 20000 + Math.floor(Math.random() * 20000);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log crit; daemon off;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 10000000; server { listen 127.0.0.1:${appPort};
  location = / { return 200 "hello, world\\n"; }
  location = /1m { alias ${dir}/1m.bin; } }
  server { listen 127.0.0.1:${appPort + 1} http2; location = / { return 200 "hello, world\\n"; } } }\n`,
  );
  const nginx = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
  await new Promise((r) => setTimeout(r, 300));
  const prof = values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(dir, 'prof-ROLE')] : [];
  const sidecarApp = values.h2 ? appPort + 1 : appPort;
  const inbound = await startChild([...prof.map((a) => a.replace('ROLE', 'inbound')), SELF, '--role', 'inbound', '--dir', dir, '--app', String(sidecarApp)]);
  const outbound = await startChild([...prof.map((a) => a.replace('ROLE', 'outbound')), SELF, '--role', 'outbound', '--dir', dir, '--inbound', String(inbound.port)]);
  // Reference: the Node TLS byte pipe pair (no HTTP parsing, one mTLS connection per client connection).
  const pipeIn = await freePort();
  const pipeOut = await freePort();
  const pipeScript = fileURLToPath(new URL('./harness/tls-pipe.ts', import.meta.url));
  const pipes = [
    spawn(process.execPath, [pipeScript, 'inbound', String(pipeIn), String(sidecarApp), join(dir, 'inbound.pem'), join(dir, 'inbound-key.pem'), join(dir, 'bundle.pem'), 'spiffe://example.org/ns/shop/sa/frontend'], { stdio: 'inherit' }),
    spawn(process.execPath, [pipeScript, 'outbound', String(pipeOut), String(pipeIn), join(dir, 'outbound.pem'), join(dir, 'outbound-key.pem'), join(dir, 'bundle.pem'), 'spiffe://example.org/ns/shop/sa/orders'], { stdio: 'inherit' }),
  ];
  await new Promise((r) => setTimeout(r, 1500));
  try {
    const path = values.path!;
    await load(`http://127.0.0.1:${outbound.port}${path}`, ['orders']); // warm-up
    const direct = await load(`http://127.0.0.1:${sidecarApp}${path}`, []);
    const cpu0 = [cpuSeconds(inbound.child.pid!), cpuSeconds(outbound.child.pid!)];
    const viaPair = await load(`http://127.0.0.1:${outbound.port}${path}`, ['orders']);
    const cpu1 = [cpuSeconds(inbound.child.pid!), cpuSeconds(outbound.child.pid!)];
    const perK = (i: number): string => (((cpu1[i]! - cpu0[i]!) / viaPair.requests) * 1000).toFixed(3);
    const pipeCpu0 = pipes.map((c) => cpuSeconds(c.pid!));
    const viaPipe = await load(`http://127.0.0.1:${pipeOut}${path}`, []);
    const pipeCpu1 = pipes.map((c) => cpuSeconds(c.pid!));
    const pipePerK = (i: number): string => (((pipeCpu1[i]! - pipeCpu0[i]!) / viaPipe.requests) * 1000).toFixed(3);
    process.stdout.write(
      `path ${path}, ${values.h2 ? "h2load -m1 -c" : "wrk -t1 -c"}${values.connections} ${values.seconds}s\n` +
        `direct: ${direct.rps.toFixed(0)} req/s p50 ${direct.p50} p99 ${direct.p99} ${direct.mbps}/s\n` +
        `pair:   ${viaPair.rps.toFixed(0)} req/s p50 ${viaPair.p50} p99 ${viaPair.p99} ${viaPair.mbps}/s\n` +
        `CPU-s per 1000 req: inbound ${perK(0)} outbound ${perK(1)}; peak RSS MB: inbound ${peakRssMb(inbound.child.pid!).toFixed(1)} outbound ${peakRssMb(outbound.child.pid!).toFixed(1)}\n` +
        `byte-pipe reference pair: ${viaPipe.rps.toFixed(0)} req/s p50 ${viaPipe.p50} p99 ${viaPipe.p99} ${viaPipe.mbps}/s; CPU-s per 1000 req: inbound ${pipePerK(0)} outbound ${pipePerK(1)}\n` +
        `ztmesh / byte pipe: ${(viaPair.rps / viaPipe.rps).toFixed(2)}x; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`,
    );
  } finally {
    const exited = (c: ChildProcess): Promise<unknown> => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)));
    inbound.child.kill('SIGTERM');
    outbound.child.kill('SIGTERM');
    nginx.kill('SIGQUIT');
    for (const p of pipes) p.kill('SIGTERM');
    await Promise.all([exited(inbound.child), exited(outbound.child), exited(nginx)]);
  }
  if (values['cpu-prof']) {
    topFrames(join(dir, 'prof-inbound'), 'inbound');
    topFrames(join(dir, 'prof-outbound'), 'outbound');
  }
}

if (values.role !== undefined) await runSidecar(values.role, values.dir!);
else await main();
