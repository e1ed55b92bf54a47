/** mail.message and mail.thread's message_post (the chatter), with Odoo's HTML escaping of text bodies. */
import { type Json, userError, valueError } from '../errors.js';
import type { Row } from '../fields.js';
import { singleRecord } from '../orm.js';
import type { MethodSpec, Registry } from '../registry.js';

export const MESSAGE_TYPES = [
  ['email', 'Incoming Email'],
  ['comment', 'Comment'],
  ['email_outgoing', 'Outgoing Email'],
  ['notification', 'System notification'],
  ['auto_comment', 'Automated Targeted Notification'],
  ['user_notification', 'User Specific Notification'],
] as const;

/** xmlid → subtype id, seeded by seed.ts. */
export const SUBTYPE_XMLIDS: Record<string, number> = {
  'mail.mt_comment': 1,
  'mail.mt_note': 2,
  'mail.mt_activities': 3,
};

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
      date: { type: 'datetime', string: 'Date' },
    },
    displayName: (row) => (typeof row.record_name === 'string' ? row.record_name : `mail.message,${row.id}`),
  });
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#x27;');
}

/** A text body becomes escaped HTML in a paragraph; `body_is_html` (Odoo 17+, for RPC) keeps markup. */
export function messageBody(body: Json | undefined, isHtml: boolean): string {
  const text = typeof body === 'string' ? body : '';
  if (text === '') return '';
  if (isHtml) return text.replace(/<script\b[^>]*>[\s\S]*?<\/script>/gi, '');
  return `<p>${escapeHtml(text).replaceAll('\n', '<br>')}</p>`;
}

/** mail.thread.message_post: keyword-only, on exactly one record; returns an int on 18.0, [id] on 19.0. */
export const messagePost: MethodSpec = {
  keywordOnly: true,
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
    let subtypeId: number | undefined = typeof args.subtype_id === 'number' ? args.subtype_id : undefined;
    if (subtypeId === undefined) {
      const xmlid = typeof args.subtype_xmlid === 'string' ? args.subtype_xmlid : 'mail.mt_note';
      subtypeId = SUBTYPE_XMLIDS[xmlid];
      if (subtypeId === undefined) throw valueError(`External ID not found in the system: ${xmlid}`);
    }
    const user = reg.model('res.users').rows.get(env.uid);
    const authorId = typeof args.author_id === 'number' ? args.author_id : (user?.partner_id ?? false);
    const message = reg.insert(
      'mail.message',
      {
        body: messageBody(args.body, args.body_is_html === true),
        subject: typeof args.subject === 'string' ? args.subject : false,
        message_type: messageType,
        subtype_id: subtypeId,
        model: model.name,
        res_id: record.id,
        record_name: reg.displayName(model.name, record.id),
        author_id: authorId,
        partner_ids: Array.isArray(args.partner_ids) ? args.partner_ids : [],
        date: reg.now(),
      },
      env,
    );
    return reg.version === '18.0' ? message.id : [message.id];
  },
};

/** Chatter of one record, oldest first. */
export function messagesOf(reg: Registry, model: string, resId: number): Row[] {
  return [...reg.model('mail.message').rows.values()].filter(
    (row) => row.model === model && row.res_id === resId,
  );
}
