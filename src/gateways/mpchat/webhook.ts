import { createHash } from 'node:crypto';
import { type MpChatWebhookPayload, webhookPayloadSchema } from './schemas.js';
import {
  MPCHAT_EVENT_HEADER,
  MPCHAT_SIGNATURE_HEADER,
  type MpChatWebhookSigningOptions,
  verifyWebhookSignature,
  type WebhookSignatureCheck,
} from './signature.js';

/** MPChat webhooks (spec §5): verify the raw delivery, then read the event. */

/** Node's IncomingHttpHeaders, a plain record, or a fetch `Headers`. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | Headers;

export function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : value?.[0];
  }
  return undefined;
}

export function verifyMpChatWebhook(input: {
  readonly rawBody: Buffer;
  readonly headers: WebhookHeaders;
  readonly secret: string;
  readonly now: Date;
  readonly toleranceSeconds?: number | undefined;
  readonly signing?: MpChatWebhookSigningOptions | undefined;
}): WebhookSignatureCheck {
  return verifyWebhookSignature({
    rawBody: input.rawBody,
    header: headerValue(input.headers, MPCHAT_SIGNATURE_HEADER),
    secret: input.secret,
    now: input.now,
    toleranceSeconds: input.toleranceSeconds,
    signing: input.signing,
  });
}

export interface MpChatWebhookEvent {
  /** `payment.confirmed`, `payment.expired`, …; the body's `event`, which must agree with the header. */
  readonly event: string;
  readonly occurredAt?: string | undefined;
  /** Present on payment.* events. */
  readonly orderId?: string | undefined;
  readonly status?: string | undefined;
  readonly orderAmount?: string | undefined;
  readonly receivedAmount?: string | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  /** The transfer's hash, when the event carries one (`tx_hash`, an inferred name). */
  readonly txHash?: string | undefined;
  /**
   * Events have no id of their own (§5): retries are deduped by `(order_id, event)`. An event
   * without an order (withdrawal.*) is keyed by a hash of its body, so two of them never collide.
   */
  readonly dedupeKey: string;
  readonly payload: MpChatWebhookPayload;
}

export type MpChatWebhookParse =
  | { readonly ok: true; readonly event: MpChatWebhookEvent }
  | { readonly ok: false; readonly error: string };

/** Reads a verified body. The event's contents are a hint; the order is re-read with GET before acting. */
export function parseMpChatWebhook(rawBody: Buffer | string, headers?: WebhookHeaders): MpChatWebhookParse {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, error: 'the body is not JSON' };
  }
  const parsed = webhookPayloadSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'bad payload',
    };
  }
  const payload = parsed.data;
  const headerEvent = headers ? headerValue(headers, MPCHAT_EVENT_HEADER) : undefined;
  // The header is outside the signature (unless the layout says otherwise): the signed body wins,
  // and a disagreement means someone rewrote one of them.
  if (headerEvent !== undefined && headerEvent !== payload.event) {
    return { ok: false, error: `X-Webhook-Event ${headerEvent} disagrees with the body's ${payload.event}` };
  }
  const { data } = payload;
  if (payload.event.startsWith('payment.')) {
    if (!data.order_id) return { ok: false, error: `${payload.event} without data.order_id` };
    if (!data.status) return { ok: false, error: `${payload.event} without data.status` };
  }
  const event: MpChatWebhookEvent = {
    event: payload.event,
    ...(payload.timestamp ? { occurredAt: payload.timestamp } : {}),
    ...(data.order_id ? { orderId: data.order_id } : {}),
    ...(data.status ? { status: data.status } : {}),
    ...(data.order_amount ? { orderAmount: data.order_amount } : {}),
    ...(data.received_amount ? { receivedAmount: data.received_amount } : {}),
    ...(data.metadata ? { metadata: data.metadata } : {}),
    ...(data.tx_hash ? { txHash: data.tx_hash } : {}),
    dedupeKey: data.order_id
      ? `${data.order_id}:${payload.event}`
      : `sha256:${createHash('sha256')
          .update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody)
          .digest('hex')}`,
    payload,
  };
  return { ok: true, event };
}
