import { afterEach, describe, expect, it } from 'vitest';
import { callModel } from './dispatch.js';
import type { Json, JsonObject } from './errors.js';
import { createRegistry } from './models/index.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';
import { type OdooSandbox, startOdooSandbox } from './server.js';

function setup(options: { databaseUuid?: string; neutralized?: boolean } = {}) {
  const reg = createRegistry({
    version: '18.0',
    settledState: 'paid',
    now: () => new Date('2026-03-02T09:00:00Z'),
  });
  seedBase(reg, { login: 'admin', password: 'admin', ...options });
  const models = new SandboxModels(reg);
  const admin = (model: string, method: string, args: Json[] = [], kwargs: JsonObject = {}): Json =>
    callModel(reg, 2, model, method, args, kwargs, false);
  return { reg, models, admin };
}

const running: OdooSandbox[] = [];
afterEach(async () => {
  for (const sandbox of running.splice(0)) await sandbox.close();
});

describe('ir.config_parameter', () => {
  it('seeds a random uuid v4 per database, or the given one', () => {
    const first = setup().admin('ir.config_parameter', 'get_param', ['database.uuid']);
    const second = setup().admin('ir.config_parameter', 'get_param', ['database.uuid']);
    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second).not.toBe(first);
    const fixed = setup({ databaseUuid: '5e082e42-edcf-11f1-aaf6-02fc00000001' });
    expect(fixed.admin('ir.config_parameter', 'get_param', ['database.uuid'])).toBe(
      '5e082e42-edcf-11f1-aaf6-02fc00000001',
    );
  });

  it('database.is_neutralized is unset (get_param false, 62d) unless the copy is neutralized', () => {
    const { admin } = setup();
    expect(admin('ir.config_parameter', 'get_param', ['database.is_neutralized'])).toBe(false);
    expect(admin('ir.config_parameter', 'get_param', ['database.is_neutralized', 'no'])).toBe('no');
    expect(admin('ir.config_parameter', 'search_count', [[['key', '=', 'database.is_neutralized']]])).toBe(0);
    const neutralized = setup({ neutralized: true });
    expect(neutralized.admin('ir.config_parameter', 'get_param', ['database.is_neutralized'])).toBe('true');
  });

  it('set_param stores text, answers the former value and removes with False', () => {
    const { admin, models } = setup();
    expect(admin('ir.config_parameter', 'set_param', ['paylink.mode', 'live'])).toBe(false);
    expect(admin('ir.config_parameter', 'set_param', ['paylink.mode', 42])).toBe('live');
    expect(models.configParam('paylink.mode')).toBe('42');
    expect(
      admin('ir.config_parameter', 'search_read', [[['key', '=', 'paylink.mode']]], {
        fields: ['key', 'value'],
      }),
    ).toEqual([{ id: expect.any(Number), key: 'paylink.mode', value: '42' }]);
    admin('ir.config_parameter', 'set_param', ['paylink.mode', false]);
    expect(models.configParam('paylink.mode')).toBe(false);
    models.setConfigParam('paylink.other', 'x');
    expect(admin('ir.config_parameter', 'get_param', ['paylink.other'])).toBe('x');
  });

  it('web.base.url is the sandbox URL', async () => {
    const sandbox = await startOdooSandbox({ databaseUuid: 'fixed-uuid' });
    running.push(sandbox);
    expect(sandbox.models.configParam('web.base.url')).toBe(sandbox.url);
    expect(sandbox.models.configParam('database.uuid')).toBe('fixed-uuid');
  });
});
