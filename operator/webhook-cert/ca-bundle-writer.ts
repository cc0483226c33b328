import { AdmissionregistrationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { MeshError } from '../../core/errors/mesh-error.ts';

/** Keeps a MutatingWebhookConfiguration's `clientConfig.caBundle` equal to a PEM bundle. */
export interface CaBundleWriter {
  /** Reads the configuration and patches every webhook whose caBundle differs; true when it wrote. */
  ensure(bundlePem: string): Promise<boolean>;
}

/** The API adapter: GET, then one JSON patch of the webhooks whose caBundle differs (nothing when all match). */
export function kubeCaBundleWriter(kubeConfig: KubeConfig, name: string): CaBundleWriter {
  const api = kubeConfig.makeApiClient(AdmissionregistrationV1Api);
  return {
    async ensure(bundlePem) {
      const want = Buffer.from(bundlePem).toString('base64');
      let config;
      try {
        config = await api.readMutatingWebhookConfiguration({ name });
      } catch (err) {
        throw new MeshError('ZTMESH_CONTROL_CA_BUNDLE_WRITE_FAILED', `reading MutatingWebhookConfiguration ${name} failed`, { cause: err, details: { name } });
      }
      const ops: object[] = [];
      (config.webhooks ?? []).forEach((webhook, i) => {
        if (webhook.clientConfig.caBundle !== want) ops.push({ op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: want });
      });
      if (ops.length === 0) return false;
      try {
        await api.patchMutatingWebhookConfiguration({ name, body: ops });
      } catch (err) {
        throw new MeshError('ZTMESH_CONTROL_CA_BUNDLE_WRITE_FAILED', `patching the caBundle of MutatingWebhookConfiguration ${name} failed`, { cause: err, details: { name } });
      }
      return true;
    },
  };
}
