import { describe, expect, it } from 'vitest';
import { MeshError } from '../errors/mesh-error.ts';
import { tracingConfigFromEnv } from './tracing-config.ts';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof MeshError ? err.code : 'not a MeshError';
  }
  return undefined;
}

describe('tracingConfigFromEnv', () => {
  it('is off unless an exporter or endpoint is configured, and off when disabled', () => {
    expect(tracingConfigFromEnv({}, 'svc')).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, 'svc')).toBeUndefined();
    expect(tracingConfigFromEnv({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }, 'svc')).toBeUndefined();
  });

  it('applies the specification defaults', () => {
    const c = tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp' }, 'ztmesh-sidecar');
    expect(c).toEqual({
      protocol: 'http/protobuf',
      url: 'http://localhost:4318/v1/traces',
      serviceName: 'ztmesh-sidecar',
      resourceAttributes: {},
      sampling: { root: 'always_on', ratio: 1, parentBased: true },
      batch: { scheduledDelayMillis: 5000, exportTimeoutMillis: 30000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('derives the endpoint per protocol; the signal-specific variables win', () => {
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }, 's')?.url).toBe('http://collector:4318/v1/traces');
    expect(tracingConfigFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 's')).toMatchObject({ protocol: 'grpc', url: 'http://collector:4317' });
    expect(
      tracingConfigFromEnv(
        { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:2/custom' },
        's',
      ),
    ).toMatchObject({ protocol: 'http/protobuf', url: 'http://b:2/custom' });
  });

  it('reads the sampler, service name, resource attributes and batch settings', () => {
    const c = tracingConfigFromEnv(
      {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
        OTEL_SERVICE_NAME: 'items',
        OTEL_RESOURCE_ATTRIBUTES: 'k8s.namespace.name=shop,team=a%20b',
        OTEL_BSP_SCHEDULE_DELAY: '200',
        OTEL_BSP_MAX_QUEUE_SIZE: '100',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '500',
        OTEL_BSP_EXPORT_TIMEOUT: '1000',
      },
      'svc',
    );
    expect(c).toMatchObject({
      serviceName: 'items',
      resourceAttributes: { 'k8s.namespace.name': 'shop', team: 'a b' },
      sampling: { root: 'traceidratio', ratio: 0.1, parentBased: true },
      batch: { scheduledDelayMillis: 200, exportTimeoutMillis: 1000, maxQueueSize: 100, maxExportBatchSize: 100 },
    });
    expect(tracingConfigFromEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'always_off' }, 's')?.sampling).toEqual({ root: 'always_off', ratio: 1, parentBased: false });
  });

  it('reports every invalid variable at once with ZTMESH_CONFIG_INVALID', () => {
    const env = {
      OTEL_TRACES_EXPORTER: 'zipkin',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://x',
      OTEL_TRACES_SAMPLER: 'jaeger_remote',
      OTEL_TRACES_SAMPLER_ARG: '1.5',
      OTEL_BSP_MAX_QUEUE_SIZE: '-1',
    };
    expect(codeOf(() => tracingConfigFromEnv(env, 's'))).toBe('ZTMESH_CONFIG_INVALID');
    try {
      tracingConfigFromEnv(env, 's');
    } catch (err) {
      const paths = ((err as MeshError).details?.['issues'] as { path: string }[]).map((i) => i.path);
      expect(paths.sort()).toEqual(Object.keys(env).sort());
    }
  });
});
