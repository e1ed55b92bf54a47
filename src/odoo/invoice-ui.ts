import { z } from 'zod';
import type { Logger } from '../log.js';
import type { OdooClient } from './client.js';
import { OdooError } from './errors.js';
import { bindXmlid, dropXmlid, findXmlid, type Xmlid } from './xmlids.js';

/**
 * What the accountant sees and acts with on the invoice, installed by an administrator over RPC
 * (no module): an "Online payment" group on the invoice form, a "needs attention" filter in the
 * invoice list, and three server actions in the Action menu that write x_paylink_request (an
 * object_write: no Python in Odoo), which the daemon reads on its next pass.
 */

const MODULE = 'odoo_paylink';

interface ViewSpec {
  readonly xmlid: Xmlid;
  readonly name: string;
  readonly inherits: Xmlid;
  readonly type: 'form' | 'search';
  readonly arch: (major: number) => string;
}

/** The invoice form's group: anchored after payment_reference, as captures 61/61b prove it works. */
export function formViewArch(major: number): string {
  // 17.0 turned attrs into Python expressions in the attributes themselves.
  const hidden =
    major >= 17
      ? 'invisible="not x_paylink_gateway and not x_paylink_state"'
      : `attrs="{'invisible': [('x_paylink_gateway', '=', False), ('x_paylink_state', '=', False)]}"`;
  return (
    '<data>' +
    `<xpath expr="//field[@name='payment_reference']" position="after">` +
    `<group string="Online payment" name="odoo_paylink" colspan="2" ${hidden}>` +
    '<field name="x_paylink_url" widget="url" readonly="1" string="Pay address"/>' +
    '<field name="x_paylink_gateway" readonly="1" string="Gateway"/>' +
    '<field name="x_paylink_state" readonly="1" string="State"/>' +
    '<field name="x_paylink_state_at" readonly="1" string="Last change"/>' +
    '</group>' +
    '</xpath>' +
    '</data>'
  );
}

export const ATTENTION_FILTER = 'odoo_paylink_attention';

export function searchViewArch(): string {
  return (
    '<data>' +
    '<xpath expr="//search" position="inside">' +
    '<separator/>' +
    `<filter name="${ATTENTION_FILTER}" string="Online payment: needs attention" domain="[('x_paylink_attention', '=', True)]"/>` +
    '</xpath>' +
    '</data>'
  );
}

export const INVOICE_VIEWS: readonly ViewSpec[] = [
  {
    xmlid: { module: MODULE, name: 'view_move_form_online_payment' },
    name: 'account.move.form.odoo-paylink',
    inherits: { module: 'account', name: 'view_move_form' },
    type: 'form',
    arch: formViewArch,
  },
  {
    xmlid: { module: MODULE, name: 'view_invoice_filter_online_payment' },
    name: 'account.move.search.odoo-paylink',
    inherits: { module: 'account', name: 'view_account_invoice_filter' },
    type: 'search',
    arch: searchViewArch,
  },
];

/** The Action menu entries; `request` is what each writes into x_paylink_request. */
export const INVOICE_ACTIONS = [
  {
    xmlid: { module: MODULE, name: 'action_resend_payment_link' },
    name: 'Send payment link again',
    request: 'resend',
  },
  {
    xmlid: { module: MODULE, name: 'action_new_payment_link' },
    name: 'New payment link',
    request: 'new_link',
  },
  {
    xmlid: { module: MODULE, name: 'action_stop_online_payment' },
    name: 'Stop online payment for this invoice',
    request: 'stop',
  },
] as const;

const REQUEST_FIELD = 'x_paylink_request';

export type Installed = 'created' | 'updated' | 'unchanged';
export interface InvoiceUiSetup {
  readonly views: Record<string, Installed>;
  readonly actions: Record<string, Installed>;
}

const idSchema = z.object({ id: z.number().int().positive() });
const viewSchema = z.object({
  id: z.number().int().positive(),
  arch_db: z.union([z.string(), z.literal(false)]),
});
const actionSchema = z.object({ id: z.number().int().positive() }).loose();

/** Installs or updates the views and actions (as an administrator); run again, it changes nothing. */
export async function installInvoiceUi(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; log: Logger },
): Promise<InvoiceUiSetup> {
  const { companyIds, log } = options;
  const call = { companyIds };
  const { major } = await odoo.version();
  const views: Record<string, Installed> = {};
  for (const spec of INVOICE_VIEWS) {
    const parent = await findXmlid(odoo, spec.inherits, companyIds);
    if (!parent)
      throw new OdooError(
        'missing',
        `Odoo has no ${spec.inherits.module}.${spec.inherits.name} view: is the Invoicing app installed?`,
      );
    const arch = spec.arch(major);
    const id = await existing(odoo, spec.xmlid, 'ir.ui.view', companyIds);
    if (id === undefined) {
      const created = await odoo.create(
        'ir.ui.view',
        { name: spec.name, model: 'account.move', inherit_id: parent.res_id, type: spec.type, arch_db: arch },
        call,
      );
      await bindXmlid(odoo, spec.xmlid, { model: 'ir.ui.view', id: created }, companyIds);
      views[spec.name] = 'created';
    } else {
      const [view] = await odoo.read('ir.ui.view', [id], viewSchema, { ...call, fields: ['arch_db'] });
      if (view?.arch_db === arch) views[spec.name] = 'unchanged';
      else {
        await odoo.write('ir.ui.view', [id], { arch_db: arch, inherit_id: parent.res_id }, call);
        views[spec.name] = 'updated';
      }
    }
    log.info(`invoice view "${spec.name}": ${views[spec.name]}`);
  }

  const [model] = await odoo.searchRead('ir.model', [['model', '=', 'account.move']], idSchema, {
    ...call,
    fields: ['id'],
    limit: 1,
  });
  if (!model)
    throw new OdooError('unknown_model', 'Odoo has no account.move model: is the Invoicing app installed?');
  // 16.0 sets a field through value lines (ir.server.object.lines), 17.0+ through update_path.
  const [requestField] =
    major >= 17
      ? []
      : await odoo.searchRead(
          'ir.model.fields',
          [
            ['model', '=', 'account.move'],
            ['name', '=', REQUEST_FIELD],
          ],
          idSchema,
          { ...call, fields: ['id'], limit: 1 },
        );
  if (major < 17 && !requestField)
    throw new OdooError('unknown_field', `account.move has no ${REQUEST_FIELD}: create the fields first`);
  const actions: Record<string, Installed> = {};
  for (const action of INVOICE_ACTIONS) {
    const common = {
      name: action.name,
      model_id: model.id,
      binding_model_id: model.id,
      binding_type: 'action',
      binding_view_types: 'list,form',
      state: 'object_write',
    };
    const writes =
      major >= 17
        ? { update_path: REQUEST_FIELD, evaluation_type: 'value', value: action.request }
        : {
            fields_lines: [
              [5, 0, 0],
              [0, 0, { col1: requestField!.id, evaluation_type: 'value', value: action.request }],
            ],
          };
    const id = await existing(odoo, action.xmlid, 'ir.actions.server', companyIds);
    if (id === undefined) {
      const created = await odoo.create('ir.actions.server', { ...common, ...writes }, call);
      await bindXmlid(odoo, action.xmlid, { model: 'ir.actions.server', id: created }, companyIds);
      actions[action.name] = 'created';
    } else {
      const compared =
        major >= 17 ? ['name', 'update_path', 'value', 'state', 'binding_model_id'] : ['name', 'state'];
      const [current] = await odoo.read('ir.actions.server', [id], actionSchema, {
        ...call,
        fields: compared,
      });
      const same =
        current?.name === action.name &&
        current.state === 'object_write' &&
        (major < 17 || (current.update_path === REQUEST_FIELD && current.value === action.request));
      if (same) actions[action.name] = 'unchanged';
      else {
        await odoo.write('ir.actions.server', [id], { ...common, ...writes }, call);
        actions[action.name] = 'updated';
      }
    }
    log.info(`invoice action "${action.name}": ${actions[action.name]}`);
  }
  return { views, actions };
}

/** Removes the views and actions setup installed (the fields stay: they hold the invoices' links). */
export async function removeInvoiceUi(
  odoo: OdooClient,
  options: { companyIds: readonly number[]; log: Logger },
): Promise<string[]> {
  const { companyIds, log } = options;
  const removed: string[] = [];
  const targets: { xmlid: Xmlid; model: string; label: string }[] = [
    ...INVOICE_ACTIONS.map((action) => ({
      xmlid: action.xmlid,
      model: 'ir.actions.server',
      label: action.name,
    })),
    ...INVOICE_VIEWS.map((view) => ({ xmlid: view.xmlid, model: 'ir.ui.view', label: view.name })),
  ];
  for (const target of targets) {
    const ref = await findXmlid(odoo, target.xmlid, companyIds);
    if (!ref) continue;
    const exists = await odoo.searchCount(target.model, [['id', '=', ref.res_id]], { companyIds });
    if (exists > 0) await odoo.call(target.model, 'unlink', [[ref.res_id]], z.unknown(), { companyIds });
    await dropXmlid(odoo, ref.id, companyIds);
    removed.push(target.label);
    log.info(`removed "${target.label}" (${target.model} ${ref.res_id})`);
  }
  return removed;
}

/** The record an external id of ours names, if both still exist. */
async function existing(
  odoo: OdooClient,
  xmlid: Xmlid,
  model: string,
  companyIds: readonly number[],
): Promise<number | undefined> {
  const ref = await findXmlid(odoo, xmlid, companyIds);
  if (!ref) return undefined;
  const count = await odoo.searchCount(model, [['id', '=', ref.res_id]], { companyIds });
  return count > 0 ? ref.res_id : undefined;
}
