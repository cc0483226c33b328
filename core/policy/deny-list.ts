import type { MeshConfig } from './mesh-config.ts';

/**
 * The mesh-wide deny list in a form the handshake path and the evaluator query in O(1): SPIFFE IDs
 * exactly, certificate serials as uppercase hex without colons or leading zeros (so `0a:1B` and
 * `A1B` compare equal whatever tool printed them).
 */
export interface DenyList {
  readonly size: number;
  hasSpiffeId(id: string): boolean;
  hasSerial(serialHex: string): boolean;
}

export function normalizeSerial(serial: string): string {
  const hex = serial.replace(/:/g, '').toUpperCase().replace(/^0+/, '');
  return hex === '' ? '0' : hex;
}

export function compileDenyList(config: MeshConfig['denyList']): DenyList {
  const ids = new Set<string>(config.spiffeIds);
  const serials = new Set(config.serials.map(normalizeSerial));
  return {
    size: ids.size + serials.size,
    hasSpiffeId: (id) => ids.has(id),
    hasSerial: (serial) => serials.has(normalizeSerial(serial)),
  };
}
