import { z } from 'zod';

/** Zod shapes of the Odoo records the daemon reads, parsed at the RPC edge. */

/** A many2one as Odoo serialises it: `[id, display_name]`, or `false` when empty. */
export const many2one = z.union([z.tuple([z.number().int(), z.string()]), z.literal(false)]);
/** Char/date fields read as `false` when empty. */
export const optionalText = z
  .union([z.string(), z.literal(false)])
  .transform((value) => (value === false ? null : value));

export const INVOICE_FIELDS = [
  'name',
  'move_type',
  'state',
  'payment_state',
  'partner_id',
  'commercial_partner_id',
  'company_id',
  'currency_id',
  'amount_total',
  'amount_residual',
  'invoice_date',
  'invoice_date_due',
  'write_date',
  // The invoice's responsible (Salesperson): who gets the To-Do when no user is configured.
  'invoice_user_id',
] as const;
export const LINK_FIELDS = [
  'x_mytpe_link_id',
  'x_mytpe_payment_link',
  'x_paylink_gateway',
  'x_paylink_id',
  'x_paylink_url',
  'x_paylink_last_sequence',
  'x_paylink_emailed_at',
  'x_paylink_reminders_sent',
  'x_paylink_skip',
  'x_paylink_request',
] as const;

export const invoiceRecord = z.object({
  id: z.number().int().positive(),
  name: z.union([z.string(), z.literal(false)]).transform((value) => (value === false ? '/' : value)),
  move_type: z.string(),
  state: z.string(),
  payment_state: z
    .union([z.string(), z.literal(false)])
    .transform((value) => (value === false ? 'not_paid' : value)),
  partner_id: many2one,
  commercial_partner_id: many2one.optional(),
  company_id: many2one,
  currency_id: many2one,
  amount_total: z.number(),
  amount_residual: z.number(),
  invoice_date: optionalText,
  invoice_date_due: optionalText,
  write_date: z.string(),
  invoice_user_id: many2one.optional(),
  x_mytpe_link_id: optionalText.optional(),
  x_mytpe_payment_link: optionalText.optional(),
  x_paylink_gateway: optionalText.optional(),
  x_paylink_id: optionalText.optional(),
  x_paylink_url: optionalText.optional(),
  x_paylink_last_sequence: z.union([z.number().int(), z.literal(false)]).optional(),
  x_paylink_emailed_at: optionalText.optional(),
  x_paylink_reminders_sent: z.union([z.number().int(), z.literal(false)]).optional(),
  x_paylink_skip: z.boolean().optional(),
  x_paylink_request: optionalText.optional(),
});
export type InvoiceRecord = z.infer<typeof invoiceRecord>;

export const currencyRecord = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  decimal_places: z.number().int().min(0),
});
export type CurrencyRecord = z.infer<typeof currencyRecord>;

export const partnerRecord = z.object({
  id: z.number().int().positive(),
  name: z.union([z.string(), z.literal(false)]).transform((value) => (value === false ? '' : value)),
  email: optionalText,
  lang: optionalText,
  tz: optionalText.optional(),
  /** Tags of the partner (res.partner.category ids). */
  category_id: z.array(z.number().int()).optional(),
});
export type PartnerRecord = z.infer<typeof partnerRecord>;

export const companyRecord = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  currency_id: many2one,
});
export type CompanyRecord = z.infer<typeof companyRecord>;
