import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeMoney, type Money, money } from '../../domain/money.js';
import { startTendoPaySandbox, type TendoPaySandbox } from '../../sandbox/tendopay/server.js';
import {
  type Gateway,
  GatewayError,
  type GatewayEvent,
  type GatewayLink,
  type LinkRecord,
  type LinkRequest,
  type WebhookDelivery,
} from '../gateway.js';
import { createTendoPayGateway, DEFAULT_ORDER_TTL_MS, type TendoPayGatewayOptions } from './gateway.js';
import { pesosText } from './order.js';
import { signTendoPayFields } from './signature.js';

// The adapter against the TendoPay sandbox over loopback HTTP. Only the "undocumented status"
// test rewrites (and re-signs) an answer on its way back, since the sandbox knows three statuses.

const OTHER_SECRET = 'tp_other_app_secret_0b1c2d3e4f';
const RETURN_URL = 'https://pay.example/return/tendopay';
const NOTIFY_URL = 'https://pay.example/webhooks/tendopay';
const HOUR = 3_600_000;
const php = { currency: 'PHP', decimals: 2 };

let sandbox: TendoPaySandbox;
let receiver: Server;
let received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
let clock = Date.now();
let seq = 0;

function gateway(overrides: Partial<TendoPayGatewayOptions> = {}): Gateway {
  return createTendoPayGateway({
    baseUrl: sandbox.url,
    accounts: {
      a: { clientId: sandbox.clientId, clientSecret: sandbox.clientSecret },
      b: { clientId: 'other-app', clientSecret: OTHER_SECRET },
    },
    timeoutMs: 2_000,
    now: () => clock,
    ...overrides,
  });
}

function request(
  overrides: Partial<LinkRequest> = {},
  amount: Money = money(150_000, 'PHP', 2),
): LinkRequest {
  seq += 1;
  return {
    reference: `gwtest-inv-${2000 + seq}-1`,
    merchantAccount: 'a',
    amount,
    attempt: 1,
    callbacks: { returnUrl: RETURN_URL, notifyUrl: NOTIFY_URL },
    invoice: { odooId: 2000 + seq, name: `INV/2026/${seq}`, companyName: 'Acme Inc', partnerName: 'Juan' },
    metadata: { database: 'gwtest', invoice_id: String(2000 + seq), amount: describeMoney(amount) },
    ...overrides,
  };
}

function recordOf(
  link: GatewayLink,
  req: LinkRequest,
  transactionIds: readonly string[] = [],
  createdAt = clock,
): LinkRecord {
  return {
    linkId: link.id,
    merchantAccount: req.merchantAccount,
    reference: req.reference,
    amount: req.amount,
    createdAt,
    context: link.context,
    transactionIds,
  };
}

async function created(gw: Gateway = gateway(), req: LinkRequest = request()) {
  const link = await gw.createLink(req);
  return {
    gw,
    req,
    link,
    read: (transactionIds: readonly string[] = [], createdAt = clock) =>
      gw.getLink(link.id, php, {
        merchantAccount: req.merchantAccount,
        record: recordOf(link, req, transactionIds, createdAt),
      }),
  };
}

async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const failure = error as GatewayError;
  for (const secret of [sandbox.clientSecret, OTHER_SECRET]) expect(failure.message).not.toContain(secret);
  return failure;
}

/** What /return/tendopay hands the gateway for a GET: the query string of the redirect. */
function returnOf(redirectUrl: string): WebhookDelivery {
  return { rawBody: Buffer.from(new URL(redirectUrl).search.slice(1)), headers: {}, receivedAt: new Date() };
}

/** The full route: identify → record → verify → parse, as src/paypage/returns.ts does. */
function checkReturn(gw: Gateway, delivery: WebhookDelivery, record: LinkRecord | undefined) {
  const returns = gw.returns!;
  const pointer = returns.identify?.(delivery);
  const verdict = returns.verify(delivery, pointer?.linkId === record?.linkId ? record : undefined);
  if (!verdict.ok) return { pointer, verdict, event: undefined };
  const parsed = returns.parse(delivery);
  return { pointer, verdict, event: parsed.ok ? parsed.event : undefined };
}

function notificationOf(entry: { headers: IncomingHttpHeaders; body: Buffer }): WebhookDelivery {
  return { rawBody: entry.body, headers: entry.headers, receivedAt: new Date() };
}

function checkNotification(gw: Gateway, delivery: WebhookDelivery): GatewayEvent {
  const hooks = gw.webhooks!;
  expect(hooks.verify(delivery)).toEqual({ ok: true });
  const parsed = hooks.parse(delivery);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.event;
}

async function notificationsFor(merchantOrderId: string) {
  await sandbox.flushNotifications();
  return received.filter((entry) => entry.body.toString('utf8').includes(merchantOrderId));
}

/** Changes one byte of text at its first occurrence of `from`. */
function oneByte(text: string, from: string, to: string): string {
  expect(from).toHaveLength(to.length);
  expect(text).toContain(from);
  return text.replace(from, to);
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  sandbox = await startTendoPaySandbox({ notificationRetryDelayMs: 5, notificationMaxAttempts: 1 });
  // Set by hand on the Managed Apps page at TendoPay (spec §6); here once the receiver listens.
  sandbox.setNotificationUrl(
    `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/tendopay`,
  );
});

afterEach(() => {
  sandbox.faults.reset();
  sandbox.setNotificationUrl(
    `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/tendopay`,
    'json',
  );
  clock = Date.now();
  received = [];
});

afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('TendoPay gateway: shape', () => {
  it('is a PHP, on_visit gateway whose links live the order TTL, with returns and notifications', () => {
    const gw = gateway();
    expect(gw).toMatchObject({
      id: 'tendopay',
      displayName: 'TendoPay',
      currencies: ['PHP'],
      memoPrefix: 'TendoPay',
      renewal: 'on_visit',
      linkLifetimeMs: DEFAULT_ORDER_TTL_MS,
    });
    expect(gw.listPayments).toBeUndefined();
    expect(gw.webhookSetup).toBeUndefined();
    expect(gw.returns?.identify).toBeTypeOf('function');
    expect(gateway({ orderTtlMs: 2 * HOUR }).linkLifetimeMs).toBe(2 * HOUR);
    expect(() => gateway({ orderTtlMs: 0 })).toThrow(RangeError);
  });
});

describe('TendoPay gateway: createLink', () => {
  it('makes an order per attempt, sends the buyer to its authorize_url and back to /return/tendopay', async () => {
    const gw = gateway();
    const req = request();
    const link = await gw.createLink(req);
    const order = sandbox.order(link.url);
    expect(order).toMatchObject({
      merchantOrderId: `${req.reference}-tp1`,
      amountText: '1500',
      redirectUrl: RETURN_URL,
      state: 'open',
      transactionId: null,
    });
    expect(link).toMatchObject({
      id: `${req.reference}-tp1`,
      url: `${sandbox.url}/payments/authorise/${order?.orderToken}`,
      reference: req.reference,
      amount: req.amount,
      merchantAccount: 'a',
    });
    expect(link.adopted).toBeUndefined();
    expect(JSON.parse(link.context ?? '')).toEqual({
      v: 1,
      orderToken: order?.orderToken,
      authorizeUrl: link.url,
      amount: '1500',
    });
    expect((await fetch(link.url)).status).toBe(200);

    // A retry after a lost answer is its own order: no collision with the first.
    const second = await gw.createLink({ ...req, attempt: 2 });
    expect(second.id).toBe(`${req.reference}-tp2`);
    expect(second.url).not.toBe(link.url);
    expect(sandbox.orders().filter((o) => o.merchantOrderId.startsWith(`${req.reference}-tp`))).toHaveLength(
      2,
    );
    // TendoPay cannot find either again by our id.
    expect(await gw.findLink(req)).toBeUndefined();
  });

  it('sends centavos as a 2-decimal string by default, or refuses them before any call', async () => {
    const sent: string[] = [];
    const recording: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/payments/api/v2/order')) sent.push(String(init?.body));
      return fetch(input, init);
    };
    const { link, read } = await created(
      gateway({ fetch: recording }),
      request({}, money(123_450, 'PHP', 2)),
    );
    expect(JSON.parse(sent[0] ?? '{}')).toMatchObject({ tp_amount: '1234.50' });
    expect(sandbox.order(link.url)?.amountText).toBe('1234.5');
    // Whole pesos stay integer text (spec §8), whatever the policy.
    await gateway({ fetch: recording, centavos: 'refuse' }).createLink(request());
    expect(JSON.parse(sent[1] ?? '{}')).toMatchObject({ tp_amount: '1500' });

    const finished = sandbox.finish(link.url);
    const snapshot = await read([String(finished.transaction.tp_transaction_id)]);
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(123_450, 'PHP', 2) }),
    ]);

    const count = sandbox.orders().length;
    const requests = sandbox.requests.length;
    const refused = await gatewayError(
      gateway({ centavos: 'refuse' }).createLink(request({}, money(123_450, 'PHP', 2))),
    );
    expect(refused.kind).toBe('validation');
    expect(refused.message).toMatch(/centavos/);
    expect(sandbox.orders().length).toBe(count);
    expect(sandbox.requests.length).toBe(requests);
  });

  it('pesosText: centavos as the policy says, refused by default', () => {
    expect(pesosText(money(123_450, 'PHP', 2), 'decimal_string')).toBe('1234.50');
    expect(pesosText(money(123_405, 'PHP', 2), 'decimal_string')).toBe('1234.05');
    expect(pesosText(money(1_234_500, 'PHP', 3), 'decimal_string')).toBe('1234.50');
    expect(() => pesosText(money(1_234_501, 'PHP', 3), 'decimal_string')).toThrow(/fractions/);
    expect(() => pesosText(money(123_450, 'PHP', 2))).toThrow(/centavos/);
    expect(pesosText(money(150_000, 'PHP', 2), 'refuse')).toBe('1500');
  });

  it('refuses without callbacks, in another currency or for an unknown account', async () => {
    const count = sandbox.orders().length;
    const noCallbacks = await gatewayError(gateway().createLink(request({ callbacks: undefined })));
    expect(noCallbacks.kind).toBe('validation');
    expect(noCallbacks.message).toMatch(/http.publicUrl/);
    expect((await gatewayError(gateway().createLink(request({}, money(150_000, 'USD', 2))))).kind).toBe(
      'validation',
    );
    expect((await gatewayError(gateway().createLink(request({ merchantAccount: 'nobody' })))).kind).toBe(
      'validation',
    );
    expect(sandbox.orders().length).toBe(count);
  });

  it('reports a lost answer as network, so the next attempt makes a new order id', async () => {
    const gw = gateway();
    const req = request();
    sandbox.faults.dropAnswerNext(1);
    expect((await gatewayError(gw.createLink(req))).kind).toBe('network');
    const retry = await gw.createLink({ ...req, attempt: 2 });
    expect(retry.id).toBe(`${req.reference}-tp2`);
  });
});

describe('TendoPay gateway: token', () => {
  it('is fetched once per account and cached; a 401 re-authenticates once', async () => {
    const gw = gateway();
    const before = sandbox.tokensIssued();
    await gw.createLink(request());
    await gw.createLink(request());
    const { link, read } = await created(gw);
    expect(sandbox.tokensIssued()).toBe(before + 1);

    sandbox.revokeTokens();
    const finished = sandbox.finish(link.url);
    expect((await read([String(finished.transaction.tp_transaction_id)])).status).toBe('paid');
    expect(sandbox.tokensIssued()).toBe(before + 2);
    const calls = sandbox.requests.slice(-3).map((entry) => [entry.path, entry.status]);
    expect(calls).toEqual([
      ['/payments/api/v2/showTransaction', 401],
      ['/oauth/token', 200],
      ['/payments/api/v2/showTransaction', 200],
    ]);
  });

  it('refused credentials are an auth error without the secret in it', async () => {
    const gw = createTendoPayGateway({
      baseUrl: sandbox.url,
      accounts: { a: { clientId: sandbox.clientId, clientSecret: 'tp_wrong_secret_value' } },
    });
    const error = await gatewayError(gw.createLink(request()));
    expect(error.kind).toBe('auth');
    expect(error.message).not.toContain('tp_wrong_secret_value');
  });
});

describe('TendoPay gateway: the buyer finishes, and returns', () => {
  it('pay: the redirect verifies, names its transaction; getLink → paid, one completed payment', async () => {
    const { gw, link, req, read } = await created();
    const finished = sandbox.finish(link.url);
    const record = recordOf(link, req);
    const checked = checkReturn(gw, returnOf(finished.redirectUrl), record);
    expect(checked.pointer).toEqual({ linkId: link.id });
    expect(checked.verdict).toEqual({ ok: true });
    const transactionId = String(finished.transaction.tp_transaction_id);
    expect(checked.event).toEqual({
      id: `tendopay:${transactionId}:PAID`,
      type: 'redirect',
      linkId: link.id,
      linkReference: req.reference,
      transactionId,
      concernsPayment: true,
      customerOutcome: 'paid',
    });

    const snapshot = await read([transactionId]);
    expect(snapshot.status).toBe('paid');
    expect(snapshot.payments).toEqual([
      {
        transactionId,
        status: 'completed',
        amount: req.amount,
        occurredAt: new Date(String(finished.transaction.tp_updated_at)).toISOString(),
      },
    ]);
    expect(snapshot.link).toMatchObject({
      id: link.id,
      url: link.url,
      reference: req.reference,
      amount: req.amount,
      merchantAccount: 'a',
    });
    // Paid is spent: nothing to close.
    expect(
      await gw.closeLink(link.id, { merchantAccount: 'a', record: recordOf(link, req, [transactionId]) }),
    ).toBe('already_closed');
  });

  it('a POSTed return (form body) verifies the same way', async () => {
    const { gw, link, req } = await created();
    const finished = sandbox.finish(link.url, { outcome: 'fail' });
    const delivery: WebhookDelivery = {
      rawBody: Buffer.from(new URLSearchParams(finished.redirectParams).toString()),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      receivedAt: new Date(),
    };
    const checked = checkReturn(gw, delivery, recordOf(link, req));
    expect(checked.verdict).toEqual({ ok: true });
    expect(checked.event?.customerOutcome).toBe('failed');
  });

  it('fail: that try is over → expired, a failed payment, so the pay page makes a new order', async () => {
    const { gw, link, req, read } = await created();
    const finished = sandbox.finish(link.url, { outcome: 'fail' });
    const transactionId = String(finished.transaction.tp_transaction_id);
    expect(checkReturn(gw, returnOf(finished.redirectUrl), recordOf(link, req)).event).toMatchObject({
      id: `tendopay:${transactionId}:FAILED`,
      customerOutcome: 'failed',
    });
    const snapshot = await read([transactionId]);
    expect(snapshot.status).toBe('expired');
    expect(snapshot.payments).toEqual([
      expect.objectContaining({ transactionId, status: 'failed', amount: req.amount }),
    ]);
    expect(
      await gw.closeLink(link.id, { merchantAccount: 'a', record: recordOf(link, req, [transactionId]) }),
    ).toBe('already_closed');
  });

  it('the buyer cancels → expired, nothing paid', async () => {
    const { gw, link, req, read } = await created();
    const finished = sandbox.finish(link.url, { outcome: 'cancel' });
    const transactionId = String(finished.transaction.tp_transaction_id);
    expect(checkReturn(gw, returnOf(finished.redirectUrl), recordOf(link, req)).event?.customerOutcome).toBe(
      'cancelled',
    );
    const snapshot = await read([transactionId]);
    expect(snapshot.status).toBe('expired');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['failed']);
  });

  it('the merchant voids a PAID purchase → cancelled, refunded (known only from having seen it PAID)', async () => {
    const { link, req, read } = await created();
    const finished = sandbox.finish(link.url);
    const transactionId = String(finished.transaction.tp_transaction_id);
    expect((await read([transactionId])).status).toBe('paid');
    sandbox.cancel(transactionId);
    const snapshot = await read([transactionId]);
    expect(snapshot.status).toBe('cancelled');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['refunded']);
    // A process that never saw it PAID reads a buyer's cancel: never completed either way.
    const fresh = await gateway().getLink(link.id, php, {
      merchantAccount: 'a',
      record: recordOf(link, req, [transactionId]),
    });
    expect(fresh.status).toBe('expired');
    expect(fresh.payments.map((payment) => payment.status)).toEqual(['failed']);
  });

  it('a forged return (one byte changed, or another account) is refused; so is one without our record', async () => {
    const { gw, link, req } = await created();
    const finished = sandbox.finish(link.url);
    const query = new URL(finished.redirectUrl).search.slice(1);
    const record = recordOf(link, req);
    const deliveryOf = (text: string): WebhookDelivery => ({
      rawBody: Buffer.from(text),
      headers: {},
      receivedAt: new Date(),
    });
    expect(gw.returns!.verify(deliveryOf(query), record)).toEqual({ ok: true });
    const forgedAmount = oneByte(query, 'tp_amount=1500', 'tp_amount=1600');
    expect(gw.returns!.verify(deliveryOf(forgedAmount), record)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    const forgedStatus = oneByte(query, 'tp_transaction_status=PAID', 'tp_transaction_status=PAIT');
    expect(gw.returns!.verify(deliveryOf(forgedStatus), record).ok).toBe(false);
    const signature = /x_signature=([0-9a-f])/.exec(query)?.[1] ?? '0';
    const forgedSignature = query.replace(
      `x_signature=${signature}`,
      `x_signature=${signature === '0' ? '1' : '0'}`,
    );
    expect(gw.returns!.verify(deliveryOf(forgedSignature), record).ok).toBe(false);
    expect(gw.returns!.parse(deliveryOf(forgedAmount)).ok).toBe(false);
    // Signed with account a's secret: a record in account b does not vouch for it.
    expect(gw.returns!.verify(deliveryOf(query), { ...record, merchantAccount: 'b' })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(gw.returns!.verify(deliveryOf(query), undefined).ok).toBe(false);
    // A genuine return checked against the record of another link is not that link's.
    expect(gw.returns!.verify(deliveryOf(query), { ...record, linkId: `${req.reference}-tp9` }).ok).toBe(
      false,
    );
    // A duplicated tp_ key is ambiguous (PHP keeps the last, we would read the first).
    expect(gw.returns!.verify(deliveryOf(`${query}&tp_transaction_status=FAILED`), record).ok).toBe(false);
  });
});

describe('TendoPay gateway: notifications', () => {
  it('verify; the same notice twice is one event, a status change is a new one', async () => {
    const { gw, link, req } = await created();
    const finished = sandbox.finish(link.url);
    const transactionId = String(finished.transaction.tp_transaction_id);
    const [paid] = await notificationsFor(link.id);
    expect(paid).toBeDefined();
    const event = checkNotification(gw, notificationOf(paid!));
    expect(event).toEqual({
      id: `tendopay:${transactionId}:PAID`,
      type: 'notification',
      linkId: link.id,
      linkReference: req.reference,
      transactionId,
      concernsPayment: true,
    });
    // TendoPay resends until it gets 200: the same body is the same event.
    expect(checkNotification(gw, notificationOf(paid!)).id).toBe(event.id);
    // The redirect of the same fact is that same event.
    expect(checkReturn(gw, returnOf(finished.redirectUrl), recordOf(link, req)).event?.id).toBe(event.id);

    sandbox.cancel(transactionId);
    const all = await notificationsFor(link.id);
    expect(all).toHaveLength(2);
    const voided = checkNotification(gw, notificationOf(all[1]!));
    expect(voided.id).toBe(`tendopay:${transactionId}:CANCELED`);
    expect(voided.id).not.toBe(event.id);
  });

  it('form-encoded notifications verify too', async () => {
    sandbox.setNotificationUrl(
      `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/tendopay`,
      'form',
    );
    const { gw, link } = await created();
    sandbox.finish(link.url, { outcome: 'fail' });
    const [entry] = await notificationsFor(encodeURIComponent(link.id));
    expect(entry?.headers['content-type']).toMatch(/x-www-form-urlencoded/);
    expect(checkNotification(gw, notificationOf(entry!)).id).toMatch(/^tendopay:\d+:FAILED$/);
  });

  it('a forged notification (one byte) or one signed by a stranger is refused', async () => {
    const { gw, link } = await created();
    sandbox.finish(link.url);
    const [entry] = await notificationsFor(link.id);
    const body = entry!.body.toString('utf8');
    const forged = { ...entry!, body: Buffer.from(oneByte(body, '"tp_amount":1500', '"tp_amount":1600')) };
    expect(gw.webhooks!.verify(notificationOf(forged))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(gw.webhooks!.parse(notificationOf(forged)).ok).toBe(false);
    const fields = JSON.parse(body) as Record<string, string | number>;
    const { x_signature: _dropped, ...unsigned } = fields;
    const stranger = {
      ...entry!,
      body: Buffer.from(
        JSON.stringify({ ...unsigned, x_signature: signTendoPayFields(unsigned, 'not-ours') }),
      ),
    };
    expect(gw.webhooks!.verify(notificationOf(stranger))).toEqual({ ok: false, reason: 'bad_signature' });
    const bare = { ...entry!, body: Buffer.from(JSON.stringify(unsigned)) };
    expect(gw.webhooks!.verify(notificationOf(bare))).toEqual({ ok: false, reason: 'missing_signature' });
    // Any of our accounts' secrets may have signed one (the URL is per app, not per order).
    const onlyB = createTendoPayGateway({
      baseUrl: sandbox.url,
      accounts: { b: { clientId: 'other-app', clientSecret: OTHER_SECRET } },
    });
    expect(onlyB.webhooks!.verify(notificationOf(entry!)).ok).toBe(false);
  });
});

describe('TendoPay gateway: getLink', () => {
  it('no transaction: open until our TTL, then expired (TendoPay gives none)', async () => {
    const { gw, link, req, read } = await created(gateway({ orderTtlMs: 2 * HOUR }));
    expect(await read([], clock)).toMatchObject({ status: 'open', payments: [] });
    expect(await read([], clock - 2 * HOUR + 1)).toMatchObject({ status: 'open' });
    expect(await read([], clock - 2 * HOUR)).toMatchObject({ status: 'expired', payments: [] });
    // The default: 24 h.
    const plain = await created();
    expect((await plain.read([], clock - 23 * HOUR)).status).toBe('open');
    expect((await plain.read([], clock - 24 * HOUR)).status).toBe('expired');
    // Unused, it cannot be cancelled at TendoPay: left to expire.
    expect(await gw.closeLink(link.id, { merchantAccount: 'a', record: recordOf(link, req) })).toBe(
      'left_to_expire',
    );
    // Expired at TendoPay's end too (sandbox.expireOrder): still no transaction, still ours to call.
    sandbox.expireOrder(link.url);
    expect((await fetch(link.url)).status).toBe(410);
    expect((await read([], clock)).status).toBe('open');
  });

  it('an approved amount other than the invoice is reported as it is (the pipeline refuses it)', async () => {
    const less = await created();
    const short = sandbox.finish(less.link.url, { approvedAmount: '1400' });
    const shortSnapshot = await less.read([String(short.transaction.tp_transaction_id)]);
    expect(shortSnapshot.status).toBe('partially_paid');
    expect(shortSnapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(140_000, 'PHP', 2) }),
    ]);
    const more = await created();
    const over = sandbox.finish(more.link.url, { approvedAmount: '1600.25' });
    const overSnapshot = await more.read([String(over.transaction.tp_transaction_id)]);
    expect(overSnapshot.status).toBe('paid');
    expect(overSnapshot.payments).toEqual([
      expect.objectContaining({ status: 'completed', amount: money(160_025, 'PHP', 2) }),
    ]);
  });

  it('an amount the invoice currency cannot hold exactly is never taken for the invoice amount', async () => {
    // An Odoo PHP set up without decimals: 1500.40 must not round to the invoice's 1500.
    const whole = { currency: 'PHP', decimals: 0 };
    const req = request({}, money(1500, 'PHP', 0));
    const gw = gateway();
    const link = await gw.createLink(req);
    const paid = sandbox.finish(link.url, { approvedAmount: '1500.40' });
    const snapshot = await gw.getLink(link.id, whole, {
      merchantAccount: 'a',
      record: recordOf(link, req, [String(paid.transaction.tp_transaction_id)]),
    });
    expect(snapshot.payments).toHaveLength(1);
    expect(snapshot.payments[0]?.status).toBe('completed');
    expect(snapshot.payments[0]?.needsPerson).toMatch(/1500\.4 PHP/);
  });

  it("a transaction of another order is not this link's, even when paid", async () => {
    const ours = await created();
    const theirs = await created();
    const paid = sandbox.finish(theirs.link.url);
    const snapshot = await ours.read([String(paid.transaction.tp_transaction_id)]);
    expect(snapshot).toMatchObject({ status: 'open', payments: [] });
    // Its own failed try and another order's payment: still just the failed try.
    const failed = sandbox.finish(ours.link.url, { outcome: 'fail' });
    const both = await ours.read([
      String(failed.transaction.tp_transaction_id),
      String(paid.transaction.tp_transaction_id),
    ]);
    expect(both.status).toBe('expired');
    expect(both.payments.map((payment) => payment.transactionId)).toEqual([
      String(failed.transaction.tp_transaction_id),
    ]);
  });

  it('an undocumented status is unknown, never completed', async () => {
    // The sandbox knows three statuses; this answer is rewritten and re-signed on its way back.
    const rewriting: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (!String(input).endsWith('/showTransaction')) return response;
      const fields = (await response.json()) as Record<string, string | number>;
      const { x_signature: _old, ...rest } = fields;
      const changed = { ...rest, tp_transaction_status: 'SETTLED' };
      return new Response(
        JSON.stringify({ ...changed, x_signature: signTendoPayFields(changed, sandbox.clientSecret) }),
        { status: response.status, headers: { 'content-type': 'application/json' } },
      );
    };
    const { link, read } = await created(gateway({ fetch: rewriting }));
    const finished = sandbox.finish(link.url);
    const snapshot = await read([String(finished.transaction.tp_transaction_id)]);
    expect(snapshot.status).toBe('unknown');
    expect(snapshot.payments.map((payment) => payment.status)).toEqual(['unknown']);
  });

  it('a transaction TendoPay does not show is an error, never "the link is gone"', async () => {
    const { read } = await created();
    const error = await gatewayError(read(['99999999']));
    expect(error.kind).not.toBe('not_found');
    expect(error.message).toContain('99999999');
  });

  it('without our record (adoption): unknown, never paid, amount not vouched for', async () => {
    const { gw, link, req } = await created();
    const finished = sandbox.finish(link.url);
    expect(finished.transaction.tp_transaction_status).toBe('PAID');
    const snapshot = await gw.getLink(link.id, php, { merchantAccount: 'a' });
    expect(snapshot.status).toBe('unknown');
    expect(snapshot.payments).toEqual([]);
    expect(snapshot.link).toMatchObject({
      id: link.id,
      reference: req.reference,
      amount: money(0, 'PHP', 2),
    });
    expect(await gw.closeLink(link.id, { merchantAccount: 'a' })).toBe('left_to_expire');
    expect(
      (await gatewayError(gw.getLink(link.id, { currency: 'USD', decimals: 2 }, { merchantAccount: 'a' })))
        .kind,
    ).toBe('validation');
  });
});
