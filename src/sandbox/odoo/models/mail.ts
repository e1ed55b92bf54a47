/**
 * The chatter: mail.message, mail.thread's message_post (Odoo's HTML escaping of text bodies, the
 * author's email rule of each version) and field tracking (a notification message with one
 * mail.tracking.value per changed tracked field, captures 60–60h).
 */
import { type Json, userError, valueError } from '../errors.js';
import type { FieldDef, Row } from '../fields.js';
import { singleRecord } from '../orm.js';
import type { Env, MethodSpec, Model, Registry } from '../registry.js';

export const MESSAGE_TYPES = [
  ['email', 'Incoming Email'],
  ['comment', 'Comment'],
  ['email_outgoing', 'Outgoing Email'],
  ['notification', 'System notification'],
  ['auto_comment', 'Automated Targeted Notification'],
  ['user_notification', 'User Specific Notification'],
] as const;

const TRACKING_VALUE_COLUMNS = ['integer', 'float', 'char', 'text', 'datetime'] as const;

export function defineMailModels(reg: Registry): void {
  reg.define({
    name: 'mail.message.subtype',
    description: 'Message subtypes',
    order: 'sequence, id',
    fields: {
      name: { type: 'char', string: 'Message Type', required: true },
      internal: { type: 'boolean', string: 'Internal Only' },
      sequence: { type: 'integer', string: 'Sequence' },
    },
  });

  reg.define({
    name: 'mail.message',
    description: 'Message',
    order: 'id desc',
    fields: {
      subject: { type: 'char', string: 'Subject' },
      body: { type: 'html', string: 'Contents' },
      message_type: { type: 'selection', string: 'Type', selection: MESSAGE_TYPES, required: true },
      subtype_id: { type: 'many2one', string: 'Subtype', relation: 'mail.message.subtype' },
      model: { type: 'char', string: 'Related Document Model' },
      res_id: { type: 'many2one_reference', string: 'Related Document ID' },
      record_name: { type: 'char', string: 'Message Record Name' },
      author_id: { type: 'many2one', string: 'Author', relation: 'res.partner' },
      partner_ids: { type: 'many2many', string: 'Recipients', relation: 'res.partner' },
      email_from: { type: 'char', string: 'From' },
      date: { type: 'datetime', string: 'Date' },
      // Odoo keeps a Message-Id given to message_post and makes one otherwise (mail.message._get_message_id).
      message_id: { type: 'char', string: 'Message-Id' },
      tracking_value_ids: {
        type: 'one2many',
        string: 'Tracking values',
        relation: 'mail.tracking.value',
        // Odoo lists them newest first and lets only Settings read them (60f).
        groups: ['base.group_system'],
        compute: (row, { reg: registry }) =>
          registry
            .model('mail.tracking.value')
            .rowsWhere('mail_message_id', row.id)
            .map((value) => value.id)
            .reverse(),
      },
    },
    // Odoo names a message by its subject or record name, False without either (60d).
    displayName: (row) =>
      (typeof row.subject === 'string' && row.subject) ||
      (typeof row.record_name === 'string' && row.record_name) ||
      false,
  });

  const values: { [name: string]: FieldDef } = {};
  for (const side of ['old', 'new'] as const) {
    values[`${side}_value_integer`] = {
      type: 'integer',
      string: `${side === 'old' ? 'Old' : 'New'} Value Integer`,
    };
    values[`${side}_value_float`] = {
      type: 'float',
      string: `${side === 'old' ? 'Old' : 'New'} Value Float`,
    };
    values[`${side}_value_char`] = { type: 'char', string: `${side === 'old' ? 'Old' : 'New'} Value Char` };
    values[`${side}_value_text`] = { type: 'text', string: `${side === 'old' ? 'Old' : 'New'} Value Text` };
    values[`${side}_value_datetime`] = {
      type: 'datetime',
      string: `${side === 'old' ? 'Old' : 'New'} Value DateTime`,
    };
  }
  reg.define({
    name: 'mail.tracking.value',
    description: 'Mail Tracking Value',
    order: 'id desc',
    fields: {
      field_id: { type: 'many2one', string: 'Field', relation: 'ir.model.fields', required: true },
      field_info: { type: 'json', string: 'Removed field information' },
      ...values,
      currency_id: { type: 'many2one', string: 'Currency', relation: 'res.currency' },
      mail_message_id: {
        type: 'many2one',
        string: 'Message ID',
        relation: 'mail.message',
        required: true,
        indexed: true,
      },
    },
    displayName: (row, registry) =>
      typeof row.field_id === 'number' ? registry.displayName('ir.model.fields', row.field_id) : '',
  });

  reg.tracker = trackChanges;
}

function subtypeId(reg: Registry, xmlid: string): number {
  const found = reg.ref(xmlid);
  if (found?.model !== 'mail.message.subtype')
    throw valueError(`External ID not found in the system: ${xmlid}`);
  return found.id;
}

/** Odoo's tools.formataddr: `"Name" <email>`, or false when the partner has no email. */
function emailFormatted(reg: Registry, partnerId: Json | undefined): string | false {
  const partner = typeof partnerId === 'number' ? reg.model('res.partner').rows.get(partnerId) : undefined;
  if (typeof partner?.email !== 'string' || partner.email === '') return false;
  const name =
    typeof partner.name === 'string' ? partner.name.replaceAll('\\', '\\\\').replaceAll('"', '\\"') : '';
  return name ? `"${name}" <${partner.email}>` : partner.email;
}

function authorOf(reg: Registry, env: Env): Json {
  return reg.model('res.users').rows.get(env.uid)?.partner_id ?? false;
}

/** One side of a mail.tracking.value: which column holds the value depends on the field type. */
function trackingColumns(reg: Registry, field: FieldDef, value: Json, side: 'old' | 'new') {
  const columns: { [name: string]: Json } = {};
  for (const column of TRACKING_VALUE_COLUMNS)
    columns[`${side}_value_${column}`] = column === 'integer' || column === 'float' ? 0 : false;
  const empty = value === false || value === null || value === undefined;
  switch (field.type) {
    case 'boolean':
    case 'integer':
      columns[`${side}_value_integer`] = Number(value === true ? 1 : empty ? 0 : value);
      break;
    case 'float':
    case 'monetary':
      columns[`${side}_value_float`] = empty ? 0 : Number(value);
      break;
    case 'date':
    case 'datetime':
      columns[`${side}_value_datetime`] = empty
        ? false
        : String(value).length === 10
          ? `${String(value)} 00:00:00`
          : value;
      break;
    case 'text':
      columns[`${side}_value_text`] = empty ? false : value;
      break;
    case 'selection':
      columns[`${side}_value_char`] = empty
        ? false
        : (field.selection?.find(([key]) => key === value)?.[1] ?? String(value));
      break;
    case 'many2one':
      columns[`${side}_value_integer`] = typeof value === 'number' ? value : 0;
      columns[`${side}_value_char`] =
        typeof value === 'number' && field.relation ? reg.displayName(field.relation, value) : false;
      break;
    default:
      columns[`${side}_value_char`] = empty ? false : String(value);
  }
  return columns;
}

/**
 * Registry.tracker: after a write changed tracked fields, a notification message (body "",
 * author the writer's partner) with one tracking value per changed field. Posting a customer
 * invoice uses the "Validated" subtype and names the message after the invoice; any other change
 * is logged as a Note without record name (as 18.0 and 19.0 answer).
 */
function trackChanges(
  reg: Registry,
  model: Model,
  row: Row,
  before: ReadonlyMap<string, Json>,
  env: Env,
): void {
  const changed = [...before.entries()]
    .filter(([name, old]) => JSON.stringify(old) !== JSON.stringify(row[name] ?? false))
    .map(([name]) => name)
    // Odoo shows them by field name; the newest value comes first, so they are created in reverse.
    .sort()
    .reverse();
  if (changed.length === 0) return;
  const validated =
    model.name === 'account.move' &&
    changed.includes('state') &&
    row.state === 'posted' &&
    (row.move_type === 'out_invoice' || row.move_type === 'out_refund');
  const authorId = authorOf(reg, env);
  const message = reg.insert(
    'mail.message',
    {
      body: '',
      message_type: 'notification',
      subtype_id: subtypeId(reg, validated ? 'account.mt_invoice_validated' : 'mail.mt_note'),
      model: model.name,
      res_id: row.id,
      record_name: validated ? reg.displayName(model.name, row.id) : false,
      author_id: authorId,
      email_from: emailFormatted(reg, authorId),
      date: reg.now(),
    },
    env,
  );
  for (const name of changed) {
    const field = model.fields.get(name);
    if (!field) continue;
    reg.insert(
      'mail.tracking.value',
      {
        field_id: reg.fieldIds.get(`${model.name}.${name}`) ?? false,
        field_info: false,
        ...trackingColumns(reg, field, before.get(name) ?? false, 'old'),
        ...trackingColumns(reg, field, row[name] ?? false, 'new'),
        currency_id:
          field.type === 'monetary' && field.currencyField ? (row[field.currencyField] ?? false) : false,
        mail_message_id: message.id,
      },
      env,
    );
  }
}

export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
}

/**
 * A text body becomes escaped HTML in a paragraph; `body_is_html` (Odoo 17+, for RPC) keeps markup.
 * 16.0 has no such parameter and stores every body as (sanitized) HTML, loose text in a paragraph.
 */
export function messageBody(
  body: Json | undefined,
  isHtml: boolean,
  style: 'html' | 'escaped-unless-flag' = 'escaped-unless-flag',
): string {
  const text = typeof body === 'string' ? body : '';
  if (text === '') return '';
  if (style === 'html') {
    const sanitized = text.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
    return sanitized.trimStart().startsWith('<') ? sanitized : `<p>${sanitized}</p>`;
  }
  if (isHtml) return text.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
  return `<p>${escapeHtml(text).replaceAll('\n', '<br>')}</p>`;
}

/** mail.thread.message_post: keyword-only, on exactly one record; returns an int up to 18.0, [id] on 19.0. */
export const messagePost: MethodSpec = {
  keywordOnly: true,
  // mail.thread's _mail_post_access: posting needs write access on the document.
  access: 'write',
  params: [],
  run: (call) => {
    const { reg, env, model, args } = call;
    const record = singleRecord(call);
    const messageType = typeof args.message_type === 'string' ? args.message_type : 'notification';
    if (!MESSAGE_TYPES.some(([key]) => key === messageType)) {
      throw valueError(`Wrong value for mail.message.message_type: '${messageType}'`);
    }
    if (messageType === 'user_notification') {
      throw userError('Use message_notify to send a notification to an user.');
    }
    const subtype =
      typeof args.subtype_id === 'number'
        ? args.subtype_id
        : subtypeId(reg, typeof args.subtype_xmlid === 'string' ? args.subtype_xmlid : 'mail.mt_note');
    const authorId = typeof args.author_id === 'number' ? args.author_id : authorOf(reg, env);
    const emailFrom =
      typeof args.email_from === 'string' && args.email_from !== ''
        ? args.email_from
        : emailFormatted(reg, authorId);
    // 16.0–18.0 refuse an author without email (51); 19.0 posts with email_from False.
    if (emailFrom === false && reg.traits.authorEmailRequired) {
      throw userError("Unable to send message, please configure the sender's email address.");
    }
    const message = reg.insert(
      'mail.message',
      {
        body: messageBody(args.body, args.body_is_html === true, reg.traits.messageBody),
        subject: typeof args.subject === 'string' ? args.subject : false,
        message_type: messageType,
        subtype_id: subtype,
        model: model.name,
        res_id: record.id,
        record_name: reg.displayName(model.name, record.id),
        author_id: authorId,
        partner_ids: Array.isArray(args.partner_ids) ? args.partner_ids : [],
        email_from: emailFrom,
        date: reg.now(),
        message_id:
          typeof args.message_id === 'string' && args.message_id !== ''
            ? args.message_id
            : trackingMessageId(`${record.id}-${model.name}`),
      },
      env,
    );
    return reg.traits.messagePostReturnsList ? [message.id] : message.id;
  },
};

/** tools.generate_tracking_message_id: `<random.time-tag@host>`. */
function trackingMessageId(tag: string): string {
  return `<${Math.random().toString().slice(2, 14)}.${(Date.now() / 1000).toFixed(6)}-openerp-${tag}@sandbox>`;
}

/** Chatter of one record, oldest first. */
export function messagesOf(reg: Registry, model: string, resId: number): Row[] {
  return [...reg.model('mail.message').rows.values()].filter(
    (row) => row.model === model && row.res_id === resId,
  );
}
