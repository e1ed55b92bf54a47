import type { z } from 'zod';
import type { Money } from '../../domain/money.js';
import { GatewayError } from '../gateway.js';
import {
  errorFromFetchFailure,
  errorFromResponse,
  inputError,
  protocolError,
  TENDOPAY_GATEWAY_ID,
} from './errors.js';
import { type CentavosPolicy, DESCRIPTION_MAX, moneyFromPesosText, pesosText } from './order.js';
import { orderResponseSchema, tokenResponseSchema, transactionSchema } from './schemas.js';
import { SIGNATURE_FIELD, verifyTendoPayFields, withSignature } from './signature.js';
import { type TendoPayOutcome, tendoPayOutcome } from './status.js';

/**
 * HTTP client for TendoPay's v2 API (shared/gateways/tendopay.md). Knows the OAuth flow, paths,
 * fields, signatures and error shapes; no business rules (which attempt, which TTL, what an
 * amount mismatch means are the adapter's).
 */

export const TENDOPAY_SANDBOX_BASE_URL = 'https://sandbox.tendopay.ph';
export const TENDOPAY_PRODUCTION_BASE_URL = 'https://app.tendopay.ph';

export const TENDOPAY_PATHS = {
  token: '/oauth/token',
  order: '/payments/api/v2/order',
  showTransaction: '/payments/api/v2/showTransaction',
  cancelPayment: '/payments/api/v2/cancelPayment',
} as const;

export interface TendoPayClientOptions {
  /** `https://sandbox.tendopay.ph` or `https://app.tendopay.ph`, no trailing path. */
  readonly baseUrl: string;
  /** From a V2 application under Managed Apps. */
  readonly clientId: string;
  /** OAuth secret and also the HMAC key of every x_signature. */
  readonly clientSecret: string;
  /** Per HTTP call, connect to last body byte. Default 15 s. */
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Milliseconds since the epoch; decides when the cached token has expired. */
  readonly now?: (() => number) | undefined;
  /** A token is renewed this long before expires_in runs out, so it never expires mid-flight. Default 60 s. */
  readonly tokenRefreshMarginMs?: number | undefined;
  /**
   * Refuse answers whose x_signature is missing or wrong (spec §3.2: "verify on the answer as
   * well"). Default true; the one knob to loosen if production turns out not to sign answers.
   */
  readonly verifyAnswerSignatures?: boolean | undefined;
}

export interface TendoPayAddress {
  readonly city?: string | undefined;
  readonly address1?: string | undefined;
  readonly postcode?: string | undefined;
}

/** One order = one attempt: a fresh merchantOrderId every time (see order.ts merchantOrderIdFor). */
export interface TendoPayOrderInput {
  readonly merchantOrderId: string;
  /** PHP; whole pesos go as "1500", centavos as `centavos` says (spec §8 leaves them open). */
  readonly amount: Money;
  /** Default 'refuse'. */
  readonly centavos?: CentavosPolicy | undefined;
  /** Where the buyer comes back with the signed result; must not carry tp_* query keys of its own. */
  readonly redirectUrl: string;
  /** At most 50 characters; tendoPayDescription() makes one. */
  readonly description?: string | undefined;
  readonly merchantUserId?: string | undefined;
  readonly billing?: TendoPayAddress | undefined;
  readonly shipping?: TendoPayAddress | undefined;
  /** Sent as a JSON string in tp_meta, as the SDK does. */
  readonly meta?: Readonly<Record<string, string>> | undefined;
}

export interface TendoPayOrder {
  readonly orderToken: string;
  /** The buyer's payment link: `{base}/payments/authorise/{orderToken}`. */
  readonly authorizeUrl: string;
  readonly merchantOrderId: string;
  /** tp_amount exactly as sent, e.g. "1500". */
  readonly amountText: string;
}

export interface TendoPayTransaction {
  readonly transactionId: string;
  /** TendoPay's value: PAID, FAILED, CANCELED. */
  readonly status: string;
  readonly outcome: TendoPayOutcome;
  /** Approved amount in centavos; may differ from what the order asked (spec §5). */
  readonly amount: Money;
  /** tp_amount as received, the text that was signed. */
  readonly amountText: string;
  readonly currency: string;
  readonly merchantOrderId?: string | undefined;
  readonly description?: string | undefined;
  readonly createdAt?: string | undefined;
  readonly updatedAt?: string | undefined;
}

export interface TendoPayClient {
  /** A valid bearer token: the cached one, or a new one from POST /oauth/token. */
  accessToken(): Promise<string>;
  /** POST /payments/api/v2/order → the authorize_url to send the buyer to. */
  createOrder(input: TendoPayOrderInput): Promise<TendoPayOrder>;
  /** POST /payments/api/v2/showTransaction: the state to act on, after any redirect or notification. */
  showTransaction(transactionId: string): Promise<TendoPayTransaction>;
  /**
   * POST /payments/api/v2/cancelPayment: voids a PAID purchase in full. Its answer is not
   * documented: the transaction when the body is one, otherwise undefined; re-read to be sure.
   */
  cancelPayment(transactionId: string): Promise<TendoPayTransaction | undefined>;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_REFRESH_MARGIN_MS = 60_000;

function addressFields(prefix: 'billing' | 'shipping', address: TendoPayAddress | undefined) {
  return {
    [`tp_${prefix}_city`]: address?.city,
    [`tp_${prefix}_address1`]: address?.address1,
    [`tp_${prefix}_postcode`]: address?.postcode,
  };
}

/** The tp_* fields of a create-order body, before signing. Exported for the sandbox tests. */
export function orderFields(input: TendoPayOrderInput): Record<string, string | undefined> {
  if (input.merchantOrderId.trim() === '' || input.merchantOrderId !== input.merchantOrderId.trim())
    throw inputError('merchantOrderId must be non-empty text without surrounding spaces');
  const description = input.description?.trim();
  if (description !== undefined && description.length > DESCRIPTION_MAX)
    throw inputError(`description is longer than ${DESCRIPTION_MAX} characters`);
  let redirect: URL | undefined;
  try {
    redirect = new URL(input.redirectUrl);
  } catch {
    // Left to TendoPay to refuse: its answer is the authority on what a valid URL is.
  }
  if (redirect) {
    for (const key of redirect.searchParams.keys()) {
      // The result comes back as query parameters, verified over every tp_* key received: ours
      // would be mixed into the signed set and break the check (or collide with TendoPay's).
      if (key.startsWith('tp_') || key === SIGNATURE_FIELD)
        throw inputError(`redirectUrl must not carry its own ${key} parameter`);
    }
  }
  const fields: Record<string, string | undefined> = {
    tp_amount: pesosText(input.amount, input.centavos),
    tp_currency: input.amount.currency,
    tp_merchant_order_id: input.merchantOrderId,
    tp_redirect_url: input.redirectUrl,
    tp_merchant_user_id: input.merchantUserId,
    tp_description: description === '' ? undefined : description,
    ...addressFields('billing', input.billing),
    ...addressFields('shipping', input.shipping),
    tp_meta: input.meta === undefined ? undefined : JSON.stringify(input.meta),
  };
  for (const [key, value] of Object.entries(fields)) if (value === undefined) delete fields[key];
  return fields;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAtMs: number;
}

export function createTendoPayClient(options: TendoPayClientOptions): TendoPayClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const refreshMarginMs = options.tokenRefreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
  const verifyAnswers = options.verifyAnswerSignatures ?? true;
  const secrets = [options.clientSecret];
  let cached: CachedToken | undefined;
  // Concurrent callers share one token request.
  let inflight: Promise<CachedToken> | undefined;

  /** One HTTP exchange; returns status and body text, or throws timeout/network. */
  async function send(
    path: string,
    headers: Record<string, string>,
    body: string,
  ): Promise<{ status: number; text: string }> {
    try {
      const response = await doFetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw errorFromFetchFailure(error, { method: 'POST', path, timeoutMs }, secrets);
    }
  }

  function parseJson(path: string, status: number, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw protocolError({ method: 'POST', path, status }, 'not JSON', secrets);
    }
  }

  function parseWith<S extends z.ZodType>(
    path: string,
    status: number,
    schema: S,
    json: unknown,
  ): z.output<S> {
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const problem = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'schema mismatch';
      throw protocolError({ method: 'POST', path, status }, problem, secrets);
    }
    return parsed.data;
  }

  async function fetchToken(): Promise<CachedToken> {
    const path = TENDOPAY_PATHS.token;
    const requestedAt = now();
    // JSON body as the SDK sends it (the docs' curl uses multipart; TendoPay takes both).
    const { status, text } = await send(
      path,
      { Accept: 'application/json', 'Content-Type': 'application/json' },
      JSON.stringify({
        grant_type: 'client_credentials',
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
    );
    if (status < 200 || status >= 300) {
      const error = errorFromResponse({ method: 'POST', path, status, bodyText: text }, secrets);
      // OAuth answers 400 (invalid_request/grant) or 401 (invalid_client): either way the
      // credentials or the app setup are wrong, which retrying will not fix.
      if (status >= 400 && status < 404 && error.kind !== 'auth')
        throw new GatewayError(TENDOPAY_GATEWAY_ID, 'auth', error.message, { status, cause: error });
      throw error;
    }
    const body = parseWith(path, status, tokenResponseSchema, parseJson(path, status, text));
    // Counted from before the request, so the token never outlives our idea of it.
    const lifetimeMs = body.expires_in * 1000;
    const margin = Math.min(refreshMarginMs, lifetimeMs / 2);
    return { token: body.access_token, expiresAtMs: requestedAt + lifetimeMs - margin };
  }

  async function token(): Promise<CachedToken> {
    if (cached && now() < cached.expiresAtMs) return cached;
    if (!inflight) {
      inflight = fetchToken().then(
        (fresh) => {
          cached = fresh;
          inflight = undefined;
          return fresh;
        },
        (error: unknown) => {
          inflight = undefined;
          throw error;
        },
      );
    }
    return inflight;
  }

  /**
   * A signed resource call. On 401 the token is dropped and the call retried once with a new one:
   * a 401 means nothing was applied, so the retry cannot duplicate an order.
   */
  async function call<S extends z.ZodType>(
    path: string,
    fields: Readonly<Record<string, string | undefined>>,
    schema: S,
    verifySignature: boolean,
  ): Promise<{ data: z.output<S>; raw: Record<string, unknown> }> {
    const body = JSON.stringify(withSignature(fields, options.clientSecret));
    for (let attempt = 1; ; attempt++) {
      const used = await token();
      const { status, text } = await send(
        path,
        {
          Authorization: `Bearer ${used.token}`,
          Accept: 'application/json',
          'Content-Type': 'application/json',
        },
        body,
      );
      if (status === 401 && attempt === 1) {
        if (cached === used) cached = undefined;
        continue;
      }
      if (status < 200 || status >= 300) {
        if (status === 401 && cached === used) cached = undefined;
        throw errorFromResponse({ method: 'POST', path, status, bodyText: text }, secrets);
      }
      const json = parseJson(path, status, text);
      if (typeof json !== 'object' || json === null || Array.isArray(json))
        throw protocolError({ method: 'POST', path, status }, 'not a JSON object', secrets);
      const raw = json as Record<string, unknown>;
      if (verifySignature && verifyAnswers) {
        const verdict = verifyTendoPayFields(raw, options.clientSecret);
        if (!verdict.ok)
          throw protocolError(
            { method: 'POST', path, status },
            `x_signature check failed (${verdict.reason})`,
            secrets,
          );
      }
      return { data: parseWith(path, status, schema, raw), raw };
    }
  }

  function transactionFrom(wire: z.output<typeof transactionSchema>): TendoPayTransaction {
    return {
      transactionId: wire.tp_transaction_id,
      status: wire.tp_transaction_status,
      outcome: tendoPayOutcome(wire.tp_transaction_status),
      // amountTextSchema allows at most two decimals, so centavos are exact.
      amount: { ...moneyFromPesosText(wire.tp_amount), currency: wire.tp_currency },
      amountText: wire.tp_amount,
      currency: wire.tp_currency,
      ...(wire.tp_merchant_order_id ? { merchantOrderId: wire.tp_merchant_order_id } : {}),
      ...(wire.tp_description ? { description: wire.tp_description } : {}),
      ...(wire.tp_created_at ? { createdAt: wire.tp_created_at } : {}),
      ...(wire.tp_updated_at ? { updatedAt: wire.tp_updated_at } : {}),
    };
  }

  function transactionIdField(transactionId: string): Record<string, string> {
    const id = transactionId.trim();
    if (id === '') throw inputError('transactionId is empty');
    return { tp_transaction_id: id };
  }

  return {
    accessToken: async () => (await token()).token,

    async createOrder(input) {
      const fields = orderFields(input);
      // The create answer carries no tp_* field but the token, and the SDK does not check a
      // signature on it; there is nothing worth signing there.
      const { data } = await call(TENDOPAY_PATHS.order, fields, orderResponseSchema, false);
      return {
        orderToken: data.tp_order_token,
        authorizeUrl: data.authorize_url,
        merchantOrderId: input.merchantOrderId,
        amountText: fields.tp_amount ?? '',
      };
    },

    async showTransaction(transactionId) {
      const { data } = await call(
        TENDOPAY_PATHS.showTransaction,
        transactionIdField(transactionId),
        transactionSchema,
        true,
      );
      return transactionFrom(data);
    },

    async cancelPayment(transactionId) {
      const { raw } = await call(
        TENDOPAY_PATHS.cancelPayment,
        transactionIdField(transactionId),
        // Undocumented answer: accept any object, then read it as a transaction when it is one.
        transactionSchema.partial(),
        false,
      );
      const asTransaction = transactionSchema.safeParse(raw);
      if (!asTransaction.success) return undefined;
      if (verifyAnswers && raw[SIGNATURE_FIELD] !== undefined) {
        const verdict = verifyTendoPayFields(raw, options.clientSecret);
        if (!verdict.ok)
          throw protocolError(
            { method: 'POST', path: TENDOPAY_PATHS.cancelPayment, status: 200 },
            `x_signature check failed (${verdict.reason})`,
            secrets,
          );
      }
      return transactionFrom(asTransaction.data);
    },
  };
}
