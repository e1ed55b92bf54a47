import { afterEach, describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { groupClosure, MODEL_ACCESS, modelAccessError } from './access.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';
import { type OdooSandbox, startOdooSandbox } from './server.js';

function setup(version: OdooVersion = '18.0') {
  const reg = createRegistry({ version, settledState: 'paid', now: () => new Date('2026-03-02T09:00:00Z') });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const bot = models.createUser({
    name: 'Paylink Bot',
    login: 'paylink-bot',
    password: 'bot-pass-123',
    email: 'bot@example.com',
    groups: ['billing'],
  });
  const as =
    (uid: number) =>
    (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
      callModel(reg, uid, model, method, args, kwargs, false);
  const partner = models.createPartner({ name: 'Deco Addict', email: 'deco@example.com' });
  return { reg, models, bot, admin: as(2), asBot: as(bot), partner };
}

const failure = odooFailure;

const running: OdooSandbox[] = [];
afterEach(async () => {
  for (const sandbox of running.splice(0)) await sandbox.close();
});

describe('groups', () => {
  it('Billing implies Internal User; Settings implies Access Rights', () => {
    expect([...groupClosure(['account.group_account_invoice'])].sort()).toEqual([
      'account.group_account_invoice',
      'base.group_user',
    ]);
    expect(groupClosure(['base.group_system']).has('base.group_erp_manager')).toBe(true);
    expect(groupClosure(['account.group_account_manager']).has('base.group_system')).toBe(false);
  });

  it('a Billing user has Billing and Internal User, the admin every group', () => {
    const { reg, bot } = setup();
    expect([...reg.groupsOfUser(bot)].sort()).toEqual(['account.group_account_invoice', 'base.group_user']);
    expect(reg.groupsOfUser(2).size).toBe(5);
  });

  it('reads the groups as Odoo shows them (groups_id on 18.0, group_ids on 19.0)', () => {
    const v18 = setup('18.0');
    const [user] = v18.admin('res.users', 'read', [[v18.bot]], {
      fields: ['groups_id', 'email'],
    }) as JsonObject[];
    const names = ((user?.groups_id ?? []) as number[]).map((id) => v18.reg.displayName('res.groups', id));
    expect(names.sort()).toEqual(['Invoicing / Billing', 'User types / Internal User']);
    expect(user?.email).toBe('bot@example.com');
    const v19 = setup('19.0');
    const [other] = v19.admin('res.users', 'read', [[v19.bot]], {
      fields: ['group_ids', 'all_group_ids'],
    }) as JsonObject[];
    expect(other?.group_ids).toHaveLength(2);
    expect(other?.all_group_ids).toHaveLength(2);
  });
});

describe('access rights of a Billing user', () => {
  it('refuses ir.model and ir.model.fields with Odoo 18.0 texts (53, 53b, 53c)', () => {
    const { asBot, models } = setup('18.0');
    const create = failure(() =>
      asBot('ir.model.fields', 'create', [
        {
          name: 'x_bot',
          field_description: 'Bot',
          model_id: models.irModelId('account.move'),
          ttype: 'char',
        },
      ]),
    );
    expect(create.className).toBe('odoo.exceptions.AccessError');
    expect(create.message).toBe(
      "You are not allowed to access 'Models' (ir.model) records.\n\nThis operation is allowed for the following groups:\n\t- Administration/Access Rights\n\nContact your administrator to request access if necessary.",
    );
    expect(
      failure(() => asBot('ir.model', 'search_read', [[['model', '=', 'account.move']]])).message,
    ).toContain("'Models' (ir.model)");
    expect(failure(() => asBot('ir.model.fields', 'search_read', [[]])).message).toContain(
      "You are not allowed to access 'Fields' (ir.model.fields) records.",
    );
  });

  it('names groups as 19.0 does', () => {
    const { asBot } = setup('19.0');
    expect(failure(() => asBot('ir.model', 'search', [[]])).message).toContain('\t- Access Rights\n');
    expect(failure(() => asBot('ir.config_parameter', 'get_param', ['database.uuid'])).message).toBe(
      "You are not allowed to access 'System Parameter' (ir.config_parameter) records.\n\nThis operation is allowed for the following groups:\n\t- Role / Administrator\n\nContact your administrator to request access if necessary.",
    );
  });

  it('says which operation was refused', () => {
    expect(
      modelAccessError('18.0', 'account.journal', 'Journal', 'write', ['account.group_account_manager'])
        .message,
    ).toBe(
      "You are not allowed to modify 'Journal' (account.journal) records.\n\nThis operation is allowed for the following groups:\n\t- Invoicing/Administrator\n\nContact your administrator to request access if necessary.",
    );
    expect(modelAccessError('18.0', 'x', 'X', 'unlink', []).message).toContain(
      "You are not allowed to delete 'X' (x) records.\n\nNo group currently allows this operation.",
    );
  });

  it('lets the bot work invoices, payments, chatter, companies and currencies', () => {
    const { asBot, models, partner } = setup();
    const invoice = models.createInvoice({ partnerId: partner, amount: '100.00' });
    expect(asBot('account.move', 'search_count', [[['id', '=', invoice]]])).toBe(1);
    expect(asBot('account.move', 'write', [[invoice], { ref: 'R1' }])).toBe(true);
    expect(
      asBot('account.journal', 'search_read', [[['type', '=', 'bank']]], { fields: ['name'] }),
    ).toHaveLength(1);
    expect(asBot('res.company', 'read', [[1]], { fields: ['name', 'email', 'website'] })).toEqual([
      { id: 1, name: 'YourCompany', email: 'info@yourcompany.com', website: 'http://www.example.com' },
    ]);
    expect(
      asBot('res.currency', 'search_read', [[['name', '=', 'DZD']]], { fields: ['rounding'] }),
    ).toHaveLength(1);
    expect(typeof asBot('account.move', 'message_post', [[invoice]], { body: 'hi' })).toBe('number');
    const wizard = asBot('account.payment.register', 'create', [{}], {
      context: { active_model: 'account.move', active_ids: [invoice] },
    });
    expect(asBot('account.payment.register', 'action_create_payments', [[Number(wizard)]])).toMatchObject({
      res_model: 'account.payment',
    });
    // …but not the chart: journals are the accounting administrator's.
    expect(failure(() => asBot('account.journal', 'write', [[1], { name: 'X' }])).message).toContain(
      "You are not allowed to modify 'Journal' (account.journal) records.",
    );
    expect(failure(() => asBot('res.users', 'write', [[2], { name: 'X' }])).className).toBe(
      'odoo.exceptions.AccessError',
    );
  });

  it('check_access_rights answers from the same table', () => {
    const { asBot, admin } = setup();
    expect(asBot('account.move', 'check_access_rights', ['unlink'])).toBe(true);
    expect(asBot('ir.ui.view', 'check_access_rights', ['create'], { raise_exception: false })).toBe(false);
    expect(admin('ir.ui.view', 'check_access_rights', ['create'])).toBe(true);
    expect(failure(() => asBot('ir.model', 'check_access_rights', ['read'])).className).toBe(
      'odoo.exceptions.AccessError',
    );
    expect(MODEL_ACCESS['ir.config_parameter']?.read).toEqual(['base.group_system']);
  });

  it('shows manual fields to the bot in fields_get but hides admin-only fields (53d, 60f)', () => {
    const { asBot, admin, models } = setup();
    models.createCustomField({ model: 'account.move', name: 'x_link', label: 'Link' });
    expect(
      asBot('account.move', 'fields_get', [['x_link']], { attributes: ['string', 'manual', 'store'] }),
    ).toEqual({
      x_link: { manual: true, store: true, string: 'Link' },
    });
    expect(asBot('mail.message', 'fields_get', [], { attributes: ['type'] })).not.toHaveProperty(
      'tracking_value_ids',
    );
    expect(admin('mail.message', 'fields_get', [], { attributes: ['type'] })).toHaveProperty(
      'tracking_value_ids',
    );
  });

  it('refuses a persistent or too long API key to a non-admin (63b), allows 90 days', () => {
    const { asBot, admin } = setup();
    const persistent = failure(() =>
      asBot('res.users.apikeys.description', 'create', [{ name: 'k', duration: '0' }]),
    );
    expect(persistent.className).toBe('odoo.exceptions.ValidationError');
    expect(persistent.message).toBe('The API key must have an expiration date');
    expect(
      failure(() => asBot('res.users.apikeys.description', 'create', [{ name: 'k', duration: '180' }]))
        .message,
    ).toBe('You cannot exceed 90.0 days.');
    expect(typeof asBot('res.users.apikeys.description', 'create', [{ name: 'k', duration: '90' }])).toBe(
      'number',
    );
    expect(typeof admin('res.users.apikeys.description', 'create', [{ name: 'k', duration: '0' }])).toBe(
      'number',
    );
  });
});

describe('the bot option of startOdooSandbox', () => {
  it('seeds a Billing user that logs in over RPC and the web, the admin staying as before', async () => {
    const sandbox = await startOdooSandbox({ bot: {} });
    running.push(sandbox);
    expect(sandbox.bot).toMatchObject({ login: 'paylink-bot', password: 'bot-pass-123' });
    expect(sandbox.login).toBe('admin');
    const post = async (path: string, params: JsonObject) => {
      const response = await fetch(`${sandbox.url}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 1, params }),
      });
      return (await response.json()) as { result?: JsonObject | number };
    };
    const login = await post('/jsonrpc', {
      service: 'common',
      method: 'authenticate',
      args: [sandbox.db, 'paylink-bot', 'bot-pass-123', {}],
    });
    expect(login.result).toBe(sandbox.bot?.uid);
    const session = await post('/web/session/authenticate', {
      db: sandbox.db,
      login: 'paylink-bot',
      password: 'bot-pass-123',
    });
    expect(session.result).toMatchObject({ is_system: false, is_admin: false, user_context: { tz: false } });
    expect(
      sandbox.models.registry
        .model('res.partner')
        .rows.get(
          Number(sandbox.models.registry.model('res.users').rows.get(sandbox.bot?.uid ?? 0)?.partner_id),
        )?.email,
    ).toBe('paylink-bot@example.com');
  });
});
