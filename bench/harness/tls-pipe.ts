// The "Node TLS byte pipe" reference contender: the floor issue 8 quotes (no HTTP parsing, no pooling:
// one mTLS connection per client connection, bytes piped both ways). Run as a child of the harness:
//   node tls-pipe.ts outbound|inbound LISTEN_PORT TARGET_PORT CERT KEY BUNDLE PEER_SPIFFE_ID
import { readFileSync } from 'node:fs';
import { createServer, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, createServer as createTlsServer, type PeerCertificate, type TLSSocket } from 'node:tls';

const [mode, listenPort, targetPort, certFile, keyFile, bundleFile, peerId] = process.argv.slice(2);
if ((mode !== 'outbound' && mode !== 'inbound') || peerId === undefined) {
  process.stderr.write('usage: tls-pipe.ts outbound|inbound LISTEN_PORT TARGET_PORT CERT KEY BUNDLE PEER_SPIFFE_ID\n');
  process.exit(2);
}
const credentials = { cert: readFileSync(certFile!), key: readFileSync(keyFile!), ca: readFileSync(bundleFile!), minVersion: 'TLSv1.3' } as const;
// One client context for every outbound connection (built once; a handshake per connection still).
const context = createSecureContext(credentials);
const peerOk = (cert: PeerCertificate | undefined): boolean => cert?.subjectaltname === `URI:${peerId}`;

function join(a: Socket, b: Socket): void {
  a.pipe(b);
  b.pipe(a);
  a.on('close', () => b.destroy());
  b.on('close', () => a.destroy());
}

if (mode === 'outbound') {
  createServer({ noDelay: true }, (plain) => {
    plain.on('error', () => plain.destroy());
    const secure = tlsConnect({
      host: '127.0.0.1', port: Number(targetPort), secureContext: context, servername: 'server',
      checkServerIdentity: (_host, cert) => (peerOk(cert) ? undefined : new Error(`server is not ${peerId}`)),
    });
    secure.on('error', () => plain.destroy());
    secure.setNoDelay(true);
    join(plain, secure);
  }).listen(Number(listenPort), '127.0.0.1');
} else {
  createTlsServer({ ...credentials, requestCert: true, rejectUnauthorized: true, noDelay: true }, (secure: TLSSocket) => {
    secure.on('error', () => secure.destroy());
    secure.setNoDelay(true);
    if (!peerOk(secure.getPeerCertificate())) {
      secure.destroy();
      return;
    }
    const plain = netConnect({ host: '127.0.0.1', port: Number(targetPort), noDelay: true });
    plain.on('error', () => secure.destroy());
    join(secure, plain);
  }).on('tlsClientError', () => undefined).listen(Number(listenPort), '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
