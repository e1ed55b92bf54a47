import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Money } from '../../domain/money.js';
import { orderHashAmount } from './amount.js';
import { webhookBodySchema } from './schemas.js';

/**
 * TiloPay's OrderHash V2 (spec §6, from the official WooCommerce plugin's computed_customer_hash):
 *
 *   key = tpt + "|" + API_KEY + "|" + API_PASSWORD
 *   msg = http_build_query([api_Key, api_user, orderId=tpt, external_orden_id, amount, currency,
 *                           responseCode, auth, email])   (this order, PHP urlencode)
 *   OrderHash = lowercase hex HMAC-SHA256(key, msg)
 *
 * It signs both the buyer's redirect (§5, `OrderHash`) and the server-to-server notice (§7,
 * `orderHash`). There is no header signature, no timestamp and no replay window.
 */

export interface TiloPayCredentials {
  readonly apiKey: string;
  readonly apiUser: string;
  readonly apiPassword: string;
}

/** The inputs of one hash: `tpt`, `code` and `auth` as received; the rest as we stored them. */
export interface OrderHashInput {
  /** TiloPay transaction id (`tpt` / `tilopay-transaction`). */
  readonly tpt: string;
  /** Our orderNumber, exactly as sent to processPayment. */
  readonly orderNumber: string;
  /** What we charged; formatted like PHP number_format(amount, 2). */
  readonly amount: Money;
  readonly currency: string;
  /** `code` of the redirect or notice: "1", "Pending", … */
  readonly responseCode: string;
  readonly auth: string;
  /** billToEmail exactly as sent to processPayment. */
  readonly email: string;
}

/**
 * PHP's urlencode (what http_build_query uses by default, PHP_QUERY_RFC1738): everything but
 * `A-Za-z0-9-_.` is %XX (upper-case hex) and space is "+". encodeURIComponent also leaves
 * `!~*'()` alone, so those are escaped by hand.
 */
export function phpUrlencode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!~*'()]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/** PHP http_build_query of string pairs, in the order given. */
export function phpHttpBuildQuery(pairs: readonly (readonly [string, string])[]): string {
  return pairs.map(([key, value]) => `${phpUrlencode(key)}=${phpUrlencode(value)}`).join('&');
}

/** The HMAC key and message of an OrderHash, exposed so tests can show what is signed. */
export function orderHashMaterial(
  credentials: TiloPayCredentials,
  input: OrderHashInput,
): { readonly key: string; readonly message: string } {
  const key = `${input.tpt}|${credentials.apiKey}|${credentials.apiPassword}`;
  const message = phpHttpBuildQuery([
    ['api_Key', credentials.apiKey],
    ['api_user', credentials.apiUser],
    ['orderId', input.tpt],
    ['external_orden_id', input.orderNumber],
    ['amount', orderHashAmount(input.amount)],
    ['currency', input.currency],
    ['responseCode', input.responseCode],
    ['auth', input.auth],
    ['email', input.email],
  ]);
  return { key, message };
}

/** OrderHash V2: 64 lower-case hex characters. */
export function computeOrderHash(credentials: TiloPayCredentials, input: OrderHashInput): string {
  const { key, message } = orderHashMaterial(credentials, input);
  return createHmac('sha256', key).update(message, 'utf8').digest('hex');
}

/** Constant-time comparison of a received OrderHash with the expected one; case of hex ignored. */
export function verifyOrderHash(
  received: string | null | undefined,
  credentials: TiloPayCredentials,
  input: OrderHashInput,
): boolean {
  const text = received?.trim().toLowerCase();
  if (!text || !/^[0-9a-f]{64}$/.test(text)) return false;
  const expected = Buffer.from(computeOrderHash(credentials, input), 'hex');
  // Both are 32 bytes here, which timingSafeEqual requires.
  return timingSafeEqual(Buffer.from(text, 'hex'), expected);
}

/** What we stored when we created the attempt; the hash covers these, so keep them exactly. */
export interface TiloPayStoredOrder {
  readonly orderNumber: string;
  readonly amount: Money;
  readonly email: string;
}

/** The buyer's redirect back to us (§5), as read from its query string. */
export interface TiloPayRedirect {
  readonly code: string;
  readonly description?: string | undefined;
  readonly auth: string;
  readonly order: string;
  readonly tpt: string;
  readonly orderHash?: string | undefined;
  readonly returnData?: string | undefined;
  readonly selectedMethod?: string | undefined;
  readonly wpCancel?: string | undefined;
  readonly crd?: string | undefined;
}

export type RedirectCheck =
  | { readonly ok: true; readonly redirect: TiloPayRedirect; readonly hashChecked: boolean }
  | {
      readonly ok: false;
      readonly reason:
        | 'missing_field'
        | 'wrong_order'
        | 'short_auth'
        | 'missing_hash'
        | 'bad_hash'
        | 'duplicate_param';
      readonly detail: string;
    };

/**
 * Reads and checks a redirect. Like the plugin, the hash is checked (and required) only when
 * `code` is 1, and an approval needs an `auth` of at least 6 characters; any other code is
 * returned unverified (hashChecked: false), which is harmless as it can only mean "not paid".
 * Even a valid redirect is a hint: /consult is the source of truth (spec §5).
 */
export function verifyTiloPayRedirect(
  query: URLSearchParams,
  credentials: TiloPayCredentials,
  order: TiloPayStoredOrder,
): RedirectCheck {
  // A repeated parameter is someone playing with the URL: URLSearchParams.get would take the first.
  for (const name of ['code', 'auth', 'order', 'tpt', 'tilopay-transaction', 'OrderHash']) {
    if (query.getAll(name).length > 1)
      return { ok: false, reason: 'duplicate_param', detail: `${name} appears twice` };
  }
  const code = query.get('code');
  const orderNumber = query.get('order');
  const tpt = query.get('tpt') ?? query.get('tilopay-transaction');
  if (code === null || orderNumber === null) {
    return { ok: false, reason: 'missing_field', detail: 'code and order are required' };
  }
  if (orderNumber !== order.orderNumber) {
    return { ok: false, reason: 'wrong_order', detail: 'the redirect names another order' };
  }
  const optional = (name: string) => query.get(name) ?? undefined;
  const redirect: TiloPayRedirect = {
    code,
    auth: query.get('auth') ?? '',
    order: orderNumber,
    tpt: tpt ?? '',
    description: optional('description'),
    orderHash: optional('OrderHash'),
    returnData: optional('returnData'),
    selectedMethod: optional('selected_method'),
    wpCancel: optional('wp_cancel'),
    crd: optional('crd'),
  };
  if (code !== '1') return { ok: true, redirect, hashChecked: false };
  if (!tpt) return { ok: false, reason: 'missing_field', detail: 'an approval needs tpt' };
  if (redirect.auth.length < 6) {
    return { ok: false, reason: 'short_auth', detail: 'an approval needs an auth code of 6 characters' };
  }
  if (!redirect.orderHash) return { ok: false, reason: 'missing_hash', detail: 'OrderHash is missing' };
  const valid = verifyOrderHash(redirect.orderHash, credentials, {
    tpt,
    orderNumber: order.orderNumber,
    amount: order.amount,
    currency: order.amount.currency,
    responseCode: code,
    auth: redirect.auth,
    email: order.email,
  });
  return valid
    ? { ok: true, redirect, hashChecked: true }
    : { ok: false, reason: 'bad_hash', detail: 'OrderHash does not match' };
}

/** The server-to-server notice (§7). */
export interface TiloPayWebhookNotice {
  readonly orderNumber: string;
  readonly code: string;
  readonly orderHash: string;
  readonly tpt: string;
  readonly auth: string;
}

export type WebhookParse =
  | { readonly ok: true; readonly notice: TiloPayWebhookNotice }
  | { readonly ok: false; readonly error: string };

/**
 * Parses the raw JSON body. The notice names only the orderNumber: the caller looks up what it
 * stored for it (amount, currency, email) and then calls verifyTiloPayWebhook.
 */
export function parseTiloPayWebhook(rawBody: Buffer | string): WebhookParse {
  let json: unknown;
  try {
    json = JSON.parse(typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8'));
  } catch {
    return { ok: false, error: 'not JSON' };
  }
  const parsed = webhookBodySchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return { ok: false, error: first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'bad body' };
  }
  const { orderNumber, code, orderHash, tpt, auth } = parsed.data;
  return { ok: true, notice: { orderNumber, code, orderHash, tpt, auth: auth ?? '' } };
}

/**
 * Verifies a notice against what we stored for its order. Unlike the redirect, the plugin checks
 * the hash for every code (answering 400 when wrong), so we do too. Replays cannot be detected
 * (no timestamp); `webhookNoticeId` gives the idempotency key the spec recommends.
 */
export function verifyTiloPayWebhook(
  notice: TiloPayWebhookNotice,
  credentials: TiloPayCredentials,
  order: TiloPayStoredOrder,
): { readonly ok: true } | { readonly ok: false; readonly reason: 'wrong_order' | 'bad_hash' } {
  if (notice.orderNumber !== order.orderNumber) return { ok: false, reason: 'wrong_order' };
  const valid = verifyOrderHash(notice.orderHash, credentials, {
    tpt: notice.tpt,
    orderNumber: order.orderNumber,
    amount: order.amount,
    currency: order.amount.currency,
    responseCode: notice.code,
    auth: notice.auth,
    email: order.email,
  });
  return valid ? { ok: true } : { ok: false, reason: 'bad_hash' };
}

/** `(orderNumber, tpt, code)`: a replayed notice has the same id and is a no-op (spec §7). */
export function webhookNoticeId(notice: Pick<TiloPayWebhookNotice, 'orderNumber' | 'tpt' | 'code'>): string {
  return `${notice.orderNumber}:${notice.tpt}:${notice.code}`;
}
