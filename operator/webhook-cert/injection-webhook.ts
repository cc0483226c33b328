import type { Tracer } from '@opentelemetry/api';
import { readFileSync, unwatchFile, watchFile, type Stats } from 'node:fs';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { errorCode, MeshError } from '../../core/errors/mesh-error.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { parseInjectOptions, type InjectOptions } from '../inject/inject-options.ts';
import { startWebhookServer, type WebhookServer } from '../webhook/webhook-server.ts';
import { kubeCaBundleWriter, type CaBundleWriter } from './ca-bundle-writer.ts';
import type { WebhookServingSource } from './webhook-serving-source.ts';

export interface InjectionWebhookOptions {
  readonly listen: string;
  readonly injectorConfigFile: string;
  /** The MutatingWebhookConfiguration whose caBundle the leader keeps current; none: nobody writes it. */
  readonly configurationName: string | undefined;
  /** Where the serving certificate and the caBundle come from (the mesh CA, or a SelfManagedWebhookCa). */
  readonly serving: WebhookServingSource;
  readonly kubeConfig: KubeConfig;
  readonly isLeader: () => boolean;
  readonly logger: Logger;
  readonly tracer?: Tracer | undefined;
  /** How often the leader re-checks the caBundle (someone may have overwritten it); default 30 s. */
  readonly caBundleCheckMs?: number;
  /** How often the injector config file is stat'ed for changes; default 2 s. */
  readonly configPollMs?: number;
  /** Injected for tests; default the Kubernetes API adapter. */
  readonly caBundleWriter?: CaBundleWriter;
}

export interface RunningInjectionWebhook {
  readonly port: number;
  /** Checks (as leader) and writes the caBundle now; the operator calls it when leadership changes. */
  syncCaBundle(): Promise<void>;
  close(): Promise<void>;
}

/** Reads and validates the injector options file (YAML, the ConfigMap's injector.yaml). */
export function loadInjectorConfig(file: string): InjectOptions {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MeshError('ZTMESH_INJECT_BAD_OPTIONS', `cannot read the injector config ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (err) {
    throw new MeshError('ZTMESH_INJECT_BAD_OPTIONS', `the injector config ${file} is not YAML: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseInjectOptions(value, file);
}

/**
 * The operator's admission webhook: the injector options from a file (reloaded when it changes; an
 * invalid new version is logged and the previous one kept), the serving certificate of `serving`,
 * and, while this replica leads, the MutatingWebhookConfiguration's caBundle kept equal to the
 * bundle that certificate chains to.
 */
export async function startInjectionWebhook(o: InjectionWebhookOptions): Promise<RunningInjectionWebhook> {
  let options = loadInjectorConfig(o.injectorConfigFile);
  const server: WebhookServer = await startWebhookServer({ listen: o.listen, credentials: () => o.serving.current(), options: () => options, logger: o.logger, tracer: o.tracer });
  const onConfigChange = (): void => {
    try {
      options = loadInjectorConfig(o.injectorConfigFile);
      o.logger.info({ file: o.injectorConfigFile }, 'injector config reloaded');
    } catch (err) {
      o.logger.error({ code: errorCode(err), err: { message: err instanceof Error ? err.message : String(err) } }, 'injector config change refused; keeping the previous one');
    }
  };
  const onStat = (curr: Stats, prev: Stats): void => {
    if (curr.mtimeMs !== prev.mtimeMs || curr.size !== prev.size || curr.ino !== prev.ino) onConfigChange();
  };
  watchFile(o.injectorConfigFile, { interval: o.configPollMs ?? 2000, persistent: false }, onStat);
  const writer = o.configurationName === undefined ? undefined : (o.caBundleWriter ?? kubeCaBundleWriter(o.kubeConfig, o.configurationName));
  let syncing: Promise<void> | undefined;
  const syncCaBundle = async (): Promise<void> => {
    if (writer === undefined || !o.isLeader()) return;
    if (syncing !== undefined) return syncing;
    syncing = (async () => {
      try {
        if (await writer.ensure(o.serving.caBundle())) o.logger.info({ configuration: o.configurationName }, 'webhook caBundle written');
      } catch (err) {
        o.logger.warn({ code: errorCode(err), configuration: o.configurationName }, 'writing the webhook caBundle failed; retrying on the next check');
      } finally {
        syncing = undefined;
      }
    })();
    return syncing;
  };
  const timer = setInterval(() => void syncCaBundle(), o.caBundleCheckMs ?? 30_000);
  timer.unref();
  return {
    port: server.address.port,
    syncCaBundle,
    async close() {
      clearInterval(timer);
      unwatchFile(o.injectorConfigFile, onStat);
      await syncing;
      await server.close();
    },
  };
}
