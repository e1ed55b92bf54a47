import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseMyTpeWebhook, signMyTpePayload, verifyMyTpeSignature } from './webhook.js';

const SECRET = 'whsec_0123456789abcdef0123456789abcdef0123456789abcdef';
const NOW = new Date('2026-04-09T14:30:00Z');
const TS = String(NOW.getTime() / 1000);

const nestedPayload = {
  delivery_id: '5b0c8e52-1f1a-4a8e-9a43-7d1f0f7a2b11',
  event: 'transaction.completed',
  timestamp: '2026-04-09T14:30:00.000000Z',
  data: {
    transaction: {
      id: '0e7f4a40-5a43-4f0e-8f51-2f3c3d1e9b10',
      order_number: 'ORD-0000000042',
      order_id: 'x1',
      status: 'completed',
      amount: 5000.5,
      payment_method: 'online',
      environment: 'production',
      approval_code: 'ABC123',
      gateway_message: null,
      motif: null,
      customer: { name: 'A', email: 'a@example.test', phone: '+213555000000' },
      metadata: { reference: 'mydb-inv-42-1', original_slug: 'mydb-inv-42-1' },
      created_at: '2026-04-09T14:29:00.000000Z',
      updated_at: '2026-04-09T14:30:00.000000Z',
    },
    pay_link: {
      id: 'a3f1c2d4-0000-4000-8000-000000000001',
      title: 'Invoice INV/2026/00042',
      slug: 'mydb-inv-42-1',
      type: 'dynamic',
      amount: 5000.5,
      status: 'closed',
      payment_mode: 'one_shot',
    },
    instance: { id: 'inst-1', name: 'Sandbox SARL' },
  },
};

function signed(body: string, timestamp = TS, secret = SECRET) {
  return {
    rawBody: Buffer.from(body),
    headers: {
      'x-mytpepay-signature': signMyTpePayload(body, timestamp, secret),
      'x-mytpepay-timestamp': timestamp,
      'x-mytpepay-event': 'transaction.completed',
    },
  };
}

describe('verifyMyTpeSignature', () => {
  const body = JSON.stringify(nestedPayload);

  it('accepts a correctly signed body', () => {
    expect(verifyMyTpeSignature({ ...signed(body), secret: SECRET, now: NOW })).toEqual({ ok: true });
  });

  it('matches the spec formula: hex HMAC-SHA256 of "ts.body" keyed by the whole secret', () => {
    const expected = createHmac('sha256', SECRET).update(`${TS}.${body}`).digest('hex');
    expect(signMyTpePayload(body, TS, SECRET)).toBe(`sha256=${expected}`);
    // Keying without the whsec_ prefix must not verify.
    const headers = {
      'X-MytpePay-Signature': signMyTpePayload(body, TS, SECRET.slice(6)),
      'X-MytpePay-Timestamp': TS,
    };
    expect(verifyMyTpeSignature({ rawBody: Buffer.from(body), headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('reads mixed-case headers and fetch Headers', () => {
    const { rawBody } = signed(body);
    const sig = signMyTpePayload(body, TS, SECRET);
    const plain = { 'X-MytpePay-Signature': sig, 'X-MytpePay-Timestamp': TS };
    expect(verifyMyTpeSignature({ rawBody, headers: plain, secret: SECRET, now: NOW }).ok).toBe(true);
    const fetchHeaders = new Headers(plain);
    expect(verifyMyTpeSignature({ rawBody, headers: fetchHeaders, secret: SECRET, now: NOW }).ok).toBe(true);
  });

  it('refuses a wrong secret', () => {
    expect(verifyMyTpeSignature({ ...signed(body, TS, 'whsec_other'), secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses a tampered body', () => {
    const { headers } = signed(body);
    const tampered = Buffer.from(body.replace('5000.5', '5.5'));
    expect(verifyMyTpeSignature({ rawBody: tampered, headers, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses re-serialized JSON (whitespace differs from the bytes signed)', () => {
    const { headers } = signed(body);
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body), null, 2));
    expect(verifyMyTpeSignature({ rawBody: reserialized, headers, secret: SECRET, now: NOW }).ok).toBe(false);
  });

  it('refuses a malformed signature header', () => {
    const { rawBody } = signed(body);
    for (const signature of ['deadbeef', 'sha1=abc', `sha256=${'z'.repeat(64)}`, 'sha256=']) {
      const headers = { 'x-mytpepay-signature': signature, 'x-mytpepay-timestamp': TS };
      expect(verifyMyTpeSignature({ rawBody, headers, secret: SECRET, now: NOW })).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
    }
  });

  it('refuses a timestamp older or newer than the tolerance', () => {
    const old = String(Number(TS) - 301);
    expect(verifyMyTpeSignature({ ...signed(body, old), secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    const future = String(Number(TS) + 301);
    expect(verifyMyTpeSignature({ ...signed(body, future), secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    const edge = String(Number(TS) - 300);
    expect(verifyMyTpeSignature({ ...signed(body, edge), secret: SECRET, now: NOW })).toEqual({ ok: true });
    expect(
      verifyMyTpeSignature({ ...signed(body, old), secret: SECRET, now: NOW, toleranceSeconds: 600 }),
    ).toEqual({ ok: true });
  });

  it('reports missing headers', () => {
    const rawBody = Buffer.from(body);
    expect(verifyMyTpeSignature({ rawBody, headers: {}, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
    const noTs = { 'x-mytpepay-signature': signMyTpePayload(body, TS, SECRET) };
    expect(verifyMyTpeSignature({ rawBody, headers: noTs, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'missing_timestamp',
    });
    const badTs = { ...noTs, 'x-mytpepay-timestamp': '2026-04-09T14:30:00Z' };
    expect(verifyMyTpeSignature({ rawBody, headers: badTs, secret: SECRET, now: NOW })).toEqual({
      ok: false,
      reason: 'missing_timestamp',
    });
  });
});

describe('parseMyTpeWebhook', () => {
  it('reads the nested shape', () => {
    const result = parseMyTpeWebhook(nestedPayload);
    expect(result).toEqual({
      ok: true,
      event: {
        deliveryId: '5b0c8e52-1f1a-4a8e-9a43-7d1f0f7a2b11',
        event: 'transaction.completed',
        occurredAt: '2026-04-09T14:30:00.000000Z',
        linkId: 'a3f1c2d4-0000-4000-8000-000000000001',
        slug: 'mydb-inv-42-1',
        linkStatus: 'closed',
        instanceId: 'inst-1',
        transaction: {
          id: '0e7f4a40-5a43-4f0e-8f51-2f3c3d1e9b10',
          status: 'completed',
          paymentStatus: 'completed',
          amount: '5000.5',
          orderNumber: 'ORD-0000000042',
          environment: 'production',
          metadata: { reference: 'mydb-inv-42-1', original_slug: 'mydb-inv-42-1' },
          createdAt: '2026-04-09T14:29:00.000000Z',
          updatedAt: '2026-04-09T14:30:00.000000Z',
        },
      },
    });
  });

  it('keeps the amount text exact when the JSON number has trailing zeros', () => {
    const raw = JSON.stringify(nestedPayload).replace(/"amount":5000\.5/g, '"amount":5000.00');
    const result = parseMyTpeWebhook(JSON.parse(raw));
    expect(result.ok && result.event.transaction?.amount).toBe('5000');
  });

  it('falls back on the flat shape', () => {
    const result = parseMyTpeWebhook({
      event: 'transaction.failed',
      timestamp: '2026-04-09T14:30:00.000000Z',
      data: {
        id: 'tx-9',
        order_number: 'ORD-9',
        status: 'failed',
        amount: '1200.00',
        metadata: { original_slug: 'mydb-inv-9-1', payment_link_id: 'link-9', payment_mode: 'one_shot' },
      },
    });
    expect(result).toEqual({
      ok: true,
      event: {
        event: 'transaction.failed',
        occurredAt: '2026-04-09T14:30:00.000000Z',
        linkId: 'link-9',
        slug: 'mydb-inv-9-1',
        transaction: {
          id: 'tx-9',
          status: 'failed',
          paymentStatus: 'failed',
          amount: '1200.00',
          orderNumber: 'ORD-9',
          metadata: { original_slug: 'mydb-inv-9-1', payment_link_id: 'link-9', payment_mode: 'one_shot' },
        },
      },
    });
  });

  it('reads link events in both shapes', () => {
    expect(
      parseMyTpeWebhook({
        event: 'pay_link.expired',
        data: { pay_link: { id: 'link-1', slug: 's-1', status: 'closed' }, instance: { id: 'i' } },
      }),
    ).toEqual({
      ok: true,
      event: {
        event: 'pay_link.expired',
        linkId: 'link-1',
        slug: 's-1',
        linkStatus: 'closed',
        instanceId: 'i',
      },
    });
    expect(
      parseMyTpeWebhook({ event: 'pay_link.closed', data: { id: 'link-2', slug: 's-2', status: 'closed' } }),
    ).toEqual({
      ok: true,
      event: { event: 'pay_link.closed', linkId: 'link-2', slug: 's-2', linkStatus: 'closed' },
    });
  });

  it('maps an unknown transaction status to unknown', () => {
    const payload = structuredClone(nestedPayload);
    payload.data.transaction.status = 'approved';
    const result = parseMyTpeWebhook(payload);
    expect(result.ok && result.event.transaction?.paymentStatus).toBe('unknown');
  });

  it('rejects bodies it cannot use', () => {
    expect(parseMyTpeWebhook(null).ok).toBe(false);
    expect(parseMyTpeWebhook({ data: {} }).ok).toBe(false);
    expect(parseMyTpeWebhook({ event: 'transaction.completed', data: { status: 'completed' } })).toEqual({
      ok: false,
      error: 'transaction.completed without a transaction id',
    });
    expect(
      parseMyTpeWebhook({ event: 'transaction.completed', data: { id: 't', status: 'completed' } }).ok,
    ).toBe(false);
    expect(
      parseMyTpeWebhook({
        event: 'transaction.completed',
        data: { id: 't', status: 'completed', amount: 'ten' },
      }).ok,
    ).toBe(false);
  });
});
