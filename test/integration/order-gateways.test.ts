import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { GatewayId } from '../../src/config/schema.js';
import { Mailbox } from '../support/mailbox.js';
import { type Stack, settle, startStack } from '../support/stack.js';

/**
 * TiloPay, TendoPay and MPChat through the real daemon: the pipeline, the pay page, the return
 * and webhook routes, against each gateway's loopback sandbox, as a Billing-rights bot. What a
 * customer does goes through the pay address, as a browser would.
 */

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type OrderGateway = Exclude<GatewayId, 'mytpe'>;

const MEMO: Record<OrderGateway, string> = { tilopay: 'TiloPay', tendopay: 'TendoPay', mpchat: 'MPChat' };

async function served(gateway: OrderGateway): Promise<{ stack: Stack; app: App; idle(): Promise<void> }> {
  stack = await startStack({ gateway });
  const app = await stack.readyApp();
  const { idle } = await stack.serve(app);
  return { stack, app, idle };
}

/** Events from webhooks and returns handled, then a confirm pass: what the daemon does within a tick. */
async function afterCustomer(app: App, idle: () => Promise<void>): Promise<void> {
  await idle();
  await app.pipeline.processEvents();
  await app.pipeline.confirm();
}

function paymentsOf(s: Stack, invoiceId: number) {
  return s.odoo.models.payments().filter((payment) => payment.invoice_ids.includes(invoiceId));
}

function orderCount(s: Stack): number {
  return (s.tilopay?.orders() ?? s.tendopay?.orders() ?? s.mpchat?.orders() ?? []).length;
}

function securityLines(s: Stack): string[] {
  return s.logs.filter((line) => line.message.startsWith('SECURITY')).map((line) => line.message);
}

describe.each(['tilopay', 'tendopay', 'mpchat'] as const)('%s through the pipeline', (gateway) => {
  it('links 20 invoices once each, and registers one payment per invoice paid through the pay page', async () => {
    const { stack: s, app, idle } = await served(gateway);
    const ids = s.createInvoices(20);
    await app.pipeline.publish();
    await app.pipeline.publish();
    for (const id of ids) {
      expect(s.odoo.models.invoiceFieldValue(id, 'x_paylink_gateway')).toBe(gateway);
      expect(s.odoo.models.invoiceFieldValue(id, 'x_paylink_id')).toEqual(expect.any(String));
      expect(String(s.odoo.models.invoiceFieldValue(id, 'x_paylink_url'))).toMatch(/\/pay\/[\w-]+/);
      // MyTPE's own pair stays MyTPE's.
      expect(s.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(false);
      expect(app.links.ofInvoice(id)).toHaveLength(1);
    }
    const paid = ids.slice(0, 5);
    for (const id of paid) {
      const visit = await s.visit(id, 'pay');
      expect(visit.gateway).toBe(gateway);
    }
    await afterCustomer(app, idle);
    await settle(app);
    for (const id of ids) {
      const payments = paymentsOf(s, id);
      expect(payments, `invoice ${id}`).toHaveLength(paid.includes(id) ? 1 : 0);
      if (payments[0]) {
        expect(payments[0].memo).toMatch(new RegExp(`^${MEMO[gateway]} `));
        expect(payments[0].amount).toBe(1500);
        expect(['paid', 'in_payment']).toContain(s.odoo.models.getInvoice(id).payment_state);
      }
    }
    // The customer who comes back to a paid invoice is told so and sent nowhere.
    const again = await s.visit(paid[0]!, 'pay');
    expect(again.gateway).toBeUndefined();
    expect(again.status).toBe(200);
    await afterCustomer(app, idle);
    expect(paymentsOf(s, paid[0]!)).toHaveLength(1);
    expect(securityLines(s)).toEqual([]);
  }, 60_000);

  it('after a lost answer at creation, the invoice still gets one link and one pay address', async () => {
    const { stack: s, app, idle } = await served(gateway);
    // A first invoice goes through, so the gateway's login is behind us and the lost answer is
    // the order's own.
    s.createInvoices(1);
    await app.pipeline.publish();
    const before = orderCount(s);
    const [id] = s.createInvoices(1);
    if (gateway === 'tilopay') s.tilopay!.faults.dropAnswerNext(1);
    if (gateway === 'tendopay') s.tendopay!.faults.dropAnswerNext(1, 'api');
    if (gateway === 'mpchat') s.mpchat!.faults.dropAnswerNext(1);
    await settle(app);
    const rows = app.links.ofInvoice(id!);
    expect(rows.filter((row) => row.state === 'open')).toHaveLength(1);
    // MPChat's idempotency key finds the order again; the others make a new order per attempt,
    // and the one whose answer was lost was never shown to anyone.
    expect(orderCount(s) - before).toBe(gateway === 'mpchat' ? 1 : 2);
    await s.visit(id!, 'pay');
    await afterCustomer(app, idle);
    expect(paymentsOf(s, id!)).toHaveLength(1);
  }, 30_000);
});

describe('a forged or altered customer return', () => {
  for (const gateway of ['tilopay', 'tendopay'] as const) {
    it(`${gateway}: one byte changed in the signed return is refused and logged; nothing is registered`, async () => {
      const { stack: s, app, idle } = await served(gateway);
      const [id] = s.createInvoices(1);
      await app.pipeline.publish();
      // The customer's payment is declined; the way back is signed as such.
      const response = await fetch(String(s.odoo.models.invoiceFieldValue(id!, 'x_paylink_url')), {
        redirect: 'manual',
      });
      const hostedPage = response.headers.get('location')!;
      const redirectUrl =
        gateway === 'tilopay'
          ? (
              await s.tilopay!.pay(
                s.tilopay!.orders().find((o) => o.pageUrls.includes(hostedPage))!.orderNumber,
                'declined',
              )
            ).redirectUrl
          : s.tendopay!.finish(hostedPage, { outcome: 'fail' }).redirectUrl;
      const signature = gateway === 'tilopay' ? 'OrderHash' : 'x_signature';
      const url = new URL(redirectUrl);
      const genuine = url.searchParams.get(signature) ?? url.searchParams.get(signature.toLowerCase());
      expect(genuine, `the return carries ${signature}`).toBeTruthy();
      const forged = new URL(redirectUrl);
      const key = url.searchParams.has(signature) ? signature : signature.toLowerCase();
      const flipped = `${genuine!.slice(0, -1)}${genuine!.endsWith('0') ? '1' : '0'}`;
      forged.searchParams.set(key, flipped);
      const refused = await fetch(forged, { redirect: 'manual' });
      expect(refused.status).toBe(400);
      const page = await refused.text();
      expect(page).not.toContain(flipped);
      expect(securityLines(s)).toHaveLength(1);
      // The genuine one is taken, and says the payment did not go through.
      const taken = await fetch(url, { redirect: 'manual' });
      expect(taken.status).toBe(200);
      await afterCustomer(app, idle);
      expect(paymentsOf(s, id!)).toHaveLength(0);
    }, 30_000);
  }
});

describe('checkout orders that expire (renewal on visit)', () => {
  const TTL_MS: Record<OrderGateway, number> = {
    tilopay: 2 * 3_600_000,
    tendopay: 24 * 3_600_000,
    mpchat: 30 * 60_000,
  };

  it.each(['tilopay', 'tendopay', 'mpchat'] as const)(
    '%s: an order that expired unvisited is left alone until the customer comes, then renewed once, quietly',
    async (gateway) => {
      stack = await startStack({ gateway });
      const s = stack;
      const mailbox = new Mailbox();
      const first = await s.readyApp({ mailbox });
      await s.serve(first);
      const [id] = s.createInvoices(1);
      await first.pipeline.publish();
      await first.mail!.runOnce();
      await first.pipeline.postNotes();
      const notesBefore = s.odoo.models.messages(id!).length;
      const firstOrder = s.odoo.models.invoiceFieldValue(id!, 'x_paylink_id');
      s.advanceOdooClock(TTL_MS[gateway] + 60_000);
      // Sweeps and confirms while nobody visits: the order is seen expired, nothing is made or said,
      // also by the full sweeps of a restarted daemon that come after (an hour apart).
      await settle(first);
      const app = await s.readyApp({ mailbox });
      const { idle } = await s.serve(app);
      s.advanceOdooClock(61 * 60_000);
      await settle(app);
      await app.pipeline.postNotes();
      expect(orderCount(s)).toBe(1);
      expect(s.odoo.models.messages(id!)).toHaveLength(notesBefore);
      // The customer comes: a fresh order, and they pay it.
      const visit = await s.visit(id!, 'pay');
      expect(visit.gateway).toBe(gateway);
      expect(orderCount(s)).toBe(2);
      expect(s.odoo.models.invoiceFieldValue(id!, 'x_paylink_id')).not.toBe(firstOrder);
      await afterCustomer(app, idle);
      await settle(app);
      expect(paymentsOf(s, id!)).toHaveLength(1);
      await app.mail!.runOnce();
      // One email ever: the renewal was the pay page's doing, not news for the customer.
      expect(mailbox.sent).toHaveLength(1);
      // The chatter has the payment, not a renewal or an expiry.
      const added = s.odoo.models
        .messages(id!)
        .slice(notesBefore)
        .map((message) => message.body);
      expect(added.join('\n')).not.toMatch(/expired|replaced/i);
    },
    30_000,
  );

  it.each(['tilopay', 'tendopay', 'mpchat'] as const)(
    '%s: a customer who comes just after the order expired, before any pass saw it, gets a fresh one',
    async (gateway) => {
      const { stack: s, app, idle } = await served(gateway);
      const [id] = s.createInvoices(1);
      await app.pipeline.publish();
      s.advanceOdooClock(TTL_MS[gateway] + 60_000);
      const visit = await s.visit(id!, 'pay');
      expect(visit.gateway).toBe(gateway);
      expect(orderCount(s)).toBe(2);
      await afterCustomer(app, idle);
      expect(paymentsOf(s, id!)).toHaveLength(1);
    },
    30_000,
  );

  it.each(['tilopay', 'tendopay'] as const)(
    '%s: after a declined payment the customer gets a fresh order on the next visit',
    async (gateway) => {
      const { stack: s, app, idle } = await served(gateway);
      const [id] = s.createInvoices(1);
      await app.pipeline.publish();
      const declined = await s.visit(id!, 'decline');
      expect(declined.status).toBe(200);
      await afterCustomer(app, idle);
      const retry = await s.visit(id!, 'pay');
      expect(retry.gateway).toBe(gateway);
      expect(orderCount(s)).toBe(2);
      await afterCustomer(app, idle);
      expect(paymentsOf(s, id!)).toHaveLength(1);
    },
    30_000,
  );
});

describe('MPChat amounts', () => {
  it('prices a EUR invoice from Odoo’s rate, says so in the chatter, and registers in EUR', async () => {
    stack = await startStack({ gateway: 'mpchat' });
    const s = stack;
    const eur = s.odoo.models.createCompany({ name: 'Euro GmbH', currency: 'EUR' });
    const journalId = s.odoo.models.createJournal({
      name: 'Bank',
      type: 'bank',
      code: 'EBNK',
      companyId: eur,
    });
    s.odoo.models.setUserCompanies(s.odoo.bot!.uid, [s.companyId, eur]);
    // Odoo keeps rates against the company currency: 1 EUR = 1.08 USD.
    s.odoo.models.setCurrencyRate('USD', '2026-01-01', 1.08, eur);
    const [id] = [s.odoo.models.createInvoice({ partnerId: s.partnerId, companyId: eur, amount: '100.00' })];
    const config = {
      companies: [{ odooCompanyId: eur, journalId, gateway: 'mpchat' as const }],
      gateways: {
        ...s.config.gateways,
        mpchat: { ...s.config.gateways.mpchat!, invoiceCurrencies: ['USD', 'EUR'] },
      },
    };
    const app = await s.readyApp({ config });
    const { idle } = await s.serve(app);
    await app.pipeline.publish();
    await app.pipeline.postNotes();
    const order = s.mpchat!.orders()[0]!;
    expect(order.order_amount).toBe('108.00');
    expect(
      s.odoo.models
        .messages(id!)
        .map((m) => m.body)
        .join('\n'),
    ).toContain('108.00 USDT');
    await s.visit(id!, 'pay');
    await afterCustomer(app, idle);
    const [payment] = paymentsOf(s, id!);
    expect(payment?.currency).toBe('EUR');
    expect(payment?.amount).toBe(100);
  }, 30_000);

  it('sends an UNDERPAID order to a person, with a note, and registers nothing', async () => {
    const { stack: s, app, idle } = await served('mpchat');
    const [id] = s.createInvoices(1);
    await app.pipeline.publish();
    const response = await fetch(String(s.odoo.models.invoiceFieldValue(id!, 'x_paylink_url')), {
      redirect: 'manual',
    });
    const order = s.mpchat!.orders().find((o) => o.payment_url === response.headers.get('location'))!;
    s.mpchat!.buyer(String(order.id), 'underpay');
    await afterCustomer(app, idle);
    await app.pipeline.postNotes();
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(
      s.odoo.models
        .messages(id!)
        .map((m) => m.body)
        .join('\n'),
    ).toMatch(/UNDERPAID/);
    expect(app.links.ofInvoice(id!).at(-1)?.state).toBe('mismatch');
  }, 30_000);
});

describe('money on an archived order', () => {
  it('is registered only for the amount the order asked; another amount goes to a person', async () => {
    const { stack: s, app, idle } = await served('tendopay');
    const [id] = s.createInvoices(1, '1500.00');
    await app.pipeline.publish();
    const first = app.links.ofInvoice(id!)[0]!;
    // The accountant lowers the amount: the first order is archived, a new one made.
    s.odoo.models.resetToDraft(id!);
    s.odoo.models.setAmount(id!, '1400.00');
    s.odoo.models.postInvoice(id!);
    s.advanceOdooClock(1_000);
    await settle(app);
    expect(app.links.byId(first.id)?.state).toBe('closed');
    // The customer still had the first order open in a tab, and TendoPay approved 1000 on it.
    const { redirectUrl } = s.tendopay!.finish(first.linkUrl!, { approvedAmount: '1000' });
    await fetch(redirectUrl, { redirect: 'manual' });
    await afterCustomer(app, idle);
    await app.pipeline.postNotes();
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(app.links.byId(first.id)?.state).toBe('refund_needed');
    expect(
      s.odoo.models
        .messages(id!)
        .map((m) => m.body)
        .join('\n'),
    ).toMatch(/1[,.]?000/);
  }, 30_000);
});

describe('altered returns and webhooks', () => {
  it('tilopay: a declined return altered to approved (its code) is refused', async () => {
    const { stack: s, app, idle } = await served('tilopay');
    const [id] = s.createInvoices(1);
    await app.pipeline.publish();
    const response = await fetch(String(s.odoo.models.invoiceFieldValue(id!, 'x_paylink_url')), {
      redirect: 'manual',
    });
    const order = s.tilopay!.orders().find((o) => o.pageUrls.includes(response.headers.get('location')!))!;
    const { redirectUrl } = await s.tilopay!.pay(order.orderNumber, 'declined');
    const altered = new URL(redirectUrl);
    expect(altered.searchParams.get('code')).not.toBe('1');
    altered.searchParams.set('code', '1');
    expect((await fetch(altered, { redirect: 'manual' })).status).toBe(400);
    await afterCustomer(app, idle);
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(securityLines(s)).toHaveLength(1);
  });

  it('tendopay: a failed return altered to PAID (its status) is refused', async () => {
    const { stack: s, app, idle } = await served('tendopay');
    const [id] = s.createInvoices(1);
    await app.pipeline.publish();
    const { redirectParams } = s.tendopay!.finish(app.links.ofInvoice(id!)[0]!.linkUrl!, { outcome: 'fail' });
    const altered = new URLSearchParams({ ...redirectParams, tp_transaction_status: 'PAID' });
    const returned = await fetch(`${s.config.http.publicUrl}/return/tendopay?${altered}`, {
      redirect: 'manual',
    });
    expect(returned.status).toBe(400);
    await afterCustomer(app, idle);
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(securityLines(s)).toHaveLength(1);
  });

  it('mpchat: a webhook with one byte of its body changed is refused; the genuine one is taken', async () => {
    const { stack: s, app, idle } = await served('mpchat');
    const [id] = s.createInvoices(1);
    await app.pipeline.publish();
    const order = s.mpchat!.orders()[0]!;
    s.mpchat!.buyer(String(order.id), 'underpay');
    await idle();
    const delivery = s.mpchat!.deliveries.find((d) => d.ok)!;
    const headers = {
      'content-type': 'application/json',
      'x-merchant-signature': delivery.signature,
      'x-webhook-event': delivery.event,
    };
    // "UNDERPAID" → "PAIDERPAID" would be more than a byte: change one digit of the amount.
    const forged = delivery.body.replace(
      /"received_amount":"(\d)/,
      (_m, digit: string) => `"received_amount":"${(Number(digit) + 1) % 10}`,
    );
    expect(forged).not.toBe(delivery.body);
    const refused = await fetch(delivery.url, { method: 'POST', headers, body: forged });
    expect(refused.status).toBe(401);
    const taken = await fetch(delivery.url, { method: 'POST', headers, body: delivery.body });
    expect(taken.status).toBe(200);
    await afterCustomer(app, idle);
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(securityLines(s)).toHaveLength(1);
  });
});

describe('amounts TendoPay approves differently', () => {
  it('are not registered; the chatter says what was approved', async () => {
    const { stack: s, app, idle } = await served('tendopay');
    const [id] = s.createInvoices(1, '1500.00');
    await app.pipeline.publish();
    const { redirectUrl } = s.tendopay!.finish(app.links.ofInvoice(id!)[0]!.linkUrl!, {
      approvedAmount: '1200',
    });
    await fetch(redirectUrl, { redirect: 'manual' });
    await afterCustomer(app, idle);
    await app.pipeline.postNotes();
    expect(paymentsOf(s, id!)).toHaveLength(0);
    expect(app.links.ofInvoice(id!).at(-1)?.state).toBe('mismatch');
    expect(
      s.odoo.models
        .messages(id!)
        .map((m) => m.body)
        .join('\n'),
    ).toMatch(/1[,.\s]?200/);
  });
});

describe.each(['tilopay', 'tendopay', 'mpchat'] as const)('reconcile over %s', (gateway) => {
  it('finds a payment the daemon missed, registers it with --fix, and says what it cannot check', async () => {
    const { stack: s, app } = await served(gateway);
    const [id] = s.createInvoices(1);
    await app.pipeline.publish();
    // The customer pays, and neither the return nor any notice reaches the daemon.
    s.tilopay?.setWebhookUrl(undefined);
    s.tendopay?.setNotificationUrl(null);
    s.mpchat?.setWebhookUrl(undefined);
    const hosted = (
      await fetch(String(s.odoo.models.invoiceFieldValue(id!, 'x_paylink_url')), { redirect: 'manual' })
    ).headers.get('location')!;
    if (gateway === 'tilopay')
      await s.tilopay!.pay(s.tilopay!.orders().find((o) => o.pageUrls.includes(hosted))!.orderNumber);
    if (gateway === 'mpchat')
      s.mpchat!.buyer(String(s.mpchat!.orders().find((o) => o.payment_url === hosted)!.id), 'pay');
    if (gateway === 'tendopay') s.tendopay!.finish(hosted, { outcome: 'pay' });
    const window = { since: new Date(Date.now() - 86_400_000), until: new Date(Date.now() + 86_400_000) };
    const report = await app.pipeline.reconcile(window, { fix: true });
    if (gateway === 'tendopay') {
      // TendoPay can be asked about a transaction only by its id, which only its return or
      // notification gives: reconcile cannot see this payment, and says so.
      expect(report.discrepancies).toHaveLength(0);
      expect(paymentsOf(s, id!)).toHaveLength(0);
    } else {
      expect(report.discrepancies.map((d) => [d.kind, d.fixed])).toEqual([['paid_not_registered', true]]);
      expect(paymentsOf(s, id!)).toHaveLength(1);
    }
    expect(report.limits.join('\n')).toMatch(
      { mpchat: /^$/, tilopay: /cannot list payments/, tendopay: /only by the transaction id/ }[gateway],
    );
  });
});
