import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  authorizationHeader,
  parseWebhookSignature,
  signRequest,
  signWebhookPayload,
  verifyRequestAuth,
  verifyWebhookSignature,
} from './signature.js';

// Expected values are computed here from the spec's formulas with node:crypto on literal inputs,
// independently of signature.ts, so a wrong concatenation order or key encoding fails.

const KEY_ID = 'mk_test_demo01';
const SECRET = '5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99';
const TS = 1700000000;
const AT_TS = new Date(TS * 1000);

describe('request auth (spec §2)', () => {
  it('signs key_id + "." + ts with the secret as UTF-8 text', () => {
    const expected = createHmac('sha256', Buffer.from(SECRET, 'utf8'))
      .update('mk_test_demo01.1700000000')
      .digest('hex');
    expect(signRequest(KEY_ID, SECRET, TS)).toBe(expected);
    // The spec's worked example, written out.
    expect(expected).toBe('9c1bc07106bc50f3da822f2a55e6707baf9327621a62fc148c398d69938bbf99');
    expect(authorizationHeader(KEY_ID, SECRET, AT_TS)).toBe(`Bearer mk_test_demo01:1700000000:${expected}`);
  });

  it('is not the other orders or a hex-decoded key', () => {
    const reversed = createHmac('sha256', SECRET).update('1700000000.mk_test_demo01').digest('hex');
    const hexKey = createHmac('sha256', Buffer.from(SECRET, 'hex'))
      .update('mk_test_demo01.1700000000')
      .digest('hex');
    expect(signRequest(KEY_ID, SECRET, TS)).not.toBe(reversed);
    expect(signRequest(KEY_ID, SECRET, TS)).not.toBe(hexKey);
  });

  const lookupKey = (keyId: string) => (keyId === KEY_ID ? { secret: SECRET, active: true } : undefined);

  it('accepts a good header within ±5 minutes and refuses one just outside', () => {
    const header = authorizationHeader(KEY_ID, SECRET, AT_TS);
    expect(verifyRequestAuth({ header, lookupKey, now: new Date((TS + 300) * 1000) })).toEqual({
      ok: true,
      keyId: KEY_ID,
    });
    expect(verifyRequestAuth({ header, lookupKey, now: new Date((TS - 300) * 1000) }).ok).toBe(true);
    expect(verifyRequestAuth({ header, lookupKey, now: new Date((TS + 301) * 1000) })).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(verifyRequestAuth({ header, lookupKey, now: new Date((TS - 301) * 1000) }).ok).toBe(false);
  });

  it('names each refusal like the docs error table', () => {
    const check = (header: string | undefined) => verifyRequestAuth({ header, lookupKey, now: AT_TS });
    const good = signRequest(KEY_ID, SECRET, TS);
    expect(check(undefined)).toEqual({ ok: false, reason: 'missing_authorization' });
    expect(check(`Basic ${KEY_ID}`)).toEqual({ ok: false, reason: 'invalid_format' });
    expect(check(`Bearer mk_test_other:${TS}:${good}`)).toEqual({ ok: false, reason: 'unknown_key' });
    const flipped = `${good.slice(0, -1)}${good.endsWith('0') ? '1' : '0'}`;
    expect(check(`Bearer ${KEY_ID}:${TS}:${flipped}`)).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(check(`Bearer ${KEY_ID}:${TS}:${good.slice(0, 62)}`)).toEqual({
      ok: false,
      reason: 'invalid_signature',
    });
    // The ts is inside the signature: changing it breaks the signature, not just freshness.
    expect(check(`Bearer ${KEY_ID}:${TS + 1}:${good}`)).toEqual({ ok: false, reason: 'invalid_signature' });
    expect(
      verifyRequestAuth({
        header: `Bearer ${KEY_ID}:${TS}:${good}`,
        lookupKey: () => ({ secret: SECRET, active: false }),
        now: AT_TS,
      }),
    ).toEqual({ ok: false, reason: 'inactive_key' });
  });
});

describe('webhook signature (spec §5)', () => {
  const WH_SECRET = 'whsec_demo';
  const BODY =
    '{"event":"payment.confirmed","timestamp":"2024-01-15T10:05:00Z","data":{"order_id":"ord_demo","status":"PAID","received_amount":"99.99"}}';

  it('matches the spec sandbox vector for t + "." + body', () => {
    const vectorBody =
      '{"event":"payment.confirmed","timestamp":"2024-01-15T10:05:00Z","data":{"order_id":"ord_demo","status":"PAID"}}';
    expect(signWebhookPayload(vectorBody, '1700000000', WH_SECRET)).toBe(
      '30406ae08ca0d99c88b80aa81ed347d8a120e841e772e82fdc71a52013d459e4',
    );
  });

  it('computes each layout as written out', () => {
    const dot = createHmac('sha256', 'whsec_demo').update(`1700000000.${BODY}`).digest('hex');
    const bodyOnly = createHmac('sha256', 'whsec_demo').update(BODY).digest('hex');
    const glued = createHmac('sha256', 'whsec_demo').update(`1700000000${BODY}`).digest('hex');
    expect(signWebhookPayload(BODY, TS, WH_SECRET)).toBe(dot);
    expect(signWebhookPayload(BODY, TS, WH_SECRET, { layout: 'timestamp.body' })).toBe(dot);
    expect(signWebhookPayload(BODY, TS, WH_SECRET, { layout: 'body' })).toBe(bodyOnly);
    expect(signWebhookPayload(BODY, TS, WH_SECRET, { layout: 'timestamp_body' })).toBe(glued);
    const hexSecret = 'a1b2c3d4';
    expect(signWebhookPayload(BODY, TS, hexSecret, { keyEncoding: 'hex' })).toBe(
      createHmac('sha256', Buffer.from([0xa1, 0xb2, 0xc3, 0xd4]))
        .update(`1700000000.${BODY}`)
        .digest('hex'),
    );
    expect(new Set([dot, bodyOnly, glued]).size).toBe(3);
  });

  const header = `t=1700000000,v1=${createHmac('sha256', 'whsec_demo').update(`1700000000.${BODY}`).digest('hex')}`;
  const verify = (rawBody: string, signatureHeader: string | undefined, now = AT_TS, layout?: 'body') =>
    verifyWebhookSignature({
      rawBody: Buffer.from(rawBody),
      header: signatureHeader,
      secret: WH_SECRET,
      now,
      signing: layout ? { layout } : undefined,
    });

  it('accepts the exact body', () => {
    expect(verify(BODY, header)).toEqual({ ok: true, timestamp: TS });
  });

  it('rejects a one-byte change of the amount, the status or the signature', () => {
    expect(verify(BODY.replace('"99.99"', '"99.98"'), header)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verify(BODY.replace('"PAID"', '"PAIC"'), header)).toEqual({ ok: false, reason: 'bad_signature' });
    const last = header.at(-1) === 'a' ? 'b' : 'a';
    expect(verify(BODY, `${header.slice(0, -1)}${last}`)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(`${BODY} `, header)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a layout mismatch and another secret', () => {
    expect(verify(BODY, header, AT_TS, 'body')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhookSignature({ rawBody: BODY, header, secret: 'whsec_other', now: AT_TS })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('applies the ±300 s window to t=', () => {
    expect(verify(BODY, header, new Date((TS + 300) * 1000)).ok).toBe(true);
    expect(verify(BODY, header, new Date((TS + 301) * 1000))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(verify(BODY, header, new Date((TS - 301) * 1000))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
  });

  it('reads several v1 values and refuses malformed headers', () => {
    const good = header.split('v1=')[1] ?? '';
    expect(verify(BODY, `t=1700000000,v1=${'0'.repeat(64)},v1=${good}`).ok).toBe(true);
    expect(verify(BODY, `v1=${good}`)).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verify(BODY, 't=1700000000')).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(verify(BODY, `t=1700000000,t=1700000001,v1=${good}`)).toEqual({
      ok: false,
      reason: 'malformed_signature',
    });
    expect(verify(BODY, undefined)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(parseWebhookSignature(` t=1 , v0=abc , v1=${good} `)).toEqual({
      ok: true,
      timestamp: '1',
      signatures: [good],
    });
  });
});
