/**
 * End to end over real SMTP on loopback: outbox row → MailWorker → nodemailer pool → smtp-server
 * → .eml parsed back with mailparser.
 */
import { rmSync } from 'node:fs';
import Handlebars from 'handlebars';
import type { ParsedMail } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InvoiceEmail } from '../../src/mail/model.js';
import { sampleInvoiceEmail } from '../../src/mail/preview.js';
import { QR_CID } from '../../src/mail/qr.js';
import { EmailRenderer } from '../../src/mail/render.js';
import { createMailTransport, type MailTransport } from '../../src/mail/transport.js';
import { MailWorker } from '../../src/mail/worker.js';
import { type SmtpCapture, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import type { OutboxRepository } from '../../src/store/outbox.js';
import {
  decodeQr,
  FAKE_PDF,
  manualClock,
  memoryOutbox,
  parseEml,
  plainSpaces,
  recordingLogger,
  tempDir,
} from './helpers.js';

const PAY_URL = 'https://pay.mytpe.app/l/7Gq2xK9pLm?ref=INV%2F2025%2F00042&lang=fr';

function model(partner: Partial<InvoiceEmail['partner']>): InvoiceEmail {
  const base = sampleInvoiceEmail();
  return { ...base, partner: { ...base.partner, ...partner }, payment: { ...base.payment, url: PAY_URL } };
}

describe('invoice email over SMTP', () => {
  let capture: SmtpCapture;
  let transport: MailTransport;
  let outbox: OutboxRepository;
  let worker: MailWorker;
  const clock = manualClock();
  const logger = recordingLogger();

  beforeEach(async () => {
    capture = await startSmtpCapture({ dir: tempDir('smtp'), port: 0, host: '127.0.0.1' });
    transport = createMailTransport({
      host: capture.host,
      port: capture.port,
      secure: false,
      from: '"Atlas Distribution" <billing@atlas-distribution.dz>',
      connectionTimeoutMs: 2000,
      greetingTimeoutMs: 2000,
      socketTimeoutMs: 5000,
    });
    ({ outbox } = memoryOutbox());
    worker = new MailWorker({
      outbox,
      transport,
      renderer: new EmailRenderer(),
      fetchPdf: async () => FAKE_PDF,
      notifyNoRecipient: async () => undefined,
      logger,
      clock: clock.now,
    });
  });

  afterEach(async () => {
    await worker.stop();
    transport.close();
    await capture.close();
    rmSync(capture.dir, { recursive: true, force: true });
  });

  async function sendOne(email: InvoiceEmail): Promise<{ mail: ParsedMail; messageId: string | null }> {
    const { row } = outbox.enqueue({
      linkRowId: 1,
      invoiceId: email.invoice.odooId,
      companyId: 1,
      dedupeKey: 'link:1',
      payload: email,
      now: clock.now(),
    });
    expect(await worker.runOnce()).toEqual({ sent: 1, retried: 0, failed: 0, noRecipient: 0, dropped: 0 });
    const messages = await capture.messages();
    expect(messages).toHaveLength(1);
    const stored = outbox.findById(row.id);
    expect(stored?.state).toBe('sent');
    return { mail: await parseEml(messages[0]!), messageId: stored?.messageId ?? null };
  }

  function expectPaymentParts(mail: ParsedMail) {
    expect(mail.text).toContain(PAY_URL);
    const html = String(mail.html);
    // In HTML the URL is attribute-escaped (&amp; and &#x3D;), which browsers decode back.
    expect(html).toContain(`href="${Handlebars.escapeExpression(PAY_URL)}"`);

    const qr = mail.attachments.find((a) => a.cid === QR_CID);
    expect(qr, 'inline QR attachment').toBeDefined();
    expect(qr?.contentType).toBe('image/png');
    expect(qr?.contentDisposition).toBe('inline');
    expect(html).toContain(`src="cid:${QR_CID}"`);
    expect(decodeQr(qr!.content)).toBe(PAY_URL);

    const pdf = mail.attachments.find((a) => a.contentType === 'application/pdf');
    expect(pdf?.filename).toBe('INV_2025_00042.pdf');
    expect(pdf?.content.subarray(0, 4).toString()).toBe('%PDF');
  }

  it('sends the English email with both parts, the QR code and the PDF', async () => {
    const { mail, messageId } = await sendOne(model({ lang: 'en_US' }));
    expect(mail.subject).toBe('Invoice INV/2025/00042 from Atlas Distribution SARL');
    expect(mail.to && !Array.isArray(mail.to) ? mail.to.value : []).toEqual([
      { name: 'Karim Benali', address: 'karim.benali@example.dz' },
    ]);
    expect(mail.from?.value[0]?.address).toBe('billing@atlas-distribution.dz');
    expect(mail.replyTo?.value[0]?.address).toBe('facturation@atlas-distribution.dz');
    expect(mail.messageId).toBe(messageId);
    expect(messageId).toMatch(/^<outbox-\d+\.[0-9a-f]+@odoo-paylink>$/);
    expect(plainSpaces(mail.text)).toContain('Amount due: DZD 123,450.00');
    expect(mail.text).toContain('Your invoice is attached to this email as a PDF.');
    expect(String(mail.html)).toContain('<html lang="en" dir="ltr"');
    expectPaymentParts(mail);
  });

  it('writes to a fr_FR partner in French with French formats', async () => {
    const { mail } = await sendOne(model({ lang: 'fr_FR' }));
    expect(mail.subject).toBe('Facture INV/2025/00042 de Atlas Distribution SARL');
    expect(plainSpaces(mail.text)).toContain('Montant à payer : 123 450,00 DZD');
    expect(mail.text).toContain('Date d’échéance : 4 avril 2025');
    expect(String(mail.html)).toContain('<html lang="fr" dir="ltr"');
    expectPaymentParts(mail);
  });

  it('writes to an ar_001 partner in Arabic, right to left', async () => {
    const { mail } = await sendOne(model({ lang: 'ar_001' }));
    expect(mail.subject).toBe('الفاتورة INV/2025/00042 من Atlas Distribution SARL');
    expect(String(mail.html)).toContain('<html lang="ar" dir="rtl"');
    expect(String(mail.html)).toContain('<body dir="rtl"');
    expect(mail.text).toContain('تاريخ الفاتورة: 5 مارس 2025');
    expectPaymentParts(mail);
  });

  it('sends without the PDF when Odoo cannot give it, and says why in the log', async () => {
    worker = new MailWorker({
      outbox,
      transport,
      renderer: new EmailRenderer(),
      fetchPdf: async () => {
        throw new Error('Odoo answered HTTP 500 for the PDF of invoice 42');
      },
      notifyNoRecipient: async () => undefined,
      logger,
      clock: clock.now,
    });
    const { mail } = await sendOne(model({ lang: 'en_US' }));
    expect(mail.attachments.map((a) => a.contentType)).toEqual(['image/png']);
    expect(mail.text).not.toContain('attached');
    expect(logger.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('HTTP 500 for the PDF') }),
    );
  });
});
