import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * TendoPay's `x_signature` (spec §4), used both ways: on every body we send and on everything
 * TendoPay sends us (API answers, the buyer's redirect, notifications).
 *
 *   keep keys starting with `tp_` → sort by byte order (PHP ksort) → concat `key + trim(value)`
 *   → lowercase hex HMAC-SHA256 keyed with the client secret.
 */

export const SIGNATURE_FIELD = 'x_signature';
const SIGNED_PREFIX = 'tp_';

/** A value as it may appear in a flat parameter map: query/form text, or a JSON scalar. */
export type SignableFields = Readonly<Record<string, unknown>>;

export class SignatureInputError extends Error {
  override name = 'SignatureInputError';
}

/**
 * PHP's trim() default set: space, \t, \n, \r, \0, \x0B. JavaScript's trim() also strips NBSP,
 * BOM and other Unicode spaces, which PHP keeps, and that would change the signed message.
 */
const PHP_TRIMMED = new Set([' ', '\t', '\n', '\r', '\u0000', '\u000b']);

export function phpTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && PHP_TRIMMED.has(text.charAt(start))) start++;
  while (end > start && PHP_TRIMMED.has(text.charAt(end - 1))) end--;
  return text.slice(start, end);
}

/**
 * The text PHP would concatenate for a value: null → "", true → "1", false → "". A JSON number
 * that arrives is printed in its shortest form, as PHP's float/int to string does. Objects and
 * arrays have no defined text (PHP prints "Array"), so they are refused rather than guessed.
 */
export function signedText(key: string, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return phpTrim(value);
  if (typeof value === 'boolean') return value ? '1' : '';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new SignatureInputError(`${key} is not a finite number`);
    return String(value);
  }
  throw new SignatureInputError(`${key} is not a scalar and cannot be signed`);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The exact message that is HMAC'd: every `tp_*` key present, sorted, `key + trim(value)`. */
export function signatureMessage(fields: SignableFields): string {
  return Object.keys(fields)
    .filter((key) => key.startsWith(SIGNED_PREFIX))
    .sort(byteOrder)
    .map((key) => `${key}${signedText(key, fields[key])}`)
    .join('');
}

/** Lowercase hex HMAC-SHA256 of signatureMessage(fields); the key is the secret's UTF-8 bytes. */
export function signTendoPayFields(fields: SignableFields, clientSecret: string): string {
  return createHmac('sha256', Buffer.from(clientSecret, 'utf8'))
    .update(Buffer.from(signatureMessage(fields), 'utf8'))
    .digest('hex');
}

/**
 * The body we send: our `tp_*` fields plus their `x_signature`. We never sign a float (PHP prints
 * `1500.0` in JSON but `1500` in the hash), so numbers must be safe integers; amounts go as text.
 */
export function withSignature<T extends Readonly<Record<string, string | number | undefined>>>(
  fields: T,
  clientSecret: string,
): Record<string, string | number> & { x_signature: string } {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new SignatureInputError(`${key} must be an integer or text, never a float`);
    }
    out[key] = value;
  }
  return { ...out, x_signature: signTendoPayFields(out, clientSecret) };
}

export type SignatureVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'missing_signature' | 'bad_signature' | 'unsignable_value' };

/**
 * Checks `x_signature` over every `tp_*` key actually present (never a fixed list: the redirect
 * adds `tp_message`, maybe `tp_amount`), in constant time.
 */
export function verifyTendoPayFields(fields: SignableFields, clientSecret: string): SignatureVerdict {
  const received = fields[SIGNATURE_FIELD];
  if (typeof received !== 'string' || received.trim() === '')
    return { ok: false, reason: 'missing_signature' };
  const hex = received.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return { ok: false, reason: 'bad_signature' };
  let expected: string;
  try {
    expected = signTendoPayFields(fields, clientSecret);
  } catch {
    return { ok: false, reason: 'unsignable_value' };
  }
  // Both are 32 bytes here, which timingSafeEqual requires.
  const match = timingSafeEqual(Buffer.from(hex.toLowerCase(), 'hex'), Buffer.from(expected, 'hex'));
  return match ? { ok: true } : { ok: false, reason: 'bad_signature' };
}

// ---- what TendoPay sends us ------------------------------------------------------------------

/** The result TendoPay sends with the buyer's redirect, or in a notification, once verified. */
export interface TendoPayCallback {
  readonly transactionId: string;
  /** TendoPay's own value (PAID, FAILED, CANCELED); map it with status.ts. */
  readonly status: string;
  readonly merchantOrderId?: string | undefined;
  readonly message?: string | undefined;
  /** The signed amount text, exactly as received (redirect: only sometimes present). */
  readonly amountText?: string | undefined;
  readonly currency?: string | undefined;
  /** Every `tp_*` field received, as text, for the record. */
  readonly fields: Readonly<Record<string, string>>;
}

export type CallbackRead =
  | { readonly ok: true; readonly callback: TendoPayCallback }
  | {
      readonly ok: false;
      readonly reason:
        | 'not_a_callback'
        | 'ambiguous_parameter'
        | 'unreadable_body'
        | 'missing_signature'
        | 'bad_signature'
        | 'unsignable_value';
      readonly detail?: string | undefined;
    };

function callbackFrom(fields: SignableFields, clientSecret: string): CallbackRead {
  const status = fields.tp_transaction_status;
  const id = fields.tp_transaction_id;
  // The SDK's isCallbackRequest: both must be present.
  if (
    status === undefined ||
    status === null ||
    status === '' ||
    id === undefined ||
    id === null ||
    id === ''
  )
    return { ok: false, reason: 'not_a_callback' };
  const verdict = verifyTendoPayFields(fields, clientSecret);
  if (!verdict.ok) return { ok: false, reason: verdict.reason };
  const text: Record<string, string> = {};
  for (const key of Object.keys(fields)) {
    if (key.startsWith(SIGNED_PREFIX)) text[key] = signedText(key, fields[key]);
  }
  const optional = (key: string) => (text[key] === undefined || text[key] === '' ? undefined : text[key]);
  return {
    ok: true,
    callback: {
      transactionId: text.tp_transaction_id ?? '',
      status: text.tp_transaction_status ?? '',
      merchantOrderId: optional('tp_merchant_order_id'),
      message: optional('tp_message'),
      amountText: optional('tp_amount'),
      currency: optional('tp_currency'),
      fields: text,
    },
  };
}

/**
 * Query string or form params as a flat map. A `tp_*` key given twice is refused: PHP's
 * $_REQUEST keeps the last one, URLSearchParams.get the first, and a signature over one of them
 * says nothing about the other.
 */
function flatParams(
  params: URLSearchParams,
): { readonly fields: Record<string, string> } | { readonly ambiguous: string } {
  const fields: Record<string, string> = {};
  for (const [key, value] of params) {
    if (Object.hasOwn(fields, key) && (key.startsWith(SIGNED_PREFIX) || key === SIGNATURE_FIELD))
      return { ambiguous: key };
    fields[key] = value;
  }
  return { fields };
}

function callbackFromParams(params: URLSearchParams, clientSecret: string): CallbackRead {
  const flat = flatParams(params);
  if ('ambiguous' in flat) return { ok: false, reason: 'ambiguous_parameter', detail: flat.ambiguous };
  return callbackFrom(flat.fields, clientSecret);
}

/**
 * The buyer's redirect back to tp_redirect_url (spec §5): pass the query (GET) merged with the
 * form body (POST), as PHP's $_REQUEST. Verify, then still confirm with showTransaction before
 * acting: the redirect travels through the buyer's browser and the approved amount may differ.
 */
export function verifyTendoPayRedirect(
  params: URLSearchParams | Readonly<Record<string, string>>,
  clientSecret: string,
): CallbackRead {
  const search = params instanceof URLSearchParams ? params : new URLSearchParams(params);
  return callbackFromParams(search, clientSecret);
}

/**
 * A notification POSTed by TendoPay (spec §6): the showTransaction object plus `x_signature`, as
 * JSON or form encoding. Reads the raw body, so JSON numbers keep the text JSON.parse gives them.
 */
export function verifyTendoPayNotification(
  rawBody: Buffer | string,
  contentType: string | undefined,
  clientSecret: string,
): CallbackRead {
  const text = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  const looksJson = /json/i.test(contentType ?? '') || /^\s*\{/.test(text);
  if (looksJson) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'unreadable_body', detail: 'not JSON' };
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      return { ok: false, reason: 'unreadable_body', detail: 'not a JSON object' };
    return callbackFrom(json as Record<string, unknown>, clientSecret);
  }
  return callbackFromParams(new URLSearchParams(text), clientSecret);
}

/**
 * Notifications have no id, timestamp or nonce and are resent up to 10 times; the same
 * transaction reaches a new status at most once, so (transaction, status) names one event.
 * Status is upper-cased so `paid` and `PAID` are the same event.
 */
export function notificationDedupeKey(input: {
  readonly transactionId: string | number;
  readonly status: string;
}): string {
  const id = String(input.transactionId).trim();
  const status = input.status.trim().toUpperCase();
  if (id === '' || status === '')
    throw new SignatureInputError('a dedupe key needs a transaction id and a status');
  return `tendopay:${id}:${status}`;
}
