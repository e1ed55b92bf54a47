import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { formatStatus } from '../../src/output/status.js';
import { type Stack, startStack } from '../support/stack.js';

/** The daemon as a dedicated Odoo user with Billing rights only, as the README recommends. */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const ready = (): Promise<App> => stack.readyApp();

function notePosts(): number {
  return stack.odoo.calls.filter((call) => call.modelMethod === 'message_post').length;
}

describe('a Billing bot without an email address', () => {
  it('on Odoo 18 gets one ALERT with the fix, its notes wait without hammering Odoo, and go out once it has one', async () => {
    stack = await startStack({ odoo: { version: '18.0' } });
    stack.odoo.models.setUserEmail(stack.odoo.bot!.uid, false);
    const ids = stack.createInvoices(3);
    const app = await ready();
    await app.pipeline.publish();
    const refused = notePosts();
    // The notes in flight when the first refusal came back (at most pipeline.concurrency).
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(stack.config.pipeline.concurrency);
    await app.pipeline.publish();
    await app.pipeline.confirm();
    expect(notePosts(), 'no more attempts until the next check').toBe(refused);
    expect(
      stack.logs.filter((line) => line.message.startsWith('ALERT: Odoo refuses the chatter notes')),
    ).toHaveLength(1);
    expect(formatStatus(app, { runs: false })).toMatch(/email address/);
    // Links were still made and written back: only the notes wait.
    for (const id of ids) expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).not.toBe(false);

    stack.odoo.models.setUserEmail(stack.odoo.bot!.uid, 'paylink-bot@example.com');
    stack.advanceOdooClock(16 * 60_000);
    await app.pipeline.publish();
    for (const id of ids) {
      const created = stack.odoo.models
        .messages(id)
        .filter((message) => String(message.body).includes('payment link created'));
      expect(created).toHaveLength(1);
    }
    expect(app.alerts.list()).toEqual([]);
  });

  it('on Odoo 19 posts its notes (19 accepts a sender without an email)', async () => {
    stack = await startStack({ odoo: { version: '19.0' } });
    stack.odoo.models.setUserEmail(stack.odoo.bot!.uid, false);
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    expect(
      stack.odoo.models
        .messages(id!)
        .some((message) => String(message.body).includes('payment link created')),
    ).toBe(true);
    expect(app.alerts.list()).toEqual([]);
  });
});

describe('the custom fields', () => {
  it('are known from fields_get, which a Billing user may call (not ir.model, which it may not)', async () => {
    stack = await startStack();
    // Only what the daemon's own user sends (the admin's setup ran before).
    stack.odoo.calls.length = 0;
    const app = await ready();
    const models = stack.odoo.calls
      .filter((call) => call.service === 'object' && call.args !== undefined)
      .map((call) => call.model);
    expect(models).not.toContain('ir.model');
    expect(models).not.toContain('ir.model.fields');
    app.close();
  });

  it('created by two setups at once: the second finds them made and succeeds', async () => {
    stack = await startStack({ skipSetup: true });
    const [first, second] = [stack.app(), stack.app()];
    const reports = await Promise.all([first.setupOdoo(stack.admin), second.setupOdoo(stack.admin)]);
    expect(reports.map((report) => report.prefix)).toEqual([stack.prefix, stack.prefix]);
    const created = reports.flatMap((report) => report.createdFields);
    expect(new Set(created).size).toBe(created.length);
    const fields = stack.odoo.models.registry.model('account.move').fields;
    expect(fields.has('x_paylink_last_sequence')).toBe(true);
  });

  it('missing, with a bot that may not create them, leave the daemon not ready with the admin step named', async () => {
    stack = await startStack({ skipSetup: true });
    const app = stack.app({ config: { odoo: { ...stack.config.odoo!, createFields: true } } });
    await expect(app.prepareOdoo()).rejects.toMatchObject({
      reason: 'odoo_fields_missing',
      message: expect.stringContaining('setup-odoo --admin-login'),
    });
  });
});
