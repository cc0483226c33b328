import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chartGeneratedFiles } from '../operator/inject/chart-generated-files.ts';

// Regenerates charts/ztmesh/values.schema.json and the CRDs from the zod schemas.
for (const [path, text] of Object.entries(chartGeneratedFiles())) {
  const file = new URL(`../charts/ztmesh/${path}`, import.meta.url);
  mkdirSync(dirname(file.pathname), { recursive: true });
  writeFileSync(file, text);
}
