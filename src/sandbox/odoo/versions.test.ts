import { describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';
import { ODOO_VERSIONS, type OdooVersion, VERSION_TRAITS } from './versions.js';

function setup(version: OdooVersion) {
  const reg = createRegistry({ version, settledState: 'paid', now: () => new Date('2026-03-02T09:00:00Z') });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const admin = (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
    callModel(reg, 2, model, method, args, kwargs, false);
  const partner = models.createPartner({ name: 'Deco Addict', email: 'deco@example.com' });
  const invoice = models.createInvoice({ partnerId: partner, amount: '120.00' });
  const bank = [...reg.model('account.journal').rows.values()].find((journal) => journal.type === 'bank');
  /** Registers a full payment through the wizard, as the daemon does; returns the payment id. */
  const pay = (communication: string): number => {
    const context = { active_model: 'account.move', active_ids: [invoice] };
    const wizard = admin(
      'account.payment.register',
      'create',
      [{ journal_id: bank?.id ?? 0, communication }],
      {
        context,
      },
    );
    const action = admin('account.payment.register', 'action_create_payments', [[Number(wizard)]], {
      context,
    });
    if (typeof action !== 'object' || action === null || Array.isArray(action)) throw new Error('no action');
    return Number(action.res_id);
  };
  return { reg, models, admin, invoice, partner, pay };
}

const PAYMENT_READ = ['name', 'state', 'amount', 'reconciled_invoice_ids'];

describe('the version traits table', () => {
  it('has a row for every emulated version, and the RPC layer answers with its server version', () => {
    for (const version of ODOO_VERSIONS) {
      const { reg } = setup(version);
      expect(reg.traits).toBe(VERSION_TRAITS[version]);
      expect(callModel(reg, 2, 'res.partner', 'search_count', [[]], {}, false)).toBeGreaterThan(0);
    }
    expect(VERSION_TRAITS['16.0'].serverVersion).toBe('16.0');
    expect(VERSION_TRAITS['17.0'].serverVersion).toBe('17.0');
  });

  it('keeps the payment reference in ref up to 17.0 and in memo since 18.0', () => {
    expect(ODOO_VERSIONS.map((version) => VERSION_TRAITS[version].paymentReferenceField)).toEqual([
      'ref',
      'ref',
      'memo',
      'memo',
    ]);
  });
});

describe.each(['16.0', '17.0'] as const)('Odoo %s payments', (version) => {
  it('a registered payment is posted and holds the communication in ref; memo and invoice_ids do not exist', () => {
    const { admin, pay, invoice } = setup(version);
    const payment = pay('MYTPE-PAY-0001');
    expect(admin('account.payment', 'read', [[payment]], { fields: [...PAYMENT_READ, 'ref'] })).toEqual([
      {
        id: payment,
        name: expect.stringMatching(/^PBNK1\//),
        state: 'posted',
        amount: 120,
        reconciled_invoice_ids: [invoice],
        ref: 'MYTPE-PAY-0001',
      },
    ]);
    const memo = odooFailure(() => admin('account.payment', 'read', [[payment]], { fields: ['memo'] }));
    expect(memo.className).toBe('builtins.ValueError');
    expect(memo.message).toBe("Invalid field 'memo' on model 'account.payment'");
    const byInvoice = odooFailure(() =>
      admin('account.payment', 'search_read', [[['invoice_ids', 'in', [invoice]]]], { fields: ['memo'] }),
    );
    // 17.0 searches before it reads: the domain's unknown field is the one named (58b).
    expect(byInvoice.message).toBe(
      `Invalid field account.payment.invoice_ids in leaf ('invoice_ids', 'in', [${invoice}])`,
    );
  });

  it('drops a reconciled_invoice_ids leaf, so the search returns every payment (58x)', () => {
    const { admin, models, partner, pay } = setup(version);
    const other = models.createInvoice({ partnerId: partner, amount: '50.00' });
    models.payByOtherMeans(other, { memo: 'other' });
    const mine = pay('mine');
    const found = admin('account.payment', 'search_read', [[['reconciled_invoice_ids', 'in', [-1]]]], {
      fields: ['ref'],
    });
    expect(Array.isArray(found) && found.map((row) => (row as JsonObject).ref).sort()).toEqual([
      'mine',
      'other',
    ]);
    expect(mine).toBeGreaterThan(0);
  });

  it('lists payment states draft/posted/cancel, and the move fields account.payment inherits', () => {
    const { admin } = setup(version);
    const fields = admin('account.payment', 'fields_get', [], {
      attributes: ['string', 'type', 'selection'],
    });
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new Error('no fields');
    expect(fields.state).toEqual({
      string: 'Status',
      type: 'selection',
      selection: [
        ['draft', 'Draft'],
        ['posted', 'Posted'],
        ['cancel', 'Cancelled'],
      ],
    });
    expect(fields.ref).toEqual({ string: 'Reference', type: 'char' });
    expect(fields.payment_state).toMatchObject({ type: 'selection' });
    expect(fields.memo).toBeUndefined();
    expect(fields.invoice_ids).toBeUndefined();
    expect('__last_update' in fields).toBe(version === '16.0');
  });

  it('has no matched_payment_ids nor blocked payment_state on account.move; the method line is "Manual"', () => {
    const { admin, invoice, pay } = setup(version);
    pay('x');
    const matched = odooFailure(() =>
      admin('account.move', 'read', [[invoice]], { fields: ['matched_payment_ids'] }),
    );
    expect(matched.message).toBe("Invalid field 'matched_payment_ids' on model 'account.move'");
    const states = admin('account.move', 'fields_get', [['payment_state']], { attributes: ['selection'] });
    expect(JSON.stringify(states)).not.toContain('blocked');
    const [line] = admin('account.payment.method.line', 'search_read', [[]], {
      fields: ['display_name'],
      limit: 1,
    }) as JsonObject[];
    expect(line?.display_name).toBe('Manual');
  });

  it("shows the payment in the invoice's widget as 17.0 labels it (12x)", () => {
    const { admin, invoice, pay } = setup(version);
    pay('MYTPE-PAY-0001');
    const [read] = admin('account.move', 'read', [[invoice]], { fields: ['invoice_payments_widget'] }) as {
      invoice_payments_widget: { content: JsonObject[] };
    }[];
    expect(read?.invoice_payments_widget.content).toEqual([
      expect.objectContaining({
        name: 'Customer Payment $\u00a0120.00 - Deco Addict - 03/02/2026',
        payment_method_name: 'Manual',
      }),
    ]);
  });

  it('refuses a partner change only on a reconciled invoice (33, 33x)', () => {
    const { admin, models, invoice, partner, pay } = setup(version);
    const unpaid = models.createInvoice({ partnerId: partner, amount: '10.00' });
    const other = models.createPartner({ name: 'Gemini Furniture' });
    expect(admin('account.move', 'write', [[unpaid], { partner_id: other }])).toBe(true);
    pay('x');
    const refused = odooFailure(() => admin('account.move', 'write', [[invoice], { partner_id: other }]));
    expect(refused.className).toBe('odoo.exceptions.UserError');
    expect(refused.message).toMatch(
      /^You cannot do this modification on a reconciled journal entry\. .*\nJournal Entry \(id\): INV\/\d{4}\/\d{5} \(\d+\)$/s,
    );
  });
});

describe('messages, views and errors up to 17.0', () => {
  it('message_post returns an int; 17.0 escapes a str body unless body_is_html, 16.0 keeps it as HTML', () => {
    for (const version of ['16.0', '17.0'] as const) {
      const { admin, invoice } = setup(version);
      const post = (kwargs: JsonObject) =>
        admin('account.move', 'message_post', [[invoice]], {
          message_type: 'comment',
          subtype_xmlid: 'mail.mt_note',
          ...kwargs,
        });
      const plain = post({ body: '<p>Paid <b>tx</b></p>' });
      const flagged = post({ body: '<p>Paid <b>tx</b></p>', body_is_html: true });
      const text = post({ body: 'Paid' });
      expect(typeof plain).toBe('number');
      const bodies = admin('mail.message', 'read', [[Number(plain), Number(flagged), Number(text)]], {
        fields: ['body'],
      }) as JsonObject[];
      expect(bodies.map((row) => row.body)).toEqual(
        version === '16.0'
          ? ['<p>Paid <b>tx</b></p>', '<p>Paid <b>tx</b></p>', '<p>Paid</p>']
          : ['<p>&lt;p&gt;Paid &lt;b&gt;tx&lt;/b&gt;&lt;/p&gt;</p>', '<p>Paid <b>tx</b></p>', '<p>Paid</p>'],
      );
    }
  });

  it('get_views gives the fields dict itself on 17.0, without groupable; 18.0 wraps it', () => {
    const views17 = setup('17.0').admin('account.move', 'get_views', [[[false, 'form']]], { options: {} });
    const views18 = setup('18.0').admin('account.move', 'get_views', [[[false, 'form']]], { options: {} });
    const move17 = (views17 as { models: { [model: string]: JsonObject } }).models['account.move'];
    const move18 = (views18 as { models: { [model: string]: JsonObject } }).models['account.move'];
    expect(move17?.payment_reference).toMatchObject({ name: 'payment_reference', type: 'char' });
    expect(move17?.payment_reference).not.toHaveProperty('groupable');
    expect(move17).not.toHaveProperty('has_activities');
    expect(move18).toMatchObject({
      has_activities: true,
      fields: { payment_reference: { groupable: true } },
    });
  });

  it('words unknown and private methods as 17.0 does', () => {
    const { admin, invoice } = setup('17.0');
    expect(odooFailure(() => admin('account.move', 'no_such_method', [[invoice]])).message).toBe(
      "The method 'no_such_method' does not exist on the model 'account.move'",
    );
    expect(odooFailure(() => admin('account.move', '_compute_amount', [[invoice]])).message).toBe(
      'Private methods (such as _compute_amount) cannot be called remotely.',
    );
  });
});

describe('unknown-field wording', () => {
  it('says "in leaf" and "on model" up to 18.0, "in condition" and "on" on 19.0 (63d, 63e)', () => {
    for (const version of ODOO_VERSIONS) {
      const { admin } = setup(version);
      const inDomain = odooFailure(() =>
        admin('account.move', 'search_read', [[['x_nope', '=', 'a']]], { fields: ['name'] }),
      );
      const inFields = odooFailure(() => admin('account.move', 'search_read', [[]], { fields: ['x_nope'] }));
      const modern = version === '19.0';
      expect(inDomain.message, version).toBe(
        `Invalid field account.move.x_nope in ${modern ? 'condition' : 'leaf'} ('x_nope', '=', 'a')`,
      );
      expect(inFields.message, version).toBe(
        `Invalid field 'x_nope' ${modern ? 'on' : 'on model'} 'account.move'`,
      );
    }
  });
});
