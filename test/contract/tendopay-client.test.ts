import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/domain/money.js';
import { GatewayError } from '../../src/gateways/gateway.js';
import { createTendoPayClient, type TendoPayClient } from '../../src/gateways/tendopay/client.js';
import { merchantOrderIdFor } from '../../src/gateways/tendopay/order.js';
import {
  notificationDedupeKey,
  verifyTendoPayNotification,
  verifyTendoPayRedirect,
} from '../../src/gateways/tendopay/signature.js';
import { startTendoPaySandbox, type TendoPaySandbox } from '../../src/sandbox/tendopay/server.js';

// The TendoPay client against the TendoPay sandbox over loopback HTTP: nothing mocked.

const CLIENT_ID = 'tp-contract-client-7f3e';
const CLIENT_SECRET = 'tp_contract_secret_4b1d9a0c6e2f';
const RETURN_URL = 'https://erp.example/paylink/tendopay/return?ref=contract';

let sandbox: TendoPaySandbox;
let receiver: Server;
let receiverUrl = '';
const received: { body: string; contentType: string | undefined }[] = [];
let seq = 0;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        body: Buffer.concat(chunks).toString('utf8'),
        contentType: req.headers['content-type'],
      });
      res.writeHead(200).end('OK');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/tendopay`;
  sandbox = await startTendoPaySandbox({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    notificationUrl: receiverUrl,
    notificationRetryDelayMs: 20,
  });
});

afterAll(async () => {
  await sandbox.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

afterEach(() => {
  sandbox.faults.reset();
});

function client(overrides: Partial<Parameters<typeof createTendoPayClient>[0]> = {}): TendoPayClient {
  return createTendoPayClient({
    baseUrl: sandbox.url,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    timeoutMs: 2_000,
    ...overrides,
  });
}

function orderInput(pesos = 1500) {
  seq += 1;
  return {
    merchantOrderId: merchantOrderIdFor(`contractdb-inv-${seq}-1`, 1),
    amount: money(pesos * 100, 'PHP', 2),
    redirectUrl: RETURN_URL,
    description: `INV/2026/${String(seq).padStart(5, '0')}`,
  };
}

/** Runs the call, expects a GatewayError, and checks it leaks no credential. */
async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayErr = error as GatewayError;
  for (const text of [gatewayErr.message, String(gatewayErr.stack)]) {
    expect(text).not.toContain(CLIENT_SECRET);
  }
  return gatewayErr;
}

describe('create order → pay → showTransaction', () => {
  it('returns the authorize_url, and after paying, PAID with the exact amount', async () => {
    const tendo = client();
    const input = orderInput(1500);
    const order = await tendo.createOrder(input);
    expect(order.authorizeUrl).toBe(`${sandbox.url}/payments/authorise/${order.orderToken}`);
    expect(order.amountText).toBe('1500');

    // The buyer opens the link and clicks "Pay now".
    const page = await fetch(order.authorizeUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('₱1,500');
    expect(html).toContain('value="pay"');
    const click = await fetch(order.authorizeUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=pay',
      redirect: 'manual',
    });
    expect(click.status).toBe(303);
    const back = new URL(click.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe('https://erp.example/paylink/tendopay/return');
    expect(back.searchParams.get('ref')).toBe('contract');

    const redirect = verifyTendoPayRedirect(back.searchParams, CLIENT_SECRET);
    if (!redirect.ok) throw new Error(`redirect refused: ${redirect.reason}`);
    expect(redirect.callback).toMatchObject({ status: 'PAID', merchantOrderId: input.merchantOrderId });
    // The same redirect with a forged status fails.
    const forged = new URLSearchParams(back.searchParams);
    forged.set('tp_transaction_status', 'PAID ');
    forged.set('tp_amount', '15000');
    expect(verifyTendoPayRedirect(forged, CLIENT_SECRET).ok).toBe(false);

    // Read before acting.
    const transaction = await tendo.showTransaction(redirect.callback.transactionId);
    expect(transaction).toMatchObject({
      transactionId: redirect.callback.transactionId,
      status: 'PAID',
      outcome: 'paid',
      amountText: '1500',
      currency: 'PHP',
      merchantOrderId: input.merchantOrderId,
    });
    expect(transaction.amount).toEqual({ minor: 150_000, currency: 'PHP', decimals: 2 });

    // The notification arrived, signed, and names the same event as the redirect.
    await sandbox.flushNotifications();
    const notification = received.find((entry) =>
      entry.body.includes(`"tp_transaction_id":${transaction.transactionId}`),
    );
    expect(notification).toBeDefined();
    const read = verifyTendoPayNotification(
      notification?.body ?? '',
      notification?.contentType,
      CLIENT_SECRET,
    );
    if (!read.ok) throw new Error(`notification refused: ${read.reason}`);
    expect(notificationDedupeKey(read.callback)).toBe(notificationDedupeKey(redirect.callback));

    // The order token is single-use.
    expect((await fetch(order.authorizeUrl)).status).toBe(410);
  });

  it('reports a smaller approved amount exactly, and a FAILED attempt as failed', async () => {
    const tendo = client();
    const paid = sandbox.finish((await tendo.createOrder(orderInput(2000))).authorizeUrl, {
      approvedAmount: '1999',
    });
    const approved = await tendo.showTransaction(String(paid.transaction.tp_transaction_id));
    expect(approved.amount.minor).toBe(199_900);

    const declined = sandbox.finish((await tendo.createOrder(orderInput())).orderToken, { outcome: 'fail' });
    expect((await tendo.showTransaction(String(declined.transaction.tp_transaction_id))).outcome).toBe(
      'failed',
    );
  });

  it('cancelPayment voids a PAID purchase and refuses anything else', async () => {
    const tendo = client();
    const paid = sandbox.finish((await tendo.createOrder(orderInput())).orderToken);
    const id = String(paid.transaction.tp_transaction_id);
    const cancelled = await tendo.cancelPayment(id);
    expect(cancelled?.status).toBe('CANCELED');
    expect((await tendo.showTransaction(id)).outcome).toBe('cancelled');
    const again = await gatewayError(tendo.cancelPayment(id));
    expect(again.kind).toBe('validation');
    expect(again.message).toContain('cannot be canceled');
  });
});

describe('authentication', () => {
  it('bad client credentials → auth, not retryable, secret not echoed', async () => {
    const error = await gatewayError(
      client({ clientSecret: 'tp_wrong_secret_000000' }).createOrder(orderInput()),
    );
    expect(error.kind).toBe('auth');
    expect(error.retryable).toBe(false);
    expect(error.details.status).toBe(401);
    expect(error.message).toContain('Client authentication failed');
    expect(error.message).not.toContain('tp_wrong_secret_000000');
  });

  it('caches the token, then re-authenticates exactly once after it expired at TendoPay', async () => {
    const tendo = client();
    const before = sandbox.tokensIssued();
    await tendo.createOrder(orderInput());
    await tendo.createOrder(orderInput());
    expect(sandbox.tokensIssued()).toBe(before + 1);

    sandbox.revokeTokens();
    const order = await tendo.createOrder(orderInput());
    expect(order.orderToken).toBeTruthy();
    expect(sandbox.tokensIssued()).toBe(before + 2);
    // One 401, then the retried call; one order made, not two.
    expect(sandbox.orders().filter((entry) => entry.merchantOrderId === order.merchantOrderId)).toHaveLength(
      1,
    );
  });

  it('a second 401 in a row is an auth error, not a loop', async () => {
    const tendo = client();
    await tendo.accessToken();
    const before = sandbox.tokensIssued();
    sandbox.faults.failNext(2, 401);
    const error = await gatewayError(tendo.createOrder(orderInput()));
    expect(error.kind).toBe('auth');
    expect(sandbox.tokensIssued()).toBe(before + 1);
  });

  it('renews the token by its own clock once expires_in has passed', async () => {
    let nowMs = Date.now();
    const tendo = client({ now: () => nowMs });
    const first = await tendo.accessToken();
    expect(await tendo.accessToken()).toBe(first);
    nowMs += 604_799_000;
    expect(await tendo.accessToken()).not.toBe(first);
  });
});

describe('errors', () => {
  it('validation error (422 {"error"}) → validation', async () => {
    const error = await gatewayError(client().createOrder({ ...orderInput(), redirectUrl: 'not a url' }));
    expect(error.kind).toBe('validation');
    expect(error.details.status).toBe(422);
    expect(error.message).toContain('tp redirect url');
  });

  it('unknown transaction → not_found', async () => {
    const error = await gatewayError(client().showTransaction('999999999'));
    expect(error.kind).toBe('not_found');
  });

  it('5xx → server, retryable', async () => {
    const tendo = client();
    await tendo.accessToken();
    sandbox.faults.failNext(1, 500);
    const error = await gatewayError(tendo.showTransaction('1'));
    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
  });

  it('no answer in time → timeout, retryable, says it may have been applied', async () => {
    const tendo = client({ timeoutMs: 150 });
    await tendo.accessToken();
    sandbox.faults.latencyMs = 600;
    const error = await gatewayError(tendo.createOrder(orderInput()));
    expect(error.kind).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('may still have been applied');
  });

  it('an answer lost after the order was made → network; the order exists at TendoPay', async () => {
    const tendo = client();
    await tendo.accessToken();
    sandbox.faults.dropAnswerNext(1);
    const input = orderInput();
    const error = await gatewayError(tendo.createOrder(input));
    expect(error.kind).toBe('network');
    expect(sandbox.orders().some((order) => order.merchantOrderId === input.merchantOrderId)).toBe(true);
  });

  it('malformed JSON → protocol, on a resource call and on the token call', async () => {
    const tendo = client();
    await tendo.accessToken();
    sandbox.faults.malformNext(1);
    expect((await gatewayError(tendo.createOrder(orderInput()))).kind).toBe('protocol');
    sandbox.faults.malformNext(1, 'token');
    expect((await gatewayError(client().accessToken())).kind).toBe('protocol');
  });

  it('an answer signed with another key → protocol', async () => {
    const paid = sandbox.finish((await client().createOrder(orderInput())).orderToken);
    const other = createTendoPayClient({
      baseUrl: sandbox.url,
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (!String(input).endsWith('/showTransaction')) return response;
        const body = (await response.json()) as Record<string, unknown>;
        return new Response(JSON.stringify({ ...body, tp_amount: 1 }), { status: 200 });
      },
    });
    const error = await gatewayError(other.showTransaction(String(paid.transaction.tp_transaction_id)));
    expect(error.kind).toBe('protocol');
    expect(error.message).toContain('x_signature');
  });
});
