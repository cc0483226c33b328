/**
 * The three X.509 extensions the SVID rules read (basicConstraints, keyUsage, subjectAltName URIs),
 * taken from a certificate's DER with a minimal reader. The sidecar used to parse the whole
 * certificate with @peculiar/x509, whose ASN.1 schemas, tsyringe and reflect-metadata cost ~20 MB
 * of resident memory in every sidecar for three fields; node:crypto's X509Certificate exposes the
 * chain checks but not keyUsage bits. Anything that is not well-formed DER throws: the caller fails
 * closed. The certificate's signature and chain were checked by the TLS handshake before this runs.
 */

export interface SvidExtensions {
  /** basicConstraints cA (false when the extension is absent). */
  readonly isCa: boolean;
  /** keyUsage has keyCertSign or cRLSign. */
  readonly signsCerts: boolean;
  /** Every uniformResourceIdentifier of subjectAltName, in order. */
  readonly uris: readonly string[];
}

const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
/** [3] EXPLICIT Extensions in TBSCertificate. */
const EXTENSIONS = 0xa3;
/** GeneralName uniformResourceIdentifier: [6] IMPLICIT IA5String. */
const URI_NAME = 0x86;

/** 2.5.29.19, 2.5.29.15, 2.5.29.17 as DER OID contents. */
const OID_BASIC_CONSTRAINTS = '551d13';
const OID_KEY_USAGE = '551d0f';
const OID_SUBJECT_ALT_NAME = '551d11';

/** keyUsage bits 5 (keyCertSign) and 6 (cRLSign): in the first content byte, bit 0 being 0x80. */
const SIGNS_CERTS_MASK = 0x04 | 0x02;

class Reader {
  readonly #der: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(der: Uint8Array, pos: number, end: number) {
    this.#der = der;
    this.pos = pos;
    this.end = end;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** The next element's tag without consuming it. */
  peekTag(): number {
    if (this.pos >= this.end) throw new Error('DER: unexpected end');
    return this.#der[this.pos]!;
  }

  /** Consumes the next element and returns a reader over its contents; `tag` must match when given. */
  next(tag?: number): Reader {
    const der = this.#der;
    if (this.pos + 2 > this.end) throw new Error('DER: truncated element');
    const actual = der[this.pos]!;
    if ((actual & 0x1f) === 0x1f) throw new Error('DER: high tag numbers are not used in certificates');
    if (tag !== undefined && actual !== tag) throw new Error(`DER: expected tag 0x${tag.toString(16)}, got 0x${actual.toString(16)}`);
    let p = this.pos + 1;
    let length = der[p++]!;
    if (length >= 0x80) {
      const bytes = length & 0x7f;
      // 0x80 is BER's indefinite length, not DER; four length bytes cover anything a certificate holds.
      if (bytes === 0 || bytes > 4 || p + bytes > this.end) throw new Error('DER: bad length');
      length = 0;
      for (let i = 0; i < bytes; i++) length = length * 256 + der[p++]!;
    }
    const start = p;
    const end = start + length;
    if (end > this.end) throw new Error('DER: element runs past its parent');
    this.pos = end;
    return new Reader(der, start, end);
  }

  hex(): string {
    return Buffer.from(this.#der.buffer, this.#der.byteOffset + this.pos, this.end - this.pos).toString('hex');
  }

  byteAt(offset: number): number {
    if (this.pos + offset >= this.end) throw new Error('DER: unexpected end');
    return this.#der[this.pos + offset]!;
  }

  latin1(): string {
    return Buffer.from(this.#der.buffer, this.#der.byteOffset + this.pos, this.end - this.pos).toString('latin1');
  }
}

/** Reads basicConstraints, keyUsage and the SAN URIs of a DER certificate; throws on malformed DER or a repeated extension. */
export function readSvidExtensions(der: Uint8Array): SvidExtensions {
  const outer = new Reader(der, 0, der.length);
  const certificate = outer.next(SEQUENCE);
  if (!outer.done) throw new Error('DER: trailing bytes after the certificate');
  const tbs = certificate.next(SEQUENCE);
  let isCa = false;
  let signsCerts = false;
  const uris: string[] = [];
  const seen = new Set<string>();
  while (!tbs.done) {
    if (tbs.peekTag() !== EXTENSIONS) {
      tbs.next();
      continue;
    }
    const list = tbs.next(EXTENSIONS).next(SEQUENCE);
    while (!list.done) {
      const extension = list.next(SEQUENCE);
      const oid = extension.next(OID).hex();
      if (extension.peekTag() === BOOLEAN) extension.next(BOOLEAN);
      const value = extension.next(OCTET_STRING);
      if (!extension.done) throw new Error('DER: extra fields in an extension');
      // RFC 5280 4.2: a certificate must not include more than one instance of an extension.
      if (seen.has(oid)) throw new Error('a certificate extension appears twice');
      seen.add(oid);
      if (oid === OID_BASIC_CONSTRAINTS) {
        const constraints = value.next(SEQUENCE);
        // cA BOOLEAN DEFAULT FALSE: absent means false; DER encodes TRUE as 0xff.
        if (!constraints.done && constraints.peekTag() === BOOLEAN) isCa = constraints.next(BOOLEAN).byteAt(0) !== 0;
      } else if (oid === OID_KEY_USAGE) {
        const bits = value.next(BIT_STRING);
        // The first content byte counts unused trailing bits; bits 0..7 follow in the next byte.
        signsCerts = bits.end - bits.pos > 1 && (bits.byteAt(1) & SIGNS_CERTS_MASK) !== 0;
      } else if (oid === OID_SUBJECT_ALT_NAME) {
        const names = value.next(SEQUENCE);
        while (!names.done) {
          const tag = names.peekTag();
          const name = names.next();
          if (tag === URI_NAME) uris.push(name.latin1());
        }
      }
    }
  }
  return { isCa, signsCerts, uris };
}
