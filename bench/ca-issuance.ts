// CA issuance throughput: certificates per second, median of several runs.
//   node bench/ca-issuance.ts [--runs 5] [--count 200] [--grpc-count 60] [--concurrency 8]
// Measures, in one run:
//   reference  @peculiar/x509 signing a leaf directly (no template checks, no self-validation)
//   in-process X509Authority.issue: template -> sign -> validate (what the CA does per CSR)
//   grpc       requestSvid over gRPC+TLS on loopback, renewal path (mTLS client cert), a fresh
//              P-256 key + CSR + channel per call, sequential and with N calls in flight
import { createPrivateKey } from 'node:crypto';
import { parseArgs } from 'node:util';
import { startCaServer } from '../ca/api/ca-server.ts';
import { CallerAuthenticator } from '../ca/authn/caller-authenticator.ts';
import { requestSvid } from '../ca/client/ca-client.ts';
import { generateP256 } from '../ca/keys/p256-keys.ts';
import { signCertificate } from '../ca/sign/sign-certificate.ts';
import { svidTemplate } from '../ca/template/svid-template.ts';
import { createTestCa } from '../ca/testing/test-ca.ts';
import { x509 } from '../ca/x509-lib.ts';
import { silentLogger } from '../core/telemetry/logger.ts';
import { parseSpiffeId } from '../core/spiffe/spiffe-id.ts';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, count: { type: 'string', default: '200' }, 'grpc-count': { type: 'string', default: '60' }, concurrency: { type: 'string', default: '8' } },
});
const RUNS = Number(values.runs);
const COUNT = Number(values.count);
const GRPC_COUNT = Number(values['grpc-count']);
const CONCURRENCY = Number(values.concurrency);
const TD = 'bench.ztmesh';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function measure(name: string, count: number, fn: (i: number) => Promise<unknown>, concurrency = 1): Promise<number> {
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    let next = 0;
    const start = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < count) await fn(next++);
      }),
    );
    rates.push(count / ((performance.now() - start) / 1000));
  }
  const m = median(rates);
  process.stdout.write(`${name.padEnd(44)} ${m.toFixed(0).padStart(7)} certs/s  (median of ${RUNS}; runs: ${rates.map((r) => r.toFixed(0)).join(', ')})\n`);
  return m;
}

const ca = await createTestCa({ trustDomain: TD });
const keys = await generateP256();
const id = parseSpiffeId(`spiffe://${TD}/ns/bench/sa/worker`).id;
const intermediate = new x509.X509Certificate(ca.authority.intermediateChainPem);

process.stdout.write(`node ${process.version}, ${RUNS} runs\n`);
// Reference: the signing alone, with a throwaway issuer of the same key type.
const refIssuer = await generateP256();
await measure('reference: sign only (@peculiar/x509)', COUNT, async () => {
  const template = await svidTemplate({ spiffeId: id, publicKey: keys.publicKey, ttlMs: 3_600_000 }, { certificate: intermediate, notAfterMs: Date.now() + 86_400_000 }, Date.now());
  await signCertificate(template, refIssuer.privateKey, intermediate);
});
await measure('in-process: issue (template+sign+validate)', COUNT, () => ca.authority.issue({ spiffeId: id, publicKey: keys.publicKey }));

const server = await startCaServer({ authority: ca.authority, authenticator: new CallerAuthenticator({ authority: ca.authority }), listen: '127.0.0.1:0', logger: silentLogger(), audit: silentLogger() });
const address = `127.0.0.1:${server.port}`;
const seed = await ca.mint({ spiffeId: id });
const current = { certChainPem: seed.certChainPem, privateKey: createPrivateKey(seed.keyPem) };
await measure('grpc: requestSvid, sequential', GRPC_COUNT, () => requestSvid({ address, bundlePem: ca.bundlePem, current }));
await measure(`grpc: requestSvid, ${CONCURRENCY} in flight`, GRPC_COUNT, () => requestSvid({ address, bundlePem: ca.bundlePem, current }), CONCURRENCY);
await server.close();
