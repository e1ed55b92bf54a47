import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createMyTpeClient } from '../../src/gateways/mytpe/client.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const WINDOW = () => ({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });

/**
 * One of each discrepancy: paid but not registered, a wrong amount, a payment on a cancelled
 * invoice, a payment of ours the gateway does not know, a payment on a link we never made; and
 * one clean registered payment.
 */
async function prepareDiscrepancies(): Promise<{ app: App; ids: Record<string, number> }> {
  stack = await startStack();
  const [clean, unregistered, wrongAmount, cancelled, ghost] = stack.createInvoices(5);
  const app = stack.app();
  await app.prepareOdoo();
  await app.pipeline.publish();
  const slug = (id: number | undefined) => `${stack.prefix}-inv-${id}-1`;

  stack.mytpe.pay(slug(clean));
  await app.pipeline.confirm();
  stack.mytpe.pay(slug(ghost));
  await app.pipeline.confirm();
  // Our registered payment whose transaction the gateway never had.
  app.db.prepare(`UPDATE links SET transaction_id = 'ghost-transaction' WHERE invoice_id = ?`).run(ghost!);

  stack.mytpe.pay(slug(unregistered));
  stack.mytpe.pay(slug(wrongAmount), { amount: '1200.00' });
  stack.mytpe.pay(slug(cancelled));
  stack.odoo.models.cancelInvoice(cancelled!);

  // Someone used the same MyTPE account for a link of their own.
  const client = createMyTpeClient({
    baseUrl: `${stack.mytpe.url}/api/v2/mytpe-pay`,
    apiKey: stack.mytpe.apiKey,
    apiSecret: stack.mytpe.apiSecret,
  });
  const foreign = await client.createLink({
    mytpe_pay_id: stack.mytpe.instanceId,
    title: 'Shop order',
    details: 'not an invoice',
    type: 'dynamic',
    payment_mode: 'one_shot',
    amount: '99.00',
    slug: 'shop-order-1',
  });
  stack.mytpe.pay(foreign.data.id);
  return {
    app,
    ids: {
      clean: clean!,
      unregistered: unregistered!,
      wrongAmount: wrongAmount!,
      cancelled: cancelled!,
      ghost: ghost!,
    },
  };
}

describe('reconcile', () => {
  it('lists each discrepancy of a prepared set, and the report tells the truth', async () => {
    const { app, ids } = await prepareDiscrepancies();
    const report = await app.pipeline.reconcile(WINDOW(), { fix: false });
    const byInvoice = new Map(report.discrepancies.map((entry) => [entry.invoiceId, entry]));
    expect(report.gatewayPayments).toBe(6);
    expect(report.matched).toBe(1);
    expect(byInvoice.get(ids.unregistered!)?.kind).toBe('paid_not_registered');
    expect(byInvoice.get(ids.wrongAmount!)).toMatchObject({ kind: 'paid_not_registered', fixed: false });
    expect(byInvoice.get(ids.cancelled!)?.kind).toBe('paid_not_registered');
    // The gateway's real transaction is not the one we recorded, and ours is unknown to it.
    expect(
      report.discrepancies
        .filter((entry) => entry.invoiceId === ids.ghost)
        .map((entry) => entry.kind)
        .sort(),
    ).toEqual(['payment_on_closed_invoice', 'registered_unknown_to_gateway']);
    // The shop's link on the same account is not ours: counted, not a discrepancy.
    expect(report.notOurs).toBe(1);
    expect(report.discrepancies.filter((entry) => entry.kind === 'unknown_link')).toEqual([]);
    expect(report.remaining).toBe(report.discrepancies.length);
    // Without --fix nothing changed in Odoo.
    expect(stack.odoo.models.getInvoice(ids.unregistered!).payment_state).toBe('not_paid');
  });

  it('with --fix registers what can be, classifies the rest, and records the run', async () => {
    const { app, ids } = await prepareDiscrepancies();
    const report = await app.pipeline.reconcile(WINDOW(), { fix: true });
    const byInvoice = new Map(
      report.discrepancies
        .filter((entry) => entry.invoiceId !== ids.ghost)
        .map((entry) => [entry.invoiceId, entry]),
    );
    expect(byInvoice.get(ids.unregistered!)).toMatchObject({ kind: 'paid_not_registered', fixed: true });
    expect(stack.odoo.models.getInvoice(ids.unregistered!).payment_state).toBe('paid');
    expect(byInvoice.get(ids.wrongAmount!)).toMatchObject({ kind: 'amount_mismatch', fixed: false });
    expect(byInvoice.get(ids.wrongAmount!)?.detail).toBe('paid 1200.00 DZD, link asked for 1500.00 DZD');
    expect(byInvoice.get(ids.cancelled!)).toMatchObject({ kind: 'payment_on_closed_invoice', fixed: false });
    expect(stack.odoo.models.getInvoice(ids.cancelled!).payment_state).toBe('not_paid');
    expect(report.remaining).toBe(report.discrepancies.length - 1);
    const [run] = app.runs.latest('reconcile');
    expect(run?.outcome).toBe('partial');
    expect(run?.summary?.remaining).toBe(report.remaining);

    // A second run finds the fixed one matched and nothing new fixed.
    const again = await app.pipeline.reconcile(WINDOW(), { fix: true });
    expect(again.discrepancies.some((entry) => entry.fixed)).toBe(false);
    expect(again.matched).toBe(2);
  });

  it('reports all clear when the gateway and Odoo agree', async () => {
    stack = await startStack();
    stack.createInvoices(3);
    const app = stack.app();
    await app.prepareOdoo();
    await app.pipeline.publish();
    for (const link of stack.mytpe.links()) stack.mytpe.pay(link.id);
    await app.pipeline.confirm();
    const report = await app.pipeline.reconcile(WINDOW(), { fix: false });
    expect(report).toMatchObject({ gatewayPayments: 3, matched: 3, remaining: 0, discrepancies: [] });
    expect(app.runs.latest('reconcile')[0]?.outcome).toBe('ok');
  });

  it('reads each link of the window, and says so, for a gateway whose API cannot list payments', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(3);
    const app = stack.app();
    await app.prepareOdoo();
    await app.pipeline.publish();
    // As TendoPay's API: links can be read, payments not listed.
    const gateway = app.gateways.get('mytpe') as { listPayments?: unknown };
    gateway.listPayments = undefined;
    const paid = stack.mytpe.links().find((link) => link.slug.endsWith(`-inv-${ids[1]}-1`))!;
    stack.mytpe.pay(paid.id);
    const report = await app.pipeline.reconcile(WINDOW(), { fix: true });
    expect(report.gatewayPayments).toBe(1);
    expect(report.discrepancies).toMatchObject([
      { kind: 'paid_not_registered', fixed: true, invoiceId: ids[1] },
    ]);
    expect(stack.odoo.models.getInvoice(ids[1]!).payment_state).toBe('paid');
    expect(report.limits).toEqual([
      'MyTPE Pay cannot list payments: the 3 links of the window were read one by one, so a payment on a link the state store does not know cannot be seen',
    ]);
  });

  it('as a command: summary at a glance, detail as csv or json, exit code 1 then 0 once fixed', async () => {
    stack = await startStack();
    stack.createInvoices(2);
    const app = stack.app();
    await app.prepareOdoo();
    await app.pipeline.publish();
    for (const link of stack.mytpe.links()) stack.mytpe.pay(link.id);
    app.close();
    const configFile = path.join(stack.dir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...stack.config, pipeline: { ...stack.config.pipeline } }));
    // Asynchronous: the sandboxes live in this process and must keep answering.
    const cli = (...args: string[]) =>
      new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        execFile(
          process.execPath,
          ['dist/cli.js', '--config', configFile, 'reconcile', ...args],
          { cwd: path.resolve(import.meta.dirname, '../..'), env: { ...process.env, PAYLINK_CONFIG: '' } },
          (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
        );
      });
    const csv = await cli('--format', 'csv');
    expect(csv.stderr).not.toContain('odoo-paylink:');
    expect(csv.status).toBe(1);
    expect(csv.stderr).toContain('ATTENTION: 2 discrepancies need a person.');
    expect(csv.stderr).toContain('paid_not_registered: 2');
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toBe('kind,fixed,invoice,invoiceId,gateway,linkId,transactionId,amount,detail');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^paid_not_registered,false,INV\/\d{4}\/\d+,\d+,mytpe,/);

    const fixed = await cli('--fix', '--format', 'json');
    expect(fixed.status).toBe(0);
    expect(fixed.stderr).toContain('OK: every discrepancy was fixed.');
    expect(JSON.parse(fixed.stdout)).toMatchObject({ remaining: 0, gatewayPayments: 2 });

    const table = await cli();
    expect(table.status).toBe(0);
    expect(table.stderr).toContain('OK: the gateway and Odoo agree.');
    expect(table.stdout).toContain('(no discrepancies)');
    for (const output of [csv, fixed, table]) {
      expect(output.stdout + output.stderr).not.toContain(stack.mytpe.apiSecret);
      expect(output.stdout + output.stderr).not.toContain(stack.mytpe.apiKey);
    }
  }, 60_000);
});
