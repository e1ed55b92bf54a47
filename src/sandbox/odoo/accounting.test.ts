import { describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';

function setup(options: { version?: OdooVersion; settledState?: 'paid' | 'in_payment' } = {}) {
  let clock = new Date('2026-03-02T09:00:00Z');
  const reg = createRegistry({
    version: options.version ?? '18.0',
    settledState: options.settledState ?? 'paid',
    now: () => clock,
  });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const call = (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
    callModel(reg, 2, model, method, args, kwargs, false);
  const advance = (seconds: number) => {
    clock = new Date(clock.getTime() + seconds * 1000);
  };
  const partner = models.createPartner({ name: 'Deco Addict', email: 'deco@example.com', lang: 'fr_FR' });
  return { reg, models, call, advance, partner };
}

const failure = odooFailure;

const ctx = (ids: number[], extra: JsonObject = {}): JsonObject => ({
  context: { active_model: 'account.move', active_ids: ids, ...extra },
});

function register(call: ReturnType<typeof setup>['call'], invoiceId: number, vals: JsonObject): Json {
  const wizard = call('account.payment.register', 'create', [vals], ctx([invoiceId]));
  return call('account.payment.register', 'action_create_payments', [[Number(wizard)]], ctx([invoiceId]));
}

describe('payment registration through account.payment.register', () => {
  it('pays an invoice in full: paid, nothing due, payment memo = communication, Odoo action returned', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '1500.00' });
    const wizard = call('account.payment.register', 'create', [{ communication: 'GW:tx-1' }], ctx([invoice]));
    expect(typeof wizard).toBe('number');
    const [read] = call('account.payment.register', 'read', [[Number(wizard)]], {
      fields: ['amount', 'communication', 'journal_id', 'payment_difference', 'can_edit_wizard', 'line_ids'],
    }) as JsonObject[];
    expect(read).toMatchObject({
      amount: 1500,
      communication: 'GW:tx-1',
      journal_id: [3, 'Bank'],
      payment_difference: 0,
      can_edit_wizard: true,
    });
    const action = call(
      'account.payment.register',
      'action_create_payments',
      [[Number(wizard)]],
      ctx([invoice]),
    ) as JsonObject;
    expect(action).toEqual({
      name: 'Payments',
      type: 'ir.actions.act_window',
      res_model: 'account.payment',
      context: { create: false },
      view_mode: 'form',
      res_id: action.res_id ?? -1,
    });
    const after = models.getInvoice(invoice);
    expect(after).toMatchObject({
      payment_state: 'paid',
      amount_residual: 0,
      matched_payment_ids: [action.res_id],
    });
    const [payment] = models.paymentsByMemo('GW:tx-1');
    expect(payment).toMatchObject({
      id: action.res_id,
      state: 'paid',
      amount: 1500,
      memo: 'GW:tx-1',
      payment_type: 'inbound',
    });
    expect(payment?.reconciled_invoice_ids).toEqual([invoice]);
    expect(payment?.name).toMatch(/^PBNK1\/2026\/\d{5}$/);
  });

  it('pays partially, then the wizard defaults to what is left', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '1500.00' });
    register(call, invoice, { amount: 1000, communication: 'first', payment_difference_handling: 'open' });
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'partial', amount_residual: 500 });
    const wizard = call('account.payment.register', 'create', [{ communication: 'second' }], ctx([invoice]));
    const [read] = call('account.payment.register', 'read', [[Number(wizard)]], {
      fields: ['amount'],
    }) as JsonObject[];
    expect(read?.amount).toBe(500);
    call('account.payment.register', 'action_create_payments', [[Number(wizard)]], ctx([invoice]));
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'paid', amount_residual: 0 });
    expect(models.getInvoice(invoice).matched_payment_ids).toHaveLength(2);
  });

  it('marks a short payment fully paid with "reconcile" (write-off)', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '100.00' });
    register(call, invoice, { amount: 99.5, payment_difference_handling: 'reconcile' });
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'paid', amount_residual: 0 });
  });

  it('accepts an overpayment: the invoice is paid, the payment keeps its full amount', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '100.00' });
    register(call, invoice, { amount: 150, communication: 'over' });
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'paid', amount_residual: 0 });
    expect(models.paymentsByMemo('over')[0]?.amount).toBe(150);
  });

  it("uses the settled state chosen for the sandbox ('in_payment' like Enterprise accounting)", () => {
    const { models, call, partner } = setup({ settledState: 'in_payment' });
    const invoice = models.createInvoice({ partnerId: partner, amount: '10.00' });
    register(call, invoice, {});
    expect(models.getInvoice(invoice).payment_state).toBe('in_payment');
  });

  it('refuses draft invoices and invoices with nothing left to pay, with Odoo’s messages per version', () => {
    for (const version of ['18.0', '19.0'] as const) {
      const { models, call, partner } = setup({ version });
      const draft = models.createInvoice({ partnerId: partner, amount: '10.00', post: false });
      const notPosted = failure(() => call('account.payment.register', 'create', [{}], ctx([draft])));
      expect(notPosted.className).toBe('odoo.exceptions.UserError');
      expect(notPosted.message).toBe('You can only register payment for posted journal entries.');
      const paid = models.createInvoice({ partnerId: partner, amount: '10.00' });
      register(call, paid, {});
      const nothingLeft = failure(() =>
        call('account.payment.register', 'create', [{ amount: 10 }], ctx([paid])),
      );
      expect(nothingLeft.className).toBe('odoo.exceptions.UserError');
      expect(nothingLeft.message).toBe(
        version === '18.0'
          ? "You can't register a payment because there is nothing left to pay on the selected journal items."
          : "There's nothing left to pay for the selected journal items, so no payment registration is necessary. You've got your finances under control like a boss!",
      );
    }
  });

  it('fails action_create_payments when the invoice was paid meanwhile (two transactions in Odoo)', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '10.00' });
    const wizard = call('account.payment.register', 'create', [{ communication: 'late' }], ctx([invoice]));
    models.payByOtherMeans(invoice, { memo: 'cash at the desk' });
    expect(
      failure(() =>
        call('account.payment.register', 'action_create_payments', [[Number(wizard)]], ctx([invoice])),
      ).className,
    ).toBe('odoo.exceptions.UserError');
    expect(models.paymentsByMemo('late')).toEqual([]);
  });

  it('needs the active_model/active_ids context, as Odoo’s default_get does', () => {
    const { call } = setup();
    expect(failure(() => call('account.payment.register', 'create', [{}])).message).toBe(
      'The register payment wizard should only be called on account.move or account.move.line records.',
    );
  });

  it('computes in minor units: no float drift, currency digits respected (JPY 0, KWD 3)', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '0.30', currency: 'EUR' });
    register(call, invoice, { amount: 0.1 });
    register(call, invoice, { amount: 0.2 });
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'paid', amount_residual: 0 });
    const kwd = models.createInvoice({ partnerId: partner, amount: '1234.5675', currency: 'KWD' });
    expect(models.getInvoice(kwd).amount_total).toBe(1234.568);
    register(call, kwd, { amount: 0.001 });
    expect(models.getInvoice(kwd)).toMatchObject({ payment_state: 'partial', amount_residual: 1234.567 });
    const jpy = models.createInvoice({ partnerId: partner, amount: '1999.6', currency: 'JPY' });
    expect(models.getInvoice(jpy).amount_total).toBe(2000);
  });
});

describe('write_date', () => {
  it('is bumped by writes and by payment_state/amount_residual changes, not by chatter', () => {
    const { models, call, partner, advance } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '50.00' });
    const created = models.getInvoice(invoice).write_date;
    expect(created).toBe('2026-03-02 09:00:00');
    advance(5);
    call('account.move', 'message_post', [[invoice]], { body: 'note' });
    expect(models.getInvoice(invoice).write_date).toBe(created);
    advance(5);
    register(call, invoice, { amount: 20 });
    expect(models.getInvoice(invoice).write_date).toBe('2026-03-02 09:00:10');
    advance(5);
    models.payByOtherMeans(invoice, { memo: 'other' });
    expect(models.getInvoice(invoice).write_date).toBe('2026-03-02 09:00:15');
    advance(5);
    call('account.move', 'write', [[invoice], { ref: 'customer ref' }]);
    expect(models.getInvoice(invoice).write_date).toBe('2026-03-02 09:00:20');
    const [row] = call('account.move', 'search_read', [[['write_date', '>', '2026-03-02 09:00:15']]], {
      fields: ['id'],
    }) as JsonObject[];
    expect(row?.id).toBe(invoice);
  });
});

describe('custom x_ fields through ir.model.fields', () => {
  it('do not exist before creation, then read, write and search like Odoo fields', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '50.00' });
    const readBefore = failure(() => call('account.move', 'read', [[invoice]], { fields: ['x_link_id'] }));
    expect(readBefore).toMatchObject({
      className: 'builtins.ValueError',
      message: "Invalid field 'x_link_id' on model 'account.move'",
    });
    const searchBefore = failure(() =>
      call('account.move', 'search_read', [[]], { fields: ['name', 'x_link_id'] }),
    );
    expect(searchBefore.className).toBe('builtins.ValueError');
    const writeBefore = failure(() => call('account.move', 'write', [[invoice], { x_link_id: 'abc' }]));
    expect(writeBefore).toMatchObject({ className: 'builtins.KeyError', message: 'x_link_id' });

    const [irModel] = call('ir.model', 'search_read', [[['model', '=', 'account.move']]], {
      fields: ['id', 'model', 'name'],
    }) as JsonObject[];
    expect(irModel).toMatchObject({ model: 'account.move', name: 'Journal Entry' });
    const fieldId = call('ir.model.fields', 'create', [
      {
        model_id: Number(irModel?.id),
        name: 'x_link_id',
        ttype: 'char',
        state: 'manual',
        field_description: 'Link ID',
      },
    ]);
    expect(typeof fieldId).toBe('number');
    expect(
      (call('account.move', 'read', [[invoice]], { fields: ['x_link_id'] }) as JsonObject[])[0]?.x_link_id,
    ).toBe(false);
    expect(call('account.move', 'write', [[invoice], { x_link_id: 'link-1' }])).toBe(true);
    expect(call('account.move', 'search', [[['x_link_id', '=', 'link-1']]])).toEqual([invoice]);
    expect(models.invoiceFieldValue(invoice, 'x_link_id')).toBe('link-1');
    expect(models.getInvoice(invoice).custom).toEqual({ x_link_id: 'link-1' });
    const fields = call('account.move', 'fields_get', [['x_link_id']], {
      attributes: ['type', 'string', 'manual'],
    });
    expect(fields).toEqual({ x_link_id: { type: 'char', string: 'Link ID', manual: true } });

    const duplicate = failure(() =>
      call('ir.model.fields', 'create', [
        { model_id: Number(irModel?.id), name: 'x_link_id', ttype: 'char', field_description: 'dup' },
      ]),
    );
    expect(duplicate).toMatchObject({
      className: 'odoo.exceptions.ValidationError',
      message: 'The operation cannot be completed: Field names must be unique per model.',
    });
    const badName = failure(() =>
      call('ir.model.fields', 'create', [
        { model_id: Number(irModel?.id), name: 'link_id', ttype: 'char', field_description: 'x' },
      ]),
    );
    expect(badName.message).toBe("Custom fields must have a name that starts with 'x_'!");

    call('ir.model.fields', 'unlink', [[Number(fieldId)]]);
    expect(
      failure(() => call('account.move', 'read', [[invoice]], { fields: ['x_link_id'] })).className,
    ).toBe('builtins.ValueError');
  });
});

describe('multi-company record rules', () => {
  it('hides other companies’ records unless allowed_company_ids lists them', () => {
    const { models, call, partner } = setup();
    const other = models.createCompany({ name: 'Sandbox Tunisie', currency: 'TND' });
    const mine = models.createInvoice({ partnerId: partner, amount: '10.00' });
    const theirs = models.createInvoice({ partnerId: partner, companyId: other, amount: '20.000' });
    expect(call('account.move', 'search', [[['move_type', '=', 'out_invoice']]])).toEqual([mine]);
    expect(
      call('account.move', 'search', [[['move_type', '=', 'out_invoice']]], {
        order: 'id',
        context: { allowed_company_ids: [other, 1] },
      }),
    ).toEqual([mine, theirs]);
    const hidden = failure(() =>
      call('account.move', 'read', [[theirs]], { fields: ['name'], context: { allowed_company_ids: [1] } }),
    );
    expect(hidden.className).toBe('odoo.exceptions.AccessError');
    expect(hidden.message).toContain("doesn't have 'read' access to:\n- Journal Entry (account.move)");
    const [visible] = call('account.move', 'read', [[theirs]], {
      fields: ['company_id', 'currency_id'],
      context: { allowed_company_ids: [other] },
    }) as JsonObject[];
    expect(visible).toMatchObject({ company_id: [other, 'Sandbox Tunisie'], currency_id: [6, 'TND'] });
  });

  it('refuses companies the user may not use, and puts new records in the first allowed company', () => {
    const { models, call, partner } = setup();
    const forbidden = models.createCompany({ name: 'Holding', adminAccess: false });
    const second = models.createCompany({ name: 'Second', currency: 'EUR' });
    const error = failure(() =>
      call('account.move', 'search', [[]], { context: { allowed_company_ids: [forbidden] } }),
    );
    expect(error).toMatchObject({
      className: 'odoo.exceptions.AccessError',
      message: 'Access to unauthorized or invalid companies.',
    });
    const id = call('account.move', 'create', [{ move_type: 'out_invoice', partner_id: partner }], {
      context: { allowed_company_ids: [second, 1] },
    });
    expect(models.getInvoice(Number(id))).toMatchObject({ company_id: second, currency: 'EUR' });
  });
});

describe('account.move over RPC', () => {
  it('creates from a dict (id) or a list (ids), posts with Odoo numbering and locks posted fields', () => {
    const { models, call, partner } = setup();
    const id = call('account.move', 'create', [
      {
        move_type: 'out_invoice',
        partner_id: partner,
        invoice_date: '2026-02-27',
        ref: 'PO-7',
        invoice_line_ids: [[0, 0, { name: 'Service', quantity: 2, price_unit: 60, tax_ids: [[6, 0, []]] }]],
      },
    ]);
    expect(typeof id).toBe('number');
    expect(call('account.move', 'create', [[{ move_type: 'out_invoice', partner_id: partner }]])).toEqual([
      Number(id) + 1,
    ]);
    expect(models.getInvoice(Number(id))).toMatchObject({
      name: '/',
      state: 'draft',
      amount_total: 120,
      amount_residual: 120,
    });
    expect(call('account.move', 'action_post', [[Number(id)]])).toBe(false);
    const [posted] = call('account.move', 'read', [[Number(id)]], {
      fields: ['name', 'state', 'payment_reference', 'invoice_date_due', 'display_name', 'partner_id'],
    }) as JsonObject[];
    expect(posted).toEqual({
      id,
      name: 'INV/2026/00001',
      state: 'posted',
      payment_reference: 'INV/2026/00001',
      invoice_date_due: '2026-02-27',
      display_name: 'INV/2026/00001 (PO-7)',
      partner_id: [partner, 'Deco Addict'],
    });
    const locked = failure(() => call('account.move', 'write', [[Number(id)], { partner_id: 3, ref: 'x' }]));
    expect(locked.message).toBe(
      'You cannot modify the following readonly fields on a posted move: partner_id',
    );
    expect(call('account.move', 'write', [[Number(id)], { ref: 'PO-8' }])).toBe(true);
    expect(failure(() => call('account.move', 'action_post', [[Number(id)]])).message).toBe(
      `The entry INV/2026/00001 (id ${id}) must be in draft.`,
    );
  });

  it('cancels (through draft), resets to draft and keeps the number when posted again', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '80.00' });
    register(call, invoice, { amount: 30, communication: 'part' });
    expect(call('account.move', 'button_cancel', [[invoice]])).toBeNull();
    expect(models.getInvoice(invoice)).toMatchObject({
      state: 'cancel',
      payment_state: 'not_paid',
      amount_residual: 80,
    });
    expect(models.paymentsByMemo('part')[0]?.state).toBe('in_process');
    models.resetToDraft(invoice);
    models.setAmount(invoice, '90.00');
    models.postInvoice(invoice);
    expect(models.getInvoice(invoice)).toMatchObject({
      name: 'INV/2026/00001',
      state: 'posted',
      amount_total: 90,
    });
    expect(() => models.setAmount(invoice, '1.00')).toThrow(/reset it to draft/);
  });

  it('reverses an invoice with a posted credit note: reversed, nothing due', () => {
    const { models, partner, call } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '75.00' });
    const creditNote = models.reverseInvoice(invoice);
    expect(models.getInvoice(invoice)).toMatchObject({ payment_state: 'reversed', amount_residual: 0 });
    expect(models.getInvoice(creditNote)).toMatchObject({
      move_type: 'out_refund',
      name: 'RINV/2026/00001',
      reversed_entry_id: invoice,
      payment_state: 'paid',
    });
    const [widget] = call('account.move', 'read', [[invoice]], {
      fields: ['invoice_payments_widget', 'reversal_move_ids'],
    }) as JsonObject[];
    expect(widget?.reversal_move_ids).toEqual([creditNote]);
    expect(JSON.stringify(widget?.invoice_payments_widget)).toContain('RINV/2026/00001');
  });

  it('reverse wizard (refund_moves) makes a draft credit note', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '75.00' });
    const wizard = call('account.move.reversal', 'create', [{ reason: 'damaged' }], ctx([invoice]));
    const action = call('account.move.reversal', 'refund_moves', [[Number(wizard)]]) as JsonObject;
    expect(models.getInvoice(Number(action.res_id))).toMatchObject({
      move_type: 'out_refund',
      state: 'draft',
      amount_total: 75,
    });
    expect(models.getInvoice(invoice).payment_state).toBe('not_paid');
  });

  it('orders, pages, counts, groups and name-searches like the ORM', () => {
    const { models, call, partner, advance } = setup();
    const ids = ['10.00', '20.00', '30.00'].map((amount) => {
      advance(1);
      return models.createInvoice({ partnerId: partner, amount });
    });
    expect(
      call('account.move', 'search', [[['move_type', '=', 'out_invoice']]], { order: 'id desc' }),
    ).toEqual([...ids].reverse());
    expect(
      call('account.move', 'search', [[['move_type', '=', 'out_invoice']]], {
        order: 'write_date asc, id asc',
        offset: 1,
        limit: 1,
      }),
    ).toEqual([ids[1]]);
    expect(call('account.move', 'search_count', [[['amount_total', '>', 15]]])).toBe(2);
    expect(
      failure(() => call('account.move', 'search', [[]], { order: 'amount_total sideways' })).message,
    ).toBe("Invalid order: 'amount_total sideways'");
    expect(failure(() => call('account.move', 'search', [[]], { order: 'x_nope' })).message).toBe(
      "Invalid field 'x_nope' on model 'account.move'",
    );
    const groups = call('account.move', 'read_group', [
      [['move_type', '=', 'out_invoice']],
      ['amount_total:sum'],
      ['state'],
    ]) as JsonObject[];
    expect(groups).toEqual([
      {
        state: 'posted',
        amount_total: 60,
        state_count: 3,
        __domain: ['&', ['move_type', '=', 'out_invoice'], ['state', '=', 'posted']],
      },
    ]);
    expect(call('res.partner', 'name_search', ['deco'])).toEqual([[partner, 'Deco Addict']]);
  });

  it('answers Odoo’s errors for unknown, private and mis-called methods', () => {
    const { call } = setup();
    expect(failure(() => call('x.nope', 'search', [[]]))).toMatchObject({
      className: 'odoo.exceptions.UserError',
      message: "Object x.nope doesn't exist",
    });
    expect(failure(() => call('account.move', 'no_such_method', [[1]]))).toMatchObject({
      className: 'builtins.AttributeError',
      message: "The method 'account.move.no_such_method' does not exist",
    });
    expect(failure(() => call('account.move', '_compute_amount', [[1]]))).toMatchObject({
      className: 'odoo.exceptions.AccessError',
      message: "Private methods (such as 'account.move._compute_amount') cannot be called remotely.",
    });
    expect(failure(() => call('account.move', 'write', [[999999], { ref: 'x' }]))).toMatchObject({
      className: 'odoo.exceptions.MissingError',
      message: 'Record does not exist or has been deleted.\n(Record: account.move(999999,), User: 2)',
    });
    expect(failure(() => call('account.move', 'search_read', [[]], { bogus: 1 })).message).toBe(
      "search_read() got an unexpected keyword argument 'bogus'",
    );
    expect(failure(() => call('res.partner', 'write', [[3], { x_nope: 1 }])).message).toBe(
      "Invalid field 'x_nope' on model 'res.partner'",
    );
  });
});

describe('message_post', () => {
  it('escapes text bodies, keeps HTML with body_is_html, returns int on 18.0 and [id] on 19.0', () => {
    const { models, call, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '10.00' });
    const id = call('account.move', 'message_post', [[invoice]], {
      body: 'Paid <b>online</b> & done',
      message_type: 'comment',
      subtype_xmlid: 'mail.mt_note',
    });
    expect(typeof id).toBe('number');
    call('account.move', 'message_post', [[invoice]], {
      body: '<p>Link: <a href="https://pay.example">pay</a></p>',
      body_is_html: true,
    });
    // Posting the invoice logged a "Validated" tracking notification first; these are the notes.
    const messages = models.messages(invoice).filter((m) => m.subtype === 'mail.mt_note');
    expect(messages.map((m) => m.body)).toEqual([
      '<p>Paid &lt;b&gt;online&lt;/b&gt; &amp; done</p>',
      '<p>Link: <a href="https://pay.example">pay</a></p>',
    ]);
    expect(messages[0]).toMatchObject({
      message_type: 'comment',
      subtype: 'mail.mt_note',
      author_id: 3,
      res_id: invoice,
    });
    const second = models.createInvoice({ partnerId: partner, amount: '20.00' });
    expect(
      failure(() => call('account.move', 'message_post', [[invoice, second]], { body: 'x' })).message,
    ).toContain('Expected singleton');
    expect(failure(() => call('account.move', 'message_post', [[invoice], 'positional'])).className).toBe(
      'builtins.TypeError',
    );

    const v19 = setup({ version: '19.0' });
    const other = v19.models.createInvoice({ partnerId: v19.partner, amount: '10.00' });
    const posted = v19.call('account.move', 'message_post', [[other]], { body: 'hi' });
    expect(Array.isArray(posted) && posted.length === 1).toBe(true);
  });
});

describe('seedDemo', () => {
  it('renames company 1 to Sandbox SARL in DZD with partners and posted invoices', () => {
    const { models, reg } = setup();
    const demo = models.seedDemo({ invoices: 12 });
    expect(demo.invoiceIds).toHaveLength(12);
    expect(reg.displayName('res.company', demo.companyId)).toBe('Sandbox SARL');
    const invoices = demo.invoiceIds.map((id) => models.getInvoice(id));
    expect(new Set(invoices.map((invoice) => invoice.currency))).toEqual(new Set(['DZD']));
    expect(
      invoices.every((invoice) => invoice.state === 'posted' && invoice.payment_state === 'not_paid'),
    ).toBe(true);
    expect(new Set(invoices.map((invoice) => invoice.amount_total)).size).toBeGreaterThan(5);
    const langs = demo.partnerIds.map((id) => reg.model('res.partner').rows.get(id)?.lang);
    expect(langs).toEqual(expect.arrayContaining(['en_US', 'fr_FR', 'ar_001']));
    expect(demo.partnerIds.some((id) => reg.model('res.partner').rows.get(id)?.email === false)).toBe(true);
  });
});

describe('payments as the Billing bot captures show them (56–58)', () => {
  function paid(version: OdooVersion) {
    const context = setup({ version });
    const { models, call } = context;
    const company = models.createPartner({ name: 'Azure Interior', isCompany: true });
    const contact = context.reg.create(context.reg.superEnv(), 'res.partner', {
      name: 'Brandon Freeman',
      parent_id: company,
    }).id;
    const first = models.createInvoice({ partnerId: contact, amount: '100.00' });
    const second = models.createInvoice({ partnerId: contact, amount: '200.00' });
    for (const invoice of [first, second]) {
      register(call, invoice, { communication: `PAY-${invoice}` });
    }
    return { ...context, company, contact, first, second };
  }

  it('refuses to pay from a journal without payment method lines, at action time (56, 56b)', () => {
    const { call, models, partner, reg } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '10.00' });
    const sale = [...reg.model('account.journal').rows.values()].find((journal) => journal.type === 'sale');
    const wizard = call(
      'account.payment.register',
      'create',
      [{ journal_id: sale?.id ?? 0 }],
      ctx([invoice]),
    );
    expect(typeof wizard).toBe('number');
    const refused = failure(() =>
      call('account.payment.register', 'action_create_payments', [[Number(wizard)]]),
    );
    expect(refused.className).toBe('odoo.exceptions.ValidationError');
    expect(refused.message).toBe('Please define a payment method line on your payment.');
    expect(models.payments()).toHaveLength(0);
  });

  it("pays to the invoice's commercial partner, with reconciled and invoice ids (57c)", () => {
    const { call, company, first } = paid('18.0');
    const [payment] = call('account.payment', 'search_read', [[['memo', '=', `PAY-${first}`]]], {
      fields: ['partner_id', 'reconciled_invoice_ids', 'invoice_ids'],
    }) as JsonObject[];
    expect(payment).toMatchObject({
      partner_id: [company, 'Azure Interior'],
      reconciled_invoice_ids: [first],
      invoice_ids: [first],
    });
  });

  it('18.0 drops a search on the non-stored reconciled_invoice_ids, 19.0 filters; invoice_ids filters on both (58, 58b)', () => {
    const v18 = paid('18.0');
    expect(
      v18.call('account.payment', 'search_count', [[['reconciled_invoice_ids', 'in', [v18.first]]]]),
    ).toBe(2);
    expect(v18.call('account.payment', 'search_count', [[['invoice_ids', 'in', [v18.first]]]])).toBe(1);
    const v19 = paid('19.0');
    expect(
      v19.call('account.payment', 'search_count', [[['reconciled_invoice_ids', 'in', [v19.first]]]]),
    ).toBe(1);
    expect(v19.call('account.payment', 'search_count', [[['invoice_ids', 'in', [v19.second]]]])).toBe(1);
  });
});
