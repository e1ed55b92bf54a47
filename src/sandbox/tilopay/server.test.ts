import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../domain/money.js';
import { parseTiloPayWebhook, verifyTiloPayWebhook } from '../../gateways/tilopay/signature.js';
import { DEFAULT_SANDBOX_CREDENTIALS, startTiloPaySandbox, type TiloPaySandbox } from './server.js';

let sandbox: TiloPaySandbox;

async function post(path: string, body: unknown, token?: string): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${sandbox.apiBaseUrl}${path}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/json',
      ...(token ? { Authorization: `bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function token(): Promise<string> {
  const { json } = await post('/login', {
    apiuser: DEFAULT_SANDBOX_CREDENTIALS.apiUser,
    password: DEFAULT_SANDBOX_CREDENTIALS.apiPassword,
  });
  return (json as { access_token: string }).access_token;
}

const payment = {
  redirect: 'https://shop.example/return?x=1',
  key: DEFAULT_SANDBOX_CREDENTIALS.apiKey,
  amount: '1500.00',
  currency: 'USD',
  orderNumber: 'sbx-1',
  capture: '1',
  subscription: '0',
  platform: 'api',
  billToFirstName: 'A',
  billToLastName: 'B',
  billToEmail: 'a@b.example',
  hashVersion: 'V2',
};

beforeAll(async () => {
  sandbox = await startTiloPaySandbox();
});

afterAll(async () => {
  await sandbox.close();
});

describe('TiloPay sandbox', () => {
  it('accepts both login body forms and refuses wrong ones with 401', async () => {
    const { apiUser, apiPassword } = DEFAULT_SANDBOX_CREDENTIALS;
    expect(await post('/login', { apiuser: apiUser, password: apiPassword })).toMatchObject({
      status: 200,
      json: { token_type: 'bearer', expires_in: 86400 },
    });
    expect((await post('/login', { email: apiUser, password: apiPassword })).status).toBe(200);
    expect(await post('/login', { apiuser: apiUser, password: 'nope' })).toMatchObject({
      status: 401,
      json: { message: expect.any(String) },
    });
  });

  it('answers 401 without a valid bearer token', async () => {
    expect((await post('/consult', { key: payment.key, orderNumber: 'x' })).status).toBe(401);
    expect((await post('/consult', { key: payment.key, orderNumber: 'x' }, 'forged')).status).toBe(401);
  });

  it('answers errors with HTTP 200 and a type: 403 bad key, 400 missing fields', async () => {
    const bearer = await token();
    expect(await post('/processPayment', { ...payment, key: 'bad' }, bearer)).toMatchObject({
      status: 200,
      json: { type: '403' },
    });
    expect(await post('/processPayment', { ...payment, billToEmail: undefined }, bearer)).toMatchObject({
      status: 200,
      json: { type: '400', message: expect.stringContaining('billToEmail') },
    });
  });

  it('pays through the page, redirects with the spec parameters, and sends a verifiable notice', async () => {
    const received: string[] = [];
    const receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    sandbox.setWebhookUrl(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`);
    try {
      const bearer = await token();
      const created = await post('/processPayment', payment, bearer);
      const { url } = created.json as { type: string; url: string };
      expect(created.json).toMatchObject({ type: '100' });
      const page = await fetch(url);
      const html = await page.text();
      expect(html).toContain('1,500.00 USD');
      expect(html).toContain('value="cancelled"');
      const answer = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: 'outcome=approved',
        redirect: 'manual',
      });
      expect(answer.status).toBe(303);
      const location = new URL(answer.headers.get('location') ?? '');
      expect(location.searchParams.get('x')).toBe('1');
      expect([...location.searchParams.keys()]).toEqual(
        expect.arrayContaining([
          'code',
          'description',
          'auth',
          'order',
          'tpt',
          'tilopay-transaction',
          'OrderHash',
        ]),
      );
      expect(location.searchParams.get('order')).toBe('sbx-1');
      // A used page cannot be paid twice.
      expect((await fetch(url)).status).toBe(410);

      expect(received).toHaveLength(1);
      const parsed = parseTiloPayWebhook(received[0] ?? '');
      if (!parsed.ok) throw new Error(parsed.error);
      expect(
        verifyTiloPayWebhook(parsed.notice, DEFAULT_SANDBOX_CREDENTIALS, {
          orderNumber: 'sbx-1',
          amount: money(150_000, 'USD', 2),
          email: 'a@b.example',
        }),
      ).toEqual({ ok: true });
      expect(sandbox.deliveries[0]).toMatchObject({ status: 200 });

      const consult = await post(
        '/consult',
        { key: payment.key, orderNumber: 'sbx-1', merchantId: '' },
        bearer,
      );
      expect(consult.json).toMatchObject({
        type: '200',
        response: [{ orderNumber: 'sbx-1', code: '1', amount: '1500.00', currency: 'USD' }],
      });
    } finally {
      sandbox.setWebhookUrl(undefined);
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('cancel on the page redirects with wp_cancel=yes and records code 8', async () => {
    const bearer = await token();
    const { json } = await post('/processPayment', { ...payment, orderNumber: 'sbx-2' }, bearer);
    const answer = await fetch((json as { url: string }).url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'outcome=cancelled',
      redirect: 'manual',
    });
    const location = new URL(answer.headers.get('location') ?? '');
    expect(location.searchParams.get('wp_cancel')).toBe('yes');
    expect(location.searchParams.get('code')).toBe('8');
    expect(sandbox.order('sbx-2')?.attempts).toMatchObject([{ code: '8' }]);
  });
});
