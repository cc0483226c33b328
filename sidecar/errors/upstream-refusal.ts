import { errorCode } from '../../core/errors/mesh-error.ts';
import { refusal, type Refusal } from './refusal.ts';

const REFUSED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * Maps why an upstream connection failed before any response byte to the sidecar's answer:
 * a wrong peer identity or failed mTLS is 502 with its own code, a refused connection 503, a
 * reset or early close 502.
 */
export function upstreamRefusal(err: unknown, what: string): Refusal {
  const code = errorCode(err);
  if (code === 'ZTMESH_SIDECAR_WRONG_PEER_IDENTITY') {
    return refusal(502, 'ZTMESH_SIDECAR_WRONG_PEER_IDENTITY', `${what} presented an unexpected identity`);
  }
  if (code === 'ZTMESH_SIDECAR_NO_CREDENTIALS') return refusal(503, 'ZTMESH_SIDECAR_NO_CREDENTIALS', 'this sidecar holds no valid SVID');
  if (REFUSED.has(code)) return refusal(503, 'ZTMESH_SIDECAR_UPSTREAM_REFUSED', `${what} refused the connection (${code})`);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || code.includes('CERT') || code.includes('VERIFY') || code === 'ZTMESH_SIDECAR_PEER_TLS_FAILED') {
    return refusal(502, 'ZTMESH_SIDECAR_PEER_TLS_FAILED', `mTLS handshake with ${what} failed (${code})`);
  }
  return refusal(502, 'ZTMESH_SIDECAR_UPSTREAM_REFUSED', `${what} closed the connection before answering${code === 'UNKNOWN' ? '' : ` (${code})`}`);
}
