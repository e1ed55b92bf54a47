import { readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { RpcOdooClient } from '../../src/odoo/client.js';
import { JsonRpcTransport } from '../../src/odoo/jsonrpc.js';
import {
  findPaylinkTemplate,
  PAY_BUTTON_CLASS,
  PAYLINK_TEMPLATE_NAME,
  removePaylinkTemplate,
} from '../../src/odoo/mail-template.js';
import { type SmtpCapture, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack | undefined;
let smtp: SmtpCapture | undefined;

afterEach(async () => {
  await smtp?.close();
  await stack?.close();
  smtp = undefined;
  stack = undefined;
});

const VIA_ODOO = { enabled: true, via: 'odoo', attachPdf: true, pdfTimeoutMs: 5_000 } as const;

async function odooStack(version: '18.0' | '19.0' = '18.0'): Promise<Stack> {
  stack = await startStack({ odoo: { version }, config: { mail: VIA_ODOO } });
  return stack;
}

/** The company's outgoing mail server in Odoo (Settings › Technical), a loopback capture here. */
async function companyMailServer(s: Stack): Promise<SmtpCapture> {
  smtp = await startSmtpCapture({
    dir: path.join(process.env.TMPDIR ?? '/tmp', `paylink-odoo-mail-${process.pid}-${Date.now()}`),
  });
  const reg = s.odoo.models.registry;
  reg.create(reg.superEnv(), 'ir.mail_server', {
    name: 'Company SMTP',
    smtp_host: smtp.host,
    smtp_port: smtp.port,
    smtp_encryption: 'none',
  });
  return smtp;
}

function adminClient(s: Stack): RpcOdooClient {
  return new RpcOdooClient(
    new JsonRpcTransport({ url: s.odoo.url, timeoutMs: 5_000 }),
    s.admin,
    createLogger({ level: 'error', format: 'json' }),
  );
}

function templates(s: Stack) {
  return [...s.odoo.models.registry.model('mail.template').rows.values()];
}

function standardTemplate(s: Stack) {
  const ref = s.odoo.models.registry.ref('account.email_template_edi_invoice');
  return s.odoo.models.registry.model('mail.template').rows.get(ref!.id)!;
}

async function delivered(capture: SmtpCapture, count: number, maxWaitMs = 5_000) {
  for (let waited = 0; waited < maxWaitMs; waited += 20) {
    if ((await capture.messages()).length >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const files = await capture.messages();
  return Promise.all(files.map((file) => simpleParser(readFileSync(file))));
}

function ourMessages(s: Stack, invoiceId: number) {
  return s.odoo.models.messages(invoiceId).filter((message) => message.body.includes(PAY_BUTTON_CLASS));
}

describe('mail.via odoo: setup-odoo installs the Pay-button template', () => {
  it('installs one copy of the standard invoice template, found again and left as is', async () => {
    const s = await odooStack();
    const standardBefore = { ...standardTemplate(s) };
    const ours = templates(s).filter((row) => row.name === PAYLINK_TEMPLATE_NAME);
    expect(ours).toHaveLength(1);
    const [template] = ours;
    // A copy: the standard subject and recipients, the body with the Pay button, the report attached.
    expect(template?.subject).toBe(standardBefore.subject);
    expect(template?.use_default_to).toBe(true);
    expect(String(template?.body_html)).toContain('t-att-href="object.x_paylink_url"');
    expect(String(template?.body_html)).toContain('Please remit payment');
    expect(template?.report_template_ids).toEqual([
      s.odoo.models.registry.ref('account.account_invoices')!.id,
    ]);

    const app = s.app();
    const again = await app.setupOdoo(s.admin);
    app.close();
    expect(again.mailTemplate).toEqual({ id: template!.id, action: 'unchanged' });
    expect(templates(s).filter((row) => row.name === PAYLINK_TEMPLATE_NAME)).toHaveLength(1);
    // The standard template is never modified.
    expect(standardTemplate(s)).toEqual(standardBefore);
  });

  it('updates our copy when it differs from what this version installs', async () => {
    const s = await odooStack();
    const reg = s.odoo.models.registry;
    const id = templates(s).find((row) => row.name === PAYLINK_TEMPLATE_NAME)!.id;
    reg.update(
      'mail.template',
      reg.model('mail.template').rows.get(id)!,
      { body_html: '<div>old</div>' },
      reg.superEnv(),
    );
    const app = s.app();
    const report = await app.setupOdoo(s.admin);
    app.close();
    expect(report.mailTemplate).toEqual({ id, action: 'updated' });
    expect(String(reg.model('mail.template').rows.get(id)!.body_html)).toContain(PAY_BUTTON_CLASS);
  });

  it('--remove deletes our template and its external id, never the standard one', async () => {
    const s = await odooStack();
    const admin = adminClient(s);
    const log = createLogger({ level: 'error', format: 'json' });
    expect(await findPaylinkTemplate(admin, [s.companyId])).toBeDefined();
    const standardBefore = { ...standardTemplate(s) };
    expect(await removePaylinkTemplate(admin, { companyIds: [s.companyId], log })).toBe(true);
    expect(templates(s).map((row) => row.name)).toEqual(['Invoice: Sending']);
    expect(standardTemplate(s)).toEqual(standardBefore);
    expect(await findPaylinkTemplate(admin, [s.companyId])).toBeUndefined();
    expect(await removePaylinkTemplate(admin, { companyIds: [s.companyId], log })).toBe(false);
  });
});

describe('mail.via odoo: Odoo sends the invoice email', () => {
  it.each(['18.0', '19.0'] as const)(
    '%s: sends through the company mail server, with the PDF and the pay link, and the message is in the chatter',
    async (version) => {
      const s = await odooStack(version);
      const capture = await companyMailServer(s);
      const [invoiceId] = s.createInvoices(1);
      const app = await s.readyApp();
      await app.pipeline.publish();
      await app.mail!.runOnce();
      const payUrl = String(s.odoo.models.invoiceFieldValue(invoiceId!, 'x_paylink_url'));
      expect(payUrl).toMatch(/^https?:\/\//);

      const [email, ...more] = await delivered(capture, 1);
      expect(more).toHaveLength(0);
      expect(email?.to && 'text' in email.to ? email.to.text : '').toContain('one@example.com');
      const invoiceName = s.odoo.models.getInvoice(invoiceId!).name;
      expect(email?.subject).toContain(`Invoice (Ref ${invoiceName})`);
      expect(email?.html).toContain(`href="${payUrl}"`);
      const pdf = email?.attachments.find((attachment) => attachment.contentType === 'application/pdf');
      expect(pdf?.content.subarray(0, 4).toString()).toBe('%PDF');
      expect(pdf?.content.toString('latin1')).toContain(invoiceName);

      // The chatter: the sent email as a comment to the customer, the PDF attached to it.
      const reg = s.odoo.models.registry;
      const [message, ...others] = ourMessages(s, invoiceId!);
      expect(others).toHaveLength(0);
      expect(message?.message_type).toBe('comment');
      expect(message?.subtype).toBe('mail.mt_comment');
      const row = reg.model('mail.message').rows.get(message!.id)!;
      expect(row.partner_ids).toEqual([s.partnerId]);
      const [attachment] = (row.attachment_ids as number[]).map(
        (id) => reg.model('ir.attachment').rows.get(id)!,
      );
      expect(attachment?.mimetype).toBe('application/pdf');
      expect(attachment?.res_model).toBe('mail.message');
      expect(email?.messageId).toBe(message?.message_id);
      const [mail] = [...reg.model('mail.mail').rows.values()];
      expect(mail?.mail_message_id).toBe(message!.id);
      expect(mail?.state).toBe('sent');

      // Nothing went through an SMTP of the daemon's own: the one email is Odoo's.
      expect(app.mail!.outbox.countsByState().sent).toBe(1);
      expect(s.logs.some((line) => line.message.includes('Odoo sent the email'))).toBe(true);
    },
  );

  it('after a crash between "Odoo sent" and "we recorded it", the retry finds the message and sends nothing', async () => {
    const s = await odooStack();
    const capture = await companyMailServer(s);
    const [invoiceId] = s.createInvoices(1);
    const crashed = await s.readyApp();
    await crashed.pipeline.publish();
    await crashed.mail!.runOnce();
    expect(await delivered(capture, 1)).toHaveLength(1);
    // The store as the crash left it: the row still claimed ('sending'), its lease over.
    crashed.db.prepare(`UPDATE outbox SET state = 'sending', sent_at = NULL, next_attempt_at = 0`).run();
    crashed.close();

    const restarted = await s.readyApp();
    await restarted.mail!.runOnce();
    // Waits a while for a second email that must not come.
    expect(await delivered(capture, 2, 500)).toHaveLength(1);
    expect(ourMessages(s, invoiceId!)).toHaveLength(1);
    expect(restarted.mail!.outbox.countsByState().sent).toBe(1);
    expect(s.logs.some((line) => line.message.includes('Odoo had already sent'))).toBe(true);
  });

  it('a resend queued after the first email goes again through Odoo', async () => {
    const s = await odooStack();
    const capture = await companyMailServer(s);
    const [invoiceId] = s.createInvoices(1);
    const app = await s.readyApp();
    await app.pipeline.publish();
    await app.mail!.runOnce();
    expect(await delivered(capture, 1)).toHaveLength(1);
    s.advanceOdooClock(2_000);
    const link = app.links.currentForInvoice(invoiceId!)!;
    const [invoice] = await app.ledger.invoicesByIds(s.companyId, [invoiceId!]);
    const company = await app.ledger.companyContact(s.companyId);
    app.mail!.resend(link, invoice!, company);
    await app.mail!.runOnce();
    expect(await delivered(capture, 2)).toHaveLength(2);
    expect(ourMessages(s, invoiceId!)).toHaveLength(2);
  });
});

describe('mail.via odoo: rights of the Billing bot', () => {
  it('reads the templates but may not change them', async () => {
    const s = await odooStack();
    const bot = new RpcOdooClient(
      new JsonRpcTransport({ url: s.odoo.url, timeoutMs: 5_000 }),
      { db: s.config.odoo!.db, login: s.config.odoo!.login, password: s.config.odoo!.password },
      createLogger({ level: 'error', format: 'json' }),
    );
    const id = await findPaylinkTemplate(bot, [s.companyId]);
    expect(id).toBeDefined();
    await expect(
      bot.write('mail.template', [id!], { body_html: '<p>x</p>' }, { companyIds: [s.companyId] }),
    ).rejects.toThrow(/not allowed to modify/);
  });
});
