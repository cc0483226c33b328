import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BENCH_TRUST_DOMAIN = 'bench.local';
export const CLIENT_ID = `spiffe://${BENCH_TRUST_DOMAIN}/ns/bench/sa/client`;
export const SERVER_ID = `spiffe://${BENCH_TRUST_DOMAIN}/ns/bench/sa/server`;

export interface LeafFiles {
  readonly spiffeId: string;
  /** Subject CN, which nginx (no SPIFFE awareness) verifies as the peer name. */
  readonly commonName: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface BenchPki {
  readonly bundleFile: string;
  readonly client: LeafFiles;
  readonly server: LeafFiles;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run('openssl', args, { cwd, timeout: 30_000 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

async function mintLeaf(dir: string, name: string, spiffeId: string): Promise<LeafFiles> {
  const keyFile = join(dir, `${name}-key.pem`);
  const certFile = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(extFile, [
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth, clientAuth',
    `subjectAltName = URI:${spiffeId}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n'));
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile], dir);
  await openssl(['req', '-new', '-key', keyFile, '-subj', `/O=ztmesh bench/CN=${name}`, '-out', join(dir, `${name}.csr`)], dir);
  await openssl([
    'x509', '-req', '-in', join(dir, `${name}.csr`), '-CA', join(dir, 'root.pem'), '-CAkey', join(dir, 'root-key.pem'),
    '-CAcreateserial', '-days', '2', '-sha256', '-extfile', extFile, '-out', certFile,
  ], dir);
  return { spiffeId, commonName: name, certFile, keyFile };
}

/**
 * A throwaway PKI in `dir`, made with openssl: an EC P-256 root, and two X.509-SVID leaves (client
 * and server) with exactly one URI SAN each, CA:FALSE, keyUsage digitalSignature (critical), and
 * EKU serverAuth + clientAuth. The same files serve nginx, the Node TLS pipe and the ztmesh sidecars.
 */
export async function createBenchPki(dir: string): Promise<BenchPki> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'root-key.pem')], dir);
  await openssl([
    'req', '-x509', '-new', '-key', join(dir, 'root-key.pem'), '-subj', '/O=ztmesh bench/CN=bench root', '-days', '2', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-addext', `subjectAltName=URI:spiffe://${BENCH_TRUST_DOMAIN}`, '-out', join(dir, 'root.pem'),
  ], dir);
  const client = await mintLeaf(dir, 'client', CLIENT_ID);
  const server = await mintLeaf(dir, 'server', SERVER_ID);
  return { bundleFile: join(dir, 'root.pem'), client, server };
}
