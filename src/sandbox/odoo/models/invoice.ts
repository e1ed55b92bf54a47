/**
 * Invoice lifecycle on account.move: lines and totals, posting and numbering, reset to draft,
 * cancel, reconciliation with payments and credit notes, and the stored payment_state compute.
 * Amounts are stored as Odoo floats but every sum is done in integer minor units.
 */
import { formatMinorAsDecimal, minorFromOdooFloat, odooFloatFromMinor } from '../../../domain/money.js';
import { type Json, userError } from '../errors.js';
import { isObject, type Row, type Vals } from '../fields.js';
import type { Env, Registry } from '../registry.js';

export const INVOICE_TYPES = new Set(['out_invoice', 'out_refund']);

export function toMinor(reg: Registry, currencyId: Json | undefined, value: Json | undefined): number {
  const amount = typeof value === 'number' ? value : Number(value ?? 0);
  return minorFromOdooFloat(Number.isFinite(amount) ? amount : 0, reg.currencyDecimals(currencyId));
}

export function toFloat(reg: Registry, currencyId: Json | undefined, minor: number): number {
  return odooFloatFromMinor(minor, reg.currencyDecimals(currencyId ?? false));
}

export function linesOf(reg: Registry, moveId: number, displayType?: string): Row[] {
  const lines = reg.model('account.move.line').rowsWhere('move_id', moveId);
  return displayType === undefined ? lines : lines.filter((line) => line.display_type === displayType);
}

/** Partial reconciliations touching a line of this move. */
export function partialsOf(reg: Registry, move: Row): Row[] {
  const partials = reg.model('account.partial.reconcile');
  const found = new Map<number, Row>();
  for (const line of linesOf(reg, move.id)) {
    for (const partial of partials.rowsWhere('debit_move_id', line.id)) found.set(partial.id, partial);
    for (const partial of partials.rowsWhere('credit_move_id', line.id)) found.set(partial.id, partial);
  }
  return [...found.values()].sort((a, b) => a.id - b.id);
}

/** The receivable (payment term) line a payment reconciles with; every invoice has exactly one. */
export function receivableLine(reg: Registry, move: Row): Row | undefined {
  return linesOf(reg, move.id, 'payment_term')[0];
}

function accountByType(reg: Registry, accountType: string): number | false {
  for (const account of reg.model('account.account').rows.values()) {
    if (account.account_type === accountType) return account.id;
  }
  return false;
}

function lineSubtotalMinor(reg: Registry, move: Row, vals: Vals): number {
  const quantity = typeof vals.quantity === 'number' ? vals.quantity : 1;
  const price = typeof vals.price_unit === 'number' ? vals.price_unit : 0;
  const discount = typeof vals.discount === 'number' ? vals.discount : 0;
  return toMinor(reg, move.currency_id, quantity * price * (1 - discount / 100));
}

function productLineVals(reg: Registry, move: Row, vals: Vals): Vals {
  const subtotal = toFloat(reg, move.currency_id, lineSubtotalMinor(reg, move, vals));
  return {
    move_id: move.id,
    name: typeof vals.name === 'string' ? vals.name : false,
    display_type: 'product',
    quantity: typeof vals.quantity === 'number' ? vals.quantity : 1,
    price_unit: typeof vals.price_unit === 'number' ? vals.price_unit : 0,
    discount: typeof vals.discount === 'number' ? vals.discount : 0,
    price_subtotal: subtotal,
    price_total: subtotal,
    account_id: accountByType(reg, 'income'),
    partner_id: move.partner_id ?? false,
    company_id: move.company_id ?? false,
    currency_id: move.currency_id ?? false,
  };
}

/** Applies one2many commands to the product lines of a draft move, then recomputes the totals. */
export function applyLineCommands(reg: Registry, env: Env, move: Row, commands: Json): void {
  if (!Array.isArray(commands)) return;
  const model = 'account.move.line';
  for (const command of commands) {
    if (!Array.isArray(command)) continue;
    const [code, id, vals] = command;
    const row = typeof id === 'number' ? reg.model(model).rows.get(id) : undefined;
    if (code === 0 && isObject(vals)) reg.insert(model, productLineVals(reg, move, vals), env);
    else if (code === 1 && row && isObject(vals)) {
      reg.update(model, row, productLineVals(reg, move, { ...row, ...vals }), env);
    } else if ((code === 2 || code === 3) && row) reg.remove(model, row.id);
    else if (code === 5) for (const line of linesOf(reg, move.id, 'product')) reg.remove(model, line.id);
  }
  recomputeTotals(reg, env, move);
}

/** Replaces the product lines by one line of the given amount (sandbox shortcut, draft only). */
export function setDraftAmount(reg: Registry, env: Env, move: Row, amount: number): void {
  for (const line of linesOf(reg, move.id, 'product')) reg.remove('account.move.line', line.id);
  reg.insert(
    'account.move.line',
    productLineVals(reg, move, {
      name: typeof move.ref === 'string' ? move.ref : 'Services',
      quantity: 1,
      price_unit: amount,
    }),
    env,
  );
  recomputeTotals(reg, env, move);
}

/** Totals from the product lines (no taxes in the sandbox); a draft owes its whole total. */
export function recomputeTotals(reg: Registry, env: Env, move: Row): void {
  let totalMinor = 0;
  for (const line of linesOf(reg, move.id, 'product'))
    totalMinor += toMinor(reg, move.currency_id, line.price_subtotal);
  const total = toFloat(reg, move.currency_id, totalMinor);
  reg.update(
    'account.move',
    move,
    { amount_untaxed: total, amount_tax: 0, amount_total: total, amount_residual: total },
    env,
  );
  syncReceivableLine(reg, env, move);
}

export function ensureReceivableLine(reg: Registry, env: Env, move: Row): void {
  if (receivableLine(reg, move) || !INVOICE_TYPES.has(String(move.move_type))) return;
  reg.insert(
    'account.move.line',
    {
      move_id: move.id,
      name: false,
      display_type: 'payment_term',
      account_id: accountByType(reg, 'asset_receivable'),
      partner_id: move.partner_id ?? false,
      company_id: move.company_id ?? false,
      currency_id: move.currency_id ?? false,
      quantity: 1,
    },
    env,
  );
  syncReceivableLine(reg, env, move);
}

function syncReceivableLine(reg: Registry, env: Env, move: Row): void {
  const line = receivableLine(reg, move);
  if (!line) return;
  const total = typeof move.amount_total === 'number' ? move.amount_total : 0;
  const residual = typeof move.amount_residual === 'number' ? move.amount_residual : 0;
  const isRefund = move.move_type === 'out_refund';
  reg.update(
    'account.move.line',
    line,
    {
      name: move.payment_reference || move.name || false,
      debit: isRefund ? 0 : total,
      credit: isRefund ? total : 0,
      balance: isRefund ? -total : total,
      amount_currency: isRefund ? -total : total,
      amount_residual: isRefund ? -residual : residual,
      partner_id: move.partner_id ?? false,
      date_maturity: move.invoice_date_due ?? false,
      reconciled: move.state === 'posted' && residual === 0 && total !== 0,
    },
    env,
  );
}

function journalOf(reg: Registry, move: Row): Row {
  const journal =
    typeof move.journal_id === 'number' ? reg.model('account.journal').rows.get(move.journal_id) : undefined;
  if (!journal) throw userError('The journal of this entry does not exist any more.');
  return journal;
}

/** action_post: numbering (INV/2026/00001, RINV/… for credit notes), dates, payment reference. */
export function postMove(reg: Registry, env: Env, move: Row): void {
  if (move.state !== 'draft') {
    throw userError(`The entry ${String(move.name)} (id ${move.id}) must be in draft.`);
  }
  const isInvoice = INVOICE_TYPES.has(String(move.move_type));
  if (isInvoice) {
    if (move.partner_id === false) {
      const document = move.move_type === 'out_refund' ? 'Customer Credit Note' : 'Customer Invoice';
      throw userError(`The field 'Customer' is required, please complete it to validate the ${document}.`);
    }
    if (linesOf(reg, move.id, 'product').length === 0)
      throw userError('You need to add a line before posting.');
    if (toMinor(reg, move.currency_id, move.amount_total) < 0) {
      throw userError(
        'You cannot validate an invoice with a negative total amount. You should create a credit note instead. Use the action menu to transform it into a credit note or refund.',
      );
    }
  }
  const today = reg.today();
  const invoiceDate = isInvoice ? move.invoice_date || today : move.invoice_date;
  const date = isInvoice ? invoiceDate : move.date || today;
  const changes: Vals = {
    state: 'posted',
    posted_before: true,
    checked: true,
    invoice_date: invoiceDate ?? false,
    date: date ?? today,
  };
  if (isInvoice) changes.invoice_date_due = move.invoice_date_due || invoiceDate || today;
  if (move.name === '/' || move.name === false) {
    const journal = journalOf(reg, move);
    const prefix = `${move.move_type === 'out_refund' ? 'R' : ''}${String(journal.code)}`;
    const year = String(date ?? today).slice(0, 4);
    const sequence = reg.nextSequence(`${prefix}/${year}/${String(journal.company_id)}`);
    changes.name = `${prefix}/${year}/${String(sequence).padStart(5, '0')}`;
  }
  if (isInvoice && !move.payment_reference && move.move_type === 'out_invoice') {
    changes.payment_reference = changes.name ?? move.name ?? false;
  }
  reg.update('account.move', move, changes, env);
  syncReceivableLine(reg, env, move);
  refreshPaymentState(reg, env, move);
}

/** button_draft: back to draft, undoing every reconciliation of the move (payments stay, unmatched). */
export function resetMoveToDraft(reg: Registry, env: Env, move: Row): void {
  if (move.state !== 'posted' && move.state !== 'cancel') {
    throw userError('Only posted/cancelled journal entries can be reset to draft.');
  }
  unreconcileMove(reg, env, move);
  reg.update('account.move', move, { state: 'draft' }, env);
  syncReceivableLine(reg, env, move);
  refreshPaymentState(reg, env, move);
}

/** button_cancel: a posted move is reset to draft first, as Odoo 18 does. */
export function cancelMove(reg: Registry, env: Env, move: Row): void {
  if (move.state === 'posted') resetMoveToDraft(reg, env, move);
  if (move.state !== 'draft') throw userError('Only draft journal entries can be cancelled.');
  reg.update('account.move', move, { state: 'cancel', auto_post: 'no' }, env);
  refreshPaymentState(reg, env, move);
}

function unreconcileMove(reg: Registry, env: Env, move: Row): void {
  for (const partial of partialsOf(reg, move)) {
    const debit = partial.debit_move_id;
    const credit = partial.credit_move_id;
    reg.remove('account.partial.reconcile', partial.id);
    const lines = reg.model('account.move.line');
    for (const lineId of [debit, credit]) {
      const line = typeof lineId === 'number' ? lines.rows.get(lineId) : undefined;
      const other =
        line && typeof line.move_id === 'number'
          ? reg.model('account.move').rows.get(line.move_id)
          : undefined;
      if (!other || other.id === move.id) continue;
      restoreCounterpart(reg, env, other, toMinor(reg, other.currency_id, partial.amount));
    }
  }
  reg.update('account.move', move, { amount_residual: move.amount_total ?? 0, matched_payment_ids: [] }, env);
}

/** The other side of a removed reconciliation gets its residual back; its payment is no longer reconciled. */
function restoreCounterpart(reg: Registry, env: Env, other: Row, amountMinor: number): void {
  const payments = reg.model('account.payment');
  const payment =
    typeof other.origin_payment_id === 'number' ? payments.rows.get(other.origin_payment_id) : undefined;
  if (payment) {
    reg.update(
      'account.payment',
      payment,
      { is_reconciled: false, state: reg.traits.postedPaymentState },
      env,
    );
    return;
  }
  const residual = toMinor(reg, other.currency_id, other.amount_residual) + amountMinor;
  reg.update('account.move', other, { amount_residual: toFloat(reg, other.currency_id, residual) }, env);
  syncReceivableLine(reg, env, other);
  refreshPaymentState(reg, env, other);
}

/**
 * Reconciles `amountMinor` of an invoice's receivable line with a counterpart line (a payment's
 * receivable line or a credit note's), recomputing residuals and payment states.
 */
export function reconcile(reg: Registry, env: Env, invoice: Row, counterpart: Row, amountMinor: number): Row {
  const invoiceLine = receivableLine(reg, invoice);
  if (!invoiceLine) throw userError(`The entry ${String(invoice.name)} has no receivable line to reconcile.`);
  const isRefund = invoice.move_type === 'out_refund';
  const amount = toFloat(reg, invoice.currency_id, amountMinor);
  const partial = reg.insert(
    'account.partial.reconcile',
    {
      debit_move_id: isRefund ? counterpart.id : invoiceLine.id,
      credit_move_id: isRefund ? invoiceLine.id : counterpart.id,
      amount,
      debit_amount_currency: amount,
      credit_amount_currency: amount,
      company_id: invoice.company_id ?? false,
      company_currency_id: invoice.currency_id ?? false,
      max_date: reg.today(),
    },
    env,
  );
  const residual = toMinor(reg, invoice.currency_id, invoice.amount_residual) - amountMinor;
  reg.update('account.move', invoice, { amount_residual: toFloat(reg, invoice.currency_id, residual) }, env);
  syncReceivableLine(reg, env, invoice);
  const counterpartResidual = toMinor(reg, invoice.currency_id, counterpart.amount_residual);
  const sign = counterpartResidual < 0 ? -1 : 1;
  reg.update(
    'account.move.line',
    counterpart,
    { amount_residual: toFloat(reg, invoice.currency_id, counterpartResidual - sign * amountMinor) },
    env,
  );
  refreshPaymentState(reg, env, invoice);
  return partial;
}

/** Odoo's stored `_compute_payment_state`; any change bumps write_date through reg.update. */
export function refreshPaymentState(reg: Registry, env: Env, move: Row): void {
  reg.update('account.move', move, { payment_state: computePaymentState(reg, move) }, env);
}

function computePaymentState(reg: Registry, move: Row): string {
  if (move.state !== 'posted' || !INVOICE_TYPES.has(String(move.move_type))) return 'not_paid';
  const total = toMinor(reg, move.currency_id, move.amount_total);
  const residual = toMinor(reg, move.currency_id, move.amount_residual);
  if (total === 0) return 'paid';
  if (residual === 0) {
    const counterparts = counterpartMoves(reg, move);
    const onlyReversals =
      move.move_type === 'out_invoice' &&
      counterparts.length > 0 &&
      counterparts.every((other) => other.reversed_entry_id === move.id);
    return onlyReversals ? 'reversed' : reg.options.settledState;
  }
  if (move.payment_state === 'blocked') return 'blocked';
  return residual === total ? 'not_paid' : 'partial';
}

interface Reconciliation {
  partial: Row;
  other: Row;
  otherLine: Row;
}

function reconciliations(reg: Registry, move: Row): Reconciliation[] {
  const lines = reg.model('account.move.line');
  const moves = reg.model('account.move');
  const ownLines = new Set(linesOf(reg, move.id).map((line) => line.id));
  const result: Reconciliation[] = [];
  for (const partial of partialsOf(reg, move)) {
    const debit = partial.debit_move_id;
    const credit = partial.credit_move_id;
    let otherLineId: Json | undefined;
    if (typeof debit === 'number' && ownLines.has(debit)) otherLineId = credit;
    else if (typeof credit === 'number' && ownLines.has(credit)) otherLineId = debit;
    else continue;
    const otherLine = typeof otherLineId === 'number' ? lines.rows.get(otherLineId) : undefined;
    const other =
      otherLine && typeof otherLine.move_id === 'number' ? moves.rows.get(otherLine.move_id) : undefined;
    if (otherLine && other) result.push({ partial, other, otherLine });
  }
  return result;
}

/** Invoices and credit notes a payment's journal entry is reconciled with (reconciled_invoice_ids). */
export function reconciledInvoiceIds(reg: Registry, paymentMoveId: Json | undefined): number[] {
  const move =
    typeof paymentMoveId === 'number' ? reg.model('account.move').rows.get(paymentMoveId) : undefined;
  if (!move) return [];
  const ids = reconciliations(reg, move)
    .map((item) => item.other)
    .filter((other) => INVOICE_TYPES.has(String(other.move_type)))
    .map((other) => other.id);
  return [...new Set(ids)].sort((a, b) => a - b);
}

function counterpartMoves(reg: Registry, move: Row): Row[] {
  return reconciliations(reg, move).map((item) => item.other);
}

/** Odoo's amount formatting for widgets: "$ 1,234.50" or "1,234.50 DA" (no-break spaces). */
export function formatAmount(reg: Registry, currencyId: Json | undefined, amount: number): string {
  const currency =
    typeof currencyId === 'number' ? reg.model('res.currency').rows.get(currencyId) : undefined;
  const decimals = reg.currencyDecimals(currencyId ?? false);
  const text = formatMinorAsDecimal(minorFromOdooFloat(amount, decimals), decimals);
  const [whole = '0', fraction] = text.split('.');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const number = fraction === undefined ? grouped : `${grouped}.${fraction}`;
  const symbol = typeof currency?.symbol === 'string' ? currency.symbol : '';
  return currency?.position === 'before' ? `${symbol}\u00a0${number}` : `${number}\u00a0${symbol}`;
}

/** invoice_payments_widget: false without payments, else Odoo's "Less Payment" block. */
export function paymentsWidget(reg: Registry, move: Row): Json {
  if (move.state !== 'posted' || !INVOICE_TYPES.has(String(move.move_type))) return false;
  const items = reconciliations(reg, move);
  if (items.length === 0) return false;
  const payments = reg.model('account.payment');
  const journals = reg.model('account.journal');
  const content = items.map(({ partial, other, otherLine }) => {
    const payment =
      typeof other.origin_payment_id === 'number' ? payments.rows.get(other.origin_payment_id) : undefined;
    const journal = typeof other.journal_id === 'number' ? journals.rows.get(other.journal_id) : undefined;
    const amount = typeof partial.amount === 'number' ? partial.amount : 0;
    const entry: { [key: string]: Json } = {
      name: typeof otherLine.name === 'string' ? otherLine.name : reg.displayName('account.move', other.id),
      journal_name: typeof journal?.name === 'string' ? journal.name : false,
      company_name:
        other.company_id !== move.company_id
          ? reg.displayName('res.company', Number(other.company_id))
          : false,
      amount,
      currency_id: typeof move.currency_id === 'number' ? move.currency_id : false,
      date: other.date ?? false,
      partial_id: partial.id,
      account_payment_id: payment ? payment.id : false,
      payment_method_name: payment ? reg.traits.manualMethodLineName : false,
      move_id: other.id,
    };
    if (reg.traits.paymentWidgetHasIsRefund) entry.is_refund = other.move_type === 'out_refund';
    entry.ref = reg.displayName('account.move', other.id);
    entry.is_exchange = false;
    entry.amount_company_currency = formatAmount(reg, move.currency_id, amount);
    entry.amount_foreign_currency = false;
    return entry;
  });
  return { title: 'Less Payment', outstanding: false, content };
}

export function moveDisplayName(move: Row): string {
  const drafts: Record<string, string> = {
    out_invoice: 'Draft Invoice',
    out_refund: 'Draft Credit Note',
    in_invoice: 'Draft Bill',
    in_refund: 'Draft Vendor Credit Note',
    out_receipt: 'Draft Sales Receipt',
    in_receipt: 'Draft Purchase Receipt',
    entry: 'Draft Entry',
  };
  let name = move.state === 'draft' ? `${drafts[String(move.move_type)] ?? 'Draft Entry'} ` : '';
  if (!move.name || move.name === '/') name += `(* ${move.id})`;
  else name += String(move.name);
  if (typeof move.ref === 'string' && move.ref !== '') {
    name += ` (${move.ref.length > 50 ? `${move.ref.slice(0, 46)} ...` : move.ref})`;
  }
  return name;
}
