import { z } from 'zod';
import type { Logger } from '../log.js';
import type { OdooClient } from './client.js';
import { OdooError } from './errors.js';

/** The custom fields the daemon writes on account.move, created as manual x_ fields when missing. */
export const LINK_FIELD_DEFINITIONS = [
  { name: 'x_mytpe_link_id', description: 'MyTPE Pay link id' },
  { name: 'x_mytpe_payment_link', description: 'MyTPE Pay payment link' },
] as const;

const fieldsGetSchema = z.record(z.string(), z.object({ type: z.string() }).loose());
const modelSchema = z.object({ id: z.number().int().positive() });

/** Checks the x_mytpe_* fields exist on account.move and, when allowed, creates those that do not. */
export async function ensureLinkFields(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; create: boolean; log: Logger },
): Promise<{ created: string[] }> {
  const call = { companyIds: options.companyIds };
  const fields = await odoo.call('account.move', 'fields_get', [], fieldsGetSchema, {
    ...call,
    kwargs: { attributes: ['type'] },
  });
  const missing = LINK_FIELD_DEFINITIONS.filter((field) => !(field.name in fields));
  if (missing.length === 0) return { created: [] };
  if (!options.create) {
    throw new OdooError(
      'unknown_field',
      `account.move lacks ${missing.map((field) => field.name).join(', ')}: run "odoo-paylink setup-odoo" or set odoo.createFields to true`,
    );
  }
  const [model] = await odoo.searchRead('ir.model', [['model', '=', 'account.move']], modelSchema, {
    ...call,
    fields: ['id'],
    limit: 1,
  });
  if (!model)
    throw new OdooError('unknown_model', 'Odoo has no account.move model: is the Invoicing app installed?');
  for (const field of missing) {
    await odoo.create(
      'ir.model.fields',
      {
        model_id: model.id,
        name: field.name,
        field_description: field.description,
        ttype: 'char',
        state: 'manual',
        // A duplicated invoice must not inherit the original's payment link.
        copied: false,
      },
      call,
    );
    options.log.info('created custom field on account.move', { field: field.name });
  }
  return { created: missing.map((field) => field.name) };
}
