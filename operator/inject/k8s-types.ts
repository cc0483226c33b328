/**
 * The parts of Kubernetes objects the injector reads and writes. Inputs are untrusted manifests or
 * admission bodies: inject-pod.ts checks their shape before it trusts these types, and every field
 * it does not know is carried through untouched (hence the index signatures).
 */
export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [key: string]: unknown;
}

export interface HttpGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: unknown[];
  [key: string]: unknown;
}

export interface Probe {
  httpGet?: HttpGetAction;
  [key: string]: unknown;
}

export interface ContainerPort {
  containerPort: number;
  name?: string;
  protocol?: string;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  ports?: ContainerPort[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  [key: string]: unknown;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; [key: string]: unknown }[];
  hostNetwork?: boolean;
  securityContext?: { fsGroup?: number; [key: string]: unknown };
  [key: string]: unknown;
}

/** A Pod, or the `template` of a Deployment, StatefulSet, Job...: metadata and spec. */
export interface PodTemplate {
  metadata?: ObjectMeta;
  spec: PodSpec;
  [key: string]: unknown;
}
