import { z } from 'zod';
import { trustDomainError } from '../spiffe/spiffe-id.ts';
import { isSpiffeId } from '../spiffe/spiffe-id.ts';
import { rateLimitConfigSchema } from './rate-limit-config.ts';

/**
 * Mesh-wide settings that shape authorization. The one deliberate difference from Istio:
 * `defaultAction` (what happens when no ALLOW policy selects a workload) is DENY, zero trust;
 * set it to ALLOW to migrate Istio setups where that case allows.
 */
export const meshConfigSchema = z.strictObject({
  trustDomain: z
    .string()
    .default('cluster.local')
    .superRefine((td, ctx) => {
      const err = trustDomainError(td);
      if (err !== undefined) ctx.addIssue({ code: 'custom', message: err });
    }),
  /** Policies in this namespace apply to every workload of the mesh, as Istio's root namespace. */
  rootNamespace: z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label').default('ztmesh-system'),
  defaultAction: z.enum(['DENY', 'ALLOW'], { error: 'must be DENY or ALLOW' }).default('DENY'),
  /** Emergency revocation: refused at the handshake, open connections closed, denied by the evaluator. */
  denyList: z
    .strictObject({
      spiffeIds: z.array(z.string().refine(isSpiffeId, 'is not a SPIFFE ID')).default([]),
      serials: z.array(z.string().regex(/^(?:[0-9A-Fa-f]{2}:)*[0-9A-Fa-f]+$/, 'must be a hex certificate serial (colons allowed)')).default([]),
    })
    .default({ spiffeIds: [], serials: [] }),
  // Rate limits are opt-in: a mesh config without a `rateLimit` section limits nothing (platform
  // teams size buckets for their own traffic); writing the section turns them on with these defaults.
  rateLimit: rateLimitConfigSchema.default({
    enabled: false,
    perPrincipal: { requestsPerSecond: 1000, burst: 2000 },
    perSourceIp: { requestsPerSecond: 100, burst: 200 },
    routes: [],
    maxBuckets: 100_000,
  }),
  /** As Istio's meshConfig.pathNormalization; strict refuses %2F, %5C and raw backslashes. */
  pathNormalization: z.enum(['strict', 'base', 'decode-and-merge-slashes']).default('strict'),
});

export type MeshConfig = z.output<typeof meshConfigSchema>;

/** The mesh config with every default: what `policy explain` uses without --mesh-config. */
export function defaultMeshConfig(): MeshConfig {
  return meshConfigSchema.parse({});
}
