import { createHash } from 'node:crypto';
import type { GatewayEvent, GatewayWebhooks, WebhookDelivery } from '../gateway.js';
import { MYTPE_DELIVERY_ID_HEADER, parseMyTpeWebhook, verifyMyTpeSignature } from './webhook.js';

/** Link events that can change whether a link is payable or paid; the rest are only recorded. */
const LINK_EVENTS_THAT_MATTER = new Set([
  'pay_link.closed',
  'pay_link.expired',
  'pay_link.deactivated',
  'pay_link.deleted',
]);

function headerValue(delivery: WebhookDelivery, name: string): string | undefined {
  const value = delivery.headers[name];
  return typeof value === 'string' ? value : value?.[0];
}

/** The Gateway's webhook side for MyTPE Pay: spec §5 signature, both payload shapes. */
export function createMyTpeWebhooks(secret: string, toleranceSeconds = 300): GatewayWebhooks {
  return {
    verify(delivery) {
      return verifyMyTpeSignature({
        rawBody: delivery.rawBody,
        headers: delivery.headers,
        secret,
        now: delivery.receivedAt,
        toleranceSeconds,
      });
    },
    parse(delivery) {
      let json: unknown;
      try {
        json = JSON.parse(delivery.rawBody.toString('utf8'));
      } catch {
        return { ok: false, error: 'the body is not JSON' };
      }
      const parsed = parseMyTpeWebhook(json);
      if (!parsed.ok) return parsed;
      const { event: payload } = parsed;
      // Retries of one delivery keep its id; without one, identical bodies are the same event.
      const id =
        headerValue(delivery, MYTPE_DELIVERY_ID_HEADER) ??
        payload.deliveryId ??
        `sha256:${createHash('sha256').update(delivery.rawBody).digest('hex')}`;
      const event: GatewayEvent = {
        id,
        type: payload.event,
        linkId: payload.linkId,
        linkReference: payload.slug,
        transactionId: payload.transaction?.id,
        concernsPayment:
          payload.event.startsWith('transaction.') || LINK_EVENTS_THAT_MATTER.has(payload.event),
      };
      return { ok: true, event };
    },
  };
}
