import type { KeyObject } from 'node:crypto';
import type { Credentials } from '../tls/credentials.ts';

/** The data plane's `buildCredentials` (sidecar/tls/build-credentials.ts), passed in so sources stay testable. */
export type BuildCredentials = (input: { certChainPem: string; privateKey: KeyObject | string; bundlePem: string; trustDomain: string }) => Credentials;
