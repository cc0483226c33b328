import { describe, expect, it } from 'vitest';
import { Registry } from '../../core/telemetry/metrics.ts';
import { fakeRequestInfo } from '../telemetry/fake-request-info.ts';
import type { Anomaly } from './anomaly.ts';
import { anomalyConfig, type AnomalyConfig } from './anomaly-config.ts';
import { AnomalyDetector } from './anomaly-detector.ts';
import { memoryLogger } from './fake-log.ts';

const ALICE = 'spiffe://mesh.test/ns/web/sa/frontend';
const MALLORY = 'spiffe://mesh.test/ns/web/sa/stolen';

function setup(overrides: Parameters<typeof anomalyConfig>[0] = {}) {
  let t = 1_700_000_000_000;
  const registry = new Registry();
  const { logger, lines } = memoryLogger();
  const seen: Anomaly[] = [];
  const config: AnomalyConfig = anomalyConfig({ enabled: true, learningPeriod: '60s', minLearningRequests: 30, alertCooldown: '5m', ...overrides });
  const detector = new AnomalyDetector({ config, logger, registry, now: () => t, onAnomaly: (a) => seen.push(a) });
  const clock = { advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms), get: () => t };
  return { detector, registry, lines, seen, clock };
}

/** Two minutes of steady traffic: 2 requests per second on two routes, small JSON answers. */
function learn(d: AnomalyDetector, clock: { advance(ms: number): number }, caller = ALICE, seconds = 120): void {
  for (let s = 0; s < seconds; s++) {
    d.observe(caller, 'GET', `/users/${s}`, 200, 800);
    d.observe(caller, 'GET', '/items', s % 25 === 0 ? 404 : 200, 1200);
    clock.advance(1000);
  }
}

describe('AnomalyDetector', () => {
  it('raises nothing while learning, nor on more of the same afterwards', () => {
    const { detector, clock, seen } = setup();
    detector.observe(ALICE, 'DELETE', '/admin', 500, 10); // odd, but during learning
    learn(detector, clock, ALICE, 600);
    expect(seen).toEqual([]);
  });

  it('reports a new route and a new method of a learned caller, once per cooldown', () => {
    const { detector, clock, seen, lines, registry } = setup();
    learn(detector, clock);
    detector.observe(ALICE, 'GET', '/export/all-customers', 200, 900);
    detector.observe(ALICE, 'GET', '/export/other', 200, 900);
    detector.observe(ALICE, 'DELETE', '/items', 204, 0);
    expect(seen.map((a) => [a.kind, a.method, a.route])).toEqual([['new-route', 'GET', '/export/all-customers'], ['new-method', 'DELETE', '/items']]);
    const line = lines().find((l) => l['type'] === 'anomaly')!;
    expect(line).toMatchObject({ level: 'warn', type: 'anomaly', kind: 'new-route', caller: ALICE, route: '/export/all-customers' });
    expect(registry.render()).toContain('ztmesh_anomalies_total{kind="new-route"} 1');
    expect(registry.render()).toContain('ztmesh_anomalies_suppressed_total{kind="new-route"} 1');
  });

  it('keeps the most recent alerts, newest first, bounded', () => {
    const { detector, clock } = setup({ alertCooldown: 0 });
    learn(detector, clock);
    for (const route of ['/a', '/b', '/c']) detector.observe(ALICE, 'GET', route, 200, 10);
    expect(detector.recent().map((a) => a.route)).toEqual(['/c', '/b', '/a']);
    const small = setup();
    const bounded = new AnomalyDetector({ config: anomalyConfig({ enabled: true, learningPeriod: 0, minLearningRequests: 1, alertCooldown: 0 }), logger: memoryLogger().logger, registry: new Registry(), keepRecent: 2, now: small.clock.get });
    for (const route of ['/x', '/a', '/b', '/c']) bounded.observe(ALICE, 'GET', route, 200, 10);
    expect(bounded.recent().map((a) => a.route)).toEqual(['/c', '/b']);
  });

  it('reports a burst of 401s (credential stuffing) within minErrors requests', () => {
    const { detector, clock, seen } = setup();
    learn(detector, clock);
    let n = 0;
    while (seen.length === 0 && n < 100) {
      detector.observe(ALICE, 'POST', '/items', 401, 40); // new-method is the first signal here...
      n++;
      clock.advance(50);
    }
    const stuffing = setup();
    learn(stuffing.detector, stuffing.clock);
    let m = 0;
    while (!stuffing.seen.some((a) => a.kind === 'auth-failures') && m < 100) {
      stuffing.detector.observe(ALICE, 'GET', '/items', 401, 40);
      m++;
      stuffing.clock.advance(50);
    }
    expect(seen[0]!.kind).toBe('new-method');
    expect(m).toBeLessThanOrEqual(12);
    const a = stuffing.seen.find((x) => x.kind === 'auth-failures')!;
    expect(a.observed).toBeGreaterThanOrEqual(0.5);
    expect(a.baseline).toBe(0);
  });

  it('reports a rate far above the learned one and its bursts, with the baseline', () => {
    const { detector, clock, seen } = setup();
    learn(detector, clock);
    for (let i = 0; i < 80; i++) detector.observe(ALICE, 'GET', '/items', 200, 1200);
    const rate = seen.find((a) => a.kind === 'rate')!;
    expect(rate).toBeDefined();
    expect(rate.baseline).toBeGreaterThan(0.5);
    expect(rate.baseline).toBeLessThan(3);
    expect(rate.measure).toBe('requests per 1s');
  });

  it('reports a response far larger than the route usually returns', () => {
    const { detector, clock, seen } = setup();
    learn(detector, clock);
    detector.observe(ALICE, 'GET', '/items', 200, 5_000_000);
    expect(seen.map((a) => a.kind)).toEqual(['payload-size']);
    expect(seen[0]!.observed).toBe(5_000_000);
  });

  it('does not fire on clock jumps, backward or forward', () => {
    const { detector, clock, seen } = setup();
    learn(detector, clock);
    clock.advance(-3_600_000);
    learn(detector, clock, ALICE, 30);
    clock.advance(86_400_000);
    learn(detector, clock, ALICE, 30);
    clock.advance(-86_400_000 * 30);
    learn(detector, clock, ALICE, 30);
    expect(seen).toEqual([]);
  });

  it('does not end a learning period early on a forward clock jump', () => {
    const { detector, clock, seen } = setup({ learningPeriod: '5m' });
    learn(detector, clock, MALLORY, 20); // 40 requests in 20 s; the jump counts as maxClockStep (60 s), not 1 h
    clock.advance(3_600_000);
    for (let i = 0; i < 40; i++) detector.observe(MALLORY, 'GET', `/probe/${i}x`, 404, 10);
    expect(seen).toEqual([]);
  });

  it('bounds memory: callers beyond maxCallers evict the least recently seen', () => {
    const { detector, clock, registry } = setup({ maxCallers: 100, maxRoutesPerCaller: 8 });
    for (let i = 0; i < 1000; i++) {
      detector.observe(`spiffe://mesh.test/ns/x/sa/c${i}`, 'GET', `/r/${i}x`, 200, 10);
      clock.advance(10);
    }
    expect(detector.callers).toBe(100);
    expect(registry.render()).toContain('ztmesh_anomaly_callers_evicted_total 900');
    expect(registry.render()).toContain('ztmesh_anomaly_callers 100');
  });

  it('only observes inbound requests, and nothing when disabled', () => {
    const on = setup();
    on.detector.start(fakeRequestInfo({ direction: 'outbound' })).end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(on.detector.callers).toBe(0);
    on.detector.start(fakeRequestInfo()).end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(on.detector.callers).toBe(1);
    const off = setup({ enabled: false });
    off.detector.start(fakeRequestInfo()).end({ status: 200, errorCode: undefined, requestBytes: 0, responseBytes: 0 });
    expect(off.detector.callers).toBe(0);
  });

  it('quarantines a caller when configured, with expiry, release, and an audit line per action', () => {
    const { detector, clock, lines } = setup({ response: { action: 'quarantine', duration: '10m', kinds: ['auth-failures'] } });
    learn(detector, clock);
    learn(detector, clock, MALLORY);
    for (let i = 0; i < 20; i++) detector.observe(MALLORY, 'GET', '/items', 401, 40);
    expect(detector.responder.isQuarantined(MALLORY)).toBe(true);
    expect(detector.responder.isQuarantined(ALICE)).toBe(false);
    expect(detector.responder.throttleFor(MALLORY)).toBeUndefined();
    clock.advance(86_400_000); // a clock jump does not lift it...
    expect(detector.responder.isQuarantined(MALLORY)).toBe(true);
    for (let i = 0; i < 11; i++) clock.advance(60_000) && detector.responder.isQuarantined(MALLORY);
    expect(detector.responder.isQuarantined(MALLORY)).toBe(false); // ...ten minutes of observed time do
    const audit = lines().filter((l) => l['type'] === 'audit').map((l) => l['event']);
    expect(audit).toEqual(['anomaly-response-applied', 'anomaly-response-expired']);
  });

  it('throttles when configured, and release lifts it early', () => {
    const { detector, clock, lines } = setup({ response: { action: 'throttle', throttleRps: 2, kinds: ['rate'] } });
    learn(detector, clock);
    for (let i = 0; i < 80; i++) detector.observe(ALICE, 'GET', '/items', 200, 1200);
    expect(detector.responder.throttleFor(ALICE)).toBe(2);
    expect(detector.responder.list()).toMatchObject([{ principal: ALICE, action: 'throttle', kind: 'rate' }]);
    expect(detector.responder.release(ALICE)).toBe(true);
    expect(detector.responder.throttleFor(ALICE)).toBeUndefined();
    expect(lines().filter((l) => l['type'] === 'audit').map((l) => l['event'])).toEqual(['anomaly-response-applied', 'anomaly-response-released']);
  });
});
