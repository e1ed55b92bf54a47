import { z } from 'zod';

/**
 * Wire types of TendoPay's v2 API (shared/gateways/tendopay.md). Every answer is parsed with one
 * of these at the edge. Statuses stay plain strings so an unknown value reaches status.ts
 * (→ 'unknown') instead of failing the parse.
 */

/** Integer pesos, or pesos with up to two decimals; JSON number or text. Kept as text. */
const AMOUNT_TEXT = /^\d+(?:\.\d{1,2})?$/;

export const amountTextSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .refine((text) => AMOUNT_TEXT.test(text), { message: 'not an amount in pesos' });

/** `11267` in answers, `"20412"` on redirects: keep text. */
export const transactionIdSchema = z
  .union([z.string().trim().min(1), z.number().int().nonnegative()])
  .transform(String);

/** POST /oauth/token. `expires_in` is seconds (≈ 7 days). */
export const tokenResponseSchema = z.object({
  token_type: z.string().refine((type) => type.toLowerCase() === 'bearer', { message: 'not a Bearer token' }),
  expires_in: z.number().int().positive(),
  access_token: z.string().min(1),
});
export type TendoPayTokenResponse = z.infer<typeof tokenResponseSchema>;

/** POST /payments/api/v2/order. No transaction id yet: only the order token and the buyer's URL. */
export const orderResponseSchema = z.object({
  tp_order_token: z.string().min(1),
  authorize_url: z.url({ protocol: /^https?$/ }),
});
export type TendoPayOrderResponse = z.infer<typeof orderResponseSchema>;

const optionalText = z.string().nullish();

/** POST /payments/api/v2/showTransaction (and the notification body, spec §6). */
export const transactionSchema = z.object({
  tp_transaction_id: transactionIdSchema,
  tp_transaction_status: z.string().min(1),
  tp_amount: amountTextSchema,
  tp_currency: z.string().min(1),
  tp_merchant_order_id: optionalText,
  tp_merchant_id: z.union([z.string(), z.number()]).nullish(),
  tp_description: optionalText,
  tp_created_at: optionalText,
  tp_updated_at: optionalText,
  x_signature: z.string().optional(),
});
export type TendoPayTransactionWire = z.infer<typeof transactionSchema>;

/** Error bodies: `{"error": "<message>"}` (spec §9); OAuth errors add `error_description`/`message`. */
export const errorBodySchema = z.object({
  error: z.string().nullish(),
  error_description: z.string().nullish(),
  message: z.string().nullish(),
});
export type TendoPayErrorBody = z.infer<typeof errorBodySchema>;
