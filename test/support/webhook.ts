import { signMyTpePayload } from '../../src/gateways/mytpe/webhook.js';
import { WEBHOOK_SECRET } from './stack.js';

/** Headers of a MyTPE webhook delivery signed as the spec says (the stack's secret by default). */
export function signedWebhookHeaders(
  body: string | Buffer,
  options: { secret?: string; timestamp?: number; deliveryId?: string } = {},
): Record<string, string> {
  const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
  return {
    'content-type': 'application/json',
    'x-mytpepay-event': 'transaction.completed',
    'x-mytpepay-timestamp': timestamp,
    'x-mytpepay-signature': signMyTpePayload(body, timestamp, options.secret ?? WEBHOOK_SECRET),
    ...(options.deliveryId ? { 'x-mytpepay-delivery-id': options.deliveryId } : {}),
  };
}
