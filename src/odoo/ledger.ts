import { z } from 'zod';
import type { Invoice } from '../domain/invoice.js';
import { type Money, minorFromOdooFloat, money, odooFloatFromMinor } from '../domain/money.js';
import { decimalTextOf, divideDecimalText } from '../domain/rate.js';
import {
  type CompanyContact,
  type InvoiceCursor,
  type InvoiceLedger,
  type LedgerPayment,
  type LinkOnInvoice,
  SenderEmailMissingError,
  type StatusOnInvoice,
} from '../pipeline/ports.js';
import type { Domain, OdooClient } from './client.js';
import { isOdooError, OdooError } from './errors.js';
import {
  type CurrencyRecord,
  companyRecord,
  currencyRecord,
  INVOICE_FIELDS,
  type InvoiceRecord,
  invoiceRecord,
  LINK_FIELDS,
  many2one,
  optionalText,
  type PartnerRecord,
  partnerRecord,
} from './records.js';

const companyContactRecord = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  email: optionalText,
  website: optionalText,
  partner_id: many2one,
});
const partnerTzRecord = z.object({ id: z.number().int().positive(), tz: optionalText, lang: optionalText });
/** States of an account.payment that no longer pays anything (names differ across versions). */
const VOID_PAYMENT_STATES = new Set(['cancel', 'canceled', 'cancelled', 'rejected']);

interface PaymentFields {
  /** `memo` since 18.0, `ref` before. */
  readonly memo: 'memo' | 'ref';
  /** `invoice_ids` (stored, searchable) since 18.0; `reconciled_invoice_ids` (read only) before. */
  readonly invoices: 'invoice_ids' | 'reconciled_invoice_ids';
}
const OPEN_PAYMENT_STATES = ['not_paid', 'partial'];
const actionSchema = z.object({ res_id: z.number().int().positive().optional() }).loose();
const fieldsGetSchema = z.record(z.string(), z.object({ type: z.string() }).loose());

/** Odoo's account.move / account.payment side of the pipeline, over any OdooClient. */
export class OdooLedger implements InvoiceLedger {
  private readonly currencies = new Map<number, CurrencyRecord>();
  private readonly contacts = new Map<number, Promise<CompanyContact>>();
  private paymentFieldNames: Promise<PaymentFields> | undefined;
  private readonly invoiceFields: readonly string[];

  constructor(
    private readonly odoo: OdooClient,
    options: { linkFields: boolean } = { linkFields: true },
  ) {
    this.invoiceFields = options.linkFields ? [...INVOICE_FIELDS, ...LINK_FIELDS] : [...INVOICE_FIELDS];
  }

  async changedInvoices(companyId: number, after: InvoiceCursor, limit: number): Promise<Invoice[]> {
    const domain: Domain = [
      ['move_type', '=', 'out_invoice'],
      ['company_id', '=', companyId],
      '|',
      ['write_date', '>', after.writeDate],
      '&',
      ['write_date', '=', after.writeDate],
      ['id', '>', after.id],
    ];
    return this.search(companyId, domain, limit, 'write_date asc, id asc');
  }

  async latestChange(companyId: number): Promise<InvoiceCursor | null> {
    const schema = z.object({ id: z.number().int().positive(), write_date: z.string() });
    const [latest] = await this.odoo.searchRead(
      'account.move',
      [
        ['move_type', '=', 'out_invoice'],
        ['company_id', '=', companyId],
      ],
      schema,
      { fields: ['write_date'], limit: 1, order: 'write_date desc, id desc', companyIds: [companyId] },
    );
    return latest ? { writeDate: latest.write_date, id: latest.id } : null;
  }

  async oldestLinkedInvoiceDate(companyIds: readonly number[]): Promise<string | null> {
    const schema = z.object({ id: z.number().int().positive(), invoice_date: optionalText });
    const [oldest] = await this.odoo.searchRead(
      'account.move',
      [
        ['move_type', '=', 'out_invoice'],
        ['company_id', 'in', [...companyIds]],
        ['x_paylink_last_sequence', '>', 0],
        ['invoice_date', '!=', false],
      ],
      schema,
      { fields: ['invoice_date'], limit: 1, order: 'invoice_date asc, id asc', companyIds },
    );
    return oldest?.invoice_date ?? null;
  }

  async partnerTagIds(
    names: readonly string[],
    companyIds: readonly number[],
  ): Promise<Map<string, number[]>> {
    const schema = z.object({ id: z.number().int().positive(), name: z.string() });
    const tags = await this.odoo.searchRead('res.partner.category', [['name', 'in', [...names]]], schema, {
      fields: ['name'],
      companyIds,
    });
    const byName = new Map<string, number[]>();
    for (const tag of tags) byName.set(tag.name, [...(byName.get(tag.name) ?? []), tag.id]);
    return byName;
  }

  async openInvoices(companyId: number, afterId: number, limit: number): Promise<Invoice[]> {
    const domain: Domain = [
      ['move_type', '=', 'out_invoice'],
      ['state', '=', 'posted'],
      ['payment_state', 'in', OPEN_PAYMENT_STATES],
      ['company_id', '=', companyId],
      ['id', '>', afterId],
    ];
    return this.search(companyId, domain, limit, 'id asc');
  }

  async linkedInvoices(companyId: number, afterId: number, limit: number): Promise<Invoice[]> {
    const domain: Domain = [
      ['move_type', '=', 'out_invoice'],
      '|',
      ['x_paylink_id', '!=', false],
      ['x_mytpe_link_id', '!=', false],
      ['company_id', '=', companyId],
      ['id', '>', afterId],
    ];
    return this.search(companyId, domain, limit, 'id asc');
  }

  async invoicesByIds(companyId: number, ids: readonly number[]): Promise<Invoice[]> {
    if (ids.length === 0) return [];
    return this.search(companyId, [['id', 'in', [...ids]]], ids.length, 'id asc');
  }

  async writeLink(
    invoice: { id: number; companyId: number },
    link: LinkOnInvoice,
    status?: StatusOnInvoice,
  ): Promise<void> {
    await this.odoo.write(
      'account.move',
      [invoice.id],
      {
        // The pair the MyTPE integration was asked for stays MyTPE's own.
        ...(link.gateway === 'mytpe' ? { x_mytpe_link_id: link.id, x_mytpe_payment_link: link.url } : {}),
        x_paylink_gateway: link.gateway,
        x_paylink_id: link.id,
        x_paylink_url: link.payAddress ?? link.url,
        x_paylink_last_sequence: link.sequence,
        ...(link.emailedAt ? { x_paylink_emailed_at: link.emailedAt } : {}),
        ...(status ? statusValues(status) : {}),
      },
      { companyIds: [invoice.companyId] },
    );
  }

  async writeStatus(invoice: { id: number; companyId: number }, status: StatusOnInvoice): Promise<void> {
    await this.odoo.write('account.move', [invoice.id], statusValues(status), {
      companyIds: [invoice.companyId],
    });
  }

  async clearRequest(invoice: { id: number; companyId: number }, options: { stop: boolean }): Promise<void> {
    await this.odoo.write(
      'account.move',
      [invoice.id],
      { x_paylink_request: false, ...(options.stop ? { x_paylink_skip: true } : {}) },
      { companyIds: [invoice.companyId] },
    );
  }

  async findActivities(invoice: { id: number; companyId: number }, summary: string): Promise<number[]> {
    const found = await this.odoo.searchRead(
      'mail.activity',
      [
        ['res_model', '=', 'account.move'],
        ['res_id', '=', invoice.id],
        ['summary', '=', summary],
      ],
      z.object({ id: z.number().int().positive() }),
      { fields: ['id'], companyIds: [invoice.companyId] },
    );
    return found.map((activity) => activity.id);
  }

  async scheduleActivity(
    invoice: { id: number; companyId: number },
    activity: { summary: string; note: string; userId: number | null },
  ): Promise<number> {
    // default_res_model lets mail.activity find account.move's ir.model itself, which a
    // Billing user may not read (captures 53b); no activity type: Odoo's default is To-Do.
    return this.odoo.create(
      'mail.activity',
      {
        res_id: invoice.id,
        summary: activity.summary,
        note: activity.note,
        ...(activity.userId !== null ? { user_id: activity.userId } : {}),
      },
      { companyIds: [invoice.companyId], context: { default_res_model: 'account.move' } },
    );
  }

  async finishActivity(companyId: number, activityId: number, feedback: string): Promise<void> {
    try {
      await this.odoo.call('mail.activity', 'action_feedback', [[activityId]], z.unknown(), {
        companyIds: [companyId],
        kwargs: { feedback },
      });
    } catch (error) {
      // Done (or deleted) by a person already: nothing left to close.
      if (isOdooError(error, 'missing')) return;
      throw error;
    }
  }

  async currencyRate(
    companyId: number,
    from: string,
    to: string,
    date: string,
  ): Promise<{ rate: string; date: string | null } | undefined> {
    const [company] = await this.odoo.read('res.company', [companyId], companyRecord, {
      fields: ['name', 'currency_id'],
      companyIds: [companyId],
    });
    const companyCurrency = company?.currency_id ? company.currency_id[1] : undefined;
    const rateSchema = z.object({ id: z.number().int(), name: z.string(), rate: z.number() });
    // Odoo's rates say how much of a currency one unit of the company currency buys (that one is 1).
    const unitsPerCompanyUnit = async (code: string) => {
      if (code === companyCurrency) return { rate: '1', date: null };
      const [latest] = await this.odoo.searchRead(
        'res.currency.rate',
        [
          ['currency_id.name', '=', code],
          ['name', '<=', date],
          ['company_id', 'in', [companyId, false]],
        ],
        rateSchema,
        { fields: ['name', 'rate'], limit: 1, order: 'name desc, company_id', companyIds: [companyId] },
      );
      const text = latest ? decimalTextOf(latest.rate) : undefined;
      return text && latest ? { rate: text, date: latest.name } : undefined;
    };
    const [fromRate, toRate] = [await unitsPerCompanyUnit(from), await unitsPerCompanyUnit(to)];
    if (!fromRate || !toRate) return undefined;
    const dates = [fromRate.date, toRate.date].filter((day): day is string => day !== null).sort();
    return { rate: divideDecimalText(toRate.rate, fromRate.rate), date: dates.at(-1) ?? date };
  }

  async recordReminder(
    invoice: { id: number; companyId: number },
    reminder: { emailedAt: string; remindersSent: number },
  ): Promise<void> {
    await this.odoo.write(
      'account.move',
      [invoice.id],
      { x_paylink_emailed_at: reminder.emailedAt, x_paylink_reminders_sent: reminder.remindersSent },
      { companyIds: [invoice.companyId] },
    );
  }

  async companyContact(companyId: number): Promise<CompanyContact> {
    let contact = this.contacts.get(companyId);
    if (!contact) {
      contact = this.odoo
        .read('res.company', [companyId], companyContactRecord, {
          fields: ['name', 'email', 'website', 'partner_id'],
          companyIds: [companyId],
        })
        .then(async ([company]) => {
          if (!company) throw new OdooError('missing', `company ${companyId} not found in Odoo`);
          const [partner] = company.partner_id
            ? await this.odoo.read('res.partner', [company.partner_id[0]], partnerTzRecord, {
                fields: ['tz', 'lang'],
                companyIds: [companyId],
              })
            : [];
          return {
            id: company.id,
            name: company.name,
            email: company.email,
            website: company.website,
            timezone: partner?.tz ?? null,
            lang: partner?.lang ?? null,
          };
        });
      contact.catch(() => this.contacts.delete(companyId));
      this.contacts.set(companyId, contact);
    }
    return contact;
  }

  async clearLink(invoice: { id: number; companyId: number }, link: { sequence: number }): Promise<void> {
    try {
      await this.odoo.write(
        'account.move',
        [invoice.id],
        {
          x_mytpe_link_id: false,
          x_mytpe_payment_link: false,
          x_paylink_id: false,
          x_paylink_url: false,
          x_paylink_last_sequence: link.sequence,
        },
        { companyIds: [invoice.companyId] },
      );
    } catch (error) {
      // A deleted invoice has no fields to clear.
      if (!isOdooError(error, 'missing')) throw error;
    }
  }

  async paymentsByMemo(companyId: number, memos: readonly string[]): Promise<LedgerPayment[]> {
    const fields = await this.paymentFields(companyId);
    const text = z.union([z.string(), z.literal(false)]).optional();
    const ids = z.array(z.number().int()).optional();
    const schema = z.object({
      id: z.number().int(),
      amount: z.number(),
      currency_id: z.tuple([z.number(), z.string()]),
      partner_id: many2one,
      journal_id: many2one,
      state: z.union([z.string(), z.literal(false)]),
      memo: text,
      ref: text,
      invoice_ids: ids,
      reconciled_invoice_ids: ids,
    });
    const payments: LedgerPayment[] = [];
    for (let index = 0; index < memos.length; index += 200) {
      const batch = memos.slice(index, index + 200);
      const found = await this.odoo.searchRead('account.payment', [[fields.memo, 'in', batch]], schema, {
        fields: ['amount', 'currency_id', 'partner_id', 'journal_id', 'state', fields.memo, fields.invoices],
        order: 'id asc',
        companyIds: [companyId],
      });
      for (const payment of found) {
        const memo = payment[fields.memo];
        const state = typeof payment.state === 'string' ? payment.state : 'draft';
        if (typeof memo !== 'string' || VOID_PAYMENT_STATES.has(state)) continue;
        const currency = await this.currency(companyId, payment.currency_id[0]);
        payments.push({
          id: payment.id,
          memo,
          state,
          amount: money(
            minorFromOdooFloat(payment.amount, currency.decimal_places),
            currency.name,
            currency.decimal_places,
          ),
          partnerId: payment.partner_id ? payment.partner_id[0] : null,
          journalId: payment.journal_id ? payment.journal_id[0] : null,
          invoiceIds: payment[fields.invoices] ?? [],
        });
      }
    }
    return payments;
  }

  async registerPayment(
    invoice: { id: number; companyId: number },
    payment: { journalId: number; amount: Money; date: string; memo: string },
  ): Promise<number> {
    const options = {
      companyIds: [invoice.companyId],
      context: { active_model: 'account.move', active_ids: [invoice.id] },
    };
    const wizardId = await this.odoo.create(
      'account.payment.register',
      {
        journal_id: payment.journalId,
        amount: odooFloatFromMinor(payment.amount.minor, payment.amount.decimals),
        payment_date: payment.date,
        communication: payment.memo,
      },
      options,
    );
    const action = await this.odoo.call(
      'account.payment.register',
      'action_create_payments',
      [[wizardId]],
      actionSchema,
      options,
    );
    if (action.res_id !== undefined) return action.res_id;
    const created = (await this.paymentsByMemo(invoice.companyId, [payment.memo])).find((candidate) =>
      candidate.invoiceIds.includes(invoice.id),
    );
    if (!created) throw new OdooError('protocol', `Odoo registered no payment with memo ${payment.memo}`);
    return created.id;
  }

  /**
   * Posts a note whose Message-Id is `messageId`: Odoo keeps a Message-Id given to message_post
   * and shows nothing of it, so a retry finds the note it already posted without a visible marker.
   */
  async postNote(
    invoice: { id: number; companyId: number },
    html: string,
    messageId: string,
    check: { checkFirst: boolean },
  ): Promise<'posted' | 'already_posted'> {
    const options = { companyIds: [invoice.companyId] };
    if (check.checkFirst) {
      const existing = await this.odoo.searchCount(
        'mail.message',
        [
          ['model', '=', 'account.move'],
          ['res_id', '=', invoice.id],
          ['message_id', '=', messageId],
        ],
        options,
      );
      if (existing > 0) return 'already_posted';
    }
    try {
      // body_is_html (Odoo 17+): a plain str body would be escaped and show its tags.
      await this.odoo.call('account.move', 'message_post', [[invoice.id]], z.unknown(), {
        ...options,
        kwargs: {
          body: html,
          body_is_html: true,
          message_type: 'comment',
          subtype_xmlid: 'mail.mt_note',
          message_id: messageId,
        },
      });
    } catch (error) {
      // Odoo 16–18 (captures 51): the author of a message needs an email address.
      if (isOdooError(error, 'user') && /configure the sender's email address/i.test(error.message))
        throw new SenderEmailMissingError(error.message, { cause: error });
      throw error;
    }
    return 'posted';
  }

  /** Field names of account.payment that moved in 18.0, asked once with fields_get. */
  private paymentFields(companyId: number): Promise<PaymentFields> {
    this.paymentFieldNames ??= this.odoo
      .call('account.payment', 'fields_get', [], fieldsGetSchema, {
        companyIds: [companyId],
        kwargs: { attributes: ['type'] },
      })
      .then(
        (fields): PaymentFields => ({
          memo: 'memo' in fields ? 'memo' : 'ref',
          invoices: 'invoice_ids' in fields ? 'invoice_ids' : 'reconciled_invoice_ids',
        }),
      )
      .catch((error: unknown) => {
        this.paymentFieldNames = undefined;
        throw error;
      });
    return this.paymentFieldNames;
  }

  private async search(companyId: number, domain: Domain, limit: number, order: string): Promise<Invoice[]> {
    const records = await this.odoo.searchRead('account.move', domain, invoiceRecord, {
      fields: this.invoiceFields,
      limit,
      order,
      companyIds: [companyId],
    });
    const partners = await this.partners(companyId, records);
    const invoices: Invoice[] = [];
    for (const record of records) invoices.push(await this.toInvoice(companyId, record, partners));
    return invoices;
  }

  private async partners(
    companyId: number,
    records: readonly InvoiceRecord[],
  ): Promise<Map<number, PartnerRecord>> {
    const ids = [...new Set(records.flatMap((record) => (record.partner_id ? [record.partner_id[0]] : [])))];
    const partners = await this.odoo.read('res.partner', ids, partnerRecord, {
      fields: ['name', 'email', 'lang', 'category_id'],
      companyIds: [companyId],
    });
    return new Map(partners.map((partner) => [partner.id, partner]));
  }

  private async currency(companyId: number, currencyId: number): Promise<CurrencyRecord> {
    const cached = this.currencies.get(currencyId);
    if (cached) return cached;
    const [currency] = await this.odoo.read('res.currency', [currencyId], currencyRecord, {
      fields: ['name', 'decimal_places'],
      companyIds: [companyId],
    });
    if (!currency) throw new OdooError('missing', `currency ${currencyId} not found in Odoo`);
    this.currencies.set(currencyId, currency);
    return currency;
  }

  private async toInvoice(
    companyId: number,
    record: InvoiceRecord,
    partners: Map<number, PartnerRecord>,
  ): Promise<Invoice> {
    if (!record.currency_id) throw new OdooError('protocol', `invoice ${record.id} has no currency`);
    const currency = await this.currency(companyId, record.currency_id[0]);
    const amount = (value: number) =>
      money(minorFromOdooFloat(value, currency.decimal_places), currency.name, currency.decimal_places);
    const partner = record.partner_id ? partners.get(record.partner_id[0]) : undefined;
    return {
      id: record.id,
      name: record.name,
      moveType: record.move_type,
      state: record.state,
      paymentState: record.payment_state,
      companyId: record.company_id ? record.company_id[0] : companyId,
      companyName: record.company_id ? record.company_id[1] : '',
      commercialPartnerId: record.commercial_partner_id
        ? record.commercial_partner_id[0]
        : record.partner_id
          ? record.partner_id[0]
          : null,
      partner: partner
        ? {
            id: partner.id,
            name: partner.name,
            email: partner.email,
            lang: partner.lang,
            categoryIds: partner.category_id ?? [],
          }
        : record.partner_id
          ? { id: record.partner_id[0], name: record.partner_id[1], email: null, lang: null, categoryIds: [] }
          : null,
      total: amount(record.amount_total),
      residual: amount(record.amount_residual),
      invoiceDate: record.invoice_date,
      dueDate: record.invoice_date_due,
      writeDate: record.write_date,
      ...linkOnRecord(record),
      lastSequence: typeof record.x_paylink_last_sequence === 'number' ? record.x_paylink_last_sequence : 0,
      emailedAt: record.x_paylink_emailed_at ?? null,
      remindersSent:
        typeof record.x_paylink_reminders_sent === 'number' ? record.x_paylink_reminders_sent : 0,
      skip: record.x_paylink_skip === true,
      request: record.x_paylink_request ?? null,
      responsibleUserId: record.invoice_user_id ? record.invoice_user_id[0] : null,
    };
  }
}

function statusValues(status: StatusOnInvoice): Record<string, unknown> {
  return {
    x_paylink_state: status.words,
    x_paylink_attention: status.attention,
    x_paylink_state_at: status.changedAt,
  };
}

/**
 * The link an invoice carries. MyTPE's own pair is the one its merchants were asked for (and may
 * edit): it wins for a MyTPE link; the generic fields hold every other gateway's.
 */
function linkOnRecord(record: InvoiceRecord): Pick<Invoice, 'linkGateway' | 'linkId' | 'linkUrl'> {
  const gateway = record.x_paylink_gateway ?? null;
  if (record.x_mytpe_link_id && (gateway === null || gateway === 'mytpe')) {
    return {
      linkGateway: 'mytpe',
      linkId: record.x_mytpe_link_id,
      linkUrl: record.x_mytpe_payment_link ?? record.x_paylink_url ?? null,
    };
  }
  return {
    linkGateway: record.x_paylink_id ? gateway : null,
    linkId: record.x_paylink_id ?? null,
    linkUrl: record.x_paylink_id ? (record.x_paylink_url ?? null) : null,
  };
}
