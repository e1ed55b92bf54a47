import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  signTendoPayFields,
  verifyTendoPayFields,
  withSignature,
} from '../../gateways/tendopay/signature.js';
import { startTendoPaySandbox, type TendoPaySandbox } from './server.js';

let sandbox: TendoPaySandbox;
let nowMs = Date.parse('2026-03-01T02:00:00Z');
let seq = 0;

beforeAll(async () => {
  sandbox = await startTendoPaySandbox({
    now: () => new Date(nowMs),
    orderTtlMs: 60_000,
    seedEndpoints: true,
  });
});

afterAll(async () => {
  await sandbox.close();
});

async function token(body: RequestInit['body'], contentType?: string): Promise<Response> {
  return fetch(`${sandbox.url}/oauth/token`, {
    method: 'POST',
    headers: { Accept: 'application/json', ...(contentType ? { 'Content-Type': contentType } : {}) },
    body,
  });
}

async function bearer(): Promise<string> {
  const response = await token(
    JSON.stringify({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }),
    'application/json',
  );
  return ((await response.json()) as { access_token: string }).access_token;
}

async function api(
  path: string,
  fields: Record<string, string>,
  accessToken?: string,
  sign = true,
): Promise<Response> {
  const body = sign ? withSignature(fields, sandbox.clientSecret) : fields;
  return fetch(`${sandbox.url}/payments/api/v2/${path}`, {
    method: 'POST',
    headers: {
      Authorization: `Bearer ${accessToken ?? (await bearer())}`,
      Accept: 'application/json',
      'Content-Type': 'application/json',
    },
    body: JSON.stringify(body),
  });
}

function orderFields(overrides: Record<string, string> = {}): Record<string, string> {
  seq += 1;
  return {
    tp_amount: '1500',
    tp_currency: 'PHP',
    tp_merchant_order_id: `sbx-${seq}-tp1`,
    tp_redirect_url: 'https://shop.example/back',
    ...overrides,
  };
}

describe('OAuth', () => {
  it('accepts JSON and multipart credentials, refuses wrong ones with 401', async () => {
    const form = new FormData();
    form.append('grant_type', 'client_credentials');
    form.append('client_id', sandbox.clientId);
    form.append('client_secret', sandbox.clientSecret);
    const ok = await token(form);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ token_type: 'Bearer', expires_in: 604_799 });

    const bad = await token(
      JSON.stringify({
        grant_type: 'client_credentials',
        client_id: sandbox.clientId,
        client_secret: 'nope',
      }),
      'application/json',
    );
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('answers 401 {"error"} without a valid bearer token, and after the token expired', async () => {
    const none = await api('order', orderFields(), 'not-a-token');
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'Unauthenticated.' });
    const access = await bearer();
    nowMs += 604_800_000;
    expect((await api('order', orderFields(), access)).status).toBe(401);
  });
});

describe('payment API', () => {
  it('refuses a missing or wrong x_signature with 422', async () => {
    const unsigned = await api('order', orderFields(), undefined, false);
    expect(unsigned.status).toBe(422);
    const forged = await api(
      'order',
      { ...orderFields(), x_signature: signTendoPayFields({ tp_amount: '1' }, 'x') },
      undefined,
      false,
    );
    expect(await forged.json()).toEqual({ error: 'Invalid signature.' });
  });

  it('refuses currencies other than PHP and a too-long description', async () => {
    expect(await (await api('order', orderFields({ tp_currency: 'USD' }))).json()).toEqual({
      error: 'The selected tp currency is invalid.',
    });
    expect((await api('order', orderFields({ tp_description: 'x'.repeat(51) }))).status).toBe(422);
  });

  it('signs showTransaction answers and serves the seed-only endpoints behind the flag', async () => {
    const fields = orderFields();
    const created = (await (await api('order', fields)).json()) as { tp_order_token: string };
    const finished = sandbox.finish(created.tp_order_token);
    const shown = (await (
      await api('showTransaction', { tp_transaction_id: String(finished.transaction.tp_transaction_id) })
    ).json()) as Record<string, unknown>;
    expect(verifyTendoPayFields(shown, sandbox.clientSecret)).toEqual({ ok: true });
    expect(shown).toMatchObject({ tp_transaction_status: 'PAID', tp_amount: 1500 });
    expect(String(shown.tp_created_at)).toMatch(/\+08:00$/);

    const byOrder = (await (
      await api('showTransactionByOrderId', { tp_merchant_order_id: fields.tp_merchant_order_id ?? '' })
    ).json()) as Record<string, unknown>;
    expect(byOrder.tp_transaction_id).toBe(shown.tp_transaction_id);
    const order = (await (
      await api('showOrder', { tp_order_token: created.tp_order_token })
    ).json()) as Record<string, unknown>;
    expect(order).toMatchObject({ tp_order_token: created.tp_order_token, tp_amount: 1500 });
  });
});

describe('orders', () => {
  it('expire unused after their TTL', async () => {
    const created = (await (await api('order', orderFields())).json()) as { authorize_url: string };
    expect((await fetch(created.authorize_url)).status).toBe(200);
    nowMs += 60_000;
    const page = await fetch(created.authorize_url);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('expired');
    expect(sandbox.order(created.authorize_url)?.state).toBe('expired');
  });

  it('cancel on the hosted page redirects with a signed CANCELED and no amount', async () => {
    const created = (await (await api('order', orderFields())).json()) as { authorize_url: string };
    const click = await fetch(created.authorize_url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=cancel',
      redirect: 'manual',
    });
    const back = new URL(click.headers.get('location') ?? '');
    const params = Object.fromEntries(back.searchParams);
    expect(params.tp_transaction_status).toBe('CANCELED');
    expect(params.tp_amount).toBeUndefined();
    expect(verifyTendoPayFields(params, sandbox.clientSecret)).toEqual({ ok: true });
  });
});

describe('notifications', () => {
  let receiver: Server;
  let answers: number[] = [];
  const bodies: string[] = [];

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        bodies.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(answers.shift() ?? 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('are resent until the receiver answers exactly 200', async () => {
    const other = await startTendoPaySandbox({
      notificationUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/n`,
      notificationRetryDelayMs: 5,
      notificationEncoding: 'form',
    });
    try {
      answers = [500, 204];
      const response = await fetch(`${other.url}/oauth/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: other.clientId,
          client_secret: other.clientSecret,
        }),
      });
      expect(response.status).toBe(200);
      const access = ((await response.json()) as { access_token: string }).access_token;
      const created = await fetch(`${other.url}/payments/api/v2/order`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${access}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(withSignature(orderFields(), other.clientSecret)),
      });
      const { tp_order_token } = (await created.json()) as { tp_order_token: string };
      other.finish(tp_order_token, { outcome: 'fail' });
      await other.flushNotifications();
      expect(other.notifications.map((attempt) => attempt.httpStatus)).toEqual([500, 204, 200]);
      const last = Object.fromEntries(new URLSearchParams(bodies.at(-1) ?? ''));
      expect(last.tp_transaction_status).toBe('FAILED');
      expect(verifyTendoPayFields(last, other.clientSecret)).toEqual({ ok: true });
    } finally {
      await other.close();
    }
  });
});
