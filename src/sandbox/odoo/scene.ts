/**
 * Direct access to the sandbox's records for tests and the demo: set the scene (companies,
 * journals, partners, invoices) and look at the outcome (invoices, payments, chatter) without RPC.
 * Every helper goes through the same business logic as the RPC methods.
 */
import { parseDecimalToMinor } from '../../domain/money.js';
import { type GroupXmlid, USER_GROUP_NAMES, type UserGroupName } from './access.js';
import type { Json } from './errors.js';
import { idList, type Row, type Vals } from './fields.js';
import { createCreditNote } from './models/account.js';
import { configParam, setConfigParam } from './models/config.js';
import {
  cancelMove,
  postMove,
  receivableLine,
  reconcile,
  reconciledInvoiceIds,
  resetMoveToDraft,
  setDraftAmount,
  toFloat,
  toMinor,
} from './models/invoice.js';
import { customFieldNames, irModelId } from './models/ir.js';
import { messagesOf } from './models/mail.js';
import { payableInvoices, paymentsWithMemo, registerPayment } from './models/payment.js';
import { viewOfXmlid } from './models/views.js';
import type { Env, Registry } from './registry.js';
import { type DemoSeed, type DemoSeedOptions, seedCompanyJournals, seedDemo, userGroupIds } from './seed.js';

export interface SandboxInvoice {
  id: number;
  name: string;
  move_type: string;
  state: 'draft' | 'posted' | 'cancel';
  payment_state: string;
  partner_id: number | false;
  company_id: number;
  journal_id: number;
  currency_id: number;
  /** ISO code of currency_id. */
  currency: string;
  amount_total: number;
  amount_residual: number;
  invoice_date: string | false;
  invoice_date_due: string | false;
  date: string | false;
  ref: string | false;
  payment_reference: string | false;
  reversed_entry_id: number | false;
  matched_payment_ids: number[];
  create_date: string;
  write_date: string;
  /** Values of the custom `x_` fields. */
  custom: { [field: string]: Json };
}

export interface SandboxPayment {
  id: number;
  name: string;
  amount: number;
  currency_id: number;
  currency: string;
  journal_id: number;
  partner_id: number | false;
  company_id: number;
  date: string;
  state: string;
  payment_type: string;
  memo: string | false;
  invoice_ids: number[];
  reconciled_invoice_ids: number[];
  move_id: number | false;
}

export interface SandboxMessage {
  id: number;
  body: string;
  message_type: string;
  /** xmlid of the subtype: 'mail.mt_note' for internal notes, 'mail.mt_comment' for messages. */
  subtype: string | false;
  model: string;
  res_id: number;
  author_id: number | false;
  /** The author's `"Name" <email>` as the message keeps it (false on 19.0 for an author without email). */
  email_from: string | false;
  date: string;
  /** The Message-Id Odoo keeps (given to message_post, or generated). */
  message_id: string;
}

export interface UserInput {
  name: string;
  login: string;
  password: string;
  /** The user's partner email; false (the default) for none, as a new user has. */
  email?: string | false;
  /** 'billing' is account.group_account_invoice (Invoicing / Billing); every user is an Internal User. */
  groups: readonly UserGroupName[];
  /** Allowed companies, the first being the current one (default [1]). */
  companyIds?: readonly number[];
}

export interface CustomFieldInput {
  /** Technical model name, e.g. 'account.move'. */
  model: string;
  /** Must start with x_. */
  name: string;
  label: string;
  type?: 'char' | 'text' | 'integer' | 'float' | 'boolean' | 'date' | 'datetime' | 'html';
  /** ir.model.fields tracking: changes leave a chatter message. */
  tracking?: boolean;
}

export interface CompanyInput {
  name: string;
  /** ISO code of the company currency (default USD). */
  currency?: string;
  email?: string;
  /** Whether the admin user may use this company (default true); false to test unauthorized companies. */
  adminAccess?: boolean;
  /** Also create the chart's "Bank" (BNK1) journal, and "Cash" (CSH1) on 18.0 (default false: add your own with createJournal). */
  withBankJournals?: boolean;
}

export interface JournalInput {
  name: string;
  type: 'bank' | 'cash' | 'sale' | 'general';
  code: string;
  companyId?: number;
  currency?: string;
}

export interface PartnerInput {
  name: string;
  email?: string;
  lang?: string;
  phone?: string;
  companyId?: number | false;
  isCompany?: boolean;
}

export interface InvoiceInput {
  partnerId: number;
  companyId?: number;
  /** ISO code; defaults to the company currency. */
  currency?: string;
  /** Decimal text in major units, e.g. '1500.00'. */
  amount: string;
  /** Invoice date, YYYY-MM-DD (default: today when posted). */
  date?: string;
  dueDate?: string;
  ref?: string;
  /** Posted by default. */
  post?: boolean;
  moveType?: 'out_invoice' | 'out_refund';
  journalId?: number;
}

export interface OtherPaymentInput {
  memo: string;
  /** Decimal text; defaults to the whole amount due. */
  amount?: string;
  journalId?: number;
  date?: string;
}

export class SandboxModels {
  constructor(readonly registry: Registry) {}

  private env(companyId?: number): Env {
    return this.registry.superEnv(companyId);
  }

  private row(model: string, id: number): Row {
    const row = this.registry.model(model).rows.get(id);
    if (!row) throw new Error(`${model} ${id} does not exist in the Odoo sandbox`);
    return row;
  }

  private invoiceRow(id: number): Row {
    return this.row('account.move', id);
  }

  private companyOf(row: Row): number {
    return typeof row.company_id === 'number' ? row.company_id : 1;
  }

  currencyId(code: string): number {
    const currency = [...this.registry.model('res.currency').rows.values()].find((row) => row.name === code);
    if (!currency) throw new Error(`unknown currency ${code} in the Odoo sandbox`);
    if (currency.active !== true)
      this.registry.update('res.currency', currency, { active: true }, this.env());
    return currency.id;
  }

  /**
   * A res.currency.rate row: on `date`, one unit of the company currency buys `rate` of `code`
   * (Odoo's technical rate), for one company or, without one, all.
   */
  setCurrencyRate(code: string, date: string, rate: number, companyId?: number): number {
    return this.registry.create(this.registry.superEnv(), 'res.currency.rate', {
      name: date,
      rate,
      currency_id: this.currencyId(code),
      company_id: companyId ?? false,
    }).id;
  }

  irModelId(model: string): number {
    return irModelId(this.registry, model);
  }

  createCompany(input: CompanyInput): number {
    const reg = this.registry;
    const env = this.env();
    const partner = reg.create(env, 'res.partner', {
      name: input.name,
      is_company: true,
      email: input.email ?? false,
    });
    const company = reg.create(env, 'res.company', {
      name: input.name,
      currency_id: this.currencyId(input.currency ?? 'USD'),
      partner_id: partner.id,
      email: input.email ?? false,
      sequence: 10,
      active: true,
    });
    if (input.adminAccess !== false) {
      const admin = this.row('res.users', 2);
      reg.update('res.users', admin, { company_ids: [...idList(admin.company_ids), company.id] }, env);
    }
    seedCompanyJournals(reg, company.id, { bank: input.withBankJournals === true });
    return company.id;
  }

  /** A res.users row with its own partner, groups and password (what Settings > Users does). */
  createUser(input: UserInput): number {
    const reg = this.registry;
    const env = this.env();
    const companyIds = input.companyIds && input.companyIds.length > 0 ? [...input.companyIds] : [1];
    const groups = new Set<GroupXmlid>(['base.group_user']);
    for (const name of input.groups) for (const xmlid of USER_GROUP_NAMES[name]) groups.add(xmlid);
    const partner = reg.create(env, 'res.partner', {
      name: input.name,
      email: input.email ?? false,
      company_id: false,
      is_company: false,
    });
    const user = reg.create(env, 'res.users', {
      name: input.name,
      login: input.login,
      partner_id: partner.id,
      company_id: companyIds[0] ?? 1,
      company_ids: companyIds,
      [reg.userGroupsField]: userGroupIds(reg, groups),
      tz: false,
      lang: 'en_US',
    });
    reg.passwords.set(user.id, input.password);
    return user.id;
  }

  /** Sets (or clears, with false) the email of a user's partner, as an admin's res.users write does. */
  /** The companies a user may work in (an admin's Settings → Users → Allowed companies). */
  setUserCompanies(uid: number, companyIds: readonly number[]): void {
    const user = this.row('res.users', uid);
    this.registry.update(
      'res.users',
      user,
      { company_ids: [[6, 0, [...companyIds]]], company_id: companyIds[0] ?? 1 },
      this.env(),
    );
  }

  setUserEmail(uid: number, email: string | false): void {
    const user = this.row('res.users', uid);
    const partner = this.row('res.partner', Number(user.partner_id));
    this.registry.update('res.partner', partner, { email }, this.env());
  }

  /** A manual x_ field, as the admin setup step creates it through ir.model.fields; returns its id. */
  createCustomField(input: CustomFieldInput): number {
    const field = this.registry.create(this.env(), 'ir.model.fields', {
      model_id: this.irModelId(input.model),
      name: input.name,
      field_description: input.label,
      ttype: input.type ?? 'char',
      state: 'manual',
      tracking: input.tracking ? 100 : 0,
    });
    return field.id;
  }

  /** ir.config_parameter value (false when unset). */
  configParam(key: string): string | false {
    return configParam(this.registry, key);
  }

  /** Sets an ir.config_parameter; false removes it. */
  setConfigParam(key: string, value: string | false): void {
    setConfigParam(this.registry, this.env(), key, value);
  }

  /** The id of a view by external id, e.g. 'account.view_move_form'. */
  viewId(xmlid: string): number {
    const id = viewOfXmlid(this.registry, xmlid);
    if (id === undefined) throw new Error(`no view ${xmlid} in the Odoo sandbox`);
    return id;
  }

  createJournal(input: JournalInput): number {
    const companyId = input.companyId ?? 1;
    const journal = this.registry.create(this.env(companyId), 'account.journal', {
      name: input.name,
      type: input.type,
      code: input.code,
      company_id: companyId,
      currency_id: input.currency ? this.currencyId(input.currency) : false,
      sequence: input.type === 'sale' ? 5 : 10,
    });
    return journal.id;
  }

  createPartner(input: PartnerInput): number {
    const partner = this.registry.create(this.env(), 'res.partner', {
      name: input.name,
      email: input.email ?? false,
      lang: input.lang ?? false,
      phone: input.phone ?? false,
      company_id: input.companyId ?? false,
      is_company: input.isCompany ?? false,
    });
    return partner.id;
  }

  /** A partner tag (res.partner.category), returning its id. */
  createPartnerCategory(name: string): number {
    return this.registry.create(this.env(), 'res.partner.category', { name }).id;
  }

  /** Puts a tag on a partner, as a user would on the contact form. */
  tagPartner(partnerId: number, categoryId: number): void {
    this.registry.update(
      'res.partner',
      this.row('res.partner', partnerId),
      { category_id: [[4, categoryId, 0]] },
      this.registry.superEnv(),
    );
  }

  createInvoice(input: InvoiceInput): number {
    const reg = this.registry;
    const companyId = input.companyId ?? 1;
    const env = this.env(companyId);
    const company = this.row('res.company', companyId);
    const currencyId = input.currency ? this.currencyId(input.currency) : Number(company.currency_id);
    const amount = toFloat(
      reg,
      currencyId,
      parseDecimalToMinor(input.amount, reg.currencyDecimals(currencyId)),
    );
    const vals: Vals = {
      move_type: input.moveType ?? 'out_invoice',
      partner_id: input.partnerId,
      company_id: companyId,
      currency_id: currencyId,
      invoice_date: input.date ?? false,
      invoice_date_due: input.dueDate ?? false,
      ref: input.ref ?? false,
      invoice_line_ids: [[0, 0, { name: input.ref ?? 'Services', quantity: 1, price_unit: amount }]],
    };
    if (input.journalId !== undefined) vals.journal_id = input.journalId;
    const move = reg.create(env, 'account.move', vals);
    if (input.post !== false) postMove(reg, env, move);
    return move.id;
  }

  postInvoice(id: number): void {
    const move = this.invoiceRow(id);
    postMove(this.registry, this.env(this.companyOf(move)), move);
  }

  cancelInvoice(id: number): void {
    const move = this.invoiceRow(id);
    cancelMove(this.registry, this.env(this.companyOf(move)), move);
  }

  resetToDraft(id: number): void {
    const move = this.invoiceRow(id);
    resetMoveToDraft(this.registry, this.env(this.companyOf(move)), move);
  }

  /** Changes the total of a draft invoice (Odoo refuses it on a posted one, so do we). */
  setAmount(id: number, amount: string): void {
    const move = this.invoiceRow(id);
    if (move.state !== 'draft')
      throw new Error(`invoice ${id} is ${String(move.state)}: reset it to draft before changing its amount`);
    const reg = this.registry;
    const value = toFloat(
      reg,
      move.currency_id,
      parseDecimalToMinor(amount, reg.currencyDecimals(move.currency_id)),
    );
    setDraftAmount(reg, this.env(this.companyOf(move)), move, value);
  }

  /** A posted credit note for the whole invoice, reconciled with it: the invoice becomes 'reversed'. */
  reverseInvoice(id: number): number {
    const reg = this.registry;
    const move = this.invoiceRow(id);
    const env = this.env(this.companyOf(move));
    if (move.state !== 'posted')
      throw new Error(`invoice ${id} is ${String(move.state)}: only posted invoices can be reversed`);
    const creditNote = createCreditNote(reg, env, move, {});
    postMove(reg, env, creditNote);
    const line = receivableLine(reg, creditNote);
    const due = Math.min(
      toMinor(reg, move.currency_id, move.amount_residual),
      toMinor(reg, creditNote.currency_id, creditNote.amount_residual),
    );
    if (line && due > 0) {
      reconcile(reg, env, move, line, due);
      const residual = toMinor(reg, creditNote.currency_id, creditNote.amount_residual) - due;
      reg.update(
        'account.move',
        creditNote,
        { amount_residual: toFloat(reg, creditNote.currency_id, residual) },
        env,
      );
      reg.update('account.move', creditNote, { payment_state: residual === 0 ? 'paid' : 'partial' }, env);
    }
    return creditNote.id;
  }

  /** Registers a payment as a person in Odoo would (the register-payment wizard), with another memo. */
  payByOtherMeans(id: number, input: OtherPaymentInput): number {
    const reg = this.registry;
    const move = this.invoiceRow(id);
    const companyId = this.companyOf(move);
    const env = this.env(companyId);
    const [invoice] = payableInvoices(reg, env, [id]);
    if (!invoice) throw new Error(`invoice ${id} has nothing left to pay`);
    const journalId =
      input.journalId ??
      [...reg.model('account.journal').rows.values()].find(
        (journal) => journal.company_id === companyId && journal.type === 'bank',
      )?.id;
    if (journalId === undefined) throw new Error(`company ${companyId} has no bank journal: pass journalId`);
    const amountMinor =
      input.amount === undefined
        ? toMinor(reg, invoice.currency_id, invoice.amount_residual)
        : parseDecimalToMinor(input.amount, reg.currencyDecimals(invoice.currency_id));
    const payment = registerPayment(reg, env, {
      journalId,
      amountMinor,
      date: input.date ?? reg.today(),
      memo: input.memo,
      invoices: [invoice],
      handling: 'open',
    });
    return payment.id;
  }

  /** Writes fields directly as superuser (e.g. payment_state 'blocked'), bumping write_date. */
  writeInvoice(id: number, vals: Vals): void {
    const move = this.invoiceRow(id);
    this.registry.update('account.move', move, vals, this.env(this.companyOf(move)));
  }

  getInvoice(id: number): SandboxInvoice {
    return this.toInvoice(this.invoiceRow(id));
  }

  invoices(): SandboxInvoice[] {
    return [...this.registry.model('account.move').rows.values()]
      .filter((row) => row.move_type === 'out_invoice' || row.move_type === 'out_refund')
      .map((row) => this.toInvoice(row));
  }

  /** Whether a model has the field now (custom fields appear when setup creates them). */
  hasField(model: string, field: string): boolean {
    return this.registry.model(model).fields.has(field);
  }

  invoiceFieldValue(id: number, field: string): Json {
    const move = this.invoiceRow(id);
    if (!this.registry.model('account.move').fields.has(field)) {
      throw new Error(`account.move has no field ${field} in the Odoo sandbox`);
    }
    return move[field] ?? false;
  }

  payments(): SandboxPayment[] {
    return [...this.registry.model('account.payment').rows.values()].map((row) => this.toPayment(row));
  }

  paymentsByMemo(memo: string): SandboxPayment[] {
    return paymentsWithMemo(this.registry, memo).map((row) => this.toPayment(row));
  }

  messages(invoiceId: number): SandboxMessage[] {
    const reg = this.registry;
    return messagesOf(this.registry, 'account.move', invoiceId).map((row) => ({
      id: row.id,
      body: typeof row.body === 'string' ? row.body : '',
      message_type: String(row.message_type),
      subtype:
        typeof row.subtype_id === 'number'
          ? (reg.xmlidOf('mail.message.subtype', row.subtype_id) ?? false)
          : false,
      model: String(row.model),
      res_id: Number(row.res_id),
      author_id: typeof row.author_id === 'number' ? row.author_id : false,
      email_from: typeof row.email_from === 'string' ? row.email_from : false,
      date: String(row.date),
      message_id: String(row.message_id),
    }));
  }

  seedDemo(options?: DemoSeedOptions): DemoSeed {
    return seedDemo(this.registry, this, options);
  }

  private currencyCode(id: Json | undefined): string {
    return typeof id === 'number' ? this.registry.displayName('res.currency', id) : '';
  }

  private toInvoice(row: Row): SandboxInvoice {
    const custom: { [field: string]: Json } = {};
    for (const name of customFieldNames(this.registry, 'account.move')) custom[name] = row[name] ?? false;
    const text = (value: Json | undefined): string | false => (typeof value === 'string' ? value : false);
    return {
      id: row.id,
      // A draft has no number (Odoo reads False); helpers show '/' as Odoo's UI did.
      name: typeof row.name === 'string' && row.name ? row.name : '/',
      move_type: String(row.move_type),
      state: row.state as SandboxInvoice['state'],
      payment_state: String(row.payment_state),
      partner_id: typeof row.partner_id === 'number' ? row.partner_id : false,
      company_id: Number(row.company_id),
      journal_id: Number(row.journal_id),
      currency_id: Number(row.currency_id),
      currency: this.currencyCode(row.currency_id),
      amount_total: Number(row.amount_total),
      amount_residual: Number(row.amount_residual),
      invoice_date: text(row.invoice_date),
      invoice_date_due: text(row.invoice_date_due),
      date: text(row.date),
      ref: text(row.ref),
      payment_reference: text(row.payment_reference),
      reversed_entry_id: typeof row.reversed_entry_id === 'number' ? row.reversed_entry_id : false,
      matched_payment_ids: idList(row.matched_payment_ids),
      create_date: String(row.create_date),
      write_date: String(row.write_date),
      custom,
    };
  }

  private referenceOf(row: Row): string | false {
    const reference = row[this.registry.traits.paymentReferenceField];
    return typeof reference === 'string' ? reference : false;
  }

  private toPayment(row: Row): SandboxPayment {
    return {
      id: row.id,
      name: String(row.name),
      amount: Number(row.amount),
      currency_id: Number(row.currency_id),
      currency: this.currencyCode(row.currency_id),
      journal_id: Number(row.journal_id),
      partner_id: typeof row.partner_id === 'number' ? row.partner_id : false,
      company_id: Number(row.company_id),
      date: String(row.date),
      state: String(row.state),
      payment_type: String(row.payment_type),
      // The payment's reference, whichever field the version keeps it in (memo, or ref up to 17.0).
      memo: this.referenceOf(row),
      invoice_ids: this.registry.traits.hasInvoiceIds
        ? idList(row.invoice_ids)
        : reconciledInvoiceIds(this.registry, row.move_id),
      reconciled_invoice_ids: reconciledInvoiceIds(this.registry, row.move_id),
      move_id: typeof row.move_id === 'number' ? row.move_id : false,
    };
  }
}
