import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode, type MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from './load-sidecar-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-sidecar-control-'));
let n = 0;
function write(text: string): string {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, text);
  return file;
}

const BASE = `
trustDomain: example.org
workload: { namespace: shop, labels: { app: orders } }
identity: { certFile: svid.pem, keyFile: svid-key.pem, bundleFile: bundle.pem }
inbound: { listen: 127.0.0.1:15006, app: 127.0.0.1:8080 }
outbound: { listen: 127.0.0.1:15001 }
`;

function issuesOf(text: string): { path: string; message: string }[] {
  try {
    loadSidecarConfig(write(text));
  } catch (err) {
    expect(errorCode(err)).toBe('ZTMESH_CONFIG_INVALID');
    return (err as MeshError).details!['issues'] as { path: string; message: string }[];
  }
  throw new Error('expected the config to be refused');
}

describe('sidecar config: policies from a file or from the operator (exactly one)', () => {
  it('takes control: with the operator identity defaulted from the trust domain and the pod name left to $POD_NAME', () => {
    const c = loadSidecarConfig(write(`${BASE}control: { address: ztmesh-operator.ztmesh-system.svc:15012 }\n`));
    expect(c.policyFile).toBeUndefined();
    expect(c.control).toEqual({ address: { host: 'ztmesh-operator.ztmesh-system.svc', port: 15012 }, identity: 'spiffe://example.org/ns/ztmesh-system/sa/ztmesh-operator', podName: undefined, reportIntervalMs: 10_000 });
  });

  it('takes an explicit operator identity and pod name', () => {
    const c = loadSidecarConfig(write(`${BASE}control: { address: 127.0.0.1:15012, identity: spiffe://example.org/ns/mesh/sa/op, podName: orders-1, reportInterval: 0s }\n`));
    expect(c.control).toEqual({ address: { host: '127.0.0.1', port: 15012 }, identity: 'spiffe://example.org/ns/mesh/sa/op', podName: 'orders-1', reportIntervalMs: 0 });
  });

  it('refuses a report interval under 1 s (other than 0s), naming the key', () => {
    expect(issuesOf(`${BASE}control: { address: 127.0.0.1:15012, reportInterval: 200ms }\n`).map((i) => i.path)).toEqual(['control.reportInterval']);
  });

  it('keeps policyFile working alone', () => {
    expect(loadSidecarConfig(write(`${BASE}policyFile: p.yaml\n`)).control).toBeUndefined();
  });

  it('refuses both, naming both keys', () => {
    const issues = issuesOf(`${BASE}policyFile: p.yaml\ncontrol: { address: 127.0.0.1:15012 }\n`);
    expect(issues.map((i) => i.path)).toEqual(['control']);
    expect(issues[0]!.message).toMatch(/policyFile.*control/);
  });

  it('refuses neither, naming both keys', () => {
    const issues = issuesOf(BASE);
    expect(issues.map((i) => i.path)).toEqual(['policyFile']);
    expect(issues[0]!.message).toMatch(/policyFile.*control/);
  });

  it('refuses meshConfigFile with control, a foreign operator identity, a bad address and unknown keys', () => {
    expect(issuesOf(`${BASE}meshConfigFile: m.yaml\ncontrol: { address: 127.0.0.1:15012 }\n`).map((i) => i.path)).toEqual(['meshConfigFile']);
    expect(issuesOf(`${BASE}control: { address: 127.0.0.1:15012, identity: spiffe://other.org/ns/a/sa/b }\n`).map((i) => i.path)).toEqual(['control.identity']);
    expect(issuesOf(`${BASE}control: { address: no-port }\n`).map((i) => i.path)).toEqual(['control.address']);
    expect(issuesOf(`${BASE}control: { address: 127.0.0.1:1, extra: 1 }\n`).map((i) => i.path)).toEqual(['control.extra']);
  });
});
