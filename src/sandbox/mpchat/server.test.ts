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
