import { describe, expect, it } from 'vitest';
import { auditRecordRequest, parseAuditLine, toAuditRecord } from './audit-record.ts';
import { buildRequestAttributes } from './build-request.ts';
import { compilePolicies } from './compile.ts';
import { parsePolicyDocuments } from './load-policies.ts';
import { defaultMeshConfig } from './mesh-config.ts';

const POLICY = `apiVersion: ztmesh.io/v1alpha1
kind: AuthorizationPolicy
metadata: {name: p, namespace: foo}
spec:
  rules:
  - when:
    - key: request.headers[x-env]
      values: ["prod"]
    - key: request.headers[authorization]
      values: ["*"]
`;

describe('audit records', () => {
  const policies = parsePolicyDocuments(POLICY, 'p.yaml').policies.map((p) => p.policy);
  const workload = { namespace: 'foo', labels: { app: 'web' }, principal: 'spiffe://cluster.local/ns/foo/sa/web' };
  const authorizer = compilePolicies(policies, workload, defaultMeshConfig());
  const attributes = buildRequestAttributes({
    principal: 'spiffe://cluster.local/ns/bar/sa/client',
    sourceIp: '10.1.2.3',
    port: 8080,
    method: 'GET',
    path: '/x',
    host: 'web.foo',
    headers: { 'X-Env': 'prod', Authorization: 'Bearer secret-token', 'x-other': 'y' },
    requestPrincipal: 'https://idp/alice',
    claims: { sub: 'alice', groups: ['a'] },
  });

  it('round-trips through a pino-style line and re-evaluates to the same decision', () => {
    const decision = authorizer.evaluate(attributes);
    expect(decision.decision).toBe('ALLOW');
    const record = toAuditRecord(attributes, workload, decision, { headerNames: authorizer.referencedHeaders, traceId: 'abc', now: () => new Date(0) });
    expect(record.request.headers).toEqual({ 'x-env': 'prod' });
    expect(JSON.stringify(record)).not.toContain('secret-token');
    expect(record.time).toBe('1970-01-01T00:00:00.000Z');
    const line = JSON.stringify({ level: 'info', pid: 1, hostname: 'h', name: 'sidecar', ...record, msg: 'audit' });
    const parsed = parseAuditLine(line);
    expect(parsed.kind).toBe('audit');
    if (parsed.kind !== 'audit') return;
    expect(parsed.record.traceId).toBe('abc');
    const again = auditRecordRequest(parsed.record);
    // The Authorization header is not recorded, so a replay of this policy is denied: simulate's job is to show that.
    expect(compilePolicies(policies, again.workload, defaultMeshConfig()).evaluate(again.attributes).decision).toBe('DENY');
    expect(again.attributes.header('x-env')).toBe('prod');
    expect(again.attributes.claims).toEqual({ sub: 'alice', groups: ['a'] });
  });

  it.each([
    ['', 'other'],
    ['{"level":"info","msg":"listening"}', 'other'],
    ['not json', 'malformed'],
    ['[1,2]', 'malformed'],
    ['{"type":"audit","time":"t"}', 'malformed'],
    ['{"type":"audit","time":"t","source":{"principal":null,"ip":"1.1.1.1"},"destination":{"namespace":"a","labels":{},"port":99999,"host":null,"principal":"x"},"request":{"method":null,"path":null,"headers":{},"requestPrincipal":null,"claims":null},"decision":"DENY","policy":null,"rule":null,"reason":"r","traceId":null}', 'malformed'],
  ])('classifies %j as %s', (line, kind) => {
    expect(parseAuditLine(line).kind).toBe(kind);
  });
});
