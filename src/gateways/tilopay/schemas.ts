import { z } from 'zod';

/**
 * Wire types of TiloPay's API (`https://app.tilopay.com/api/v1`), as shared/gateways/tilopay.md
 * describes it. Every answer is parsed with one of these at the edge. Codes stay plain strings so
 * an unknown value reaches status.ts (→ 'unknown') instead of failing the whole parse.
 */

/** `type` and `code` come as numbers or strings (spec §3): always compare them as text. */
export const codeSchema = z.union([z.string(), z.number()]).transform((value) => String(value).trim());

/** Amounts are decimal text in major units ("15000.00"); some integrations see numbers. Keep text. */
export const amountTextSchema = z
  .union([z.string(), z.number()])
  .transform((value) => (typeof value === 'number' ? String(value) : value.trim()));

const optionalText = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((value) => (value == null ? undefined : String(value)));

/** POST /login (spec §2). Only access_token is certain; token_type and expires_in are [3p]. */
export const loginResponseSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string().nullish(),
  expires_in: z.union([z.number(), z.string().regex(/^\d+$/).transform(Number)]).nullish(),
});
export type TiloPayLoginResponse = z.output<typeof loginResponseSchema>;

/** POST /processPayment (spec §3): `{type:"100", url}` on success, `{type, message}` on errors. */
export const processPaymentResponseSchema = z.object({
  type: codeSchema,
  url: z.string().nullish(),
  message: z.string().nullish(),
});

/** One attempt on an orderNumber in /consult's `response` (spec §4; fields seen [3p]). */
export const consultEntrySchema = z.object({
  orderNumber: optionalText,
  amount: amountTextSchema.nullish(),
  currency: z.string().nullish(),
  code: codeSchema.nullish(),
  response: z.string().nullish(),
  auth: optionalText,
  id_tilopay: optionalText,
  tpt: optionalText,
});
export type TiloPayConsultEntry = z.output<typeof consultEntrySchema>;

/** POST /consult: `{type:"200", response:[…]}`; on errors `{type, message}` and no array. */
export const consultResponseSchema = z.object({
  type: codeSchema,
  response: z.array(consultEntrySchema).nullish(),
  message: z.string().nullish(),
});

/** Error bodies: `{type, message}` (§10), login failure `{message}`. */
export const errorBodySchema = z.object({
  type: codeSchema.optional(),
  message: z
    .string()
    .nullish()
    .transform((value) => value ?? undefined),
});

/** The server-to-server notice (spec §7). `orderHash` with a lower-case o, unlike the redirect. */
export const webhookBodySchema = z.object({
  orderNumber: z.union([z.string().min(1), z.number()]).transform(String),
  code: codeSchema,
  orderHash: z.string(),
  tpt: z.union([z.string().min(1), z.number()]).transform(String),
  auth: optionalText,
});
