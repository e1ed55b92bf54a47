import { z } from 'zod';

/**
 * Wire types of MPChat's "MP Merchant" API (spec: shared/gateways/mpchat.md). Every answer is
 * parsed with one of these at the edge. `status` stays a plain string so an unknown value reaches
 * status.ts (→ 'unknown', never paid) instead of failing the whole parse.
 */

/** Amounts are decimal strings in USDT major units (§9); kept as text, never a float. */
export const usdtAmountSchema = z
  .string()
  .trim()
  .regex(/^\d+(?:\.\d+)?$/, 'not a non-negative decimal string');

const metadataSchema = z.record(z.string(), z.unknown());

/** The Order object (§3.2). */
export const orderSchema = z.object({
  // Documented as a UUID, shown as `ord_01HQ…` in the webhook example: any non-empty text (§11.6).
  id: z.string().min(1),
  order_number: z.string().nullish(),
  status: z.string().min(1),
  order_amount: usdtAmountSchema,
  // Before any transfer the real API may send "0", "0.00" or null; null reads as nothing received.
  received_amount: usdtAmountSchema.nullish().transform((value) => value ?? '0'),
  credited_amount: usdtAmountSchema.nullish(),
  currency: z.string(),
  network: z.string(),
  // We email this link to customers: it must be a web address, nothing else.
  payment_url: z.url({ protocol: /^https?$/ }),
  expire_at: z.string().nullish(),
  paid_at: z.string().nullish(),
  metadata: metadataSchema.nullish(),
  created_at: z.string().nullish(),
  description: z.string().nullish(),
  // Not in the copy of the docs we read [inferred name]: the on-chain transfer's hash, used as the
  // transaction id when MPChat gives one.
  tx_hash: z.string().min(1).nullish(),
});
export type MpChatOrder = z.output<typeof orderSchema>;

/**
 * GET /v1/orders (§3.4). Both doc pages promise `total`; the list's own key was not visible, so
 * `data`, `orders` and `items` are all read.
 */
export const orderPageSchema = z
  .object({
    data: z.array(orderSchema).optional(),
    orders: z.array(orderSchema).optional(),
    items: z.array(orderSchema).optional(),
    total: z.number().int().nonnegative(),
    limit: z.number().int().nullish(),
    offset: z.number().int().nullish(),
  })
  .refine((page) => page.data ?? page.orders ?? page.items, { message: 'no list of orders' })
  .transform((page) => ({
    orders: page.data ?? page.orders ?? page.items ?? [],
    total: page.total,
  }));
export type MpChatOrderPage = z.output<typeof orderPageSchema>;

/** A webhook endpoint (§5 registration). */
export const webhookEndpointSchema = z.object({
  id: z.string().min(1),
  merchant_id: z.string().nullish(),
  url: z.string(),
  events: z.array(z.string()),
  is_active: z.boolean(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
  // The docs say the signing secret is set in the dashboard and not returned; read it if it ever is.
  secret: z.string().min(1).nullish(),
});
export type MpChatWebhookEndpoint = z.output<typeof webhookEndpointSchema>;

/** GET /v1/webhooks: the shape was not visible; a bare array or `{data: [...]}`. */
export const webhookEndpointListSchema = z
  .union([z.array(webhookEndpointSchema), z.object({ data: z.array(webhookEndpointSchema) })])
  .transform((value) => (Array.isArray(value) ? value : value.data));

/** GET /v1/webhooks/{id}/deliveries: only its existence is documented; keep what we know. */
export const webhookDeliverySchema = z
  .object({
    id: z.string().min(1),
    event: z.string().nullish(),
    status_code: z.number().int().nullish(),
    success: z.boolean().nullish(),
    created_at: z.string().nullish(),
  })
  .loose();
export type MpChatWebhookDelivery = z.output<typeof webhookDeliverySchema>;

export const webhookDeliveryListSchema = z
  .union([z.array(webhookDeliverySchema), z.object({ data: z.array(webhookDeliverySchema) })])
  .transform((value) => (Array.isArray(value) ? value : value.data));

/** Every error answer: `{"error": "<message>"}` (§6). */
export const errorBodySchema = z.object({ error: z.string() });

/** The webhook body (§5). Payment events carry an order; withdrawal events are kept loose. */
export const webhookPayloadSchema = z.object({
  event: z.string().min(1),
  timestamp: z.string().nullish(),
  data: z
    .object({
      order_id: z.string().min(1).nullish(),
      order_number: z.string().nullish(),
      status: z.string().nullish(),
      order_amount: usdtAmountSchema.nullish(),
      received_amount: usdtAmountSchema.nullish(),
      currency: z.string().nullish(),
      network: z.string().nullish(),
      paid_at: z.string().nullish(),
      metadata: metadataSchema.nullish(),
      tx_hash: z.string().min(1).nullish(),
    })
    .loose(),
});
export type MpChatWebhookPayload = z.output<typeof webhookPayloadSchema>;
