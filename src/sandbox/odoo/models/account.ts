/**
 * Accounting models: accounts, journals, payment method lines, journal entries (account.move,
 * invoices and credit notes), their lines, partial reconciliations and the reversal wizard.
 */
import { randomUUID } from 'node:crypto';
import { type Json, keyError, userError, validationError } from '../errors.js';
import { idList, type Row, type Vals } from '../fields.js';
import type { Env, MethodSpec, Registry } from '../registry.js';
import { companyRule } from './base.js';
import {
  applyLineCommands,
  cancelMove,
  ensureReceivableLine,
  INVOICE_TYPES,
  linesOf,
  moveDisplayName,
  partialsOf,
  paymentsWidget,
  postMove,
  resetMoveToDraft,
  setDraftAmount,
} from './invoice.js';
import { messagePost } from './mail.js';

export const MOVE_TYPES = [
  ['entry', 'Journal Entry'],
  ['out_invoice', 'Customer Invoice'],
  ['out_refund', 'Customer Credit Note'],
  ['in_invoice', 'Vendor Bill'],
  ['in_refund', 'Vendor Credit Note'],
  ['out_receipt', 'Sales Receipt'],
  ['in_receipt', 'Purchase Receipt'],
] as const;

export const PAYMENT_STATES = [
  ['not_paid', 'Not Paid'],
  ['in_payment', 'In Payment'],
  ['paid', 'Paid'],
  ['partial', 'Partially Paid'],
  ['reversed', 'Reversed'],
  ['blocked', 'Blocked'],
  ['invoicing_legacy', 'Invoicing App Legacy'],
] as const;

/** account.move.payment_state's selection: `blocked` only since 18.0 (17.0/15). */
function paymentStatesOf(reg: Registry): readonly (readonly [string, string])[] {
  return reg.traits.hasBlockedPaymentState
    ? PAYMENT_STATES
    : PAYMENT_STATES.filter(([key]) => key !== 'blocked');
}

/**
 * Header fields up to 17.0 refuse only on a reconciled entry (33 vs 33x); the others of
 * LOCKED_WHEN_POSTED stay locked on every posted move.
 */
const LOCKED_WHEN_RECONCILED = new Set([
  'invoice_date',
  'date',
  'partner_id',
  'invoice_payment_term_id',
  'currency_id',
  'fiscal_position_id',
  'invoice_cash_rounding_id',
]);

/** Fields Odoo refuses to change on a posted move (account_move.py write()). */
const LOCKED_WHEN_POSTED = new Set([
  'invoice_line_ids',
  'line_ids',
  'invoice_date',
  'date',
  'partner_id',
  'invoice_payment_term_id',
  'currency_id',
  'fiscal_position_id',
  'invoice_cash_rounding_id',
  // Totals come from the lines in Odoo; the sandbox lets a draft set them directly, never a posted move.
  'amount_total',
  'amount_untaxed',
  'amount_residual',
]);

const JOURNAL_TYPES = [
  ['sale', 'Sales'],
  ['purchase', 'Purchase'],
  ['cash', 'Cash'],
  ['bank', 'Bank'],
  ['credit', 'Credit Card'],
  ['general', 'Miscellaneous'],
] as const;

export function findJournal(reg: Registry, companyId: number, types: readonly string[]): Row | undefined {
  const journals = [...reg.model('account.journal').rows.values()].filter(
    (journal) =>
      journal.company_id === companyId && journal.active !== false && types.includes(String(journal.type)),
  );
  journals.sort(reg.comparator(reg.model('account.journal'), 'sequence, type, code'));
  return journals[0];
}

function companyName(reg: Registry, companyId: number): string {
  return reg.displayName('res.company', companyId);
}

export function defineAccountModels(reg: Registry): void {
  reg.define({
    name: 'account.account',
    description: 'Account',
    order: 'code, id',
    fields: {
      code: { type: 'char', string: 'Code' },
      name: { type: 'char', string: 'Account Name', required: true },
      account_type: {
        type: 'selection',
        string: 'Type',
        selection: [
          ['asset_receivable', 'Receivable'],
          ['asset_cash', 'Bank and Cash'],
          ['asset_current', 'Current Assets'],
          ['liability_payable', 'Payable'],
          ['income', 'Income'],
          ['expense', 'Expenses'],
        ],
      },
      reconcile: { type: 'boolean', string: 'Allow Reconciliation' },
      active: { type: 'boolean', string: 'Active' },
    },
    displayName: (row) =>
      typeof row.code === 'string' && row.code ? `${row.code} ${String(row.name)}` : String(row.name),
  });

  reg.define({
    name: 'account.journal',
    description: 'Journal',
    order: 'sequence, type, code',
    fields: {
      name: { type: 'char', string: 'Journal Name', required: true },
      code: { type: 'char', string: 'Short Code', required: true },
      type: { type: 'selection', string: 'Type', selection: JOURNAL_TYPES, required: true },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', required: true },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      default_account_id: { type: 'many2one', string: 'Default Account', relation: 'account.account' },
      sequence: { type: 'integer', string: 'Sequence' },
      active: { type: 'boolean', string: 'Active' },
      inbound_payment_method_line_ids: {
        type: 'one2many',
        string: 'Inbound Payment Methods',
        relation: 'account.payment.method.line',
        compute: (row, { reg: registry }) => methodLines(registry, row.id, 'inbound').map((line) => line.id),
      },
      outbound_payment_method_line_ids: {
        type: 'one2many',
        string: 'Outbound Payment Methods',
        relation: 'account.payment.method.line',
        compute: (row, { reg: registry }) => methodLines(registry, row.id, 'outbound').map((line) => line.id),
      },
    },
    displayName: (row, registry) => {
      const currency =
        typeof row.currency_id === 'number' ? registry.displayName('res.currency', row.currency_id) : '';
      return currency ? `${String(row.name)} (${currency})` : String(row.name);
    },
    rule: companyRule(),
    defaults: (vals, env, registry) => {
      const companyId = typeof vals.company_id === 'number' ? vals.company_id : env.companyId;
      const duplicate = [...registry.model('account.journal').rows.values()].some(
        (journal) => journal.company_id === companyId && journal.code === vals.code,
      );
      if (duplicate) throw validationError('Journal codes must be unique per company.');
      return { active: true, sequence: 10, company_id: companyId, ...vals };
    },
    afterCreate: (row, _vals, env, registry) => {
      if (row.type !== 'bank' && row.type !== 'cash') return;
      for (const paymentType of ['inbound', 'outbound']) {
        registry.insert(
          'account.payment.method.line',
          {
            name: registry.traits.manualMethodLineName,
            journal_id: row.id,
            payment_type: paymentType,
            code: 'manual',
          },
          env,
        );
      }
    },
  });

  reg.define({
    name: 'account.payment.method.line',
    description: 'Payment Methods',
    order: 'sequence, id',
    fields: {
      name: { type: 'char', string: 'Name' },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      payment_type: {
        type: 'selection',
        string: 'Payment Type',
        selection: [
          ['inbound', 'Inbound'],
          ['outbound', 'Outbound'],
        ],
      },
      code: { type: 'char', string: 'Code' },
      sequence: { type: 'integer', string: 'Sequence' },
    },
    displayName: (row, registry) => {
      if (!registry.traits.methodLineNameShowsJournal) return String(row.name);
      const journal =
        typeof row.journal_id === 'number' ? registry.displayName('account.journal', row.journal_id) : '';
      return `${String(row.name)} (${journal})`;
    },
    rule: (row, env, registry) => {
      const journal =
        typeof row.journal_id === 'number'
          ? registry.model('account.journal').rows.get(row.journal_id)
          : undefined;
      return !journal || companyRule()(journal, env);
    },
  });

  defineMove(reg);
  defineMoveLine(reg);

  reg.define({
    name: 'account.partial.reconcile',
    description: 'Partial Reconcile',
    fields: {
      debit_move_id: { type: 'many2one', string: 'Debit line', relation: 'account.move.line', indexed: true },
      credit_move_id: {
        type: 'many2one',
        string: 'Credit line',
        relation: 'account.move.line',
        indexed: true,
      },
      amount: { type: 'monetary', string: 'Amount', currencyField: 'company_currency_id' },
      debit_amount_currency: {
        type: 'monetary',
        string: 'Debit amount',
        currencyField: 'company_currency_id',
      },
      credit_amount_currency: {
        type: 'monetary',
        string: 'Credit amount',
        currencyField: 'company_currency_id',
      },
      company_currency_id: { type: 'many2one', string: 'Company Currency', relation: 'res.currency' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      max_date: { type: 'date', string: 'Max Date of Matched Lines' },
    },
    rule: companyRule(),
  });

  defineReversalWizard(reg);
}

function methodLines(reg: Registry, journalId: number, paymentType: string): Row[] {
  return [...reg.model('account.payment.method.line').rows.values()].filter(
    (line) => line.journal_id === journalId && line.payment_type === paymentType,
  );
}

export function inboundMethodLine(reg: Registry, journalId: number): Row | undefined {
  return methodLines(reg, journalId, 'inbound')[0];
}

function moveRecords(
  call: { reg: Registry; env: Env; ids: number[] },
  operation: 'read' | 'write' = 'write',
): Row[] {
  return call.reg.browse(call.env, 'account.move', call.ids, operation);
}

const MOVE_METHODS: { [name: string]: MethodSpec } = {
  message_post: messagePost,
  action_post: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const move of moveRecords(call)) postMove(call.reg, call.env, move);
      return false;
    },
  },
  button_draft: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const move of moveRecords(call)) resetMoveToDraft(call.reg, call.env, move);
      return null;
    },
  },
  button_cancel: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const move of moveRecords(call)) cancelMove(call.reg, call.env, move);
      return null;
    },
  },
  action_register_payment: {
    access: 'read',
    params: [],
    run: (call) => {
      moveRecords(call, 'read');
      return {
        name: 'Pay',
        type: 'ir.actions.act_window',
        res_model: 'account.payment.register',
        view_mode: 'form',
        views: [[false, 'form']],
        context: { active_model: 'account.move', active_ids: call.ids },
        target: 'new',
      };
    },
  },
  action_reverse: {
    access: 'read',
    params: [],
    run: (call) => {
      moveRecords(call, 'read');
      return {
        name: 'Reverse',
        type: 'ir.actions.act_window',
        res_model: 'account.move.reversal',
        view_mode: 'form',
        views: [[false, 'form']],
        context: { active_model: 'account.move', active_ids: call.ids },
        target: 'new',
      };
    },
  },
  get_portal_url: {
    access: 'read',
    params: ['suffix', 'report_type', 'download', 'query_string', 'anchor'],
    run: (call) => {
      const [move] = moveRecords(call, 'read');
      if (!move || call.ids.length !== 1) throw userError('get_portal_url expects exactly one record.');
      // Creating the token on demand is a write in Odoo too.
      if (typeof move.access_token !== 'string')
        call.reg.update('account.move', move, { access_token: randomUUID() }, call.env);
      const params = new URLSearchParams({ access_token: String(move.access_token) });
      if (typeof call.args.report_type === 'string') params.set('report_type', call.args.report_type);
      if (call.args.download === true) params.set('download', 'true');
      const suffix = typeof call.args.suffix === 'string' ? call.args.suffix : '';
      const query =
        typeof call.args.query_string === 'string' ? call.args.query_string.replace(/^[?&]/, '&') : '';
      const anchor = typeof call.args.anchor === 'string' ? `#${call.args.anchor}` : '';
      return `/my/invoices/${move.id}${suffix}?${params.toString()}${query}${anchor}`;
    },
  },
};

function defineMove(reg: Registry): void {
  reg.define({
    name: 'account.move',
    description: 'Journal Entry',
    order: 'date desc, name desc, invoice_date desc, id desc',
    // Tracked as the captures show posting an invoice (60d): state, name, payment reference, checked.
    mailThread: true,
    fields: {
      name: { type: 'char', string: 'Number', tracking: true },
      ref: { type: 'char', string: 'Reference' },
      invoice_user_id: { type: 'many2one', string: 'Salesperson', relation: 'res.users' },
      move_type: { type: 'selection', string: 'Type', selection: MOVE_TYPES, required: true },
      state: {
        type: 'selection',
        string: 'Status',
        selection: [
          ['draft', 'Draft'],
          ['posted', 'Posted'],
          ['cancel', 'Cancelled'],
        ],
        required: true,
        tracking: true,
      },
      payment_state: { type: 'selection', string: 'Payment Status', selection: paymentStatesOf(reg) },
      status_in_payment: {
        type: 'selection',
        string: 'Status In Payment',
        selection: [...paymentStatesOf(reg), ['draft', 'Draft'], ['cancel', 'Cancelled']],
        compute: (row) => (row.state === 'posted' ? (row.payment_state ?? false) : (row.state ?? false)),
      },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      commercial_partner_id: {
        type: 'many2one',
        string: 'Commercial Entity',
        relation: 'res.partner',
        compute: (row, { reg: registry }) => commercialPartner(registry, row),
      },
      invoice_partner_display_name: {
        type: 'char',
        string: 'Invoice Partner Display Name',
        compute: (row, { reg: registry }) =>
          typeof row.partner_id === 'number' ? registry.displayName('res.partner', row.partner_id) : false,
      },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company', required: true },
      company_currency_id: {
        type: 'many2one',
        string: 'Company Currency',
        relation: 'res.currency',
        compute: (row, { reg: registry }) =>
          typeof row.company_id === 'number'
            ? (registry.model('res.company').rows.get(row.company_id)?.currency_id ?? false)
            : false,
      },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency', required: true },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal', required: true },
      date: { type: 'date', string: 'Date', required: true },
      invoice_date: { type: 'date', string: 'Invoice/Bill Date' },
      invoice_date_due: { type: 'date', string: 'Due Date' },
      amount_untaxed: { type: 'monetary', string: 'Untaxed Amount', currencyField: 'currency_id' },
      amount_tax: { type: 'monetary', string: 'Tax', currencyField: 'currency_id' },
      amount_total: { type: 'monetary', string: 'Total', currencyField: 'currency_id' },
      amount_residual: { type: 'monetary', string: 'Amount Due', currencyField: 'currency_id' },
      amount_untaxed_signed: signedAmount('Untaxed Amount Signed', 'amount_untaxed'),
      amount_total_signed: signedAmount('Total Signed', 'amount_total'),
      amount_residual_signed: signedAmount('Amount Due Signed', 'amount_residual'),
      amount_total_in_currency_signed: signedAmount('Total in Currency Signed', 'amount_total'),
      payment_reference: {
        type: 'char',
        string: 'Payment Reference',
        help: 'The payment reference to set on journal items.',
        tracking: true,
      },
      invoice_origin: { type: 'char', string: 'Origin' },
      narration: { type: 'html', string: 'Terms and Conditions' },
      reversed_entry_id: { type: 'many2one', string: 'Reversal of', relation: 'account.move' },
      reversal_move_ids: {
        type: 'one2many',
        string: 'Reversal Move',
        relation: 'account.move',
        compute: (row, { reg: registry }) =>
          [...registry.model('account.move').rows.values()]
            .filter((other) => other.reversed_entry_id === row.id)
            .map((other) => other.id),
      },
      origin_payment_id: { type: 'many2one', string: 'Payment', relation: 'account.payment' },
      ...(reg.traits.hasMatchedPaymentIds
        ? {
            matched_payment_ids: {
              type: 'many2many',
              string: 'Matched Payments',
              relation: 'account.payment',
            } as const,
          }
        : {}),
      invoice_payments_widget: {
        type: 'binary',
        string: 'Invoice Payments Widget',
        compute: (row, { reg: registry }) => paymentsWidget(registry, row),
      },
      invoice_line_ids: {
        type: 'one2many',
        string: 'Invoice lines',
        relation: 'account.move.line',
        compute: (row, { reg: registry }) => linesOf(registry, row.id, 'product').map((line) => line.id),
      },
      line_ids: {
        type: 'one2many',
        string: 'Journal Items',
        relation: 'account.move.line',
        compute: (row, { reg: registry }) => linesOf(registry, row.id).map((line) => line.id),
      },
      posted_before: { type: 'boolean', string: 'Posted Before' },
      auto_post: {
        type: 'selection',
        string: 'Auto-post',
        selection: [
          ['no', 'No'],
          ['at_date', 'At Date'],
          ['monthly', 'Monthly'],
          ['quarterly', 'Quarterly'],
          ['yearly', 'Yearly'],
        ],
      },
      is_move_sent: { type: 'boolean', string: 'Is Move Sent' },
      checked: { type: 'boolean', string: 'Checked', tracking: true },
      access_token: { type: 'char', string: 'Security Token' },
      access_url: {
        type: 'char',
        string: 'Portal Access URL',
        compute: (row) => (INVOICE_TYPES.has(String(row.move_type)) ? `/my/invoices/${row.id}` : '#'),
      },
    },
    displayName: (row) => moveDisplayName(row),
    rule: companyRule(),
    methods: MOVE_METHODS,
    unknownWriteField: (_model, field) => keyError(field),
    defaults: (vals, env, registry) => moveDefaults(registry, env, vals),
    afterCreate: (row, vals, env, registry) => {
      if (Array.isArray(vals.invoice_line_ids)) applyLineCommands(registry, env, row, vals.invoice_line_ids);
      else if (typeof vals.amount_total === 'number' && INVOICE_TYPES.has(String(row.move_type))) {
        setDraftAmount(registry, env, row, vals.amount_total);
      }
      ensureReceivableLine(registry, env, row);
    },
    beforeWrite: (rows, vals, _env, registry) => {
      for (const row of rows) {
        const state = typeof vals.state === 'string' ? vals.state : row.state;
        let locked = Object.keys(vals).filter((name) => LOCKED_WHEN_POSTED.has(name));
        if (state === 'posted' && registry.traits.postedMoveLock === 'reconciled-only') {
          const header = locked.filter((name) => LOCKED_WHEN_RECONCILED.has(name));
          if (header.length > 0 && partialsOf(registry, row).length > 0) {
            throw userError(
              'You cannot do this modification on a reconciled journal entry. You can just change some non legal fields or you must unreconcile first.\n' +
                `Journal Entry (id): ${moveDisplayName(row)} (${row.id})`,
            );
          }
          locked = locked.filter((name) => !LOCKED_WHEN_RECONCILED.has(name));
        }
        if (state === 'posted' && locked.length > 0) {
          throw userError(
            `You cannot modify the following readonly fields on a posted move: ${locked.join(', ')}`,
          );
        }
      }
    },
    afterWrite: (rows, vals, env, registry) => {
      for (const row of rows) {
        if (Array.isArray(vals.invoice_line_ids))
          applyLineCommands(registry, env, row, vals.invoice_line_ids);
        else if (typeof vals.amount_total === 'number') setDraftAmount(registry, env, row, vals.amount_total);
      }
    },
    beforeUnlink: (rows, _env, registry) => {
      if (rows.some((row) => row.state === 'posted'))
        throw userError('You cannot delete an item linked to a posted entry.');
      for (const row of rows) {
        for (const line of linesOf(registry, row.id)) registry.remove('account.move.line', line.id);
      }
    },
  });
}

function signedAmount(label: string, source: string) {
  return {
    type: 'monetary' as const,
    string: label,
    currencyField: 'currency_id',
    compute: (row: Row) => {
      const value = typeof row[source] === 'number' ? (row[source] as number) : 0;
      return row.move_type === 'out_refund' || row.move_type === 'in_invoice' ? -value : value;
    },
  };
}

function commercialPartner(reg: Registry, move: Row): number | false {
  if (typeof move.partner_id !== 'number') return false;
  const partner = reg.model('res.partner').rows.get(move.partner_id);
  return typeof partner?.parent_id === 'number' ? partner.parent_id : move.partner_id;
}

function moveDefaults(reg: Registry, env: Env, input: Vals): Vals {
  const contextType = env.context.default_move_type;
  const moveType =
    typeof input.move_type === 'string'
      ? input.move_type
      : typeof contextType === 'string'
        ? contextType
        : 'entry';
  const journals = reg.model('account.journal');
  let companyId = typeof input.company_id === 'number' ? input.company_id : undefined;
  let journal = typeof input.journal_id === 'number' ? journals.rows.get(input.journal_id) : undefined;
  if (journal && companyId === undefined && typeof journal.company_id === 'number')
    companyId = journal.company_id;
  companyId ??= env.companyId;
  if (!journal) {
    const types = moveType === 'entry' ? ['general'] : moveType.startsWith('out_') ? ['sale'] : ['purchase'];
    journal = findJournal(reg, companyId, types);
    if (!journal) {
      throw userError(
        `No journal could be found in company ${companyName(reg, companyId)} for any of those types: ${types.join(', ')}`,
      );
    }
  }
  const company = reg.model('res.company').rows.get(companyId);
  const currency = input.currency_id ?? (journal.currency_id || company?.currency_id || false);
  // A draft has no number yet (Odoo 17+: name False until posted).
  return {
    name: false,
    state: 'draft',
    payment_state: 'not_paid',
    auto_post: 'no',
    date: reg.today(),
    ...input,
    move_type: moveType,
    company_id: companyId,
    journal_id: journal.id,
    currency_id: currency,
  };
}

function defineMoveLine(reg: Registry): void {
  reg.define({
    name: 'account.move.line',
    description: 'Journal Item',
    order: 'date desc, move_name desc, id',
    fields: {
      move_id: {
        type: 'many2one',
        string: 'Journal Entry',
        relation: 'account.move',
        required: true,
        indexed: true,
      },
      move_name: {
        type: 'char',
        string: 'Number',
        compute: (row, { reg: registry }) =>
          typeof row.move_id === 'number'
            ? (registry.model('account.move').rows.get(row.move_id)?.name ?? false)
            : false,
      },
      name: { type: 'char', string: 'Label' },
      display_type: {
        type: 'selection',
        string: 'Display Type',
        selection: [
          ['product', 'Product'],
          ['payment_term', 'Payment Term'],
          ['tax', 'Tax'],
          ['line_section', 'Section'],
          ['line_note', 'Note'],
        ],
      },
      account_id: { type: 'many2one', string: 'Account', relation: 'account.account' },
      partner_id: { type: 'many2one', string: 'Partner', relation: 'res.partner' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      date: {
        type: 'date',
        string: 'Date',
        compute: (row, { reg: registry }) =>
          typeof row.move_id === 'number'
            ? (registry.model('account.move').rows.get(row.move_id)?.date ?? false)
            : false,
      },
      date_maturity: { type: 'date', string: 'Due Date' },
      quantity: { type: 'float', string: 'Quantity' },
      price_unit: { type: 'float', string: 'Unit Price' },
      discount: { type: 'float', string: 'Discount (%)' },
      price_subtotal: { type: 'monetary', string: 'Subtotal', currencyField: 'currency_id' },
      price_total: { type: 'monetary', string: 'Total', currencyField: 'currency_id' },
      debit: { type: 'monetary', string: 'Debit', currencyField: 'currency_id' },
      credit: { type: 'monetary', string: 'Credit', currencyField: 'currency_id' },
      balance: { type: 'monetary', string: 'Balance', currencyField: 'currency_id' },
      amount_currency: { type: 'monetary', string: 'Amount in Currency', currencyField: 'currency_id' },
      amount_residual: { type: 'monetary', string: 'Residual Amount', currencyField: 'currency_id' },
      reconciled: { type: 'boolean', string: 'Reconciled' },
      tax_ids: { type: 'many2many', string: 'Taxes' },
    },
    displayName: (row, registry) => {
      const move = typeof row.move_id === 'number' ? registry.displayName('account.move', row.move_id) : '';
      return typeof row.name === 'string' && row.name ? `${move} ${row.name}` : move;
    },
    rule: companyRule(),
  });
}

/** account.move.reversal: "Reverse" creates draft credit notes, as Odoo's refund_moves does. */
function defineReversalWizard(reg: Registry): void {
  reg.define({
    name: 'account.move.reversal',
    description: 'Account Move Reversal',
    fields: {
      move_ids: { type: 'many2many', string: 'Move', relation: 'account.move' },
      reason: { type: 'char', string: 'Reason displayed on Credit Note' },
      date: { type: 'date', string: 'Reversal date' },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      new_move_ids: { type: 'many2many', string: 'New Move', relation: 'account.move' },
    },
    defaults: (vals, env, registry) => {
      const ids =
        env.context.active_model === 'account.move' ? idList(env.context.active_ids) : idList(vals.move_ids);
      const moves = registry.browse(env, 'account.move', ids);
      if (moves.some((move) => move.state !== 'posted')) {
        throw userError('You can only reverse posted moves.');
      }
      return {
        date: registry.today(),
        company_id: moves[0]?.company_id ?? env.companyId,
        ...vals,
        move_ids: ids,
      };
    },
    methods: {
      refund_moves: {
        access: 'write',
        params: [],
        run: (call): Json => {
          const [wizard] = call.reg.browse(call.env, 'account.move.reversal', call.ids);
          if (!wizard) throw userError('Nothing to reverse.');
          const created: number[] = [];
          for (const move of call.reg.browse(call.env, 'account.move', idList(wizard.move_ids))) {
            const creditNote = createCreditNote(call.reg, call.env, move, {
              reason: typeof wizard.reason === 'string' ? wizard.reason : undefined,
              date: typeof wizard.date === 'string' ? wizard.date : undefined,
            });
            created.push(creditNote.id);
          }
          call.reg.update('account.move.reversal', wizard, { new_move_ids: created }, call.env);
          const [single] = created;
          return created.length === 1 && single !== undefined
            ? {
                name: 'Reverse Moves',
                type: 'ir.actions.act_window',
                res_model: 'account.move',
                view_mode: 'form',
                res_id: single,
                context: { default_move_type: 'out_refund' },
              }
            : {
                name: 'Reverse Moves',
                type: 'ir.actions.act_window',
                res_model: 'account.move',
                view_mode: 'list,form',
                domain: [['id', 'in', created]],
                context: { default_move_type: 'out_refund' },
              };
        },
      },
    },
  });
}

/** A draft credit note mirroring `move` (same partner, currency and total), linked by reversed_entry_id. */
export function createCreditNote(
  reg: Registry,
  env: Env,
  move: Row,
  options: { reason?: string; date?: string },
): Row {
  const reasonSuffix = options.reason ? `, ${options.reason}` : '';
  const creditNote = reg.create(env, 'account.move', {
    move_type: move.move_type === 'out_refund' ? 'out_invoice' : 'out_refund',
    partner_id: move.partner_id ?? false,
    company_id: move.company_id ?? false,
    journal_id: move.journal_id ?? false,
    currency_id: move.currency_id ?? false,
    invoice_date: options.date ?? reg.today(),
    ref: `Reversal of: ${String(move.name)}${reasonSuffix}`,
    reversed_entry_id: move.id,
  });
  const commands = linesOf(reg, move.id, 'product').map((line) => [
    0,
    0,
    {
      name: line.name ?? false,
      quantity: line.quantity ?? 1,
      price_unit: line.price_unit ?? 0,
      discount: line.discount ?? 0,
    },
  ]);
  applyLineCommands(reg, env, creditNote, commands);
  return creditNote;
}
