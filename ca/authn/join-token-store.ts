import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { access } from 'node:fs/promises';
import { z } from 'zod';
import { validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { readSealedFile, writeSealedFile } from '../../core/seal/sealed-file.ts';
import type { SealKeyRing } from '../../core/seal/seal-key.ts';
import { parseSpiffeId, type SpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { withFileLock } from '../store/file-lock.ts';
import type { Clock } from '../issuer/x509-authority.ts';

const TOKEN_PREFIX = 'ztjt_';

const storeSchema = z.strictObject({
  version: z.literal(1),
  tokens: z.array(z.strictObject({ hash: z.string().regex(/^[0-9a-f]{64}$/), spiffeId: z.string(), expiresAt: z.number().int() })),
});
type StoreDoc = z.output<typeof storeSchema>;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function invalidToken(reason: string): MeshError {
  return new MeshError('ZTMESH_CA_TOKEN_INVALID', `join token refused: ${reason}`, { details: { reason } });
}

/**
 * One-time join tokens. Only a SHA-256 of each token is stored, in a sealed file in the CA
 * directory; a token is consumed atomically (under a file lock) on first use; expired entries are
 * pruned on every write.
 */
export class JoinTokenStore {
  readonly #file: string;
  readonly #ring: SealKeyRing;
  readonly #clock: Clock;

  constructor(options: { file: string; ring: SealKeyRing; clock?: Clock }) {
    this.#file = options.file;
    this.#ring = options.ring;
    this.#clock = options.clock ?? Date.now;
  }

  async #read(): Promise<StoreDoc> {
    const present = await access(this.#file).then(() => true, () => false);
    if (!present) return { version: 1, tokens: [] };
    const plain = await readSealedFile(this.#file, this.#ring);
    let doc: unknown;
    try {
      doc = JSON.parse(plain.toString('utf8'));
    } catch (err) {
      throw new MeshError('ZTMESH_CONFIG_INVALID', `${this.#file} does not hold a join token list`, { cause: err });
    }
    return validateConfig(storeSchema, doc, this.#file);
  }

  async #write(doc: StoreDoc): Promise<void> {
    const now = this.#clock();
    const kept = { version: 1, tokens: doc.tokens.filter((t) => t.expiresAt > now) };
    await writeSealedFile(this.#file, JSON.stringify(kept), this.#ring.primary);
  }

  /** Creates a token for `spiffeId`, valid for `ttlMs`; returns the token (shown once, never stored). */
  async create(spiffeId: SpiffeId | string, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    const id = parseSpiffeId(spiffeId).id;
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = this.#clock() + ttlMs;
    await withFileLock(`${this.#file}.lock`, async () => {
      const doc = await this.#read();
      await this.#write({ version: 1, tokens: [...doc.tokens, { hash: hashToken(token), spiffeId: id, expiresAt }] });
    });
    return { token, expiresAt };
  }

  /** Consumes a token: the SPIFFE ID it was made for, or ZTMESH_CA_TOKEN_INVALID (unknown, expired, already used). */
  async consume(token: string): Promise<SpiffeId> {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) throw invalidToken('not a join token');
    const hash = Buffer.from(hashToken(token), 'hex');
    return withFileLock(`${this.#file}.lock`, async () => {
      const doc = await this.#read();
      const index = doc.tokens.findIndex((t) => timingSafeEqual(Buffer.from(t.hash, 'hex'), hash));
      const entry = doc.tokens[index];
      if (entry === undefined) throw invalidToken('unknown or already used');
      const rest = doc.tokens.filter((_, i) => i !== index);
      await this.#write({ version: 1, tokens: rest });
      if (entry.expiresAt <= this.#clock()) throw invalidToken('expired');
      return parseSpiffeId(entry.spiffeId).id;
    });
  }
}
