import { MeshError } from '../../core/errors/mesh-error.ts';

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The CERTIFICATE blocks of a PEM text, in order; `what` names the source in errors. */
export function splitPemCertificates(pem: string, what: string): string[] {
  const blocks = pem.match(CERT_BLOCK);
  if (blocks === null) throw new MeshError('ZTMESH_CA_BAD_CA_MATERIAL', `${what} holds no PEM certificate`, { details: { what } });
  return blocks.map((b) => `${b}\n`);
}
