import { z } from 'zod';
import type { Logger } from '../log.js';
import type { OdooClient } from './client.js';
import { isOdooError, OdooError } from './errors.js';
import { many2one } from './records.js';

/**
 * What the daemon needs in Odoo before it may make a link: its fields on account.move, the
 * database's identity (for the reference prefix) and, per company, a journal payments can land on.
 * Creating fields and reading the identity need an administrator; a Billing-rights bot can only
 * check (fields_get works for it, ir.model and ir.config_parameter do not).
 */

/** The custom fields on account.move, created as manual x_ fields by `setup-odoo`. */
export const LINK_FIELD_DEFINITIONS = [
  { name: 'x_mytpe_link_id', ttype: 'char', description: 'MyTPE Pay link id' },
  { name: 'x_mytpe_payment_link', ttype: 'char', description: 'MyTPE Pay payment link' },
  // The same for every gateway, so an accountant reads one set of fields whatever the company's.
  { name: 'x_paylink_gateway', ttype: 'char', description: 'Online payment: gateway' },
  { name: 'x_paylink_id', ttype: 'char', description: 'Online payment: link id at the gateway' },
  { name: 'x_paylink_url', ttype: 'char', description: 'Online payment: pay address' },
  // The last link number used for the invoice: a reference is never used twice, even after the
  // daemon lost its state file and a gateway freed a deleted link's reference.
  { name: 'x_paylink_last_sequence', ttype: 'integer', description: 'Online payment: last link number' },
  // When the customer was (or is being) emailed the pay link: a daemon with a lost or new state
  // file never emails that customer again by itself.
  { name: 'x_paylink_emailed_at', ttype: 'datetime', description: 'Online payment: customer emailed' },
  // How many reminders the customer got: a lost state file never restarts the reminder count.
  { name: 'x_paylink_reminders_sent', ttype: 'integer', description: 'Online payment: reminders sent' },
  // Set by an accountant: this invoice gets no payment link and no email from the daemon.
  { name: 'x_paylink_skip', ttype: 'boolean', description: 'Online payment: do not send' },
  // What the invoice form shows: the link's state in the accountant's words, whether it needs a
  // person (the list filter), and when it last changed.
  { name: 'x_paylink_state', ttype: 'char', description: 'Online payment: state' },
  { name: 'x_paylink_attention', ttype: 'boolean', description: 'Online payment: needs attention' },
  { name: 'x_paylink_state_at', ttype: 'datetime', description: 'Online payment: last change' },
  // Set by the invoice's server actions (resend, new_link, stop); the daemon acts and clears it.
  { name: 'x_paylink_request', ttype: 'char', description: 'Online payment: request' },
] as const;

export type LinkFieldName = (typeof LINK_FIELD_DEFINITIONS)[number]['name'];

const fieldsGetSchema = z.record(z.string(), z.object({ type: z.string() }).loose());
const modelSchema = z.object({ id: z.number().int().positive() });

/** The link fields account.move lacks, asked with fields_get (which a Billing user may call). */
export async function missingLinkFields(
  odoo: OdooClient,
  companyIds: readonly number[],
): Promise<LinkFieldName[]> {
  const fields = await odoo.call('account.move', 'fields_get', [], fieldsGetSchema, {
    companyIds,
    kwargs: { attributes: ['type'] },
  });
  return LINK_FIELD_DEFINITIONS.filter((field) => !(field.name in fields)).map((field) => field.name);
}

/**
 * Creates the missing link fields (needs Administration / Access Rights). A field that another
 * process created meanwhile ("Field names must be unique per model") counts as created.
 */
export async function createLinkFields(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; log: Logger },
): Promise<{ created: LinkFieldName[] }> {
  const call = { companyIds: options.companyIds };
  const missing = new Set(await missingLinkFields(odoo, options.companyIds));
  if (missing.size === 0) return { created: [] };
  const [model] = await odoo.searchRead('ir.model', [['model', '=', 'account.move']], modelSchema, {
    ...call,
    fields: ['id'],
    limit: 1,
  });
  if (!model)
    throw new OdooError('unknown_model', 'Odoo has no account.move model: is the Invoicing app installed?');
  const created: LinkFieldName[] = [];
  for (const field of LINK_FIELD_DEFINITIONS) {
    if (!missing.has(field.name)) continue;
    try {
      await odoo.create(
        'ir.model.fields',
        {
          model_id: model.id,
          name: field.name,
          field_description: field.description,
          ttype: field.ttype,
          state: 'manual',
          // A duplicated invoice must not inherit the original's payment link.
          copied: false,
        },
        call,
      );
      created.push(field.name);
      options.log.info('created custom field on account.move', { field: field.name });
    } catch (error) {
      if (!isDuplicateField(error)) throw error;
      options.log.info('custom field on account.move was created by another process meanwhile', {
        field: field.name,
      });
    }
  }
  return { created };
}

function isDuplicateField(error: unknown): boolean {
  return (
    isOdooError(error) &&
    (error.kind === 'validation' || error.kind === 'user') &&
    /unique per model/i.test(error.message)
  );
}

/** The database's own identity, from ir.config_parameter (Administration / Settings only). */
export interface DatabaseIdentity {
  readonly uuid: string;
  /** Odoo sets database.is_neutralized on a staging copy (mails, crons and payments disarmed). */
  readonly neutralized: boolean;
}

const paramSchema = z.union([z.string(), z.literal(false)]);

export async function readDatabaseIdentity(
  odoo: OdooClient,
  companyIds: readonly number[],
): Promise<DatabaseIdentity> {
  const param = (key: string) =>
    odoo.call('ir.config_parameter', 'get_param', [key], paramSchema, { companyIds });
  const uuid = await param('database.uuid');
  if (uuid === false || uuid === '') throw new OdooError('protocol', 'Odoo has no database.uuid parameter');
  const neutralized = await param('database.is_neutralized');
  return { uuid, neutralized: neutralized !== false && neutralized.toLowerCase() === 'true' };
}

const journalSchema = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  type: z.string(),
  company_id: many2one,
  currency_id: many2one,
  active: z.boolean().optional(),
  inbound_payment_method_line_ids: z.array(z.number().int()).optional(),
});

/**
 * Why payments cannot be registered on the journal for these currencies, or an empty list. Checked
 * before any link is made: a wrong journal found only when a customer has paid is too late.
 */
export async function journalProblems(
  odoo: OdooClient,
  company: { companyId: number; journalId: number; currencies: readonly string[] },
): Promise<string[]> {
  let journal: z.infer<typeof journalSchema> | undefined;
  try {
    [journal] = await odoo.searchRead('account.journal', [['id', '=', company.journalId]], journalSchema, {
      fields: ['name', 'type', 'company_id', 'currency_id', 'active', 'inbound_payment_method_line_ids'],
      companyIds: [company.companyId],
      context: { active_test: false },
    });
  } catch (error) {
    if (isOdooError(error, 'access'))
      return [`journal ${company.journalId} cannot be read: ${error.message}`];
    throw error;
  }
  const where = `journal ${company.journalId}`;
  if (!journal)
    return [`${where} does not exist in company ${company.companyId} (or this user cannot see it)`];
  const problems: string[] = [];
  const named = `${where} (${journal.name})`;
  if (journal.active === false) problems.push(`${named} is archived`);
  if (journal.type !== 'bank' && journal.type !== 'cash')
    problems.push(`${named} is a ${journal.type} journal; payments need a bank or cash journal`);
  if (journal.company_id && journal.company_id[0] !== company.companyId)
    problems.push(`${named} belongs to company ${journal.company_id[1]}, not company ${company.companyId}`);
  if (journal.currency_id) {
    const currency = journal.currency_id[1];
    for (const wanted of company.currencies) {
      if (currency !== wanted)
        problems.push(`${named} takes only ${currency}, invoices are paid in ${wanted}`);
    }
  }
  if (journal.inbound_payment_method_line_ids?.length === 0)
    problems.push(`${named} has no incoming payment method (Configuration → Journals → Incoming Payments)`);
  return problems;
}
