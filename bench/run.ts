// `npm run bench`: issue 8's side-by-side benchmark. On loopback, against the same app, measures the
// app directly, an nginx mTLS sidecar pair, the ztmesh sidecar pair and a Node TLS byte pipe, in
// alternating rounds, and writes bench/results/latest.{json,md,svg}. See bench/README.md.
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { openBenchSession, startBenchEnv } from './harness/bench-session.ts';
import { ztmeshUnavailableReason } from './harness/contenders/ztmesh-pair.ts';
import { GRPC_PAYLOAD, grpcFrame } from './harness/grpc-request.ts';
import { machineInfo } from './harness/machine-info.ts';
import { replaceResultsSection } from './harness/readme-section.ts';
import { renderMarkdown } from './harness/report-markdown.ts';
import { renderSvg } from './harness/report-svg.ts';
import type { BenchResults, ScenarioResult } from './harness/results.ts';
import { runScenario, type RunSettings } from './harness/run-scenario.ts';
import { SCENARIOS } from './harness/scenarios.ts';
import { ensureTools } from './harness/tools.ts';

const USAGE = `Usage: npm run bench -- [options]

  --quick            1 round x 3 s per contender, 1 s warm-up (default: 5 rounds x 6 s, 2 s warm-up)
  --scenario N       only scenario N (1..5) or one variant (e.g. 1-c16, 4-grpc); repeatable
  --rounds N         rounds per scenario
  --seconds N        seconds per measured run
  --keep             keep the temp dir (configs, PKI, every child's log) and print its path
  --list             list the scenarios and exit
  -h, --help         this text
`;

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const resultsDir = join(repoRoot, 'bench', 'results');
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

function parseOptions() {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      quick: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      seconds: { type: 'string' },
      keep: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  const wanted = values.scenario ?? [];
  const scenarios = wanted.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => wanted.includes(s.id) || wanted.includes(String(s.group)));
  const unknown = wanted.filter((w) => !SCENARIOS.some((s) => s.id === w || String(s.group) === w));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${SCENARIOS.map((s) => s.id).join(', ')}`);
  return {
    help: values.help, list: values.list, keep: values.keep, quick: values.quick, scenarios,
    rounds: positiveInt(values.rounds, 'rounds') ?? (values.quick ? 1 : 5),
    seconds: positiveInt(values.seconds, 'seconds') ?? (values.quick ? 3 : 6),
    warmupSeconds: values.quick ? 1 : 2,
  };
}

async function clockTicks(): Promise<number> {
  const { stdout } = await promisify(execFile)('getconf', ['CLK_TCK']).catch(() => ({ stdout: '100' }));
  return Number(stdout.trim()) || 100;
}

async function main(): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions();
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    say(USAGE);
    return 0;
  }
  if (options.list) {
    for (const s of SCENARIOS) say(`${s.id.padEnd(20)} ${s.title}`);
    return 0;
  }
  try {
    await ensureTools(say);
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }

  const session = await openBenchSession('ztmesh-bench-', 'bench', { keep: options.keep, say });
  const tmpDir = session.tmpDir;
  try {
    const startedAt = new Date().toISOString();
    say(`bench: temp dir ${tmpDir}; ${options.rounds} round(s) x ${options.seconds} s per contender`);
    const unavailable = ztmeshUnavailableReason(repoRoot);
    if (unavailable !== undefined) say(`bench: ztmesh contender not available: ${unavailable}`);
    const env = await startBenchEnv(session, repoRoot);
    const nodeBin = env.nodeBin;
    const grpcDataFile = join(tmpDir, 'grpc-echo.bin');
    await writeFile(grpcDataFile, grpcFrame(GRPC_PAYLOAD));
    const settings: RunSettings = {
      rounds: options.rounds, seconds: options.seconds, warmupSeconds: options.warmupSeconds, wrkThreads: 1,
      grpcDataFile, ticksPerSecond: await clockTicks(), say,
    };
    const machine = await machineInfo(nodeBin);
    const scenarios: ScenarioResult[] = [];
    for (const scenario of options.scenarios) scenarios.push(await runScenario(scenario, env, settings));
    const results: BenchResults = {
      startedAt, finishedAt: new Date().toISOString(), machine: { ...machine, loadAverageAtEnd: loadavg() },
      settings: { rounds: settings.rounds, seconds: settings.seconds, warmupSeconds: settings.warmupSeconds, wrkThreads: settings.wrkThreads, quick: options.quick },
      scenarios,
    };
    await mkdir(resultsDir, { recursive: true });
    const markdown = renderMarkdown(results);
    // A run of every scenario is `latest`; a --scenario subset must not clobber it.
    const complete = options.scenarios.length === SCENARIOS.length;
    const base = complete ? 'latest' : 'partial';
    await writeFile(join(resultsDir, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(join(resultsDir, `${base}.md`), markdown);
    await writeFile(join(resultsDir, `${base}.svg`), renderSvg(results));
    say(`\n${markdown}`);
    say(`bench: wrote bench/results/${base}.json, ${base}.md, ${base}.svg`);
    if (complete) {
      // The READMEs show the latest complete run (a --scenario subset leaves them alone).
      for (const readmeFile of [join(repoRoot, 'README.md'), join(repoRoot, 'bench', 'README.md')]) {
        const readme = await readFile(readmeFile, 'utf8').catch(() => undefined);
        if (readme === undefined) continue;
        await writeFile(readmeFile, replaceResultsSection(readme, markdown.replace(/^# .*\n/, '').replace(/^### /gm, '#### ')));
        say(`bench: updated the results section of ${relative(repoRoot, readmeFile)}`);
      }
    }
    return 0;
  } catch (err) {
    process.stderr.write(`bench: failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await session.close();
  }
}

process.exitCode = await main();
