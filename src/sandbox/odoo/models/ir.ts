/**
 * ir.model and ir.model.fields: the model catalogue, and custom `x_` fields created over RPC that
 * become real fields of their model at once (readable, writable, searchable).
 */
import { type Json, userError, validationError, valueError } from '../errors.js';
import type { FieldDef, FieldType, Row, Selection, Vals } from '../fields.js';
import type { Model, Registry } from '../registry.js';

const FIELD_TYPES: Selection = [
  ['binary', 'binary'],
  ['boolean', 'boolean'],
  ['char', 'char'],
  ['date', 'date'],
  ['datetime', 'datetime'],
  ['float', 'float'],
  ['html', 'html'],
  ['integer', 'integer'],
  ['json', 'json'],
  ['many2many', 'many2many'],
  ['many2one', 'many2one'],
  ['many2one_reference', 'many2one_reference'],
  ['monetary', 'monetary'],
  ['one2many', 'one2many'],
  ['selection', 'selection'],
  ['text', 'text'],
];

/** Types a custom field may have in the sandbox (x2many and references need more than we model). */
const CUSTOM_TYPES = new Set([
  'char',
  'text',
  'html',
  'integer',
  'float',
  'monetary',
  'boolean',
  'date',
  'datetime',
  'many2one',
  'selection',
]);

export function defineIrModels(reg: Registry): void {
  reg.define({
    name: 'ir.model',
    description: 'Models',
    order: 'model',
    fields: {
      model: { type: 'char', string: 'Model', required: true },
      name: { type: 'char', string: 'Model Description', required: true },
      state: {
        type: 'selection',
        string: 'Type',
        selection: [
          ['manual', 'Custom Object'],
          ['base', 'Base Object'],
        ],
      },
      transient: { type: 'boolean', string: 'Transient Model' },
      field_id: {
        type: 'one2many',
        string: 'Fields',
        relation: 'ir.model.fields',
        compute: (row, { reg: registry }) =>
          [...registry.model('ir.model.fields').rows.values()]
            .filter((f) => f.model_id === row.id)
            .map((f) => f.id),
      },
    },
    beforeWrite: () => {
      throw userError('Model records cannot be altered in the Odoo sandbox.');
    },
  });

  reg.define({
    name: 'ir.model.fields',
    description: 'Fields',
    order: 'name',
    fields: {
      name: { type: 'char', string: 'Field Name', required: true },
      complete_name: { type: 'char', string: 'Complete Name' },
      model: { type: 'char', string: 'Model Name' },
      model_id: { type: 'many2one', string: 'Model', relation: 'ir.model', required: true },
      field_description: { type: 'char', string: 'Field Label', required: true },
      help: { type: 'text', string: 'Field Help' },
      ttype: { type: 'selection', string: 'Field Type', selection: FIELD_TYPES, required: true },
      relation: { type: 'char', string: 'Related Model' },
      selection: { type: 'char', string: 'Selection Options (Deprecated)' },
      state: {
        type: 'selection',
        string: 'Type',
        selection: [
          ['manual', 'Custom Field'],
          ['base', 'Base Field'],
        ],
      },
      required: { type: 'boolean', string: 'Required' },
      readonly: { type: 'boolean', string: 'Readonly' },
      store: { type: 'boolean', string: 'Stored' },
      copied: { type: 'boolean', string: 'Copied' },
      index: { type: 'boolean', string: 'Indexed' },
      currency_field: { type: 'char', string: 'Currency field' },
      tracking: {
        type: 'integer',
        string: 'Enable Ordered Tracking',
        help: 'If set every modification done to this field is tracked. Value is used to order tracking values.',
      },
    },
    // Odoo's create reads the field's ir.model first: a user without that right hears about ir.model (53).
    createReads: ['ir.model'],
    displayName: (row, registry) => {
      const irModel =
        typeof row.model_id === 'number' ? registry.model('ir.model').rows.get(row.model_id) : undefined;
      return `${String(row.field_description)} (${String(irModel?.name ?? row.model)})`;
    },
    defaults: (vals, _env, registry) => customFieldDefaults(vals, registry),
    afterCreate: (row, _vals, _env, registry) => {
      registry.fieldIds.set(`${String(row.model)}.${String(row.name)}`, row.id);
      if (row.state === 'manual') installCustomField(registry, row);
    },
    beforeWrite: (rows, vals) => {
      // Only tracking may change on a base field, as in Odoo's ir.model.fields write.
      if (
        rows.some((row) => row.state !== 'manual') &&
        Object.keys(vals).some((name) => name !== 'tracking')
      ) {
        throw userError(
          'Properties of base fields cannot be altered in this manner! Please modify them through Python code, preferably through a custom addon!',
        );
      }
      if ('name' in vals || 'model_id' in vals || 'ttype' in vals || 'model' in vals) {
        throw userError(
          'Changing the type, name or model of a custom field is not supported by the Odoo sandbox.',
        );
      }
    },
    afterWrite: (rows, _vals, _env, registry) => {
      for (const row of rows) {
        if (row.state === 'manual') installCustomField(registry, row);
        else setTracking(registry, row);
      }
    },
    beforeUnlink: (rows, _env, registry) => {
      if (rows.some((row) => row.state !== 'manual')) {
        throw userError('This column contains module data and cannot be removed!');
      }
      for (const row of rows) {
        registry.fieldIds.delete(`${String(row.model)}.${String(row.name)}`);
        uninstallCustomField(registry, row);
      }
    },
  });

  reg.define({
    name: 'ir.model.data',
    description: 'Model Data',
    order: 'module, model, name',
    fields: {
      name: { type: 'char', string: 'External Identifier', required: true },
      module: { type: 'char', string: 'Module', required: true },
      model: { type: 'char', string: 'Model Name', required: true },
      res_id: { type: 'many2one_reference', string: 'Record ID' },
      complete_name: {
        type: 'char',
        string: 'Complete ID',
        compute: (row) => `${String(row.module)}.${String(row.name)}`,
      },
      noupdate: { type: 'boolean', string: 'Non Updatable' },
    },
    displayName: (row) => `${String(row.module)}.${String(row.name)}`,
    methods: {
      check_object_reference: {
        model: true,
        access: 'read',
        params: ['module', 'xml_id', 'raise_on_access_error'],
        run: ({ reg: registry, args }) => {
          const xmlid = `${String(args.module)}.${String(args.xml_id)}`;
          const found = registry.ref(xmlid);
          if (!found) throw valueError(`External ID not found in the system: ${xmlid}`);
          return [found.model, found.id];
        },
      },
    },
  });
}

/** A base field's tracking follows its ir.model.fields row. */
function setTracking(reg: Registry, row: Row): void {
  const target = reg.models.get(String(row.model));
  const name = String(row.name);
  const field = target?.fields.get(name);
  if (!target || !field) return;
  target.fields.set(name, { ...field, tracking: Number(row.tracking) > 0 });
}

function customFieldDefaults(input: Vals, reg: Registry): Vals {
  const vals: Vals = { state: 'manual', store: true, copied: false, ...input };
  const irModels = reg.model('ir.model');
  let modelRow: Row | undefined;
  if (typeof vals.model_id === 'number') modelRow = irModels.rows.get(vals.model_id);
  else if (typeof vals.model === 'string') {
    modelRow = [...irModels.rows.values()].find((row) => row.model === vals.model);
    if (modelRow) vals.model_id = modelRow.id;
  }
  if (!modelRow) return vals; // the required check on model_id answers
  vals.model = modelRow.model ?? false;
  const name = typeof vals.name === 'string' ? vals.name : '';
  if (vals.state === 'manual') {
    if (!name.startsWith('x_'))
      throw validationError("Custom fields must have a name that starts with 'x_'!");
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) {
      throw validationError('Field names can only contain characters, digits and underscores (up to 63).');
    }
    const ttype = String(vals.ttype ?? '');
    if (ttype !== '' && !CUSTOM_TYPES.has(ttype)) {
      throw userError(`The Odoo sandbox cannot create custom fields of type ${ttype}.`);
    }
    if (ttype === 'many2one') {
      const relation = typeof vals.relation === 'string' ? vals.relation : '';
      if (!reg.models.has(relation)) throw userError(`Unknown model name '${relation}' in Related Model`);
    }
  }
  const duplicate = [...reg.model('ir.model.fields').rows.values()].some(
    (row) => row.model_id === modelRow?.id && row.name === name,
  );
  if (duplicate) {
    throw validationError('The operation cannot be completed: Field names must be unique per model.');
  }
  vals.complete_name = `${String(modelRow.model)}.${name}`;
  return vals;
}

function parseSelection(text: Json | undefined): Selection | undefined {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  // Odoo's deprecated selection text: "[('a', 'A'), ('b', 'B')]"
  const pairs = [...text.matchAll(/\(\s*['"]([^'"]*)['"]\s*,\s*['"]([^'"]*)['"]\s*\)/g)];
  return pairs.map((pair) => [pair[1] ?? '', pair[2] ?? ''] as const);
}

/** Makes an ir.model.fields row a live field of its model. */
function installCustomField(reg: Registry, row: Row): void {
  const target = reg.model(String(row.model));
  const type = String(row.ttype) as FieldType;
  const selection = type === 'selection' ? (parseSelection(row.selection) ?? []) : undefined;
  const field: FieldDef = {
    type,
    string: typeof row.field_description === 'string' ? row.field_description : String(row.name),
    manual: true,
    required: row.required === true,
    ...(type === 'many2one' && typeof row.relation === 'string' ? { relation: row.relation } : {}),
    ...(selection ? { selection } : {}),
    ...(type === 'monetary'
      ? { currencyField: typeof row.currency_field === 'string' ? row.currency_field : 'currency_id' }
      : {}),
    ...(typeof row.help === 'string' ? { help: row.help } : {}),
    ...(Number(row.tracking) > 0 ? { tracking: true } : {}),
  };
  const name = String(row.name);
  const isNew = !target.fields.has(name);
  target.fields.set(name, field);
  if (isNew) {
    const initial = type === 'integer' || type === 'float' || type === 'monetary' ? 0 : false;
    for (const record of target.rows.values()) record[name] = initial;
  }
}

function uninstallCustomField(reg: Registry, row: Row): void {
  const target = reg.models.get(String(row.model));
  if (!target) return;
  const name = String(row.name);
  target.fields.delete(name);
  for (const record of target.rows.values()) delete record[name];
}

/** Creates the ir.model / ir.model.fields rows describing every defined model (run once, after all models). */
export function registerModelCatalogue(reg: Registry): void {
  const env = reg.superEnv();
  for (const model of reg.models.values()) {
    const irModel = reg.insert(
      'ir.model',
      { model: model.name, name: model.spec.description, state: 'base', transient: isTransient(model) },
      env,
    );
    for (const [name, field] of model.fields) {
      const fieldRow = reg.insert(
        'ir.model.fields',
        {
          name,
          complete_name: `${model.name}.${name}`,
          model: model.name,
          model_id: irModel.id,
          field_description: field.string,
          ttype: field.type,
          relation: field.relation ?? false,
          state: 'base',
          required: field.required === true,
          readonly: field.readonly === true,
          store: model.isStored(name),
          tracking: field.tracking ? 100 : 0,
        },
        env,
      );
      reg.fieldIds.set(`${model.name}.${name}`, fieldRow.id);
    }
  }
}

function isTransient(model: Model): boolean {
  return [
    'account.payment.register',
    'res.users.apikeys.description',
    'res.users.identitycheck',
    'account.move.reversal',
  ].includes(model.name);
}

export function irModelId(reg: Registry, modelName: string): number {
  const row = [...reg.model('ir.model').rows.values()].find((candidate) => candidate.model === modelName);
  if (!row) throw new Error(`no ir.model row for ${modelName}`);
  return row.id;
}

export function customFieldNames(reg: Registry, modelName: string): string[] {
  return [...reg.model(modelName).fields.entries()].filter(([, field]) => field.manual).map(([name]) => name);
}
