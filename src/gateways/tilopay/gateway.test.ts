import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Money, money } from '../../domain/money.js';
import { startTiloPaySandbox, type TiloPaySandbox } from '../../sandbox/tilopay/server.js';
import {
  type Gateway,
  GatewayError,
  type GatewayLink,
  type GatewayWebhooks,
  type LinkRecord,
  type LinkRequest,
  type WebhookDelivery,
} from '../gateway.js';
import { createTiloPayClient } from './client.js';
import { createTiloPayGateway, type TiloPayGatewayOptions } from './gateway.js';

// The adapter against the TiloPay sandbox over loopback HTTP. Nothing rewrites an answer: the
// odd cases (another amount on our orderNumber, unknown codes) are made at the sandbox.

const OTHER = { apiKey: '8888-7777-6666-5555-4444', apiUser: 'otherUser', apiPassword: 'otherPassword' };
const CALLBACKS = {
  returnUrl: 'https://daemon.example/return/tilopay',
  notifyUrl: 'https://daemon.example/webhooks/tilopay',
};
const TTL_MS = 2 * 3_600_000;
const crc = { currency: 'CRC', decimals: 2 };

let sandbox: TiloPaySandbox;
let receiver: Server;
let receiverUrl = '';
let notices: Buffer[] = [];
let gatewayClock = Date.now();
let seq = 0;

function gateway(overrides: Partial<TiloPayGatewayOptions> = {}, on: TiloPaySandbox = sandbox): Gateway {
  return createTiloPayGateway({
    baseUrl: on.apiBaseUrl,
    accounts: { a: on.credentials, b: OTHER },
    orderTtlMs: TTL_MS,
    timeoutMs: 2_000,
    now: () => gatewayClock,
    ...overrides,
  });
}

function request(
  overrides: Partial<LinkRequest> = {},
  amount: Money = money(1_500_000, 'CRC', 2),
): LinkRequest {
  seq += 1;
  return {
    reference: `gwtest-inv-${2000 + seq}-1`,
    merchantAccount: 'a',
    amount,
    attempt: 1,
    callbacks: CALLBACKS,
    invoice: {
      odooId: 2000 + seq,
      name: `INV/2026/${seq}`,
      companyName: 'Acme S.A.',
      partnerName: 'Ana Pérez Solís',
      partnerEmail: 'ana.perez@example.com',
      partnerLang: 'es_CR',
    },
    metadata: { database: 'gwtest', invoice_id: String(2000 + seq) },
    ...overrides,
  };
}

function recordOf(link: GatewayLink, req: LinkRequest, extra: Partial<LinkRecord> = {}): LinkRecord {
  return {
    linkId: link.id,
    merchantAccount: req.merchantAccount,
    reference: req.reference,
    amount: req.amount,
    createdAt: gatewayClock,
    context: link.context,
    transactionIds: [],
    ...extra,
  };
}

async function created(gw: Gateway = gateway(), req: LinkRequest = request()) {
  const link = await gw.createLink(req);
  const record = recordOf(link, req);
  return {
    gw,
    req,
    link,
    record,
    read: (extra: Partial<LinkRecord> = {}) =>
      gw.getLink(link.id, crc, { merchantAccount: req.merchantAccount, record: { ...record, ...extra } }),
  };
}

async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const failure = error as GatewayError;
  for (const secret of [sandbox.credentials.apiKey, sandbox.credentials.apiPassword, OTHER.apiPassword])
    expect(failure.message).not.toContain(secret);
  return failure;
}

/** The customer's browser at /return/tilopay: the daemon hands over the query string. */
function returnDelivery(redirectUrl: string): WebhookDelivery {
  return {
    rawBody: Buffer.from(new URL(redirectUrl).search.slice(1), 'utf8'),
    headers: {},
    receivedAt: new Date(),
  };
}

function bodyDelivery(body: Buffer | string): WebhookDelivery {
  return {
    rawBody: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    headers: { 'content-type': 'application/json' },
    receivedAt: new Date(),
  };
}

/** identify → verify → parse, as checkDelivery runs them. */
function check(
  hooks: GatewayWebhooks | undefined,
  delivery: WebhookDelivery,
  record: LinkRecord | undefined,
) {
  if (!hooks) throw new Error('no hooks');
  const pointer = hooks.identify?.(delivery);
  const verdict = hooks.verify(delivery, record);
  return { pointer, verdict, parsed: verdict.ok ? hooks.parse(delivery) : undefined };
}

/** Changes one character of a query parameter's value. */
function tweak(redirectUrl: string, name: string): string {
  const url = new URL(redirectUrl);
  const value = url.searchParams.get(name) ?? '';
  const last = value.at(-1);
  url.searchParams.set(name, `${value.slice(0, -1)}${last === '0' ? '1' : '0'}`);
  return url.toString();
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      notices.push(Buffer.concat(chunks));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/tilopay`;
  sandbox = await startTiloPaySandbox();
});

afterEach(() => {
  sandbox.faults.reset();
  sandbox.setWebhookUrl(undefined);
  gatewayClock = Date.now();
  notices = [];
});

afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('TiloPay gateway: shape', () => {
  it('is an on_visit gateway whose links live orderTtlMs, with returns and webhooks', () => {
    const gw = gateway();
    expect(gw).toMatchObject({
      id: 'tilopay',
      displayName: 'TiloPay',
      memoPrefix: 'TiloPay',
      renewal: 'on_visit',
      linkLifetimeMs: TTL_MS,
      currencies: ['CRC', 'USD'],
    });
    expect(gw.listPayments).toBeUndefined();
    expect(gw.returns?.identify).toBeTypeOf('function');
    expect(gw.webhooks?.identify).toBeTypeOf('function');
    expect(createTiloPayGateway({ accounts: {} }).linkLifetimeMs).toBe(2 * 3_600_000);
  });
});

describe('TiloPay gateway: createLink', () => {
  it('makes a hosted page under <reference>-<attempt> and keeps the OrderHash inputs as context', async () => {
    const sent: Record<string, unknown>[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/processPayment')) sent.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const req = request();
    const link = await gateway({ fetch: recording }).createLink(req);
    const orderNumber = `${req.reference}-1`;
    expect(link).toMatchObject({ id: orderNumber, reference: req.reference, amount: req.amount });
    expect(link.adopted).toBeUndefined();
    const order = sandbox.order(orderNumber);
    expect(order).toMatchObject({
      amount: '15000.00',
      currency: 'CRC',
      email: 'ana.perez@example.com',
      redirect: CALLBACKS.returnUrl,
      hashVersion: 'V2',
      attempts: [],
    });
    expect(order?.pageUrls).toEqual([link.url]);
    const page = await fetch(link.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('15,000.00 CRC');
    expect(JSON.parse(link.context ?? '')).toEqual({
      v: 1,
      orderNumber,
      email: 'ana.perez@example.com',
      amount: '15000.00',
      currency: 'CRC',
      url: link.url,
    });
    expect(sent[0]).toMatchObject({
      billToFirstName: 'Ana',
      billToLastName: 'Pérez Solís',
      billToEmail: 'ana.perez@example.com',
      lang: 'es',
      orderNumber,
      returnData: Buffer.from(req.reference).toString('base64'),
    });
  });

  it('puts placeholders for a missing name, and no lang for a language TiloPay has not', async () => {
    const sent: Record<string, unknown>[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/processPayment')) sent.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const base = request();
    await gateway({ fetch: recording }).createLink({
      ...base,
      invoice: { ...base.invoice, partnerName: '  ', partnerLang: 'fr_FR' },
    });
    await gateway({ fetch: recording }).createLink({
      ...base,
      reference: `${base.reference}x`,
      invoice: { ...base.invoice, partnerName: 'Acme', partnerLang: 'en_US' },
    });
    expect(sent[0]).toMatchObject({ billToFirstName: 'N/A', billToLastName: 'N/A' });
    expect(sent[0]).not.toHaveProperty('lang');
    expect(sent[1]).toMatchObject({ billToFirstName: 'Acme', billToLastName: 'N/A', lang: 'en' });
  });

  it('two attempts make two orders, each its own hosted page', async () => {
    const gw = gateway();
    const first = request();
    const one = await gw.createLink(first);
    const two = await gw.createLink({ ...first, attempt: 2 });
    expect(one.id).toBe(`${first.reference}-1`);
    expect(two.id).toBe(`${first.reference}-2`);
    expect(one.url).not.toBe(two.url);
    expect(sandbox.order(one.id)?.pageUrls).toEqual([one.url]);
    expect(sandbox.order(two.id)?.pageUrls).toEqual([two.url]);
  });

  it('refuses without a return address, an email, a currency it takes or credentials', async () => {
    const gw = gateway();
    const count = sandbox.orders().length;
    expect((await gatewayError(gw.createLink(request({ callbacks: undefined })))).kind).toBe('validation');
    const base = request();
    for (const partnerEmail of [undefined, '', 'not-an-email']) {
      const error = await gatewayError(
        gw.createLink({ ...base, invoice: { ...base.invoice, partnerEmail } }),
      );
      expect(error.kind).toBe('validation');
      expect(error.message).toContain('email');
    }
    expect((await gatewayError(gw.createLink(request({}, money(10_000, 'EUR', 2))))).kind).toBe('validation');
    expect((await gatewayError(gw.createLink(request({ merchantAccount: 'nobody' })))).kind).toBe(
      'validation',
    );
    expect((await gatewayError(gw.createLink(request({}, money(0, 'CRC', 2))))).kind).toBe('validation');
    expect(sandbox.orders().length).toBe(count);
  });

  it('passes on TiloPay refusals as typed errors without credentials in them', async () => {
    sandbox.faults.failNextWithType(1, '403', `bad key ${sandbox.credentials.apiKey}`);
    const error = await gatewayError(gateway().createLink(request()));
    expect(error.kind).toBe('auth');
    sandbox.faults.failNextWithType(1, '300', 'Licence problem.');
    expect((await gatewayError(gateway().createLink(request()))).retryable).toBe(true);
    // Account b's credentials are not the sandbox's: its login is refused.
    expect((await gatewayError(gateway().createLink(request({ merchantAccount: 'b' })))).kind).toBe('auth');
  });
});

describe('TiloPay gateway: getLink from /consult', () => {
  it('approved → paid, one completed payment of the invoice amount under the tpt', async () => {
    const { link, read } = await created();
    expect(await read()).toMatchObject({ status: 'open', payments: [] });
    const paid = await sandbox.pay(link.id, 'approved');
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      { transactionId: paid.tpt, status: 'completed', amount: money(1_500_000, 'CRC', 2) },
    ]);
    expect(snapshot.link).toMatchObject({ id: link.id, url: link.url, amount: link.amount });
  });

  it('declined, insufficient funds or cancelled → never completed; the used page counts as expired', async () => {
    for (const outcome of ['declined', 'insufficient_funds', 'cancelled'] as const) {
      const { link, read } = await created();
      const result = await sandbox.pay(link.id, outcome);
      const snapshot = await read();
      expect(snapshot.status).toBe('expired');
      expect(snapshot.payments).toEqual([
        { transactionId: result.tpt, status: 'failed', amount: money(1_500_000, 'CRC', 2) },
      ]);
    }
  });

  it('SINPE pending → pending (past the TTL too), then paid once it settles', async () => {
    const { link, read } = await created();
    const pending = await sandbox.pay(link.id, 'pending');
    expect(await read()).toMatchObject({
      status: 'pending',
      payments: [{ transactionId: pending.tpt, status: 'pending' }],
    });
    gatewayClock += TTL_MS * 3;
    expect((await read()).status).toBe('pending');
    await sandbox.settle(link.id, true);
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      { transactionId: pending.tpt, status: 'completed', amount: money(1_500_000, 'CRC', 2) },
    ]);
  });

  it('SINPE pending that is declined → not completed', async () => {
    const { link, read } = await created();
    await sandbox.pay(link.id, 'pending');
    await sandbox.settle(link.id, false);
    const snapshot = await read();
    expect(snapshot.status).toBe('expired');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['failed']);
  });

  it('an approval for another amount or currency is never the invoice amount: a person decides', async () => {
    for (const other of [money(1_400_000, 'CRC', 2), money(1_500_000, 'USD', 2)]) {
      const { link, read, req } = await created();
      // Someone else reuses our orderNumber at another amount (TiloPay has no idempotency).
      const intruder = createTiloPayClient({ baseUrl: sandbox.apiBaseUrl, ...sandbox.credentials });
      await intruder.processPayment({
        orderNumber: link.id,
        amount: other,
        redirect: 'https://elsewhere.example/back',
        billTo: { firstName: 'X', lastName: 'Y', email: 'x@elsewhere.example' },
      });
      const paid = await sandbox.pay(link.id, 'approved');
      const snapshot = await read();
      expect(snapshot.status).toBe('unknown');
      expect(snapshot.payments).toHaveLength(1);
      const [payment] = snapshot.payments;
      expect(payment).toMatchObject({ transactionId: paid.tpt, status: 'completed', amount: other });
      expect(payment?.amount).not.toEqual(req.amount);
      expect(payment?.needsPerson).toMatch(/asked for 15000\.00 CRC/);
    }
  });

  it('an unknown code is never completed', async () => {
    for (const code of ['01', 'approved', '5', 'PAID']) {
      const { link, read } = await created();
      await sandbox.pay(link.id, { code });
      const snapshot = await read();
      expect(snapshot.status).toBe('unknown');
      expect(snapshot.payments.map((payment) => payment.status)).toEqual(['unknown']);
    }
  });

  it('a decline then an approval on the same order → paid', async () => {
    const gw = gateway();
    const { link, read, req } = await created(gw);
    await sandbox.pay(link.id, 'declined');
    // A second page for the same order, as TiloPay allows.
    await createTiloPayClient({ baseUrl: sandbox.apiBaseUrl, ...sandbox.credentials }).processPayment({
      orderNumber: link.id,
      amount: req.amount,
      redirect: CALLBACKS.returnUrl,
      billTo: { firstName: 'Ana', lastName: 'Pérez', email: 'ana.perez@example.com' },
    });
    const approved = await sandbox.pay(link.id, 'approved');
    const snapshot = await read();
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments.filter((payment) => payment.status === 'completed')).toEqual([
      { transactionId: approved.tpt, status: 'completed', amount: req.amount },
    ]);
  });

  it('an order nobody tried is open until the TTL, expired from then on', async () => {
    const { read } = await created();
    expect((await read({ createdAt: gatewayClock - TTL_MS + 1 })).status).toBe('open');
    expect(await read({ createdAt: gatewayClock - TTL_MS })).toMatchObject({
      status: 'expired',
      payments: [],
    });
  });

  it('reads entries behind a merchant prefix, and ignores orders that are not ours', async () => {
    const prefixed = await startTiloPaySandbox({ consultOrderPrefix: 'PFC024851-' });
    try {
      const gw = gateway({}, prefixed);
      const { link, read } = await created(gw);
      await prefixed.pay(link.id, 'approved');
      expect((await read()).status).toBe('paid');
    } finally {
      await prefixed.close();
    }
  });

  it('without our record (adoption), an approval is held for a person, never paid as is', async () => {
    const { gw, link } = await created();
    await sandbox.pay(link.id, 'approved');
    const snapshot = await gw.getLink(link.id, crc, { merchantAccount: 'a' });
    expect(snapshot.status).toBe('unknown');
    expect(snapshot.link.reference).toBe(link.reference);
    expect(snapshot.payments[0]?.status).toBe('completed');
    expect(snapshot.payments[0]?.needsPerson).toMatch(/no record/);
  });
});

describe('TiloPay gateway: login', () => {
  it('logs in once and reuses the token, logs in once again after a 401, and stops there', async () => {
    const gw = gateway();
    const before = sandbox.loginCount;
    const { read } = await created(gw);
    await read();
    await read();
    expect(sandbox.loginCount).toBe(before + 1);
    sandbox.expireTokens();
    expect((await read()).status).toBe('open');
    expect(sandbox.loginCount).toBe(before + 2);
    await read();
    expect(sandbox.loginCount).toBe(before + 2);
    sandbox.faults.rejectTokens = true;
    expect((await gatewayError(read())).kind).toBe('auth');
    expect(sandbox.loginCount).toBe(before + 3);
  });
});

describe('TiloPay gateway: findLink and closeLink', () => {
  it('findLink finds an attempted order of this attempt for the same amount, never one nobody tried', async () => {
    const gw = gateway();
    const req = request();
    const link = await gw.createLink(req);
    const count = sandbox.orders().length;
    expect(await gw.findLink(req)).toBeUndefined();
    await sandbox.pay(link.id, 'declined');
    expect(await gw.findLink(req)).toMatchObject({
      id: link.id,
      reference: req.reference,
      amount: req.amount,
    });
    // Another amount under the same reference is not this request's order.
    expect(await gw.findLink({ ...req, amount: money(1_500_001, 'CRC', 2) })).toBeUndefined();
    expect(await gw.findLink({ ...req, attempt: 2 })).toBeUndefined();
    expect(sandbox.orders().length).toBe(count);
  });

  it('closeLink: an unused or pending page is left to expire, a paid one is already closed', async () => {
    const { gw, link, req } = await created();
    const context = { merchantAccount: 'a', record: recordOf(link, req) };
    expect(await gw.closeLink(link.id, context)).toBe('left_to_expire');
    await sandbox.pay(link.id, 'pending');
    expect(await gw.closeLink(link.id, context)).toBe('left_to_expire');
    await sandbox.settle(link.id, true);
    expect(await gw.closeLink(link.id, context)).toBe('already_closed');
  });
});

describe('TiloPay gateway: the customer coming back to /return/tilopay', () => {
  it('an approved redirect verifies with our record and parses to a redirect event', async () => {
    const { gw, link, record } = await created();
    const paid = await sandbox.pay(link.id, 'approved');
    const delivery = returnDelivery(paid.redirectUrl);
    const { pointer, verdict, parsed } = check(gw.returns, delivery, record);
    expect(pointer).toEqual({ linkId: link.id });
    expect(verdict).toEqual({ ok: true });
    expect(parsed).toEqual({
      ok: true,
      event: {
        id: `redirect:${link.id}:${paid.tpt}:1`,
        type: 'redirect',
        linkId: link.id,
        transactionId: paid.tpt,
        concernsPayment: true,
        customerOutcome: 'paid',
      },
    });
    // The same page reloaded is the same event.
    expect(gw.returns?.parse(delivery)).toEqual(parsed);
  });

  it('refuses a changed OrderHash, auth or tpt, and a record of another amount', async () => {
    const { gw, link, req, record } = await created();
    const paid = await sandbox.pay(link.id, 'approved');
    const hooks = gw.returns;
    for (const name of ['OrderHash', 'auth', 'tpt']) {
      expect(hooks?.verify(returnDelivery(tweak(paid.redirectUrl, name)), record).ok).toBe(false);
    }
    // One minor unit more, in the record and its context alike: the hash covers the amount.
    const more = money(1_500_001, 'CRC', 2);
    const context = JSON.stringify({ ...JSON.parse(link.context ?? ''), amount: '15000.01' });
    expect(hooks?.verify(returnDelivery(paid.redirectUrl), { ...record, amount: more, context }).ok).toBe(
      false,
    );
    // A record whose context says another amount than the record: not this link's context.
    expect(hooks?.verify(returnDelivery(paid.redirectUrl), { ...record, amount: more })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('does not describe'),
    });
    // Our record of another link that carries this link's context: not that link's context.
    const other = await created(gw);
    expect(
      hooks?.verify(returnDelivery(paid.redirectUrl), { ...other.record, context: link.context }),
    ).toMatchObject({
      ok: false,
      reason: expect.stringContaining('does not describe'),
    });
    // Another email than the one sent.
    const otherEmail = JSON.stringify({ ...JSON.parse(link.context ?? ''), email: 'ana@example.com' });
    expect(hooks?.verify(returnDelivery(paid.redirectUrl), { ...record, context: otherEmail }).ok).toBe(
      false,
    );
    expect(hooks?.verify(returnDelivery(paid.redirectUrl), recordOf(link, req)).ok).toBe(true);
  });

  it('refuses without a record, without context, for another order, or checked with another account', async () => {
    const { gw, link, record } = await created();
    const other = await created(gw);
    const paid = await sandbox.pay(link.id, 'approved');
    const delivery = returnDelivery(paid.redirectUrl);
    const hooks = gw.returns;
    expect(hooks?.verify(delivery, undefined).ok).toBe(false);
    expect(hooks?.verify(delivery, { ...record, context: undefined }).ok).toBe(false);
    expect(hooks?.verify(delivery, { ...record, context: '{"v":2}' }).ok).toBe(false);
    expect(hooks?.verify(delivery, other.record).ok).toBe(false);
    // Account b's credentials cannot have signed it.
    expect(hooks?.verify(delivery, { ...record, merchantAccount: 'b' }).ok).toBe(false);
    expect(hooks?.verify(delivery, { ...record, merchantAccount: 'nobody' }).ok).toBe(false);
    // An approval without its hash.
    const unsigned = new URL(paid.redirectUrl);
    unsigned.searchParams.delete('OrderHash');
    expect(hooks?.verify(returnDelivery(unsigned.toString()), record).ok).toBe(false);
    // A repeated order parameter names no link.
    const doubled = new URL(paid.redirectUrl);
    doubled.searchParams.append('order', other.link.id);
    expect(hooks?.identify?.(returnDelivery(doubled.toString()))).toBeUndefined();
    expect(hooks?.verify(returnDelivery(doubled.toString()), record).ok).toBe(false);
  });

  it('a declined or cancelled return words the page only; a POSTed form reads the same', async () => {
    const declined = await created();
    const no = await sandbox.pay(declined.link.id, 'declined');
    expect(check(declined.gw.returns, returnDelivery(no.redirectUrl), declined.record).parsed).toMatchObject({
      ok: true,
      event: { customerOutcome: 'failed', linkId: declined.link.id },
    });
    const cancelled = await created();
    const back = await sandbox.pay(cancelled.link.id, 'cancelled');
    const delivery = returnDelivery(back.redirectUrl);
    expect(check(cancelled.gw.returns, delivery, cancelled.record).parsed).toMatchObject({
      ok: true,
      event: { customerOutcome: 'cancelled' },
    });
    const pending = await created();
    const sinpe = await sandbox.pay(pending.link.id, 'pending');
    expect(check(pending.gw.returns, returnDelivery(sinpe.redirectUrl), pending.record).parsed).toMatchObject(
      {
        ok: true,
        event: { customerOutcome: 'pending' },
      },
    );
    expect(pending.gw.returns?.parse(bodyDelivery('code=1'))).toMatchObject({ ok: false });
  });

  it('a non-approval is taken without a hash, but a hash that is there must verify', async () => {
    const { gw, link, record } = await created();
    const no = await sandbox.pay(link.id, 'declined');
    const hooks = gw.returns;
    expect(hooks?.verify(returnDelivery(no.redirectUrl), record)).toEqual({ ok: true });
    expect(hooks?.verify(returnDelivery(tweak(no.redirectUrl, 'OrderHash')), record)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('bad_hash'),
    });
    // A decline turned into a pending by hand.
    const relabelled = new URL(no.redirectUrl);
    relabelled.searchParams.set('code', 'Pending');
    expect(hooks?.verify(returnDelivery(relabelled.toString()), record).ok).toBe(false);
    for (const hash of [undefined, '']) {
      const unsigned = new URL(no.redirectUrl);
      if (hash === undefined) unsigned.searchParams.delete('OrderHash');
      else unsigned.searchParams.set('OrderHash', hash);
      expect(hooks?.verify(returnDelivery(unsigned.toString()), record)).toEqual({ ok: true });
    }
    // Still never without our record.
    expect(hooks?.verify(returnDelivery(no.redirectUrl), undefined).ok).toBe(false);
  });
});

describe('TiloPay gateway: the server-to-server notice', () => {
  it('verifies the notice with our record and parses it; pending then settled are two events', async () => {
    sandbox.setWebhookUrl(receiverUrl);
    const { gw, link, record } = await created();
    const pending = await sandbox.pay(link.id, 'pending');
    await sandbox.settle(link.id, true);
    expect(notices).toHaveLength(2);
    const events = notices.map((body) => check(gw.webhooks, bodyDelivery(body), record));
    for (const { pointer, verdict } of events) {
      expect(pointer).toEqual({ linkId: link.id });
      expect(verdict).toEqual({ ok: true });
    }
    expect(events.map((event) => event.parsed)).toEqual([
      {
        ok: true,
        event: {
          id: `notice:${link.id}:${pending.tpt}:Pending`,
          type: 'notice',
          linkId: link.id,
          transactionId: pending.tpt,
          concernsPayment: true,
        },
      },
      {
        ok: true,
        event: {
          id: `notice:${link.id}:${pending.tpt}:1`,
          type: 'notice',
          linkId: link.id,
          transactionId: pending.tpt,
          concernsPayment: true,
        },
      },
    ]);
  });

  it('refuses a forged notice: changed code, hash or tpt, no record, another account or order', async () => {
    sandbox.setWebhookUrl(receiverUrl);
    const { gw, link, record } = await created();
    const other = await created(gw);
    await sandbox.pay(link.id, 'declined');
    const [body] = notices;
    if (!body) throw new Error('no notice');
    const notice = JSON.parse(body.toString('utf8')) as Record<string, string>;
    const hooks = gw.webhooks;
    const forged = (change: Record<string, string>) => bodyDelivery(JSON.stringify({ ...notice, ...change }));
    expect(hooks?.verify(bodyDelivery(body), record)).toEqual({ ok: true });
    // Turning the decline into an approval without the credentials.
    expect(hooks?.verify(forged({ code: '1', auth: '654321' }), record)).toEqual({
      ok: false,
      reason: 'bad_hash',
    });
    const hash = notice.orderHash ?? '';
    expect(
      hooks?.verify(forged({ orderHash: `${hash.slice(0, -1)}${hash.endsWith('0') ? '1' : '0'}` }), record)
        .ok,
    ).toBe(false);
    expect(hooks?.verify(forged({ tpt: '1' }), record).ok).toBe(false);
    expect(hooks?.verify(bodyDelivery(body), undefined).ok).toBe(false);
    expect(hooks?.verify(bodyDelivery(body), { ...record, merchantAccount: 'b' }).ok).toBe(false);
    expect(hooks?.verify(bodyDelivery(body), other.record).ok).toBe(false);
    expect(hooks?.verify(bodyDelivery('not json'), record).ok).toBe(false);
    expect(hooks?.identify?.(bodyDelivery('{"code":"1"}'))).toBeUndefined();
  });
});
