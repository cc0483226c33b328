#!/usr/bin/env node
// The one ztmesh command. Node 24 runs the TypeScript sources directly (type stripping), so
// `npx ztmesh ...` works right after `npm ci` with no build step.
import { main } from '../cli/main.ts';

process.exitCode = await main(process.argv.slice(2));
