import { createTestCa, type TestCa } from '../../ca/testing/test-ca.ts';
import { kubernetesSpiffeId } from '../../core/spiffe/spiffe-id.ts';
import { buildCredentials } from '../../sidecar/tls/build-credentials.ts';
import type { Credentials } from '../../sidecar/tls/credentials.ts';
import type { PemIdentity } from '../distribute/mtls-server-credentials.ts';

export const OPERATOR_NAMESPACE = 'ztmesh-system';
export const OPERATOR_SERVICE_ACCOUNT = 'ztmesh-operator';

/** A test CA plus helpers minting the operator's serving identity and sidecars' credentials. */
export interface MeshIdentities {
  readonly ca: TestCa;
  readonly operatorId: string;
  operator(): Promise<PemIdentity>;
  sidecar(namespace: string, serviceAccount: string): Promise<Credentials>;
}

export async function createMeshIdentities(trustDomain = 'example.org'): Promise<MeshIdentities> {
  const ca = await createTestCa({ trustDomain });
  const operatorId = kubernetesSpiffeId(trustDomain, OPERATOR_NAMESPACE, OPERATOR_SERVICE_ACCOUNT);
  return {
    ca,
    operatorId,
    async operator() {
      const svid = await ca.mint({ spiffeId: operatorId });
      return { certChainPem: svid.certChainPem, keyPem: svid.keyPem, bundlePem: ca.bundlePem };
    },
    async sidecar(namespace, serviceAccount) {
      const svid = await ca.mint({ spiffeId: kubernetesSpiffeId(trustDomain, namespace, serviceAccount) });
      return buildCredentials({ certChainPem: svid.certChainPem, privateKey: svid.keyPem, bundlePem: ca.bundlePem, trustDomain });
    },
  };
}
