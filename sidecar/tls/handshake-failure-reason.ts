import { errorCode } from '../../core/errors/mesh-error.ts';

/**
 * A bounded label for why a TLS handshake from a client failed (the `reason` of
 * `ztmesh_tls_handshake_failures_total`): never the raw OpenSSL text.
 */
export function handshakeFailureReason(err: unknown): string {
  const code = errorCode(err);
  const text = err instanceof Error ? err.message : '';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'reset';
  if (code.includes('PEER_DID_NOT_RETURN_A_CERTIFICATE') || /peer did not return a certificate|no certificate/i.test(text)) return 'no_client_cert';
  if (code.includes('HTTP_REQUEST') || /http request/i.test(text)) return 'plaintext';
  if (code.includes('UNSUPPORTED_PROTOCOL') || code.includes('VERSION') || /unsupported protocol|version/i.test(text)) return 'protocol_version';
  if (code.includes('CERT_HAS_EXPIRED') || /expired/i.test(text)) return 'cert_expired';
  if (code.includes('CERT_NOT_YET_VALID') || /not yet valid/i.test(text)) return 'cert_not_yet_valid';
  if (code.includes('ISSUER') || code.includes('SELF_SIGNED') || code.includes('UNABLE_TO_VERIFY') || code.includes('SIGNATURE')) return 'untrusted_cert';
  if (/certificate|verify|unknown ca|issuer/i.test(text) || code.includes('CERT')) return 'untrusted_cert';
  if (code.includes('WRONG_VERSION_NUMBER') || code.includes('PACKET_LENGTH') || /wrong version number|packet length/i.test(text)) return 'plaintext';
  if (code.includes('ALPN') || /application protocol/i.test(text)) return 'alpn';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER' || /no shared/i.test(text)) return 'no_shared_cipher';
  if (code.includes('TIMEOUT') || code === 'ETIMEDOUT') return 'timeout';
  return 'other';
}
