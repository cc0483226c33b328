#!/usr/bin/env node
// The one ztmesh command. Node 24 runs the TypeScript sources directly (type stripping), so
// `npx ztmesh ...` works right after `npm ci` with no build step.
import module from 'node:module';

// The sidecar caps V8's young generation (semi-spaces of 2 MB instead of up to 16 MB): under
// connection churn the default lets it grow by ~50 MB of resident memory per sidecar, for a few
// percent fewer scavenges. V8 reads the flag only at startup, so the process re-executes itself
// once with it (same pid, nothing started yet). ZTMESH_SIDECAR_V8_FLAGS replaces the flags
// ('' for V8's defaults); a --max-semi-space-size already given (argv or NODE_OPTIONS) is kept.
// ZTMESH_V8_FLAGS_APPLIED marks the re-executed process, so it never re-executes twice.
const SIDECAR_V8_FLAGS = process.env.ZTMESH_SIDECAR_V8_FLAGS ?? '--max-semi-space-size=2';
if (
  process.argv[2] === 'sidecar' && SIDECAR_V8_FLAGS.trim() !== '' && typeof process.execve === 'function' &&
  process.env.ZTMESH_V8_FLAGS_APPLIED !== '1' &&
  ![...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((arg) => arg.includes('--max-semi-space-size'))
) {
  const env = { ...process.env, ZTMESH_V8_FLAGS_APPLIED: '1' };
  process.execve(process.execPath, [process.execPath, ...SIDECAR_V8_FLAGS.trim().split(/\s+/), ...process.execArgv, ...process.argv.slice(1)], env);
}

// Type stripping loads a WebAssembly compiler (~20 MB resident, for the life of the process) the
// first time it strips a file. The compile cache keeps the stripped and compiled code on disk
// ($NODE_COMPILE_CACHE, else <tmpdir>/node-compile-cache), so a warm start never loads it.
// Best effort: without a writable cache directory nothing changes (NODE_DISABLE_COMPILE_CACHE=1 turns it off).
module.enableCompileCache?.();

const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
