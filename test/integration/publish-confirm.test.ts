import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { type Stack, settle, startStack } from '../support/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

function linkedInvoices(stack: Stack, ids: readonly number[]) {
  return ids.map((id) => ({
    id,
    linkId: stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id'),
    url: stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_payment_link'),
  }));
}

const readyApp = (stack: Stack): Promise<App> => stack.readyApp();

describe('publish', () => {
  it('gives 50 posted invoices exactly 50 links, each written back onto its invoice', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(50);
    const app = await readyApp(stack);
    const summary = await app.pipeline.publish();
    expect(summary.linksCreated).toBe(50);
    expect(summary.writtenBack).toBe(50);

    const links = stack.mytpe.links();
    expect(links).toHaveLength(50);
    const byId = new Map(links.map((link) => [link.id, link]));
    for (const invoice of linkedInvoices(stack, ids)) {
      const link = byId.get(String(invoice.linkId));
      expect(link, `invoice ${invoice.id} carries a link the gateway knows`).toBeDefined();
      expect(link?.slug).toBe(`${stack.prefix}-inv-${invoice.id}-1`);
      expect(invoice.url).toBe(`${stack.mytpe.url}/pay/${link?.slug}`);
      expect(link?.amount).toBe('1500.00');
    }
    expect(app.links.countsByState()).toEqual([{ state: 'open', count: 50 }]);
  });

  it('leaves paid, draft, cancelled and refund invoices and other currencies alone', async () => {
    stack = await startStack();
    const { models } = stack.odoo;
    const payable = stack.createInvoices(1)[0]!;
    const draft = models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '10.00',
      post: false,
    });
    const cancelled = stack.createInvoices(1)[0]!;
    models.cancelInvoice(cancelled);
    const paid = stack.createInvoices(1)[0]!;
    models.payByOtherMeans(paid, { memo: 'CASH-1' });
    const refund = models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '10.00',
      moveType: 'out_refund',
    });
    const euro = models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '10.00',
      currency: 'EUR',
    });
    const app = await readyApp(stack);
    await app.pipeline.publish();
    const slugs = stack.mytpe.links().map((link) => link.slug);
    expect(slugs).toEqual([`${stack.prefix}-inv-${payable}-1`]);
    for (const id of [draft, cancelled, paid, refund, euro]) {
      expect(models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(false);
    }
  });

  it('reads only what changed: an idle pass reads no invoice', async () => {
    stack = await startStack({ pipeline: { cursorOverlapSeconds: 60 } });
    stack.createInvoices(20);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    // Our own write-back changed every invoice, so the next pass sees them once more.
    stack.advanceOdooClock(120_000);
    await app.pipeline.publish();
    stack.advanceOdooClock(120_000);
    stack.odoo.calls.length = 0;
    const idle = await app.pipeline.publish();
    expect(idle.invoicesRead).toBe(0);
    const writes = stack.odoo.calls.filter(
      (call) => call.modelMethod === 'write' || call.modelMethod === 'create',
    );
    expect(writes).toEqual([]);
    const searches = stack.odoo.calls.filter((call) => call.model === 'account.move');
    expect(searches).toHaveLength(1);

    // A new invoice after the cursor is found by the next incremental pass.
    stack.advanceOdooClock(1_000);
    const [late] = stack.createInvoices(1);
    const next = await app.pipeline.publish();
    expect(next.linksCreated).toBe(1);
    expect(stack.odoo.models.invoiceFieldValue(late!, 'x_mytpe_link_id')).not.toBe(false);
  });

  it('sends allowed_company_ids with every Odoo call', async () => {
    stack = await startStack();
    stack.createInvoices(2);
    const app = await readyApp(stack);
    await settle(app, 1);
    const objectCalls = stack.odoo.calls.filter((call) => call.service === 'object');
    expect(objectCalls.length).toBeGreaterThan(3);
    for (const call of objectCalls) {
      const context = (call.kwargs?.context ?? {}) as { allowed_company_ids?: number[] };
      expect(context.allowed_company_ids, `${call.model}.${call.modelMethod}`).toEqual([stack.companyId]);
    }
  });

  it('gives exactly one link per invoice when two passes run at once, in one process or two', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(30);
    const first = await readyApp(stack);
    const second = stack.app();
    await Promise.all([first.pipeline.publish(), first.pipeline.publish(), second.pipeline.publish()]);
    await Promise.all([first.pipeline.publish(), second.pipeline.publish()]);
    expect(stack.mytpe.links()).toHaveLength(30);
    expect(new Set(stack.mytpe.links().map((link) => link.slug)).size).toBe(30);
    for (const invoice of linkedInvoices(stack, ids)) expect(invoice.linkId).not.toBe(false);
    expect(first.links.countsByState()).toEqual([{ state: 'open', count: 30 }]);
  });
});

describe('crash at any point of a pass', () => {
  /**
   * The daemon "dies" right after its Nth HTTP call left the process: that call's effect
   * happened, its answer and everything after are lost, and no state is written any more.
   */
  function crashAfter(calls: number, app: () => App): typeof fetch {
    let count = 0;
    return async (input, init) => {
      count++;
      if (count > calls) throw new Error('process is dead');
      const response = await fetch(input, init);
      if (count === calls) {
        app().close();
        throw new Error('crashed after the request was served');
      }
      return response;
    };
  }

  it('still ends with exactly one link per invoice, each written back, after a restart', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(4);
    await (await readyApp(stack)).pipeline.publish().catch(() => undefined);
    // Start over with the links already made: crash at every call boundary of a fresh set.
    // The first five calls check Odoo at start (version, login, fields, identity, journal).
    for (let crashPoint = 1; crashPoint <= 34; crashPoint += 3) {
      const more = stack.createInvoices(2);
      ids.push(...more);
      let crashing: App | undefined;
      crashing = stack.app({ fetch: crashAfter(crashPoint, () => crashing!) });
      await crashing
        .prepareOdoo()
        .then(() => crashing.pipeline.publish())
        .catch(() => undefined);
      crashing.close();
      const restarted = await readyApp(stack);
      await settle(restarted, 2);
      restarted.close();
    }
    expect(stack.app().links.countsByState()).toEqual([{ state: 'open', count: ids.length }]);
    const slugs = stack.mytpe.links().map((link) => link.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    expect(slugs).toHaveLength(ids.length);
    for (const invoice of linkedInvoices(stack, ids)) {
      expect(invoice.linkId, `invoice ${invoice.id}`).not.toBe(false);
      expect(stack.mytpe.links().find((link) => link.id === invoice.linkId)?.slug).toBe(
        `${stack.prefix}-inv-${invoice.id}-1`,
      );
    }
  });

  it('registers each payment once when the daemon dies around registration', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(3);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    for (const link of stack.mytpe.links()) stack.mytpe.pay(link.id);
    for (let crashPoint = 1; crashPoint <= 16; crashPoint++) {
      let crashing: App | undefined;
      crashing = stack.app({ fetch: crashAfter(crashPoint, () => crashing!) });
      await crashing.pipeline.confirm().catch(() => undefined);
      crashing.close();
    }
    const restarted = stack.app();
    await settle(restarted, 2);
    expect(restarted.links.countsByState()).toEqual([{ state: 'registered', count: 3 }]);
    for (const id of ids) {
      const invoice = stack.odoo.models.getInvoice(id);
      const payments = stack.odoo.models.payments().filter((payment) => payment.invoice_ids.includes(id));
      expect(payments, `invoice ${id}`).toHaveLength(1);
      expect(invoice.payment_state).toBe('paid');
    }
  });
});

describe('confirm', () => {
  it('registers exactly one account.payment per paid link and settles the invoice', async () => {
    stack = await startStack();
    const ids = stack.createInvoices(10, '24990.50');
    const app = await readyApp(stack);
    await app.pipeline.publish();
    const transactions = new Map<string, string>();
    for (const link of stack.mytpe.links().slice(0, 7))
      transactions.set(link.slug, stack.mytpe.pay(link.id).id);
    const first = await app.pipeline.confirm();
    expect(first.registered).toBe(7);
    await settle(app, 2);

    for (const id of ids) {
      const slug = `${stack.prefix}-inv-${id}-1`;
      const invoice = stack.odoo.models.getInvoice(id);
      const payments = stack.odoo.models.payments().filter((payment) => payment.invoice_ids.includes(id));
      const transaction = transactions.get(slug);
      if (transaction) {
        expect(payments).toHaveLength(1);
        expect(payments[0]?.memo).toBe(`MyTPE ${transaction}`);
        expect(payments[0]?.amount).toBe(24990.5);
        expect(payments[0]?.journal_id).toBe(stack.journalId);
        expect(invoice.payment_state).toBe('paid');
      } else {
        expect(payments).toHaveLength(0);
        expect(invoice.payment_state).toBe('not_paid');
      }
    }
    expect(app.links.countsByState()).toEqual([
      { state: 'open', count: 3 },
      { state: 'registered', count: 7 },
    ]);
  });

  it('runs the whole cycle against Odoo 19 (error code 0, message_post returning a list)', async () => {
    stack = await startStack({ odoo: { version: '19.0' } });
    const [id] = stack.createInvoices(1);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('paid');
    expect(stack.odoo.models.payments()).toHaveLength(1);
    expect(
      stack.odoo.models
        .messages(id!)
        .filter((message) => String(message.message_id).endsWith('@odoo-paylink>'))
        .map((message) => /<p>([^ ]+ [^ ]+)/.exec(message.body)?.[1]),
    ).toEqual(['MyTPE Pay', 'Online payment']);
  });

  it('treats in_payment as settled where Odoo is configured that way', async () => {
    stack = await startStack({ odoo: { settledState: 'in_payment' } });
    const [id] = stack.createInvoices(1);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('in_payment');
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
    expect(stack.odoo.models.payments()).toHaveLength(1);
  });

  it('adopts a payment that is already in Odoo instead of registering it twice', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    const transaction = stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    // As if an earlier run registered it and died before recording that.
    stack.odoo.models.payByOtherMeans(id!, { memo: `MyTPE ${transaction.id}` });
    await app.pipeline.confirm();
    expect(stack.odoo.models.paymentsByMemo(`MyTPE ${transaction.id}`)).toHaveLength(1);
    expect(stack.odoo.models.payments()).toHaveLength(1);
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
  });

  it('adopts a payment an earlier release registered with the bare transaction id as memo', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await readyApp(stack);
    await app.pipeline.publish();
    const transaction = stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    stack.odoo.models.payByOtherMeans(id!, { memo: transaction.id });
    await app.pipeline.confirm();
    expect(stack.odoo.models.payments().map((payment) => payment.memo)).toEqual([transaction.id]);
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
  });

  it('does not register a payment of another amount: the link goes to mismatch with the reason', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1, '1500.00');
    const app = await readyApp(stack);
    await app.pipeline.publish();
    stack.mytpe.pay(stack.mytpe.links()[0]!.id, { amount: '1400.00' });
    await settle(app, 2);
    expect(stack.odoo.models.payments()).toHaveLength(0);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('not_paid');
    const [row] = app.links.inStates(['mismatch']);
    expect(row?.stateReason).toBe('paid 1400.00 DZD, link asked for 1500.00 DZD');
    const warning = stack.logs.find((entry) =>
      entry.message.includes('does not match it and was NOT registered'),
    );
    expect(warning?.level).toBe('warn');
    const notes = stack.odoo.models.messages(id!).map((message) => message.body);
    expect(notes.some((body) => body.includes('was NOT registered'))).toBe(true);
  });

  it('does not register when the invoice now has less left to pay than was paid', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1, '1500.00');
    const app = await readyApp(stack);
    await app.pipeline.publish();
    stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    stack.odoo.models.payByOtherMeans(id!, { memo: 'CASH-PART', amount: '500.00' });
    await app.pipeline.confirm();
    expect(stack.odoo.models.payments().map((payment) => payment.memo)).toEqual(['CASH-PART']);
    const [row] = app.links.inStates(['mismatch']);
    expect(row?.stateReason).toContain('1000.00 DZD left to pay');
  });
});
