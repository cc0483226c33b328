import { describe, expect, it } from 'vitest';
import { parseAuditLine } from '../../core/policy/audit-record.ts';
import { auditRecordFor, isSecretName, redactClaims } from './audit-record.ts';
import { deny, fakeRequestInfo } from './fake-request-info.ts';

describe('isSecretName', () => {
  it.each(['authorization', 'Authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-auth-token', 'refresh_token', 'client_secret', 'db-password', 'apikey', 'x-credentials'])(
    '%s is secret',
    (name) => expect(isSecretName(name)).toBe(true),
  );
  it.each(['user-agent', 'x-request-id', 'sub', 'groups', 'x-tenant'])('%s is not', (name) => expect(isSecretName(name)).toBe(false));
});

describe('redactClaims', () => {
  it('redacts secret-named keys at any depth, in arrays too, and caps the depth', () => {
    expect(redactClaims({ a: [{ id_token: 'x', b: 1 }], c: { d: { password: 'p' } } })).toEqual({ a: [{ id_token: '[redacted]', b: 1 }], c: { d: { password: '[redacted]' } } });
    let deep: unknown = 'leaf';
    for (let i = 0; i < 20; i++) deep = { n: deep };
    expect(JSON.stringify(redactClaims(deep))).not.toContain('leaf');
  });
});

describe('auditRecordFor', () => {
  it('builds the record simulate reads, without credential headers even when asked for them', () => {
    const info = fakeRequestInfo({ decision: deny(), destinationPrincipal: undefined, headers: { authorization: 'Bearer SECRET123', 'x-tenant': 't1' } });
    const record = auditRecordFor(info, deny(), { namespace: 'shop', labels: { app: 'items' } }, 'spiffe://mesh.test/ns/shop/sa/items', ['authorization', 'x-tenant'], undefined);
    expect(record.request.headers).toEqual({ 'x-tenant': 't1' });
    expect(record.destination.principal).toBe('spiffe://mesh.test/ns/shop/sa/items');
    expect(record.traceId).toBeNull();
    const parsed = parseAuditLine(JSON.stringify(record));
    expect(parsed).toEqual({ kind: 'audit', record: JSON.parse(JSON.stringify(record)) });
    expect(JSON.stringify(record)).not.toContain('SECRET123');
  });
});
