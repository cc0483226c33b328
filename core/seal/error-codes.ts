import { defineCodes } from '../errors/code-registry.ts';

export const sealCodes = defineCodes('SEAL', {
  ZTMESH_SEAL_NO_KEY: 'No seal key was given: set ZTMESH_SEAL_KEY or pass --seal-key-file.',
  ZTMESH_SEAL_BAD_KEY: 'A seal key is not base64 of exactly 32 bytes, or a key file is malformed.',
  ZTMESH_SEAL_WRONG_KEY: 'No seal key on hand has the key id a sealed file was written with.',
  ZTMESH_SEAL_CORRUPT: 'A sealed file is truncated, tampered with, or not a ztmesh sealed file; the message names the file.',
  ZTMESH_SEAL_UNSUPPORTED_VERSION: 'A sealed file has a format version this ztmesh does not read.',
  ZTMESH_SEAL_IO: 'A sealed file could not be read or written.',
});
