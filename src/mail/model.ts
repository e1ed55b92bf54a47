/**
 * What the invoice email is made of. The outbox stores this snapshot as JSON when the email is
 * queued, so a retry a day later sends exactly what was decided at queue time.
 */
import { z } from 'zod';

export interface InvoiceEmail {
  invoice: {
    odooId: number;
    name: string;
    invoiceDate?: string | null;
    dueDate?: string | null;
    amount: { minor: number; currency: string; decimals: number };
  };
  company: { name: string; email?: string | null; website?: string | null; logoUrl?: string | null };
  partner: { name: string; email?: string | null; lang?: string | null };
  payment: { url: string; gatewayName: string };
  /** Absent in emails queued before reminders existed, and then an 'invoice'. */
  kind?: 'invoice' | 'reminder';
  /**
   * A reminder sent after the due date: that date (Odoo 'YYYY-MM-DD'), so the text can say since
   * when the invoice is overdue. Ignored for an 'invoice'.
   */
  overdueSince?: string | null;
}

// Only web URLs: these end up in href/src attributes, where `javascript:` or `data:` would be a hole.
const webUrl = z.url({ protocol: /^https?$/ });
const optionalText = z.string().nullish();
const odooDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD');

export const invoiceEmailSchema = z.object({
  invoice: z.object({
    odooId: z.number().int().positive(),
    name: z.string().min(1),
    invoiceDate: optionalText,
    dueDate: optionalText,
    amount: z.object({
      minor: z.number().int().refine(Number.isSafeInteger, 'amount must be a safe integer'),
      currency: z.string().regex(/^[A-Z]{3}$/, 'currency must be an ISO 4217 code'),
      decimals: z.number().int().min(0).max(6),
    }),
  }),
  company: z.object({
    name: z.string().min(1),
    email: optionalText,
    website: optionalText,
    logoUrl: webUrl.nullish(),
  }),
  partner: z.object({ name: z.string(), email: optionalText, lang: optionalText }),
  payment: z.object({ url: webUrl, gatewayName: z.string().min(1) }),
  // Optional without a default: a queued JSON read back is the snapshot as stored, nothing added.
  kind: z.enum(['invoice', 'reminder']).optional(),
  overdueSince: odooDate.nullish(),
}) satisfies z.ZodType<InvoiceEmail>;

export class InvalidPayloadError extends Error {
  override name = 'InvalidPayloadError';
}

/** Validates a model (e.g. before queueing it); throws InvalidPayloadError naming the bad fields. */
export function parseInvoiceEmail(value: unknown): InvoiceEmail {
  const result = invoiceEmailSchema.safeParse(value);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidPayloadError(`invalid invoice email: ${problems.join('; ')}`);
  }
  return result.data;
}

/** Reads back the JSON the outbox stored. */
export function parseInvoiceEmailJson(json: string): InvoiceEmail {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new InvalidPayloadError('invalid invoice email: payload is not JSON');
  }
  return parseInvoiceEmail(value);
}

const emailAddress = z.email();

/**
 * The deliverable addresses in an Odoo email field. Odoo lets users type several addresses
 * ("a@x.dz, b@y.dz") or a display form ("Name <a@x.dz>"); we keep each address that is valid.
 */
export function recipientAddresses(field: string | null | undefined): string[] {
  if (!field) return [];
  const found: string[] = [];
  for (const part of field.split(/[,;]/)) {
    const angled = /<([^<>]+)>/.exec(part);
    const candidate = (angled?.[1] ?? part).trim();
    if (candidate && emailAddress.safeParse(candidate).success && !found.includes(candidate)) {
      found.push(candidate);
    }
  }
  return found;
}
