import { z } from 'zod';

/**
 * Wire types of MyTPE Pay's v2 API (/api/v2/mytpe-pay), as documented in
 * shared/gateways/mytpe.md. Every response is parsed with one of these at the edge. Status fields
 * stay plain strings here so an unknown value reaches status.ts (→ 'unknown') instead of failing
 * the whole parse.
 */

const DECIMAL_TEXT = /^-?\d+(?:\.\d+)?$/;

/** REST answers send amounts as "5000.00", webhooks as 5000.00, the [3p] doc as 5000: accept all, keep text. */
export const amountSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()))
  .refine((text) => DECIMAL_TEXT.test(text) || /^-?\d+(?:\.\d+)?e[+-]?\d+$/i.test(text), {
    message: 'not a decimal amount',
  });

/** v2 uses uuids; the [3p] examples show integers. Either way we keep text. */
export const idSchema = z.union([z.string().min(1), z.number().int()]).transform(String);

export const linkSchema = z.object({
  id: idSchema,
  mytpe_pay_id: idSchema.nullish(),
  title: z.string().nullish(),
  details: z.string().nullish(),
  slug: z.string(),
  type: z.string().nullish(),
  // null on static links, where the payer types the amount.
  amount: amountSchema.nullish(),
  status: z.string(),
  payment_mode: z.string().nullish(),
  max_payments: z.number().int().nullish(),
  successful_payments_count: z.number().int().nullish(),
  payment_link: z.string().nullish(),
  payment_status: z.string().nullish(),
  remaining_payments: z.number().int().nullish(),
  collected_amount: amountSchema.nullish(),
  // Echoed back as sent on creation (the spec does not promise it for v2: may be absent).
  metadata: z.record(z.string(), z.unknown()).nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});
export type MyTpeLink = z.infer<typeof linkSchema>;

/** Items of GET /{instanceId}/links: a subset of the link fields. */
export const linkListItemSchema = z.object({
  id: idSchema,
  title: z.string().nullish(),
  slug: z.string(),
  type: z.string().nullish(),
  amount: amountSchema.nullish(),
  status: z.string(),
  payment_mode: z.string().nullish(),
  payment_status: z.string().nullish(),
  collected_amount: amountSchema.nullish(),
});
export type MyTpeLinkListItem = z.infer<typeof linkListItemSchema>;

export const transactionSchema = z.object({
  id: idSchema,
  transactionable_id: idSchema.nullish(),
  transactionable_type: z.string().nullish(),
  amount: amountSchema,
  status: z.string(),
  payment_method: z.string().nullish(),
  environment: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  name: z.string().nullish(),
  email: z.string().nullish(),
  phone_number: z.string().nullish(),
  gateway_message: z.string().nullish(),
  order_number: z.string().nullish(),
  order_id: z.string().nullish(),
  approval_code: z.string().nullish(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});
export type MyTpeTransaction = z.infer<typeof transactionSchema>;

export const instanceSchema = z.object({
  id: idSchema,
  name: z.string(),
  description: z.string().nullish(),
  logo: z.string().nullish(),
  status: z.string(),
  created_at: z.string().nullish(),
  updated_at: z.string().nullish(),
});
export type MyTpeInstance = z.infer<typeof instanceSchema>;

/** Laravel's LengthAwarePaginator as it appears inside `data`. */
export function paginatorSchema<T extends z.ZodType>(item: T) {
  return z.object({
    current_page: z.number().int(),
    data: z.array(item),
    per_page: z.union([z.number().int(), z.string()]).nullish(),
    total: z.number().int().nullish(),
    last_page: z.number().int().nullish(),
  });
}

/** Every v2 success answer: `{success, message, data}`. */
export function envelopeSchema<T extends z.ZodType>(data: T) {
  return z.object({
    success: z.boolean().optional(),
    message: z.string().nullish(),
    data,
  });
}

export const linkEnvelopeSchema = envelopeSchema(linkSchema);
export const linkPageEnvelopeSchema = envelopeSchema(paginatorSchema(linkListItemSchema));
export const transactionPageEnvelopeSchema = envelopeSchema(paginatorSchema(transactionSchema));
export const instancePageEnvelopeSchema = envelopeSchema(paginatorSchema(instanceSchema));

export const toggleEnvelopeSchema = envelopeSchema(
  z.object({
    id: idSchema,
    title: z.string().nullish(),
    status: z.string(),
    updated_at: z.string().nullish(),
  }),
);

/** DELETE /links/{id}: `{success, message}`, no data. */
export const deleteResponseSchema = z.object({
  success: z.boolean().optional(),
  message: z.string().nullish(),
});

export const webhookConfigEnvelopeSchema = envelopeSchema(
  z.object({
    webhook_url: z.string().nullish(),
    // Masked on reads; the full `whsec_…` only the first time a URL is set.
    webhook_secret: z.string().nullish(),
    has_secret: z.boolean().optional(),
  }),
);

/**
 * Error bodies: Laravel `{message, errors}` (422), `{message}` (401, 404, 429, 500), the [3p]
 * `{error}` (403) and `{data: null, message}` (419), and ext's `{error: CODE, message}`.
 */
export const errorBodySchema = z.object({
  message: z.string().nullish(),
  error: z.string().nullish(),
  errors: z.record(z.string(), z.union([z.array(z.string()), z.string()])).nullish(),
});
export type MyTpeErrorBody = z.infer<typeof errorBodySchema>;
