import type { z } from 'zod';
import type { Money } from '../../domain/money.js';
import { GatewayError } from '../gateway.js';
import { TiloPayAmountError, tiloPayAmountText } from './amount.js';
import {
  errorFromBodyType,
  errorFromFetchFailure,
  errorFromResponse,
  isTiloPayErrorType,
  protocolError,
  TILOPAY_GATEWAY_ID,
  TILOPAY_TYPE_CREATED,
  TILOPAY_TYPE_OK,
} from './errors.js';
import {
  consultResponseSchema,
  loginResponseSchema,
  processPaymentResponseSchema,
  type TiloPayConsultEntry,
} from './schemas.js';

/**
 * HTTP client for TiloPay's API (spec: shared/gateways/tilopay.md): login for a bearer token,
 * processPayment for a hosted page, consult for an order's attempts. Knows paths, headers and wire
 * shapes; no business rules beyond reading TiloPay's own `type` codes.
 */

/** One host serves test and live; the credentials decide (spec §1). */
export const TILOPAY_DEFAULT_BASE_URL = 'https://app.tilopay.com/api/v1';

export interface TiloPayClientOptions {
  /** Default `https://app.tilopay.com/api/v1`; the sandbox's `apiBaseUrl` in tests. */
  readonly baseUrl?: string | undefined;
  readonly apiKey: string;
  readonly apiUser: string;
  readonly apiPassword: string;
  /** Per call, connect to last body byte. Default 30 s (the plugin allows 300 s). */
  readonly timeoutMs?: number | undefined;
  /**
   * Token lifetime when login does not say `expires_in` (only access_token is certain). Default
   * 1 h: a wrong guess costs one 401 and one re-login.
   */
  readonly tokenFallbackTtlMs?: number | undefined;
  /** `platform` of processPayment: free text naming the caller. Default `odoo-paylink`. */
  readonly platform?: string | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Clock for token expiry; default `Date.now`. */
  readonly now?: (() => number) | undefined;
}

/** Billing details; TiloPay marks them required, integrations put placeholders when lacking. */
export interface TiloPayBillTo {
  readonly firstName: string;
  readonly lastName: string;
  /** The payer's e-mail. An input of the OrderHash: store exactly what was sent. */
  readonly email: string;
  readonly address?: string | undefined;
  readonly address2?: string | undefined;
  readonly city?: string | undefined;
  /** ISO 3166-2 subdivision, e.g. `CR-SJ` or `SJ`. */
  readonly state?: string | undefined;
  readonly zipPostCode?: string | undefined;
  /** ISO 3166-1 alpha-2, e.g. `CR`. */
  readonly country?: string | undefined;
  readonly telephone?: string | undefined;
}

export interface TiloPayProcessPaymentInput {
  /** Unique per attempt (`<invoice reference>-<n>`, spec §9): TiloPay has no idempotency. */
  readonly orderNumber: string;
  /** Sent as two-decimal major units; the currency is `amount.currency`. */
  readonly amount: Money;
  /** Our return URL; the buyer comes back here with GET parameters (§5). */
  readonly redirect: string;
  readonly billTo: TiloPayBillTo;
  /** Opaque text echoed on the redirect; TiloPay recommends base64. */
  readonly returnData?: string | undefined;
  /** Default true: authorize and capture. False = authorize only, captured later. */
  readonly capture?: boolean | undefined;
  readonly lang?: string | undefined;
}

export interface TiloPayHostedPayment {
  readonly orderNumber: string;
  /** The hosted payment page ("payment link") to send the buyer to. */
  readonly url: string;
  /** `100` normally, `200` for a "direct approval" [3p]. */
  readonly type: string;
}

/** One attempt on our orderNumber, as /consult lists it. */
export interface TiloPayAttempt {
  /** As TiloPay wrote it, possibly with a merchant prefix (`PFC024851-<ours>`). */
  readonly orderNumber: string;
  readonly code: string | undefined;
  /** Decimal text in major units, as TiloPay sent it. */
  readonly amount: string | undefined;
  readonly currency: string | undefined;
  readonly description: string | undefined;
  readonly auth: string | undefined;
  /** TiloPay's transaction id (`tpt`, else `id_tilopay`). */
  readonly transactionId: string | undefined;
}

export interface TiloPayConsult {
  readonly orderNumber: string;
  /** The attempts on this orderNumber, in TiloPay's order; empty when none was made yet. */
  readonly attempts: readonly TiloPayAttempt[];
  /** Entries whose orderNumber is not ours (neither equal nor `…-<ours>`): dropped, counted. */
  readonly foreignEntries: number;
}

export interface TiloPayToken {
  readonly accessToken: string;
  /** Epoch ms after which the client logs in again before a call. */
  readonly expiresAt: number;
}

export interface TiloPayClient {
  /** POST /login, always (the cache is refreshed). Bad credentials → `auth`. */
  login(): Promise<TiloPayToken>;
  /** POST /processPayment → the hosted page URL. */
  processPayment(input: TiloPayProcessPaymentInput): Promise<TiloPayHostedPayment>;
  /** POST /consult: every attempt on the orderNumber; the source of truth for its state. */
  consult(orderNumber: string): Promise<TiloPayConsult>;
  /** Drops the cached token (after a credential change). */
  forgetToken(): void;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_TOKEN_TTL_MS = 60 * 60 * 1000;
/** Log in again this long before the announced expiry, so a token never dies mid-call. */
const TOKEN_EXPIRY_MARGIN_MS = 60_000;

/**
 * Whether a /consult entry is for our orderNumber: equal, or ours behind a merchant prefix joined
 * by "-" (spec §4, §12.8). A bare suffix would let `INV-1` claim `XINV-1`'s entries.
 */
export function isOurOrderNumber(entryOrderNumber: string | undefined, ours: string): boolean {
  if (entryOrderNumber === undefined) return false;
  return entryOrderNumber === ours || entryOrderNumber.endsWith(`-${ours}`);
}

function attemptOf(entry: TiloPayConsultEntry): TiloPayAttempt {
  return {
    orderNumber: entry.orderNumber ?? '',
    code: entry.code ?? undefined,
    amount: entry.amount ?? undefined,
    currency: entry.currency ?? undefined,
    description: entry.response ?? undefined,
    auth: entry.auth,
    transactionId: entry.tpt ?? entry.id_tilopay,
  };
}

function problemOf(error: z.ZodError): string {
  const first = error.issues[0];
  return first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'schema mismatch';
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

export function createTiloPayClient(options: TiloPayClientOptions): TiloPayClient {
  const baseUrl = (options.baseUrl ?? TILOPAY_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fallbackTtlMs = options.tokenFallbackTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const platform = options.platform ?? 'odoo-paylink';
  // The token joins the list once known: it is a credential too.
  const secrets: string[] = [options.apiKey, options.apiPassword, options.apiUser];

  let token: TiloPayToken | undefined;
  // Concurrent calls that find no token share one login.
  let loggingIn: Promise<TiloPayToken> | undefined;

  async function send(path: string, body: unknown, bearer: string | undefined): Promise<Answer> {
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'Content-Type': 'application/json',
    };
    if (bearer !== undefined) headers.Authorization = `bearer ${bearer}`;
    try {
      const response = await doFetch(`${baseUrl}${path}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      throw errorFromFetchFailure(error, { method: 'POST', path, timeoutMs }, secrets);
    }
  }

  function parseJson<S extends z.ZodType>(path: string, answer: Answer, schema: S): z.output<S> {
    const context = { method: 'POST', path, status: answer.status };
    let json: unknown;
    try {
      json = JSON.parse(answer.text);
    } catch {
      throw protocolError(context, 'not JSON', secrets);
    }
    // An error `type` can come with HTTP 200 (spec §3, §10): read it before the success schema.
    if (typeof json === 'object' && json !== null && 'type' in json) {
      const type = String((json as { type: unknown }).type).trim();
      if (isTiloPayErrorType(type)) {
        const message = (json as { message?: unknown }).message;
        throw errorFromBodyType(context, type, typeof message === 'string' ? message : undefined, secrets);
      }
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw protocolError(context, problemOf(parsed.error), secrets);
    return parsed.data;
  }

  async function doLogin(): Promise<TiloPayToken> {
    // Postman's field name; the plugin's `email` works too, per the spec. The sandbox takes both.
    const answer = await send(
      '/login',
      { apiuser: options.apiUser, password: options.apiPassword },
      undefined,
    );
    if (answer.status < 200 || answer.status >= 300) {
      throw errorFromResponse(
        { method: 'POST', path: '/login', ...answer, bodyText: answer.text },
        secrets,
        now(),
      );
    }
    const body = parseJson('/login', answer, loginResponseSchema);
    secrets.push(body.access_token);
    const ttlMs = body.expires_in != null && body.expires_in > 0 ? body.expires_in * 1000 : fallbackTtlMs;
    const issuedAt = now();
    const fresh = {
      accessToken: body.access_token,
      expiresAt: issuedAt + Math.max(0, ttlMs - TOKEN_EXPIRY_MARGIN_MS),
    };
    token = fresh;
    return fresh;
  }

  function login(): Promise<TiloPayToken> {
    if (!loggingIn) {
      loggingIn = doLogin().finally(() => {
        loggingIn = undefined;
      });
    }
    return loggingIn;
  }

  async function currentToken(): Promise<TiloPayToken> {
    if (token && now() < token.expiresAt) return token;
    token = undefined;
    return login();
  }

  /** An authenticated call: one re-login and one retry on HTTP 401, never more. */
  async function authed<S extends z.ZodType>(path: string, body: unknown, schema: S): Promise<z.output<S>> {
    let used = await currentToken();
    let answer = await send(path, body, used.accessToken);
    if (answer.status === 401) {
      // Another call may already have replaced the token that was refused.
      if (token === used) token = undefined;
      used = await currentToken();
      answer = await send(path, body, used.accessToken);
      if (answer.status === 401) token = undefined;
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw errorFromResponse({ method: 'POST', path, ...answer, bodyText: answer.text }, secrets, now());
    }
    return parseJson(path, answer, schema);
  }

  return {
    login,

    async processPayment(input) {
      let amount: string;
      try {
        amount = tiloPayAmountText(input.amount);
      } catch (error) {
        if (!(error instanceof TiloPayAmountError)) throw error;
        throw new GatewayError(TILOPAY_GATEWAY_ID, 'validation', `TiloPay cannot charge ${error.message}`);
      }
      const bill = input.billTo;
      // All values are strings in the official example; empty strings where we have nothing.
      const body: Record<string, string> = {
        redirect: input.redirect,
        key: options.apiKey,
        amount,
        currency: input.amount.currency,
        orderNumber: input.orderNumber,
        capture: input.capture === false ? '0' : '1',
        subscription: '0',
        platform,
        billToFirstName: bill.firstName,
        billToLastName: bill.lastName,
        billToAddress: bill.address ?? '',
        billToAddress2: bill.address2 ?? '',
        billToCity: bill.city ?? '',
        billToState: bill.state ?? '',
        billToZipPostCode: bill.zipPostCode ?? '',
        billToCountry: bill.country ?? '',
        billToTelephone: bill.telephone ?? '',
        billToEmail: bill.email,
        // V1 (the default) has an unconfirmed formula; signature.ts implements V2 only.
        hashVersion: 'V2',
      };
      if (input.returnData !== undefined) body.returnData = input.returnData;
      if (input.lang !== undefined) body.lang = input.lang;
      const answer = await authed('/processPayment', body, processPaymentResponseSchema);
      const context = { method: 'POST', path: '/processPayment' };
      if (answer.type !== TILOPAY_TYPE_CREATED && answer.type !== TILOPAY_TYPE_OK) {
        throw protocolError(context, `unknown type ${JSON.stringify(answer.type)}`, secrets);
      }
      if (!answer.url) throw protocolError(context, `type ${answer.type} without a url`, secrets);
      let url: URL;
      try {
        url = new URL(answer.url);
      } catch {
        throw protocolError(context, 'url is not an absolute URL', secrets);
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw protocolError(context, `url has scheme ${url.protocol}`, secrets);
      }
      return { orderNumber: input.orderNumber, url: answer.url, type: answer.type };
    },

    async consult(orderNumber) {
      const answer = await authed(
        '/consult',
        { key: options.apiKey, orderNumber, merchantId: '' },
        consultResponseSchema,
      );
      if (answer.type !== TILOPAY_TYPE_OK) {
        throw protocolError(
          { method: 'POST', path: '/consult' },
          `unknown type ${JSON.stringify(answer.type)}`,
          secrets,
        );
      }
      // "No attempt yet" is an empty array; a missing one is not the same statement.
      if (!Array.isArray(answer.response)) {
        throw protocolError(
          { method: 'POST', path: '/consult' },
          'type 200 without a response array',
          secrets,
        );
      }
      const entries = answer.response;
      const ours = entries.filter((entry) => isOurOrderNumber(entry.orderNumber, orderNumber));
      return { orderNumber, attempts: ours.map(attemptOf), foreignEntries: entries.length - ours.length };
    },

    forgetToken() {
      token = undefined;
    },
  };
}
