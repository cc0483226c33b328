import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The interception rules in a real network namespace: `ztmesh iptables` (the injected init
 * container's command) runs inside a "pod" namespace joined by a veth pair to a "peer" namespace,
 * and real TCP connections show where each kind of traffic lands.
 */
const root = process.getuid?.() === 0;
const haveIp = (() => {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    execFileSync('iptables-restore', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const suffix = `${process.pid % 100000}`;
const POD = `zt-pod-${suffix}`;
const PEER = `zt-peer-${suffix}`;
const POD_IP = '10.233.0.1';
const PEER_IP = '10.233.0.2';
const CLI = new URL('../bin/ztmesh.js', import.meta.url).pathname;
const NODE = process.execPath;

// Listens on each PORT=LABEL pair and answers every connection with its label.
const SERVERS = `
const net = require('node:net');
for (const arg of process.argv.slice(1)) {
  const [port, label] = arg.split('=');
  net.createServer((s) => { s.on('error', () => {}); s.end(label); }).listen(Number(port), '0.0.0.0', () => process.stdout.write('.'));
}`;
// Connects to each HOST:PORT in turn and prints a JSON array of what each answered (or its error code).
const CLIENT = `
const net = require('node:net');
const one = (target) => new Promise((resolve) => {
  const i = target.lastIndexOf(':');
  const s = net.connect({ host: target.slice(0, i), port: Number(target.slice(i + 1)), timeout: 2000 });
  let got = '';
  s.on('data', (d) => { got += d; });
  s.on('end', () => resolve(got));
  s.on('timeout', () => { s.destroy(); resolve('TIMEOUT'); });
  s.on('error', (e) => resolve(e.code));
});
(async () => {
  const out = [];
  for (const target of process.argv.slice(1)) out.push(await one(target));
  process.stdout.write(JSON.stringify(out));
})();`;

function natRules(ns: string): string {
  return inNs(ns, ['iptables-save', '-t', 'nat']).split('\n').filter((l) => !l.startsWith('#')).join('\n');
}

function sh(...args: string[]): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8' });
}

function inNs(ns: string, args: string[], uid?: number): string {
  const prefix = uid === undefined ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups'];
  return execFileSync('ip', ['netns', 'exec', ns, ...prefix, ...args], { encoding: 'utf8' });
}

/** What each target answered, connecting from namespace `ns` (as `uid`), in one process. */
function connect(ns: string, targets: string[], uid?: number): string[] {
  return JSON.parse(inNs(ns, [NODE, '-e', CLIENT, ...targets], uid)) as string[];
}

async function startServers(ns: string, pairs: string[]): Promise<ChildProcess> {
  const child = spawn('ip', ['netns', 'exec', ns, NODE, '-e', SERVERS, ...pairs], { stdio: ['ignore', 'pipe', 'inherit'] });
  let ready = 0;
  while (ready < pairs.length) {
    const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
    ready += chunk.length;
  }
  return child;
}

describe.skipIf(!root || !haveIp)('ztmesh iptables in a network namespace', () => {
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    sh('ip', 'netns', 'add', POD);
    sh('ip', 'netns', 'add', PEER);
    sh('ip', 'link', 'add', `zv${suffix}a`, 'type', 'veth', 'peer', 'name', `zv${suffix}b`);
    sh('ip', 'link', 'set', `zv${suffix}a`, 'netns', POD);
    sh('ip', 'link', 'set', `zv${suffix}b`, 'netns', PEER);
    for (const [ns, dev, ip] of [[POD, `zv${suffix}a`, POD_IP], [PEER, `zv${suffix}b`, PEER_IP]] as const) {
      inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
      inNs(ns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', dev]);
      inNs(ns, ['ip', 'link', 'set', dev, 'up']);
    }
    // The "sidecar" ports and an excluded app port in the pod; plain servers in the peer.
    children.push(await startServers(POD, ['15001=pod-outbound-listener', '15006=pod-inbound-listener', '15020=pod-admin', '9000=pod-excluded-9000']));
    children.push(await startServers(PEER, ['80=peer-direct-80', '5432=peer-direct-5432', '8080=peer-direct-8080']));
  });

  afterAll(() => {
    for (const child of children) child.kill();
    for (const ns of [POD, PEER]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
  });

  const flags = ['--proxy-uid', '1337', '--inbound-port', '15006', '--outbound-port', '15001', '--admin-port', '15020',
    '--exclude-inbound-ports', '9000', '--exclude-outbound-ports', '5432', '--include-outbound-cidrs', '*'];

  it('installs the rules, and a second run replaces them without duplicating the hooks', () => {
    const out = inNs(POD, [NODE, CLI, 'iptables', ...flags]);
    expect(out).toContain('iptables rules installed');
    const again = inNs(POD, [NODE, CLI, 'iptables', ...flags]);
    expect(again).toContain('iptables rules refreshed');
    const saved = inNs(POD, ['iptables-save', '-t', 'nat']);
    expect(saved.match(/-A PREROUTING -p tcp -j ZTMESH_INBOUND/g)).toHaveLength(1);
    expect(saved.match(/-A OUTPUT -p tcp -j ZTMESH_OUTPUT/g)).toHaveLength(1);
    expect(saved.match(/--uid-owner 1337 -j RETURN/g)).toHaveLength(1);
  });

  it('redirects inbound TCP to the inbound port, except the admin port and excluded ports', () => {
    expect(connect(PEER, [`${POD_IP}:8080`, `${POD_IP}:443`, `${POD_IP}:15020`, `${POD_IP}:9000`])).toEqual([
      'pod-inbound-listener',
      'pod-inbound-listener',
      'pod-admin',
      'pod-excluded-9000',
    ]);
  });

  it("redirects the app's outbound TCP to the outbound port, except excluded ports, loopback and the proxy's UID", () => {
    expect(connect(POD, [`${PEER_IP}:80`, `${PEER_IP}:5432`, '127.0.0.1:15020'])).toEqual(['pod-outbound-listener', 'peer-direct-5432', 'pod-admin']);
    expect(connect(POD, [`${PEER_IP}:8080`], 1000)).toEqual(['pod-outbound-listener']);
    expect(connect(POD, [`${PEER_IP}:80`, `${PEER_IP}:8080`], 1337)).toEqual(['peer-direct-80', 'peer-direct-8080']);
  });

  it('--dry-run prints the script and changes nothing', () => {
    const before = natRules(PEER);
    const out = inNs(PEER, [NODE, CLI, 'iptables', ...flags, '--dry-run']);
    expect(out).toContain('*nat');
    expect(out).toContain('-A ZTMESH_REDIRECT -p tcp -j REDIRECT --to-ports 15001');
    expect(natRules(PEER)).toBe(before);
  });

  it('a bad port list is an error naming the flag, and nothing is installed', () => {
    let stderr = '';
    try {
      execFileSync('ip', ['netns', 'exec', PEER, NODE, CLI, 'iptables', '--exclude-inbound-ports', '80,x'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      stderr = String((err as { stderr: string }).stderr);
      expect((err as { status: number }).status).toBe(1);
    }
    expect(stderr).toContain('ZTMESH_INJECT_BAD_ANNOTATION');
    expect(stderr).toContain('--exclude-inbound-ports');
    expect(natRules(PEER)).not.toContain('ZTMESH');
  });
});
