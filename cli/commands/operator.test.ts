import { describe, expect, it } from 'vitest';
import { parseOperatorArgs } from './operator.ts';

const FILES = ['--cert-file', 'svid.pem', '--key-file', 'key.pem', '--bundle-file', 'bundle.pem'];
const CA = ['--ca-address', 'ztmesh-ca.ztmesh-system.svc:8443', '--ca-token-file', 'token', '--ca-bundle-file', 'bundle.pem'];
const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('parseOperatorArgs', () => {
  it('takes the SVID from files, resolved against the working directory', () => {
    const o = parseOperatorArgs(['--trust-domain', 'td', ...FILES], {}, '/w')!;
    expect(o.identity).toEqual({ kind: 'files', certFile: '/w/svid.pem', keyFile: '/w/key.pem', bundleFile: '/w/bundle.pem' });
    expect(o.webhook).toBeUndefined();
    expect(o.distributionListen).toBe('0.0.0.0:15012');
  });

  it('takes the SVID from the CA and serves the webhook, with DNS names from the pod namespace by default', () => {
    const o = parseOperatorArgs(['--trust-domain', 'td', ...CA, '--webhook-listen', '0.0.0.0:9443', '--injector-config', 'inj.yaml', '--webhook-configuration', 'ztmesh-sidecar-injector'], { POD_NAMESPACE: 'mesh', POD_NAME: 'op-1' }, '/w')!;
    expect(o.identity).toEqual({ kind: 'ca', address: 'ztmesh-ca.ztmesh-system.svc:8443', tokenFile: '/w/token', bundleFile: '/w/bundle.pem' });
    expect(o.webhook).toEqual({ listen: '0.0.0.0:9443', injectorConfigFile: '/w/inj.yaml', configurationName: 'ztmesh-sidecar-injector', dnsNames: ['ztmesh-operator.mesh.svc', 'ztmesh-operator.mesh.svc.cluster.local'] });
    expect(o.leaseNamespace).toBe('mesh');
    expect(o.holderIdentity).toBe('op-1');
  });

  it('serves the dashboard only when asked: loopback without a token, any address with one; the report grace as a duration', () => {
    const off = parseOperatorArgs(['--trust-domain', 'td', ...FILES], {}, '/w')!;
    expect(off.dashboard).toBeUndefined();
    expect(off.reportGraceMs).toBe(60_000);
    expect(parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '127.0.0.1:8090', '--report-grace', '5m'], {}, '/w')).toMatchObject({
      dashboard: { listen: { host: '127.0.0.1', port: 8090 }, tokenFile: undefined }, reportGraceMs: 300_000,
    });
    expect(parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '0.0.0.0:8090', '--dashboard-token-file', 'tok'], {}, '/w')!.dashboard).toEqual({ listen: { host: '0.0.0.0', port: 8090 }, tokenFile: '/w/tok' });
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '0.0.0.0:8090'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-token-file', 'tok'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', 'nope'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--report-grace', 'soon'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '0.0.0.0:8090', '--dashboard-token-file', 'tok', '--dashboard-peers', 'ztmesh-operator-peers.mesh.svc'], {}, '/w')!.dashboard?.peers).toBe('ztmesh-operator-peers.mesh.svc');
    // Peers need the shared token and a fixed port.
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '127.0.0.1:8090', '--dashboard-peers', 'peers.mesh.svc'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--dashboard-listen', '0.0.0.0:0', '--dashboard-token-file', 'tok', '--dashboard-peers', 'peers.mesh.svc'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
  });

  it('refuses both identity sources, neither, half of one, and webhook flags without --webhook-listen', () => {
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, ...CA], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', '--ca-address', 'ca:1'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...CA.slice(2), '--ca-address', 'no-port'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--injector-config', 'x'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--webhook-listen', ':1'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs(['--trust-domain', 'td', ...FILES, '--webhook-listen', ':1', '--injector-config', 'x', '--webhook-dns-names', 'Bad_Name'], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
    expect(code(() => parseOperatorArgs([...FILES], {}, '/'))).toBe('ZTMESH_CLI_BAD_ARGS');
  });

  it('returns undefined for --help', () => {
    expect(parseOperatorArgs(['--help'], {}, '/')).toBeUndefined();
  });
});
