/**
 * What an accountant acts with from the invoice: server actions in the Action menu
 * (ir.actions.server, run on the selected records as the user who clicks) and activities
 * (mail.activity: a To-Do on a record, done with action_feedback). Only the `object_write` kind
 * of server action runs here, the one odoo-paylink installs: it needs no Python in Odoo.
 */
import { type Json, userError, validationError } from '../errors.js';
import type { Row, Vals } from '../fields.js';
import type { Env, MethodSpec, Registry } from '../registry.js';
import { escapeHtml } from './mail.js';

const SERVER_ACTION_STATES = [
  ['object_write', 'Update Record'],
  ['object_create', 'Create Record'],
  ['code', 'Execute Code'],
  ['multi', 'Execute Existing Actions'],
  ['next_activity', 'Create Activity'],
] as const;

const EVALUATION_TYPES = [
  ['value', 'Update'],
  ['equation', 'Compute'],
] as const;

function irModelOf(reg: Registry, id: Json | undefined): Row | undefined {
  return typeof id === 'number' ? reg.model('ir.model').rows.get(id) : undefined;
}

/** The value an object_write action sets, typed like the field (Odoo evaluates 'value' literally). */
function literal(reg: Registry, model: string, field: string, value: Json | undefined): Json {
  const text = typeof value === 'string' ? value : '';
  const type = reg.model(model).fields.get(field)?.type;
  if (type === 'integer') return Number.parseInt(text, 10) || 0;
  if (type === 'boolean') return text === 'True' || text === 'true' || text === '1';
  return text;
}

/** ir.actions.server.run(): every record in the context's active_ids, as the user who clicked. */
const runServerAction: MethodSpec = {
  params: [],
  run: ({ reg, env, ids }) => {
    const model = reg.model('ir.actions.server');
    for (const id of ids) {
      // Odoo reads the action with sudo; the user's own rights apply to what it does.
      const action = model.rows.get(id);
      if (!action) continue;
      const target = String(irModelOf(reg, action.model_id)?.model ?? '');
      const activeIds = env.context.active_ids;
      const recordIds = Array.isArray(activeIds)
        ? activeIds.filter((value): value is number => typeof value === 'number')
        : typeof env.context.active_id === 'number'
          ? [env.context.active_id]
          : [];
      if (env.context.active_model !== target || recordIds.length === 0) continue;
      if (action.state !== 'object_write')
        throw userError(`The sandbox runs only "Update Record" server actions, not ${String(action.state)}.`);
      const records = reg.browse(env, target, recordIds, 'write');
      reg.checkAccess(env, target, 'write');
      for (const [field, value] of writes(reg, action)) reg.write(env, target, records, { [field]: value });
    }
    return false;
  },
};

/** The (field, value) pairs an object_write action sets: update_path since 17.0, fields_lines on 16.0. */
function writes(reg: Registry, action: Row): [string, Json][] {
  const target = String(irModelOf(reg, action.model_id)?.model ?? '');
  if (reg.model('ir.actions.server').fields.has('update_path')) {
    const path = typeof action.update_path === 'string' ? action.update_path : '';
    return path ? [[path, literal(reg, target, path, action.value)]] : [];
  }
  const lines = reg.model('ir.server.object.lines').rowsWhere('server_id', action.id);
  return lines.flatMap((line): [string, Json][] => {
    const field =
      typeof line.col1 === 'number' ? reg.model('ir.model.fields').rows.get(line.col1) : undefined;
    return field ? [[String(field.name), literal(reg, target, String(field.name), line.value)]] : [];
  });
}

export function defineActionModels(reg: Registry): void {
  const legacy = reg.traits.serverActionWrite === 'fields_lines';
  reg.define({
    name: 'ir.actions.server',
    description: 'Server Actions',
    order: 'sequence,name',
    fields: {
      name: { type: 'char', string: 'Action Name', required: true },
      type: { type: 'char', string: 'Action Type' },
      sequence: { type: 'integer', string: 'Sequence' },
      model_id: { type: 'many2one', string: 'Model', relation: 'ir.model', required: true },
      model_name: {
        type: 'char',
        string: 'Model Name',
        compute: (row, { reg: registry }) => irModelOf(registry, row.model_id)?.model ?? false,
      },
      binding_model_id: { type: 'many2one', string: 'Binding Model', relation: 'ir.model' },
      binding_type: {
        type: 'selection',
        string: 'Binding Type',
        selection: [
          ['action', 'Action'],
          ['report', 'Report'],
        ],
      },
      binding_view_types: { type: 'char', string: 'Binding View Types' },
      state: { type: 'selection', string: 'Type', selection: SERVER_ACTION_STATES, required: true },
      evaluation_type: { type: 'selection', string: 'Value Type', selection: EVALUATION_TYPES },
      value: { type: 'text', string: 'Value' },
      ...(legacy
        ? {
            fields_lines: {
              type: 'one2many',
              string: 'Value Mapping',
              relation: 'ir.server.object.lines',
              compute: (row: Row, { reg: registry }: { reg: Registry }) =>
                registry
                  .model('ir.server.object.lines')
                  .rowsWhere('server_id', row.id)
                  .map((line) => line.id),
            },
          }
        : {
            update_path: { type: 'char', string: 'Field to Update Path' },
            update_field_id: { type: 'many2one', string: 'Field to Update', relation: 'ir.model.fields' },
          }),
    },
    defaults: (vals: Vals) => ({
      type: 'ir.actions.server',
      binding_type: 'action',
      binding_view_types: 'list,form',
      evaluation_type: 'value',
      sequence: 5,
      ...vals,
    }),
    afterCreate: (row, vals, _env, registry) => {
      try {
        if (legacy) createValueLines(registry, row, vals.fields_lines);
        checkUpdatePath(registry, row);
      } catch (error) {
        registry.remove('ir.actions.server', row.id);
        throw error;
      }
    },
    beforeWrite: (rows, vals, _env, registry) => {
      if (!legacy || vals.fields_lines === undefined) return;
      for (const row of rows) createValueLines(registry, row, vals.fields_lines);
      delete vals.fields_lines;
    },
    beforeUnlink: (rows, _env, registry) => {
      if (!legacy) return;
      for (const row of rows)
        for (const line of registry.model('ir.server.object.lines').rowsWhere('server_id', row.id))
          registry.remove('ir.server.object.lines', line.id);
    },
    methods: { run: runServerAction },
  });
  if (legacy) {
    reg.define({
      name: 'ir.server.object.lines',
      description: 'Server Action value mapping',
      fields: {
        server_id: { type: 'many2one', string: 'Related Server Action', relation: 'ir.actions.server' },
        col1: { type: 'many2one', string: 'Field', relation: 'ir.model.fields', required: true },
        value: { type: 'text', string: 'Value', required: true },
        evaluation_type: { type: 'selection', string: 'Evaluation Type', selection: EVALUATION_TYPES },
      },
    });
  }

  reg.define({
    name: 'mail.activity.type',
    description: 'Activity Type',
    order: 'sequence, id',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      sequence: { type: 'integer', string: 'Sequence' },
      res_model: { type: 'char', string: 'Model' },
    },
  });

  reg.define({
    name: 'mail.activity',
    description: 'Activity',
    order: 'date_deadline ASC, id ASC',
    fields: {
      res_model_id: { type: 'many2one', string: 'Document Model', relation: 'ir.model', required: true },
      res_model: {
        type: 'char',
        string: 'Related Document Model',
        compute: (row, { reg: registry }) => irModelOf(registry, row.res_model_id)?.model ?? false,
      },
      res_id: { type: 'many2one_reference', string: 'Related Document ID', required: true },
      res_name: { type: 'char', string: 'Document Name' },
      activity_type_id: { type: 'many2one', string: 'Activity Type', relation: 'mail.activity.type' },
      summary: { type: 'char', string: 'Summary' },
      note: { type: 'html', string: 'Note' },
      date_deadline: { type: 'date', string: 'Due Date', required: true },
      user_id: { type: 'many2one', string: 'Assigned to', relation: 'res.users' },
      state: {
        type: 'selection',
        string: 'State',
        selection: [
          ['overdue', 'Overdue'],
          ['today', 'Today'],
          ['planned', 'Planned'],
        ],
        compute: (row, { reg: registry }) => {
          const due = String(row.date_deadline);
          const today = registry.today();
          return due < today ? 'overdue' : due === today ? 'today' : 'planned';
        },
      },
    },
    // mail.activity.default_get: res_model_id from the context's default_res_model, found with
    // ir.model._get (no access check), as the chatter's "Schedule activity" relies on.
    defaults: (vals, env, registry) => ({
      res_model_id:
        typeof env.context.default_res_model === 'string'
          ? ([...registry.model('ir.model').rows.values()].find(
              (row) => row.model === env.context.default_res_model,
            )?.id ?? false)
          : false,
      activity_type_id: registry.ref('mail.mail_activity_data_todo')?.id ?? false,
      date_deadline: registry.today(),
      user_id: env.uid,
      ...vals,
    }),
    // Odoo checks the document: creating an activity on it needs the right to write it.
    afterCreate: (row, _vals, env, registry) => {
      const target = irModelOf(registry, row.res_model_id)?.model;
      if (typeof target !== 'string' || !registry.models.has(target)) {
        registry.remove('mail.activity', row.id);
        throw validationError(`Invalid model for the activity: ${String(row.res_model_id)}`);
      }
      try {
        registry.checkAccess(env, target, 'write');
        registry.browse(env, target, [Number(row.res_id)], 'write');
      } catch (error) {
        registry.remove('mail.activity', row.id);
        throw error;
      }
      row.res_name = registry.displayName(target, Number(row.res_id));
    },
    methods: { action_feedback: activityFeedback },
  });
  const todo = reg.insert(
    'mail.activity.type',
    { name: 'To-Do', sequence: 3, res_model: false },
    reg.superEnv(),
  );
  reg.registerXmlid('mail.mail_activity_data_todo', 'mail.activity.type', todo.id);
}

/** action_feedback: the activity is done, a "done" message goes in the chatter, the activity is gone. */
const activityFeedback: MethodSpec = {
  params: ['feedback', 'attachment_ids'],
  access: 'write',
  run: ({ reg, env, ids, args }) => {
    const activities = reg.browse(env, 'mail.activity', ids, 'write');
    let messageId: number | false = false;
    for (const activity of activities) {
      const target = String(irModelOf(reg, activity.res_model_id)?.model ?? '');
      const type =
        typeof activity.activity_type_id === 'number'
          ? reg.displayName('mail.activity.type', activity.activity_type_id)
          : '';
      const feedback =
        typeof args.feedback === 'string' && args.feedback
          ? `<div><p>${escapeHtml(args.feedback)}</p></div>`
          : '';
      const message = reg.insert(
        'mail.message',
        {
          body: `<div><p>${escapeHtml(String(type))} done${activity.summary ? `: ${escapeHtml(String(activity.summary))}` : ''}</p></div>${feedback}`,
          message_type: 'notification',
          model: target,
          res_id: Number(activity.res_id),
          author_id: authorOf(reg, env),
          date: reg.now(),
        },
        env,
      );
      messageId = messageId === false ? message.id : messageId;
      reg.remove('mail.activity', activity.id);
    }
    return messageId;
  },
};

function authorOf(reg: Registry, env: Env): number | false {
  const user = reg.model('res.users').rows.get(env.uid);
  return typeof user?.partner_id === 'number' ? user.partner_id : false;
}

/** 16.0's value lines, given as one2many commands: (5) clears, (0, 0, vals) adds. */
function createValueLines(reg: Registry, action: Row, commands: Json | undefined): void {
  delete action.fields_lines;
  if (!Array.isArray(commands)) return;
  for (const command of commands) {
    if (!Array.isArray(command)) continue;
    if (command[0] === 5)
      for (const line of reg.model('ir.server.object.lines').rowsWhere('server_id', action.id))
        reg.remove('ir.server.object.lines', line.id);
    const vals = command[2];
    if (command[0] === 0 && vals && typeof vals === 'object' && !Array.isArray(vals))
      reg.insert('ir.server.object.lines', { ...vals, server_id: action.id }, reg.superEnv());
  }
}

/** Odoo refuses an update_path that names no field of the action's model. */
function checkUpdatePath(reg: Registry, row: Row): void {
  if (row.state !== 'object_write' || typeof row.update_path !== 'string') return;
  const target = irModelOf(reg, row.model_id)?.model;
  if (typeof target !== 'string' || !reg.model(target).fields.has(row.update_path)) {
    throw validationError(`Invalid path '${row.update_path}' on model '${String(target)}'`);
  }
}
