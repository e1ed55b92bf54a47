/**
 * account.payment and the account.payment.register wizard: create with context
 * active_model/active_ids (validated like Odoo's default_get), then action_create_payments makes
 * the payment (its reference field, `memo` since 18.0 and `ref` before, holds the communication)
 * and reconciles it with the invoices.
 */
import { type Json, userError, validationError } from '../errors.js';
import { type FieldDef, idList, type Row, type Vals } from '../fields.js';
import { singleRecord } from '../orm.js';
import type { Env, MethodSpec, Registry } from '../registry.js';
import { findJournal, inboundMethodLine } from './account.js';
import { companyRule } from './base.js';
import { paymentCatalogue, paymentRegisterCatalogue } from './catalog-legacy.js';
import {
  formatAmount,
  INVOICE_TYPES,
  receivableLine,
  reconcile,
  reconciledInvoiceIds,
  toFloat,
  toMinor,
} from './invoice.js';
import { messagePost } from './mail.js';

export interface PaymentRequest {
  journalId: number;
  /** Amount in minor units of the invoices' currency. */
  amountMinor: number;
  date: string;
  memo: string | false;
  invoices: Row[];
  /** 'reconcile' marks the invoice fully paid even when the amount is short (write-off). */
  handling: 'open' | 'reconcile';
  paymentMethodLineId?: number | false;
}

function nothingLeftToPay(reg: Registry) {
  return userError(reg.traits.nothingLeftToPay);
}

function isOpen(reg: Registry, invoice: Row): boolean {
  return toMinor(reg, invoice.currency_id, invoice.amount_residual) > 0;
}

/** Odoo's wizard default_get checks, in Odoo's order: posted entries, something to pay, one company. */
export function payableInvoices(reg: Registry, env: Env, moveIds: readonly number[]): Row[] {
  const moves = reg.browse(env, 'account.move', moveIds);
  if (moves.some((move) => move.state !== 'posted')) {
    throw userError('You can only register payment for posted journal entries.');
  }
  const open = moves.filter((move) => INVOICE_TYPES.has(String(move.move_type)) && isOpen(reg, move));
  if (open.length === 0) throw nothingLeftToPay(reg);
  if (new Set(open.map((move) => move.company_id)).size > 1) {
    throw userError("You can't create payments for entries belonging to different companies.");
  }
  return open;
}

function activeMoveIds(reg: Registry, env: Env): number[] {
  const activeModel = env.context.active_model;
  const activeIds = idList(env.context.active_ids);
  if (activeModel === 'account.move') return activeIds;
  if (activeModel === 'account.move.line') {
    const lines = reg.browse(env, 'account.move.line', activeIds);
    return [
      ...new Set(lines.map((line) => line.move_id).filter((id): id is number => typeof id === 'number')),
    ];
  }
  throw userError(
    'The register payment wizard should only be called on account.move or account.move.line records.',
  );
}

function defaultPaymentJournal(reg: Registry, companyId: number): Row {
  const journal = findJournal(reg, companyId, ['bank', 'cash', 'credit']);
  if (!journal) {
    throw userError(
      `No journal could be found in company ${reg.displayName('res.company', companyId)} for any of those types: bank, cash, credit`,
    );
  }
  return journal;
}

function residualMinor(reg: Registry, invoices: readonly Row[]): number {
  return invoices.reduce(
    (sum, invoice) => sum + toMinor(reg, invoice.currency_id, invoice.amount_residual),
    0,
  );
}

function wizardDefaults(reg: Registry, env: Env, vals: Vals): Vals {
  const invoices = payableInvoices(reg, env, activeMoveIds(reg, env));
  const [first] = invoices;
  if (!first) throw nothingLeftToPay(reg);
  const companyId = Number(first.company_id);
  const currencyId = first.currency_id ?? false;
  if (typeof vals.currency_id === 'number' && vals.currency_id !== currencyId) {
    throw userError(
      `The Odoo sandbox does not convert currencies: register the payment in ${reg.displayName('res.currency', Number(currencyId))}, the currency of the invoices.`,
    );
  }
  const journalId =
    typeof vals.journal_id === 'number' ? vals.journal_id : defaultPaymentJournal(reg, companyId).id;
  const journal = reg.model('account.journal').rows.get(journalId);
  // Odoo takes any journal of the company here (the bank/cash domain is the form's); one without
  // payment method lines only fails in action_create_payments (56, 56b).
  if (!journal || journal.company_id !== companyId) {
    throw userError(
      `The journal with id ${journalId} cannot be used to register payments of ${reg.displayName('res.company', companyId)}.`,
    );
  }
  const partners = new Set(invoices.map((invoice) => invoice.partner_id));
  const singleBatch = partners.size === 1;
  const residual = toFloat(reg, currencyId, residualMinor(reg, invoices));
  const communication = invoices
    .map(
      (invoice) =>
        (typeof invoice.payment_reference === 'string' && invoice.payment_reference) || String(invoice.name),
    )
    .join(' ');
  return {
    payment_date: reg.today(),
    amount: residual,
    communication,
    group_payment: true,
    payment_difference_handling: 'open',
    installments_mode: 'full',
    writeoff_label: 'Write-Off',
    ...vals,
    line_ids: invoices
      .map((invoice) => receivableLine(reg, invoice)?.id)
      .filter((id): id is number => id !== undefined),
    journal_id: journalId,
    currency_id: currencyId,
    company_id: companyId,
    company_currency_id: reg.model('res.company').rows.get(companyId)?.currency_id ?? false,
    partner_id: singleBatch ? (first.partner_id ?? false) : false,
    payment_type: first.move_type === 'out_refund' ? 'outbound' : 'inbound',
    partner_type: 'customer',
    payment_method_line_id:
      typeof vals.payment_method_line_id === 'number'
        ? vals.payment_method_line_id
        : (inboundMethodLine(reg, journalId)?.id ?? false),
    can_edit_wizard: singleBatch,
    can_group_payments: invoices.length > 1,
    source_amount: residual,
    source_amount_currency: residual,
    source_currency_id: currencyId,
  };
}

function wizardInvoices(reg: Registry, env: Env, wizard: Row): Row[] {
  const lines = reg.model('account.move.line');
  const moveIds = idList(wizard.line_ids)
    .map((id) => lines.rows.get(id)?.move_id)
    .filter((id): id is number => typeof id === 'number');
  return payableInvoices(reg, env, [...new Set(moveIds)]);
}

const createPaymentsMethod: MethodSpec = {
  access: 'write',
  params: [],
  run: (call): Json => {
    const { reg, env } = call;
    const wizard = singleRecord(call);
    const invoices = wizardInvoices(reg, env, wizard);
    const journalId = Number(wizard.journal_id);
    const date = typeof wizard.payment_date === 'string' ? wizard.payment_date : reg.today();
    const memo =
      typeof wizard.communication === 'string' && wizard.communication !== '' ? wizard.communication : false;
    const handling = wizard.payment_difference_handling === 'reconcile' ? 'reconcile' : 'open';
    const methodLine =
      typeof wizard.payment_method_line_id === 'number' ? wizard.payment_method_line_id : false;
    // account.payment's _check_payment_method_line_id, e.g. for a sale journal (56b).
    if (methodLine === false) throw validationError('Please define a payment method line on your payment.');
    const payments: Row[] = [];
    if (wizard.can_edit_wizard === true || wizard.group_payment === true) {
      // One batch: the amount typed in the wizard pays the invoices, oldest due date first.
      const amountMinor =
        wizard.can_edit_wizard === true
          ? toMinor(reg, wizard.currency_id, wizard.amount)
          : residualMinor(reg, invoices);
      payments.push(
        registerPayment(reg, env, {
          journalId,
          amountMinor,
          date,
          memo,
          invoices,
          handling,
          paymentMethodLineId: methodLine,
        }),
      );
    } else {
      for (const invoice of invoices) {
        const amountMinor = residualMinor(reg, [invoice]);
        const ownMemo =
          (typeof invoice.payment_reference === 'string' && invoice.payment_reference) ||
          String(invoice.name);
        payments.push(
          registerPayment(reg, env, {
            journalId,
            amountMinor,
            date,
            memo: ownMemo,
            invoices: [invoice],
            handling: 'open',
            paymentMethodLineId: methodLine,
          }),
        );
      }
    }
    if (env.context.dont_redirect_to_payments === true) return true;
    const [single] = payments;
    if (payments.length === 1 && single) {
      return {
        name: 'Payments',
        type: 'ir.actions.act_window',
        res_model: 'account.payment',
        context: { create: false },
        view_mode: 'form',
        res_id: single.id,
      };
    }
    return {
      name: 'Payments',
      type: 'ir.actions.act_window',
      res_model: 'account.payment',
      context: { create: false },
      view_mode: 'list,form',
      domain: [['id', 'in', payments.map((payment) => payment.id)]],
    };
  },
};

/**
 * Creates a posted payment (state `paid` since 18.0, `posted` before) with its journal entry and
 * reconciles it with the invoices.
 * Used by the wizard and by the sandbox helpers (payment by other means).
 */
export function registerPayment(reg: Registry, env: Env, request: PaymentRequest): Row {
  const [first] = request.invoices;
  if (!first) throw userError('There is no invoice to pay.');
  const journal = reg.model('account.journal').rows.get(request.journalId);
  if (!journal) throw userError(`Journal ${request.journalId} does not exist.`);
  const currencyId = first.currency_id ?? false;
  const companyId = first.company_id ?? false;
  const year = request.date.slice(0, 4);
  const prefix = `P${String(journal.code)}`;
  const name = `${prefix}/${year}/${String(reg.nextSequence(`${prefix}/${year}/${String(companyId)}`)).padStart(5, '0')}`;
  const amount = toFloat(reg, currencyId, request.amountMinor);
  const outbound = first.move_type === 'out_refund';
  const accounts = [...reg.model('account.account').rows.values()];
  const outstanding = accounts.find(
    (account) => account.code === '101403' || account.name === 'Outstanding Receipts',
  );
  const receivable = accounts.find((account) => account.account_type === 'asset_receivable');
  const payment = reg.insert(
    'account.payment',
    {
      name,
      date: request.date,
      amount,
      currency_id: currencyId,
      journal_id: journal.id,
      company_id: companyId,
      // The commercial partner, not the invoiced contact (57c).
      partner_id: commercialPartnerId(reg, first.partner_id),
      state: reg.traits.registeredPaymentState,
      payment_type: outbound ? 'outbound' : 'inbound',
      partner_type: 'customer',
      [reg.traits.paymentReferenceField]: request.memo,
      payment_method_line_id:
        request.paymentMethodLineId || (inboundMethodLine(reg, journal.id)?.id ?? false),
      outstanding_account_id: outstanding?.id ?? false,
      destination_account_id: receivable?.id ?? false,
      invoice_ids: request.invoices.map((invoice) => invoice.id),
      is_matched: false,
    },
    env,
  );
  const entry = reg.insert(
    'account.move',
    {
      move_type: 'entry',
      state: 'posted',
      posted_before: true,
      name,
      ref: request.memo,
      date: request.date,
      journal_id: journal.id,
      company_id: companyId,
      currency_id: currencyId,
      partner_id: payment.partner_id ?? false,
      amount_total: amount,
      amount_untaxed: amount,
      payment_state: 'not_paid',
      auto_post: 'no',
      origin_payment_id: payment.id,
    },
    env,
  );
  const lineBase = {
    move_id: entry.id,
    partner_id: payment.partner_id ?? false,
    company_id: companyId,
    currency_id: currencyId,
    quantity: 1,
  };
  const sign = outbound ? -1 : 1;
  // Up to 17.0 the lines are labelled "Customer Payment $ 120.00 - Deco Addict - 11/21/2026"
  // (17.0/12x), the reference nowhere; since 18.0 by the method and memo.
  const legacyLabel =
    reg.traits.paymentLineLabel === 'type-amount-partner-date'
      ? `${outbound ? 'Customer Reimbursement' : 'Customer Payment'} ${formatAmount(reg, currencyId, amount)} - ${
          typeof payment.partner_id === 'number' ? reg.displayName('res.partner', payment.partner_id) : ''
        } - ${request.date.slice(5, 7)}/${request.date.slice(8, 10)}/${request.date.slice(0, 4)}`
      : undefined;
  reg.insert(
    'account.move.line',
    {
      ...lineBase,
      name: legacyLabel ?? (request.memo || name),
      account_id: outstanding?.id ?? false,
      debit: outbound ? 0 : amount,
      credit: outbound ? amount : 0,
      balance: sign * amount,
      amount_currency: sign * amount,
    },
    env,
  );
  const counterpart = reg.insert(
    'account.move.line',
    {
      ...lineBase,
      name: legacyLabel ?? (request.memo ? `Manual Payment: ${request.memo}` : 'Manual Payment'),
      display_type: 'payment_term',
      account_id: receivable?.id ?? false,
      debit: outbound ? amount : 0,
      credit: outbound ? 0 : amount,
      balance: -sign * amount,
      amount_currency: -sign * amount,
      amount_residual: -sign * amount,
    },
    env,
  );
  let remaining = request.amountMinor;
  const ordered = [...request.invoices].sort((a, b) =>
    String(a.invoice_date_due || '9999') < String(b.invoice_date_due || '9999') ? -1 : a.id - b.id,
  );
  ordered.forEach((invoice, index) => {
    const due = toMinor(reg, invoice.currency_id, invoice.amount_residual);
    const last = index === ordered.length - 1;
    let applied = Math.min(remaining, due);
    if (last && request.handling === 'reconcile') applied = due;
    if (applied <= 0) return;
    reconcile(reg, env, invoice, counterpart, applied);
    reg.update(
      'account.move',
      invoice,
      { matched_payment_ids: [...idList(invoice.matched_payment_ids), payment.id] },
      env,
    );
    remaining -= Math.min(applied, remaining);
  });
  reg.update('account.payment', payment, { move_id: entry.id, is_reconciled: remaining === 0 }, env);
  return payment;
}

function commercialPartnerId(reg: Registry, partnerId: Json | undefined): number | false {
  if (typeof partnerId !== 'number') return false;
  const partner = reg.model('res.partner').rows.get(partnerId);
  return typeof partner?.parent_id === 'number' && partner.is_company !== true
    ? partner.parent_id
    : partnerId;
}

function paymentDefaults(reg: Registry, env: Env, vals: Vals): Vals {
  const journalId =
    typeof vals.journal_id === 'number' ? vals.journal_id : defaultPaymentJournal(reg, env.companyId).id;
  const journal = reg.model('account.journal').rows.get(journalId);
  const companyId = typeof journal?.company_id === 'number' ? journal.company_id : env.companyId;
  const company = reg.model('res.company').rows.get(companyId);
  return {
    name: '/',
    state: 'draft',
    payment_type: 'inbound',
    partner_type: 'customer',
    date: reg.today(),
    [reg.traits.paymentReferenceField]: false,
    ...vals,
    journal_id: journalId,
    company_id: companyId,
    currency_id: vals.currency_id ?? (journal?.currency_id || company?.currency_id || false),
    payment_method_line_id:
      typeof vals.payment_method_line_id === 'number'
        ? vals.payment_method_line_id
        : (inboundMethodLine(reg, journalId)?.id ?? false),
  };
}

function paymentRows(call: { reg: Registry; env: Env; ids: number[] }): Row[] {
  return call.reg.browse(call.env, 'account.payment', call.ids, 'write');
}

const PAYMENT_METHODS: { [name: string]: MethodSpec } = {
  message_post: messagePost,
  action_post: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const payment of paymentRows(call)) {
        if (payment.state !== 'draft') throw userError('Only a draft payment can be posted.');
        const journal = call.reg.model('account.journal').rows.get(Number(payment.journal_id));
        const date = String(payment.date || call.reg.today());
        const prefix = `P${String(journal?.code ?? 'BNK')}`;
        const year = date.slice(0, 4);
        const name =
          payment.name && payment.name !== '/'
            ? payment.name
            : `${prefix}/${year}/${String(call.reg.nextSequence(`${prefix}/${year}/${String(payment.company_id)}`)).padStart(5, '0')}`;
        call.reg.update(
          'account.payment',
          payment,
          { name, state: call.reg.traits.postedPaymentState },
          call.env,
        );
      }
      return false;
    },
  },
  action_cancel: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const payment of paymentRows(call))
        call.reg.update(
          'account.payment',
          payment,
          { state: call.reg.traits.canceledPaymentState },
          call.env,
        );
      return null;
    },
  },
  action_draft: {
    access: 'write',
    params: [],
    run: (call) => {
      for (const payment of paymentRows(call))
        call.reg.update('account.payment', payment, { state: 'draft' }, call.env);
      return null;
    },
  },
};

/** The payment's reference (`memo`/`ref`) and invoices (`invoice_ids`, 18.0+) fields. */
function referenceFields(registry: Registry): { [name: string]: FieldDef } {
  const { traits } = registry;
  return {
    ...(traits.paymentReferenceField === 'memo'
      ? { memo: { type: 'char', string: 'Memo' } }
      : { ref: { type: 'char', string: 'Reference' } }),
    ...(traits.hasInvoiceIds
      ? { invoice_ids: { type: 'many2many', string: 'Invoices', relation: 'account.move' } }
      : {}),
  };
}

export function definePaymentModels(registry: Registry): void {
  registry.define({
    name: 'account.payment',
    description: 'Payments',
    mailThread: true,
    order: 'date desc, name desc',
    fields: {
      ...paymentCatalogue(registry.traits),
      ...referenceFields(registry),
      state: {
        type: 'selection',
        string: registry.traits.paymentStateLabel,
        selection: registry.traits.paymentStates,
      },
      name: { type: 'char', string: 'Number' },
      date: { type: 'date', string: 'Date', required: true },
      amount: { type: 'monetary', string: 'Amount', currencyField: 'currency_id' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      company_currency_id: {
        type: 'many2one',
        string: 'Company Currency',
        relation: 'res.currency',
        compute: (row, ctx) =>
          typeof row.company_id === 'number'
            ? (ctx.reg.model('res.company').rows.get(row.company_id)?.currency_id ?? false)
            : false,
      },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal', required: true },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      partner_id: { type: 'many2one', string: 'Customer/Vendor', relation: 'res.partner' },
      payment_method_line_id: {
        type: 'many2one',
        string: 'Payment Method',
        relation: 'account.payment.method.line',
      },
      move_id: { type: 'many2one', string: 'Journal Entry', relation: 'account.move' },
      outstanding_account_id: {
        type: 'many2one',
        string: 'Outstanding Account',
        relation: 'account.account',
      },
      destination_account_id: {
        type: 'many2one',
        string: 'Destination Account',
        relation: 'account.account',
      },
      // Computed from the reconciliation, hence not stored: up to 18.0 a search by it drops the
      // leaf (58, 17.0/58x), 19.0 can search it.
      reconciled_invoice_ids: {
        type: 'many2many',
        string: 'Reconciled Invoices',
        relation: 'account.move',
        store: false,
        searchable: registry.traits.reconciledInvoiceIdsSearchable,
        compute: (row, ctx) => reconciledInvoiceIds(ctx.reg, row.move_id),
      },
      reconciled_invoices_count: {
        type: 'integer',
        string: '# Reconciled Invoices',
        compute: (row, ctx) => reconciledInvoiceIds(ctx.reg, row.move_id).length,
      },
      reconciled_invoices_type: {
        type: 'selection',
        string: 'Reconciled Invoices Type',
        selection: [
          ['credit_note', 'Credit Note'],
          ['invoice', 'Invoice'],
        ],
        compute: (row, ctx) =>
          reconciledInvoiceIds(ctx.reg, row.move_id).length > 0
            ? row.payment_type === 'outbound'
              ? 'credit_note'
              : 'invoice'
            : false,
      },
      amount_signed: {
        type: 'monetary',
        string: 'Amount Signed',
        currencyField: 'currency_id',
        compute: (row) =>
          row.payment_type === 'outbound' ? -Number(row.amount ?? 0) : Number(row.amount ?? 0),
      },
      amount_company_currency_signed: {
        type: 'monetary',
        string: 'Amount Company Currency Signed',
        currencyField: 'company_currency_id',
        compute: (row) =>
          row.payment_type === 'outbound' ? -Number(row.amount ?? 0) : Number(row.amount ?? 0),
      },
      payment_method_code: { type: 'char', string: 'Code', compute: () => 'manual' },
    },
    displayName: (row) => (typeof row.name === 'string' && row.name !== '/' ? row.name : `Draft Payment`),
    rule: companyRule(),
    methods: PAYMENT_METHODS,
    defaults: (vals, env, registryArg) => paymentDefaults(registryArg, env, vals),
  });

  registry.define({
    name: 'account.payment.register',
    description: 'Pay',
    fields: {
      ...paymentRegisterCatalogue(registry.traits),
      payment_date: { type: 'date', string: 'Payment Date', required: true },
      amount: { type: 'monetary', string: 'Amount', currencyField: 'currency_id' },
      communication: { type: 'char', string: 'Memo' },
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      company_currency_id: { type: 'many2one', string: 'Company Currency', relation: 'res.currency' },
      source_currency_id: { type: 'many2one', string: 'Source Currency', relation: 'res.currency' },
      source_amount: {
        type: 'monetary',
        string: 'Amount to Pay (company currency)',
        currencyField: 'company_currency_id',
      },
      source_amount_currency: {
        type: 'monetary',
        string: 'Amount to Pay (foreign currency)',
        currencyField: 'source_currency_id',
      },
      journal_id: { type: 'many2one', string: 'Journal', relation: 'account.journal' },
      company_id: { type: 'many2one', string: 'Company', relation: 'res.company' },
      partner_id: { type: 'many2one', string: 'Customer/Vendor', relation: 'res.partner' },
      payment_method_line_id: {
        type: 'many2one',
        string: 'Payment Method',
        relation: 'account.payment.method.line',
      },
      line_ids: { type: 'many2many', string: 'Journal items', relation: 'account.move.line' },
      payment_difference: {
        type: 'monetary',
        string: 'Payment Difference',
        currencyField: 'currency_id',
        compute: (row, ctx) => {
          const lines = ctx.reg.model('account.move.line');
          const moves = ctx.reg.model('account.move');
          let due = 0;
          for (const id of idList(row.line_ids)) {
            const moveId = lines.rows.get(id)?.move_id;
            const move = typeof moveId === 'number' ? moves.rows.get(moveId) : undefined;
            if (move) due += toMinor(ctx.reg, move.currency_id, move.amount_residual);
          }
          return toFloat(ctx.reg, row.currency_id, due - toMinor(ctx.reg, row.currency_id, row.amount));
        },
      },
      available_journal_ids: {
        type: 'many2many',
        string: 'Available Journal',
        relation: 'account.journal',
        compute: (row, ctx) =>
          [...ctx.reg.model('account.journal').rows.values()]
            .filter(
              (journal) =>
                journal.company_id === row.company_id &&
                ['bank', 'cash', 'credit'].includes(String(journal.type)),
            )
            .map((journal) => journal.id),
      },
    },
    rule: companyRule(),
    defaults: (vals, env, registryArg) => wizardDefaults(registryArg, env, vals),
    methods: { action_create_payments: createPaymentsMethod },
  });
}

/** Payments whose reference (memo, or ref up to 17.0) equals `memo` (how a connector finds its own payment again). */
export function paymentsWithMemo(registry: Registry, memo: string): Row[] {
  const field = registry.traits.paymentReferenceField;
  return [...registry.model('account.payment').rows.values()].filter((payment) => payment[field] === memo);
}
