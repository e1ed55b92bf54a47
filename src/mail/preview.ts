/**
 * Writes the invoice email as a standalone HTML file (QR inlined as a data: URI instead of a
 * cid: reference) so template changes can be checked in a browser.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { InvoiceEmail } from './model.js';
import { parseInvoiceEmail } from './model.js';
import { paymentQrDataUri } from './qr.js';
import { EmailRenderer, type RendererOptions } from './render.js';

const SAMPLE_ODOO_LANG: Record<string, string> = { en: 'en_US', fr: 'fr_FR', ar: 'ar_DZ' };

/**
 * A realistic invoice email for previews and template checks, for a template language; as a
 * reminder, one sent after the due date.
 */
export function sampleInvoiceEmail(lang = 'en', kind: 'invoice' | 'reminder' = 'invoice'): InvoiceEmail {
  const email: InvoiceEmail = {
    invoice: {
      odooId: 42,
      name: 'INV/2025/00042',
      invoiceDate: '2025-03-05',
      dueDate: '2025-04-04',
      amount: { minor: 12_345_000, currency: 'DZD', decimals: 2 },
    },
    company: {
      name: 'Atlas Distribution SARL',
      email: 'facturation@atlas-distribution.dz',
      website: 'www.atlas-distribution.dz',
      logoUrl: null,
    },
    partner: { name: 'Karim Benali', email: 'karim.benali@example.dz', lang: SAMPLE_ODOO_LANG[lang] ?? lang },
    payment: { url: 'https://pay.mytpe.app/l/7Gq2xK9pLm', gatewayName: 'MyTPE Pay' },
  };
  return kind === 'reminder' ? { ...email, kind, overdueSince: email.invoice.dueDate } : email;
}

export type PreviewOptions = {
  /** Template language; defaults to the one the model's partner gets. */
  lang?: string;
  /** HTML file to write. */
  outFile: string;
  /** Pretend the PDF is attached (it is mentioned in the text). Default true. */
  pdfAttached?: boolean;
} & RendererOptions &
  (
    | { model: InvoiceEmail; sample?: false; kind?: undefined }
    | {
        sample: true;
        model?: undefined;
        /** Which sample: the invoice email (default) or a reminder after the due date. */
        kind?: 'invoice' | 'reminder';
      }
  );

/** Renders and writes the preview; returns the absolute path written. */
export async function renderPreview(options: PreviewOptions): Promise<string> {
  const email = options.model
    ? parseInvoiceEmail(options.model)
    : sampleInvoiceEmail(options.lang ?? 'en', options.kind ?? 'invoice');
  const renderer = new EmailRenderer(options);
  const rendered = renderer.render({
    email,
    qrSrc: await paymentQrDataUri(email.payment.url),
    pdfAttached: options.pdfAttached ?? true,
    ...(options.lang ? { lang: options.lang } : {}),
  });
  const path = resolve(options.outFile);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, rendered.html);
  return path;
}
