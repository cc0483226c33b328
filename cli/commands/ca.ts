import { readFile } from 'node:fs/promises';
import { parseDuration } from '../../core/config/duration.ts';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { writeFileAtomic } from '../../core/seal/sealed-file.ts';
import { loadSealKeyRing } from '../../core/seal/seal-key.ts';
import { parseSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo, Command } from '../io.ts';

const USAGE = `Usage:
  ztmesh ca init   --trust-domain TD --dir DIR [--root-cert F --root-key F | --intermediate-cert F --intermediate-key F]
  ztmesh ca serve  --dir DIR --listen HOST:PORT [--default-ttl 1h] [--min-ttl 5m] [--max-ttl 24h] [--dns-name NAME]... [--allow-dns SPIFFE_ID=DNSNAME[,DNSNAME]]...
                   [--k8s-token-review [--k8s-audience ztmesh-ca] [--kubeconfig F]]
  ztmesh ca token create --dir DIR --spiffe-id ID [--ttl 10m]
  ztmesh ca mint   --dir DIR --spiffe-id ID [--ttl 1h] --cert OUT --key OUT
  ztmesh ca bundle --dir DIR
The seal key comes from ZTMESH_SEAL_KEY (base64, 32 bytes) or --seal-key-file F (every subcommand but bundle).
`;

const sealFlag = { 'seal-key-file': { type: 'string' } } as const;
const ttlFlags = { 'default-ttl': { type: 'string' }, 'min-ttl': { type: 'string' }, 'max-ttl': { type: 'string' } } as const;
const MAX_JOIN_TOKEN_TTL_MS = 86_400_000;

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

async function init(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    'trust-domain': { type: 'string' }, dir: { type: 'string' },
    'root-cert': { type: 'string' }, 'root-key': { type: 'string' },
    'intermediate-cert': { type: 'string' }, 'intermediate-key': { type: 'string' }, ...sealFlag,
  });
  const trustDomain = requireFlag(values['trust-domain'], 'trust-domain');
  const dir = requireFlag(values.dir, 'dir');
  const hasRoot = values['root-cert'] !== undefined || values['root-key'] !== undefined;
  const hasIntermediate = values['intermediate-cert'] !== undefined || values['intermediate-key'] !== undefined;
  if (hasRoot && hasIntermediate) throw new MeshError('ZTMESH_CLI_BAD_ARGS', 'give either --root-cert/--root-key or --intermediate-cert/--intermediate-key, not both');
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  const { initCaDir } = await import('../../ca/store/ca-dir.ts');
  const plugged = async (cert: string | undefined, key: string | undefined, name: string) => ({
    certPem: await readText(requireFlag(cert, `${name}-cert`), `${name} certificate`),
    keyPem: await readText(requireFlag(key, `${name}-key`), `${name} key`),
  });
  const { meta } = await initCaDir({
    dir, trustDomain, ring, nowMs: Date.now(),
    ...(hasRoot ? { root: await plugged(values['root-cert'], values['root-key'], 'root') } : {}),
    ...(hasIntermediate ? { intermediate: await plugged(values['intermediate-cert'], values['intermediate-key'], 'intermediate') } : {}),
  });
  io.stdout.write(`initialized CA for trust domain ${meta.trustDomain} in ${dir} (${meta.mode}); keys sealed with key id ${ring.primary.id}\n`);
  return 0;
}

async function serve(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    dir: { type: 'string' }, listen: { type: 'string' }, 'dns-name': { type: 'string', multiple: true }, 'allow-dns': { type: 'string', multiple: true },
    'k8s-token-review': { type: 'boolean' }, 'k8s-audience': { type: 'string' }, kubeconfig: { type: 'string' }, ...ttlFlags, ...sealFlag,
  });
  const dir = requireFlag(values.dir, 'dir');
  const listen = requireFlag(values.listen, 'listen');
  if (!/^.+:\d{1,5}$/.test(listen)) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `--listen must be HOST:PORT, got ${JSON.stringify(listen)}`);
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  const { ttlPolicyFrom } = await import('../../ca/issuer/ttl-policy.ts');
  const ttlPolicy = ttlPolicyFrom({ defaultTtl: values['default-ttl'], minTtl: values['min-ttl'], maxTtl: values['max-ttl'] });
  const { parseDnsAllowList } = await import('../../ca/api/dns-allow-list.ts');
  const dnsAllowList = parseDnsAllowList(values['allow-dns'] ?? []);
  const { runCaServe } = await import('../../ca/main.ts');
  return runCaServe({
    dir, listen, ring, ttlPolicy, dnsAllowList,
    ...(values['dns-name'] ? { dnsNames: values['dns-name'] } : {}),
    ...(values['k8s-token-review'] ? { tokenReview: { audience: values['k8s-audience'] ?? 'ztmesh-ca', kubeconfig: values.kubeconfig } } : {}),
  });
}

async function token(argv: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = argv;
  if (action !== 'create') throw new MeshError('ZTMESH_CLI_BAD_ARGS', `unknown token action ${JSON.stringify(action ?? '')}; expected "create"`);
  const { values } = parseFlags(rest, { dir: { type: 'string' }, 'spiffe-id': { type: 'string' }, ttl: { type: 'string' }, ...sealFlag });
  const dir = requireFlag(values.dir, 'dir');
  const id = parseSpiffeId(requireFlag(values['spiffe-id'], 'spiffe-id'));
  const ttlMs = parseDuration(values.ttl ?? '10m', '--ttl');
  if (ttlMs <= 0 || ttlMs > MAX_JOIN_TOKEN_TTL_MS) throw new MeshError('ZTMESH_CA_TTL_OUT_OF_BOUNDS', `join token --ttl must be in (0, 24h]`);
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  const { CA_FILES, readCaMeta } = await import('../../ca/store/ca-dir.ts');
  const meta = await readCaMeta(dir);
  if (id.trustDomain !== meta.trustDomain) {
    throw new MeshError('ZTMESH_CA_FOREIGN_TRUST_DOMAIN', `${id.id} is outside trust domain ${meta.trustDomain}`);
  }
  const { JoinTokenStore } = await import('../../ca/authn/join-token-store.ts');
  const { join } = await import('node:path');
  const created = await new JoinTokenStore({ file: join(dir, CA_FILES.joinTokens), ring }).create(id.id, ttlMs);
  io.stdout.write(`${created.token}\n`);
  return 0;
}

async function mint(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    dir: { type: 'string' }, 'spiffe-id': { type: 'string' }, ttl: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, ...ttlFlags, ...sealFlag,
  });
  const dir = requireFlag(values.dir, 'dir');
  const spiffeId = requireFlag(values['spiffe-id'], 'spiffe-id');
  const certOut = requireFlag(values.cert, 'cert');
  const keyOut = requireFlag(values.key, 'key');
  const ring = loadSealKeyRing({ env: io.env, keyFile: values['seal-key-file'] });
  const { loadCaDir } = await import('../../ca/store/ca-dir.ts');
  const { X509Authority } = await import('../../ca/issuer/x509-authority.ts');
  const { ttlPolicyFrom } = await import('../../ca/issuer/ttl-policy.ts');
  const { generateP256, exportPkcs8Pem } = await import('../../ca/keys/p256-keys.ts');
  const { material } = await loadCaDir(dir, ring);
  const authority = await X509Authority.create(material, { ttlPolicy: ttlPolicyFrom({ defaultTtl: values['default-ttl'], minTtl: values['min-ttl'], maxTtl: values['max-ttl'] }) });
  const keys = await generateP256();
  const issued = await authority.issue({ spiffeId, publicKey: keys.publicKey, ttl: values.ttl });
  // The one place a workload key is written in clear: the user asked for it with --key (bootstrapping, tests).
  await writeFileAtomic(keyOut, exportPkcs8Pem(keys.privateKey), 0o600);
  await writeFileAtomic(certOut, issued.certChainPem, 0o644);
  io.stderr.write(`minted ${issued.spiffeId} serial ${issued.serial} valid until ${new Date(issued.notAfter).toISOString()}\n`);
  return 0;
}

async function bundle(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, { dir: { type: 'string' } });
  const dir = requireFlag(values.dir, 'dir');
  const { readBundle } = await import('../../ca/store/ca-dir.ts');
  const pem = await readBundle(dir);
  io.stdout.write(pem.endsWith('\n') ? pem : `${pem}\n`);
  return 0;
}

const subcommands: Record<string, Command> = { init, serve, token, mint, bundle };

/** `ztmesh ca <init|serve|token|mint|bundle>`: flags parsed here, work done in ca/. */
export const run: Command = async (argv, io) => {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const sub = subcommands[name];
  if (sub === undefined) throw new MeshError('ZTMESH_CLI_BAD_ARGS', `unknown ca subcommand ${JSON.stringify(name)}\n${USAGE}`);
  return sub(rest, io);
};
