import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from './load-sidecar-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-inventory-config-'));
let n = 0;
function load(inventory: string): ReturnType<typeof loadSidecarConfig> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, `
trustDomain: example.org
workload: { namespace: shop }
identity: { certFile: svid.pem, keyFile: svid-key.pem, bundleFile: bundle.pem }
inbound: { listen: 127.0.0.1:15006, app: 127.0.0.1:8080 }
outbound: { listen: 127.0.0.1:15001 }
policyFile: policy.yaml
${inventory}
`);
  return loadSidecarConfig(file);
}

describe('sidecar config: inventory.responseFields', () => {
  it('defaults to sniffing JSON responses, 1 in 100 once a route is known, at most 64 KiB each', () => {
    expect(load('').inventory).toEqual({ enabled: true, maxRoutes: 500, responseFields: { enabled: true, sampleOneIn: 100, maxBytes: 65_536 } });
    expect(load('inventory: { maxRoutes: 50 }').inventory.responseFields).toEqual({ enabled: true, sampleOneIn: 100, maxBytes: 65_536 });
  });

  it('takes a sampling rate and a byte budget, or turns sniffing off', () => {
    expect(load('inventory: { responseFields: { sampleOneIn: 10, maxBytes: 4096 } }').inventory.responseFields).toEqual({ enabled: true, sampleOneIn: 10, maxBytes: 4096 });
    expect(load('inventory: { responseFields: { enabled: false } }').inventory.responseFields.enabled).toBe(false);
  });

  it('refuses out-of-range and unknown keys, naming each', () => {
    let err: unknown;
    try {
      load('inventory: { responseFields: { sampleOneIn: 0, maxBytes: 100000000, sniff: true } }');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MeshError);
    expect((err as MeshError).code).toBe('ZTMESH_CONFIG_INVALID');
    const paths = ((err as MeshError).details as { issues: { path: string }[] }).issues.map((i) => i.path).sort();
    expect(paths).toEqual(['inventory.responseFields.maxBytes', 'inventory.responseFields.sampleOneIn', 'inventory.responseFields.sniff']);
  });
});
