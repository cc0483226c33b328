import type { SpiffeId } from '../../core/spiffe/spiffe-id.ts';

/** The verified identity of an mTLS peer: its SPIFFE ID and leaf certificate serial (for deny lists). */
export interface PeerInfo {
  readonly id: SpiffeId;
  readonly serial: string;
}
