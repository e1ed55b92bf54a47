import { z } from 'zod';
import type { OdooClient } from './client.js';

/**
 * External ids (ir.model.data) of what setup installs in Odoo, so a later run finds its own
 * records again whatever they are named in the user's language. Writing them needs an admin.
 */
export interface Xmlid {
  readonly module: string;
  readonly name: string;
}

const xmlidRowSchema = z.object({ id: z.number().int().positive(), res_id: z.number().int() });

/** The ir.model.data row of an external id (its own id and the record's), if there is one. */
export async function findXmlid(
  odoo: OdooClient,
  xmlid: Xmlid,
  companyIds: readonly number[],
): Promise<{ id: number; res_id: number } | undefined> {
  const [row] = await odoo.searchRead(
    'ir.model.data',
    [
      ['module', '=', xmlid.module],
      ['name', '=', xmlid.name],
    ],
    xmlidRowSchema,
    { companyIds, fields: ['res_id'], limit: 1 },
  );
  return row;
}

/** Points an external id at a record, creating it when missing. */
export async function bindXmlid(
  odoo: OdooClient,
  xmlid: Xmlid,
  record: { model: string; id: number },
  companyIds: readonly number[],
): Promise<void> {
  const existing = await findXmlid(odoo, xmlid, companyIds);
  if (existing) {
    if (existing.res_id !== record.id)
      await odoo.write('ir.model.data', [existing.id], { res_id: record.id }, { companyIds });
    return;
  }
  await odoo.create(
    'ir.model.data',
    { ...xmlid, model: record.model, res_id: record.id, noupdate: true },
    { companyIds },
  );
}

/** Deletes an external id's row that outlived its record (Odoo drops those of deleted records itself). */
export async function dropXmlid(
  odoo: OdooClient,
  rowId: number,
  companyIds: readonly number[],
): Promise<void> {
  const left = await odoo.searchCount('ir.model.data', [['id', '=', rowId]], { companyIds });
  if (left > 0) await odoo.call('ir.model.data', 'unlink', [[rowId]], z.unknown(), { companyIds });
}
