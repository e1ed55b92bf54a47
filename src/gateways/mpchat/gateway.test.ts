import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeMoney, type Money, money } from '../../domain/money.js';
import {
  type MpChatSandbox,
  type MpChatSandboxOptions,
  startMpChatSandbox,
} from '../../sandbox/mpchat/server.js';
import type { SandboxOrderStatus } from '../../sandbox/mpchat/state.js';
import {
  type Gateway,
  GatewayError,
  type GatewayLink,
  type LinkRecord,
  type LinkRequest,
  type WebhookDelivery,
} from '../gateway.js';
import { createMpChatGateway, type MpChatGatewayOptions } from './gateway.js';

// The adapter against the MPChat sandbox over loopback HTTP; only the amount check rewrites an
// answer on its way back.

const KEY_A = { keyId: 'mk_test_gatewayA', secret: 'a'.repeat(64), webhookSecret: 'whsec_merchant_a' };
const KEY_B = { keyId: 'mk_test_gatewayB', secret: 'b'.repeat(64), webhookSecret: 'whsec_merchant_b' };
const EUR_RATE = { from: 'EUR', to: 'USD', rate: '1.0832', date: '2026-12-01' } as const;
const MINUTE = 60_000;

let sandbox: MpChatSandbox;
let sandboxB: MpChatSandbox;
let receiver: Server;
let receiverUrl = '';
let received: { headers: IncomingHttpHeaders; body: Buffer; at: Date }[] = [];
/** The gateway's and the sandbox's clocks, moved separately where a test needs it. */
let gatewayClock = Date.now();
let sandboxClock = gatewayClock;
let seq = 0;

function gateway(overrides: Partial<MpChatGatewayOptions> = {}, on: MpChatSandbox = sandbox): Gateway {
  return createMpChatGateway({
    baseUrl: on.url,
    accounts: { a: KEY_A, b: KEY_B },
    invoiceCurrencies: ['EUR', 'USD'],
    timeoutMs: 2_000,
    now: () => gatewayClock,
    ...overrides,
  });
}

function request(overrides: Partial<LinkRequest> = {}, amount: Money = money(10_000, 'EUR', 2)): LinkRequest {
  seq += 1;
  return {
    reference: `gwtest-inv-${1000 + seq}-1`,
    merchantAccount: 'a',
    amount,
    attempt: 1,
    rate: amount.currency === 'EUR' ? EUR_RATE : { from: amount.currency, to: 'USD', rate: '1', date: null },
    invoice: { odooId: 1000 + seq, name: `INV/2026/${seq}`, companyName: 'Acme SARL', partnerName: 'Client' },
    metadata: { database: 'gwtest', invoice_id: String(1000 + seq), amount: describeMoney(amount) },
    ...overrides,
  };
}

function recordOf(link: GatewayLink, req: LinkRequest, createdAt = gatewayClock): LinkRecord {
  return {
    linkId: link.id,
    merchantAccount: req.merchantAccount,
    reference: req.reference,
    amount: req.amount,
    createdAt,
    context: link.context,
    transactionIds: [],
  };
}

const eur = { currency: 'EUR', decimals: 2 };

async function created(gw: Gateway = gateway(), req: LinkRequest = request()) {
  const link = await gw.createLink(req);
  return {
    gw,
    req,
    link,
    read: () =>
      gw.getLink(link.id, eur, { merchantAccount: req.merchantAccount, record: recordOf(link, req) }),
  };
}

async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const failure = error as GatewayError;
  for (const secret of [KEY_A.secret, KEY_B.secret, KEY_A.webhookSecret])
    expect(failure.message).not.toContain(secret);
  return failure;
}

function delivery(entry: { headers: IncomingHttpHeaders; body: Buffer; at: Date }): WebhookDelivery {
  return { rawBody: entry.body, headers: entry.headers, receivedAt: entry.at };
}

async function deliveriesFor(orderId: string) {
  await sandbox.flushWebhooks();
  return received.filter((entry) => entry.body.toString('utf8').includes(orderId));
}

async function startSandbox(options: Partial<MpChatSandboxOptions> = {}) {
  return startMpChatSandbox({
    keys: [
      { keyId: KEY_A.keyId, secret: KEY_A.secret, merchantId: 'mer_a' },
      { keyId: KEY_B.keyId, secret: KEY_B.secret, merchantId: 'mer_b' },
    ],
    webhookSecret: KEY_A.webhookSecret,
    webhookRetryDelaysMs: [10],
    webhookMaxAttempts: 1,
    now: () => new Date(sandboxClock),
    ...options,
  });
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks), at: new Date(sandboxClock) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/mpchat`;
  sandbox = await startSandbox();
  // Set late, as the demo does once the daemon listens.
  sandbox.setWebhookUrl(receiverUrl);
  sandboxB = await startSandbox({ txHashes: true });
});

afterEach(() => {
  sandbox.faults.reset();
  gatewayClock = Date.now();
  sandboxClock = gatewayClock;
  received = [];
});

afterAll(async () => {
  await sandbox.close();
  await sandboxB.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('MPChat gateway: createLink', () => {
  it('prices the invoice in USDT exactly, rounded up, and keeps the pricing as context', async () => {
    const req = request({}, money(3_333, 'EUR', 2));
    const link = await gateway().createLink(req);
    // 33.33 × 1.0832 = 36.103056 → 36.11: rounded up so the invoice is always covered.
    const order = sandbox.order(link.id);
    expect(order).toMatchObject({
      order_amount: '36.11',
      currency: 'USDT',
      network: 'TRC20',
      status: 'OPEN',
    });
    expect(order.metadata).toMatchObject({
      reference: req.reference,
      database: 'gwtest',
      invoice_id: req.metadata.invoice_id,
      invoice_amount: '33.33',
      invoice_currency: 'EUR',
      usd_rate: '1.0832',
      usdt_per_usd: '1',
      tolerance_percent: '0.01',
    });
    expect(link).toMatchObject({
      id: order.id,
      url: `${sandbox.url}/pay/${order.id}`,
      reference: req.reference,
      amount: req.amount,
    });
    expect(link.adopted).toBeUndefined();
    expect(JSON.parse(link.context ?? '')).toEqual({
      v: 1,
      usdt: '36.11',
      from: 'EUR',
      rate: '1.0832',
      usdtPerUsd: '1',
      rateDate: '2026-12-01',
      network: 'TRC20',
      tolerance: '0.01',
    });
    expect((link.context ?? '').length).toBeLessThan(1024);
    expect(link.charge).toBe(
      'Charged as 36.11 USDT (TRC20): 1 EUR = 1.0832 USD (Odoo rate of 2026-12-01), 1 USD = 1 USDT.',
    );
  });

  it('applies usdtPerUsd, the network and the tolerance it is configured with', async () => {
    const gw = gateway({ usdtPerUsd: '0.9995', network: 'ERC20', tolerancePercent: '0.005' });
    const link = await gw.createLink(request({}, money(10_000, 'USD', 2)));
    // 100.00 × 1 × 0.9995 = 99.95 exactly.
    expect(sandbox.order(link.id)).toMatchObject({ order_amount: '99.95', network: 'ERC20' });
    expect(link.charge).toBe('Charged as 99.95 USDT (ERC20): 1 USD = 0.9995 USDT.');
    // USD needs no rate from Odoo.
    const plain = await gateway().createLink(request({ rate: undefined }, money(4_210, 'USD', 2)));
    expect(sandbox.order(plain.id).order_amount).toBe('42.10');
  });

  it('refuses a non-USD invoice without a rate, a wrong rate and a currency it does not take', async () => {
    expect(await gatewayError(gateway().createLink(request({ rate: undefined })))).toMatchObject({
      kind: 'validation',
    });
    const wrong = request({ rate: { from: 'GBP', to: 'USD', rate: '1.27', date: '2026-12-01' } });
    expect((await gatewayError(gateway().createLink(wrong))).kind).toBe('validation');
    expect(
      (await gatewayError(gateway().createLink(request({ rate: undefined }, money(500, 'DZD', 2))))).kind,
    ).toBe('validation');
    expect((await gatewayError(gateway().createLink(request({ merchantAccount: 'nobody' })))).kind).toBe(
      'validation',
    );
  });

  it('refuses an order answered with another amount than asked (protocol)', async () => {
    const rewriting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const text = await response.text();
      return new Response(text.replace('"order_amount":"108.32"', '"order_amount":"108.31"'), {
        status: response.status,
        headers: response.headers,
      });
    };
    const error = await gatewayError(gateway({ fetch: rewriting }).createLink(request()));
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain('108.31');
  });

  it('after a lost answer, the retry (attempt 2) gets the same order back: no second payable order', async () => {
    const gw = gateway();
    const first = request();
    sandbox.faults.dropAnswerNext(1);
    expect((await gatewayError(gw.createLink(first))).kind).toBe('network');
    const retry = { ...first, attempt: 2 };
    const link = await gw.createLink(retry);
    const ours = sandbox
      .orders()
      .filter((order) => (order.metadata as { reference?: string }).reference === first.reference);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.id).toBe(link.id);
    // Replayed by its idempotency_key, so it counts as found, not made.
    expect(link.adopted).toBe(true);
    // And a timeout, the same way.
    const slow = request();
    sandbox.faults.delayAnswerNext(1, 400);
    expect((await gatewayError(gateway({ timeoutMs: 100 }).createLink(slow))).kind).toBe('timeout');
    const again = await gw.createLink({ ...slow, attempt: 2 });
    expect(
      sandbox
        .orders()
        .filter((order) => (order.metadata as { reference?: string }).reference === slow.reference),
    ).toHaveLength(1);
    expect(again.url).toBe(sandbox.order(again.id).payment_url);
  });

  it('findLink finds the order of a lost answer, with a context to read it by; never creates one', async () => {
    const gw = gateway();
    const req = request();
    sandbox.faults.dropAnswerNext(1);
    await gatewayError(gw.createLink(req));
    const count = sandbox.orders().length;
    const found = await gw.findLink(req);
    expect(found?.id).toBeDefined();
    expect(found).toMatchObject({ reference: req.reference, amount: req.amount });
    expect(JSON.parse(found?.context ?? '')).toMatchObject({ usdt: '108.32', rate: '1.0832' });
    expect(await gw.findLink(request())).toBeUndefined();
    // Another invoice amount under the same reference is not this request's link.
    expect(await gw.findLink({ ...req, amount: money(10_001, 'EUR', 2) })).toBeUndefined();
    expect(sandbox.orders().length).toBe(count);
  });

  it('sends our notify URL as the per-order webhook_url when it is https', async () => {
    const notifyUrl = 'https://127.0.0.1:1/webhooks/mpchat';
    const link = await gateway().createLink(
      request({ callbacks: { returnUrl: 'https://127.0.0.1:1/return/mpchat', notifyUrl } }),
    );
    // The sandbox shows no webhook_url on the order; its deliveries go there instead of the default.
    sandbox.buyer(link.id, 'pay');
    await sandbox.flushWebhooks();
    expect(sandbox.deliveries.filter((entry) => entry.orderId === link.id).map((entry) => entry.url)).toEqual(
      [notifyUrl],
    );
    expect(await deliveriesFor(link.id)).toHaveLength(0);
  });
});

describe('MPChat gateway: getLink, every status the sandbox can produce', () => {
  it('OPEN and PENDING → open, nothing paid', async () => {
    const { link, read } = await created();
    expect(await read()).toMatchObject({ status: 'open', payments: [] });
    sandbox.setStatus(link.id, 'PENDING');
    expect(await read()).toMatchObject({ status: 'open', payments: [] });
  });

  it('CONFIRMING → pending, with a pending payment', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'pay', { confirm: false });
    const snapshot = await read();
    expect(snapshot.status).toBe('pending');
    expect(snapshot.payments).toEqual([
      { transactionId: link.id, status: 'pending', amount: money(10_000, 'EUR', 2) },
    ]);
  });

  it('PAID in full → one completed payment of exactly the invoice amount', async () => {
    const { link, read } = await created();
    const { order, returnUrl } = sandbox.buyer(link.id, 'pay');
    expect(order.status).toBe('PAID');
    expect(returnUrl).toBeUndefined();
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toHaveLength(1);
    expect(snapshot.payments[0]).toMatchObject({
      transactionId: link.id,
      status: 'completed',
      amount: money(10_000, 'EUR', 2),
    });
    expect(snapshot.payments[0]?.settlesShort).toBeUndefined();
    expect(snapshot.payments[0]?.needsPerson).toBeUndefined();
    expect(snapshot.payments[0]?.occurredAt).toBe(order.paid_at);
    expect(snapshot.link).toMatchObject({ id: link.id, reference: link.reference, amount: link.amount });
  });

  it('PAID within tolerance → the USDT received converted back, truncated, settlesShort', async () => {
    const { link, read } = await created();
    // 107.30 of 108.32 is within 1 %; 107.30 / 1.0832 = 99.0583… → 99.05 EUR.
    sandbox.buyer(link.id, 'custom', { amount: '107.30' });
    expect(sandbox.order(link.id).status).toBe('PAID');
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(9_905, 'EUR', 2), settlesShort: true }),
    ]);
  });

  it('PAID with more than asked → settles the invoice amount, or goes to a person when so configured', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'overpay');
    expect((await read()).payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(10_000, 'EUR', 2) }),
    ]);
    const strict = await created(gateway({ overpayment: 'needs_person' }));
    sandbox.buyer(strict.link.id, 'overpay');
    const snapshot = await strict.read();
    expect(snapshot.payments[0]?.status).toBe('completed');
    expect(snapshot.payments[0]?.needsPerson).toMatch(/more than the invoice/);
    // 119.152 USDT (108.32 + 10 %) / 1.0832 = 110.00 EUR: what arrived, never registered.
    expect(snapshot.payments[0]?.amount).toEqual(money(11_000, 'EUR', 2));
  });

  it('PAID below our tolerance (MPChat applied another) → a person decides', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'custom', { amount: '100.00', confirm: false });
    sandbox.setStatus(link.id, 'PAID');
    const [payment] = (await read()).payments;
    expect(payment).toMatchObject({ status: 'completed', amount: money(9_231, 'EUR', 2) });
    expect(payment?.needsPerson).toMatch(/below the invoice's 108\.32/);
    expect(payment?.settlesShort).toBeUndefined();
  });

  it('UNDERPAID → partially_paid, a completed payment a person must look at', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'underpay');
    expect(sandbox.order(link.id).status).toBe('UNDERPAID');
    const snapshot = await read();
    expect(snapshot.status).toBe('partially_paid');
    // 54.16 / 1.0832 = 50.00 EUR.
    expect(snapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(5_000, 'EUR', 2) }),
    ]);
    expect(snapshot.payments[0]?.needsPerson).toMatch(/UNDERPAID: 54\.16 USDT received of 108\.32/);
  });

  it('EXPIRED → expired; money after that (EXPIRED_PAID, no webhook) is still reported', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'expire');
    expect(await read()).toMatchObject({ status: 'expired', payments: [] });
    sandbox.pay(link.id);
    expect(sandbox.order(link.id).status).toBe('EXPIRED_PAID');
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(10_000, 'EUR', 2) }),
    ]);
    expect(snapshot.payments[0]?.needsPerson).toMatch(/after it had expired/);
  });

  it('FROZEN → a completed payment held for a person, never settled', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'pay', { confirm: false });
    sandbox.setStatus(link.id, 'FROZEN');
    const snapshot = await read();
    expect(snapshot.status).toBe('unknown');
    expect(snapshot.payments[0]).toMatchObject({ status: 'completed', amount: money(10_000, 'EUR', 2) });
    expect(snapshot.payments[0]?.needsPerson).toMatch(/KYT/);
  });

  it('an unknown status → unknown, its money never completed', async () => {
    const { link, read } = await created();
    sandbox.buyer(link.id, 'pay');
    sandbox.setStatus(link.id, 'REFUNDED' as SandboxOrderStatus);
    const snapshot = await read();
    expect(snapshot.status).toBe('unknown');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['unknown']);
  });

  it('names the on-chain transfer as the transaction when the order carries its hash', async () => {
    const { link, read } = await created(gateway({}, sandboxB));
    sandboxB.buyer(link.id, 'pay');
    const hash = sandboxB.order(link.id).tx_hash;
    expect(typeof hash).toBe('string');
    expect((await read()).payments[0]?.transactionId).toBe(hash);
  });

  it('a USD invoice reads back in USD', async () => {
    const gw = gateway();
    const req = request({}, money(2_500, 'USD', 2));
    const link = await gw.createLink(req);
    sandbox.buyer(link.id, 'custom', { amount: '24.80' });
    const snapshot = await gw.getLink(
      link.id,
      { currency: 'USD', decimals: 2 },
      {
        merchantAccount: 'a',
        record: recordOf(link, req),
      },
    );
    expect(snapshot.payments[0]).toMatchObject({ amount: money(2_480, 'USD', 2), settlesShort: true });
  });
});

describe('MPChat gateway: lifetime, adoption, close', () => {
  it('answers expired once our 30 minutes from createdAt have passed unpaid, whatever MPChat says', async () => {
    const { gw, req, link } = await created();
    const read = (createdAt: number) =>
      gw.getLink(link.id, eur, { merchantAccount: 'a', record: recordOf(link, req, createdAt) });
    expect((await read(gatewayClock - 29 * MINUTE)).status).toBe('open');
    // The sandbox's clock has not moved: MPChat still says OPEN.
    expect(sandbox.order(link.id).status).toBe('OPEN');
    expect((await read(gatewayClock - 30 * MINUTE)).status).toBe('expired');
    // Money in flight is never called expired.
    sandbox.buyer(link.id, 'pay', { confirm: false });
    expect((await read(gatewayClock - 40 * MINUTE)).status).toBe('pending');
  });

  it("sees MPChat's own expiry as time passes on its clock", async () => {
    const { link, read } = await created();
    sandboxClock += 30 * MINUTE;
    gatewayClock = sandboxClock;
    expect(sandbox.order(link.id).status).toBe('EXPIRED');
    expect((await read()).status).toBe('expired');
  });

  it('adopting (no record): reads reference and amount from the order, settles nothing', async () => {
    const { gw, req, link } = await created();
    sandbox.buyer(link.id, 'pay');
    const snapshot = await gw.getLink(link.id, eur, { merchantAccount: 'a' });
    expect(snapshot.link).toMatchObject({
      id: link.id,
      reference: req.reference,
      amount: req.amount,
      url: link.url,
    });
    expect(snapshot.link.metadata).toMatchObject({ database: 'gwtest' });
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['unknown']);
    // Once in the store (a record without context), our metadata on the order, checked against
    // order_amount, prices it.
    const noContext = { ...recordOf(link, req), context: undefined };
    const stored = await gw.getLink(link.id, eur, { merchantAccount: 'a', record: noContext });
    expect(stored.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(10_000, 'EUR', 2) }),
    ]);
    // …but not when the record is for another amount.
    const other = { ...noContext, amount: money(9_000, 'EUR', 2) };
    const refused = await gw.getLink(link.id, eur, { merchantAccount: 'a', record: other });
    expect(refused.payments.map((payment) => payment.status)).toEqual(['unknown']);
  });

  it('adopting an order a person must look at reports it, but never as completed money', async () => {
    const { gw, link } = await created();
    sandbox.buyer(link.id, 'underpay');
    const snapshot = await gw.getLink(link.id, eur, { merchantAccount: 'a' });
    expect(snapshot.status).toBe('partially_paid');
    expect(snapshot.payments).toHaveLength(1);
    expect(snapshot.payments[0]?.status).toBe('unknown');
  });

  it('a context whose USDT amount differs from the order goes to a person', async () => {
    const { gw, req, link } = await created();
    sandbox.buyer(link.id, 'pay');
    const forged = JSON.stringify({ ...JSON.parse(link.context ?? ''), usdt: '100.00' });
    const snapshot = await gw.getLink(link.id, eur, {
      merchantAccount: 'a',
      record: { ...recordOf(link, req), context: forged },
    });
    expect(snapshot.payments[0]?.needsPerson).toMatch(/order_amount 108\.32 is not the invoice amount 100/);
  });

  it('close: an open order is left to expire, a finished one is already closed, a gone one deleted', async () => {
    const { gw, link } = await created();
    expect(await gw.closeLink(link.id, { merchantAccount: 'a' })).toBe('left_to_expire');
    sandbox.buyer(link.id, 'pay');
    expect(await gw.closeLink(link.id, { merchantAccount: 'a' })).toBe('already_closed');
    expect(await gw.closeLink('00000000-0000-4000-8000-000000000000', { merchantAccount: 'a' })).toBe(
      'deleted',
    );
    // Nothing we can do changes an open order at MPChat.
    const open = await created();
    await open.gw.closeLink(open.link.id, { merchantAccount: 'a' });
    expect(sandbox.order(open.link.id).status).toBe('OPEN');
  });
});

describe('MPChat gateway: webhooks', () => {
  it('verifies and parses a genuine delivery', async () => {
    const { gw, req, link } = await created();
    sandbox.buyer(link.id, 'pay');
    const [entry] = await deliveriesFor(link.id);
    expect(entry).toBeDefined();
    if (!entry) return;
    const hooks = gw.webhooks;
    expect(hooks).toBeDefined();
    expect(hooks?.verify(delivery(entry))).toEqual({ ok: true });
    expect(hooks?.parse(delivery(entry))).toEqual({
      ok: true,
      event: {
        id: `${link.id}:payment.confirmed`,
        type: 'payment.confirmed',
        linkId: link.id,
        linkReference: req.reference,
        transactionId: link.id,
        concernsPayment: true,
      },
    });
  });

  it('refuses a one-byte change of the amount, the status or the signature, a stale one and another secret', async () => {
    const { gw, req, link } = await created();
    sandbox.buyer(link.id, 'pay');
    const [entry] = await deliveriesFor(link.id);
    if (!entry) throw new Error('no delivery');
    const hooks = gw.webhooks;
    if (!hooks) throw new Error('no webhooks');
    const body = entry.body.toString('utf8');
    const withBody = (text: string) => ({ ...delivery(entry), rawBody: Buffer.from(text, 'utf8') });
    expect(body).toContain('"received_amount":"108.32"');
    expect(
      hooks.verify(withBody(body.replace('"received_amount":"108.32"', '"received_amount":"108.33"'))),
    ).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(hooks.verify(withBody(body.replace('"status":"PAID"', '"status":"PAIE"'))).ok).toBe(false);
    const header = String(entry.headers['x-merchant-signature']);
    const last = header.at(-1) === '0' ? '1' : '0';
    const flipped = {
      ...delivery(entry),
      headers: { ...entry.headers, 'x-merchant-signature': `${header.slice(0, -1)}${last}` },
    };
    expect(hooks.verify(flipped)).toEqual({ ok: false, reason: 'bad_signature' });
    const late = { ...delivery(entry), receivedAt: new Date(entry.at.getTime() + 6 * MINUTE) };
    expect(hooks.verify(late)).toEqual({ ok: false, reason: 'stale_timestamp' });
    const unsigned = { ...delivery(entry), headers: { ...entry.headers, 'x-merchant-signature': undefined } };
    expect(hooks.verify(unsigned).ok).toBe(false);
    // Signed with merchant A's secret: account b's record does not vouch for it.
    expect(hooks.verify(delivery(entry), { ...recordOf(link, req), merchantAccount: 'b' }).ok).toBe(false);
    expect(hooks.verify(delivery(entry), recordOf(link, req))).toEqual({ ok: true });
    // A gateway that knows only B's secret refuses it.
    const onlyB = gateway({ accounts: { b: KEY_B } });
    expect(onlyB.webhooks?.verify(delivery(entry))).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('follows the configured signing layout', async () => {
    const bodyOnly = await startSandbox({ webhookSigning: { layout: 'body' }, webhookUrl: receiverUrl });
    try {
      const gw = gateway({ webhookSigning: { layout: 'body' } }, bodyOnly);
      const { link } = await created(gw);
      bodyOnly.buyer(link.id, 'underpay');
      await bodyOnly.flushWebhooks();
      const entry = received.find((item) => item.body.toString('utf8').includes(link.id));
      if (!entry) throw new Error('no delivery');
      expect(gw.webhooks?.verify(delivery(entry))).toEqual({ ok: true });
      expect(gw.webhooks?.parse(delivery(entry))).toMatchObject({
        ok: true,
        event: { id: `${link.id}:payment.underpaid`, concernsPayment: true },
      });
      // The default layout (t + "." + body) does not accept it.
      expect(gateway({}, bodyOnly).webhooks?.verify(delivery(entry)).ok).toBe(false);
    } finally {
      await bodyOnly.close();
    }
  });

  it('has no webhooks without a secret, and withdrawal events are stored, not acted on', async () => {
    expect(
      gateway({ accounts: { a: { keyId: KEY_A.keyId, secret: KEY_A.secret } } }).webhooks,
    ).toBeUndefined();
    const body = Buffer.from(
      '{"event":"withdrawal.completed","timestamp":"2026-12-01T10:00:00Z","data":{"id":"wd_1"}}',
    );
    const parsed = gateway().webhooks?.parse({ rawBody: body, headers: {}, receivedAt: new Date() });
    expect(parsed).toMatchObject({
      ok: true,
      event: { type: 'withdrawal.completed', concernsPayment: false },
    });
    if (parsed?.ok) expect(parsed.event.id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('registers our endpoint once through POST /v1/webhooks (the secret stays in the dashboard)', async () => {
    const gw = gateway();
    const url = 'https://paylink.example.com/webhooks/mpchat';
    expect(await gw.webhookSetup?.register('b', url, { regenerate: false })).toEqual({ secret: undefined });
    expect(await gw.webhookSetup?.register('b', url, { regenerate: true })).toEqual({ secret: undefined });
    const listed = (await fetchWebhooks('b')).filter((endpoint) => endpoint.url === url);
    expect(listed).toHaveLength(1);
    expect(listed[0]?.events).toEqual([
      'payment.confirmed',
      'payment.expired',
      'payment.underpaid',
      'payment.frozen',
    ]);
  });
});

async function fetchWebhooks(account: 'a' | 'b'): Promise<{ url: string; events: string[] }[]> {
  const { createMpChatClient } = await import('./client.js');
  const key = account === 'a' ? KEY_A : KEY_B;
  return createMpChatClient({
    baseUrl: sandbox.url,
    keyId: key.keyId,
    secret: key.secret,
    now: () => new Date(sandboxClock),
  }).listWebhooks();
}

describe('MPChat gateway: listPayments', () => {
  it('lists the payments of the window on the given accounts, each once, in the asked currency', async () => {
    const gw = gateway({ accounts: { a: KEY_A, alias: KEY_A, b: KEY_B } });
    const paidA = await created(gw);
    sandbox.buyer(paidA.link.id, 'pay');
    const shortA = await created(gw);
    sandbox.buyer(shortA.link.id, 'custom', { amount: '107.30' });
    await created(gw); // open: no payment
    const usd = await created(gw, request({}, money(1_000, 'USD', 2)));
    sandbox.buyer(usd.link.id, 'pay');
    const paidB = await created(gw, request({ merchantAccount: 'b' }));
    sandbox.buyer(paidB.link.id, 'pay');
    const window = { since: new Date(sandboxClock - MINUTE), until: new Date(sandboxClock + MINUTE) };
    const listed = await gw.listPayments?.(window, eur, ['a', 'alias']);
    const byLink = new Map((listed ?? []).map((payment) => [payment.linkId, payment]));
    expect(listed?.length).toBe(byLink.size);
    expect(byLink.get(paidA.link.id)).toMatchObject({
      status: 'completed',
      amount: money(10_000, 'EUR', 2),
      linkReference: paidA.req.reference,
      transactionId: paidA.link.id,
    });
    expect(byLink.get(shortA.link.id)).toMatchObject({ amount: money(9_905, 'EUR', 2), settlesShort: true });
    expect(byLink.has(usd.link.id)).toBe(false);
    expect(byLink.has(paidB.link.id)).toBe(false);
    expect(
      (await gw.listPayments?.(window, { currency: 'USD', decimals: 2 }, ['a']))?.map((p) => p.linkId),
    ).toContain(usd.link.id);
    const ofB = (await gw.listPayments?.(window, eur, ['b']))?.map((p) => p.linkId) ?? [];
    expect(ofB).toContain(paidB.link.id);
    expect(ofB).not.toContain(paidA.link.id);
    const before = {
      since: new Date(sandboxClock - 10 * MINUTE),
      until: new Date(sandboxClock - 5 * MINUTE),
    };
    expect(await gw.listPayments?.(before, eur, ['a'])).toEqual([]);
  });
});

describe('MPChat gateway: errors', () => {
  it('bad credentials → auth; another merchant’s order → auth; an unknown order → not_found', async () => {
    const bad = gateway({ accounts: { a: { keyId: KEY_A.keyId, secret: 'c'.repeat(64) } } });
    expect(await gatewayError(bad.createLink(request()))).toMatchObject({ kind: 'auth', retryable: false });
    const { link } = await created();
    expect((await gatewayError(bad.getLink(link.id, eur, { merchantAccount: 'a' }))).kind).toBe('auth');
    expect((await gatewayError(gateway().getLink(link.id, eur, { merchantAccount: 'b' }))).kind).toBe('auth');
    expect(
      (
        await gatewayError(
          gateway().getLink('00000000-0000-4000-8000-000000000000', eur, { merchantAccount: 'a' }),
        )
      ).kind,
    ).toBe('not_found');
  });

  it('a slow sandbox → timeout; 5xx → server; 429 → rate_limited; "no available address" → unavailable', async () => {
    const { link } = await created();
    sandbox.faults.latencyMs = 300;
    expect(
      await gatewayError(gateway({ timeoutMs: 100 }).getLink(link.id, eur, { merchantAccount: 'a' })),
    ).toMatchObject({ kind: 'timeout', retryable: true });
    sandbox.faults.latencyMs = 0;
    sandbox.faults.failNext(1, 503);
    expect((await gatewayError(gateway().getLink(link.id, eur, { merchantAccount: 'a' }))).kind).toBe(
      'server',
    );
    sandbox.faults.rateLimitNext(1, 3);
    expect(
      await gatewayError(
        gateway().listPayments?.({ since: new Date(0), until: new Date() }, eur, ['a']) ?? Promise.resolve(),
      ),
    ).toMatchObject({
      kind: 'rate_limited',
      details: { retryAfterMs: 3000 },
    });
    sandbox.faults.failNext(1, 400, 'no available address');
    expect((await gatewayError(gateway().createLink(request()))).kind).toBe('unavailable');
  });

  it('a conflicting idempotency key → conflict, naming what changed', async () => {
    const req = request();
    await gateway().createLink(req);
    const error = await gatewayError(
      gateway({ tolerancePercent: '0.02' }).createLink({ ...req, attempt: 2 }),
    );
    expect(error.kind).toBe('conflict');
    expect(error.message).toContain('other parameters');
  });

  it('refuses bad configuration when built', () => {
    expect(() => gateway({ tolerancePercent: '1' })).toThrow(/tolerance/);
    expect(() => gateway({ usdtPerUsd: '0' })).toThrow(/usdtPerUsd/);
    expect(() => gateway({ usdtPerUsd: 'par' })).toThrow(/usdtPerUsd/);
  });
});

describe('MPChat gateway: identity', () => {
  it('describes itself as the pipeline expects', () => {
    const gw = gateway({ invoiceCurrencies: undefined });
    expect(gw).toMatchObject({
      id: 'mpchat',
      displayName: 'MPChat (USDT)',
      currencies: ['USD'],
      pricingCurrency: 'USD',
      memoPrefix: 'MPChat',
      renewal: 'on_visit',
      linkLifetimeMs: 30 * MINUTE,
    });
  });
});
