import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { validateKubernetesObject } from '../../test/helpers/kube-validate.ts';
import { loadChartValues } from '../inject/chart-values.ts';
import { injectOptionsFromValues } from '../inject/inject-options.ts';
import { injectPod } from '../inject/inject-pod.ts';
import { applyJsonPatch } from './json-patch-apply.ts';
import type { JsonPatchOp } from './json-patch-diff.ts';
import { type WebhookCredentials, type WebhookServer, startWebhookServer } from './webhook-server.ts';

const options = injectOptionsFromValues(loadChartValues(), 'ztmesh-system');
const GOLDEN = new URL('../../test/fixtures/k8s/golden/admission-patch.json', import.meta.url);

function selfSigned(dir: string, name: string): WebhookCredentials {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', `/CN=${name}`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { certPem: readFileSync(cert, 'utf8'), keyPem: readFileSync(key, 'utf8') };
}

const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'orders-7f9c-', namespace: 'shop', labels: { app: 'orders' } },
  spec: {
    containers: [{ name: 'app', image: 'orders:1', ports: [{ containerPort: 8080, name: 'http' }], readinessProbe: { httpGet: { path: '/ready', port: 'http' } } }],
  },
};

function review(object: unknown, overrides: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'shop',
      operation: 'CREATE',
      object,
      ...overrides,
    },
  };
}

describe('admission webhook over HTTPS', () => {
  let dir: string;
  let first: WebhookCredentials;
  let second: WebhookCredentials;
  let current: WebhookCredentials;
  let server: WebhookServer;

  const exporter = new InMemorySpanExporter();
  const spans = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

  function post(body: string | Buffer, path = '/inject'): Promise<{ status: number; json: any; peer: X509Certificate }> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port: server.address.port, path, method: 'POST', ca: [first.certPem, second.certPem], agent: false, headers: { 'content-type': 'application/json' } },
        (res) => {
          const chunks: Buffer[] = [];
          const peer = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw);
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')), peer }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ztmesh-webhook-'));
    first = selfSigned(dir, 'first');
    second = selfSigned(dir, 'second');
    current = first;
    server = await startWebhookServer({ listen: '127.0.0.1:0', credentials: () => current, options, logger: silentLogger(), maxBodyBytes: 256 * 1024, tracer: spans.getTracer('webhook-test') });
  });
  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a Pod CREATE with a JSONPatch that, applied, gives the injected pod (golden), valid against the Pod schema', async () => {
    const { status, json } = await post(JSON.stringify(review(pod)));
    expect(status).toBe(200);
    expect(json.response.uid).toBe('705ab4f5-6393-11e8-b7cc-42010a800002');
    expect(json.response.allowed).toBe(true);
    expect(json.response.patchType).toBe('JSONPatch');
    const ops = JSON.parse(Buffer.from(json.response.patch, 'base64').toString('utf8')) as JsonPatchOp[];
    const text = `${JSON.stringify(ops, null, 2)}\n`;
    if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(GOLDEN)) writeFileSync(GOLDEN, text);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
    const patched = applyJsonPatch(pod, ops);
    expect(patched).toEqual(injectPod(pod, 'shop', options).template);
    await validateKubernetesObject(patched);
    // The workload name falls back to the app label, as the CLI's template would have it.
    expect((patched as any).metadata.annotations['ztmesh.io/sidecar-config']).toContain('name: orders\n');
  });

  it('traces each admission request as a SERVER span with its uid and outcome', async () => {
    exporter.reset();
    await post(JSON.stringify(review(pod)));
    await post('{not json');
    const [injected, invalid] = exporter.getFinishedSpans();
    expect(injected).toMatchObject({ name: 'operator.admission', kind: SpanKind.SERVER, attributes: { 'ztmesh.admission.uid': '705ab4f5-6393-11e8-b7cc-42010a800002' } });
    expect(invalid!.attributes['ztmesh.admission.outcome']).not.toBe(injected!.attributes['ztmesh.admission.outcome']);
  });

  it('allows an already injected pod unchanged, with a warning', async () => {
    const injected = injectPod(pod, 'shop', options).template;
    const { json } = await post(JSON.stringify(review(injected)));
    expect(json.response).toMatchObject({ allowed: true });
    expect(json.response.patch).toBeUndefined();
    expect(json.response.warnings.join()).toContain('ALREADY_INJECTED');
  });

  it('allows opted-out and hostNetwork pods, and non-CREATE operations, unchanged', async () => {
    const optedOut = { ...pod, metadata: { ...pod.metadata, annotations: { 'ztmesh.io/inject': 'false' } } };
    const hostNet = { ...pod, spec: { ...pod.spec, hostNetwork: true } };
    for (const body of [review(optedOut), review(hostNet), review(pod, { operation: 'UPDATE' })]) {
      const { json } = await post(JSON.stringify(body));
      expect(json.response.allowed).toBe(true);
      expect(json.response.patch).toBeUndefined();
    }
  });

  const bad: [string, () => string | Buffer][] = [
    ['malformed JSON', () => '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": "abc-1"'],
    ['an AdmissionReview without a request', () => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' })],
    ['a non-Pod object', () => JSON.stringify(review({ kind: 'Service' }, { kind: { group: '', version: 'v1', kind: 'Service' } }))],
    ['a pod with an invalid port list', () => JSON.stringify(review({ ...pod, metadata: { ...pod.metadata, annotations: { 'ztmesh.io/exclude-outbound-ports': '80,eighty' } } }))],
    ['a pod with conflicting annotations', () => JSON.stringify(review({ ...pod, metadata: { ...pod.metadata, annotations: { 'ztmesh.io/app-port': '8080', 'ztmesh.io/exclude-inbound-ports': '8080' } } }))],
    ['a pod without containers', () => JSON.stringify(review({ ...pod, spec: { containers: [] } }))],
    ['an oversized body', () => Buffer.concat([Buffer.from('{"request":{"uid":"big-1","x":"'), Buffer.alloc(300 * 1024, 0x61), Buffer.from('"}}')])],
  ];
  it.each(bad)('%s: HTTP 200, allowed unchanged, with a warning', async (_name, body) => {
    const before = server.counters().invalid;
    const { status, json } = await post(body());
    expect(status).toBe(200);
    expect(json.kind).toBe('AdmissionReview');
    expect(json.response.allowed).toBe(true);
    expect(json.response.patch).toBeUndefined();
    expect(json.response.warnings.length).toBeGreaterThan(0);
    for (const w of json.response.warnings) expect(w.length).toBeLessThanOrEqual(120);
    expect(server.counters().invalid).toBe(before + 1);
  });

  it('keeps the request uid of a body it cannot parse', async () => {
    const { json } = await post(bad[0]![1]());
    expect(json.response.uid).toBe('abc-1');
    const big = await post(bad[6]![1]());
    expect(big.json.response.uid).toBe('big-1');
  });

  it('names the annotation in the warning for an invalid port list', async () => {
    const { json } = await post(bad[3]![1]());
    expect(json.response.warnings[0]).toContain('ZTMESH_INJECT_BAD_ANNOTATION');
    expect(json.response.warnings[0]).toContain('ztmesh.io/exclude-outbound-ports');
  });

  it('injects a pod with a declared API (ztmesh.io/api-spec) with the same patch operations as without, plus nothing', async () => {
    const declared = { ...pod, metadata: { ...pod.metadata, annotations: { 'ztmesh.io/api-spec': 'orders-api/v1.yaml', 'ztmesh.io/refuse-undeclared': 'true' } } };
    const opsOf = async (object: unknown): Promise<JsonPatchOp[]> => {
      const { json } = await post(JSON.stringify(review(object)));
      expect(json.response.allowed).toBe(true);
      return JSON.parse(Buffer.from(json.response.patch, 'base64').toString('utf8')) as JsonPatchOp[];
    };
    const ops = await opsOf(declared);
    const plain = { ...pod, metadata: { ...pod.metadata, annotations: { 'example.com/team': 'orders' } } };
    expect(ops.map((o) => `${o.op} ${o.path}`)).toEqual((await opsOf(plain)).map((o) => `${o.op} ${o.path}`));
    const patched = applyJsonPatch(declared, ops) as any;
    expect(patched).toEqual(injectPod(declared, 'shop', options).template);
    expect(patched.spec.volumes).toContainEqual({ name: 'ztmesh-api-spec', configMap: { name: 'orders-api', items: [{ key: 'v1.yaml', path: 'openapi.yaml' }] } });
    expect(patched.metadata.annotations['ztmesh.io/sidecar-config']).toContain('requestValidation:\n  openapi: /etc/ztmesh-api/openapi.yaml\n  refuseUndeclared: true\n');
    await validateKubernetesObject(patched);
  });

  it.each([
    ['ztmesh.io/api-spec', { 'ztmesh.io/api-spec': 'Orders API' }],
    ['ztmesh.io/refuse-undeclared', { 'ztmesh.io/api-spec': 'orders-api', 'ztmesh.io/refuse-undeclared': 'maybe' }],
    ['ztmesh.io/validation-max-body-bytes', { 'ztmesh.io/api-spec': 'orders-api', 'ztmesh.io/validation-max-body-bytes': '-1' }],
  ])('allows a pod with a bad %s unchanged, the warning naming the annotation', async (annotation, annotations) => {
    const before = server.counters().invalid;
    const { json } = await post(JSON.stringify(review({ ...pod, metadata: { ...pod.metadata, annotations } })));
    expect(json.response.allowed).toBe(true);
    expect(json.response.patch).toBeUndefined();
    expect(json.response.warnings[0]).toContain('ZTMESH_INJECT_BAD_ANNOTATION');
    expect(json.response.warnings[0]).toContain(annotation);
    expect(server.counters().invalid).toBe(before + 1);
  });

  it('serves a renewed certificate to new connections', async () => {
    const before = await post(JSON.stringify(review(pod)));
    expect(before.peer.subject).toBe('CN=first');
    current = second;
    const after = await post(JSON.stringify(review(pod)));
    expect(after.peer.subject).toBe('CN=second');
    expect(after.json.response.allowed).toBe(true);
    current = first;
  });

  it('answers 404 elsewhere and reports health', async () => {
    const res = await post('{}', '/elsewhere');
    expect(res.status).toBe(404);
  });
});
