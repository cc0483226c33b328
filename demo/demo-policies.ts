import { stringify } from 'yaml';
import { DEMO_NAMESPACE, DEMO_TRUST_DOMAIN } from './topology.ts';

/**
 * The demo's AuthorizationPolicies (Istio field names, apiVersion ztmesh.io/v1alpha1). The mesh
 * default is DENY, so these two ALLOWs are all that is permitted: frontend may GET /orders* on
 * orders, orders may POST /charge on payments. frontend -> payments matches no rule and is denied.
 */
export function demoPolicyDocuments(): readonly Record<string, unknown>[] {
  return [
    allow('orders-allow-frontend', 'orders', 'frontend', ['GET'], ['/orders*']),
    allow('payments-allow-orders', 'payments', 'orders', ['POST'], ['/charge']),
  ];
}

/** All policy documents as one multi-document YAML file. */
export function demoPolicyYaml(): string {
  return demoPolicyDocuments().map((doc) => stringify(doc)).join('---\n');
}

function allow(name: string, app: string, caller: string, methods: string[], paths: string[]): Record<string, unknown> {
  return {
    apiVersion: 'ztmesh.io/v1alpha1',
    kind: 'AuthorizationPolicy',
    metadata: { name, namespace: DEMO_NAMESPACE },
    spec: {
      selector: { matchLabels: { app } },
      action: 'ALLOW',
      rules: [
        {
          // Istio writes principals without the spiffe:// prefix.
          from: [{ source: { principals: [`${DEMO_TRUST_DOMAIN}/ns/${DEMO_NAMESPACE}/sa/${caller}`] } }],
          to: [{ operation: { methods, paths } }],
        },
      ],
    },
  };
}
