import { z } from 'zod';
import { parseDuration } from '../../core/config/duration.ts';
import { parseSpiffeId, trustDomainError } from '../../core/spiffe/spiffe-id.ts';
import { cidrError } from '../../core/policy/cidr.ts';
import { anomalyConfigSchema } from '../anomaly/anomaly-config.ts';
import { requestAuthenticationSchema } from '../authn/jwt-config.ts';
import { http1LimitsSchema } from '../http1/limits.ts';
import { bodyLimitSchema } from '../inbound/body-limits.ts';
import { requestValidationSchema } from '../validation/request-validation-config.ts';
import { isLoopbackHost, parseHostPort } from './host-port.ts';

function refined<T>(base: z.ZodString, parse: (value: string) => T) {
  return base.transform((value, ctx): T => {
    try {
      return parse(value);
    } catch (err) {
      ctx.issues.push({ code: 'custom', message: err instanceof Error ? err.message : String(err), input: value });
      return z.NEVER;
    }
  });
}

const listenAddress = refined(z.string(), (v) => parseHostPort(v, { allowZero: true }));
const connectAddress = refined(z.string(), (v) => parseHostPort(v));
const spiffeId = refined(z.string(), (v) => parseSpiffeId(v).id);
const duration = refined(z.string(), (v) => parseDuration(v));
const port = z.int().min(1).max(65535);
const fileName = z.string().min(1);
const kubeName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a lowercase DNS name (a-z, 0-9, "-", ".")');
const labelValue = z.string().max(63);
const cidr = z.string().superRefine((v, ctx) => {
  const reason = cidrError(v);
  if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
});
const serviceName = z.string().regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, 'must be a lowercase DNS name');

const caIdentity = z.strictObject({
  address: connectAddress,
  bundleFile: fileName,
  tokenFile: fileName,
  /** The CA's own SPIFFE ID, checked on its server certificate. */
  identity: spiffeId.optional(),
  /** Requested SVID lifetime; the CA's default when absent. */
  ttl: refined(z.string(), (v) => {
    parseDuration(v, 'ttl');
    return v;
  }).optional(),
});

const identity = z
  .strictObject({
    certFile: fileName.optional(),
    keyFile: fileName.optional(),
    bundleFile: fileName.optional(),
    ca: caIdentity.optional(),
  })
  .superRefine((v, ctx) => {
    const files = (['certFile', 'keyFile', 'bundleFile'] as const).filter((k) => v[k] !== undefined);
    if (v.ca !== undefined && files.length > 0) {
      for (const k of files) ctx.addIssue({ code: 'custom', path: [k], message: 'not allowed together with identity.ca: choose files or the mesh CA' });
    } else if (v.ca === undefined) {
      for (const k of ['certFile', 'keyFile', 'bundleFile'] as const) {
        if (v[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'required (or configure identity.ca instead of files)' });
      }
    }
  });

const retryPolicy = z.strictObject({
  /** Further tries after the first (0: only connect failures and refused streams move, as always). */
  attempts: z.int().min(0).max(5).default(2),
  /** Retries may add at most this fraction of the service's requests (10 s window), as Linkerd's budget. */
  budgetRatio: z.number().min(0).max(1).default(0.2),
  /** ... plus this many retries per second whatever the traffic. */
  minRetriesPerSecond: z.int().min(0).max(10_000).default(10),
});

const serviceRoute = z.strictObject({
  pathPrefix: z.string().regex(/^\/[\x21-\x7e]*$/, 'must start with "/" and hold printable ASCII only').max(2048),
  timeout: duration.optional(),
  /** Requests on this route may be retried whatever their method (they must be safe to repeat). */
  retryable: z.boolean().default(false),
});

const service = z
  .strictObject({
    /** One destination sidecar; or `endpoints` for several (exactly one of the two). */
    address: connectAddress.optional(),
    /** Destination sidecars that all prove `identity`; requests are balanced over them (may be empty: 503). */
    endpoints: z.array(connectAddress).max(1000).optional(),
    /** Per-request endpoint choice: power of two choices over peak EWMA latency (default), or round-robin. */
    balancer: z.enum(['p2c-ewma', 'round-robin']).default('p2c-ewma'),
    identity: spiffeId,
    protocol: z.enum(['http', 'tcp']).default('http'),
    /** tcp only: the local listener the app connects to for this service. */
    listen: listenAddress.optional(),
    /** tcp only: the destination app port the remote inbound exposes (one of its tcpPorts). */
    port: port.optional(),
    /** http: the response head is due within this after the request arrived (else 504 ZTMESH_BALANCE_TIMEOUT). */
    timeout: duration.optional(),
    /** http: retries after upstream 502/503/504 or a reset before the response head, under a budget. */
    retry: retryPolicy.optional(),
    /** http: per-route overrides by path prefix (longest wins): a timeout, and retryable whatever the method. */
    routes: z.array(serviceRoute).max(100).default([]),
  })
  .superRefine((v, ctx) => {
    if (v.protocol === 'tcp') {
      for (const k of ['timeout', 'retry'] as const) if (v[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only for protocol http' });
      if (v.routes.length > 0) ctx.addIssue({ code: 'custom', path: ['routes'], message: 'only for protocol http' });
    }
    if ((v.address === undefined) === (v.endpoints === undefined)) {
      ctx.addIssue({ code: 'custom', path: [v.address === undefined ? 'endpoints' : 'address'], message: 'set exactly one of address and endpoints' });
    }
    if (v.protocol === 'tcp') {
      if (v.listen === undefined) ctx.addIssue({ code: 'custom', path: ['listen'], message: 'required for protocol tcp' });
      if (v.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'required for protocol tcp' });
    } else {
      if (v.listen !== undefined) ctx.addIssue({ code: 'custom', path: ['listen'], message: 'only for protocol tcp' });
      if (v.port !== undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'only for protocol tcp' });
    }
  });

const appProbe = z.strictObject({
  port,
  path: z.string().regex(/^\/[\x21-\x7e]*$/, 'must start with "/" and hold printable ASCII only').max(2048),
  /** Host to connect to (default 127.0.0.1). */
  host: z.string().min(1).max(253).optional(),
});

/** The sidecar config file, as written. Paths are relative to the config file's directory. */
export const sidecarConfigSchema = z
  .strictObject({
    trustDomain: z.string().superRefine((v, ctx) => {
      const reason = trustDomainError(v);
      if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
    }),
    workload: z.strictObject({
      namespace: kubeName,
      name: z.string().min(1).max(253).optional(),
      labels: z.record(z.string().min(1).max(317), labelValue).default({}),
    }),
    identity,
    inbound: z.strictObject({
      listen: listenAddress,
      app: connectAddress,
      tcpPorts: z.array(port).default([]),
      /** Mesh-level network allow list: connections from other sources are reset before the TLS handshake. */
      allowedSourceCidrs: z.array(cidr).min(1, 'list at least one CIDR, or omit the key to allow any source').optional(),
      /** Per-route request body limits (413 past them), by path prefix; the longest match wins. */
      bodyLimits: z.array(bodyLimitSchema).default([]),
    }),
    outbound: z.strictObject({
      listen: listenAddress,
      services: z.record(serviceName, service).default({}),
    }),
    /** End-user JWTs (as Istio's RequestAuthentication): issuers, audiences, keys, algorithms. */
    requestAuthentication: requestAuthenticationSchema.optional(),
    /** Policies from files (reloaded on change); exactly one of policyFile and control. */
    policyFile: fileName.optional(),
    /** Policies pushed by the operator (policy distribution over mTLS); exactly one of policyFile and control. */
    control: z
      .strictObject({
        address: connectAddress,
        /** The operator's SPIFFE ID; default spiffe://<trustDomain>/ns/ztmesh-system/sa/ztmesh-operator. */
        identity: spiffeId.optional(),
        /** This pod's name (the operator selects policies by it); default $POD_NAME. */
        podName: z.string().min(1).max(253).optional(),
        /** How often the sidecar reports what it observed (inventory, denials, anomalies, identity) on its stream; 0s: never. */
        reportInterval: duration.default(10_000).refine((ms) => ms === 0 || ms >= 1000, 'must be 0s (no reports) or at least 1s'),
      })
      .optional(),
    meshConfigFile: fileName.optional(),
    admin: listenAddress.default({ host: '127.0.0.1', port: 15000 }),
    /** Lets the admin server bind a non-loopback address (e.g. for kubelet probes on the pod IP). */
    adminAllowRemote: z.boolean().default(false),
    appProbes: z.record(z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS label'), appProbe).default({}),
    drainGracePeriod: duration.default(10_000),
    /**
     * On SIGTERM, how long the inbound listener keeps accepting after telling peers to go elsewhere
     * (GOAWAY, `Connection: close`), before it closes; in-flight requests then get drainGracePeriod.
     */
    drainNoticePeriod: duration.default(1_000),
    /** HTTP/1.1 data plane limits (sidecar/http1/limits.ts); every key optional. */
    limits: http1LimitsSchema.optional(),
    /** The audit log: denied and AUDIT-marked requests always; this fraction of allowed ones. */
    audit: z
      .strictObject({
        sampleAllowed: z.number().min(0).max(1).default(0),
        headers: z.array(z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a lowercase header name')).max(32).optional(),
      })
      .default({ sampleAllowed: 0 }),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** The API inventory of what this workload serves, on the admin port's /inventory (read by `ztmesh inventory`). */
    inventory: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Distinct (method, route template) entries kept; past it new routes are only counted. */
        maxRoutes: z.int().min(1).max(100_000).default(500),
        /**
         * Top-level field names and JSON types (never values) of 2xx JSON responses without a
         * Content-Encoding, read from at most maxBytes of the body as it streams past: every
         * response of a route until its fields are known, then 1 in sampleOneIn.
         */
        responseFields: z
          .strictObject({
            enabled: z.boolean().default(true),
            sampleOneIn: z.int().min(1).max(1_000_000).default(100),
            maxBytes: z.int().min(256).max(1_048_576).default(65_536),
          })
          .default({ enabled: true, sampleOneIn: 100, maxBytes: 65_536 }),
      })
      .default({ enabled: true, maxRoutes: 500, responseFields: { enabled: true, sampleOneIn: 100, maxBytes: 65_536 } }),
    /** Per-caller anomaly detection (off by default) and its optional response (throttle or quarantine). */
    anomaly: anomalyConfigSchema.optional(),
    /** The workload's declared API (OpenAPI 3) and per-route JSON Schemas for request bodies and queries. */
    requestValidation: requestValidationSchema.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.policyFile !== undefined && v.control !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['control'], message: 'policyFile and control are mutually exclusive: give exactly one' });
    } else if (v.policyFile === undefined && v.control === undefined) {
      ctx.addIssue({ code: 'custom', path: ['policyFile'], message: 'give exactly one of policyFile (policies from a file) or control (policies from the operator)' });
    }
    if (v.control !== undefined && v.meshConfigFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['meshConfigFile'], message: 'with control the operator pushes the mesh config; meshConfigFile goes with policyFile only' });
    }
    if (v.control?.identity !== undefined && parseSpiffeId(v.control.identity).trustDomain !== v.trustDomain) {
      ctx.addIssue({ code: 'custom', path: ['control', 'identity'], message: `is outside trust domain ${v.trustDomain}` });
    }
    if (!v.adminAllowRemote && !isLoopbackHost(v.admin.host)) {
      ctx.addIssue({ code: 'custom', path: ['admin'], message: `${v.admin.host} is not a loopback address; set adminAllowRemote: true to expose the admin port` });
    }
    for (const [name, s] of Object.entries(v.outbound.services)) {
      if (parseSpiffeId(s.identity).trustDomain !== v.trustDomain) {
        ctx.addIssue({ code: 'custom', path: ['outbound', 'services', name, 'identity'], message: `is outside trust domain ${v.trustDomain}` });
      }
    }
  });

export type SidecarConfigInput = z.output<typeof sidecarConfigSchema>;
