import { performance } from 'node:perf_hooks';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { LocalDemo } from '../../demo/local-demo.ts';
import { colorVerdict } from '../../demo/terminal-text.ts';
import { MAX_PORT_OFFSET } from '../../demo/topology.ts';
import { parseFlags } from '../args.ts';
import type { CliIo } from '../io.ts';

const HELP = `Usage: ztmesh demo [options]      (this is what \`npm start\` runs)

Brings up a local mesh on loopback: the CA, and frontend, orders and payments each behind its own
sidecar. Open http://127.0.0.1:8080/ ; Ctrl-C stops everything. Ports: README.md, "The local mesh: npm start".

  --state-dir DIR      keep the CA, tokens, configs and policies in DIR (new or empty; kept afterwards)
                       (env ZTMESH_DEMO_STATE_DIR; default: a temporary directory, removed at exit)
  --port-offset N      add N to every port, to run beside another demo (env ZTMESH_DEMO_PORT_OFFSET)
  --verbose            also show the sidecars' and the CA's routine log lines
`;

function parseOffset(text: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > MAX_PORT_OFFSET) {
    throw new MeshError('ZTMESH_CLI_BAD_ARGS', `--port-offset: ${JSON.stringify(text)} is not a whole number from 0 to ${MAX_PORT_OFFSET}`);
  }
  return Number(text);
}

export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseFlags(argv, {
    'state-dir': { type: 'string' },
    'port-offset': { type: 'string' },
    verbose: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    io.stdout.write(HELP);
    return 0;
  }
  const offsetText = values['port-offset'] ?? io.env['ZTMESH_DEMO_PORT_OFFSET'];
  const color = (io.stdout as { isTTY?: boolean }).isTTY === true;
  let stdoutBroken = false;
  const say = (text: string): void => {
    if (!stdoutBroken) io.stdout.write(text);
  };
  const demo = new LocalDemo({
    stateDir: values['state-dir'] ?? (io.env['ZTMESH_DEMO_STATE_DIR'] || undefined),
    portOffset: offsetText === undefined || offsetText === '' ? 0 : parseOffset(offsetText),
    verbose: values.verbose === true,
    env: io.env,
    cwd: io.cwd,
    print: (line) => say(`${color ? colorVerdict(line) : line}\n`),
  });

  // Ctrl-C (and a second, forwarded copy from npm) and SIGTERM all mean: stop cleanly.
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  const onExit = (): void => demo.killNow();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  // A closed terminal or pipe (`npm start | head`) also stops the demo cleanly instead of crashing it.
  const onStdoutError = (): void => {
    stdoutBroken = true;
    abort.abort();
  };
  io.stdout.on('error', onStdoutError);
  const started = performance.now();
  const stopped = new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
  try {
    try {
      await demo.start(abort.signal);
    } catch (err) {
      if (abort.signal.aborted) {
        say('ztmesh demo: interrupted during start-up, shutting down\n');
        return 0;
      }
      throw err;
    }
    const { frontend } = demo.topology.services;
    say(
      `\nztmesh demo: the mesh is up (${((performance.now() - started) / 1000).toFixed(1)} s). Open http://127.0.0.1:${frontend.ports.app}/  ` +
        `(or: curl -H 'Accept: application/json' http://127.0.0.1:${frontend.ports.app}/)\n` +
        'ztmesh demo: one line per authorization decision follows. Ctrl-C to stop.\n\n',
    );
    const outcome = await Promise.race([stopped.then(() => undefined), demo.failed]);
    if (outcome !== undefined) throw outcome;
    say('\nztmesh demo: shutting down\n');
    return 0;
  } finally {
    await demo.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
    if (abort.signal.aborted) say('ztmesh demo: stopped\n');
    // A broken stdout keeps its listener: a write still in flight may yet report the error.
    if (!stdoutBroken) io.stdout.off('error', onStdoutError);
  }
}
