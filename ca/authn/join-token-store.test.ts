import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { unseal } from '../../core/seal/envelope.ts';
import { keyRing, sealKeyFromBase64 } from '../../core/seal/seal-key.ts';
import { JoinTokenStore } from './join-token-store.ts';

const ID = 'spiffe://tokens.test/ns/a/sa/b';

function store(clock: () => number = Date.now) {
  const file = join(mkdtempSync(join(tmpdir(), 'ztmesh-tokens-')), 'join-tokens.sealed');
  const ring = keyRing([sealKeyFromBase64(randomBytes(32).toString('base64'), 'test')]);
  return { file, ring, tokens: new JoinTokenStore({ file, ring, clock }) };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return errorCode(err);
  }
  return 'no error';
}

describe('join tokens', () => {
  it('a token yields its SPIFFE ID once, then is refused', async () => {
    const { tokens } = store();
    const { token } = await tokens.create(ID, 600_000);
    expect(await tokens.consume(token)).toBe(ID);
    expect(await codeOf(tokens.consume(token))).toBe('ZTMESH_CA_TOKEN_INVALID');
  });

  it('an expired token is refused (and removed)', async () => {
    let now = 1_000_000;
    const { tokens } = store(() => now);
    const { token } = await tokens.create(ID, 60_000);
    now += 60_001;
    expect(await codeOf(tokens.consume(token))).toBe('ZTMESH_CA_TOKEN_INVALID');
  });

  it('unknown or malformed tokens are refused', async () => {
    const { tokens } = store();
    await tokens.create(ID, 600_000);
    expect(await codeOf(tokens.consume('ztjt_unknown'))).toBe('ZTMESH_CA_TOKEN_INVALID');
    expect(await codeOf(tokens.consume('not-a-join-token'))).toBe('ZTMESH_CA_TOKEN_INVALID');
  });

  it('stores only a hash of the token, sealed', async () => {
    const { tokens, file, ring } = store();
    const { token } = await tokens.create(ID, 600_000);
    const raw = readFileSync(file);
    expect(raw.includes(token)).toBe(false);
    const plain = unseal(raw, ring, file).toString('utf8');
    expect(plain).not.toContain(token);
    expect(plain).toContain(ID);
  });

  it('concurrent uses of one token: exactly one wins', async () => {
    const { tokens } = store();
    const { token } = await tokens.create(ID, 600_000);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => tokens.consume(token)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('keeps the other tokens when one is consumed', async () => {
    const { tokens } = store();
    const a = await tokens.create(ID, 600_000);
    const b = await tokens.create('spiffe://tokens.test/other', 600_000);
    expect(await tokens.consume(a.token)).toBe(ID);
    expect(await tokens.consume(b.token)).toBe('spiffe://tokens.test/other');
  });
});
