import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../core/telemetry/logger.ts';
import { Registry } from '../core/telemetry/metrics.ts';
import type { Anomaly } from '../sidecar/anomaly/anomaly.ts';
import { anomalyConfig } from '../sidecar/anomaly/anomaly-config.ts';
import { AnomalyDetector } from '../sidecar/anomaly/anomaly-detector.ts';
import { credentialStuffing, merge, normalTraffic, scanner, slowExfiltration, type CallerProfile, type ReplayEvent } from '../sidecar/anomaly/synthetic-workload.ts';

// Replays hours of synthetic normal traffic from six callers through the detector (defaults but a
// 10-minute learning period), then three attacks by stolen identities while normal traffic goes on.
// Reports the false-positive rate and each attack's detection delay; set ZTMESH_REPLAY_REPORT=FILE
// to write the figures as JSON.

const id = (sa: string) => `spiffe://mesh.test/ns/shop/sa/${sa}`;
const CALLERS: CallerProfile[] = [
  { caller: id('frontend'), rate: 3, burstChance: 0.05, burstSize: [5, 20], idleShare: 0.02, routes: [
    { method: 'GET', path: '/api/products/:id', weight: 5, medianBytes: 3000 }, { method: 'GET', path: '/api/products', weight: 2, medianBytes: 20_000 },
    { method: 'GET', path: '/api/cart', weight: 2, medianBytes: 1500 }, { method: 'POST', path: '/api/cart/items', weight: 1, medianBytes: 300 },
    { method: 'POST', path: '/api/session', weight: 0.3, medianBytes: 400 }] },
  { caller: id('mobile-bff'), rate: 2, burstChance: 0.08, burstSize: [3, 15], idleShare: 0.02, routes: [
    { method: 'GET', path: '/api/products/:id', weight: 4, medianBytes: 3000 }, { method: 'GET', path: '/api/orders/:uuid', weight: 2, medianBytes: 2500 },
    { method: 'POST', path: '/api/session', weight: 0.5, medianBytes: 400 }, { method: 'GET', path: '/api/users/:id/profile', weight: 1, medianBytes: 900 }] },
  { caller: id('orders'), rate: 1, burstChance: 0.02, burstSize: [2, 8], idleShare: 0.05, routes: [
    { method: 'GET', path: '/api/users/:id', weight: 3, medianBytes: 700 }, { method: 'GET', path: '/api/products/:id', weight: 3, medianBytes: 3000 },
    { method: 'POST', path: '/api/inventory/reserve', weight: 1, medianBytes: 200 }] },
  { caller: id('reporting'), rate: 0.3, burstChance: 0.01, burstSize: [20, 40], idleShare: 0.3, routes: [
    { method: 'GET', path: '/api/orders', weight: 1, medianBytes: 200_000 }, { method: 'GET', path: '/api/products', weight: 1, medianBytes: 20_000 }] },
  { caller: id('admin-console'), rate: 0.1, burstChance: 0.03, burstSize: [2, 6], idleShare: 0.1, routes: [
    { method: 'GET', path: '/api/users/:id', weight: 2, medianBytes: 700 }, { method: 'PUT', path: '/api/users/:id', weight: 0.5, medianBytes: 700 },
    { method: 'GET', path: '/api/audit', weight: 1, medianBytes: 8000 }] },
  { caller: id('search'), rate: 4, burstChance: 0.02, burstSize: [5, 10], idleShare: 0.01, routes: [
    { method: 'GET', path: '/api/products', weight: 1, medianBytes: 20_000 }, { method: 'GET', path: '/api/products/:id', weight: 3, medianBytes: 3000 }] },
];

const START = Date.parse('2026-03-02T08:00:00Z');
const HOUR = 3_600_000;
const LEARNING = 10 * 60_000;
const ATTACKS_AT = START + 3 * HOUR;

interface Detection {
  readonly attack: string;
  readonly caller: string;
  readonly kinds: string[];
  readonly delayRequests: number | undefined;
  readonly delaySeconds: number | undefined;
  /** Per kind raised: its own delay, in attack requests and seconds. */
  readonly byKind: Record<string, { requests: number; seconds: number }>;
}

function replay(events: readonly ReplayEvent[]) {
  let now = START;
  const fired: { anomaly: Anomaly; event: ReplayEvent }[] = [];
  let current: ReplayEvent | undefined;
  const detector = new AnomalyDetector({
    config: anomalyConfig({ enabled: true, learningPeriod: LEARNING }),
    logger: silentLogger(),
    registry: new Registry(),
    now: () => now,
    onAnomaly: (anomaly) => fired.push({ anomaly, event: current! }),
  });
  for (const e of events) {
    now = e.t;
    current = e;
    detector.observe(e.caller, e.method, e.path, e.status, e.responseBytes);
  }
  return { fired, detector };
}

function detection(attack: string, events: readonly ReplayEvent[], fired: readonly { anomaly: Anomaly; event: ReplayEvent }[]): Detection {
  const own = events.filter((e) => e.attack === attack);
  const caller = own[0]!.caller;
  const hits = fired.filter((f) => f.event.attack === attack);
  const first = hits[0];
  return {
    attack,
    caller,
    kinds: [...new Set(hits.map((h) => h.anomaly.kind))],
    delayRequests: first === undefined ? undefined : own.indexOf(first.event) + 1,
    delaySeconds: first === undefined ? undefined : (first.event.t - own[0]!.t) / 1000,
    byKind: Object.fromEntries(hits.filter((h, i) => hits.findIndex((x) => x.anomaly.kind === h.anomaly.kind) === i)
      .map((h) => [h.anomaly.kind, { requests: own.indexOf(h.event) + 1, seconds: (h.event.t - own[0]!.t) / 1000 }])),
  };
}

describe('anomaly detection replay', () => {
  const seed = Number(process.env['ZTMESH_REPLAY_SEED'] ?? 20260302);
  const normal = normalTraffic(seed, START, 4 * HOUR, CALLERS);
  const attacks = [
    scanner(1, id('reporting'), ATTACKS_AT, 300, 20),
    credentialStuffing(2, id('mobile-bff'), '/api/session', ATTACKS_AT + 10 * 60_000, 200, 25),
    slowExfiltration(3, id('orders'), '/api/customers/:id/payment-methods', ATTACKS_AT + 20 * 60_000, 90, 20_000),
  ];
  const events = merge(normal, ...attacks);
  const { fired, detector } = replay(events);

  it('raises no anomaly on hours of normal, bursty traffic (false-positive rate ~0)', () => {
    const afterLearning = normal.filter((e) => e.t >= START + LEARNING).length;
    const falsePositives = fired.filter((f) => f.event.attack === undefined);
    const rate = falsePositives.length / afterLearning;
    const detections = ['scanner', 'credential-stuffing', 'exfiltration'].map((a) => detection(a, events, fired));
    const report = { seed, normalRequests: normal.length, judgedRequests: afterLearning, falsePositives: falsePositives.length, falsePositiveRate: rate, falsePositiveKinds: falsePositives.map((f) => `${f.anomaly.kind} ${f.anomaly.caller} ${f.anomaly.method} ${f.anomaly.route}: ${f.anomaly.measure} ${f.anomaly.observed} vs ${f.anomaly.baseline}`), detections, callers: detector.callers };
    if (process.env['ZTMESH_REPLAY_REPORT']) writeFileSync(process.env['ZTMESH_REPLAY_REPORT'], `${JSON.stringify(report, null, 2)}\n`);
    expect(normal.length).toBeGreaterThan(100_000);
    expect(falsePositives.map((f) => f.anomaly)).toEqual([]);
  });

  it('detects a path scanner within a few requests', () => {
    const d = detection('scanner', events, fired);
    expect(d.delayRequests).toBeDefined();
    expect(d.delayRequests!).toBeLessThanOrEqual(5);
    expect(d.kinds).toEqual(expect.arrayContaining(['new-route', 'not-found-burst']));
  });

  it('detects a credential-stuffing burst of 401s on a route the caller uses', () => {
    const d = detection('credential-stuffing', events, fired);
    expect(d.kinds).toContain('auth-failures');
    expect(d.delayRequests!).toBeLessThanOrEqual(20);
  });

  it('detects a slow exfiltration from a route the caller never used, on its first request', () => {
    const d = detection('exfiltration', events, fired);
    expect(d.kinds).toEqual(['new-route']);
    expect(d.delayRequests).toBe(1);
  });
});
