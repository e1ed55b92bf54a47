import { createHash } from 'node:crypto';
import type { GatewayEvent, GatewayWebhooks, WebhookDelivery, WebhookVerdict } from '../gateway.js';
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

/** Where a webhook secret comes from: one instance's own, or one for every instance. */
export interface MyTpeWebhookSecrets {
  /** Instance uuid → that instance's `whsec_…`. */
  readonly byInstance: Readonly<Record<string, string>>;
  /** Used for instances without their own secret. */
  readonly shared?: string | undefined;
}

/** The instance a delivery says it comes from, read before the signature is checked (never acted on). */
function claimedInstance(rawBody: Buffer): string | undefined {
  try {
    const json: unknown = JSON.parse(rawBody.toString('utf8'));
    const data = (json as { data?: { instance?: { id?: unknown }; instance_id?: unknown } }).data;
    const id = data?.instance?.id ?? data?.instance_id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Gateway's webhook side for MyTPE Pay: spec §5 signature, both payload shapes. Each instance
 * signs with its own secret (spec §5, PUT /{instanceId}/webhook): a delivery is checked with the
 * secret of the instance it names, so one instance's secret can never vouch for another's events.
 */
export function createMyTpeWebhooks(secrets: MyTpeWebhookSecrets, toleranceSeconds = 300): GatewayWebhooks {
  const candidates = (rawBody: Buffer): string[] => {
    const instance = claimedInstance(rawBody);
    if (instance !== undefined) {
      const own = secrets.byInstance[instance] ?? secrets.shared;
      return own ? [own] : [];
    }
    // A delivery that names no instance: any of our secrets may have signed it.
    return [...new Set([...Object.values(secrets.byInstance), ...(secrets.shared ? [secrets.shared] : [])])];
  };
  return {
    verify(delivery) {
      const keys = candidates(delivery.rawBody);
      if (keys.length === 0) return { ok: false, reason: 'unknown_instance' };
      let verdict: WebhookVerdict = { ok: false, reason: 'bad_signature' };
      for (const secret of keys) {
        verdict = verifyMyTpeSignature({
          rawBody: delivery.rawBody,
          headers: delivery.headers,
          secret,
          now: delivery.receivedAt,
          toleranceSeconds,
        });
        if (verdict.ok || verdict.reason !== 'bad_signature') return verdict;
      }
      return verdict;
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
