import { z } from 'zod';
import type { Logger } from '../log.js';
import type { OdooClient } from './client.js';
import { OdooError } from './errors.js';
import { bindXmlid, dropXmlid, findXmlid } from './xmlids.js';

/**
 * The mail template Odoo sends the invoice email with when `mail.via` is `odoo`: a copy of the
 * standard "Invoice: Sending" template (account.email_template_edi_invoice, never modified) whose
 * body adds a Pay button to the invoice's pay address (x_paylink_url) and which attaches the
 * invoice report. Installed and removed by an administrator (`setup-odoo`); the daemon's Billing
 * user only reads it (it may read ir.model.data and mail.template, not write them).
 */

export const STANDARD_INVOICE_TEMPLATE = { module: 'account', name: 'email_template_edi_invoice' } as const;
/** Our copy's external id, so the next run (and the daemon) finds it again. */
export const PAYLINK_TEMPLATE_XMLID = { module: 'odoo_paylink', name: 'mail_template_invoice_pay' } as const;
export const PAYLINK_TEMPLATE_NAME = 'Invoice: pay online (odoo-paylink)';
/** The invoice report (ir.actions.report) the copy attaches: the standard one lost it in 18.0. */
const INVOICE_REPORT = { module: 'account', name: 'account_invoices' } as const;

/**
 * The Pay button, shown only while the invoice has a pay address. Its class is the mark the
 * daemon finds its own sent message by in the chatter (Odoo's sanitizer keeps `class`).
 */
export const PAY_BUTTON_CLASS = 'o_paylink_pay';
const PAY_BUTTON = `
<t t-if="object.x_paylink_url">
    <div style="margin: 16px 0px 16px 0px;">
        <a t-att-href="object.x_paylink_url" class="${PAY_BUTTON_CLASS}" style="background-color: #875A7B; padding: 8px 16px 8px 16px; text-decoration: none; color: #fff; border-radius: 5px; font-size: 13px;">Pay online</a>
    </div>
</t>`;

/** The standard body with the button before its closing tag (after the text, before nothing else). */
export function bodyWithPayButton(standardBody: string): string {
  const end = standardBody.lastIndexOf('</div>');
  if (end < 0) return `${standardBody}${PAY_BUTTON}`;
  return `${standardBody.slice(0, end)}${PAY_BUTTON}\n${standardBody.slice(end)}`;
}

const templateSchema = z
  .object({
    id: z.number().int().positive(),
    name: z.union([z.string(), z.literal(false)]),
    body_html: z.union([z.string(), z.literal(false)]),
  })
  .loose();
const templateIdSchema = z.object({ id: z.number().int().positive() });
const reportIdsSchema = z.array(z.number().int().positive());
const copiedSchema = z.union([z.number().int().positive(), z.array(z.number().int().positive()).length(1)]);

/** The id of our template, as the daemon's user sees it; undefined when setup has not installed it. */
export async function findPaylinkTemplate(
  odoo: OdooClient,
  companyIds: readonly number[],
): Promise<number | undefined> {
  return (await findXmlid(odoo, PAYLINK_TEMPLATE_XMLID, companyIds))?.res_id;
}

export type TemplateSetup = { id: number; action: 'created' | 'updated' | 'unchanged' };

/**
 * Installs or updates our copy (as an administrator), idempotently: found again by its external
 * id (or, if that was lost, by its name), written only when it differs from what it should be.
 */
export async function installPaylinkTemplate(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; log: Logger },
): Promise<TemplateSetup> {
  const { companyIds } = options;
  const call = { companyIds };
  const standardRef = await findXmlid(odoo, STANDARD_INVOICE_TEMPLATE, companyIds);
  if (!standardRef)
    throw new OdooError(
      'unknown_model',
      'Odoo has no account.email_template_edi_invoice template: is the Invoicing app installed?',
    );
  const [standard] = await odoo.read('mail.template', [standardRef.res_id], templateSchema, {
    ...call,
    fields: ['name', 'body_html'],
  });
  if (!standard) throw new OdooError('missing', 'the standard invoice mail template is gone');
  const { major } = await odoo.version();
  // 16.0 names the report field report_template (a many2one), 17.0+ report_template_ids.
  const reportField = major >= 17 ? 'report_template_ids' : 'report_template';
  const report = await findXmlid(odoo, INVOICE_REPORT, companyIds);
  const wanted: Record<string, unknown> = {
    name: PAYLINK_TEMPLATE_NAME,
    body_html: bodyWithPayButton(typeof standard.body_html === 'string' ? standard.body_html : ''),
  };
  if (report) wanted[reportField] = major >= 17 ? [[6, 0, [report.res_id]]] : report.res_id;

  let id = (await findXmlid(odoo, PAYLINK_TEMPLATE_XMLID, companyIds))?.res_id;
  if (id !== undefined) {
    const [found] = await odoo.searchRead('mail.template', [['id', '=', id]], templateIdSchema, {
      ...call,
      fields: ['id'],
      limit: 1,
    });
    // The external id outlived its template (deleted by hand): make it again.
    if (!found) id = undefined;
  }
  if (id === undefined) {
    const [byName] = await odoo.searchRead(
      'mail.template',
      [['name', '=', PAYLINK_TEMPLATE_NAME]],
      templateSchema,
      {
        ...call,
        fields: ['name'],
        limit: 1,
      },
    );
    let action: TemplateSetup['action'] = 'updated';
    if (byName) id = byName.id;
    else {
      // copy() keeps everything of the standard template (subject, sender, recipients, language).
      const copied = await odoo.call('mail.template', 'copy', [[standard.id]], copiedSchema, {
        ...call,
        kwargs: { default: { name: PAYLINK_TEMPLATE_NAME } },
      });
      id = Array.isArray(copied) ? copied[0]! : copied;
      action = 'created';
    }
    await odoo.write('mail.template', [id], wanted, call);
    await bindXmlid(odoo, PAYLINK_TEMPLATE_XMLID, { model: 'mail.template', id }, companyIds);
    options.log.info(`mail template "${PAYLINK_TEMPLATE_NAME}" ${action} (mail.template ${id})`);
    return { id, action };
  }
  const [current] = await odoo.read(
    'mail.template',
    [id],
    templateSchema.extend({ [reportField]: z.unknown() }),
    {
      ...call,
      fields: ['name', 'body_html', reportField],
    },
  );
  const currentReports = reportIdsFrom(current?.[reportField]);
  const same =
    current !== undefined &&
    current.name === wanted.name &&
    current.body_html === wanted.body_html &&
    (!report || (currentReports.length === 1 && currentReports[0] === report.res_id));
  if (same) return { id, action: 'unchanged' };
  await odoo.write('mail.template', [id], wanted, call);
  options.log.info(`mail template "${PAYLINK_TEMPLATE_NAME}" updated (mail.template ${id})`);
  return { id, action: 'updated' };
}

/** A many2many's ids, or a many2one's [id, name] as one id. */
function reportIdsFrom(value: unknown): number[] {
  const ids = reportIdsSchema.safeParse(value);
  if (ids.success) return ids.data;
  if (Array.isArray(value) && typeof value[0] === 'number') return [value[0]];
  return [];
}

/** Removes our template and its external id (never the standard one); false when there was none. */
export async function removePaylinkTemplate(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; log: Logger },
): Promise<boolean> {
  const { companyIds } = options;
  const ref = await findXmlid(odoo, PAYLINK_TEMPLATE_XMLID, companyIds);
  const standard = await findXmlid(odoo, STANDARD_INVOICE_TEMPLATE, companyIds);
  if (!ref) return false;
  if (ref.res_id !== standard?.res_id) {
    const exists = await odoo.searchCount('mail.template', [['id', '=', ref.res_id]], { companyIds });
    if (exists > 0) await odoo.call('mail.template', 'unlink', [[ref.res_id]], z.unknown(), { companyIds });
  }
  await dropXmlid(odoo, ref.id, companyIds);
  options.log.info(`mail template "${PAYLINK_TEMPLATE_NAME}" removed (mail.template ${ref.res_id})`);
  return true;
}
