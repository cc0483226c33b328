import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { MeshError } from '../core/errors/mesh-error.ts';
import { isLoopbackHost } from '../sidecar/config/host-port.ts';

export const TOKEN_COOKIE = 'ztmesh_dashboard_token';
const MIN_TOKEN_CHARS = 16;

/** Reads a bearer token file: one line of at least 16 printable ASCII characters (trailing newline allowed). */
export async function loadToken(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_DASHBOARD_BAD_TOKEN_FILE', `cannot read --token-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.length < MIN_TOKEN_CHARS || !/^[\x21-\x7e]+$/.test(token)) {
    // Never echo the file's content: it is (meant to be) a secret.
    throw new MeshError('ZTMESH_DASHBOARD_BAD_TOKEN_FILE', `--token-file ${file} must hold one line of at least ${MIN_TOKEN_CHARS} printable characters, no spaces`);
  }
  return token;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Who may use the dashboard. With a token: requests must carry it as `Authorization: Bearer T`
 * or in the HttpOnly cookie the login link (`/?token=T`) sets; compared in constant time (digests
 * of equal length). Without one (loopback only), the Host header must name a loopback address, so a
 * web page elsewhere cannot reach the dashboard through DNS rebinding.
 */
export class AccessControl {
  readonly #digest: Buffer | undefined;

  constructor(token: string | undefined) {
    this.#digest = token === undefined ? undefined : digest(token);
  }

  get tokenRequired(): boolean {
    return this.#digest !== undefined;
  }

  /** True when `candidate` is the token (constant time). */
  matches(candidate: string): boolean {
    return this.#digest !== undefined && timingSafeEqual(digest(candidate), this.#digest);
  }

  allows(req: IncomingMessage): boolean {
    if (this.#digest === undefined) return loopbackHostHeader(req.headers.host);
    const auth = req.headers.authorization;
    if (auth !== undefined && /^bearer /i.test(auth)) return this.matches(auth.slice(7).trim());
    const fromCookie = cookie(req, TOKEN_COOKIE);
    if (fromCookie === undefined) return false;
    try {
      return this.matches(decodeURIComponent(fromCookie));
    } catch {
      return false;
    }
  }
}

/** `127.0.0.1:8090`, `localhost:8090`, `[::1]:8090` (port optional). */
export function loopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return isLoopbackHost(name.toLowerCase());
}
