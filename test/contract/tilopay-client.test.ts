import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/domain/money.js';
import { GatewayError } from '../../src/gateways/gateway.js';
import {
  createTiloPayClient,
  type TiloPayClient,
  type TiloPayClientOptions,
  type TiloPayProcessPaymentInput,
} from '../../src/gateways/tilopay/client.js';
import { verifyTiloPayRedirect } from '../../src/gateways/tilopay/signature.js';
import { orderStatusFromAttempts } from '../../src/gateways/tilopay/status.js';
import { startTiloPaySandbox, type TiloPaySandbox } from '../../src/sandbox/tilopay/server.js';

// The TiloPay client against the TiloPay sandbox over loopback HTTP: nothing mocked.

const credentials = {
  apiKey: '4821-7730-1950-6648-2093',
  apiUser: 'contractUser77',
  apiPassword: 'contract-Pass-9f3e',
};
const RETURN_URL = 'https://paylink.example/tilopay/return';

let sandbox: TiloPaySandbox;
let client: TiloPayClient;
let clockMs = Date.parse('2026-03-02T10:00:00Z');
let seq = 0;

function clientWith(overrides: Partial<TiloPayClientOptions> = {}): TiloPayClient {
  return createTiloPayClient({
    baseUrl: sandbox.apiBaseUrl,
    ...credentials,
    now: () => clockMs,
    ...overrides,
  });
}

function paymentInput(
  minor = 1_500_000,
  overrides: Partial<TiloPayProcessPaymentInput> = {},
): TiloPayProcessPaymentInput {
  seq += 1;
  return {
    orderNumber: `contractdb-inv-${seq}-1`,
    amount: money(minor, 'CRC', 2),
    redirect: RETURN_URL,
    billTo: { firstName: 'Ana', lastName: 'Pérez', email: 'ana.perez@example.com', country: 'CR' },
    returnData: Buffer.from(`inv-${seq}`).toString('base64'),
    ...overrides,
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
    expect(text).not.toContain(credentials.apiKey);
    expect(text).not.toContain(credentials.apiPassword);
  }
  expect(gatewayErr.gateway).toBe('tilopay');
  return gatewayErr;
}

beforeAll(async () => {
  sandbox = await startTiloPaySandbox({
    credentials,
    tokenTtlSeconds: 3600,
    now: () => new Date(clockMs),
    consultOrderPrefix: 'PFC024851-',
  });
  client = clientWith();
});

afterEach(() => {
  sandbox.faults.reset();
});

afterAll(async () => {
  await sandbox.close();
});

describe('login and token', () => {
  it('refuses bad credentials as auth, without re-trying and without the password in the message', async () => {
    const before = sandbox.loginCount;
    const bad = clientWith({ apiPassword: 'wrong-password-123' });
    const error = await gatewayError(bad.consult('whatever-1'));
    expect(error).toMatchObject({ kind: 'auth', retryable: false, details: { status: 401 } });
    expect(error.message).not.toContain('wrong-password-123');
    expect(sandbox.loginCount - before).toBe(1);
  });

  it('logs in once and reuses the token until it expires', async () => {
    const fresh = clientWith();
    const before = sandbox.loginCount;
    await fresh.consult('nothing-1');
    await fresh.consult('nothing-2');
    await Promise.all([fresh.consult('nothing-3'), fresh.consult('nothing-4')]);
    expect(sandbox.loginCount - before).toBe(1);
    // Past expires_in (minus the margin) the client logs in again before calling.
    clockMs += 3600 * 1000;
    await fresh.consult('nothing-5');
    expect(sandbox.loginCount - before).toBe(2);
  });

  it('shares one login between concurrent first calls', async () => {
    const fresh = clientWith();
    const before = sandbox.loginCount;
    await Promise.all([fresh.consult('a-1'), fresh.consult('a-2'), fresh.consult('a-3')]);
    expect(sandbox.loginCount - before).toBe(1);
  });

  it('on a 401 for an expired token logs in again once and succeeds', async () => {
    const fresh = clientWith();
    await fresh.login();
    sandbox.expireTokens();
    const before = sandbox.loginCount;
    const consult = await fresh.consult('nothing-6');
    expect(consult.attempts).toEqual([]);
    expect(sandbox.loginCount - before).toBe(1);
  });

  it('when the new token is refused too, gives up with auth after exactly one re-login', async () => {
    const fresh = clientWith();
    await fresh.login();
    sandbox.faults.rejectTokens = true;
    const before = sandbox.loginCount;
    const error = await gatewayError(fresh.consult('nothing-7'));
    expect(error).toMatchObject({ kind: 'auth', details: { status: 401 } });
    expect(sandbox.loginCount - before).toBe(1);
  });
});

describe('processPayment', () => {
  it('returns the hosted page, which a browser can open', async () => {
    const input = paymentInput();
    const hosted = await client.processPayment(input);
    expect(hosted).toMatchObject({ orderNumber: input.orderNumber, type: '100' });
    expect(hosted.url.startsWith(`${sandbox.url}/pay/`)).toBe(true);
    const page = await fetch(hosted.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('15,000.00 CRC');
    expect(sandbox.order(input.orderNumber)).toMatchObject({
      amount: '15000.00',
      currency: 'CRC',
      email: 'ana.perez@example.com',
      redirect: RETURN_URL,
      hashVersion: 'V2',
    });
  });

  it('a validation error (type 400 with HTTP 200) is validation', async () => {
    const error = await gatewayError(
      client.processPayment(paymentInput(1000, { billTo: { firstName: 'Ana', lastName: 'P', email: '' } })),
    );
    expect(error).toMatchObject({ kind: 'validation', retryable: false, details: { status: 200 } });
    expect(error.message).toContain('billToEmail');
  });

  it('a wrong API key (type 403) is auth', async () => {
    const wrongKey = clientWith({ apiKey: '0000-0000-0000-0000-0001' });
    const error = await gatewayError(wrongKey.processPayment(paymentInput()));
    expect(error).toMatchObject({ kind: 'auth' });
    expect(error.message).not.toContain('0000-0000-0000-0000-0001');
  });

  it('an amount TiloPay cannot carry is refused before any call', async () => {
    const error = await gatewayError(
      client.processPayment(paymentInput(1_234_567, { amount: money(1_234_567, 'BHD', 3) })),
    );
    expect(error.kind).toBe('validation');
  });

  it('an answer lost after the effect is a network error; the page exists, a new attempt is made', async () => {
    await client.login();
    const input = paymentInput();
    sandbox.faults.dropAnswerNext(1);
    const error = await gatewayError(client.processPayment(input));
    expect(error).toMatchObject({ kind: 'network', retryable: true });
    expect(sandbox.order(input.orderNumber)?.pageUrls).toHaveLength(1);
    const retry = await client.processPayment({ ...input, orderNumber: `${input.orderNumber}-r` });
    expect(retry.url).toContain('/pay/');
  });
});

describe('errors', () => {
  it('5xx is server, retryable', async () => {
    await client.login();
    sandbox.faults.failNext(1, 503);
    const error = await gatewayError(client.consult('x-1'));
    expect(error).toMatchObject({ kind: 'server', retryable: true, details: { status: 503 } });
  });

  it('no answer within the timeout is timeout', async () => {
    const quick = clientWith({ timeoutMs: 150 });
    await quick.login();
    sandbox.faults.latencyMs = 1000;
    const error = await gatewayError(quick.consult('x-2'));
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
  });

  it('a body that is not JSON is protocol', async () => {
    await client.login();
    sandbox.faults.malformNext(1);
    const error = await gatewayError(client.consult('x-3'));
    expect(error).toMatchObject({ kind: 'protocol', retryable: false });
  });

  it('type 404 is not_found, type 300 unavailable', async () => {
    await client.login();
    sandbox.faults.failNextWithType(1, '404', 'Order not found');
    expect(await gatewayError(client.consult('x-4'))).toMatchObject({ kind: 'not_found' });
    sandbox.faults.failNextWithType(1, '300', 'Licence problem');
    expect(await gatewayError(client.processPayment(paymentInput()))).toMatchObject({
      kind: 'unavailable',
      retryable: true,
    });
  });

  it('a refused connection is network', async () => {
    const closed = clientWith({ baseUrl: 'http://127.0.0.1:9/api/v1' });
    expect(await gatewayError(closed.consult('x-5'))).toMatchObject({ kind: 'network' });
  });

  it('an unknown order has no attempt: the order stays pending, nothing is paid', async () => {
    const consult = await client.consult('never-created-1');
    expect(consult).toEqual({ orderNumber: 'never-created-1', attempts: [], foreignEntries: 0 });
    expect(orderStatusFromAttempts(consult.attempts, money(100, 'CRC', 2))).toEqual({
      status: 'pending',
      detail: 'no_attempt',
    });
  });
});

describe('paying through the sandbox', () => {
  it('pay → the redirect verifies → consult says paid with the exact amount', async () => {
    const input = paymentInput(1_234_550);
    await client.processPayment(input);
    const { redirectUrl, tpt } = await sandbox.pay(input.orderNumber);
    const redirect = new URL(redirectUrl);
    expect(redirect.origin + redirect.pathname).toBe(RETURN_URL);
    const check = verifyTiloPayRedirect(redirect.searchParams, credentials, {
      orderNumber: input.orderNumber,
      amount: input.amount,
      email: input.billTo.email,
    });
    expect(check).toMatchObject({ ok: true, hashChecked: true, redirect: { code: '1', tpt } });

    const consult = await client.consult(input.orderNumber);
    expect(consult.attempts).toHaveLength(1);
    // TiloPay's merchant prefix on the orderNumber is matched.
    expect(consult.attempts[0]).toMatchObject({
      orderNumber: `PFC024851-${input.orderNumber}`,
      code: '1',
      amount: '12345.50',
      currency: 'CRC',
      transactionId: tpt,
    });
    const status = orderStatusFromAttempts(consult.attempts, input.amount);
    expect(status.status).toBe('paid');
    expect(orderStatusFromAttempts(consult.attempts, money(1_234_551, 'CRC', 2)).status).toBe('unknown');
  });

  it('the hosted page clicked by a person: decline, then pay on a new attempt', async () => {
    const input = paymentInput();
    const first = await client.processPayment(input);
    const declined = await fetch(first.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'outcome=declined',
      redirect: 'manual',
    });
    expect(declined.status).toBe(303);
    expect(new URL(declined.headers.get('location') ?? '').searchParams.get('code')).toBe('2');
    let status = orderStatusFromAttempts((await client.consult(input.orderNumber)).attempts, input.amount);
    expect(status.status).toBe('failed');

    const second = await client.processPayment(input);
    const paid = await fetch(second.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'outcome=approved',
      redirect: 'manual',
    });
    expect(paid.status).toBe(303);
    status = orderStatusFromAttempts((await client.consult(input.orderNumber)).attempts, input.amount);
    expect(status.status).toBe('paid');
  });

  it('SINPE Móvil: pending until it settles', async () => {
    const input = paymentInput();
    await client.processPayment(input);
    const { redirectUrl } = await sandbox.pay(input.orderNumber, 'pending');
    expect(new URL(redirectUrl).searchParams.get('code')).toBe('Pending');
    let status = orderStatusFromAttempts((await client.consult(input.orderNumber)).attempts, input.amount);
    expect(status).toEqual({ status: 'pending', detail: 'pending_attempt' });
    await sandbox.settle(input.orderNumber);
    status = orderStatusFromAttempts((await client.consult(input.orderNumber)).attempts, input.amount);
    expect(status.status).toBe('paid');
  });
});
