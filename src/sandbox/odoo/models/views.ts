/**
 * ir.ui.view and get_views: primary views with their inheriting (extension) views applied in
 * priority order, checked when created or changed (every spec must find its element, every
 * field must exist), and get_views answering the merged arch with the fields it shows, as 18.0
 * and 19.0 do (capture 61b). Models without a stored view get Odoo's generated default view.
 */
import {
  type ArchElement,
  ArchError,
  applyInheritance,
  fieldNamesOf,
  parseArch,
  serializeArch,
} from '../arch.js';
import { type Json, type JsonObject, userError, validationError } from '../errors.js';
import type { Row, Vals } from '../fields.js';
import type { Env, MethodSpec, Model, Registry } from '../registry.js';
import type { VersionTraits } from '../versions.js';

const VIEW_TYPES = [
  ['list', 'List'],
  ['form', 'Form'],
  ['graph', 'Graph'],
  ['pivot', 'Pivot'],
  ['calendar', 'Calendar'],
  ['kanban', 'Kanban'],
  ['search', 'Search'],
  ['qweb', 'QWeb'],
] as const;

/** The field attributes get_views describes (Odoo's _get_view_field_attributes, those the sandbox has). */
const VIEW_FIELD_ATTRIBUTES = [
  'change_default',
  'currency_field',
  'groupable',
  'help',
  'name',
  'readonly',
  'relation',
  'required',
  'searchable',
  'selection',
  'sortable',
  'store',
  'string',
  'translate',
  'trim',
  'type',
];

function views(reg: Registry): Model {
  return reg.model('ir.ui.view');
}

function archOf(row: Row): ArchElement {
  return parseArch(typeof row.arch_db === 'string' ? row.arch_db : '');
}

function rootView(reg: Registry, row: Row): Row {
  let current = row;
  const seen = new Set<number>();
  while (current.mode === 'extension' && typeof current.inherit_id === 'number' && !seen.has(current.id)) {
    seen.add(current.id);
    const parent = views(reg).rows.get(current.inherit_id);
    if (!parent) break;
    current = parent;
  }
  return current;
}

/** Active extension views of `parent`, in Odoo's order (priority, then id). */
function extensionsOf(reg: Registry, parent: Row): Row[] {
  return [...views(reg).rows.values()]
    .filter((row) => row.inherit_id === parent.id && row.mode === 'extension' && row.active !== false)
    .sort((a, b) => Number(a.priority) - Number(b.priority) || a.id - b.id);
}

/** The arch of a primary view with every active extension applied, depth first. */
export function combinedArch(reg: Registry, view: Row): ArchElement {
  const apply = (arch: ArchElement, parent: Row): ArchElement => {
    let result = arch;
    for (const child of extensionsOf(reg, parent))
      result = apply(applyInheritance(result, archOf(child)), child);
    return result;
  };
  return apply(archOf(view), view);
}

/** Odoo's _check_xml: the views of the chain still combine and name only existing fields. */
function checkView(reg: Registry, row: Row): void {
  const root = rootView(reg, row);
  const model = reg.models.get(String(root.model));
  if (!model) throw validationError(`Model not found: ${String(root.model)}`);
  let arch: ArchElement;
  try {
    arch = combinedArch(reg, root);
  } catch (error) {
    if (error instanceof ArchError) throw validationError(`Error while validating view:\n\n${error.message}`);
    throw error;
  }
  for (const name of fieldNamesOf(arch)) {
    if (!model.fields.has(name)) {
      throw validationError(
        `Error while validating view:\n\nField "${name}" does not exist in model "${model.name}"`,
      );
    }
  }
}

function viewDefaults(reg: Registry, input: Vals): Vals {
  const vals: Vals = { ...input };
  if (typeof vals.arch === 'string' && vals.arch_db === undefined) vals.arch_db = vals.arch;
  delete vals.arch;
  const parent = typeof vals.inherit_id === 'number' ? views(reg).rows.get(vals.inherit_id) : undefined;
  let rootTag: string | undefined;
  try {
    rootTag = parseArch(typeof vals.arch_db === 'string' ? vals.arch_db : '').tag;
  } catch (error) {
    if (error instanceof ArchError) throw validationError(error.message);
    throw error;
  }
  const type = vals.type ?? parent?.type ?? (rootTag === 'tree' ? 'list' : rootTag);
  return {
    priority: 16,
    active: true,
    mode: parent ? 'extension' : 'primary',
    model: parent?.model ?? false,
    ...vals,
    type: type ?? false,
  };
}

/** The view get_views shows for a type: the given id, else the primary view of lowest priority. */
function primaryView(reg: Registry, model: string, type: string, id: Json | undefined): Row | undefined {
  if (typeof id === 'number') {
    const row = views(reg).rows.get(id);
    return row ? rootView(reg, row) : undefined;
  }
  return [...views(reg).rows.values()]
    .filter(
      (row) => row.model === model && row.type === type && row.mode === 'primary' && row.active !== false,
    )
    .sort((a, b) => Number(a.priority) - Number(b.priority) || a.id - b.id)[0];
}

/** Odoo's generated views for a model without one of the type. */
function defaultArch(model: Model, type: string): string {
  const recName = model.fields.has('name') ? 'name' : 'display_name';
  if (type === 'list') return `<list string="${model.spec.description}"><field name="${recName}"/></list>`;
  if (type === 'search')
    return `<search string="${model.spec.description}"><field name="${recName}"/></search>`;
  if (type === 'form') {
    const fields = [...model.fields.keys()]
      .filter(
        (name) =>
          model.isStored(name) &&
          !['id', 'create_uid', 'create_date', 'write_uid', 'write_date'].includes(name),
      )
      .map((name) => `<field name="${name}"/>`)
      .join('');
    return `<form string="${model.spec.description}"><sheet string="${model.spec.description}"><group>${fields}</group></sheet></form>`;
  }
  throw userError(`No default view of type '${type}' could be found!`);
}

function viewFields(reg: Registry, env: Env, model: Model, arch: ArchElement): JsonObject {
  const names = fieldNamesOf(arch);
  return names.length === 0 ? {} : reg.fieldsGet(env, model, names, VIEW_FIELD_ATTRIBUTES);
}

export const getViews: MethodSpec = {
  model: true,
  access: 'read',
  params: ['views', 'options'],
  run: ({ reg, env, model, args }) => {
    const requested = Array.isArray(args.views) ? args.views : [];
    const result: JsonObject = {};
    const fields: JsonObject = {};
    for (const entry of requested) {
      if (!Array.isArray(entry) || typeof entry[1] !== 'string') {
        throw userError(`Invalid view specification: ${JSON.stringify(entry)}`);
      }
      const type = entry[1] === 'tree' ? 'list' : entry[1];
      const view = primaryView(reg, model.name, type, entry[0]);
      const arch = view ? combinedArch(reg, view) : parseArch(defaultArch(model, type));
      result[type] = { arch: serializeArch(arch), id: view ? view.id : false, model: model.name };
      Object.assign(fields, viewFields(reg, env, model, arch));
    }
    return {
      views: result,
      // 17.0 gives the fields dict itself (61b).
      models: {
        [model.name]:
          reg.traits.getViewsShape === 'fields'
            ? fields
            : { fields, has_activities: model.spec.mailThread === true },
      },
    };
  },
};

export function defineViewModels(reg: Registry): void {
  reg.define({
    name: 'ir.ui.view',
    description: 'View',
    order: 'priority, name, id',
    fields: {
      name: { type: 'char', string: 'View Name', required: true },
      model: { type: 'char', string: 'Model' },
      key: { type: 'char', string: 'Key' },
      priority: { type: 'integer', string: 'Sequence' },
      type: { type: 'selection', string: 'View Type', selection: VIEW_TYPES },
      arch_db: { type: 'text', string: 'Arch Blob' },
      arch: {
        type: 'text',
        string: 'View Architecture',
        compute: (row) => (typeof row.arch_db === 'string' ? row.arch_db : false),
      },
      inherit_id: { type: 'many2one', string: 'Inherited View', relation: 'ir.ui.view' },
      inherit_children_ids: {
        type: 'one2many',
        string: 'Views which inherit from this one',
        relation: 'ir.ui.view',
        compute: (row, { reg: registry }) =>
          [...views(registry).rows.values()]
            .filter((other) => other.inherit_id === row.id)
            .map((other) => other.id),
      },
      mode: {
        type: 'selection',
        string: 'View inheritance mode',
        selection: [
          ['primary', 'Base view'],
          ['extension', 'Extension View'],
        ],
      },
      active: { type: 'boolean', string: 'Active' },
      xml_id: {
        type: 'char',
        string: 'External ID',
        compute: (row, { reg: registry }) => registry.xmlidOf('ir.ui.view', row.id) ?? '',
      },
    },
    defaults: (vals, _env, registry) => viewDefaults(registry, vals),
    afterCreate: (row, _vals, _env, registry) => {
      try {
        checkView(registry, row);
      } catch (error) {
        registry.remove('ir.ui.view', row.id);
        throw error;
      }
    },
    beforeWrite: (_rows, vals) => {
      if (typeof vals.arch === 'string' && vals.arch_db === undefined) vals.arch_db = vals.arch;
    },
    afterWrite: (rows, _vals, _env, registry) => {
      for (const row of rows) checkView(registry, row);
    },
    beforeUnlink: (rows, _env, registry) => {
      const removed = new Set(rows.map((row) => row.id));
      const orphaned = [...views(registry).rows.values()].some(
        (other) =>
          typeof other.inherit_id === 'number' && removed.has(other.inherit_id) && !removed.has(other.id),
      );
      if (orphaned) {
        throw validationError(
          'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\n' +
            'Model: View (ir.ui.view)\nConstraint: ir_ui_view_inherit_id_fkey',
        );
      }
    },
  });
}

/** account.move's form as get_views shows it on each version (the part around payment_reference is captured). */
function moveFormArch(traits: VersionTraits): string {
  const receipts = traits.moveFormPaymentReferenceTypes;
  return (
    '<form string="Account Entry" js_class="account_move_form">' +
    '<header>' +
    '<button name="action_post" string="Confirm" class="oe_highlight" type="object" invisible="state != \'draft\'"/>' +
    '<button name="action_register_payment" string="Pay" class="oe_highlight" type="object" invisible="state != \'posted\' or payment_state not in (\'not_paid\', \'partial\')"/>' +
    '<button name="button_draft" string="Reset to Draft" type="object" invisible="state not in (\'posted\', \'cancel\')"/>' +
    '<field name="state" widget="statusbar" statusbar_visible="draft,posted"/>' +
    '</header>' +
    '<sheet>' +
    '<div class="oe_title"><h1><field name="name" readonly="state != \'draft\'"/></h1></div>' +
    '<group>' +
    '<group id="header_left_group">' +
    '<field name="move_type" invisible="1"/>' +
    '<field name="partner_id" widget="res_partner_many2one"/>' +
    '<field name="ref"/>' +
    `<field name="payment_reference" invisible="move_type not in ${receipts}" readonly="inalterable_hash != False" placeholder="Use Bill Reference" on_change="1"/>` +
    '</group>' +
    '<group id="header_right_group">' +
    '<field name="invoice_date"/>' +
    '<field name="invoice_date_due"/>' +
    '<field name="journal_id"/>' +
    '<field name="currency_id"/>' +
    '<field name="company_id"/>' +
    '</group>' +
    '</group>' +
    '<notebook><page id="invoice_tab" name="invoice_tab" string="Invoice Lines"><field name="invoice_line_ids"/></page></notebook>' +
    '<group class="oe_subtotal_footer">' +
    '<field name="amount_untaxed"/><field name="amount_tax"/><field name="amount_total"/><field name="amount_residual"/>' +
    '</group>' +
    '</sheet>' +
    '<chatter/>' +
    '</form>'
  );
}

/** The stored views a fresh database has that the sandbox models: account.view_move_form. */
export function seedViews(reg: Registry): void {
  const env = reg.superEnv();
  const form = reg.insert(
    'ir.ui.view',
    {
      name: 'account.move.form',
      model: 'account.move',
      type: 'form',
      priority: 16,
      mode: 'primary',
      active: true,
      key: false,
      arch_db: moveFormArch(reg.traits),
    },
    env,
  );
  reg.registerXmlid('account.view_move_form', 'ir.ui.view', form.id);
  // The invoice list's search view, reduced to a few of its fields and filters.
  const search = reg.insert(
    'ir.ui.view',
    {
      name: 'account.invoice.select',
      model: 'account.move',
      type: 'search',
      priority: 16,
      mode: 'primary',
      active: true,
      key: false,
      arch_db:
        '<search string="Search Invoice">' +
        '<field name="name" string="Invoice"/>' +
        '<field name="partner_id" operator="child_of"/>' +
        '<field name="journal_id"/>' +
        '<filter domain="[(\'invoice_user_id\', \'=\', uid)]" name="myinvoices" help="My Invoices"/>' +
        '<separator/>' +
        '<filter name="draft" string="Draft" domain="[(\'state\', \'=\', \'draft\')]"/>' +
        '<filter name="posted" string="Posted" domain="[(\'state\', \'=\', \'posted\')]"/>' +
        '<filter name="cancel" string="Cancelled" domain="[(\'state\', \'=\', \'cancel\')]"/>' +
        '<separator/>' +
        "<filter name=\"open\" string=\"Unpaid\" domain=\"[('state', '=', 'posted'), ('payment_state', 'in', ('not_paid', 'partial'))]\"/>" +
        '<group expand="0" string="Group By"><filter string="Partner" name="groupby_partner_id" context="{\'group_by\': \'commercial_partner_id\'}"/></group>' +
        '</search>',
    },
    env,
  );
  reg.registerXmlid('account.view_account_invoice_filter', 'ir.ui.view', search.id);
}

/** The view id of an external id, for tests: `viewId('account.view_move_form')`. */
export function viewOfXmlid(reg: Registry, xmlid: string): number | undefined {
  const found = reg.ref(xmlid);
  return found?.model === 'ir.ui.view' ? found.id : undefined;
}
