import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../core/config/load.ts';
import { errorCode } from '../../core/errors/mesh-error.ts';
import { anomalyConfig, anomalyConfigSchema } from './anomaly-config.ts';

describe('anomaly config', () => {
  it('is off by default with minutes of learning and no response', () => {
    const c = anomalyConfig();
    expect(c.enabled).toBe(false);
    expect(c.learningPeriod).toBe(600_000);
    expect(c.response.action).toBe('none');
  });

  it('parses durations and the response', () => {
    const c = validateConfig(anomalyConfigSchema, { enabled: true, learningPeriod: '30s', alertCooldown: '1m', response: { action: 'quarantine', duration: '15m' } }, 'sidecar.yaml');
    expect(c.learningPeriod).toBe(30_000);
    expect(c.alertCooldown).toBe(60_000);
    expect(c.response).toMatchObject({ action: 'quarantine', duration: 900_000, throttleRps: 1 });
  });

  it('reports every bad key at once', () => {
    try {
      validateConfig(anomalyConfigSchema, { enabled: 'yes', learningPeriod: 'soon', treshold: 3, response: { action: 'ban' } }, 'sidecar.yaml');
      expect.unreachable();
    } catch (err) {
      expect(errorCode(err)).toBe('ZTMESH_CONFIG_INVALID');
      const paths = ((err as { details: { issues: { path: string }[] } }).details.issues).map((i) => i.path).sort();
      expect(paths).toEqual(['enabled', 'learningPeriod', 'response.action', 'treshold']);
    }
  });
});
