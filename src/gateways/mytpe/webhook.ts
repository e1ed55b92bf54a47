import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { PaymentStatus } from '../../domain/gateway-status.js';
import { amountSchema, idSchema } from './schemas.js';
import { paymentStatusFromMyTpe } from './status.js';

/** MyTPE Pay v2 webhooks (spec §5): signature check on the raw body, then a typed event. */

export const MYTPE_SIGNATURE_HEADER = 'x-mytpepay-signature';
export const MYTPE_TIMESTAMP_HEADER = 'x-mytpepay-timestamp';
export const MYTPE_EVENT_HEADER = 'x-mytpepay-event';
export const MYTPE_DELIVERY_ID_HEADER = 'x-mytpepay-delivery-id';

/** Node's IncomingHttpHeaders, a plain record, or a fetch `Headers`. */
export type WebhookHeaders = Readonly<Record<string, string | readonly string[] | undefined>> | Headers;

export type SignatureCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' | 'missing_timestamp';
    };

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    const first = typeof value === 'string' ? value : value?.[0];
    return first;
  }
  return undefined;
}

/** `sha256=` + lowercase hex of HMAC-SHA256(secret, `${timestamp}.${rawBody}`). */
export function signMyTpePayload(rawBody: Buffer | string, timestamp: string, secret: string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`${timestamp}.`);
  hmac.update(rawBody);
  return `sha256=${hmac.digest('hex')}`;
}

/**
 * Checks a delivery's signature on the exact bytes received (never re-serialized JSON). The key
 * is the whole secret including its `whsec_` prefix, as MyTPE's PHP sample passes it.
 */
export function verifyMyTpeSignature(input: {
  readonly rawBody: Buffer;
  readonly headers: WebhookHeaders;
  readonly secret: string;
  readonly now: Date;
  readonly toleranceSeconds?: number;
}): SignatureCheck {
  const { rawBody, headers, secret, now, toleranceSeconds = 300 } = input;
  const signature = header(headers, MYTPE_SIGNATURE_HEADER)?.trim();
  if (!signature) return { ok: false, reason: 'missing_signature' };
  const timestamp = header(headers, MYTPE_TIMESTAMP_HEADER)?.trim();
  if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing_timestamp' };
  // Window first, as the spec's pseudo-code does: a replayed old delivery is refused outright.
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > toleranceSeconds) {
    return { ok: false, reason: 'stale_timestamp' };
  }
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(signature);
  if (!match?.[1]) return { ok: false, reason: 'bad_signature' };
  const received = Buffer.from(match[1].toLowerCase(), 'hex');
  const expected = Buffer.from(signMyTpePayload(rawBody, timestamp, secret).slice('sha256='.length), 'hex');
  // Both are 32 bytes here, which timingSafeEqual requires.
  return timingSafeEqual(received, expected) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

export interface MyTpeWebhookTransaction {
  readonly id: string;
  /** MyTPE's own value (completed, failed, …). */
  readonly status: string;
  readonly paymentStatus: PaymentStatus;
  /** Decimal text in major units, e.g. "5000" or "5000.5"; the JSON number's shortest form. */
  readonly amount: string;
  readonly orderNumber?: string | undefined;
  readonly environment?: string | undefined;
  readonly metadata?: Readonly<Record<string, unknown>> | undefined;
  readonly createdAt?: string | undefined;
  readonly updatedAt?: string | undefined;
}

export interface MyTpeWebhookEvent {
  readonly deliveryId?: string | undefined;
  /** e.g. `transaction.completed`, `pay_link.closed`. */
  readonly event: string;
  readonly occurredAt?: string | undefined;
  readonly linkId?: string | undefined;
  readonly slug?: string | undefined;
  readonly linkStatus?: string | undefined;
  readonly instanceId?: string | undefined;
  readonly transaction?: MyTpeWebhookTransaction | undefined;
}

export type MyTpeWebhookParse =
  | { readonly ok: true; readonly event: MyTpeWebhookEvent }
  | { readonly ok: false; readonly error: string };

const optionalText = z.string().nullish();
const metadataSchema = z.record(z.string(), z.unknown()).nullish();

const transactionShape = z.object({
  id: idSchema.nullish(),
  transaction_id: idSchema.nullish(),
  order_number: optionalText,
  status: optionalText,
  amount: amountSchema.nullish(),
  environment: optionalText,
  metadata: metadataSchema,
  created_at: optionalText,
  updated_at: optionalText,
});

const payLinkShape = z.object({
  id: idSchema.nullish(),
  slug: optionalText,
  status: optionalText,
});

const payloadSchema = z.object({
  delivery_id: optionalText,
  event: z.string().min(1),
  timestamp: optionalText,
  data: z
    .object({
      transaction: transactionShape.nullish(),
      pay_link: payLinkShape.nullish(),
      instance: z.object({ id: idSchema.nullish() }).nullish(),
      // Flat fallback (the integration-guide's PHP sample reads data.order_number directly).
      id: idSchema.nullish(),
      transaction_id: idSchema.nullish(),
      order_number: optionalText,
      status: optionalText,
      amount: amountSchema.nullish(),
      environment: optionalText,
      metadata: metadataSchema,
      slug: optionalText,
      pay_link_id: idSchema.nullish(),
      payment_link_id: idSchema.nullish(),
      transactionable_id: idSchema.nullish(),
      instance_id: idSchema.nullish(),
      created_at: optionalText,
      updated_at: optionalText,
    })
    .nullish(),
});

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/**
 * Reads a webhook body in either documented shape: `data.transaction` / `data.pay_link`
 * (events reference) or flat `data.*` (integration guide). Nested fields win.
 */
export function parseMyTpeWebhook(json: unknown): MyTpeWebhookParse {
  const parsed = payloadSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return {
      ok: false,
      error: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'bad payload',
    };
  }
  const { event, delivery_id, timestamp } = parsed.data;
  const data = parsed.data.data ?? {};
  const isTransactionEvent = event.startsWith('transaction.');
  const nested = data.transaction ?? undefined;
  const flatMetadata = data.metadata ?? undefined;
  const metadata = nested?.metadata ?? flatMetadata;

  const linkId =
    data.pay_link?.id ??
    data.pay_link_id ??
    data.payment_link_id ??
    data.transactionable_id ??
    text(metadata?.payment_link_id) ??
    // In a flat pay_link.* event, data.id is the link itself.
    (isTransactionEvent ? undefined : (data.id ?? undefined));
  const slug = data.pay_link?.slug ?? data.slug ?? text(metadata?.original_slug);

  let transaction: MyTpeWebhookTransaction | undefined;
  if (isTransactionEvent) {
    const id = nested?.id ?? nested?.transaction_id ?? data.transaction_id ?? data.id;
    const status = nested?.status ?? data.status;
    const amount = nested?.amount ?? data.amount;
    if (!id) return { ok: false, error: `${event} without a transaction id` };
    if (!status) return { ok: false, error: `${event} without a transaction status` };
    if (amount == null) return { ok: false, error: `${event} without a transaction amount` };
    const orderNumber = nested?.order_number ?? data.order_number ?? undefined;
    const environment = nested?.environment ?? data.environment ?? undefined;
    const createdAt = nested?.created_at ?? data.created_at ?? undefined;
    const updatedAt = nested?.updated_at ?? data.updated_at ?? undefined;
    transaction = {
      id,
      status,
      paymentStatus: paymentStatusFromMyTpe(status),
      amount,
      ...(orderNumber ? { orderNumber } : {}),
      ...(environment ? { environment } : {}),
      ...(metadata ? { metadata } : {}),
      ...(createdAt ? { createdAt } : {}),
      ...(updatedAt ? { updatedAt } : {}),
    };
  }

  const linkStatus = data.pay_link?.status ?? (isTransactionEvent ? undefined : (data.status ?? undefined));
  const instanceId = data.instance?.id ?? data.instance_id ?? undefined;
  const result: MyTpeWebhookEvent = {
    event,
    ...(delivery_id ? { deliveryId: delivery_id } : {}),
    ...(timestamp ? { occurredAt: timestamp } : {}),
    ...(linkId ? { linkId } : {}),
    ...(slug ? { slug } : {}),
    ...(linkStatus ? { linkStatus } : {}),
    ...(instanceId ? { instanceId } : {}),
    ...(transaction ? { transaction } : {}),
  };
  return { ok: true, event: result };
}
