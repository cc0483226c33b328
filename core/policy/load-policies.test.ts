import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../errors/mesh-error.ts';
import { formatPolicyIssue, loadPolicyFiles, loadPolicySet, parsePolicyDocuments } from './load-policies.ts';
import { authorizationPolicyJsonSchema, authorizationPolicySchema } from './schema.ts';

const HEADER = 'apiVersion: ztmesh.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: foo}\n';

function issuesOf(yaml: string): string[] {
  return parsePolicyDocuments(yaml, 'f.yaml').issues.map(formatPolicyIssue);
}

describe('policy documents: validation', () => {
  it('accepts a full Istio-style policy and defaults action to ALLOW', () => {
    const { policies, issues } = parsePolicyDocuments(
      `${HEADER}spec:
  selector: {matchLabels: {app: web}}
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/a/sa/b", "spiffe://cluster.local/ns/c/*", "*"]
        notPrincipals: ["*/sa/evil"]
        requestPrincipals: ["https://issuer/*"]
        namespaces: ["a", "team-*"]
        ipBlocks: ["10.0.0.0/8", "::1", "fd00::/8"]
    to:
    - operation:
        methods: ["GET", "POST"]
        paths: ["/api/*", "/v1/{*}/x", "/files/{**}", "*.js"]
        ports: ["8080", 9090]
        hosts: ["*.example.com"]
    when:
    - key: request.auth.claims[groups]
      values: ["admins"]
    - key: request.auth.claims[realm_access][roles]
      notValues: ["guest"]
    - key: request.headers[x-tenant]
      values: ["*"]
    - key: source.ip
      values: ["192.168.0.0/16"]
`,
      'f.yaml',
    );
    expect(issues).toEqual([]);
    expect(policies[0]!.policy.spec.action).toBe('ALLOW');
    expect(policies[0]!.docIndex).toBe(0);
  });

  it.each([
    ['unknown field', `${HEADER}spec:\n  rulez: []\n`, 'f.yaml: document 1: spec.rulez: unknown key'],
    ['unsupported CUSTOM action', `${HEADER}spec:\n  action: CUSTOM\n`, 'f.yaml: document 1: spec.action: must be ALLOW, DENY or AUDIT'],
    ['invalid CIDR', `${HEADER}spec:\n  rules:\n  - from:\n    - source: {ipBlocks: ["10.0.0.0/33"]}\n`, 'f.yaml: document 1: spec.rules[0].from[0].source.ipBlocks[0]: "10.0.0.0/33": prefix length'],
    ['invalid IP', `${HEADER}spec:\n  rules:\n  - from:\n    - source: {notIpBlocks: ["10.0.0.300"]}\n`, 'spec.rules[0].from[0].source.notIpBlocks[0]: "10.0.0.300" is not an IPv4'],
    ['invalid principal', `${HEADER}spec:\n  rules:\n  - from:\n    - source: {principals: ["cluster.local/ns/a b"]}\n`, 'spec.rules[0].from[0].source.principals[0]:'],
    ['wildcard in the middle', `${HEADER}spec:\n  rules:\n  - from:\n    - source: {principals: ["cluster.local/*/sa/x"]}\n`, "'*' is allowed only at the start or the end"],
    ['unsupported when key', `${HEADER}spec:\n  rules:\n  - when:\n    - {key: request.body, values: ["x"]}\n`, 'spec.rules[0].when[0].key: unsupported key "request.body"'],
    ['when without values', `${HEADER}spec:\n  rules:\n  - when:\n    - {key: source.ip}\n`, 'spec.rules[0].when[0]: a condition needs values or notValues'],
    ['when source.ip not a CIDR', `${HEADER}spec:\n  rules:\n  - when:\n    - {key: source.ip, values: ["nope"]}\n`, 'spec.rules[0].when[0].values[0]:'],
    ['bad port', `${HEADER}spec:\n  rules:\n  - to:\n    - operation: {ports: ["70000"]}\n`, 'spec.rules[0].to[0].operation.ports[0]: "70000" is not a port'],
    ['empty list', `${HEADER}spec:\n  rules:\n  - to:\n    - operation: {paths: []}\n`, 'spec.rules[0].to[0].operation.paths: must not be empty'],
    ['empty source', `${HEADER}spec:\n  rules:\n  - from:\n    - source: {}\n`, 'spec.rules[0].from[0].source: source must set at least one field'],
    ['bad template', `${HEADER}spec:\n  rules:\n  - to:\n    - operation: {paths: ["/a/{**}/{*}"]}\n`, "'{**}' must be the last template operator"],
    ['wrong apiVersion', HEADER.replace('ztmesh.io/v1alpha1', 'security.istio.io/v1') + 'spec: {}\n', 'f.yaml: document 1: apiVersion: must be ztmesh.io/v1alpha1'],
    ['missing namespace', 'apiVersion: ztmesh.io/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: p}\nspec: {}\n', 'f.yaml: document 1: metadata.namespace:'],
    ['bad dry-run annotation', HEADER.replace('namespace: foo}', 'namespace: foo, annotations: {"ztmesh.io/dry-run": "yes"}}') + 'spec: {}\n', 'metadata.annotations.ztmesh.io/dry-run: must be "true" or "false"'],
    ['malformed YAML', `${HEADER}spec: {rules: [\n`, 'f.yaml: document 1: (root): invalid YAML'],
    ['wrong type', `${HEADER}spec:\n  rules: {}\n`, 'f.yaml: document 1: spec.rules:'],
  ])('%s', (_name, yaml, want) => {
    const issues = issuesOf(yaml);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.join('\n')).toContain(want);
  });

  it('reports every problem of every document, numbering documents from 1', () => {
    const good = `${HEADER}spec: {}\n`;
    const bad1 = `${HEADER.replace('name: p', 'name: q')}spec:\n  action: NOPE\n  rules:\n  - from:\n    - source: {ipBlocks: ["x"]}\n`;
    const issues = issuesOf(`${good}---\n${bad1}`);
    expect(issues).toHaveLength(2);
    expect(issues.every((i) => i.startsWith('f.yaml: document 2: '))).toBe(true);
  });

  it('skips empty documents and reports duplicates across files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ztmesh-policy-'));
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(a, `---\n${HEADER}spec: {}\n---\n`);
    writeFileSync(b, `${HEADER}spec: {}\n`);
    const { policies, issues } = loadPolicyFiles([a, b]);
    expect(policies).toHaveLength(2);
    expect(issues.map(formatPolicyIssue)).toEqual([`${b}: document 1: metadata.name: policy foo/p is already defined in ${a} document 1`]);
    expect(loadPolicyFiles([join(dir, 'missing.yaml')]).issues[0]!.message).toContain('ENOENT');
    let code = '';
    try {
      loadPolicySet([a, b]);
    } catch (err) {
      code = errorCode(err);
    }
    expect(code).toBe('ZTMESH_POLICY_INVALID');
    expect(loadPolicySet([a])).toHaveLength(1);
  });

  it('exports a JSON Schema for the CRD', () => {
    const schema = authorizationPolicyJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean; required: string[] };
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(schema.required).not.toContain('spec');
    expect(() => z.toJSONSchema(authorizationPolicySchema, { io: 'input' })).not.toThrow();
  });
});
