import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { App } from '../../src/app.js';
import { createLogger } from '../../src/log.js';
import { RpcOdooClient } from '../../src/odoo/client.js';
import { ATTENTION_FILTER, formViewArch, INVOICE_ACTIONS } from '../../src/odoo/invoice-ui.js';
import { JsonRpcTransport } from '../../src/odoo/jsonrpc.js';
import type { OdooVersion } from '../../src/sandbox/odoo/versions.js';
import { CAPTURES_DIR } from '../support/captures.js';
import { Mailbox } from '../support/mailbox.js';
import { type Stack, settle, startStack } from '../support/stack.js';

/**
 * The accountant's side: everything seen and done from the invoice form, as a user with Billing
 * rights clicking in Odoo, never touching the daemon.
 */

let stack: Stack;
let running: Stack | undefined;

async function start(options: Parameters<typeof startStack>[0]): Promise<Stack> {
  running = await startStack(options);
  return running;
}

afterEach(async () => {
  await running?.close();
  running = undefined;
});

const quiet = createLogger({ level: 'error', format: 'json' });

function clientFor(s: Stack, credentials: { login: string; password: string }): RpcOdooClient {
  return new RpcOdooClient(
    new JsonRpcTransport({ url: s.odoo.url, timeoutMs: 5_000 }),
    { db: s.odoo.db, ...credentials },
    quiet,
  );
}

/** An accountant: Billing rights, as the daemon's own user, but a person clicking in Odoo. */
function accountant(s: Stack): { client: RpcOdooClient; uid: number } {
  const credentials = { login: 'amina', password: 'amina-pass-123' };
  const uid = s.odoo.models.createUser({
    name: 'Amina Accountant',
    ...credentials,
    email: 'amina@test-sarl.example.com',
    groups: ['billing'],
    companyIds: [s.companyId],
  });
  return { client: clientFor(s, credentials), uid };
}

/** Runs an Action-menu entry on one invoice, as the web client does (/web/action/run). */
async function clickAction(s: Stack, user: RpcOdooClient, request: string, invoiceId: number): Promise<void> {
  const action = INVOICE_ACTIONS.find((candidate) => candidate.request === request)!;
  const { module, name } = action.xmlid;
  const ref = [...s.odoo.models.registry.model('ir.model.data').rows.values()].find(
    (row) => row.module === module && row.name === name,
  );
  if (!ref) throw new Error(`setup did not install ${module}.${name}`);
  await user.call('ir.actions.server', 'run', [[Number(ref.res_id)]], z.unknown(), {
    companyIds: [s.companyId],
    context: { active_model: 'account.move', active_ids: [invoiceId], active_id: invoiceId },
  });
}

function setCompanyLanguage(s: Stack, lang: string): void {
  const reg = s.odoo.models.registry;
  const company = reg.model('res.company').rows.get(s.companyId)!;
  reg.update(
    'res.partner',
    reg.model('res.partner').rows.get(Number(company.partner_id))!,
    { lang },
    reg.superEnv(),
  );
}

function notes(s: Stack, invoiceId: number): string[] {
  return s.odoo.models
    .messages(invoiceId)
    .filter((message) => message.message_type === 'comment')
    .map((message) => message.body);
}

function activities(s: Stack, invoiceId: number) {
  return [...s.odoo.models.registry.model('mail.activity').rows.values()].filter(
    (row) => row.res_id === invoiceId,
  );
}

const field = (s: Stack, id: number, name: string) => s.odoo.models.invoiceFieldValue(id, name);

describe.each(['16.0', '17.0', '18.0', '19.0'] as OdooVersion[])(
  'on Odoo %s, the invoice form',
  (version) => {
    it('shows an "Online payment" group and the list a "needs attention" filter, installed once and removed by --remove', async () => {
      stack = await start({ odoo: { version } });
      const bot = clientFor(stack, stack.odoo.bot!);
      const getViews = (type: string) =>
        bot.call(
          'account.move',
          'get_views',
          [[[false, type]]],
          z.object({ views: z.record(z.string(), z.object({ arch: z.string() }).loose()) }).loose(),
          { companyIds: [stack.companyId], kwargs: { options: {} } },
        );
      const form = (await getViews('form')).views.form!.arch;
      expect(form).toMatch(
        /<group string="Online payment" name="odoo_paylink"[^>]*><field name="x_paylink_url" widget="url" readonly="1"/,
      );
      for (const name of ['x_paylink_gateway', 'x_paylink_state', 'x_paylink_state_at'])
        expect(form).toContain(`<field name="${name}" readonly="1"`);
      // 16.0 takes attrs, 17.0+ Python expressions in the attribute.
      expect(form).toContain(
        version === '16.0' ? "attrs=\"{'invisible'" : 'invisible="not x_paylink_gateway',
      );
      const search = (await getViews('search')).views.search!.arch;
      expect(search).toContain(
        `<filter name="${ATTENTION_FILTER}" string="Online payment: needs attention" domain="[('x_paylink_attention', '=', True)]"/>`,
      );
      const views = () => [...stack.odoo.models.registry.model('ir.ui.view').rows.values()].length;
      const actions = () => [...stack.odoo.models.registry.model('ir.actions.server').rows.values()];
      const before = { views: views(), actions: actions().length };
      expect(before.actions).toBe(3);
      for (const action of actions()) expect(action.binding_view_types).toBe('list,form');

      const again = stack.app();
      const report = await again.setupOdoo(stack.admin);
      expect(Object.values(report.invoiceUi.views)).toEqual(['unchanged', 'unchanged']);
      expect(Object.values(report.invoiceUi.actions)).toEqual(['unchanged', 'unchanged', 'unchanged']);
      expect({ views: views(), actions: actions().length }).toEqual(before);

      const removed = await again.removeFromOdoo(stack.admin);
      expect(removed).toHaveLength(5);
      expect(views()).toBe(before.views - 2);
      expect(actions()).toHaveLength(0);
      expect(stack.odoo.models.hasField('account.move', 'x_paylink_request'), 'the fields stay').toBe(true);
      expect((await getViews('form')).views.form!.arch).not.toContain('odoo_paylink');
    });
  },
);

describe('the view setup installs', () => {
  it('anchors where the real 18.0 and 19.0 invoice forms have the field (captures 61b)', () => {
    for (const version of ['18.0', '19.0']) {
      const capture = JSON.parse(
        readFileSync(
          path.join(CAPTURES_DIR, version, '61b_get_views_account_move_form_shows_new_fields.json'),
          'utf8',
        ),
      ) as { response: { result: { views: { form: { arch: string } } } } };
      const realArch = capture.response.result.views.form.arch;
      const anchor = /expr="\/\/field\[@name='(\w+)'\]"/.exec(formViewArch(Number(version.slice(0, 2))))?.[1];
      expect(anchor).toBe('payment_reference');
      expect(realArch).toContain(`<field name="${anchor}"`);
    }
  });
});

describe('acting from the Action menu', () => {
  async function publishedInvoice(options: { mailbox?: Mailbox } = {}): Promise<{ app: App; id: number }> {
    const [id] = stack.createInvoices(1);
    const app = await stack.readyApp(options.mailbox ? { mailbox: options.mailbox } : {});
    await app.pipeline.publish();
    await app.mail?.runOnce();
    return { app, id: id! };
  }

  it('"Send payment link again" emails the customer once more within one pass, clears the request and says so', async () => {
    stack = await start({ odoo: { version: '18.0' } });
    setCompanyLanguage(stack, 'fr_FR');
    const mailbox = new Mailbox();
    const { app, id } = await publishedInvoice({ mailbox });
    expect(mailbox.sent).toHaveLength(1);
    expect(field(stack, id, 'x_paylink_state')).toBe('Ouvert : en attente du paiement du client');
    expect(field(stack, id, 'x_paylink_attention')).toBe(false);

    const { client } = accountant(stack);
    await clickAction(stack, client, 'resend', id);
    expect(field(stack, id, 'x_paylink_request')).toBe('resend');
    await app.pipeline.publish();
    await app.mail?.runOnce();
    expect(mailbox.sent).toHaveLength(2);
    expect(mailbox.sent[1]!.html).toContain(String(field(stack, id, 'x_paylink_url')));
    expect(field(stack, id, 'x_paylink_request')).toBe(false);
    expect(
      notes(stack, id).some((body) => body.includes('Comme demandé, le lien de paiement va être renvoyé')),
    ).toBe(true);
    // Read again (an overlap, a restart): the request is not carried out twice.
    await settle(app, 2);
    await app.mail?.runOnce();
    expect(mailbox.sent).toHaveLength(2);

    // Odoo refuses to clear the request after the email was queued; a restarted daemon reads
    // the same request again in its full sweep and only clears it.
    // (A click within the same second as the last one is the same click: write_date is the key.)
    stack.advanceOdooClock(5_000);
    await clickAction(stack, client, 'resend', id);
    stack.odoo.faults.failNext(
      { model: 'account.move', method: 'write' },
      { name: 'odoo.exceptions.LockError', message: 'locked' },
    );
    await app.pipeline.publish().catch(() => undefined);
    await app.mail?.runOnce();
    expect(mailbox.sent).toHaveLength(3);
    expect(field(stack, id, 'x_paylink_request')).toBe('resend');
    app.close();
    stack.advanceOdooClock(2 * 60 * 60_000);
    const restarted = await stack.readyApp({ mailbox });
    await restarted.pipeline.publish();
    await restarted.mail?.runOnce();
    expect(field(stack, id, 'x_paylink_request')).toBe(false);
    expect(mailbox.sent).toHaveLength(3);
  });

  it('"New payment link" archives the link at the gateway and the invoice gets a new one', async () => {
    stack = await start({ odoo: { version: '19.0' } });
    const { app, id } = await publishedInvoice();
    const first = String(field(stack, id, 'x_mytpe_link_id'));
    await clickAction(stack, accountant(stack).client, 'new_link', id);
    await app.pipeline.publish();
    expect(stack.mytpe.links().find((link) => link.id === first)?.status).not.toBe('active');
    await app.pipeline.publish();
    const second = field(stack, id, 'x_mytpe_link_id');
    expect(second).not.toBe(false);
    expect(second).not.toBe(first);
    expect(app.links.ofInvoice(id).map((row) => row.state)).toEqual(['closed', 'open']);
    expect(field(stack, id, 'x_paylink_request')).toBe(false);
    expect(notes(stack, id).some((body) => body.includes('replaced by a new one'))).toBe(true);
  });

  it('"Stop online payment" archives the link and marks the invoice "do not send"; the customer cannot pay it', async () => {
    stack = await start({ odoo: { version: '17.0' } });
    const { app, id } = await publishedInvoice();
    const linkId = String(field(stack, id, 'x_mytpe_link_id'));
    await clickAction(stack, accountant(stack).client, 'stop', id);
    await app.pipeline.publish();
    expect(field(stack, id, 'x_paylink_skip')).toBe(true);
    expect(field(stack, id, 'x_paylink_request')).toBe(false);
    expect(app.links.ofInvoice(id).map((row) => row.state)).toEqual(['closed']);
    expect(stack.mytpe.links().find((link) => link.id === linkId)?.status).not.toBe('active');
    await settle(app, 2);
    expect(app.links.ofInvoice(id)).toHaveLength(1);
    expect(String(field(stack, id, 'x_paylink_state'))).toMatch(/^Archived/);
  });

  it('refuses a request on a paid invoice with a note saying why, in the company’s language', async () => {
    stack = await start({ odoo: { version: '16.0' } });
    setCompanyLanguage(stack, 'ar_001');
    const { app, id } = await publishedInvoice();
    stack.mytpe.pay(String(field(stack, id, 'x_mytpe_link_id')));
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id).payment_state).toBe('paid');
    expect(field(stack, id, 'x_paylink_state')).toBe('مدفوع إلكترونيًا');
    await clickAction(stack, accountant(stack).client, 'new_link', id);
    await app.pipeline.publish();
    expect(field(stack, id, 'x_paylink_request')).toBe(false);
    expect(notes(stack, id)).toContain('<p>لم يُنفَّذ الطلب «رابط دفع جديد»: الفاتورة مدفوعة بالفعل.</p>');
    expect(app.links.ofInvoice(id)).toHaveLength(1);
    // No note carries a visible marker; each is found again by its Message-Id.
    for (const body of notes(stack, id)) expect(body).not.toMatch(/odoo-paylink|\[/);
  });
});

describe('what needs a person', () => {
  it('becomes a To-Do for the invoice’s responsible, flagged for the list filter, and is marked done when resolved', async () => {
    stack = await start({ odoo: { version: '18.0' } });
    const { client, uid } = accountant(stack);
    const [id] = stack.createInvoices(1, '1500.00');
    stack.odoo.models.writeInvoice(id!, { invoice_user_id: uid });
    const app = await stack.readyApp();
    await app.pipeline.publish();
    const linkId = String(field(stack, id!, 'x_mytpe_link_id'));
    stack.mytpe.pay(linkId, { amount: '1000.00' });
    // Odoo makes the To-Do but its answer is lost: the retry finds it instead of making another.
    stack.odoo.faults.dropResponseNext({ model: 'mail.activity', method: 'create' });
    await settle(app, 2);
    expect(app.links.ofInvoice(id!).at(-1)?.state).toBe('mismatch');
    expect(field(stack, id!, 'x_paylink_attention')).toBe(true);
    expect(String(field(stack, id!, 'x_paylink_state'))).toMatch(/^Needs attention: /);
    const [todo] = activities(stack, id!);
    expect(todo).toMatchObject({
      summary: 'Online payment: the amount or currency does not match',
      user_id: uid,
    });
    // The accountant's filter finds it.
    const flagged = await client.searchRead(
      'account.move',
      [['x_paylink_attention', '=', true]],
      z.object({ id: z.number() }),
      { fields: ['id'], companyIds: [stack.companyId] },
    );
    expect(flagged.map((invoice) => invoice.id)).toEqual([id]);
    // More passes make no second To-Do.
    await settle(app, 2);
    expect(activities(stack, id!)).toHaveLength(1);

    // The accountant registers what the customer paid by hand (and the rest), settling the invoice.
    stack.odoo.models.payByOtherMeans(id!, { memo: 'bank transfer' });
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('paid');
    expect(activities(stack, id!)).toHaveLength(0);
    expect(field(stack, id!, 'x_paylink_attention')).toBe(false);
    expect(
      stack.odoo.models
        .messages(id!)
        .some((message) => message.body.includes('done: Online payment: the amount')),
    ).toBe(true);
  });

  it('makes a customer without email a To-Do for the configured user, done once the email went out', async () => {
    stack = await start({ odoo: { version: '19.0' } });
    const { client, uid } = accountant(stack);
    stack.odoo.models.registry.update(
      'res.partner',
      stack.odoo.models.registry.model('res.partner').rows.get(stack.partnerId)!,
      { email: false },
      stack.odoo.models.registry.superEnv(),
    );
    const [id] = stack.createInvoices(1);
    const mailbox = new Mailbox();
    const app = await stack.readyApp({
      mailbox,
      config: { odoo: { ...stack.config.odoo!, activityUserId: uid } },
    });
    await app.pipeline.publish();
    await app.mail?.runOnce();
    await app.pipeline.postNotes();
    expect(mailbox.sent).toHaveLength(0);
    expect(activities(stack, id!)).toMatchObject([
      { summary: 'Online payment: the customer has no email address', user_id: uid },
    ]);
    stack.odoo.models.registry.update(
      'res.partner',
      stack.odoo.models.registry.model('res.partner').rows.get(stack.partnerId)!,
      { email: 'one@example.com' },
      stack.odoo.models.registry.superEnv(),
    );
    await clickAction(stack, client, 'resend', id!);
    await app.pipeline.publish();
    await app.mail?.runOnce();
    await app.pipeline.postNotes();
    expect(mailbox.sent).toHaveLength(1);
    expect(activities(stack, id!)).toHaveLength(0);
    expect(field(stack, id!, 'x_paylink_attention')).toBe(false);
  });
});

describe('chatter notes', () => {
  it('are posted once when Odoo posted one but its answer was lost', async () => {
    stack = await start({ odoo: { version: '18.0' } });
    const [id] = stack.createInvoices(1);
    const app = await stack.readyApp();
    stack.odoo.faults.dropResponseNext({ model: 'account.move', method: 'message_post' });
    await app.pipeline.publish();
    await settle(app, 2);
    const created = stack.odoo.models
      .messages(id!)
      .filter(
        (message) => message.message_type === 'comment' && message.body.includes('payment link created'),
      );
    expect(created).toHaveLength(1);
    expect(created[0]!.message_id).toMatch(/^<paylink\..+\.link_created@odoo-paylink>$/);
  });
});
