import { describe, expect, it } from 'vitest';
import { odooFailure } from '../../../test/support/odoo-failure.js';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';

function setup(version: OdooVersion = '18.0') {
  const reg = createRegistry({ version, settledState: 'paid', now: () => new Date('2026-03-02T09:00:00Z') });
  seedBase(reg, { login: 'admin', password: 'admin' });
  const models = new SandboxModels(reg);
  const bot = models.createUser({ name: 'Bot', login: 'bot', password: 'x', groups: ['billing'] });
  const as =
    (uid: number) =>
    (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
      callModel(reg, uid, model, method, args, kwargs, false);
  models.createCustomField({ model: 'account.move', name: 'x_mytpe_link_id', label: 'MyTPE Link ID' });
  models.createCustomField({
    model: 'account.move',
    name: 'x_mytpe_payment_link',
    label: 'MyTPE Payment Link',
  });
  return { reg, models, admin: as(2), asBot: as(bot) };
}

const failure = odooFailure;

const ARCH =
  '<data><xpath expr="//field[@name=\'payment_reference\']" position="after">' +
  '<field name="x_mytpe_payment_link" widget="url"/><field name="x_mytpe_link_id"/></xpath></data>';

function formOf(result: Json): { arch: string; id: Json; fields: JsonObject } {
  const views = (result as JsonObject).views as JsonObject;
  const form = views.form as JsonObject;
  const models = (result as JsonObject).models as JsonObject;
  return {
    arch: String(form.arch),
    id: form.id ?? false,
    fields: (models['account.move'] as JsonObject).fields as JsonObject,
  };
}

describe('ir.ui.view and get_views', () => {
  it('merges an inherited form view into account.view_move_form (61, 61b)', () => {
    for (const version of ['18.0', '19.0'] as const) {
      const { admin, models } = setup(version);
      const formId = models.viewId('account.view_move_form');
      const viewId = admin('ir.ui.view', 'create', [
        {
          name: 'account.move.form.mytpe',
          model: 'account.move',
          inherit_id: formId,
          type: 'form',
          arch_db: ARCH,
        },
      ]);
      expect(typeof viewId).toBe('number');
      const result = admin('account.move', 'get_views', [[[false, 'form']]], { options: {} });
      const form = formOf(result);
      expect(form.id).toBe(formId);
      expect(form.arch).toMatch(
        /<field name="payment_reference"[^>]*on_change="1"\/><field name="x_mytpe_payment_link" widget="url"\/><field name="x_mytpe_link_id"\/>/,
      );
      expect(form.fields.x_mytpe_link_id).toEqual({
        change_default: false,
        groupable: true,
        name: 'x_mytpe_link_id',
        readonly: false,
        required: false,
        searchable: true,
        sortable: true,
        store: true,
        string: 'MyTPE Link ID',
        translate: false,
        trim: true,
        type: 'char',
      });
      expect(form.fields.payment_reference).toMatchObject({
        help: 'The payment reference to set on journal items.',
      });
      expect((result as JsonObject).models).toMatchObject({ 'account.move': { has_activities: true } });
      // An admin can take the view away again.
      expect(admin('ir.ui.view', 'unlink', [[Number(viewId)]])).toBe(true);
      expect(formOf(admin('account.move', 'get_views', [[[false, 'form']]])).arch).not.toContain(
        'x_mytpe_link_id',
      );
    }
  });

  it('refuses views that do not apply or name unknown fields, and views by a non-admin', () => {
    const { admin, asBot, models } = setup();
    const inherit = models.viewId('account.view_move_form');
    const lost = failure(() =>
      admin('ir.ui.view', 'create', [
        {
          name: 'x',
          model: 'account.move',
          inherit_id: inherit,
          arch_db: '<xpath expr="//field[@name=\'nope\']" position="after"/>',
        },
      ]),
    );
    expect(lost.className).toBe('odoo.exceptions.ValidationError');
    expect(lost.message).toContain('cannot be located in parent view');
    const unknown = failure(() =>
      admin('ir.ui.view', 'create', [
        {
          name: 'x',
          model: 'account.move',
          inherit_id: inherit,
          arch_db: '<field name="ref" position="after"><field name="x_nope"/></field>',
        },
      ]),
    );
    expect(unknown.message).toContain('Field "x_nope" does not exist in model "account.move"');
    expect(admin('ir.ui.view', 'search_count', [[['inherit_id', '=', inherit]]])).toBe(0);
    const refused = failure(() =>
      asBot('ir.ui.view', 'create', [
        { name: 'x', model: 'account.move', inherit_id: inherit, arch_db: ARCH },
      ]),
    );
    expect(refused.message).toContain("You are not allowed to create 'View' (ir.ui.view) records.");
    expect(refused.message).toContain('\t- Administration/Settings');
    // Reading views is every internal user's right.
    expect(asBot('account.move', 'get_views', [[[false, 'form']]])).toHaveProperty('views.form.id', inherit);
  });

  it('the parent of an inheriting view cannot be deleted', () => {
    const { admin, models } = setup();
    const inherit = models.viewId('account.view_move_form');
    admin('ir.ui.view', 'create', [{ name: 'x', model: 'account.move', inherit_id: inherit, arch_db: ARCH }]);
    expect(failure(() => admin('ir.ui.view', 'unlink', [[inherit]])).className).toBe(
      'odoo.exceptions.ValidationError',
    );
  });

  it('generates Odoo default views for models without one, and 18.0 has no fields_view_get', () => {
    const { admin } = setup();
    const result = admin('res.partner', 'get_views', [
      [
        [false, 'list'],
        [false, 'search'],
      ],
    ]) as JsonObject;
    expect(result.views).toMatchObject({
      list: { arch: '<list string="Contact"><field name="name"/></list>', id: false, model: 'res.partner' },
    });
    expect(failure(() => admin('account.move', 'fields_view_get', [])).className).toBe(
      'builtins.AttributeError',
    );
    expect(failure(() => admin('res.partner', 'get_views', [[[false, 'pivot']]])).message).toBe(
      "No default view of type 'pivot' could be found!",
    );
  });

  it('resolves external ids through ir.model.data', () => {
    const { admin, models } = setup();
    expect(admin('ir.model.data', 'check_object_reference', ['account', 'view_move_form'])).toEqual([
      'ir.ui.view',
      models.viewId('account.view_move_form'),
    ]);
    expect(
      admin(
        'ir.model.data',
        'search_read',
        [
          [
            ['module', '=', 'base'],
            ['name', '=', 'group_system'],
          ],
        ],
        {
          fields: ['model', 'res_id', 'complete_name'],
        },
      ),
    ).toEqual([
      {
        id: expect.any(Number),
        model: 'res.groups',
        res_id: expect.any(Number),
        complete_name: 'base.group_system',
      },
    ]);
  });
});
