import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import { type Stack, settle, startStack } from '../support/stack.js';

/** Registering the payment in Odoo: the right invoice, the right day, the right journal, once. */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const ready = (): Promise<App> => stack.readyApp();

function linkOf(invoiceId: number): string {
  return String(stack.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id'));
}

describe('registration', () => {
  it('names the gateway in the memo and does not take a payment of another invoice for this one', async () => {
    stack = await startStack();
    const [paidOnline, other] = stack.createInvoices(2);
    const app = await ready();
    await app.pipeline.publish();
    const transaction = stack.mytpe.pay(linkOf(paidOnline!));
    // Someone registers a payment of another invoice with that very memo.
    stack.odoo.models.payByOtherMeans(other!, { memo: `MyTPE ${transaction.id}` });
    await app.pipeline.confirm();

    expect(stack.odoo.models.getInvoice(paidOnline!).payment_state).toBe('paid');
    const ours = stack.odoo.models.payments().filter((payment) => payment.invoice_ids.includes(paidOnline!));
    expect(ours.map((payment) => payment.memo)).toEqual([`MyTPE ${transaction.id}`]);
    // Reconciliation agrees only because the payment really is this invoice's.
    const report = await app.pipeline.reconcile(
      { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) },
      { fix: false },
    );
    expect(report.matched).toBe(1);
    expect(report.remaining).toBe(0);
  });

  it("adopts the invoice's own payment after a lost answer instead of registering a second", async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    stack.mytpe.pay(linkOf(id!));
    // Odoo registers the payment, but the answer to action_create_payments is lost.
    stack.odoo.faults.dropResponseNext({
      model: 'account.payment.register',
      method: 'action_create_payments',
    });
    await app.pipeline.confirm();
    await app.pipeline.confirm();
    expect(stack.odoo.models.payments()).toHaveLength(1);
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
  });

  it("dates the payment in the company's time zone", async () => {
    // 23:30 UTC is already the next day in Algiers (UTC+1).
    const lateEvening = new Date('2026-12-01T23:30:00Z');
    const mytpe = await startMyTpeSandbox({ now: () => lateEvening });
    stack = await startStack({ mytpe });
    try {
      const company = stack.odoo.models.registry.model('res.company').rows.get(stack.companyId)!;
      stack.odoo.models.registry.update(
        'res.partner',
        stack.odoo.models.registry.model('res.partner').rows.get(Number(company.partner_id))!,
        { tz: 'Africa/Algiers' },
        stack.odoo.models.registry.superEnv(),
      );
      const [id] = stack.createInvoices(1);
      const app = await ready();
      await app.pipeline.publish();
      stack.mytpe.pay(linkOf(id!));
      await app.pipeline.confirm();
      expect(stack.odoo.models.payments().map((payment) => payment.date)).toEqual(['2026-12-02']);
    } finally {
      await mytpe.close();
    }
  });

  it('registers a payment that lands on an expired link while the invoice still needs it, and archives the replacement', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    const first = stack.mytpe.links()[0]!;
    stack.mytpe.expire(first.id);
    await app.pipeline.confirm();
    const replacement = stack.mytpe.links().find((link) => link.id !== first.id)!;
    expect(replacement.slug).toBe(`${stack.prefix}-inv-${id}-2`);
    // A late bank confirmation on the first link.
    const expired = app.links.inStates(['expired'])[0]!;
    await app.pipeline.steps.applySnapshot(app.links.byId(expired.id)!, {
      link: { id: first.id, url: first.payment_link ?? '', reference: first.slug, amount: expired.amount },
      status: 'paid',
      payments: [{ transactionId: 'late-1', status: 'completed', amount: expired.amount }],
    });
    await settle(app, 2);

    expect(stack.odoo.models.payments().map((payment) => payment.memo)).toEqual(['MyTPE late-1']);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('paid');
    // The newer link cannot be paid too.
    expect(stack.mytpe.links().find((link) => link.id === replacement.id)).toBeUndefined();
    expect(app.links.countsByState()).toEqual([
      { state: 'closed', count: 1 },
      { state: 'registered', count: 1 },
    ]);
    const notes = stack.odoo.models.messages(id!).map((message) => String(message.body));
    expect(notes.some((body) => body.includes('earlier') && body.includes('late-1'))).toBe(true);
  });

  it('counts in_payment as settled: money for an invoice already in payment is not registered', async () => {
    // Enterprise Accounting moves a paid invoice to in_payment until the bank statement matches.
    stack = await startStack({ odoo: { settledState: 'in_payment' } });
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    stack.mytpe.pay(linkOf(id!));
    stack.odoo.models.payByOtherMeans(id!, { memo: 'BANK-1' });
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('in_payment');
    await app.pipeline.confirm();
    expect(stack.odoo.models.payments().map((payment) => payment.memo)).toEqual(['BANK-1']);
    expect(app.links.countsByState()).toEqual([{ state: 'refund_needed', count: 1 }]);
  });
});

describe('the journal payments land on', () => {
  it('is checked before any link is made: a sale journal keeps the company out, with one ALERT', async () => {
    stack = await startStack({ skipSetup: true });
    const sale = stack.odoo.models.createJournal({
      name: 'Sales',
      type: 'sale',
      code: 'SAL2',
      companyId: stack.companyId,
    });
    const config = { companies: [{ ...stack.config.companies[0]!, journalId: sale }] };
    const setup = stack.app({ config });
    const report = await setup.setupOdoo(stack.admin);
    expect(report.journalProblems.join('\n')).toMatch(/sale journal; payments need a bank or cash journal/);
    stack.createInvoices(1);
    const app = stack.app({ config });
    await app.prepareOdoo();
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(0);
    expect(
      app.alerts
        .list()
        .map((alert) => alert.message)
        .join('\n'),
    ).toMatch(/gets no payment links/);
  });

  it.each([
    ['a journal that does not exist', () => 999_999, /does not exist/],
    [
      'a journal of another company',
      () => {
        const other = stack.odoo.models.createCompany({ name: 'Other', currency: 'DZD' });
        return stack.odoo.models.createJournal({
          name: 'Other bank',
          type: 'bank',
          code: 'OBNK',
          companyId: other,
        });
      },
      /does not exist in company|belongs to company/,
    ],
    [
      'a journal only for euros',
      () =>
        stack.odoo.models.createJournal({
          name: 'EUR bank',
          type: 'bank',
          code: 'EBNK',
          companyId: stack.companyId,
          currency: 'EUR',
        }),
      /takes only EUR/,
    ],
  ])('refuses %s', async (_name, journal, problem) => {
    stack = await startStack({ skipSetup: true });
    const config = { companies: [{ ...stack.config.companies[0]!, journalId: journal() }] };
    const report = await stack.app({ config }).setupOdoo(stack.admin);
    expect(report.journalProblems.join('\n')).toMatch(problem);
  });
});
