import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader } from '../../gateways/mpchat/signature.js';
import {
  DEFAULT_MPCHAT_KEY_ID,
  DEFAULT_MPCHAT_SECRET,
  type MpChatSandbox,
  startMpChatSandbox,
} from './server.js';

let sandbox: MpChatSandbox;
let clock = new Date('2026-04-01T10:00:00Z');

beforeAll(async () => {
  sandbox = await startMpChatSandbox({ now: () => clock });
});

afterAll(async () => {
  await sandbox.close();
});

function api(
  path: string,
  init: RequestInit = {},
  auth: string | null = authorizationHeader(DEFAULT_MPCHAT_KEY_ID, DEFAULT_MPCHAT_SECRET, clock),
) {
  const headers = new Headers(init.headers);
  if (auth !== null) headers.set('Authorization', auth);
  if (init.body) headers.set('Content-Type', 'application/json');
  return fetch(`${sandbox.url}${path}`, { ...init, headers });
}

const create = (body: Record<string, unknown>) =>
  api('/v1/orders', { method: 'POST', body: JSON.stringify(body) });

describe('MPChat sandbox', () => {
  it('answers the documented 401 messages as {"error": …}', async () => {
    expect(await (await api('/v1/orders', {}, null)).json()).toEqual({
      error: 'missing authorization header',
    });
    expect(await (await api('/v1/orders', {}, 'Bearer nope')).json()).toEqual({
      error: 'invalid authorization format',
    });
    const stale = authorizationHeader(
      DEFAULT_MPCHAT_KEY_ID,
      DEFAULT_MPCHAT_SECRET,
      new Date(clock.getTime() - 301_000),
    );
    const res = await api('/v1/orders', {}, stale);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ error: 'request timestamp too old' });
  });

  it('answers 201 then 200 for a replayed idempotency_key, and validates the body', async () => {
    const body = { amount: '10.5', currency: 'USDT', network: 'ERC20', idempotency_key: 'k-1' };
    const first = await create(body);
    expect(first.status).toBe(201);
    const again = await create(body);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(((await first.json()) as { id: string }).id);
    expect((await create({ ...body, idempotency_key: 'k-2', currency: 'USDC' })).status).toBe(400);
    expect(await (await create({ ...body, idempotency_key: 'k-3', amount: 10.5 })).json()).toEqual({
      error: 'invalid amount',
    });
    expect(await (await create({ ...body, idempotency_key: 'k-4', amount: '1.1234567' })).json()).toEqual({
      error: 'invalid amount',
    });
  });

  it('expires unpaid orders lazily after 30 minutes, and pages both ways', async () => {
    const res = await create({ amount: '5', currency: 'USDT', network: 'TRC20' });
    const order = (await res.json()) as { id: string; order_amount: string };
    expect(order.order_amount).toBe('5.00');
    clock = new Date(clock.getTime() + 30 * 60 * 1000);
    expect(((await (await api(`/v1/orders/${order.id}`)).json()) as { status: string }).status).toBe(
      'EXPIRED',
    );
    const byPage = (await (await api('/v1/orders?page=1&per_page=1')).json()) as {
      data: unknown[];
      per_page: number;
    };
    expect(byPage.data).toHaveLength(1);
    expect(byPage.per_page).toBe(1);
    const byOffset = (await (await api('/v1/orders?limit=1&offset=1')).json()) as {
      data: unknown[];
      offset: number;
    };
    expect(byOffset).toMatchObject({ offset: 1 });
  });

  it('stops at CONFIRMING until confirmed, and serves the checkout page', async () => {
    const order = (await (await create({ amount: '20', currency: 'USDT', network: 'TRC20' })).json()) as {
      id: string;
      payment_url: string;
    };
    const html = await (await fetch(order.payment_url)).text();
    for (const action of ['full', 'underpay', 'overpay', 'expire'])
      expect(html).toContain(`value="${action}"`);
    expect(sandbox.pay(order.id, '20', { confirm: false }).status).toBe('CONFIRMING');
    expect(sandbox.confirm(order.id)).toMatchObject({
      status: 'PAID',
      received_amount: '20.00',
      credited_amount: '20.00',
    });
    expect((await fetch(order.payment_url)).status).toBe(410);
  });
});

describe('MPChat sandbox: the buyer without a browser, and late wiring', () => {
  it('buyer() acts as the hosted page would and names the return_url, unsigned', async () => {
    const body = {
      amount: '12.34',
      currency: 'USDT',
      network: 'TRC20',
      return_url: 'https://shop.example.com/back?invoice=7',
    };
    const order = (await (await create(body)).json()) as { id: string };
    const paid = sandbox.buyer(order.id, 'pay');
    expect(paid.order).toMatchObject({ status: 'PAID', received_amount: '12.34' });
    expect(paid.returnUrl).toBe('https://shop.example.com/back?invoice=7');
    const other = (await (await create({ amount: '10', currency: 'USDT', network: 'TRC20' })).json()) as {
      id: string;
    };
    const left = sandbox.buyer(other.id, 'abandon');
    expect(left).toEqual({ order: expect.objectContaining({ status: 'OPEN' }), returnUrl: undefined });
    expect(sandbox.buyer(other.id, 'underpay').order.status).toBe('UNDERPAID');
    expect(() => sandbox.buyer(other.id, 'pay')).toThrow(/UNDERPAID/);
  });

  it('setWebhookUrl() points deliveries at a URL known only after start, signed', async () => {
    const { createServer } = await import('node:http');
    const got: { signature: string | undefined; body: string }[] = [];
    const server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      req.on('end', () => {
        got.push({ signature: req.headers['x-merchant-signature'] as string | undefined, body: text });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      sandbox.setWebhookUrl(`http://127.0.0.1:${port}/hook`);
      const order = (await (await create({ amount: '3', currency: 'USDT', network: 'TRC20' })).json()) as {
        id: string;
      };
      sandbox.buyer(order.id, 'pay');
      await sandbox.flushWebhooks();
      const delivery = got.find((item) => item.body.includes(order.id));
      expect(delivery?.body).toContain('"event":"payment.confirmed"');
      const { verifyWebhookSignature } = await import('../../gateways/mpchat/signature.js');
      expect(
        verifyWebhookSignature({
          rawBody: delivery?.body ?? '',
          header: delivery?.signature,
          secret: sandbox.webhookSecret,
          now: clock,
        }),
      ).toMatchObject({ ok: true });
      sandbox.setWebhookUrl(undefined);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('shows tx_hash only when asked to, and keeps the first transfer’s hash', async () => {
    expect(sandbox.order((sandbox.orders()[0] as { id: string }).id)).not.toHaveProperty('tx_hash');
    const withHashes = await startMpChatSandbox({ txHashes: true, now: () => clock });
    try {
      const res = await fetch(`${withHashes.url}/v1/orders`, {
        method: 'POST',
        headers: {
          Authorization: authorizationHeader(DEFAULT_MPCHAT_KEY_ID, DEFAULT_MPCHAT_SECRET, clock),
          'Content-Type': 'application/json',
        },
        body: JSON.stringify({ amount: '10', currency: 'USDT', network: 'TRC20' }),
      });
      const order = (await res.json()) as { id: string; tx_hash?: string };
      expect(order.tx_hash).toBeUndefined();
      const first = withHashes.pay(order.id, '2', { confirm: false }).tx_hash;
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(withHashes.pay(order.id, '8').tx_hash).toBe(first);
    } finally {
      await withHashes.close();
    }
  });
});
