import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type InterceptionRules, renderIptablesScript } from './iptables-rules.ts';
import { parseCidrList, parseIncludeCidrs } from './port-list.ts';

const base: InterceptionRules = {
  proxyUid: 1337,
  inboundPort: 15006,
  outboundPort: 15001,
  adminPort: 15020,
  excludeInboundPorts: [22, 9000],
  excludeOutboundPorts: [5432],
  excludeOutboundCidrs: parseCidrList('169.254.169.254,fd00::/8', 'test'),
  includeOutboundCidrs: '*',
};

function golden(name: string, actual: string): void {
  const file = new URL(`../../test/fixtures/k8s/golden/${name}`, import.meta.url);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, actual);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('renderIptablesScript', () => {
  it('IPv4 script with exclusions (golden)', () => {
    golden('iptables-v4.rules', renderIptablesScript(base, { family: 4, hookChains: true }));
  });

  it('IPv6 script keeps only IPv6 CIDRs (golden)', () => {
    const script = renderIptablesScript(base, { family: 6, hookChains: true });
    golden('iptables-v6.rules', script);
    expect(script).not.toContain('169.254.169.254');
    expect(script).toContain('-A ZTMESH_OUTPUT -d fd00::/8 -j RETURN');
    expect(script).toContain('-d ::1/128 -j RETURN');
  });

  it('with included CIDRs, only those destinations are redirected', () => {
    const script = renderIptablesScript({ ...base, includeOutboundCidrs: parseIncludeCidrs('10.0.0.0/8,192.168.0.0/16', 'test') }, { family: 4, hookChains: true });
    expect(script).toContain('-A ZTMESH_OUTPUT -p tcp -d 10.0.0.0/8 -j ZTMESH_REDIRECT');
    expect(script).toContain('-A ZTMESH_OUTPUT -p tcp -d 192.168.0.0/16 -j ZTMESH_REDIRECT');
    expect(script).not.toContain('-A ZTMESH_OUTPUT -p tcp -j ZTMESH_REDIRECT');
  });

  it("the proxy's own traffic is excluded before any redirect (no loops)", () => {
    const lines = renderIptablesScript(base, { family: 4, hookChains: true }).split('\n');
    const owner = lines.indexOf('-A ZTMESH_OUTPUT -m owner --uid-owner 1337 -j RETURN');
    const redirect = lines.findIndex((l) => l.startsWith('-A ZTMESH_OUTPUT') && l.endsWith('-j ZTMESH_REDIRECT'));
    expect(owner).toBeGreaterThan(-1);
    expect(owner).toBeLessThan(redirect);
  });

  it('the admin port is never intercepted inbound', () => {
    const script = renderIptablesScript({ ...base, excludeInboundPorts: [] }, { family: 4, hookChains: true });
    expect(script).toContain('-A ZTMESH_INBOUND -p tcp --dport 15020 -j RETURN');
  });

  it('a re-run refills the chains without hooking them again', () => {
    const script = renderIptablesScript(base, { family: 4, hookChains: false });
    expect(script).not.toContain('-A PREROUTING');
    expect(script).not.toContain('-A OUTPUT');
    expect(script).toContain(':ZTMESH_INBOUND - [0:0]');
  });
});
