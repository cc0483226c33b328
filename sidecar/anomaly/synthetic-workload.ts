/**
 * A synthetic but realistic inbound workload for replaying through the anomaly detector: seeded,
 * so a replay is exactly repeatable. Normal callers have a base rate that drifts over the day,
 * page-load bursts (a fan-out of several calls within a second), idle stretches, ids in paths,
 * an occasional 404/401/5xx, and log-normal response sizes. Attacks are generated separately and
 * merged in: a path scanner, a credential-stuffing burst, a slow exfiltration.
 */

export interface ReplayEvent {
  readonly t: number;
  readonly caller: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly responseBytes: number;
  /** Which attack this request belongs to, undefined for normal traffic. */
  readonly attack?: string;
}

/** mulberry32: a small, fast, seeded PRNG (uniform in [0, 1)). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function poisson(rand: () => number, lambda: number): number {
  // Knuth, fine for the small rates used here.
  const l = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k++;
    p *= rand();
  } while (p > l && k < 1000);
  return k - 1;
}

function logNormal(rand: () => number, median: number, sigma: number): number {
  const u = Math.max(rand(), 1e-12);
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
  return Math.max(0, Math.round(median * Math.exp(sigma * z)));
}

export interface RouteProfile {
  readonly method: string;
  /** Path with `:id` (a number) or `:uuid` placeholders. */
  readonly path: string;
  readonly weight: number;
  readonly medianBytes: number;
}

export interface CallerProfile {
  readonly caller: string;
  /** Mean requests per second outside bursts. */
  readonly rate: number;
  /** Probability per second that a page-load burst starts, and its size range. */
  readonly burstChance: number;
  readonly burstSize: readonly [number, number];
  /** Fraction of seconds the caller is idle in (batch jobs, night). */
  readonly idleShare: number;
  readonly routes: readonly RouteProfile[];
}

function uuid(rand: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

function concretePath(rand: () => number, path: string): string {
  return path.replace(/:id/g, () => String(1 + Math.floor(rand() * 100_000))).replace(/:uuid/g, () => uuid(rand));
}

function pick(rand: () => number, routes: readonly RouteProfile[]): RouteProfile {
  const total = routes.reduce((s, r) => s + r.weight, 0);
  let x = rand() * total;
  for (const r of routes) {
    x -= r.weight;
    if (x < 0) return r;
  }
  return routes[routes.length - 1]!;
}

function normalStatus(rand: () => number, method: string): number {
  const x = rand();
  if (x < 0.01) return 404;
  if (x < 0.013) return 401; // an expired end-user token now and then
  if (x < 0.016) return 503;
  if (x < 0.02) return method === 'GET' ? 304 : 400;
  return method === 'POST' ? 201 : 200;
}

/** Normal traffic of `callers` over [start, start + durationMs), sorted by time. */
export function normalTraffic(seed: number, start: number, durationMs: number, callers: readonly CallerProfile[]): ReplayEvent[] {
  const rand = seededRandom(seed);
  const out: ReplayEvent[] = [];
  for (const c of callers) {
    let idleUntil = start;
    for (let s = 0; s < durationMs / 1000; s++) {
      const second = start + s * 1000;
      if (second < idleUntil) continue;
      if (rand() < c.idleShare / 60) {
        idleUntil = second + (30 + rand() * 600) * 1000; // an idle stretch of 30 s to 10 min
        continue;
      }
      // The rate drifts over a (compressed) day: x0.5 .. x1.5.
      const drift = 1 + 0.5 * Math.sin((2 * Math.PI * s) / 7200);
      let n = poisson(rand, c.rate * drift);
      if (rand() < c.burstChance) n += c.burstSize[0] + Math.floor(rand() * (c.burstSize[1] - c.burstSize[0] + 1));
      for (let i = 0; i < n; i++) {
        const r = pick(rand, c.routes);
        const status = normalStatus(rand, r.method);
        out.push({ t: second + Math.floor(rand() * 1000), caller: c.caller, method: r.method, path: concretePath(rand, r.path), status, responseBytes: status >= 300 ? 120 : logNormal(rand, r.medianBytes, 0.6) });
      }
    }
  }
  return out.sort((a, b) => a.t - b.t);
}

const SCANNER_WORDS = ['admin', '.env', '.git/config', 'wp-login.php', 'phpmyadmin', 'actuator/env', 'server-status', 'backup.zip', 'config.json', 'debug', 'console', 'api/v1/admin/users', 'graphql', 'swagger.json', '.aws/credentials'];

/** A path scanner: `count` requests at `rate` per second to well-known and random paths (mostly 404, some 403). */
export function scanner(seed: number, caller: string, start: number, count: number, rate: number): ReplayEvent[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => {
    const word = i < SCANNER_WORDS.length ? SCANNER_WORDS[i]! : `${Math.floor(rand() * 36 ** 6).toString(36)}${rand() < 0.5 ? '.php' : ''}`;
    return { t: start + Math.floor((i * 1000) / rate), caller, method: 'GET', path: `/${word}`, status: rand() < 0.9 ? 404 : 403, responseBytes: 90, attack: 'scanner' };
  });
}

/** Credential stuffing through a known login route: `count` POSTs at `rate` per second, nearly all 401. */
export function credentialStuffing(seed: number, caller: string, path: string, start: number, count: number, rate: number): ReplayEvent[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({ t: start + Math.floor((i * 1000) / rate), caller, method: 'POST', path, status: rand() < 0.98 ? 401 : 201, responseBytes: 60, attack: 'credential-stuffing' }));
}

/** Slow exfiltration: one request every `everyMs` to a route the caller never used, each answered 200 with a normal-sized body. */
export function slowExfiltration(seed: number, caller: string, path: string, start: number, count: number, everyMs: number): ReplayEvent[] {
  const rand = seededRandom(seed);
  return Array.from({ length: count }, (_, i) => ({ t: start + i * everyMs, caller, method: 'GET', path: concretePath(rand, path), status: 200, responseBytes: logNormal(rand, 2000, 0.3), attack: 'exfiltration' }));
}

/** Merges event lists by time. */
export function merge(...lists: readonly ReplayEvent[][]): ReplayEvent[] {
  return lists.flat().sort((a, b) => a.t - b.t);
}
