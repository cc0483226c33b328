import type { HostPort } from '../config/host-port.ts';
import type { PeerInfo } from '../tls/peer-info.ts';

export type { HostPort } from '../config/host-port.ts';

/** A running listener of the data plane (inbound, outbound, or a TCP service listener). */
export interface ProxyServer {
  /** Actual bound address (listen port 0 in tests). */
  readonly address: HostPort;
  connections(): number;
  /** Close open connections whose peer matches (deny-list changes): returns how many. */
  closeWhere(match: (peer: PeerInfo) => boolean): number;
  /**
   * Tell peers to go elsewhere (HTTP/1.1 `Connection: close`, idle connections closed, h2 GOAWAY),
   * keep accepting for `noticeMs` (inbound; default 0), stop accepting, let in-flight requests
   * finish up to graceMs, then close everything.
   */
  drain(graceMs: number, noticeMs?: number): Promise<void>;
  close(): Promise<void>;
}
