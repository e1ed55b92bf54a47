/**
 * Sending a mail template the way Odoo 17+ does for an RPC client: mail.template (the standard
 * account.email_template_edi_invoice, copy()), ir.actions.report (the invoice report a template
 * attaches), the composer mail.compose.message in comment mode (create renders the template for
 * the record, action_send_mail posts it), and what that leaves: a mail.message on the document
 * with the rendered body, an ir.attachment PDF and the customer as recipient, and a mail.mail
 * the sandbox delivers through the company's ir.mail_server (a loopback SMTP in tests).
 *
 * Template rendering covers the QWeb Odoo's invoice template uses (t-if/t-elif/t-else, t-out,
 * t-att-*) and `{{ }}` inline templates, over a small Python subset (paths on object/user,
 * `or`/`and`/`not`, `in`, literals, format_amount, is_html_empty); anything else is refused.
 */
import nodemailer from 'nodemailer';
import { type ArchNode, parseArch } from '../arch.js';
import { type Json, userError, valueError } from '../errors.js';
import { idList, type Row } from '../fields.js';
import { singleRecord } from '../orm.js';
import type { Env, Registry } from '../registry.js';
import { invoiceReport } from '../web.js';
import { formatAmount } from './invoice.js';

const STANDARD_BODY = `<div style="margin: 0px; padding: 0px;">
    <p style="margin: 0px; padding: 0px; font-size: 13px;">
        Dear
        <t t-if="object.partner_id.parent_id">
            <t t-out="object.partner_id.name or ''">Brandon Freeman</t> (<t t-out="object.partner_id.parent_id.name or ''">Azure Interior</t>),
        </t>
        <t t-else="">
            <t t-out="object.partner_id.name or ''">Brandon Freeman</t>,
        </t>
        <br/><br/>
        Here is your
        <t t-if="object.name">
            invoice <span style="font-weight:bold;" t-out="object.name or ''">INV/2021/05/0005</span>
        </t>
        <t t-else="">
            invoice
        </t>
        amounting in <span style="font-weight:bold;" t-out="format_amount(object.amount_total, object.currency_id) or ''">$ 143,750.00</span>
        from <t t-out="object.company_id.name or ''">YourCompany</t>.
        <t t-if="object.payment_state in ('paid', 'in_payment')">
            This invoice is already paid.
        </t>
        <t t-else="">
            Please remit payment at your earliest convenience.
        </t>
        <br/><br/>
        Do not hesitate to contact us if you have any questions.
    </p>
</div>`;

const MAIL_STATES = [
  ['outgoing', 'Outgoing'],
  ['sent', 'Sent'],
  ['received', 'Received'],
  ['exception', 'Delivery Failed'],
  ['cancel', 'Cancelled'],
] as const;

export function defineComposeModels(reg: Registry): void {
  reg.define({
    name: 'ir.actions.report',
    description: 'Report Action',
    fields: {
      name: { type: 'char', string: 'Action Name', required: true },
      model: { type: 'char', string: 'Model Name', required: true },
      report_name: { type: 'char', string: 'Template Name', required: true },
      report_type: {
        type: 'selection',
        string: 'Report Type',
        selection: [
          ['qweb-html', 'HTML'],
          ['qweb-pdf', 'PDF'],
          ['qweb-text', 'Text'],
        ],
      },
      print_report_name: { type: 'char', string: 'Printed Report Name' },
    },
  });

  reg.define({
    name: 'mail.template',
    description: 'Email Templates',
    order: 'name',
    fields: {
      name: { type: 'char', string: 'Name' },
      description: { type: 'text', string: 'Template description' },
      model_id: { type: 'many2one', string: 'Applies to', relation: 'ir.model' },
      model: { type: 'char', string: 'Related Document Model' },
      subject: { type: 'char', string: 'Subject' },
      email_from: { type: 'char', string: 'From' },
      partner_to: { type: 'char', string: 'To (Partners)' },
      use_default_to: { type: 'boolean', string: 'Default recipients' },
      body_html: { type: 'html', string: 'Body' },
      report_template_ids: { type: 'many2many', string: 'Dynamic Reports', relation: 'ir.actions.report' },
      auto_delete: { type: 'boolean', string: 'Auto Delete' },
      user_id: { type: 'many2one', string: 'User', relation: 'res.users' },
    },
    methods: {
      // BaseModel.copy: the same values, name suffixed " (copy)" unless `default` names it.
      copy: {
        access: 'create',
        params: ['default'],
        run: (call) => {
          const { reg: registry, env, model, args } = call;
          call.reg.checkAccess(env, model.name, 'read');
          const source = singleRecord(call);
          const {
            id: _id,
            create_date: _c,
            write_date: _w,
            create_uid: _cu,
            write_uid: _wu,
            ...values
          } = source;
          const overrides =
            args.default && typeof args.default === 'object' && !Array.isArray(args.default)
              ? args.default
              : {};
          const copied = registry.create(env, model.name, {
            ...values,
            report_template_ids: [[6, 0, idList(source.report_template_ids)]],
            name: `${String(source.name ?? '')} (copy)`,
            ...overrides,
          });
          return copied.id;
        },
      },
    },
  });

  reg.define({
    name: 'ir.mail_server',
    description: 'Mail Server',
    order: 'sequence, id',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      smtp_host: { type: 'char', string: 'SMTP Server' },
      smtp_port: { type: 'integer', string: 'SMTP Port' },
      smtp_encryption: {
        type: 'selection',
        string: 'Connection Encryption',
        selection: [
          ['none', 'None'],
          ['starttls', 'TLS (STARTTLS)'],
          ['ssl', 'SSL/TLS'],
        ],
      },
      sequence: { type: 'integer', string: 'Priority' },
      active: { type: 'boolean', string: 'Active' },
    },
    defaults: (vals) => ({ active: true, sequence: 10, smtp_port: 25, smtp_encryption: 'none', ...vals }),
  });

  reg.define({
    name: 'ir.attachment',
    description: 'Attachment',
    order: 'id desc',
    fields: {
      name: { type: 'char', string: 'Name', required: true },
      res_model: { type: 'char', string: 'Resource Model' },
      res_id: { type: 'many2one_reference', string: 'Resource ID' },
      type: {
        type: 'selection',
        string: 'Type',
        selection: [
          ['url', 'URL'],
          ['binary', 'File'],
        ],
      },
      mimetype: { type: 'char', string: 'Mime Type' },
      datas: { type: 'binary', string: 'File Content (base64)' },
      file_size: { type: 'integer', string: 'File Size' },
    },
  });

  // What message_post stores besides the body: the attachments (mail.message.attachment_ids).
  reg.model('mail.message').fields.set('attachment_ids', {
    type: 'many2many',
    string: 'Attachments',
    relation: 'ir.attachment',
  });

  reg.define({
    name: 'mail.mail',
    description: 'Outgoing Mails',
    order: 'id desc',
    fields: {
      mail_message_id: { type: 'many2one', string: 'Message', relation: 'mail.message', required: true },
      subject: { type: 'char', string: 'Subject' },
      body_html: { type: 'text', string: 'Text Contents' },
      email_from: { type: 'char', string: 'From' },
      email_to: { type: 'text', string: 'To' },
      recipient_ids: { type: 'many2many', string: 'To (Partners)', relation: 'res.partner' },
      attachment_ids: { type: 'many2many', string: 'Attachments', relation: 'ir.attachment' },
      mail_server_id: { type: 'many2one', string: 'Outgoing mail server', relation: 'ir.mail_server' },
      state: { type: 'selection', string: 'Status', selection: MAIL_STATES },
      failure_reason: { type: 'text', string: 'Failure Reason' },
      model: { type: 'char', string: 'Related Document Model' },
      res_id: { type: 'many2one_reference', string: 'Related Document ID' },
    },
  });

  reg.define({
    name: 'mail.compose.message',
    description: 'Email composition wizard',
    fields: {
      composition_mode: {
        type: 'selection',
        string: 'Composition mode',
        selection: [
          ['comment', 'Post on a document'],
          ['mass_mail', 'Email Mass Mailing'],
        ],
      },
      model: { type: 'char', string: 'Related Document Model' },
      // A Text field holding a list repr since 17.0 (parse_res_ids reads a list or its repr).
      res_ids: { type: 'text', string: 'Related Document IDs' },
      template_id: { type: 'many2one', string: 'Use template', relation: 'mail.template' },
      subject: { type: 'char', string: 'Subject' },
      body: { type: 'html', string: 'Contents' },
      email_from: { type: 'char', string: 'From' },
      partner_ids: { type: 'many2many', string: 'Additional Contacts', relation: 'res.partner' },
      attachment_ids: { type: 'many2many', string: 'Attachments', relation: 'ir.attachment' },
      message_type: {
        type: 'selection',
        string: 'Type',
        selection: [
          ['comment', 'Comment'],
          ['notification', 'System notification'],
        ],
      },
      subtype_id: { type: 'many2one', string: 'Subtype', relation: 'mail.message.subtype' },
    },
    // mail_compose_message_rule: a user sees only the composers he made.
    // (A record being created has no create_uid yet: it will be the user's.)
    rule: (row, env) => (row.create_uid ?? env.uid) === env.uid,
    defaults: (vals) => {
      const resIds = vals.res_ids;
      return {
        composition_mode: 'comment',
        message_type: 'comment',
        ...vals,
        ...(Array.isArray(resIds) ? { res_ids: JSON.stringify(resIds) } : {}),
      };
    },
    // The computes of 17.0+: with a template, a single-record comment composer holds the template
    // rendered for the record (subject, body, sender, recipients) and its reports as attachments.
    afterCreate: (row, _vals, env, registry) => {
      if (typeof row.template_id !== 'number' || row.composition_mode !== 'comment') return;
      const [resId] = parseResIds(row.res_ids);
      const modelName = typeof row.model === 'string' ? row.model : '';
      if (resId === undefined || !modelName) return;
      const [template] = registry.browse(env, 'mail.template', [row.template_id]);
      if (!template) return;
      registry.checkAccess(env, 'mail.template', 'read');
      const [record] = registry.browse(env, modelName, [resId]);
      if (!record) return;
      const scope = new Scope(registry, env, modelName, record);
      const attachments = idList(template.report_template_ids).map((reportId) => {
        const report = registry.model('ir.actions.report').rows.get(reportId);
        if (
          report?.report_name !== 'account.report_invoice_with_payments' &&
          report?.report_name !== 'account.report_invoice'
        )
          throw userError(`The Odoo sandbox cannot render the report ${String(report?.report_name)}.`);
        const pdf = invoiceReport(registry, env, [resId]);
        return registry.insert(
          'ir.attachment',
          {
            name: `${registry.displayName(modelName, resId)}.pdf`,
            res_model: 'mail.compose.message',
            res_id: row.id,
            type: 'binary',
            mimetype: 'application/pdf',
            datas: pdf.toString('base64'),
            file_size: pdf.length,
          },
          env,
        ).id;
      });
      const partnerId = template.use_default_to === true ? record.partner_id : false;
      registry.update(
        'mail.compose.message',
        row,
        {
          subject: renderInline(scope, String(template.subject ?? '')),
          body: renderQweb(scope, String(template.body_html ?? '')),
          email_from: template.email_from ? renderInline(scope, String(template.email_from)) : false,
          partner_ids: typeof partnerId === 'number' ? [[6, 0, [partnerId]]] : [[6, 0, []]],
          attachment_ids: [[6, 0, attachments]],
        },
        env,
      );
    },
    methods: {
      action_send_mail: {
        params: [],
        access: 'write',
        run: (call) => {
          const { reg: registry, env } = call;
          const composer = singleRecord(call);
          const modelName = typeof composer.model === 'string' ? composer.model : '';
          const resIds = parseResIds(composer.res_ids);
          if (resIds.length === 0)
            throw valueError(
              `Mail composer in comment mode should run on at least one record. No records found (model ${modelName}).`,
            );
          for (const resId of resIds) sendComment(registry, env, composer, modelName, resId);
          return { type: 'ir.actions.act_window_close' };
        },
      },
    },
  });

  const report = reg.insert(
    'ir.actions.report',
    {
      name: 'PDF',
      model: 'account.move',
      report_name: 'account.report_invoice_with_payments',
      report_type: 'qweb-pdf',
      print_report_name: '(object._get_report_base_filename())',
    },
    reg.superEnv(),
  );
  reg.registerXmlid('account.account_invoices', 'ir.actions.report', report.id);
  // 18.0 and 19.0 ship it without a report: account.move.send attaches the PDF instead.
  const standard = reg.insert(
    'mail.template',
    {
      name: 'Invoice: Sending',
      description: 'Sent to customers with their invoices in attachment',
      model: 'account.move',
      subject: "{{ object.company_id.name }} Invoice (Ref {{ object.name or 'n/a' }})",
      email_from:
        '{{ (object.invoice_user_id.email_formatted or object.company_id.email_formatted or user.email_formatted) }}',
      partner_to: false,
      use_default_to: true,
      body_html: STANDARD_BODY,
      auto_delete: true,
    },
    reg.superEnv(),
  );
  reg.registerXmlid('account.email_template_edi_invoice', 'mail.template', standard.id);
}

function parseResIds(value: Json | undefined): number[] {
  if (Array.isArray(value)) return value.filter((id): id is number => typeof id === 'number');
  if (typeof value !== 'string' || value.trim() === '') return [];
  const parsed: unknown = JSON.parse(value);
  return Array.isArray(parsed) ? parsed.filter((id): id is number => typeof id === 'number') : [];
}

/** The composer's content posted on one record, then its email queued and delivered. */
function sendComment(reg: Registry, env: Env, composer: Row, modelName: string, resId: number): void {
  const attachmentIds = idList(composer.attachment_ids);
  const partnerIds = idList(composer.partner_ids);
  // message_post as the user: write access on the document, the author's email rule, the id.
  const posted = reg.call(env, modelName, 'message_post', [[resId]], {
    body: typeof composer.body === 'string' ? composer.body : '',
    body_is_html: true,
    subject: typeof composer.subject === 'string' ? composer.subject : false,
    message_type: typeof composer.message_type === 'string' ? composer.message_type : 'comment',
    subtype_xmlid: 'mail.mt_comment',
    partner_ids: partnerIds,
    ...(typeof composer.email_from === 'string' && composer.email_from
      ? { email_from: composer.email_from }
      : {}),
  });
  const messageId = Array.isArray(posted) ? Number(posted[0]) : Number(posted);
  const message = reg.model('mail.message').rows.get(messageId);
  if (!message) throw userError('The message was not posted.');
  const su = reg.superEnv(env.companyId);
  reg.update('mail.message', message, { attachment_ids: [[6, 0, attachmentIds]] }, su);
  for (const id of attachmentIds) {
    const attachment = reg.model('ir.attachment').rows.get(id);
    if (attachment)
      reg.update('ir.attachment', attachment, { res_model: 'mail.message', res_id: messageId }, su);
  }
  if (partnerIds.length === 0) return;
  const partners = partnerIds
    .map((id) => reg.model('res.partner').rows.get(id))
    .filter((row) => row !== undefined);
  const server = [...reg.model('ir.mail_server').rows.values()]
    .filter((row) => row.active !== false)
    .sort((a, b) => Number(a.sequence ?? 10) - Number(b.sequence ?? 10) || a.id - b.id)[0];
  const mail = reg.insert(
    'mail.mail',
    {
      mail_message_id: messageId,
      subject: message.subject ?? false,
      body_html: message.body ?? '',
      email_from: message.email_from ?? false,
      email_to: partners
        .map((partner) => formatted(partner) || '')
        .filter(Boolean)
        .join(','),
      recipient_ids: [[6, 0, partnerIds]],
      attachment_ids: [[6, 0, attachmentIds]],
      mail_server_id: server?.id ?? false,
      state: 'outgoing',
      model: modelName,
      res_id: resId,
    },
    su,
  );
  if (server) void deliver(reg, mail, server, su);
}

function formatted(partner: Row): string | false {
  if (typeof partner.email !== 'string' || partner.email === '') return false;
  const name = typeof partner.name === 'string' ? partner.name.replaceAll('"', '\\"') : '';
  return name ? `"${name}" <${partner.email}>` : partner.email;
}

/** mail.mail.send after the commit, as Odoo's force_send does for a posted comment. */
async function deliver(reg: Registry, mail: Row, server: Row, env: Env): Promise<void> {
  const transport = nodemailer.createTransport({
    host: String(server.smtp_host ?? '127.0.0.1'),
    port: Number(server.smtp_port ?? 25),
    secure: server.smtp_encryption === 'ssl',
    ignoreTLS: server.smtp_encryption === 'none',
  });
  const message = reg.model('mail.message').rows.get(Number(mail.mail_message_id));
  try {
    await transport.sendMail({
      from: typeof mail.email_from === 'string' ? mail.email_from : 'odoo@sandbox.invalid',
      to: String(mail.email_to ?? ''),
      subject: typeof mail.subject === 'string' ? mail.subject : '',
      html: String(mail.body_html ?? ''),
      ...(typeof message?.message_id === 'string' ? { messageId: message.message_id } : {}),
      attachments: idList(mail.attachment_ids).flatMap((id) => {
        const attachment = reg.model('ir.attachment').rows.get(id);
        if (!attachment) return [];
        return [
          {
            filename: String(attachment.name),
            content: Buffer.from(String(attachment.datas ?? ''), 'base64'),
            contentType: String(attachment.mimetype ?? 'application/octet-stream'),
          },
        ];
      }),
    });
    reg.update('mail.mail', mail, { state: 'sent' }, env);
  } catch (error) {
    reg.update(
      'mail.mail',
      mail,
      { state: 'exception', failure_reason: error instanceof Error ? error.message : String(error) },
      env,
    );
  } finally {
    transport.close();
  }
}

// ---------------------------------------------------------------- template rendering

type Value = Json | { readonly record: string; readonly id: number } | Value[];

function isRecord(value: Value): value is { record: string; id: number } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'record' in value;
}

function truthy(value: Value): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== false && value !== null && value !== '' && value !== 0 && value !== undefined;
}

class Scope {
  constructor(
    readonly reg: Registry,
    readonly env: Env,
    readonly modelName: string,
    readonly record: Row,
  ) {}

  variable(name: string): Value {
    if (name === 'object') return { record: this.modelName, id: this.record.id };
    if (name === 'user') return { record: 'res.users', id: this.env.uid };
    if (name === 'True') return true;
    if (name === 'False' || name === 'None') return false;
    throw userError(`Failed to render template: name '${name}' is not defined`);
  }

  attribute(target: Value, name: string): Value {
    if (target === false) return false;
    if (!isRecord(target))
      throw userError(`Failed to render template: '${String(target)}' has no attribute '${name}'`);
    const model = this.reg.model(target.record);
    const row = model.rows.get(target.id);
    if (!row) return false;
    if (name === 'email_formatted') {
      const partner =
        target.record === 'res.partner'
          ? row
          : this.reg.model('res.partner').rows.get(Number(row.partner_id));
      return partner ? formatted(partner) : false;
    }
    const field = model.fields.get(name);
    if (!field)
      throw userError(`Failed to render template: '${target.record}' object has no attribute '${name}'`);
    const value = this.reg.readValue(this.reg.superEnv(this.env.companyId), model, row, name);
    if (field.type === 'many2one')
      return Array.isArray(value) && typeof value[0] === 'number' && field.relation
        ? { record: field.relation, id: value[0] }
        : typeof value === 'number' && field.relation
          ? { record: field.relation, id: value }
          : false;
    return value as Json;
  }
}

const TOKEN = /\s*(?:(\d+(?:\.\d+)?)|('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|([A-Za-z_]\w*)|(==|!=|[().,]))/y;

/** A Python expression of the subset templates use, evaluated in the scope. */
function evaluate(scope: Scope, source: string): Value {
  const tokens: string[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < source.length && source.slice(at).trim() !== '') {
    TOKEN.lastIndex = at;
    const match = TOKEN.exec(source);
    if (!match) throw userError(`Failed to render template: cannot read ${JSON.stringify(source.slice(at))}`);
    tokens.push((match[1] ?? match[2] ?? match[3] ?? match[4]) as string);
    at = TOKEN.lastIndex;
  }
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const take = (expected?: string): string => {
    const token = tokens[position];
    if (token === undefined || (expected !== undefined && token !== expected))
      throw userError(
        `Failed to render template: ${expected ?? 'a value'} expected in ${JSON.stringify(source)}`,
      );
    position += 1;
    return token;
  };
  const orExpr = (): Value => {
    let value = andExpr();
    while (peek() === 'or') {
      take();
      const right = andExpr();
      value = truthy(value) ? value : right;
    }
    return value;
  };
  const andExpr = (): Value => {
    let value = notExpr();
    while (peek() === 'and') {
      take();
      const right = notExpr();
      value = truthy(value) ? right : value;
    }
    return value;
  };
  const notExpr = (): Value => {
    if (peek() === 'not') {
      take();
      return !truthy(notExpr());
    }
    return comparison();
  };
  const comparison = (): Value => {
    const left = primary();
    const operator = peek();
    if (operator === 'in' || operator === '==' || operator === '!=') {
      take();
      const right = primary();
      if (operator === 'in') return Array.isArray(right) && right.some((item) => item === left);
      return operator === '==' ? left === right : left !== right;
    }
    return left;
  };
  const primary = (): Value => {
    const token = take();
    let value: Value;
    if (token === '(') {
      const items: Value[] = [orExpr()];
      while (peek() === ',') {
        take();
        if (peek() !== ')') items.push(orExpr());
      }
      take(')');
      value = items.length === 1 && tokens[position - 2] !== ',' ? (items[0] as Value) : items;
    } else if (/^\d/.test(token)) value = Number(token);
    else if (token.startsWith("'") || token.startsWith('"'))
      value = token.slice(1, -1).replace(/\\(.)/g, '$1');
    else if (peek() === '(') {
      take('(');
      const args: Value[] = [];
      while (peek() !== ')') {
        args.push(orExpr());
        if (peek() === ',') take();
      }
      take(')');
      value = callFunction(scope, token, args);
    } else value = scope.variable(token);
    while (peek() === '.') {
      take();
      value = scope.attribute(value, take());
    }
    return value;
  };
  const result = orExpr();
  if (position !== tokens.length)
    throw userError(`Failed to render template: cannot read ${JSON.stringify(source)}`);
  return result;
}

function callFunction(scope: Scope, name: string, args: Value[]): Value {
  if (name === 'format_amount') {
    const [amount, currency] = args;
    return formatAmount(
      scope.reg,
      isRecord(currency ?? false) ? (currency as { id: number }).id : false,
      Number(amount ?? 0),
    );
  }
  if (name === 'is_html_empty') {
    const [html] = args;
    return typeof html !== 'string' || html.replace(/<[^>]*>/g, '').trim() === '';
  }
  throw userError(`Failed to render template: name '${name}' is not defined`);
}

function text(value: Value): string {
  if (value === false || value === null || value === undefined) return '';
  if (isRecord(value)) return `${value.record}(${value.id},)`;
  return String(value);
}

function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');
}

function decodeEntities(value: string): string {
  return value
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

/** `{{ expr }}` placeholders (subject, sender). */
function renderInline(scope: Scope, template: string): string {
  return template.replace(/\{\{(.*?)\}\}/g, (_match, expression: string) =>
    text(evaluate(scope, expression)),
  );
}

const VOID_TAGS = new Set(['br', 'img', 'hr', 'input', 'meta', 'link']);

function renderQweb(scope: Scope, source: string): string {
  if (source.trim() === '') return '';
  return renderNodes(scope, [parseArch(source)]);
}

function renderNodes(scope: Scope, nodes: readonly ArchNode[]): string {
  let out = '';
  // Whether the previous t-if/t-elif of the chain rendered (undefined: no chain open).
  let chainTaken: boolean | undefined;
  for (const node of nodes) {
    if (node.kind === 'text') {
      out += node.text;
      continue;
    }
    if (node.kind === 'comment') continue;
    const attrs = new Map(node.attrs);
    const condition = attrs.get('t-if');
    const elif = attrs.get('t-elif');
    if (condition !== undefined) {
      chainTaken = truthy(evaluate(scope, decodeEntities(condition)));
      if (!chainTaken) continue;
    } else if (elif !== undefined) {
      if (chainTaken !== false) continue;
      chainTaken = truthy(evaluate(scope, decodeEntities(elif)));
      if (!chainTaken) continue;
    } else if (attrs.has('t-else')) {
      const skip = chainTaken !== false;
      chainTaken = undefined;
      if (skip) continue;
    } else chainTaken = undefined;
    out += renderElement(scope, node.tag, node.attrs, node.children);
  }
  return out;
}

function renderElement(
  scope: Scope,
  tag: string,
  attrs: readonly [string, string][],
  children: readonly ArchNode[],
): string {
  const outExpression = attrs.find(([key]) => key === 't-out' || key === 't-esc')?.[1];
  const inner =
    outExpression !== undefined
      ? escapeHtml(text(evaluate(scope, decodeEntities(outExpression))))
      : renderNodes(scope, children);
  if (tag === 't') return inner;
  const rendered: string[] = [];
  for (const [key, value] of attrs) {
    if (key.startsWith('t-att-')) {
      const result = evaluate(scope, decodeEntities(value));
      if (truthy(result)) rendered.push(` ${key.slice(6)}="${escapeHtml(text(result))}"`);
    } else if (!key.startsWith('t-')) rendered.push(` ${key}="${value}"`);
  }
  if (inner === '' && VOID_TAGS.has(tag)) return `<${tag}${rendered.join('')}/>`;
  return `<${tag}${rendered.join('')}>${inner}</${tag}>`;
}
