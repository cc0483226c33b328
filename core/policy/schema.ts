import { z } from 'zod';
import { cidrError } from './cidr.ts';
import { pathPatternError } from './path-match.ts';
import { principalPatternError } from './principal-match.ts';
import { stringPatternError } from './string-match.ts';
import { parseWhenKey } from './when-key.ts';

/**
 * The `AuthorizationPolicy` document, `apiVersion: ztmesh.io/v1alpha1`, with Istio's
 * `security.istio.io/v1` field names and semantics for the supported subset. Strict objects
 * throughout: an unknown field (a typo, or an Istio feature we do not support such as CUSTOM or
 * remoteIpBlocks) is an error, never silently ignored. No transforms, so `z.toJSONSchema` can
 * produce the CRD's openAPIV3Schema (see `authorizationPolicyJsonSchema`).
 */

export const API_VERSION = 'ztmesh.io/v1alpha1';
export const DRY_RUN_ANNOTATIONS = ['ztmesh.io/dry-run', 'istio.io/dry-run'] as const;

const NOT_EMPTY = 'must not be empty (omit the field to match anything)';

function checked(check: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const err = check(value);
    if (err !== undefined) ctx.addIssue({ code: 'custom', message: err });
  });
}

function list(item: z.ZodType<string>) {
  return z.array(item).min(1, NOT_EMPTY);
}

const stringPattern = checked(stringPatternError);
const principalPattern = checked(principalPatternError);
const ipBlock = checked(cidrError);
const pathPattern = checked(pathPatternError);
const methodPattern = checked((v) => stringPatternError(v) ?? (/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not an HTTP method`));
const hostPattern = checked((v) => stringPatternError(v) ?? (/^[A-Za-z0-9.\-:*[\]_]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not a host name`));
const namespacePattern = checked((v) => stringPatternError(v) ?? (/^[a-z0-9\-*]+$/.test(v) ? undefined : `${JSON.stringify(v)} is not a namespace name`));

function portError(v: string | number): string | undefined {
  const n = typeof v === 'number' ? v : /^\d{1,5}$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 1 && n <= 65535 ? undefined : `${JSON.stringify(v)} is not a port number 1..65535`;
}
const port = z.union([z.string(), z.number()], { error: 'must be a port number, as a string ("8080") or an integer' }).superRefine((value, ctx) => {
  const err = portError(value);
  if (err !== undefined) ctx.addIssue({ code: 'custom', message: err });
});

function atLeastOneField(what: string) {
  return (value: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (Object.keys(value).length === 0) ctx.addIssue({ code: 'custom', message: `${what} must set at least one field` });
  };
}

export const sourceSchema = z
  .strictObject({
    principals: list(principalPattern).optional(),
    notPrincipals: list(principalPattern).optional(),
    requestPrincipals: list(stringPattern).optional(),
    notRequestPrincipals: list(stringPattern).optional(),
    namespaces: list(namespacePattern).optional(),
    notNamespaces: list(namespacePattern).optional(),
    ipBlocks: list(ipBlock).optional(),
    notIpBlocks: list(ipBlock).optional(),
  })
  .superRefine(atLeastOneField('source'));

export const operationSchema = z
  .strictObject({
    methods: list(methodPattern).optional(),
    notMethods: list(methodPattern).optional(),
    paths: list(pathPattern).optional(),
    notPaths: list(pathPattern).optional(),
    ports: z.array(port).min(1, NOT_EMPTY).optional(),
    notPorts: z.array(port).min(1, NOT_EMPTY).optional(),
    hosts: list(hostPattern).optional(),
    notHosts: list(hostPattern).optional(),
  })
  .superRefine(atLeastOneField('operation'));

export const conditionSchema = z
  .strictObject({
    key: z.string(),
    values: z.array(z.string()).min(1, NOT_EMPTY).optional(),
    notValues: z.array(z.string()).min(1, NOT_EMPTY).optional(),
  })
  .superRefine((cond, ctx) => {
    const key = parseWhenKey(cond.key);
    if (typeof key === 'string') {
      ctx.addIssue({ code: 'custom', message: key, path: ['key'] });
      return;
    }
    if (cond.values === undefined && cond.notValues === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a condition needs values or notValues' });
    }
    for (const field of ['values', 'notValues'] as const) {
      (cond[field] ?? []).forEach((value, i) => {
        const err =
          key.kind === 'sourceIp' ? cidrError(value)
          : key.kind === 'destinationPort' ? portError(value)
          : key.kind === 'sourcePrincipal' ? principalPatternError(value)
          : stringPatternError(value);
        if (err !== undefined) ctx.addIssue({ code: 'custom', message: err, path: [field, i] });
      });
    }
  });

export const ruleSchema = z.strictObject({
  from: z.array(z.strictObject({ source: sourceSchema })).min(1, NOT_EMPTY).optional(),
  to: z.array(z.strictObject({ operation: operationSchema })).min(1, NOT_EMPTY).optional(),
  when: z.array(conditionSchema).min(1, NOT_EMPTY).optional(),
});

const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS-1123 label (lowercase letters, digits, "-")');
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain (lowercase letters, digits, "-", ".")');
const labelKey = z.string().regex(/^([a-z0-9.-]{1,253}\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'is not a valid label key');
const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, 'is not a valid label value');

export const policyMetadataSchema = z
  .strictObject({
    name: dnsSubdomain,
    namespace: dnsLabel,
    labels: z.record(labelKey, labelValue).optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .superRefine((meta, ctx) => {
    for (const name of DRY_RUN_ANNOTATIONS) {
      const value = meta.annotations?.[name];
      if (value !== undefined && value !== 'true' && value !== 'false') {
        ctx.addIssue({ code: 'custom', message: `must be "true" or "false"`, path: ['annotations', name] });
      }
    }
  });

export const policySpecSchema = z.strictObject({
  selector: z.strictObject({ matchLabels: z.record(labelKey, labelValue) }).optional(),
  action: z.enum(['ALLOW', 'DENY', 'AUDIT'], { error: 'must be ALLOW, DENY or AUDIT (CUSTOM is not supported)' }).default('ALLOW'),
  rules: z.array(ruleSchema).optional(),
});

export const authorizationPolicySchema = z.strictObject({
  apiVersion: z.literal(API_VERSION, { error: `must be ${API_VERSION} (Istio policies carry over with only the apiVersion changed)` }),
  kind: z.literal('AuthorizationPolicy', { error: 'must be AuthorizationPolicy' }),
  metadata: policyMetadataSchema,
  spec: policySpecSchema.default({ action: 'ALLOW' }),
});

export type AuthorizationPolicy = z.output<typeof authorizationPolicySchema>;
export type PolicyRule = z.output<typeof ruleSchema>;
export type PolicySource = z.output<typeof sourceSchema>;
export type PolicyOperation = z.output<typeof operationSchema>;
export type PolicyCondition = z.output<typeof conditionSchema>;
export type PolicyAction = AuthorizationPolicy['spec']['action'];

/** True when the policy carries the dry-run annotation: evaluated and logged, never enforced. */
export function isDryRun(policy: AuthorizationPolicy): boolean {
  return DRY_RUN_ANNOTATIONS.some((name) => policy.metadata.annotations?.[name] === 'true');
}

/** "NS/NAME", how decisions, logs and the CLI name a policy. */
export function policyKey(policy: AuthorizationPolicy): string {
  return `${policy.metadata.namespace}/${policy.metadata.name}`;
}

/** JSON Schema of the document as written (defaults optional), for the CRD's openAPIV3Schema. */
export function authorizationPolicyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(authorizationPolicySchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
