import { describe, expect, it } from 'vitest';
import { MeshError } from '../../core/errors/mesh-error.ts';
import { type CommandResult, installInterception, runCommand } from './iptables-install.ts';
import type { InterceptionRules } from './iptables-rules.ts';

const rules: InterceptionRules = {
  proxyUid: 1337, inboundPort: 15006, outboundPort: 15001, adminPort: 15020,
  excludeInboundPorts: [], excludeOutboundPorts: [], excludeOutboundCidrs: [], includeOutboundCidrs: '*',
};

/** A hand-written stand-in for the iptables binaries: records calls, answers from a table. */
function fakeRunner(answers: Record<string, CommandResult | Error>) {
  const calls: { file: string; args: readonly string[]; stdin: string | undefined }[] = [];
  const run = async (file: string, args: readonly string[], stdin?: string): Promise<CommandResult> => {
    calls.push({ file, args, stdin });
    const answer = answers[file] ?? { code: 0, stdout: '', stderr: '' };
    if (answer instanceof Error) throw answer;
    return answer;
  };
  return { run, calls };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof MeshError ? err.code : 'not a MeshError';
  }
}

describe('installInterception', () => {
  it('feeds the script to iptables-restore --noflush, hooking the chains on a first install', async () => {
    const fake = fakeRunner({});
    const [report] = await installInterception(rules, { families: [4], run: fake.run });
    expect(report!.reinstalled).toBe(false);
    expect(fake.calls.map((c) => [c.file, ...c.args].join(' '))).toEqual(['iptables-save -t nat', 'iptables-restore --noflush']);
    expect(fake.calls[1]!.stdin).toContain('-A OUTPUT -p tcp -j ZTMESH_OUTPUT');
  });

  it('refills existing chains without hooking them twice, and does IPv6 with ip6tables', async () => {
    const saved = { code: 0, stdout: '*nat\n:ZTMESH_INBOUND - [0:0]\n-A PREROUTING -p tcp -j ZTMESH_INBOUND\nCOMMIT\n', stderr: '' };
    const fake = fakeRunner({ 'iptables-save': saved, 'ip6tables-save': saved });
    const reports = await installInterception(rules, { families: [4, 6], run: fake.run });
    expect(reports.map((r) => r.reinstalled)).toEqual([true, true]);
    expect(fake.calls.map((c) => c.file)).toEqual(['iptables-save', 'iptables-restore', 'ip6tables-save', 'ip6tables-restore']);
    for (const call of fake.calls.filter((c) => c.file.endsWith('-restore'))) expect(call.stdin).not.toContain('-A PREROUTING');
  });

  it('a failing iptables-restore is ZTMESH_INJECT_IPTABLES_FAILED', async () => {
    const fake = fakeRunner({ 'iptables-restore': { code: 2, stdout: '', stderr: 'iptables-restore: line 3 failed' } });
    expect(await codeOf(installInterception(rules, { families: [4], run: fake.run }))).toBe('ZTMESH_INJECT_IPTABLES_FAILED');
  });

  it('a missing binary is ZTMESH_INJECT_IPTABLES_FAILED too', async () => {
    const missing = Object.assign(new Error('spawn iptables-save ENOENT'), { code: 'ENOENT' });
    const fake = fakeRunner({ 'iptables-save': missing });
    expect(await codeOf(installInterception(rules, { families: [4], run: fake.run }))).toBe('ZTMESH_INJECT_IPTABLES_FAILED');
  });

  it('runCommand reports exit codes and output of a real process', async () => {
    const result = await runCommand(process.execPath, ['-e', 'process.stdin.pipe(process.stdout); process.stderr.write("e"); process.exitCode = 3'], 'in');
    expect(result).toEqual({ code: 3, stdout: 'in', stderr: 'e' });
  });
});
