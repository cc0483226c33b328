import { z } from 'zod';
import { validateConfig } from '../config/load.ts';
import type { SamplingPolicy } from './trace-sampling.ts';

/** Batch span processor settings (OTEL_BSP_*), in milliseconds and spans. */
export interface BatchSettings {
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
}

/** Tracing as configured by the standard OTEL_* environment variables, validated and frozen. */
export interface TracingConfig {
  readonly protocol: 'grpc' | 'http/protobuf';
  /** Full export URL: for gRPC the collector's address, for HTTP the `/v1/traces` endpoint. */
  readonly url: string;
  readonly serviceName: string;
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampling: SamplingPolicy;
  readonly batch: BatchSettings;
}

const intFromEnv = (min: number) =>
  z
    .string()
    .regex(/^\s*\d+\s*$/, 'must be a whole number')
    .transform((s) => Number(s.trim()))
    .pipe(z.number().int().min(min).max(2_147_483_647));

const urlFromEnv = z
  .string()
  .trim()
  .refine((s) => {
    try {
      const u = new URL(s);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL');

const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

const envSchema = z.object({
  OTEL_SDK_DISABLED: z.enum(['true', 'false', 'TRUE', 'FALSE', '']).optional(),
  OTEL_TRACES_EXPORTER: z
    .string()
    .trim()
    .refine((s) => s === 'otlp' || s === 'none' || s === '', "only 'otlp' and 'none' are supported")
    .optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['grpc', 'http/protobuf'], { message: "must be 'grpc' or 'http/protobuf'" }).optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.enum(['grpc', 'http/protobuf'], { message: "must be 'grpc' or 'http/protobuf'" }).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlFromEnv.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: urlFromEnv.optional(),
  OTEL_TRACES_SAMPLER: z.enum(SAMPLERS, { message: `must be one of ${SAMPLERS.join(', ')}` }).optional(),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .trim()
    .refine((s) => s !== '' && Number.isFinite(Number(s)) && Number(s) >= 0 && Number(s) <= 1, 'must be a number from 0 to 1')
    .optional(),
  OTEL_SERVICE_NAME: z.string().trim().min(1).max(255).optional(),
  OTEL_RESOURCE_ATTRIBUTES: z
    .string()
    .refine((s) => parseResourceAttributes(s) !== undefined, 'must be a comma-separated list of key=value pairs')
    .optional(),
  OTEL_BSP_SCHEDULE_DELAY: intFromEnv(0).optional(),
  OTEL_BSP_EXPORT_TIMEOUT: intFromEnv(1).optional(),
  OTEL_BSP_MAX_QUEUE_SIZE: intFromEnv(1).optional(),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: intFromEnv(1).optional(),
});

function parseResourceAttributes(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const raw of text.split(',')) {
    const member = raw.trim();
    if (member === '') continue;
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      out[decodeURIComponent(member.slice(0, eq).trim())] = decodeURIComponent(member.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return out;
}

function httpTracesUrl(base: string): string {
  return base.endsWith('/') ? `${base}v1/traces` : `${base}/v1/traces`;
}

/**
 * Reads the OTEL_* variables from `env` (normally `process.env`). Returns undefined when tracing is
 * off: OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none, or neither OTEL_TRACES_EXPORTER=otlp
 * nor an OTLP endpoint is set (a sidecar does not dial a collector nobody configured). Defaults
 * follow the OpenTelemetry specification: http/protobuf, parentbased_always_on, BSP 5000 ms /
 * 30000 ms / 2048 / 512. Invalid values throw ZTMESH_CONFIG_INVALID naming every bad variable.
 */
export function tracingConfigFromEnv(env: Readonly<Record<string, string | undefined>>, defaultServiceName: string): TracingConfig | undefined {
  const picked: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = env[key];
    if (value !== undefined) picked[key] = value;
  }
  const e = validateConfig(envSchema, picked, 'the OTEL_* environment');
  if (e.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  const exporter = e.OTEL_TRACES_EXPORTER === '' ? undefined : e.OTEL_TRACES_EXPORTER;
  if (exporter === 'none') return undefined;
  if (exporter === undefined && e.OTEL_EXPORTER_OTLP_ENDPOINT === undefined && e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT === undefined) return undefined;

  const protocol = e.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? e.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf';
  let url: string;
  if (e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined) url = e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  else if (e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined) url = protocol === 'grpc' ? e.OTEL_EXPORTER_OTLP_ENDPOINT : httpTracesUrl(e.OTEL_EXPORTER_OTLP_ENDPOINT);
  else url = protocol === 'grpc' ? 'http://localhost:4317' : 'http://localhost:4318/v1/traces';

  const sampler = e.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on';
  const parentBased = sampler.startsWith('parentbased_');
  const root = (parentBased ? sampler.slice('parentbased_'.length) : sampler) as SamplingPolicy['root'];
  const ratio = e.OTEL_TRACES_SAMPLER_ARG === undefined ? 1 : Number(e.OTEL_TRACES_SAMPLER_ARG);

  const maxQueueSize = e.OTEL_BSP_MAX_QUEUE_SIZE ?? 2048;
  const resourceAttributes = e.OTEL_RESOURCE_ATTRIBUTES === undefined ? {} : (parseResourceAttributes(e.OTEL_RESOURCE_ATTRIBUTES) ?? {});
  return Object.freeze({
    protocol,
    url,
    serviceName: e.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? defaultServiceName,
    resourceAttributes: Object.freeze(resourceAttributes),
    sampling: Object.freeze({ root, ratio, parentBased }),
    batch: Object.freeze({
      scheduledDelayMillis: e.OTEL_BSP_SCHEDULE_DELAY ?? 5000,
      exportTimeoutMillis: e.OTEL_BSP_EXPORT_TIMEOUT ?? 30000,
      maxQueueSize,
      // The spec: a batch larger than the queue is clamped to the queue size.
      maxExportBatchSize: Math.min(e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE ?? 512, maxQueueSize),
    }),
  });
}
