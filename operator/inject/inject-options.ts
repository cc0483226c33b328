import { z } from 'zod';
import { validateConfig } from '../../core/config/load.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import type { ChartValues } from './values-schema.ts';

const port = z.int().min(1).max(65535);
const quantity = z.string().regex(/^[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/);

/**
 * What the injector needs to know, whoever calls it: the operator reads it from the ConfigMap the
 * chart renders (key `injector.yaml`), the CLI builds it from flags or a values file.
 */
export const injectOptionsSchema = z.strictObject({
  image: z.string().min(1),
  imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']),
  version: z.string().min(1),
  trustDomain: z.string().regex(/^[a-z0-9._-]+$/),
  ca: z.strictObject({
    address: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port'),
    identity: z.string().startsWith('spiffe://'),
    bundleConfigMap: z.string().min(1),
    tokenAudience: z.string().min(1),
    tokenExpirationSeconds: z.int().min(600),
    certTTL: z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/),
  }),
  proxy: z.strictObject({
    uid: z.int().min(1),
    requests: z.strictObject({ cpu: quantity, memory: quantity }),
    limits: z.strictObject({ cpu: quantity, memory: quantity }),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']),
    drainGracePeriod: z.string().regex(/^\d+(\.\d+)?(ms|s|m|h|d)$/),
    ports: z.strictObject({ inbound: port, outbound: port, admin: port }),
    ipv6: z.boolean(),
  }),
  /**
   * Where injected sidecars take their policies: absent, from the namespace's optional
   * ztmesh-policies ConfigMap (a file); present, pushed by the operator's distribution service.
   */
  control: z
    .strictObject({
      address: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'host:port'),
      identity: z.string().startsWith('spiffe://'),
    })
    .optional(),
  interception: z.strictObject({
    excludeInboundPorts: z.array(port),
    excludeOutboundPorts: z.array(port),
    excludeOutboundCidrs: z.array(z.string()),
    includeOutboundCidrs: z.array(z.string()).min(1),
  }),
});

export type InjectOptions = z.output<typeof injectOptionsSchema>;

/** Validates injector options (from a ConfigMap, a file or flags) once; the result is frozen. */
export function parseInjectOptions(value: unknown, source: string): InjectOptions {
  try {
    return validateConfig(injectOptionsSchema, value, source);
  } catch (err) {
    throw new MeshError('ZTMESH_INJECT_BAD_OPTIONS', err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/**
 * The injector options the chart renders for a release in `namespace`: the same mapping as
 * templates/operator.yaml's ConfigMap (a test renders the chart and compares). `policies`:
 * 'operator' (what the chart's webhook uses) renders `control` with the operator's Service;
 * 'configmap' (the default, for offline `ztmesh inject`) keeps the namespace's policy ConfigMap.
 */
export function injectOptionsFromValues(values: ChartValues, namespace: string, policies: 'operator' | 'configmap' = 'configmap'): InjectOptions {
  return parseInjectOptions(
    {
      image: `${values.image.repository}:${values.image.tag}`,
      imagePullPolicy: values.image.pullPolicy,
      version: values.image.tag,
      trustDomain: values.trustDomain,
      ca: {
        address: `ztmesh-ca.${namespace}.svc:${values.ca.port}`,
        identity: `spiffe://${values.trustDomain}/ns/${namespace}/sa/ztmesh-ca`,
        bundleConfigMap: 'ztmesh-ca-bundle',
        tokenAudience: 'ztmesh-ca',
        tokenExpirationSeconds: 3600,
        certTTL: values.ca.certTTL,
      },
      proxy: {
        uid: values.proxy.uid,
        requests: values.proxy.resources.requests,
        limits: values.proxy.resources.limits,
        logLevel: values.proxy.logLevel,
        drainGracePeriod: values.proxy.drainGracePeriod,
        ports: values.proxy.ports,
        ipv6: values.proxy.ipv6,
      },
      ...(policies === 'operator'
        ? { control: { address: `ztmesh-operator.${namespace}.svc:${values.operator.distributionPort}`, identity: `spiffe://${values.trustDomain}/ns/${namespace}/sa/ztmesh-operator` } }
        : {}),
      interception: values.interception,
    },
    'chart values',
  );
}
