import { describe, expect, it } from 'vitest';
import { decisionFromRecord, formatDecision, shortName } from './decision-line.ts';
import { formatChildLine } from './log-formatter.ts';

describe('decision lines', () => {
  it('reads nested audit records and prints one readable line', () => {
    const event = decisionFromRecord({
      level: 'info',
      type: 'audit',
      source: { principal: 'spiffe://example.org/ns/shop/sa/frontend', ip: '127.0.0.1' },
      destination: { workload: 'orders', namespace: 'shop' },
      request: { method: 'GET', path: '/orders' },
      status: 200,
      decision: 'ALLOW',
      policy: 'shop/orders-allow-frontend',
      rule: 0,
      reason: 'allowed by ALLOW policy',
    });
    expect(event).toBeDefined();
    expect(formatDecision(event!)).toMatch(/^ALLOW +frontend -> orders +GET \/orders +200 +policy shop\/orders-allow-frontend rule 0$/);
  });

  it('reads flat dotted keys and shows the reason and code of a denial', () => {
    const event = decisionFromRecord({
      type: 'audit',
      'source.principal': 'spiffe://example.org/ns/shop/sa/frontend',
      destination: 'spiffe://example.org/ns/shop/sa/payments',
      'request.method': 'POST',
      'request.path': '/charge',
      decision: 'DENY',
      policy: null,
      rule: null,
      reason: 'no ALLOW policy matched',
      code: 'ZTMESH_SIDECAR_DENIED',
    });
    expect(formatDecision(event!)).toMatch(/^DENY +frontend -> payments +POST \/charge +no ALLOW policy matched +\(ZTMESH_SIDECAR_DENIED\)$/);
  });

  it('ignores records that are not audit records', () => {
    expect(decisionFromRecord({ type: 'access', decision: 'ALLOW' })).toBeUndefined();
    expect(decisionFromRecord({ msg: 'listening' })).toBeUndefined();
  });

  it('never lets attacker-chosen paths put escape sequences on the terminal', () => {
    const event = decisionFromRecord({ type: 'audit', decision: 'DENY', source: { principal: 'x' }, destination: 'y', request: { method: 'GET', path: '/\x1b[2J\x1b]0;pwned\x07' } });
    const line = formatDecision(event!);
    expect(line).not.toMatch(/[\x00-\x1f\x7f]/);
    expect(line).toContain('\\x1b[2J');
  });

  it('shortens workload SPIFFE IDs to their service account name only', () => {
    expect(shortName('spiffe://example.org/ns/shop/sa/orders')).toBe('orders');
    expect(shortName('spiffe://example.org/other/path')).toBe('spiffe://example.org/other/path');
  });
});

describe('child output lines', () => {
  it('shows decisions, warnings and errors; hides routine info unless verbose', () => {
    const audit = JSON.stringify({ level: 'info', type: 'audit', decision: 'ALLOW', source: { principal: 'spiffe://example.org/ns/shop/sa/orders' }, destination: 'payments', request: { method: 'POST', path: '/charge' } });
    expect(formatChildLine('payments-sidecar', audit, { verbose: false })).toMatch(/^ALLOW +orders -> payments/);
    const info = JSON.stringify({ level: 30, msg: 'listening', port: 1 });
    expect(formatChildLine('ca', info, { verbose: false })).toBeUndefined();
    expect(formatChildLine('ca', info, { verbose: true })).toBe('INFO   [ca] listening');
    const warn = JSON.stringify({ level: 'warn', msg: 'handshake refused', err: { code: 'ZTMESH_SIDECAR_PEER_TLS_FAILED' } });
    expect(formatChildLine('orders-sidecar', warn, { verbose: false })).toBe('WARN   [orders-sidecar] handshake refused (ZTMESH_SIDECAR_PEER_TLS_FAILED)');
  });

  it('passes non-JSON output (a crash) through, made terminal-safe', () => {
    expect(formatChildLine('ca', 'Error: boom\x1b[31m', { verbose: false })).toBe('       [ca] Error: boom\\x1b[31m');
    expect(formatChildLine('ca', '   ', { verbose: false })).toBeUndefined();
  });
});

describe('the sidecar audit log, read back', () => {
  it('formats the lines AuditLog really writes', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../core/telemetry/logger.ts');
    const { AuditLog } = await import('../sidecar/telemetry/audit-log.ts');
    const { toAuditRecord } = await import('../core/policy/audit-record.ts');
    const { buildRequestAttributes } = await import('../core/policy/build-request.ts');
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
        done();
      },
    });
    const logger = createLogger({ name: 'ztmesh-sidecar', level: 'info', destination: sink });
    const audit = new AuditLog(logger, { sampleAllowed: 1 });
    const attributes = buildRequestAttributes({ principal: 'spiffe://example.org/ns/shop/sa/frontend', sourceIp: '127.0.0.1', port: 8082, method: 'POST', path: '/charge', host: 'payments' });
    const workload = { namespace: 'shop', labels: { app: 'payments' }, principal: 'spiffe://example.org/ns/shop/sa/payments' };
    const decision = { decision: 'DENY' as const, policy: null, rule: null, reason: 'no ALLOW policy matched', audit: false, dryRun: [] };
    audit.write(toAuditRecord(attributes, workload, decision));
    await new Promise((resolve) => setTimeout(resolve, 50)); // pino's async destination flushes on the next turns
    logger.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toHaveLength(1);
    expect(formatChildLine('payments-sidecar', lines[0]!, { verbose: false })).toMatch(/^DENY +frontend -> payments +POST \/charge +no ALLOW policy matched$/);
  });
});
