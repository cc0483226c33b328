import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { SelfManagedWebhookCa } from './self-managed-webhook-ca.ts';

const DNS = ['ztmesh-operator.ztmesh-system.svc', 'ztmesh-operator.ztmesh-system.svc.cluster.local'];

async function handshake(ca: SelfManagedWebhookCa, servername: string): Promise<{ authorized: boolean; error: string | undefined }> {
  const { certPem, keyPem } = ca.current();
  const server = createServer({ cert: certPem, key: keyPem }, (s) => s.end());
  server.on('tlsClientError', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const socket = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, ca: ca.caBundlePem, servername, rejectUnauthorized: false });
    socket.on('error', () => undefined);
    await once(socket, 'secureConnect');
    const result = { authorized: socket.authorized, error: socket.authorizationError?.toString() };
    socket.destroy();
    return result;
  } finally {
    server.close();
  }
}

describe('SelfManagedWebhookCa', () => {
  it('serves a certificate the kube-apiserver would accept for the Service DNS names, chained to caBundle', async () => {
    const ca = await SelfManagedWebhookCa.create({ dnsNames: DNS });
    const leaf = new X509Certificate(ca.current().certPem);
    expect(leaf.subjectAltName).toBe(`DNS:${DNS[0]}, DNS:${DNS[1]}`);
    expect(leaf.ca).toBe(false);
    expect(new X509Certificate(ca.caBundlePem).ca).toBe(true);
    expect(await handshake(ca, DNS[0]!)).toEqual({ authorized: true, error: undefined });
    expect(await handshake(ca, DNS[1]!)).toEqual({ authorized: true, error: undefined });
  });

  it('is refused for another DNS name and by another CA instance', async () => {
    const ca = await SelfManagedWebhookCa.create({ dnsNames: DNS });
    const other = await SelfManagedWebhookCa.create({ dnsNames: DNS });
    expect((await handshake(ca, 'evil.ztmesh-system.svc')).error).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    const { certPem } = ca.current();
    expect(new X509Certificate(certPem).verify(new X509Certificate(other.caBundlePem).publicKey)).toBe(false);
  });

  it('renews the serving certificate after two thirds of its lifetime, keeping the caBundle', async () => {
    let now = Date.UTC(2026, 0, 1);
    const ca = await SelfManagedWebhookCa.create({ dnsNames: DNS, certTtlMs: 3_600_000, now: () => now });
    const bundle = ca.caBundlePem;
    const first = ca.current();
    expect(ca.servingNotAfter).toBe(now + 3_600_000);
    now += 2_300_000;
    expect(ca.current()).toBe(first);
    now += 200_000; // past 2/3 of the hour
    expect(ca.current()).toBe(first); // renewal runs in the background; the current one keeps serving
    await new Promise<void>((resolve) => {
      const check = (): void => (ca.current() !== first ? resolve() : void setImmediate(check));
      check();
    });
    expect(ca.current().keyPem).not.toBe(first.keyPem);
    expect(ca.servingNotAfter).toBe(now + 3_600_000);
    expect(ca.caBundlePem).toBe(bundle);
  });

  it('caps a serving certificate at the CA expiry', async () => {
    const now = Date.UTC(2026, 0, 1);
    const ca = await SelfManagedWebhookCa.create({ dnsNames: DNS, caTtlMs: 1_000_000, certTtlMs: 3_600_000, now: () => now });
    expect(ca.servingNotAfter).toBe(now + 1_000_000);
  });
});
