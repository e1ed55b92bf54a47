import { describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';

function setup(version: OdooVersion, botEmail: string | false = 'paylink-bot@example.com') {
  const reg = createRegistry({ version, settledState: 'paid', now: () => new Date('2026-03-02T09:00:00Z') });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const bot = models.createUser({
    name: 'Paylink Bot',
    login: 'paylink-bot',
    password: 'bot-pass-123',
    email: botEmail,
    groups: ['billing'],
  });
  const as =
    (uid: number) =>
    (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
      callModel(reg, uid, model, method, args, kwargs, false);
  const partner = models.createPartner({ name: 'Deco Addict', email: 'deco@example.com' });
  const invoice = models.createInvoice({ partnerId: partner, amount: '100.00' });
  models.createCustomField({ model: 'account.move', name: 'x_paylink_url', label: 'Pay address' });
  models.writeInvoice(invoice, { x_paylink_url: 'https://pay.example.com/pay/abc' });
  const admin = as(2);
  const standard = reg.ref('account.email_template_edi_invoice')!.id;
  const report = reg.ref('account.account_invoices')!.id;
  // What setup does: a copy with a Pay button and the invoice report.
  const copy = Number(admin('mail.template', 'copy', [[standard]], { default: { name: 'Ours' } }));
  admin('mail.template', 'write', [
    [copy],
    {
      body_html:
        '<div><p>Hello <t t-out="object.partner_id.name or \'\'"/></p><t t-if="object.x_paylink_url"><a t-att-href="object.x_paylink_url" class="o_paylink_pay">Pay</a></t></div>',
      report_template_ids: [[6, 0, [report]]],
    },
  ]);
  return { reg, models, bot, admin, asBot: as(bot), invoice, partner, standard, copy };
}

function send(asBot: ReturnType<typeof setup>['asBot'], invoice: number, template: number): Json {
  const composer = asBot('mail.compose.message', 'create', [
    { composition_mode: 'comment', model: 'account.move', res_ids: `[${invoice}]`, template_id: template },
  ]);
  return asBot('mail.compose.message', 'action_send_mail', [[Number(composer)]]);
}

describe('mail.compose.message with a template (comment mode)', () => {
  for (const version of ['18.0', '19.0'] as const) {
    it(`${version}: posts the rendered template on the invoice with the PDF, to the customer`, () => {
      const { reg, asBot, invoice, partner, copy, bot } = setup(version);
      expect(send(asBot, invoice, copy)).toEqual({ type: 'ir.actions.act_window_close' });
      const [message] = [...reg.model('mail.message').rows.values()].filter((row) =>
        String(row.body).includes('o_paylink_pay'),
      );
      expect(message).toMatchObject({
        model: 'account.move',
        res_id: invoice,
        message_type: 'comment',
        partner_ids: [partner],
        author_id: reg.model('res.users').rows.get(bot)?.partner_id,
      });
      expect(message?.subject).toMatch(/Invoice \(Ref INV\//);
      expect(message?.body).toBe(
        '<div><p>Hello Deco Addict</p><a href="https://pay.example.com/pay/abc" class="o_paylink_pay">Pay</a></div>',
      );
      const [attachment] = ((message?.attachment_ids ?? []) as number[]).map((id) =>
        reg.model('ir.attachment').rows.get(id),
      );
      expect(attachment).toMatchObject({
        mimetype: 'application/pdf',
        res_model: 'mail.message',
        res_id: message?.id,
      });
      expect(Buffer.from(String(attachment?.datas), 'base64').subarray(0, 4).toString()).toBe('%PDF');
      const [mail] = [...reg.model('mail.mail').rows.values()];
      expect(mail).toMatchObject({
        mail_message_id: message?.id,
        email_to: '"Deco Addict" <deco@example.com>',
      });
      // No mail server configured: the email waits in the queue.
      expect(mail?.state).toBe('outgoing');
    });
  }

  it('hides the Pay button while the invoice has no pay address', () => {
    const { reg, models, asBot, invoice, copy } = setup('18.0');
    models.writeInvoice(invoice, { x_paylink_url: false });
    send(asBot, invoice, copy);
    const last = [...reg.model('mail.message').rows.values()].at(-1);
    expect(last?.body).toBe('<div><p>Hello Deco Addict</p></div>');
  });

  it('18.0 refuses it when the bot has no email, as message_post does', () => {
    const { asBot, invoice, copy } = setup('18.0', false);
    expect(odooFailure(() => send(asBot, invoice, copy)).message).toBe(
      "Unable to send message, please configure the sender's email address.",
    );
  });

  it('rights of a Billing user: reads templates, never writes them, mail.mail or external ids', () => {
    const { asBot, standard, copy } = setup('18.0');
    expect(asBot('mail.template', 'read', [[standard]], { fields: ['name'] })).toEqual([
      { id: standard, name: 'Invoice: Sending' },
    ]);
    for (const attempt of [
      () => asBot('mail.template', 'write', [[copy], { name: 'x' }]),
      () => asBot('mail.template', 'copy', [[standard]]),
      () => asBot('mail.mail', 'search_read', [[]], { fields: ['id'] }),
      () =>
        asBot('ir.model.data', 'create', [{ module: 'x', name: 'y', model: 'mail.template', res_id: copy }]),
    ])
      expect(odooFailure(attempt).className).toBe('odoo.exceptions.AccessError');
  });
});
