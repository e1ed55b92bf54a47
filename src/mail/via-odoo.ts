/**
 * `mail.via: odoo`: the invoice email goes through Odoo's own mail system. Odoo renders our copy
 * of its invoice template (src/odoo/mail-template.ts) for the invoice, attaches the invoice PDF,
 * posts the message in the invoice's chatter and sends it to the customer with the company's mail
 * server. The daemon's Billing user can do all of it: the composer is open to every internal user,
 * and it only reads the template.
 */
import { z } from 'zod';
import type { OdooClient } from '../odoo/client.js';
import { findPaylinkTemplate, PAY_BUTTON_CLASS } from '../odoo/mail-template.js';
import type { OutboxRow } from '../store/outbox.js';
import type { InvoiceEmail } from './model.js';
import type { MailHandOff } from './worker.js';

const messageSchema = z.object({ id: z.number().int().positive() });

/** Odoo's datetime format (UTC, to the second), floored. */
function odooDatetime(epochMs: number): string {
  return new Date(Math.floor(epochMs / 1000) * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

export class OdooMailHandOff implements MailHandOff {
  private templateId: number | undefined;
  private major: number | undefined;

  constructor(private readonly odoo: OdooClient) {}

  /**
   * The message of this row already in the invoice's chatter, if Odoo sent it before we could
   * record it (a crash, a lost answer). Ours are the comments whose body has our Pay button,
   * posted since the row was queued: Odoo keeps the body as rendered, and no other message has
   * that mark. One email that went after the row was queued answers it, whatever asked for it.
   */
  async alreadySent(row: OutboxRow): Promise<number | undefined> {
    const [message] = await this.odoo.searchRead(
      'mail.message',
      [
        ['model', '=', 'account.move'],
        ['res_id', '=', row.invoiceId],
        ['message_type', 'in', ['comment', 'email', 'email_outgoing']],
        ['body', 'ilike', PAY_BUTTON_CLASS],
        ['date', '>=', odooDatetime(row.createdAt)],
      ],
      messageSchema,
      { companyIds: [row.companyId], fields: ['id'], limit: 1, order: 'id desc' },
    );
    return message?.id;
  }

  async deliver(row: OutboxRow, _email: InvoiceEmail): Promise<'sent' | 'already_sent'> {
    // The claim counted this attempt: from the second one on, an earlier one may have sent it.
    if (row.attempts > 1 && (await this.alreadySent(row)) !== undefined) return 'already_sent';
    const templateId = await this.template(row.companyId);
    const options = { companyIds: [row.companyId] };
    this.major ??= (await this.odoo.version()).major;
    if (this.major <= 16) {
      // 16.0 applies a template in the composer through its onchange; message_post_with_template
      // runs that server-side (composer in comment mode, report attached, message posted).
      await this.odoo.call(
        'account.move',
        'message_post_with_template',
        [[row.invoiceId], templateId],
        z.unknown(),
        {
          ...options,
          kwargs: { composition_mode: 'comment' },
        },
      );
      return 'sent';
    }
    // 17.0+: the composer computes subject, body, recipients (the invoice's partner, from the
    // template's use_default_to) and the report attachment from the template; comment mode posts
    // the message in the chatter and emails the recipients, as "Send message" does.
    const composerId = await this.odoo.create(
      'mail.compose.message',
      {
        composition_mode: 'comment',
        model: 'account.move',
        // A Text field holding the ids' repr since 17.0 (read back with parse_res_ids).
        res_ids: `[${row.invoiceId}]`,
        template_id: templateId,
        message_type: 'comment',
      },
      { ...options, context: { default_composition_mode: 'comment', default_model: 'account.move' } },
    );
    await this.odoo.call('mail.compose.message', 'action_send_mail', [[composerId]], z.unknown(), options);
    return 'sent';
  }

  private async template(companyId: number): Promise<number> {
    if (this.templateId !== undefined) return this.templateId;
    const id = await findPaylinkTemplate(this.odoo, [companyId]);
    if (id === undefined)
      throw new Error(
        'the odoo-paylink mail template is not in Odoo: run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>" with mail.via: odoo',
      );
    this.templateId = id;
    return id;
  }
}
