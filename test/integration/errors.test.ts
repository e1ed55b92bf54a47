import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

async function ready(pipeline: Partial<Stack['config']['pipeline']> = {}): Promise<{ app: App; id: number }> {
  stack = await startStack({ pipeline });
  const [id] = stack.createInvoices(1);
  const app = stack.app();
  await app.prepareOdoo();
  return { app, id: id! };
}

function logged(fragment: string) {
  return stack.logs.find((entry) => entry.message.includes(fragment));
}

describe('each Odoo error class ends as a clear log line and a retried or failed link', () => {
  it.each([
    ['odoo.exceptions.AccessError', 'You are not allowed to modify this document', 'retried'],
    ['odoo.exceptions.ValidationError', 'The operation cannot be completed', 'retried'],
    [
      'odoo.exceptions.UserError',
      'You cannot modify the following readonly fields on a posted move',
      'retried',
    ],
    ['odoo.exceptions.MissingError', 'Record does not exist or has been deleted.', 'retried'],
    ['builtins.KeyError', 'x_mytpe_link_id', 'retried'],
    ['builtins.AttributeError', "The method 'account.move.write' does not exist", 'retried'],
    [
      'psycopg2.errors.SerializationFailure',
      'could not serialize access due to concurrent update',
      'retried',
    ],
  ])('%s on the write-back: %s', async (name, message) => {
    const { app, id } = await ready({ backoffBaseMs: 60_000, backoffMaxMs: 60_000 });
    stack.odoo.faults.failNext({ model: 'account.move', method: 'write' }, { name, message });
    const first = await app.pipeline.publish();
    expect(first.linksCreated).toBe(1);
    expect(first.retrying).toBe(1);
    const [row] = app.links.inStates(['writing_back']);
    expect(row?.attempts).toBe(1);
    expect(row?.lastError).toContain(message);
    const line = logged(`step writing_back failed for invoice ${row?.invoiceName}`);
    expect(line?.level).toBe('warn');
    expect(line?.message).toContain(message);
    // The next pass after the backoff finishes it: no second link, the invoice carries the first one.
    stack.advanceOdooClock(61_000);
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(1);
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]!.id);
  });

  it('marks a link failed after maxAttempts permanent refusals, and says a person must look', async () => {
    const { app } = await ready({ maxAttempts: 3 });
    stack.odoo.faults.failNext(
      { model: 'account.move', method: 'write' },
      { name: 'odoo.exceptions.UserError', message: 'locked period' },
      10,
    );
    for (let pass = 0; pass < 4; pass++) await app.pipeline.publish();
    const [row] = app.links.inStates(['failed']);
    expect(row?.stateReason).toContain('locked period');
    expect(logged('gave up on invoice')?.level).toBe('error');
    expect(stack.mytpe.links()).toHaveLength(1);
  });

  it('retries through Odoo being down or too slow, then finishes', async () => {
    const { app, id } = await ready();
    stack.odoo.faults.down = true;
    expect((await app.pipeline.publish()).companiesFailed).toBe(1);
    expect(logged('publishing for company')?.message).toMatch(/cannot reach Odoo/);
    stack.odoo.faults.down = false;
    stack.odoo.faults.latencyMs = 6_000;
    expect((await app.pipeline.publish()).companiesFailed).toBe(1);
    expect(stack.logs.some((entry) => /publishing for company .* did not answer/.test(entry.message))).toBe(
      true,
    );
    stack.odoo.faults.latencyMs = 0;
    await app.pipeline.publish();
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]!.id);
    expect(logged('publishing for company')?.level).toBe('error');
    expect(app.runs.latest('publish', 3).map((run) => run.outcome)).toEqual(['ok', 'partial', 'partial']);
  }, 20_000);

  it('stops all Odoo work at once on rejected credentials, and never retries the login', async () => {
    stack = await startStack();
    stack.createInvoices(2);
    const app = stack.app({ config: { odoo: { ...stack.config.odoo!, password: 'wrong-password' } } });
    stack.odoo.calls.length = 0;
    await expect(app.pipeline.publish()).rejects.toThrow(/refused the login/);
    await expect(app.pipeline.publish()).rejects.toThrow(/refused the login/);
    await expect(app.pipeline.confirm()).resolves.toBeDefined();
    // common.version is the protocol probe (odoo.protocol auto), not a login.
    const logins = stack.odoo.calls.filter((call) => call.service === 'common' && call.method !== 'version');
    expect(logins).toHaveLength(1);
    expect(logged('ALERT: Odoo rejected our credentials')?.level).toBe('error');
    expect(JSON.stringify(stack.logs)).not.toContain('wrong-password');
    expect(stack.mytpe.links()).toHaveLength(0);
  });

  it('halts the pass when the credentials are refused in the middle of the work', async () => {
    // One at a time, so "after" is well defined.
    const { app } = await ready({ concurrency: 1 });
    stack.createInvoices(3);
    stack.odoo.faults.failNext(
      { model: 'account.move', method: 'write' },
      { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' },
    );
    await expect(app.pipeline.publish()).rejects.toThrow(/Access Denied/);
    // The first write was refused; nothing else was sent to Odoo after it.
    const writes = stack.odoo.calls.filter((call) => call.modelMethod === 'write');
    expect(writes).toHaveLength(1);
    expect(app.runs.latest('publish')[0]?.outcome).toBe('failed');
    expect(app.runs.latest('publish')[0]?.summary?.halted).toMatch(/Access Denied/);
  });

  it('halts when an API key is revoked while running (AccessDenied on a call)', async () => {
    const { app } = await ready();
    stack.odoo.faults.failNext(
      { model: 'account.move', method: 'search_read' },
      { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' },
    );
    await expect(app.pipeline.publish()).rejects.toThrow(/Access Denied/);
    const before = stack.odoo.calls.length;
    await expect(app.pipeline.publish()).rejects.toThrow(/Access Denied/);
    expect(stack.odoo.calls.length).toBe(before);
  });
});

describe('each gateway error class ends as a clear log line and a retried or failed link', () => {
  it.each([
    ['rate limited', (s: Stack) => s.mytpe.faults.rateLimitNext(1, 1), /429|Too Many/],
    ['server error', (s: Stack) => s.mytpe.faults.failNext(1, 500), /500/],
    [
      'network down',
      (s: Stack) => {
        s.mytpe.faults.down = true;
      },
      /MyTPE/,
    ],
  ])('%s while creating the link: retried, then one link', async (_name, fault, pattern) => {
    const { app, id } = await ready({ backoffBaseMs: 1_000, backoffMaxMs: 1_000 });
    fault(stack);
    const first = await app.pipeline.publish();
    expect(first.retrying).toBe(1);
    const [row] = app.links.inStates(['creating']);
    expect(row?.lastError).toMatch(pattern);
    expect(logged('step creating failed for invoice')?.level).toBe('warn');
    stack.mytpe.faults.down = false;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(1);
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]!.id);
  });

  it('honours Retry-After before the next attempt', async () => {
    const { app } = await ready();
    stack.mytpe.faults.rateLimitNext(1, 30);
    await app.pipeline.publish();
    const [row] = app.links.inStates(['creating']);
    expect(row!.nextAttemptAt - Date.now()).toBeGreaterThan(25_000);
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(0);
  });

  it('a lost answer after the link was created: the retry adopts it, no second link', async () => {
    const { app, id } = await ready();
    stack.mytpe.faults.dropResponseAfterCreateNext(1);
    await app.pipeline.publish();
    stack.advanceOdooClock(1_000);
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(1);
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]!.id);
  });

  it('a timeout while polling a link is retried and the payment still registered', async () => {
    const { app, id } = await ready();
    await app.pipeline.publish();
    stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    stack.mytpe.faults.hangNext(1);
    const app2 = stack.app({
      config: { gateways: { mytpe: { ...stack.config.gateways.mytpe!, timeoutMs: 300 } } },
    });
    const first = await app2.pipeline.confirm();
    expect(first.retrying).toBe(1);
    expect(app2.links.inStates(['open'])[0]?.lastError).toContain('got no answer within 300 ms');
    // Past the (1 ms) backoff, whatever the clock's resolution.
    stack.advanceOdooClock(1_000);
    await app2.pipeline.confirm();
    expect(stack.odoo.models.getInvoice(id).payment_state).toBe('paid');
  });

  it('refused API credentials are logged and retried slowly, never failing the invoice', async () => {
    stack = await startStack({ pipeline: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 } });
    stack.createInvoices(1);
    const app = stack.app({
      config: { gateways: { mytpe: { ...stack.config.gateways.mytpe!, apiKey: 'mtk_revoked_key' } } },
    });
    await app.prepareOdoo();
    const summary = await app.pipeline.publish();
    expect(summary.retrying).toBe(1);
    expect(app.links.inStates(['creating'])[0]?.lastError).toMatch(/Unauthenticated|401|auth/i);
    expect(JSON.stringify(stack.logs)).not.toContain('mtk_revoked_key');
  });
});
