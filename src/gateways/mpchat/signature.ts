import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * MPChat's two HMAC-SHA256 signatures (spec §2 and §5):
 * - request auth: `Authorization: Bearer {key_id}:{ts}:{hex}` with hex over `key_id + "." + ts`
 *   (documented, with a worked example);
 * - webhook: `X-Merchant-Signature: t=<ts>,v1=<hex>`, whose signed string was cut off in the docs.
 *   `t + "." + raw_body` is the spec's assumption, so the layout is an option.
 */

/** ±5 minutes, for both the API (documented) and webhooks (assumed the same). */
export const MPCHAT_CLOCK_WINDOW_SECONDS = 300;

export const MPCHAT_SIGNATURE_HEADER = 'x-merchant-signature';
export const MPCHAT_EVENT_HEADER = 'x-webhook-event';

function hmacHex(key: string | Buffer, parts: readonly (string | Buffer)[]): string {
  const hmac = createHmac('sha256', key);
  for (const part of parts) hmac.update(part);
  return hmac.digest('hex');
}

/** Constant-time equality of two lowercase hex digests; false on any length or format difference. */
export function hexDigestsEqual(expectedHex: string, receivedHex: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(expectedHex) || !/^[0-9a-fA-F]{64}$/.test(receivedHex)) return false;
  // Both are 32 bytes here, which timingSafeEqual requires.
  return timingSafeEqual(Buffer.from(expectedHex, 'hex'), Buffer.from(receivedHex.toLowerCase(), 'hex'));
}

// ---- request auth (§2) ------------------------------------------------------------------------

/** Unix seconds as the header carries them. */
export function unixSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

/**
 * lowercase_hex(HMAC_SHA256(key = secret as its UTF-8 text, msg = key_id + "." + ts)). The secret
 * is used as given, not hex-decoded, although the docs describe it as 64 hex characters.
 */
export function signRequest(keyId: string, secret: string, timestamp: number | string): string {
  return hmacHex(Buffer.from(secret, 'utf8'), [`${keyId}.${timestamp}`]);
}

export function authorizationHeader(keyId: string, secret: string, now: Date): string {
  const ts = unixSeconds(now);
  return `Bearer ${keyId}:${ts}:${signRequest(keyId, secret, ts)}`;
}

export type ParsedAuthorization =
  | { readonly ok: true; readonly keyId: string; readonly timestamp: number; readonly signature: string }
  | { readonly ok: false; readonly reason: 'missing_authorization' | 'invalid_format' };

/** Splits `Bearer {key_id}:{ts}:{sig}`; key ids never contain ':' (`mk_test_…`). */
export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing_authorization' };
  const match = /^Bearer ([^:\s]+):(\d{1,12}):([0-9a-fA-F]+)$/.exec(header.trim());
  if (!match?.[1] || !match[2] || !match[3]) return { ok: false, reason: 'invalid_format' };
  return { ok: true, keyId: match[1], timestamp: Number(match[2]), signature: match[3] };
}

export type RequestAuthCheck =
  | { readonly ok: true; readonly keyId: string }
  | {
      readonly ok: false;
      readonly reason:
        | 'missing_authorization'
        | 'invalid_format'
        | 'unknown_key'
        | 'inactive_key'
        | 'invalid_signature'
        | 'stale_timestamp';
    };

/**
 * The server side of §2, for the sandbox. Checks run in the order of the docs' error table; the
 * signature before the clock, so a forged header never learns whether its timestamp was fresh.
 */
export function verifyRequestAuth(input: {
  readonly header: string | undefined;
  readonly lookupKey: (keyId: string) => { readonly secret: string; readonly active: boolean } | undefined;
  readonly now: Date;
  readonly windowSeconds?: number;
}): RequestAuthCheck {
  const parsed = parseAuthorization(input.header);
  if (!parsed.ok) return parsed;
  const key = input.lookupKey(parsed.keyId);
  if (!key) return { ok: false, reason: 'unknown_key' };
  if (!key.active) return { ok: false, reason: 'inactive_key' };
  const expected = signRequest(parsed.keyId, key.secret, parsed.timestamp);
  if (!hexDigestsEqual(expected, parsed.signature)) return { ok: false, reason: 'invalid_signature' };
  const window = input.windowSeconds ?? MPCHAT_CLOCK_WINDOW_SECONDS;
  if (Math.abs(unixSeconds(input.now) - parsed.timestamp) > window)
    return { ok: false, reason: 'stale_timestamp' };
  return { ok: true, keyId: parsed.keyId };
}

// ---- webhooks (§5) ----------------------------------------------------------------------------

/**
 * What the webhook HMAC covers. The docs' "Verifying signatures" section was unreadable:
 * - `timestamp.body`: `t + "." + raw_body` (Stripe style), the spec's assumption and the default;
 * - `body`: the raw body alone (the `t=` then only serves the freshness check);
 * - `timestamp_body`: `t + raw_body` with no separator.
 */
export const MPCHAT_WEBHOOK_LAYOUTS = ['timestamp.body', 'body', 'timestamp_body'] as const;
export type MpChatWebhookLayout = (typeof MPCHAT_WEBHOOK_LAYOUTS)[number];

/**
 * How the merchant webhook secret becomes the HMAC key. `utf8` (as given, like the API secret) is
 * the default; `hex` decodes a hex secret to bytes, in case the dashboard's secret is meant that way.
 */
export type MpChatWebhookKeyEncoding = 'utf8' | 'hex';

export interface MpChatWebhookSigningOptions {
  readonly layout?: MpChatWebhookLayout | undefined;
  readonly keyEncoding?: MpChatWebhookKeyEncoding | undefined;
}

function webhookKey(secret: string, encoding: MpChatWebhookKeyEncoding): Buffer {
  if (encoding === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(secret)) throw new TypeError('the webhook secret is not hex');
    return Buffer.from(secret, 'hex');
  }
  return Buffer.from(secret, 'utf8');
}

function signedParts(
  layout: MpChatWebhookLayout,
  timestamp: string,
  rawBody: Buffer | string,
): (string | Buffer)[] {
  switch (layout) {
    case 'timestamp.body':
      return [`${timestamp}.`, rawBody];
    case 'body':
      return [rawBody];
    case 'timestamp_body':
      return [timestamp, rawBody];
  }
}

/** Lowercase hex HMAC of one delivery, over the exact bytes sent. */
export function signWebhookPayload(
  rawBody: Buffer | string,
  timestamp: number | string,
  secret: string,
  options: MpChatWebhookSigningOptions = {},
): string {
  const key = webhookKey(secret, options.keyEncoding ?? 'utf8');
  return hmacHex(key, signedParts(options.layout ?? 'timestamp.body', String(timestamp), rawBody));
}

/** `t=<ts>,v1=<hex>`, the X-Merchant-Signature value. */
export function webhookSignatureHeader(
  rawBody: Buffer | string,
  timestamp: number | string,
  secret: string,
  options: MpChatWebhookSigningOptions = {},
): string {
  return `t=${timestamp},v1=${signWebhookPayload(rawBody, timestamp, secret, options)}`;
}

export type ParsedWebhookSignature =
  | { readonly ok: true; readonly timestamp: string; readonly signatures: readonly string[] }
  | { readonly ok: false; readonly reason: 'missing_signature' | 'malformed_signature' };

/**
 * Reads `t=…,v1=…`. Several `v1=` are accepted (any may match: the convention for secret
 * rotation, unconfirmed for MPChat); other schemes (`v0=`…) are ignored; exactly one `t=`.
 */
export function parseWebhookSignature(header: string | undefined): ParsedWebhookSignature {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing_signature' };
  const timestamps: string[] = [];
  const signatures: string[] = [];
  for (const item of header.split(',')) {
    const at = item.indexOf('=');
    if (at <= 0) return { ok: false, reason: 'malformed_signature' };
    const key = item.slice(0, at).trim();
    const value = item.slice(at + 1).trim();
    if (key === 't') timestamps.push(value);
    else if (key === 'v1') signatures.push(value);
  }
  const [timestamp] = timestamps;
  if (timestamps.length !== 1 || timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return { ok: false, reason: 'malformed_signature' };
  }
  if (signatures.length === 0) return { ok: false, reason: 'malformed_signature' };
  return { ok: true, timestamp, signatures };
}

export type WebhookSignatureCheck =
  | { readonly ok: true; readonly timestamp: number }
  | {
      readonly ok: false;
      readonly reason: 'missing_signature' | 'malformed_signature' | 'stale_timestamp' | 'bad_signature';
    };

/**
 * Checks a delivery on the raw bytes received (never re-serialised JSON): the `t=` within the
 * window first, so an old replay is refused outright, then the HMAC in constant time.
 */
export function verifyWebhookSignature(input: {
  readonly rawBody: Buffer | string;
  readonly header: string | undefined;
  readonly secret: string;
  readonly now: Date;
  readonly toleranceSeconds?: number | undefined;
  readonly signing?: MpChatWebhookSigningOptions | undefined;
}): WebhookSignatureCheck {
  const parsed = parseWebhookSignature(input.header);
  if (!parsed.ok) return parsed;
  const timestamp = Number(parsed.timestamp);
  const window = input.toleranceSeconds ?? MPCHAT_CLOCK_WINDOW_SECONDS;
  if (Math.abs(unixSeconds(input.now) - timestamp) > window) return { ok: false, reason: 'stale_timestamp' };
  const expected = signWebhookPayload(input.rawBody, parsed.timestamp, input.secret, input.signing);
  // Compare against every v1 without stopping early, so timing does not tell which one matched.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (hexDigestsEqual(expected, candidate)) matched = true;
  }
  return matched ? { ok: true, timestamp } : { ok: false, reason: 'bad_signature' };
}
