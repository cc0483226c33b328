import type { WebhookCredentials } from '../webhook/webhook-server.ts';

/**
 * Where the admission webhook's serving certificate comes from: the current certificate and key
 * (asked for at each connection, so renewals take effect at once) and the PEM bundle it chains to,
 * which the leader writes into the MutatingWebhookConfiguration's caBundle.
 */
export interface WebhookServingSource {
  current(): WebhookCredentials;
  caBundle(): string;
}
