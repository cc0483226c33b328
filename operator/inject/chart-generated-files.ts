import { stringify } from 'yaml';
import { z } from 'zod';
import { meshConfigSchema } from '../../core/policy/mesh-config.ts';
import { API_VERSION, authorizationPolicyJsonSchema } from '../../core/policy/schema.ts';
import { renderValuesJsonSchema } from './values-schema.ts';

type Schema = Record<string, unknown>;

function isObject(value: unknown): value is Schema {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Turns a zod-generated JSON Schema into a Kubernetes structural schema (what a CRD's
 * openAPIV3Schema must be): no `$schema`/`propertyNames`/`const`; `properties` never together with
 * `additionalProperties` (the API server prunes unknown fields instead); a string-or-number union
 * becomes `x-kubernetes-int-or-string`; an unconstrained value preserves unknown fields.
 */
export function toStructuralSchema(schema: unknown): Schema {
  if (!isObject(schema)) return { 'x-kubernetes-preserve-unknown-fields': true };
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'propertyNames' || key === '$id') continue;
    if (key === 'const') out['enum'] = [value];
    else if ((key === 'exclusiveMinimum' || key === 'exclusiveMaximum') && typeof value === 'number') {
      // JSON Schema 2020-12 writes the bound here; OpenAPI v3.0 (Kubernetes) wants minimum + a boolean.
      out[key === 'exclusiveMinimum' ? 'minimum' : 'maximum'] = value;
      out[key] = true;
    }
    else if (key === 'properties' && isObject(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructuralSchema(v)]));
    else if (key === 'items' || (key === 'additionalProperties' && isObject(value))) out[key] = toStructuralSchema(value);
    else out[key] = value;
  }
  if (out['properties'] !== undefined) delete out['additionalProperties'];
  if (out['additionalProperties'] === false) delete out['additionalProperties'];
  const type = out['type'];
  if (Array.isArray(type)) {
    const kinds = new Set(type);
    if (kinds.has('string') && (kinds.has('number') || kinds.has('integer'))) {
      delete out['type'];
      out['x-kubernetes-int-or-string'] = true;
    }
  }
  if (out['type'] === undefined && out['x-kubernetes-int-or-string'] === undefined && out['anyOf'] === undefined) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

const conditions = {
  type: 'array',
  items: {
    type: 'object',
    required: ['type', 'status'],
    properties: {
      type: { type: 'string' },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
      reason: { type: 'string' },
      message: { type: 'string' },
      field: { type: 'string', description: 'The offending field path when the object was not accepted.' },
      observedGeneration: { type: 'integer', format: 'int64' },
      lastTransitionTime: { type: 'string', format: 'date-time' },
    },
  },
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
};

function crd(options: { plural: string; kind: string; scope: 'Namespaced' | 'Cluster'; spec: Schema; columns: Schema[]; shortNames: string[] }): string {
  const [group, version] = API_VERSION.split('/') as [string, string];
  const doc = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${options.plural}.${group}`, labels: { 'app.kubernetes.io/part-of': 'ztmesh' } },
    spec: {
      group,
      scope: options.scope,
      names: { plural: options.plural, singular: options.kind.toLowerCase(), kind: options.kind, listKind: `${options.kind}List`, shortNames: options.shortNames },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...options.columns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: options.spec,
                status: {
                  type: 'object',
                  properties: { observedGeneration: { type: 'integer', format: 'int64' }, conditions },
                },
              },
            },
          },
        },
      ],
    },
  };
  return `# Generated from the zod schemas in core/policy by scripts/gen-chart-files.ts; a test keeps it in sync.\n${stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })}`;
}

/** Every chart file generated from code, by path relative to charts/ztmesh. */
export function chartGeneratedFiles(): Record<string, string> {
  const policy = authorizationPolicyJsonSchema() as { properties: { spec: unknown } };
  const mesh = z.toJSONSchema(meshConfigSchema, { io: 'input', unrepresentable: 'any' });
  return {
    'values.schema.json': renderValuesJsonSchema(),
    'crds/authorizationpolicies.yaml': crd({
      plural: 'authorizationpolicies',
      kind: 'AuthorizationPolicy',
      scope: 'Namespaced',
      spec: toStructuralSchema(policy.properties.spec),
      shortNames: ['ztap'],
      columns: [
        { name: 'Action', type: 'string', jsonPath: '.spec.action' },
        { name: 'Accepted', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].status' },
        { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Accepted")].reason', priority: 1 },
      ],
    }),
    'crds/meshconfigs.yaml': crd({
      plural: 'meshconfigs',
      kind: 'MeshConfig',
      scope: 'Cluster',
      spec: toStructuralSchema(mesh),
      shortNames: ['ztmc'],
      columns: [
        { name: 'Trust-Domain', type: 'string', jsonPath: '.spec.trustDomain' },
        { name: 'Default-Action', type: 'string', jsonPath: '.spec.defaultAction' },
      ],
    }),
  };
}
