import type { z } from 'zod';
import { errorFromFetchFailure, errorFromResponse, protocolError } from './errors.js';
import {
  type MpChatOrder,
  type MpChatOrderPage,
  type MpChatWebhookDelivery,
  type MpChatWebhookEndpoint,
  orderPageSchema,
  orderSchema,
  webhookDeliveryListSchema,
  webhookEndpointListSchema,
  webhookEndpointSchema,
} from './schemas.js';
import { authorizationHeader } from './signature.js';

/**
 * HTTP client for MPChat's MP Merchant API (spec: shared/gateways/mpchat.md). Knows paths,
 * auth and wire shapes; no business rules (status.ts decides what an order means).
 */

export interface MpChatClientOptions {
  /**
   * `https://api.mpchat.com` or `https://api-sandbox.mpchat.com`. A trailing `/v1` is accepted
   * too: the docs write the base both ways (§1), the paths always carry `/v1`.
   */
  readonly baseUrl: string;
  /** `mk_live_…` / `mk_test_…`: the key decides test or live (§1). */
  readonly keyId: string;
  readonly secret: string;
  /** Per call, connect to last body byte. Default 15 s. */
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** Signs each request with this clock; tests move it to hit the ±5 min window. */
  readonly now?: (() => Date) | undefined;
}

export type MpChatNetwork = 'TRC20' | 'ERC20';

/** Body of POST /v1/orders (§3.1). */
export interface MpChatCreateOrderInput {
  /** USDT in major units as decimal text, e.g. "99.99"; > 0. */
  readonly amount: string;
  readonly network: MpChatNetwork;
  /**
   * Derived from the link reference: a retry after a timeout sends the same key and gets the
   * original order back (§7); the same key with other parameters is a 409 conflict.
   */
  readonly idempotencyKey: string;
  readonly description?: string | undefined;
  /** Returned in webhook events; carries the Odoo database and invoice. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  readonly returnUrl?: string | undefined;
  readonly webhookUrl?: string | undefined;
  /** Fraction (0.01 = 1 %), not a percent number; MPChat's default when omitted is 0.01. */
  readonly tolerancePercent?: number | undefined;
}

export interface MpChatOrderQuery {
  /** The docs give limit/offset and page/per_page (§3.4); we send limit/offset. */
  readonly limit?: number | undefined;
  readonly offset?: number | undefined;
}

export interface MpChatCallOptions {
  /** Aborts the call early (shutdown); combined with the client's timeout. */
  readonly signal?: AbortSignal | undefined;
}

export interface MpChatClient {
  /** POST /v1/orders → 201 (a replayed idempotency_key may answer 200): the order. */
  createOrder(input: MpChatCreateOrderInput, call?: MpChatCallOptions): Promise<MpChatOrder>;
  /**
   * The same call, with the HTTP status: 201 is a new order; 200 is, in the sandbox and as we
   * read the docs, the original order of a replayed idempotency_key [inferred].
   */
  submitOrder(
    input: MpChatCreateOrderInput,
    call?: MpChatCallOptions,
  ): Promise<{ readonly order: MpChatOrder; readonly httpStatus: number }>;
  /** GET /v1/orders/{id}: the source of truth before acting (never return_url). */
  getOrder(id: string, call?: MpChatCallOptions): Promise<MpChatOrder>;
  /** GET /v1/orders?limit&offset. */
  listOrders(query?: MpChatOrderQuery, call?: MpChatCallOptions): Promise<MpChatOrderPage>;
  /** POST /v1/webhooks {url, events} → 201. */
  createWebhook(
    input: { readonly url: string; readonly events: readonly string[] },
    call?: MpChatCallOptions,
  ): Promise<MpChatWebhookEndpoint>;
  /** GET /v1/webhooks. */
  listWebhooks(call?: MpChatCallOptions): Promise<MpChatWebhookEndpoint[]>;
  /** GET /v1/webhooks/{id}/deliveries?limit. */
  listWebhookDeliveries(
    id: string,
    query?: { readonly limit?: number | undefined },
    call?: MpChatCallOptions,
  ): Promise<MpChatWebhookDelivery[]>;
}

const DEFAULT_TIMEOUT_MS = 15_000;

/** The JSON body of POST /v1/orders; only the fields we set, with the documented names. */
export function createOrderBody(input: MpChatCreateOrderInput): Record<string, unknown> {
  return {
    amount: input.amount,
    currency: 'USDT',
    network: input.network,
    idempotency_key: input.idempotencyKey,
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    ...(input.returnUrl === undefined ? {} : { return_url: input.returnUrl }),
    ...(input.webhookUrl === undefined ? {} : { webhook_url: input.webhookUrl }),
    ...(input.tolerancePercent === undefined ? {} : { tolerance_percent: input.tolerancePercent }),
  };
}

function query(params: Record<string, number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

export function createMpChatClient(options: MpChatClientOptions): MpChatClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());
  // The key id is public but still kept out of messages; the signature changes every second.
  const secrets = [options.secret, options.keyId];

  async function call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body: unknown,
    callOptions: MpChatCallOptions = {},
  ): Promise<z.output<S>> {
    return (await callWithStatus(method, path, schema, body, callOptions)).data;
  }

  async function callWithStatus<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body: unknown,
    callOptions: MpChatCallOptions = {},
  ): Promise<{ data: z.output<S>; status: number }> {
    const headers: Record<string, string> = {
      // Signed per request: the signature covers only key id and timestamp (§2).
      Authorization: authorizationHeader(options.keyId, options.secret, now()),
      Accept: 'application/json',
    };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const logPath = path.split('?')[0] ?? path;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callOptions.signal ? AbortSignal.any([timeout, callOptions.signal]) : timeout;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${baseUrl}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal,
        redirect: 'manual',
      });
      text = await response.text();
    } catch (error) {
      throw errorFromFetchFailure(
        error,
        {
          method,
          path: logPath,
          timeoutMs,
          callerAborted: callOptions.signal?.aborted === true && !timeout.aborted,
        },
        secrets,
      );
    }
    if (response.status < 200 || response.status >= 300) {
      throw errorFromResponse(
        { method, path: logPath, status: response.status, headers: response.headers, bodyText: text },
        secrets,
        now().getTime(),
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw protocolError({ method, path: logPath, status: response.status }, 'not JSON', secrets);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      const problem = first ? `${first.path.join('.') || '(root)'}: ${first.message}` : 'schema mismatch';
      throw protocolError({ method, path: logPath, status: response.status }, problem, secrets);
    }
    return { data: parsed.data, status: response.status };
  }

  const enc = encodeURIComponent;

  return {
    createOrder: (input, callOptions) =>
      call('POST', '/v1/orders', orderSchema, createOrderBody(input), callOptions),
    submitOrder: async (input, callOptions) => {
      const answer = await callWithStatus(
        'POST',
        '/v1/orders',
        orderSchema,
        createOrderBody(input),
        callOptions,
      );
      return { order: answer.data, httpStatus: answer.status };
    },
    getOrder: (id, callOptions) => call('GET', `/v1/orders/${enc(id)}`, orderSchema, undefined, callOptions),
    listOrders: (page = {}, callOptions) =>
      call(
        'GET',
        `/v1/orders${query({ limit: page.limit, offset: page.offset })}`,
        orderPageSchema,
        undefined,
        callOptions,
      ),
    createWebhook: (input, callOptions) =>
      call(
        'POST',
        '/v1/webhooks',
        webhookEndpointSchema,
        { url: input.url, events: input.events },
        callOptions,
      ),
    listWebhooks: (callOptions) =>
      call('GET', '/v1/webhooks', webhookEndpointListSchema, undefined, callOptions),
    listWebhookDeliveries: (id, page = {}, callOptions) =>
      call(
        'GET',
        `/v1/webhooks/${enc(id)}/deliveries${query({ limit: page.limit })}`,
        webhookDeliveryListSchema,
        undefined,
        callOptions,
      ),
  };
}
