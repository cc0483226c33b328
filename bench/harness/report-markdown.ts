import type { BenchResults, ContenderResult, ScenarioResult } from './results.ts';

function num(value: number | undefined, digits: number): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

function thousands(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : Math.round(value).toLocaleString('en-US');
}

function pair(values: Readonly<Partial<Record<'outbound' | 'inbound', number>>> | undefined, digits: number): string {
  if (values === undefined || (values.outbound === undefined && values.inbound === undefined)) return '—';
  return `${num(values.outbound, digits)} / ${num(values.inbound, digits)}`;
}

function signed(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
}

function ratio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? 'n/a' : `${value.toFixed(2)}×`;
}

function row(c: ContenderResult): string {
  if (!c.available || c.median === undefined) {
    return `| ${c.label} | not available: ${(c.reason ?? 'no run').replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 300)} ||||||||||`;
  }
  const m = c.median;
  const vs = c.vsNginx;
  return [
    '', c.label, thousands(m.requestsPerSecond), num(m.megabytesPerSecond, 1),
    `${num(m.latencyMs.p50, 2)} / ${num(m.latencyMs.p99, 2)} / ${num(m.latencyMs.p999, 2)}`,
    c.addedLatencyMs === undefined ? '—' : `${signed(c.addedLatencyMs.p50, 2)} / ${signed(c.addedLatencyMs.p99, 2)}`,
    pair(m.cpuPer1k, 3), pair(c.peakRssMb, 1),
    vs === undefined ? '—' : ratio(vs.throughput),
    vs === undefined ? '—' : ratio(vs.p99),
    vs === undefined ? '—' : `${ratio(vs.cpuPer1kOutbound)} / ${ratio(vs.cpuPer1kInbound)}`,
    '',
  ].join(' | ').trim();
}

function scenarioTable(s: ScenarioResult): string {
  const lines = [
    `### ${s.id}: ${s.title}`,
    '',
    `Load: \`${s.load}\``,
    '',
    '| contender | req/s | MB/s | p50 / p99 / p99.9 ms | added p50 / p99 ms | CPU-s per 1k req (out / in) | peak RSS MB (out / in) | throughput × nginx | p99 × nginx | CPU × nginx (out / in) |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...s.contenders.map(row),
  ];
  const notes = s.contenders.flatMap((c) => (c.notes ?? []).map((n) => `- ${c.label}: ${n}`));
  return [...lines, ...(notes.length > 0 ? ['', ...notes] : [])].join('\n');
}

/** bench/results/latest.md: the machine, the settings, and one table per scenario. */
export function renderMarkdown(results: BenchResults): string {
  const m = results.machine;
  const st = results.settings;
  return [
    '# ztmesh benchmark results',
    '',
    `Run ${results.startedAt} → ${results.finishedAt} by \`npm run bench${st.quick ? ' -- --quick' : ''}\`.`,
    '',
    `Machine: ${m.nproc} CPUs (\`nproc\`), ${m.cpuModel}, Linux ${m.kernel}; node ${m.node}, nginx ${m.nginx}, wrk ${m.wrk}, h2load ${m.h2load}, OpenSSL ${m.openssl}.`,
    '',
    `Load average (1/5/15 min) at start: ${m.loadAverageAtStart.map((v) => v.toFixed(2)).join(' / ')}, at end: ${m.loadAverageAtEnd.map((v) => v.toFixed(2)).join(' / ')} (anything else running on the machine skews every contender; the rounds alternate so that it skews them alike).`,
    '',
    `Settings: ${st.rounds} round(s) × ${st.seconds} s per contender, contenders alternating, medians reported; ${st.warmupSeconds} s warm-up each; wrk -t${st.wrkThreads}; everything on 127.0.0.1; every proxy one process, one worker.`,
    '',
    'CPU is utime+stime of each proxy process over a run, divided by thousands of requests served (equivalently vCPU per 1,000 req/s). Peak RSS is VmHWM at the end of the scenario. "× nginx" divides by the nginx mTLS pair\'s figure in the same scenario: above 1 is better for throughput, worse for latency and CPU.',
    '',
    ...results.scenarios.flatMap((s) => [scenarioTable(s), '']),
  ].join('\n');
}
