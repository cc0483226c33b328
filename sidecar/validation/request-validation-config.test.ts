import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import { loadSidecarConfig } from '../config/load-sidecar-config.ts';

const dir = mkdtempSync(join(tmpdir(), 'ztmesh-validation-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function load(requestValidation: string): ReturnType<typeof loadSidecarConfig> {
  const file = join(dir, `c${n++}.yaml`);
  writeFileSync(file, `
trustDomain: example.org
workload: { namespace: shop, name: orders }
identity: { certFile: svid.pem, keyFile: svid-key.pem, bundleFile: bundle.pem }
inbound: { listen: 127.0.0.1:15006, app: 127.0.0.1:8080 }
outbound: { listen: 127.0.0.1:15001 }
policyFile: policy.yaml
requestValidation: ${requestValidation}
`);
  return loadSidecarConfig(file);
}

function issues(requestValidation: string): string {
  try {
    load(requestValidation);
  } catch (err) {
    expect(errorCode(err)).toBe('ZTMESH_CONFIG_INVALID');
    return (err as MeshError).message;
  }
  throw new Error('config accepted');
}

describe('the requestValidation config key', () => {
  it('resolves the OpenAPI file against the config file, upper-cases methods, and has safe defaults', () => {
    const c = load('{ openapi: api/orders.yaml, routes: [{ method: post, path: "/orders/{id}", body: { type: object } }] }').requestValidation!;
    expect(c.openapi).toBe(join(dir, 'api/orders.yaml'));
    expect(c.routes).toEqual([{ method: 'POST', path: '/orders/{id}', body: { type: 'object' } }]);
    expect(c.refuseUndeclared).toBe(false);
    expect(c.maxBodyBytes).toBe(1024 * 1024);
    expect(c.source).toBe(join(dir, `c${n - 1}.yaml`));
  });

  it('names each bad key: methods, templates, schemas, unknown keys, refuseUndeclared with nothing declared', () => {
    const text = issues('{ refuseUndeclared: true, maxBodyBytes: 0, extra: 1, routes: [{ method: FETCH, path: "orders?x=1", body: "object" }] }');
    expect(text).toContain('requestValidation.routes[0].method');
    expect(text).toContain('requestValidation.routes[0].path');
    expect(text).toContain('requestValidation.routes[0].body');
    expect(text).toContain('requestValidation.maxBodyBytes');
    expect(text).toContain("unknown key 'requestValidation.extra'");
    expect(issues('{ refuseUndeclared: true }')).toContain('requestValidation.refuseUndeclared: declares no API');
    expect(issues('{ routes: [{ method: GET, path: "/a/{unclosed" }] }')).toContain('requestValidation.routes[0].path');
  });
});
