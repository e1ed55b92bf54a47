import { describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';

function setup(version: OdooVersion = '18.0', botEmail: string | false = false) {
  const reg = createRegistry({ version, settledState: 'paid', now: () => new Date('2026-03-02T09:00:00Z') });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const bot = models.createUser({
    name: 'Paylink Bot',
    login: 'paylink-bot',
    password: 'bot-pass-123',
    email: botEmail,
    groups: ['billing'],
  });
  const as =
    (uid: number) =>
    (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
      callModel(reg, uid, model, method, args, kwargs, false);
  const partner = models.createPartner({ name: 'Deco Addict', email: 'deco@example.com' });
  const invoice = models.createInvoice({ partnerId: partner, amount: '100.00' });
  const botPartner = Number(reg.model('res.users').rows.get(bot)?.partner_id);
  return { reg, models, bot, botPartner, admin: as(2), asBot: as(bot), invoice };
}

const failure = odooFailure;

const NOTE = { body: 'Paid', message_type: 'comment', subtype_xmlid: 'mail.mt_note' };

describe("message_post and the author's email", () => {
  it('18.0 refuses an author without email (51), then posts once an admin sets one (52, 52b)', () => {
    const { asBot, admin, models, bot, invoice } = setup('18.0');
    const refused = failure(() => asBot('account.move', 'message_post', [[invoice]], NOTE));
    expect(refused.className).toBe('odoo.exceptions.UserError');
    expect(refused.message).toBe("Unable to send message, please configure the sender's email address.");
    expect(admin('res.users', 'write', [[bot], { email: 'paylink-bot@yourcompany.example.com' }])).toBe(true);
    const id = asBot('account.move', 'message_post', [[invoice]], NOTE);
    expect(typeof id).toBe('number');
    expect(asBot('mail.message', 'read', [[Number(id)]], { fields: ['email_from', 'author_id'] })).toEqual([
      {
        id,
        email_from: '"Paylink Bot" <paylink-bot@yourcompany.example.com>',
        author_id: [expect.any(Number), 'Paylink Bot'],
      },
    ]);
    models.setUserEmail(bot, false);
    expect(failure(() => asBot('account.move', 'message_post', [[invoice]], NOTE)).className).toBe(
      'odoo.exceptions.UserError',
    );
  });

  it('an explicit email_from is enough on 18.0', () => {
    const { asBot, invoice } = setup('18.0');
    expect(
      typeof asBot('account.move', 'message_post', [[invoice]], { ...NOTE, email_from: 'x@example.com' }),
    ).toBe('number');
  });

  it('19.0 posts without email and stores email_from False (19.0/51)', () => {
    const { asBot, models, invoice } = setup('19.0');
    const posted = asBot('account.move', 'message_post', [[invoice]], NOTE) as number[];
    expect(posted).toHaveLength(1);
    const note = models.messages(invoice).find((message) => message.id === posted[0]);
    expect(note).toMatchObject({ email_from: false, subtype: 'mail.mt_note', body: '<p>Paid</p>' });
  });
});

describe('tracking', () => {
  function tracked(version: OdooVersion) {
    const context = setup(version, 'bot@example.com');
    const fieldId = context.models.createCustomField({
      model: 'account.move',
      name: 'x_link',
      label: 'Link',
    });
    return { ...context, fieldId };
  }

  it('posting a customer invoice logs a Validated message with its tracked fields (60d)', () => {
    const { admin, models } = setup();
    const customer = models.createPartner({ name: 'Azure Interior' });
    const invoice = models.createInvoice({ partnerId: customer, amount: '10.00', post: false });
    admin('account.move', 'action_post', [[invoice]]);
    const [message] = admin(
      'mail.message',
      'search_read',
      [
        [
          ['model', '=', 'account.move'],
          ['res_id', '=', invoice],
        ],
      ],
      {
        fields: ['body', 'message_type', 'subtype_id', 'tracking_value_ids', 'author_id'],
      },
    ) as JsonObject[];
    expect(message).toMatchObject({
      body: '',
      message_type: 'notification',
      subtype_id: [4, 'Validated'],
      author_id: [3, 'YourCompany, Mitchell Admin'],
    });
    const values = admin('mail.tracking.value', 'read', [message?.tracking_value_ids as number[]], {
      fields: [
        'field_id',
        'old_value_char',
        'new_value_char',
        'old_value_integer',
        'new_value_integer',
        'mail_message_id',
      ],
    }) as JsonObject[];
    expect(values.map((value) => (value.field_id as [number, string])[1])).toEqual([
      'Checked (Journal Entry)',
      'Number (Journal Entry)',
      'Payment Reference (Journal Entry)',
      'Status (Journal Entry)',
    ]);
    expect(values[3]).toMatchObject({ old_value_char: 'Draft', new_value_char: 'Posted' });
    expect(values[0]).toMatchObject({ old_value_integer: 0, new_value_integer: 1, new_value_char: false });
    expect(values[1]).toMatchObject({
      old_value_char: false,
      new_value_char: expect.stringMatching(/^INV\//),
    });
    expect(values[0]?.mail_message_id).toEqual([message?.id, expect.stringMatching(/^INV\//)]);
  });

  it('a write of a tracked manual field by anyone logs old and new values; tracking 0 stops it (60–60h)', () => {
    const { admin, asBot, models, invoice, fieldId, botPartner } = tracked('18.0');
    asBot('account.move', 'write', [[invoice], { x_link: 'link-1' }]);
    const before = models.messages(invoice).length;
    expect(admin('ir.model.fields', 'write', [[fieldId], { tracking: 1 }])).toBe(true);
    admin('account.move', 'write', [[invoice], { x_link: 'link-2' }]);
    asBot('account.move', 'write', [[invoice], { x_link: 'link-3' }]);
    asBot('account.move', 'write', [[invoice], { x_link: 'link-3' }]);
    const logged = models.messages(invoice).slice(before);
    expect(logged).toHaveLength(2);
    expect(logged.map((message) => [message.message_type, message.subtype, message.body])).toEqual([
      ['notification', 'mail.mt_note', ''],
      ['notification', 'mail.mt_note', ''],
    ]);
    expect(logged.map((message) => message.author_id)).toEqual([3, botPartner]);
    const [message] = admin('mail.message', 'read', [[logged[1]?.id ?? 0]], {
      fields: ['tracking_value_ids', 'display_name'],
    }) as JsonObject[];
    expect(message?.display_name).toBe(false);
    const [value] = admin(
      'mail.tracking.value',
      'read',
      [message?.tracking_value_ids as number[]],
      {},
    ) as JsonObject[];
    expect(value).toMatchObject({
      field_id: [fieldId, 'Link (Journal Entry)'],
      old_value_char: 'link-2',
      new_value_char: 'link-3',
      old_value_integer: 0,
      old_value_float: 0,
      old_value_datetime: false,
      display_name: 'Link (Journal Entry)',
      mail_message_id: [logged[1]?.id, false],
    });
    admin('ir.model.fields', 'write', [[fieldId], { tracking: 0 }]);
    asBot('account.move', 'write', [[invoice], { x_link: 'link-4' }]);
    expect(models.messages(invoice).length).toBe(before + 2);
  });

  it('keeps tracking values from the bot, on both versions (60f)', () => {
    for (const [version, text] of [
      [
        '18.0',
        'You do not have enough rights to access the fields "tracking_value_ids" on Message (mail.message). Please contact your system administrator.\n\nOperation: read\nUser: 3\nFields:\n- tracking_value_ids (allowed for groups \'Administration / Settings\')',
      ],
      [
        '19.0',
        'You do not have enough rights to access the field "tracking_value_ids" on Message (mail.message). Please contact your system administrator.\n\nOperation: read\nUser: 3\nGroups: allowed for groups \'Role / Administrator\'',
      ],
    ] as const) {
      const { asBot, invoice } = tracked(version);
      const refused = failure(() =>
        asBot('mail.message', 'search_read', [[['res_id', '=', invoice]]], {
          fields: ['tracking_value_ids'],
        }),
      );
      expect(refused.message).toBe(text);
      // Reading every field leaves the restricted one out instead.
      const [row] = asBot('mail.message', 'search_read', [[['res_id', '=', invoice]]], {
        limit: 1,
      }) as JsonObject[];
      expect(row).not.toHaveProperty('tracking_value_ids');
      expect(failure(() => asBot('mail.tracking.value', 'search', [[]])).className).toBe(
        'odoo.exceptions.AccessError',
      );
    }
  });

  it('a tracking_disable context writes without a message', () => {
    const { admin, models, invoice, fieldId } = tracked('18.0');
    admin('ir.model.fields', 'write', [[fieldId], { tracking: 1 }]);
    const before = models.messages(invoice).length;
    admin('account.move', 'write', [[invoice], { x_link: 'quiet' }], { context: { tracking_disable: true } });
    expect(models.messages(invoice).length).toBe(before);
  });
});
