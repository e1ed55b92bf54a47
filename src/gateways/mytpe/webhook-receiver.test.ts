import { describe, expect, it } from 'vitest';
import { signMyTpePayload } from './webhook.js';
import { createMyTpeWebhooks } from './webhook-receiver.js';

const ONE = '9d1c3a52-5b7e-4c1a-9f0e-5a1b7c2d3e4f';
const TWO = '0b9e8f7a-6c5d-4e3f-8a1b-2c3d4e5f6a7b';
const SECRETS = { byInstance: { [ONE]: 'whsec_one_0123456789abcdef', [TWO]: 'whsec_two_0123456789abcdef' } };

function delivery(instance: string | undefined, secret: string) {
  const body = Buffer.from(
    JSON.stringify({
      delivery_id: 'd-1',
      event: 'transaction.completed',
      data: {
        transaction: { id: 't-1', status: 'completed', amount: 1500 },
        pay_link: { id: 'l-1', slug: 's-1' },
        ...(instance ? { instance: { id: instance } } : {}),
      },
    }),
  );
  const timestamp = '1780000000';
  return {
    rawBody: body,
    headers: {
      'x-mytpepay-signature': signMyTpePayload(body, timestamp, secret),
      'x-mytpepay-timestamp': timestamp,
    },
    receivedAt: new Date(1_780_000_000_000),
  };
}

describe('MyTPE webhooks with one secret per instance', () => {
  const webhooks = createMyTpeWebhooks(SECRETS);

  it("accepts each instance's deliveries signed with its own secret", () => {
    expect(webhooks.verify(delivery(ONE, SECRETS.byInstance[ONE]!))).toEqual({ ok: true });
    expect(webhooks.verify(delivery(TWO, SECRETS.byInstance[TWO]!))).toEqual({ ok: true });
  });

  it("refuses a delivery naming one instance but signed with another's secret", () => {
    expect(webhooks.verify(delivery(TWO, SECRETS.byInstance[ONE]!))).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('refuses an instance it has no secret for, and takes any of ours when none is named', () => {
    expect(webhooks.verify(delivery('someone-else', SECRETS.byInstance[ONE]!))).toEqual({
      ok: false,
      reason: 'unknown_instance',
    });
    expect(webhooks.verify(delivery(undefined, SECRETS.byInstance[TWO]!))).toEqual({ ok: true });
  });

  it('uses the shared secret for instances without their own', () => {
    const shared = createMyTpeWebhooks({ byInstance: {}, shared: 'whsec_shared_0123456789' });
    expect(shared.verify(delivery(TWO, 'whsec_shared_0123456789'))).toEqual({ ok: true });
  });
});
