// @peculiar/x509 resolves its ASN.1 providers through tsyringe, which needs the Reflect metadata
// polyfill loaded first. Every ztmesh module reaches @peculiar/x509 through this file, so the
// order is guaranteed in one place.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export { x509 };
