import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  notificationDedupeKey,
  phpTrim,
  signatureMessage,
  signTendoPayFields,
  verifyTendoPayFields,
  verifyTendoPayNotification,
  verifyTendoPayRedirect,
  withSignature,
} from './signature.js';

// Expected values are computed here from the spec §4 formula on messages written out by hand,
// never through the code under test, so a wrong order, separator or trim fails.
const SECRET = 'demo_client_secret';
const hmacHex = (message: string, key = SECRET) =>
  createHmac('sha256', key).update(message, 'utf8').digest('hex');

const ORDER_FIELDS = {
  tp_amount: 1000,
  tp_currency: 'PHP',
  tp_merchant_order_id: 'TEST_ORDER_ID_12345',
  tp_redirect_url: 'https://domain.com/redirect_url_path?query=string',
  tp_merchant_user_id: 'unique_user_id_in_merchant_side',
  tp_description: 'Test order',
  some_other_value: 6789012,
};
const ORDER_MESSAGE =
  'tp_amount1000' +
  'tp_currencyPHP' +
  'tp_descriptionTest order' +
  'tp_merchant_order_idTEST_ORDER_ID_12345' +
  'tp_merchant_user_idunique_user_id_in_merchant_side' +
  'tp_redirect_urlhttps://domain.com/redirect_url_path?query=string';

const REDIRECT = {
  tp_transaction_status: 'PAID',
  tp_transaction_id: '20412',
  tp_merchant_order_id: 'INV-2024-0007',
  tp_message: 'Payment successful',
};
const REDIRECT_MESSAGE =
  'tp_merchant_order_idINV-2024-0007' +
  'tp_messagePayment successful' +
  'tp_transaction_id20412' +
  'tp_transaction_statusPAID';

describe('x_signature known answers (spec §4)', () => {
  it('signs the create-order example: tp_* only, sorted, key+value, no separators', () => {
    expect(signatureMessage(ORDER_FIELDS)).toBe(ORDER_MESSAGE);
    const expected = hmacHex(ORDER_MESSAGE);
    expect(expected).toBe('509b4deceb496385642e9a6eb30bf6082b2e8f4eb1a21f2e053de05603fa00a3');
    expect(signTendoPayFields(ORDER_FIELDS, SECRET)).toBe(expected);
  });

  it('signs the redirect example', () => {
    const expected = hmacHex(REDIRECT_MESSAGE);
    expect(expected).toBe('13c2110911c9cb5dcef35730b9a5aee49cddf69b9808cc81ce18d7221371f717');
    expect(signTendoPayFields(REDIRECT, SECRET)).toBe(expected);
  });

  it('is independent of the order keys were given in', () => {
    const reversed = Object.fromEntries(Object.entries(ORDER_FIELDS).reverse());
    expect(signTendoPayFields(reversed, SECRET)).toBe(hmacHex(ORDER_MESSAGE));
  });

  it('sorts by byte order: tp_billing_address1 before tp_billing_city, uppercase before lowercase', () => {
    const fields = { tp_billing_city: 'Manila', tp_billing_address1: '123 Street', tp_Z: 'z', tp_a: 'a' };
    expect(signTendoPayFields(fields, SECRET)).toBe(
      hmacHex('tp_Zztp_aatp_billing_address1123 Streettp_billing_cityManila'),
    );
  });

  it('trims like PHP trim(): spaces, tabs and newlines go, a no-break space stays', () => {
    expect(signTendoPayFields({ tp_description: ' \tTest order\n' }, SECRET)).toBe(
      hmacHex('tp_descriptionTest order'),
    );
    expect(phpTrim('\u00a0x\u00a0')).toBe('\u00a0x\u00a0');
    expect(phpTrim('\u0000\u000b x \r\n')).toBe('x');
    expect(signTendoPayFields({ tp_description: 'x\u00a0' }, SECRET)).toBe(hmacHex('tp_descriptionx\u00a0'));
  });

  it('prints null as "", true as "1", false as "", integers plainly, and signs UTF-8', () => {
    expect(
      signTendoPayFields({ tp_a: null, tp_b: true, tp_c: false, tp_d: 11267, tp_e: 'Credit ₱1,500' }, SECRET),
    ).toBe(hmacHex('tp_atp_b1tp_ctp_d11267tp_eCredit ₱1,500'));
  });

  it('excludes x_signature and non-tp keys from the message', () => {
    expect(signatureMessage({ ...REDIRECT, x_signature: 'abc', access_token: 'tok' })).toBe(REDIRECT_MESSAGE);
  });

  it('withSignature refuses to sign a float and drops undefined fields', () => {
    expect(() => withSignature({ tp_amount: 1500.5 }, SECRET)).toThrow(/never a float/);
    const body = withSignature({ tp_amount: '1500', tp_description: undefined }, SECRET);
    expect(body).toEqual({ tp_amount: '1500', x_signature: hmacHex('tp_amount1500') });
  });
});

describe('verifying what TendoPay sends', () => {
  const signedRedirect = { ...REDIRECT, x_signature: hmacHex(REDIRECT_MESSAGE) };

  it('accepts the redirect example, in upper-case hex too', () => {
    expect(verifyTendoPayFields(signedRedirect, SECRET)).toEqual({ ok: true });
    expect(
      verifyTendoPayFields({ ...REDIRECT, x_signature: hmacHex(REDIRECT_MESSAGE).toUpperCase() }, SECRET),
    ).toEqual({ ok: true });
  });

  /** The string with one byte changed at `index` (a digit or letter moved by one). */
  function oneByteOff(text: string, index = text.length - 1): string {
    const code = text.charCodeAt(index);
    const changed = code === 0x39 ? 0x38 : code === 0x66 ? 0x65 : code + 1;
    return text.slice(0, index) + String.fromCharCode(changed) + text.slice(index + 1);
  }

  it('rejects a one-byte change of the amount', () => {
    const fields = { ...REDIRECT, tp_amount: '1500' };
    const good = { ...fields, x_signature: signTendoPayFields(fields, SECRET) };
    expect(verifyTendoPayFields(good, SECRET).ok).toBe(true);
    expect(verifyTendoPayFields({ ...good, tp_amount: '1501' }, SECRET)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyTendoPayFields({ ...good, tp_amount: '2500' }, SECRET)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a one-byte change of the status', () => {
    expect(verifyTendoPayFields({ ...signedRedirect, tp_transaction_status: 'PAIE' }, SECRET).ok).toBe(false);
    expect(verifyTendoPayFields({ ...signedRedirect, tp_transaction_status: 'paid' }, SECRET).ok).toBe(false);
  });

  it('rejects a one-byte change of the signature, at either end', () => {
    const sig = signedRedirect.x_signature;
    expect(verifyTendoPayFields({ ...signedRedirect, x_signature: oneByteOff(sig) }, SECRET)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyTendoPayFields({ ...signedRedirect, x_signature: oneByteOff(sig, 0) }, SECRET).ok).toBe(
      false,
    );
    expect(verifyTendoPayFields({ ...signedRedirect, x_signature: sig.slice(1) }, SECRET).ok).toBe(false);
  });

  it('rejects an added tp_ field, a missing signature and a wrong key', () => {
    expect(verifyTendoPayFields({ ...signedRedirect, tp_amount: '1' }, SECRET).ok).toBe(false);
    expect(verifyTendoPayFields(REDIRECT, SECRET)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verifyTendoPayFields(signedRedirect, `${SECRET}x`).ok).toBe(false);
  });

  it('reads a redirect query, with the merchant URL’s own non-tp parameters ignored', () => {
    const query = new URLSearchParams({ invoice: '7', ...signedRedirect });
    const read = verifyTendoPayRedirect(query, SECRET);
    expect(read).toEqual({
      ok: true,
      callback: expect.objectContaining({
        transactionId: '20412',
        status: 'PAID',
        merchantOrderId: 'INV-2024-0007',
        message: 'Payment successful',
      }),
    });
  });

  it('refuses a redirect that repeats a tp_ parameter, and one that is not a callback', () => {
    const query = new URLSearchParams(signedRedirect);
    query.append('tp_transaction_status', 'PAID');
    expect(verifyTendoPayRedirect(query, SECRET)).toMatchObject({ ok: false, reason: 'ambiguous_parameter' });
    expect(verifyTendoPayRedirect({ tp_merchant_order_id: 'x' }, SECRET)).toMatchObject({
      ok: false,
      reason: 'not_a_callback',
    });
  });

  it('verifies a JSON notification whose numbers are JSON numbers', () => {
    const message =
      'tp_amount1500tp_currencyPHPtp_merchant_order_idINV-1-tp1tp_transaction_id11267tp_transaction_statusPAID';
    const body = `{"tp_transaction_id":11267,"tp_transaction_status":"PAID","tp_amount":1500,"tp_currency":"PHP","tp_merchant_order_id":"INV-1-tp1","x_signature":"${hmacHex(message)}"}`;
    const read = verifyTendoPayNotification(Buffer.from(body), 'application/json', SECRET);
    expect(read).toMatchObject({
      ok: true,
      callback: { transactionId: '11267', status: 'PAID', amountText: '1500' },
    });
    expect(
      verifyTendoPayNotification(
        body.replace('"tp_amount":1500', '"tp_amount":1501'),
        'application/json',
        SECRET,
      ),
    ).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('verifies a form-encoded notification and refuses a body that is not JSON', () => {
    const form = new URLSearchParams({ ...REDIRECT, x_signature: hmacHex(REDIRECT_MESSAGE) }).toString();
    expect(verifyTendoPayNotification(form, 'application/x-www-form-urlencoded', SECRET).ok).toBe(true);
    expect(verifyTendoPayNotification('{"tp_', 'application/json', SECRET)).toMatchObject({
      ok: false,
      reason: 'unreadable_body',
    });
  });
});

describe('notificationDedupeKey', () => {
  it('is the transaction and status, whatever the id type or status case', () => {
    expect(notificationDedupeKey({ transactionId: 11267, status: 'PAID' })).toBe('tendopay:11267:PAID');
    expect(notificationDedupeKey({ transactionId: '11267', status: 'paid' })).toBe('tendopay:11267:PAID');
  });

  it('differs by status, so PAID then CANCELED (a void) are two events', () => {
    expect(notificationDedupeKey({ transactionId: 1, status: 'PAID' })).not.toBe(
      notificationDedupeKey({ transactionId: 1, status: 'CANCELED' }),
    );
    expect(notificationDedupeKey({ transactionId: 1, status: 'PAID' })).not.toBe(
      notificationDedupeKey({ transactionId: 12, status: 'PAID' }),
    );
  });

  it('needs both parts', () => {
    expect(() => notificationDedupeKey({ transactionId: '', status: 'PAID' })).toThrow();
    expect(() => notificationDedupeKey({ transactionId: 1, status: ' ' })).toThrow();
  });
});
