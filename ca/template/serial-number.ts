import { randomBytes } from 'node:crypto';

/**
 * A random positive serial number as hex, as the X.509-SVID profile asks (RFC 5280: positive, at most
 * 20 octets). 16 random bytes with the sign bit cleared: 127 random bits, and never a leading zero
 * octet, so the DER encoding is exactly 16 octets.
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  if (bytes[0] === 0) bytes[0] = 0x01;
  return bytes.toString('hex');
}
