import { z } from 'zod';

/**
 * The Helm chart's values (charts/ztmesh/values.yaml), as one zod schema. The chart's
 * values.schema.json is generated from it (scripts/gen-chart-schema.ts; a test keeps them equal), and
 * the CLI's `ztmesh inject --values FILE` validates a values file with it.
 */
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/, 'a Kubernetes quantity like 100m, 1, 128Mi');
const port = z.int().min(1).max(65535);
const resources = z.strictObject({
  requests: z.strictObject({ cpu: quantity, memory: quantity }),
  limits: z.strictObject({ cpu: quantity, memory: quantity }),
});
const duration = z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/, 'a duration like 30s, 10m, 1h');
const cidr = z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, 'a CIDR like 10.0.0.0/8');

export const chartValuesSchema = z.strictObject({
  image: z.strictObject({
    repository: z.string().min(1),
    tag: z.string().min(1),
    pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  }),
  imagePullSecrets: z.array(z.strictObject({ name: z.string().min(1) })),
  trustDomain: z.string().regex(/^[a-z0-9._-]+$/, 'a SPIFFE trust domain: lowercase letters, digits, dots, dashes, underscores'),
  ca: z.strictObject({
    replicas: z.int().min(1),
    port,
    certTTL: duration,
    resources,
    /** More `ztmesh ca serve` flags, appended to the chart's. */
    extraArgs: z.array(z.string()),
    /**
     * The CA's sealed keys (the files of a `ztmesh ca init` directory) and the seal key. With
     * create: false (the default) they are Secrets created before install (docs/install.md).
     */
    secrets: z.strictObject({
      create: z.boolean(),
      sealKey: z.string(),
      files: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), z.string()),
    }),
  }),
  operator: z.strictObject({
    replicas: z.int().min(1),
    resources,
    /** The gRPC port on which sidecars subscribe to their policies. */
    distributionPort: port,
    webhook: z.strictObject({
      port,
      failurePolicy: z.enum(['Fail', 'Ignore']),
      timeoutSeconds: z.int().min(1).max(30),
    }),
  }),
  proxy: z.strictObject({
    uid: z.int().min(1),
    resources,
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    drainGracePeriod: duration,
    ports: z.strictObject({ inbound: port, outbound: port, admin: port }),
    ipv6: z.boolean(),
  }),
  interception: z.strictObject({
    excludeInboundPorts: z.array(port),
    excludeOutboundPorts: z.array(port),
    excludeOutboundCidrs: z.array(cidr),
    includeOutboundCidrs: z.array(z.union([z.literal('*'), cidr])).min(1),
  }),
  networkPolicy: z.strictObject({
    enabled: z.boolean(),
    /** Where the Kubernetes API server lives (the operator and the CA must reach it). */
    apiServerCidrs: z.array(cidr),
    apiServerPort: port,
  }),
  podDisruptionBudget: z.strictObject({ enabled: z.boolean() }),
  /**
   * The mesh dashboard and merged API inventory, served by the operator from what the sidecars
   * report on their policy streams (`--dashboard-listen`), through a ClusterIP Service, with the
   * bearer token (key `token`) of an existing Secret. Off by default.
   */
  dashboard: z.strictObject({
    enabled: z.boolean(),
    port,
    tokenSecret: z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'a Secret name'),
  }),
});

export type ChartValues = z.output<typeof chartValuesSchema>;

/** The JSON Schema committed as charts/ztmesh/values.schema.json. */
export function renderValuesJsonSchema(): string {
  const schema = z.toJSONSchema(chartValuesSchema, { target: 'draft-7' });
  return `${JSON.stringify(schema, null, 2)}\n`;
}
