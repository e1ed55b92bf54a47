import { createHmac, timingSafeEqual } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Gateway, GatewayWebhooks, LinkRecord, WebhookDelivery } from '../gateways/gateway.js';
import { openDatabase } from '../store/database.js';
import { LinkRepository } from '../store/links.js';
import { checkDelivery } from './returns.js';

// A gateway whose signature covers the amount it was asked for, which only our record holds
// (as TiloPay's OrderHash does): `order=<id>&code=<c>&sig=hmac(order|code|amount)`.
const KEY = 'test-key';
const sign = (order: string, code: string, minor: number) =>
  createHmac('sha256', KEY).update(`${order}|${code}|${minor}`).digest('hex');

const seen: (LinkRecord | undefined)[] = [];
const returns: GatewayWebhooks = {
  identify: (delivery) => {
    const order = new URLSearchParams(delivery.rawBody.toString()).get('order');
    return order ? { linkId: order } : undefined;
  },
  verify: (delivery, record) => {
    seen.push(record);
    if (!record) return { ok: false, reason: 'no record' };
    const query = new URLSearchParams(delivery.rawBody.toString());
    const expected = Buffer.from(sign(record.linkId, query.get('code') ?? '', record.amount.minor), 'hex');
    const given = Buffer.from(query.get('sig') ?? '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected)
      ? { ok: true }
      : { ok: false, reason: 'bad signature' };
  },
  parse: (delivery) => {
    const query = new URLSearchParams(delivery.rawBody.toString());
    const code = query.get('code');
    if (!code) return { ok: false, error: 'no code' };
    return {
      ok: true,
      event: {
        id: `${query.get('order')}:${code}`,
        type: 'return',
        linkId: query.get('order') ?? undefined,
        concernsPayment: true,
      },
    };
  },
};
const gateway = { id: 'redirecting', returns } as unknown as Gateway;

function setup() {
  const db = openDatabase(':memory:');
  const links = new LinkRepository(db);
  const created = links.insertCreating(
    {
      gateway: 'redirecting',
      companyId: 1,
      invoiceId: 7,
      invoiceName: 'INV/7',
      amount: { minor: 150_000, currency: 'CRC', decimals: 2 },
      reference: (n) => `db-inv-7-${n}`,
    },
    1,
  );
  const row = links.transition(
    created!.id,
    'writing_back',
    { linkId: 'order-7', linkUrl: 'https://pay/7' },
    2,
  );
  const lookup = {
    links,
    recordOf: (stored: typeof row & object, linkId: string): LinkRecord => ({
      linkId,
      merchantAccount: 'default',
      reference: stored.reference,
      amount: stored.amount,
      createdAt: stored.createdAt,
      transactionIds: [],
    }),
  };
  return { row: row!, lookup };
}

const delivery = (query: string): WebhookDelivery => ({
  rawBody: Buffer.from(query),
  headers: {},
  receivedAt: new Date(0),
});

describe('checking a delivery whose signature covers our record of the link', () => {
  it('hands verify the record of the link it names, and returns the event with the row', () => {
    const { row, lookup } = setup();
    const checked = checkDelivery(
      returns,
      gateway,
      delivery(`order=order-7&code=1&sig=${sign('order-7', '1', 150_000)}`),
      lookup,
    );
    expect(checked).toMatchObject({ ok: true, event: { id: 'order-7:1' }, row: { id: row.id } });
    expect(seen.at(-1)?.amount.minor).toBe(150_000);
  });

  it('refuses one signed for another amount, one naming a link we do not know, and a malformed one', () => {
    const { lookup } = setup();
    const other = checkDelivery(
      returns,
      gateway,
      delivery(`order=order-7&code=1&sig=${sign('order-7', '1', 150_001)}`),
      lookup,
    );
    expect(other).toEqual({ ok: false, status: 401, reason: 'bad signature' });
    const unknown = checkDelivery(
      returns,
      gateway,
      delivery(`order=order-8&code=1&sig=${sign('order-8', '1', 150_000)}`),
      lookup,
    );
    expect(unknown).toEqual({ ok: false, status: 401, reason: 'it names no link of ours' });
    const malformed = checkDelivery(
      returns,
      gateway,
      delivery(`order=order-7&sig=${sign('order-7', '', 150_000)}`),
      lookup,
    );
    expect(malformed).toEqual({ ok: false, status: 400, reason: 'no code' });
  });
});
