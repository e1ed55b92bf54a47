import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { money } from '../../domain/money.js';
import { orderHashAmount, phpNumberFormat2, tiloPayAmountText } from './amount.js';
import {
  computeOrderHash,
  type OrderHashInput,
  orderHashMaterial,
  parseTiloPayWebhook,
  phpUrlencode,
  type TiloPayCredentials,
  verifyOrderHash,
  verifyTiloPayRedirect,
  verifyTiloPayWebhook,
  webhookNoticeId,
} from './signature.js';

// Known answers: the expected values are computed here from the spec §6 formula on the key and
// message written out literally, so a wrong field order or encoding in signature.ts fails.

const credentials: TiloPayCredentials = {
  apiKey: '1111-2222-3333-4444-5555',
  apiUser: 'UsEr01',
  apiPassword: 'PaSs01',
};

// The spec's worked vector: 15000 CRC, order INV-2024-0007.
const vector: OrderHashInput = {
  tpt: '4300',
  orderNumber: 'INV-2024-0007',
  amount: money(1_500_000, 'CRC', 2),
  currency: 'CRC',
  responseCode: '1',
  auth: '123456',
  email: 'ana.perez@example.com',
};

function hmacHex(key: string, message: string): string {
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

const VECTOR_KEY = '4300|1111-2222-3333-4444-5555|PaSs01';
const VECTOR_MESSAGE =
  'api_Key=1111-2222-3333-4444-5555&api_user=UsEr01&orderId=4300&external_orden_id=INV-2024-0007' +
  '&amount=15%2C000.00&currency=CRC&responseCode=1&auth=123456&email=ana.perez%40example.com';

describe('OrderHash V2', () => {
  it('signs the spec vector with the literal key and message', () => {
    expect(orderHashMaterial(credentials, vector)).toEqual({ key: VECTOR_KEY, message: VECTOR_MESSAGE });
    const expected = hmacHex(VECTOR_KEY, VECTOR_MESSAGE);
    // The value the spec printed, computed there with Python and Node.
    expect(expected).toBe('a9b4861cfc68d97bf93f9cc970861e8f0a7b65de5321b9cf6587a3ca66fc8516');
    expect(computeOrderHash(credentials, vector)).toBe(expected);
    expect(verifyOrderHash(expected, credentials, vector)).toBe(true);
    expect(verifyOrderHash(expected.toUpperCase(), credentials, vector)).toBe(true);
  });

  it('signs a pending SINPE notice with an empty auth and an amount under 1000', () => {
    const input: OrderHashInput = {
      ...vector,
      tpt: '98765',
      orderNumber: 'db-inv-42-2',
      amount: money(99_950, 'CRC', 2),
      responseCode: 'Pending',
      auth: '',
      email: 'o.brien+pay@example.cr',
    };
    const key = '98765|1111-2222-3333-4444-5555|PaSs01';
    const message =
      'api_Key=1111-2222-3333-4444-5555&api_user=UsEr01&orderId=98765&external_orden_id=db-inv-42-2' +
      '&amount=999.50&currency=CRC&responseCode=Pending&auth=&email=o.brien%2Bpay%40example.cr';
    expect(computeOrderHash(credentials, input)).toBe(hmacHex(key, message));
  });

  it("encodes like PHP urlencode: space as +, and *!~'() escaped", () => {
    const input: OrderHashInput = {
      ...vector,
      orderNumber: "A B*C!~'()",
      amount: money(123_456_789, 'USD', 2),
      currency: 'USD',
      email: 'x y@z',
    };
    const message =
      'api_Key=1111-2222-3333-4444-5555&api_user=UsEr01&orderId=4300' +
      '&external_orden_id=A+B%2AC%21%7E%27%28%29&amount=1%2C234%2C567.89&currency=USD&responseCode=1' +
      '&auth=123456&email=x+y%40z';
    expect(orderHashMaterial(credentials, input).message).toBe(message);
    expect(computeOrderHash(credentials, input)).toBe(hmacHex(VECTOR_KEY, message));
    expect(phpUrlencode('a-b_c.d')).toBe('a-b_c.d');
  });

  it.each([
    ['amount one unit more', { amount: money(1_500_001, 'CRC', 2) }],
    ['amount without the thousands comma (toFixed port)', {}],
    ['status Pending instead of 1', { responseCode: 'Pending' }],
    ['status 2 instead of 1', { responseCode: '2' }],
    ['auth one digit changed', { auth: '123457' }],
    ['tpt changed', { tpt: '4301' }],
    ['order changed', { orderNumber: 'INV-2024-0008' }],
    ['currency changed', { currency: 'USD' }],
    ['email changed', { email: 'ana.perez@example.co' }],
  ] as const)('rejects the vector hash when %s', (label, change) => {
    const good = hmacHex(VECTOR_KEY, VECTOR_MESSAGE);
    if (label.startsWith('amount without')) {
      // What a toFixed(2) port signs: the hash of "15000.00" must not verify.
      const wrong = hmacHex(VECTOR_KEY, VECTOR_MESSAGE.replace('15%2C000.00', '15000.00'));
      expect(verifyOrderHash(wrong, credentials, vector)).toBe(false);
      return;
    }
    expect(verifyOrderHash(good, credentials, { ...vector, ...change })).toBe(false);
  });

  it('rejects a hash altered in one character, truncated, or not hex', () => {
    const good = hmacHex(VECTOR_KEY, VECTOR_MESSAGE);
    const flipped = `${good.slice(0, 10)}${good[10] === '0' ? '1' : '0'}${good.slice(11)}`;
    expect(verifyOrderHash(flipped, credentials, vector)).toBe(false);
    expect(verifyOrderHash(good.slice(0, 63), credentials, vector)).toBe(false);
    expect(verifyOrderHash(`${good}0`, credentials, vector)).toBe(false);
    expect(verifyOrderHash(`${good.slice(0, 63)}g`, credentials, vector)).toBe(false);
    expect(verifyOrderHash('', credentials, vector)).toBe(false);
    expect(verifyOrderHash(undefined, credentials, vector)).toBe(false);
  });

  it('rejects a hash made with another password or user', () => {
    expect(
      verifyOrderHash(
        computeOrderHash({ ...credentials, apiPassword: 'PaSs02' }, vector),
        credentials,
        vector,
      ),
    ).toBe(false);
    expect(
      verifyOrderHash(computeOrderHash({ ...credentials, apiUser: 'UsEr02' }, vector), credentials, vector),
    ).toBe(false);
  });
});

describe('amount formats', () => {
  it.each([
    ['15000', '15,000.00'],
    ['999.5', '999.50'],
    ['1000', '1,000.00'],
    ['1234567.005', '1,234,567.01'],
    ['0', '0.00'],
    ['100000000', '100,000,000.00'],
  ])('number_format(%s, 2) = %s', (input, expected) => {
    expect(phpNumberFormat2(input)).toBe(expected);
  });

  it('sends two decimals whatever the currency decimals, and refuses sub-cent amounts', () => {
    expect(tiloPayAmountText(money(1_500_000, 'CRC', 2))).toBe('15000.00');
    expect(tiloPayAmountText(money(15_000, 'CRC', 0))).toBe('15000.00');
    expect(tiloPayAmountText(money(1_234_500, 'BHD', 3))).toBe('1234.50');
    expect(() => tiloPayAmountText(money(1_234_567, 'BHD', 3))).toThrow(/more than two decimals/);
    expect(orderHashAmount(money(15_000, 'CRC', 0))).toBe('15,000.00');
  });
});

const order = {
  orderNumber: 'INV-2024-0007',
  amount: money(1_500_000, 'CRC', 2),
  email: 'ana.perez@example.com',
};

function redirectQuery(params: Record<string, string>): URLSearchParams {
  return new URLSearchParams(params);
}

describe('verifyTiloPayRedirect', () => {
  const good = hmacHex(VECTOR_KEY, VECTOR_MESSAGE);
  const approved = {
    code: '1',
    description: 'Transaction is approved.',
    auth: '123456',
    order: 'INV-2024-0007',
    tpt: '4300',
    crd: '',
    'tilopay-transaction': '4300',
    OrderHash: good,
    returnData: 'aW52LTc=',
    form_update: 'ok',
  };

  it('accepts the spec example redirect', () => {
    const check = verifyTiloPayRedirect(redirectQuery(approved), credentials, order);
    expect(check).toMatchObject({ ok: true, hashChecked: true, redirect: { code: '1', tpt: '4300' } });
  });

  it.each([
    ['amount', { ...order, amount: money(1_500_100, 'CRC', 2) }, approved, 'bad_hash'],
    ['auth', order, { ...approved, auth: '123457' }, 'bad_hash'],
    [
      'hash',
      order,
      { ...approved, OrderHash: `${good.slice(0, 63)}${good.endsWith('0') ? '1' : '0'}` },
      'bad_hash',
    ],
    ['order', order, { ...approved, order: 'INV-2024-0008' }, 'wrong_order'],
    ['missing hash', order, { ...approved, OrderHash: '' }, 'missing_hash'],
    ['short auth', order, { ...approved, auth: '12345' }, 'short_auth'],
  ] as const)('rejects an approval with a changed %s', (_label, stored, params, reason) => {
    const check = verifyTiloPayRedirect(redirectQuery(params), credentials, stored);
    expect(check).toMatchObject({ ok: false, reason });
  });

  it('rejects a status flipped from declined to approved with the decline hash', () => {
    const declineHash = computeOrderHash(credentials, { ...vector, responseCode: '2' });
    const check = verifyTiloPayRedirect(
      redirectQuery({ ...approved, OrderHash: declineHash }),
      credentials,
      order,
    );
    expect(check).toMatchObject({ ok: false, reason: 'bad_hash' });
  });

  it('rejects a repeated code parameter', () => {
    const query = redirectQuery(approved);
    query.append('code', '1');
    expect(verifyTiloPayRedirect(query, credentials, order)).toMatchObject({
      ok: false,
      reason: 'duplicate_param',
    });
  });

  it('passes declines and pendings through unchecked', () => {
    const check = verifyTiloPayRedirect(
      redirectQuery({
        code: 'Pending',
        order: 'INV-2024-0007',
        tpt: '4300',
        auth: '',
        selected_method: 'SINPEMOVIL',
      }),
      credentials,
      order,
    );
    expect(check).toMatchObject({ ok: true, hashChecked: false, redirect: { selectedMethod: 'SINPEMOVIL' } });
  });
});

describe('webhook notice', () => {
  const good = hmacHex(VECTOR_KEY, VECTOR_MESSAGE);
  const body = JSON.stringify({
    orderNumber: 'INV-2024-0007',
    code: '1',
    orderHash: good,
    tpt: '4300',
    auth: '123456',
  });

  it('parses and verifies the spec body', () => {
    const parsed = parseTiloPayWebhook(Buffer.from(body));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(verifyTiloPayWebhook(parsed.notice, credentials, order)).toEqual({ ok: true });
    expect(webhookNoticeId(parsed.notice)).toBe('INV-2024-0007:4300:1');
  });

  it.each([
    ['code', { code: 'Pending' }],
    ['auth', { auth: '123450' }],
    ['tpt', { tpt: '4301' }],
    ['hash', { orderHash: good.replace(/^./, good.startsWith('a') ? 'b' : 'a') }],
  ])('rejects a notice with a changed %s', (_label, change) => {
    const parsed = parseTiloPayWebhook(JSON.stringify({ ...JSON.parse(body), ...change }));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(verifyTiloPayWebhook(parsed.notice, credentials, order)).toEqual({
      ok: false,
      reason: 'bad_hash',
    });
  });

  it('rejects a notice verified against another stored amount', () => {
    const parsed = parseTiloPayWebhook(body);
    if (!parsed.ok) throw new Error(parsed.error);
    expect(
      verifyTiloPayWebhook(parsed.notice, credentials, { ...order, amount: money(1_500_001, 'CRC', 2) }),
    ).toEqual({ ok: false, reason: 'bad_hash' });
  });

  it('refuses bodies that are not the documented shape', () => {
    expect(parseTiloPayWebhook('not json')).toEqual({ ok: false, error: 'not JSON' });
    expect(parseTiloPayWebhook(JSON.stringify({ orderNumber: 'x', code: '1' })).ok).toBe(false);
  });
});
