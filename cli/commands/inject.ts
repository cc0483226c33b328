import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { loadChartValues } from '../../operator/inject/chart-values.ts';
import { type InjectOptions, injectOptionsFromValues, parseInjectOptions } from '../../operator/inject/inject-options.ts';
import { formatManifestText, injectManifests, parseManifestText } from '../../operator/inject/inject-manifests.ts';
import { parseFlags, requireFlag } from '../args.ts';
import type { CliIo } from '../io.ts';

const HELP = `Usage: ztmesh inject -f FILE [options]

Prints the manifests in FILE ('-' for stdin) with the ztmesh sidecar injected into every Pod,
Deployment, StatefulSet, DaemonSet, ReplicaSet, Job and CronJob; other objects pass unchanged.

  -f, --filename FILE        the manifests (multi-document YAML, JSON, or a List); '-' reads stdin
  -n, --namespace NS         namespace of objects that name none (default "default")
  --values FILE              chart values file (as for helm install -f) to take the defaults from
  --ztmesh-namespace NS      namespace ztmesh is installed in (default "ztmesh-system")
  --image IMAGE              sidecar image (default from the chart values)
  --trust-domain TD          SPIFFE trust domain (default from the chart values)
  --ca-address HOST:PORT     the mesh CA (default ztmesh-ca.<ztmesh-namespace>.svc:<ca.port>)
`;

async function readInput(file: string, io: CliIo): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/** The injector options from the chart values, a values file, and flags, in that order of precedence (last wins). */
export function optionsFromFlags(values: { values?: string; image?: string; 'trust-domain'?: string; 'ca-address'?: string; 'ztmesh-namespace'?: string }, cwd: string): InjectOptions {
  const chart = loadChartValues(values.values === undefined ? undefined : resolve(cwd, values.values));
  const base = injectOptionsFromValues(chart, values['ztmesh-namespace'] ?? 'ztmesh-system');
  const trustDomain = values['trust-domain'] ?? base.trustDomain;
  const image = values.image ?? base.image;
  const tag = /:([^:/@]+)$/.exec(image)?.[1];
  return parseInjectOptions(
    {
      ...base,
      image,
      version: values.image === undefined ? base.version : (tag ?? base.version),
      trustDomain,
      ca: {
        ...base.ca,
        address: values['ca-address'] ?? base.ca.address,
        identity: base.ca.identity.replace(/^spiffe:\/\/[^/]+/, `spiffe://${trustDomain}`),
      },
    },
    'ztmesh inject flags',
  );
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    filename: { type: 'string', short: 'f' },
    namespace: { type: 'string', short: 'n' },
    values: { type: 'string' },
    'ztmesh-namespace': { type: 'string' },
    image: { type: 'string' },
    'trust-domain': { type: 'string' },
    'ca-address': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const file = requireFlag(values.filename, 'filename');
  const options = optionsFromFlags(values, io.cwd);
  const text = await readInput(file, io);
  const docs = parseManifestText(text, file === '-' ? 'stdin' : file);
  if (docs.length === 0) throw new MeshError('ZTMESH_INJECT_BAD_MANIFEST', `${file === '-' ? 'stdin' : file} holds no Kubernetes objects`);
  const result = injectManifests(docs, options, { namespace: values.namespace ?? 'default' });
  for (const warning of result.warnings) io.stderr.write(`ztmesh inject: ${warning.object}: ${warning.message}\n`);
  io.stdout.write(formatManifestText(result.docs));
  return 0;
}
