import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/gateways/gateway.js';
import {
  createMpChatClient,
  type MpChatClientOptions,
  type MpChatCreateOrderInput,
} from '../../src/gateways/mpchat/client.js';
import { parseMpChatWebhook, verifyMpChatWebhook } from '../../src/gateways/mpchat/webhook.js';
import { type MpChatSandbox, startMpChatSandbox } from '../../src/sandbox/mpchat/server.js';

// The MPChat client against the MPChat sandbox over loopback HTTP: nothing mocked.

const KEY_ID = 'mk_test_contract01';
const SECRET = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const OTHER_KEY = 'mk_test_othermerchant';
const OTHER_SECRET = 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210';

let sandbox: MpChatSandbox;
let receiver: Server;
let received: { headers: Record<string, string | string[] | undefined>; body: Buffer }[] = [];
let receiverUrl = '';
let seq = 0;

function client(overrides: Partial<MpChatClientOptions> = {}) {
  return createMpChatClient({
    baseUrl: sandbox.url,
    keyId: KEY_ID,
    secret: SECRET,
    timeoutMs: 2_000,
    ...overrides,
  });
}

function orderInput(overrides: Partial<MpChatCreateOrderInput> = {}): MpChatCreateOrderInput {
  seq += 1;
  return {
    amount: '99.99',
    network: 'TRC20',
    idempotencyKey: `odoo-contractdb-${seq}-1`,
    description: `INV/2026/${seq}`,
    metadata: { reference: `contractdb-inv-${seq}-1`, odoo_invoice_id: String(seq) },
    tolerancePercent: 0.01,
    ...overrides,
  };
}

async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayErr = error as GatewayError;
  for (const text of [gatewayErr.message, String(gatewayErr.stack)]) {
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(OTHER_SECRET);
  }
  expect(gatewayErr.gateway).toBe('mpchat');
  return gatewayErr;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/mpchat`;
  sandbox = await startMpChatSandbox({
    keys: [
      { keyId: KEY_ID, secret: SECRET, merchantId: 'mer_ours' },
      { keyId: OTHER_KEY, secret: OTHER_SECRET, merchantId: 'mer_theirs' },
      { keyId: 'mk_test_revoked', secret: SECRET, merchantId: 'mer_ours', active: false },
    ],
    webhookUrl: receiverUrl,
    webhookRetryDelaysMs: [10],
  });
});

afterEach(() => {
  sandbox.faults.reset();
  received = [];
});

afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

describe('MPChat client ↔ sandbox', () => {
  it('creates an order with the documented fields', async () => {
    const order = await client().createOrder(orderInput());
    expect(order).toMatchObject({
      status: 'OPEN',
      order_amount: '99.99',
      received_amount: '0.00',
      currency: 'USDT',
      network: 'TRC20',
    });
    expect(order.payment_url).toBe(`${sandbox.url}/pay/${order.id}`);
    expect(order.metadata).toMatchObject({ odoo_invoice_id: String(seq) });
    expect(Date.parse(order.expire_at ?? '') - Date.parse(order.created_at ?? '')).toBe(30 * 60 * 1000);
  });

  it('returns the same order for the same idempotency_key, and 409 for other parameters', async () => {
    const input = orderInput();
    const first = await client().createOrder(input);
    const second = await client().createOrder(input);
    expect(second.id).toBe(first.id);
    expect(second.payment_url).toBe(first.payment_url);
    expect(sandbox.orders().filter((order) => order.id === first.id)).toHaveLength(1);
    const conflict = await gatewayError(client().createOrder({ ...input, amount: '100.00' }));
    expect(conflict).toMatchObject({ kind: 'conflict', retryable: false });
    expect(conflict.message).toContain('duplicate idempotency key');
  });

  it('submitOrder tells a new order (201) from a replayed key (200)', async () => {
    const input = orderInput();
    const first = await client().submitOrder(input);
    const again = await client().submitOrder(input);
    expect(first.httpStatus).toBe(201);
    expect(again).toMatchObject({ httpStatus: 200, order: { id: first.order.id } });
  });

  it('keys an event without an order (withdrawal.*) by a hash of its body, not by ":event"', () => {
    const body = (id: string) =>
      Buffer.from(
        `{"event":"withdrawal.completed","timestamp":"2026-01-01T00:00:00Z","data":{"id":"${id}"}}`,
      );
    const one = parseMpChatWebhook(body('wd_1'));
    const two = parseMpChatWebhook(body('wd_2'));
    expect(one.ok && two.ok).toBe(true);
    if (one.ok && two.ok) {
      expect(one.event.dedupeKey).toMatch(/^sha256:/);
      expect(one.event.dedupeKey).not.toBe(two.event.dedupeKey);
    }
  });

  it('finds the order after the answer was lost or too late (retry with the same key)', async () => {
    const count = () => sandbox.orders().length;
    const before = count();
    const input = orderInput();
    sandbox.faults.dropAnswerNext(1);
    expect(await gatewayError(client().createOrder(input))).toMatchObject({
      kind: 'network',
      retryable: true,
    });
    sandbox.faults.delayAnswerNext(1, 500);
    expect(await gatewayError(client({ timeoutMs: 100 }).createOrder(input))).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });
    const order = await client().createOrder(input);
    expect(count()).toBe(before + 1);
    expect(sandbox.order(order.id).id).toBe(order.id);
  });

  it('pays through the hosted page: GET order says PAID with received_amount exact, and a signed webhook arrives', async () => {
    const order = await client().createOrder(orderInput({ amount: '123.456789' }));
    const page = await fetch(order.payment_url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('123.456789 USDT');
    const paid = await fetch(order.payment_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'action=full',
    });
    expect(paid.status).toBe(200);
    const read = await client().getOrder(order.id);
    expect(read).toMatchObject({ status: 'PAID', order_amount: '123.456789', received_amount: '123.456789' });
    expect(read.paid_at).toBeTruthy();
    await sandbox.flushWebhooks();
    const delivery = received.find((item) => item.body.toString().includes(order.id));
    expect(delivery).toBeDefined();
    if (!delivery) return;
    expect(
      verifyMpChatWebhook({
        rawBody: delivery.body,
        headers: delivery.headers,
        secret: sandbox.webhookSecret,
        now: new Date(),
      }),
    ).toMatchObject({ ok: true });
    const parsed = parseMpChatWebhook(delivery.body, delivery.headers);
    expect(parsed).toMatchObject({
      ok: true,
      event: { event: 'payment.confirmed', orderId: order.id, status: 'PAID', receivedAmount: '123.456789' },
    });
  });

  it('sees underpayment, overpayment and expiry as the spec names them', async () => {
    const under = await client().createOrder(orderInput({ amount: '100.00' }));
    sandbox.pay(under.id, '98.99');
    expect((await client().getOrder(under.id)).status).toBe('UNDERPAID');
    const within = await client().createOrder(orderInput({ amount: '100.00' }));
    sandbox.pay(within.id, '99.00');
    expect(await client().getOrder(within.id)).toMatchObject({ status: 'PAID', received_amount: '99.00' });
    const over = await client().createOrder(orderInput({ amount: '100.00' }));
    sandbox.pay(over.id, '110.00');
    expect(await client().getOrder(over.id)).toMatchObject({ status: 'PAID', received_amount: '110.00' });
    const late = await client().createOrder(orderInput());
    sandbox.expire(late.id);
    expect((await client().getOrder(late.id)).status).toBe('EXPIRED');
    sandbox.pay(late.id);
    expect((await client().getOrder(late.id)).status).toBe('EXPIRED_PAID');
  });

  it('lists orders with limit/offset and a total', async () => {
    await client().createOrder(orderInput());
    const page = await client().listOrders({ limit: 2, offset: 0 });
    expect(page.orders).toHaveLength(2);
    expect(page.total).toBeGreaterThanOrEqual(2);
    const other = await createMpChatClient({
      baseUrl: `${sandbox.url}/v1`,
      keyId: OTHER_KEY,
      secret: OTHER_SECRET,
    }).listOrders();
    expect(other).toEqual({ orders: [], total: 0 });
  });

  it('registers and lists webhook endpoints and their deliveries', async () => {
    const endpoint = await client().createWebhook({ url: receiverUrl, events: ['payment.confirmed'] });
    expect(endpoint).toMatchObject({ url: receiverUrl, is_active: true, events: ['payment.confirmed'] });
    expect((await client().listWebhooks()).map((item) => item.id)).toContain(endpoint.id);
    const order = await client().createOrder(orderInput());
    sandbox.pay(order.id);
    await sandbox.flushWebhooks();
    const deliveries = await client().listWebhookDeliveries(endpoint.id, { limit: 5 });
    expect(deliveries[0]).toMatchObject({ event: 'payment.confirmed', success: true });
  });
});

describe('MPChat client error classes', () => {
  it('bad key id → auth "api key not found"', async () => {
    const error = await gatewayError(client({ keyId: 'mk_test_nobody' }).getOrder('x'));
    expect(error).toMatchObject({ kind: 'auth', retryable: false, details: { status: 401 } });
    expect(error.message).toContain('api key not found');
  });

  it('inactive key → auth', async () => {
    const error = await gatewayError(client({ keyId: 'mk_test_revoked' }).getOrder('x'));
    expect(error.message).toContain('api key is inactive');
  });

  it('bad signature (wrong secret) → auth "invalid signature"', async () => {
    const error = await gatewayError(client({ secret: `${SECRET.slice(0, -1)}0` }).getOrder('x'));
    expect(error).toMatchObject({ kind: 'auth', details: { status: 401 } });
    expect(error.message).toContain('invalid signature');
  });

  it('stale timestamp (clock 6 min off) → auth "request timestamp too old"', async () => {
    const skewed = () => new Date(Date.now() - 6 * 60 * 1000);
    const error = await gatewayError(client({ now: skewed }).getOrder('x'));
    expect(error.message).toContain('request timestamp too old');
    const ahead = await gatewayError(
      client({ now: () => new Date(Date.now() + 6 * 60 * 1000) }).getOrder('x'),
    );
    expect(ahead.kind).toBe('auth');
    // 4 minutes off is inside the window: the order lookup itself answers.
    const near = await gatewayError(
      client({ now: () => new Date(Date.now() - 4 * 60 * 1000) }).getOrder('x'),
    );
    expect(near.kind).toBe('not_found');
  });

  it('validation errors → validation with the documented messages', async () => {
    for (const [overrides, message] of [
      [{ amount: '0' }, 'invalid amount'],
      [{ amount: '12,50' }, 'invalid amount'],
      [{ network: 'BEP20' as 'TRC20' }, 'unsupported network'],
    ] as const) {
      const error = await gatewayError(client().createOrder(orderInput(overrides)));
      expect(error).toMatchObject({ kind: 'validation', retryable: false, details: { status: 400 } });
      expect(error.message).toContain(message);
    }
  });

  it('"no available address" 400 → unavailable, retryable', async () => {
    sandbox.faults.failNext(1, 400, 'no available address');
    expect(await gatewayError(client().createOrder(orderInput()))).toMatchObject({
      kind: 'unavailable',
      retryable: true,
    });
  });

  it("unknown order → not_found; another merchant's → auth (403 forbidden)", async () => {
    expect(await gatewayError(client().getOrder('00000000-0000-4000-8000-000000000000'))).toMatchObject({
      kind: 'not_found',
      details: { status: 404 },
    });
    const theirs = await createMpChatClient({
      baseUrl: sandbox.url,
      keyId: OTHER_KEY,
      secret: OTHER_SECRET,
    }).createOrder(orderInput());
    const error = await gatewayError(client().getOrder(theirs.id));
    expect(error).toMatchObject({ kind: 'auth', details: { status: 403 } });
    expect(error.message).toContain('forbidden');
  });

  it('5xx → server, retryable', async () => {
    sandbox.faults.failNext(1, 503);
    expect(await gatewayError(client().listOrders())).toMatchObject({
      kind: 'server',
      retryable: true,
      details: { status: 503 },
    });
  });

  it('429 → rate_limited with Retry-After', async () => {
    sandbox.faults.rateLimitNext(1, 7);
    expect(await gatewayError(client().listOrders())).toMatchObject({
      kind: 'rate_limited',
      details: { retryAfterMs: 7000 },
    });
  });

  it('timeout → timeout; a caller abort also stops the call', async () => {
    sandbox.faults.latencyMs = 400;
    expect(await gatewayError(client({ timeoutMs: 100 }).listOrders())).toMatchObject({
      kind: 'timeout',
      retryable: true,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const aborted = await gatewayError(client().listOrders({}, { signal: controller.signal }));
    expect(aborted.kind).toBe('timeout');
    expect(aborted.message).toContain('aborted by the caller');
  });

  it('malformed JSON on 200 → protocol', async () => {
    sandbox.faults.malformedNext(1);
    const error = await gatewayError(client().listOrders());
    expect(error).toMatchObject({ kind: 'protocol', retryable: false });
    expect(error.message).toContain('not JSON');
  });

  it('nothing listening → network', async () => {
    const error = await gatewayError(
      createMpChatClient({ baseUrl: 'http://127.0.0.1:1', keyId: KEY_ID, secret: SECRET }).listOrders(),
    );
    expect(error).toMatchObject({ kind: 'network', retryable: true });
  });
});
