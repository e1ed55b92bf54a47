import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signTendoPayFields, verifyTendoPayFields } from '../../gateways/tendopay/signature.js';
import {
  encodeNotification,
  type NotificationAttempt,
  type NotificationEncoding,
  Notifier,
} from './notifications.js';
import { authorisePage, notUsablePage, postRedirectPage } from './pages.js';
import {
  ApiError,
  canonicalAmount,
  centavosOf,
  isAmountText,
  type OrderState,
  type PayOutcome,
  type SandboxOrder,
  SandboxState,
  type SandboxTransaction,
} from './state.js';

/**
 * A loopback TendoPay v2 server for tests and sandbox mode (shared/gateways/tendopay.md): the
 * OAuth token endpoint, the v2 payment API with x_signature checks both ways, the hosted
 * authorise page, the signed redirect back to tp_redirect_url, notifications, order TTL and
 * fault knobs. node:http rather than fastify because the faults need raw socket control.
 */

export const TENDOPAY_SANDBOX_CLIENT_ID = '9a1f3c52-0b7e-4c1a-8f0e-tendopay-sbx';
export const TENDOPAY_SANDBOX_CLIENT_SECRET = 'tp_sandbox_client_secret_5c8e1f0a2b4d';

export interface TendoPaySandboxOptions {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly clientId?: string | undefined;
  readonly clientSecret?: string | undefined;
  /** expires_in of issued tokens. Default 604799 (the docs' example). */
  readonly tokenTtlSeconds?: number | undefined;
  /** Unused orders stop being payable after this long. TendoPay documents none; default 24 h. */
  readonly orderTtlMs?: number | undefined;
  readonly now?: (() => Date) | undefined;
  /** The Managed Apps notification_url; none means no notifications, as at TendoPay. */
  readonly notificationUrl?: string | undefined;
  readonly notificationEncoding?: NotificationEncoding | undefined;
  /** Default 60 000 (1 minute, spec §6). */
  readonly notificationRetryDelayMs?: number | undefined;
  /** Attempts in all. Default 11: the first and up to 10 resends. */
  readonly notificationMaxAttempts?: number | undefined;
  /** How the buyer is sent back: a 303 with the query (default) or an auto-submitting POST form. */
  readonly redirectMethod?: 'GET' | 'POST' | undefined;
  /** Serve the seed-only endpoints (showTransactionByOrderId, showOrder, cancelPaymentByOrderId). */
  readonly seedEndpoints?: boolean | undefined;
  /** Refuse a reused tp_merchant_order_id with 422 (not documented either way; default off). */
  readonly rejectDuplicateOrderIds?: boolean | undefined;
  readonly latencyMs?: number | undefined;
}

/** Which requests a fault applies to: the payment API, the token endpoint, or both. */
export type FaultScope = 'api' | 'token' | 'all';

export interface TendoPaySandboxFaults {
  /** Added before every API and token answer. */
  latencyMs: number;
  /** Every API, token and authorise-page request has its socket destroyed. */
  down: boolean;
  /** The next n requests fail with this status (default 500) and `{"error": …}`. */
  failNext(n: number, status?: number, scope?: FaultScope): void;
  /** The next n requests never get an answer. */
  hangNext(n: number, scope?: FaultScope): void;
  /** The next n requests take effect, then lose their answer (socket destroyed). */
  dropAnswerNext(n: number, scope?: FaultScope): void;
  /** The next n requests take effect, then answer 200 with a truncated JSON body. */
  malformNext(n: number, scope?: FaultScope): void;
  reset(): void;
}

export interface FinishResult {
  readonly transaction: Readonly<Record<string, string | number>>;
  /** tp_redirect_url with the signed result parameters, where the buyer's browser goes next. */
  readonly redirectUrl: string;
  /** The signed parameters alone. */
  readonly redirectParams: Readonly<Record<string, string>>;
}

export interface TendoPaySandboxOrderView {
  readonly orderToken: string;
  readonly merchantOrderId: string;
  readonly amountText: string;
  readonly redirectUrl: string;
  readonly state: OrderState;
  readonly transactionId: number | null;
  readonly createdAt: Date;
}

export interface TendoPaySandbox {
  /** `http://127.0.0.1:<port>`: the client's baseUrl. */
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly faults: TendoPaySandboxFaults;
  /** Successful token requests so far. */
  readonly tokensIssued: () => number;
  /** Every request's path and answer status, in order (faults included). */
  readonly requests: readonly { readonly path: string; readonly status: number | null }[];
  readonly notifications: readonly NotificationAttempt[];
  orders(): TendoPaySandboxOrderView[];
  order(orderTokenOrAuthorizeUrl: string): TendoPaySandboxOrderView | undefined;
  /** The signed transaction object, as showTransaction answers it. */
  transaction(id: number | string): Readonly<Record<string, string | number>> | undefined;
  /**
   * The buyer finishes on the authorise page, as clicking would: pay (default), fail or cancel;
   * `approvedAmount` simulates TendoPay approving another amount than asked.
   */
  finish(
    orderTokenOrAuthorizeUrl: string,
    options?: { outcome?: PayOutcome; approvedAmount?: string; message?: string },
  ): FinishResult;
  /** cancelPayment by hand (the merchant voids a PAID purchase in the portal). */
  cancel(transactionId: number | string): void;
  /** An unused order stops being payable now, as if its TTL had passed. */
  expireOrder(orderTokenOrAuthorizeUrl: string): void;
  /** Every token issued so far answers 401 from now on (the "expired token" case). */
  revokeTokens(): void;
  setNotificationUrl(url: string | null, encoding?: NotificationEncoding): void;
  flushNotifications(): Promise<void>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;
const API_PREFIX = '/payments/api/v2/';
const AUTHORISE_PREFIX = '/payments/authorise/';
const DAY_MS = 24 * 60 * 60 * 1000;

interface Counter {
  n: number;
  scope: FaultScope;
}

class Faults implements TendoPaySandboxFaults {
  latencyMs: number;
  down = false;
  failing: Counter = { n: 0, scope: 'api' };
  failStatus = 500;
  hanging: Counter = { n: 0, scope: 'api' };
  dropping: Counter = { n: 0, scope: 'api' };
  malforming: Counter = { n: 0, scope: 'api' };

  constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
  }

  failNext(n: number, status = 500, scope: FaultScope = 'api'): void {
    this.failing = { n, scope };
    this.failStatus = status;
  }

  hangNext(n: number, scope: FaultScope = 'api'): void {
    this.hanging = { n, scope };
  }

  dropAnswerNext(n: number, scope: FaultScope = 'api'): void {
    this.dropping = { n, scope };
  }

  malformNext(n: number, scope: FaultScope = 'api'): void {
    this.malforming = { n, scope };
  }

  /** Consumes one unit of the counter when it applies to this kind of request. */
  take(counter: Counter, kind: 'api' | 'token'): boolean {
    if (counter.n <= 0 || (counter.scope !== 'all' && counter.scope !== kind)) return false;
    counter.n -= 1;
    return true;
  }

  reset(): void {
    this.latencyMs = 0;
    this.down = false;
    this.failing = { n: 0, scope: 'api' };
    this.hanging = { n: 0, scope: 'api' };
    this.dropping = { n: 0, scope: 'api' };
    this.malforming = { n: 0, scope: 'api' };
  }
}

type Input = Record<string, unknown>;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw ApiError.of(413, 'The request is too large.');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** JSON (the SDK), multipart (the docs' curl -F) or urlencoded (the docs' overview): all accepted. */
async function parseInput(req: IncomingMessage, raw: Buffer): Promise<Input> {
  if (raw.length === 0) return {};
  const contentType = req.headers['content-type'] ?? '';
  if (/^application\/json/i.test(contentType)) {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw ApiError.of(400, 'The request body is not valid JSON.');
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw ApiError.of(400, 'The request body must be a JSON object.');
    return json as Input;
  }
  if (/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(contentType)) {
    const form = await new Request('http://sandbox.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    })
      .formData()
      .catch(() => {
        throw ApiError.of(400, 'The form body could not be parsed.');
      });
    const out: Input = {};
    for (const [key, value] of form.entries()) if (typeof value === 'string') out[key] = value;
    return out;
  }
  return {};
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
  });
  res.end(text);
}

function sendHtml(
  res: ServerResponse,
  status: number,
  html: string,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
    ...headers,
  });
  res.end(html);
}

function text(input: Input, key: string): string | undefined {
  const value = input[key];
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function failureMessage(status: number): string {
  if (status === 401) return 'Unauthenticated.';
  if (status === 403) return 'Forbidden.';
  if (status === 422) return 'The given data was invalid.';
  if (status === 503) return 'Service Unavailable';
  if (status >= 500) return 'Server Error';
  return `HTTP ${status}`;
}

function orderToken(orderTokenOrAuthorizeUrl: string): string {
  const at = orderTokenOrAuthorizeUrl.lastIndexOf(AUTHORISE_PREFIX);
  return at === -1 ? orderTokenOrAuthorizeUrl : orderTokenOrAuthorizeUrl.slice(at + AUTHORISE_PREFIX.length);
}

export async function startTendoPaySandbox(options: TendoPaySandboxOptions = {}): Promise<TendoPaySandbox> {
  const host = options.host ?? '127.0.0.1';
  const clientId = options.clientId ?? TENDOPAY_SANDBOX_CLIENT_ID;
  const clientSecret = options.clientSecret ?? TENDOPAY_SANDBOX_CLIENT_SECRET;
  const now = options.now ?? (() => new Date());
  const faults = new Faults(options.latencyMs ?? 0);
  const state = new SandboxState({
    now,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 604_799,
    orderTtlMs: options.orderTtlMs ?? DAY_MS,
  });
  const notifier = new Notifier({
    retryDelayMs: options.notificationRetryDelayMs ?? 60_000,
    maxAttempts: options.notificationMaxAttempts ?? 11,
    now,
  });
  let notificationUrl = options.notificationUrl ?? null;
  let notificationEncoding: NotificationEncoding = options.notificationEncoding ?? 'json';
  const requests: { path: string; status: number | null }[] = [];
  let tokensIssued = 0;
  let publicUrl = '';

  const signed = (fields: Record<string, string | number>) => ({
    ...fields,
    x_signature: signTendoPayFields(fields, clientSecret),
  });

  function notify(transaction: SandboxTransaction): void {
    if (notificationUrl === null) return;
    const { body, contentType } = encodeNotification(
      signed(state.transactionJson(transaction)),
      notificationEncoding,
    );
    notifier.send(notificationUrl, transaction, body, contentType);
  }

  function finish(
    order: SandboxOrder,
    input: { outcome: PayOutcome; approvedAmount?: string | undefined; message?: string | undefined },
  ): FinishResult {
    const transaction = state.finish(order, input);
    notify(transaction);
    const params = state.redirectParams(transaction);
    const redirectParams = { ...params, x_signature: signTendoPayFields(params, clientSecret) };
    // tp_redirect_url "may have its own query string": ours are appended to it.
    const url = new URL(order.redirectUrl);
    for (const [key, value] of Object.entries(redirectParams)) url.searchParams.append(key, value);
    return {
      transaction: signed(state.transactionJson(transaction)),
      redirectUrl: url.toString(),
      redirectParams,
    };
  }

  // ---- OAuth --------------------------------------------------------------------------------

  async function tokenRoute(req: IncomingMessage): Promise<Answer> {
    if (req.method !== 'POST') throw ApiError.of(405, 'The method is not allowed.');
    const input = await parseInput(req, await readBody(req));
    // Laravel Passport's answers, which TendoPay's /oauth/token and JWT tokens suggest.
    if (text(input, 'grant_type') !== 'client_credentials') {
      return {
        status: 400,
        body: {
          error: 'unsupported_grant_type',
          error_description: 'The authorization grant type is not supported by the authorization server.',
          message: 'The authorization grant type is not supported by the authorization server.',
        },
      };
    }
    if (text(input, 'client_id') !== clientId || input.client_secret !== clientSecret) {
      return {
        status: 401,
        body: {
          error: 'invalid_client',
          error_description: 'Client authentication failed',
          message: 'Client authentication failed',
        },
      };
    }
    const issued = state.issueToken();
    tokensIssued += 1;
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: state.tokenTtlSeconds, access_token: issued.token },
    };
  }

  // ---- payment API --------------------------------------------------------------------------

  function validateOrder(input: Input): void {
    const amount = input.tp_amount;
    if (amount === undefined || amount === null || amount === '')
      throw ApiError.of(422, 'The tp amount field is required.');
    const amountText = typeof amount === 'number' ? String(amount) : amount;
    if (!isAmountText(amountText)) throw ApiError.of(422, 'The tp amount must be a number.');
    if (centavosOf(amountText) <= 0) throw ApiError.of(422, 'The tp amount must be greater than 0.');
    if (!text(input, 'tp_currency')) throw ApiError.of(422, 'The tp currency field is required.');
    if (text(input, 'tp_currency') !== 'PHP') throw ApiError.of(422, 'The selected tp currency is invalid.');
    const merchantOrderId = text(input, 'tp_merchant_order_id');
    if (!merchantOrderId) throw ApiError.of(422, 'The tp merchant order id field is required.');
    if (merchantOrderId.length > 255)
      throw ApiError.of(422, 'The tp merchant order id may not be greater than 255 characters.');
    const redirect = text(input, 'tp_redirect_url');
    if (!redirect) throw ApiError.of(422, 'The tp redirect url field is required.');
    let parsed: URL | undefined;
    try {
      parsed = new URL(redirect);
    } catch {
      // handled below
    }
    if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:'))
      throw ApiError.of(422, 'The tp redirect url format is invalid.');
    const description = text(input, 'tp_description') ?? '';
    if (description.length > 50)
      throw ApiError.of(422, 'The tp description may not be greater than 50 characters.');
    if (options.rejectDuplicateOrderIds && state.ordersByMerchantId(merchantOrderId).length > 0)
      throw ApiError.of(422, 'The tp merchant order id has already been taken.');
  }

  function createOrder(input: Input): Answer {
    validateOrder(input);
    const amount = input.tp_amount;
    const order = state.addOrder({
      merchantOrderId: text(input, 'tp_merchant_order_id') ?? '',
      amountText: canonicalAmount(typeof amount === 'number' ? String(amount) : String(amount).trim()),
      currency: 'PHP',
      redirectUrl: text(input, 'tp_redirect_url') ?? '',
      merchantUserId: text(input, 'tp_merchant_user_id') ?? '',
      description: text(input, 'tp_description') ?? '',
      billing: {
        city: text(input, 'tp_billing_city') ?? '',
        address1: text(input, 'tp_billing_address1') ?? '',
        postcode: text(input, 'tp_billing_postcode') ?? '',
      },
      shipping: {
        city: text(input, 'tp_shipping_city') ?? '',
        address1: text(input, 'tp_shipping_address1') ?? '',
        postcode: text(input, 'tp_shipping_postcode') ?? '',
      },
      meta: text(input, 'tp_meta') ?? null,
    });
    return {
      status: 200,
      body: {
        tp_order_token: order.orderToken,
        authorize_url: `${publicUrl}${AUTHORISE_PREFIX}${order.orderToken}`,
      },
    };
  }

  function latestTransactionOf(merchantOrderId: unknown): SandboxTransaction {
    const id = typeof merchantOrderId === 'string' ? merchantOrderId.trim() : '';
    if (id === '') throw ApiError.of(422, 'The tp merchant order id field is required.');
    const found = [...state.transactions.values()]
      .filter((transaction) => transaction.merchantOrderId === id)
      .at(-1);
    if (!found) throw ApiError.of(404, 'Transaction not found.');
    return found;
  }

  function resource(name: string, input: Input): Answer {
    const seed = options.seedEndpoints === true;
    switch (name) {
      case 'order':
        return createOrder(input);
      case 'showTransaction': {
        if (text(input, 'tp_transaction_id') === undefined)
          throw ApiError.of(422, 'The tp transaction id field is required.');
        return {
          status: 200,
          body: signed(state.transactionJson(state.transaction(input.tp_transaction_id))),
        };
      }
      case 'cancelPayment': {
        if (text(input, 'tp_transaction_id') === undefined)
          throw ApiError.of(422, 'The tp transaction id field is required.');
        const transaction = state.cancel(state.transaction(input.tp_transaction_id));
        notify(transaction);
        // Not documented; the spec expects the transaction object.
        return { status: 200, body: signed(state.transactionJson(transaction)) };
      }
      case 'showTransactionByOrderId':
        if (!seed) break;
        return {
          status: 200,
          body: signed(state.transactionJson(latestTransactionOf(input.tp_merchant_order_id))),
        };
      case 'showOrder': {
        if (!seed) break;
        const order = state.orders.get(text(input, 'tp_order_token') ?? '');
        if (!order) throw ApiError.of(404, 'Order not found.');
        return { status: 200, body: signed(state.orderJson(order)) };
      }
      case 'cancelPaymentByOrderId': {
        if (!seed) break;
        const transaction =
          text(input, 'tp_transaction_id') !== undefined
            ? state.transaction(input.tp_transaction_id)
            : latestTransactionOf(input.tp_merchant_order_id);
        if (text(input, 'tp_partial_refund') === '1') {
          const amount = text(input, 'tp_amount');
          if (!isAmountText(amount)) throw ApiError.of(422, 'The tp amount must be a number.');
          const left = centavosOf(transaction.amountText) - transaction.refundedCentavos;
          if (transaction.status !== 'PAID' || centavosOf(amount) > left)
            throw ApiError.of(422, 'This transaction cannot be canceled.');
          transaction.refundedCentavos += centavosOf(amount);
          transaction.updatedAt = now();
          if (transaction.refundedCentavos === centavosOf(transaction.amountText)) {
            state.cancel(transaction);
            notify(transaction);
          }
        } else {
          state.cancel(transaction);
          notify(transaction);
        }
        return { status: 200, body: signed(state.transactionJson(transaction)) };
      }
    }
    throw ApiError.of(404, 'Not Found');
  }

  async function api(req: IncomingMessage, name: string): Promise<Answer> {
    if (req.method !== 'POST') throw ApiError.of(405, 'The method is not allowed.');
    const auth = req.headers.authorization ?? '';
    const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1];
    if (!bearer || !state.tokenValid(bearer)) throw ApiError.of(401, 'Unauthenticated.');
    const input = await parseInput(req, await readBody(req));
    const verdict = verifyTendoPayFields(input, clientSecret);
    if (!verdict.ok)
      throw ApiError.of(
        422,
        verdict.reason === 'missing_signature' ? 'The x signature field is required.' : 'Invalid signature.',
      );
    return resource(name, input);
  }

  // ---- hosted authorise page ----------------------------------------------------------------

  function unusable(res: ServerResponse, order: SandboxOrder | undefined): boolean {
    if (!order) {
      sendHtml(res, 404, notUsablePage('Order not found', 'Check the address you were given.'));
      return true;
    }
    const orderState = state.orderState(order);
    if (orderState === 'open') return false;
    const reason =
      orderState === 'used'
        ? 'This order has already been used. Ask the merchant for a new payment link.'
        : 'This order has expired. Ask the merchant for a new payment link.';
    sendHtml(res, 410, notUsablePage('Order not available', reason));
    return true;
  }

  async function authoriseRoute(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const order = state.orders.get(token);
    if (req.method === 'GET') {
      if (unusable(res, order) || !order) return;
      sendHtml(res, 200, authorisePage(order));
      return;
    }
    if (req.method !== 'POST') {
      sendHtml(res, 405, notUsablePage('Not allowed', 'Use the buttons on the page.'));
      return;
    }
    const form = await parseInput(req, await readBody(req));
    if (unusable(res, order) || !order) return;
    const choice = text(form, 'outcome');
    const outcome: PayOutcome = choice === 'fail' ? 'fail' : choice === 'cancel' ? 'cancel' : 'pay';
    const result = finish(order, { outcome });
    if ((options.redirectMethod ?? 'GET') === 'POST') {
      sendHtml(res, 200, postRedirectPage(order.redirectUrl, result.redirectParams));
      return;
    }
    sendHtml(res, 303, notUsablePage('Returning to the merchant', 'You are being redirected.'), {
      Location: result.redirectUrl,
    });
  }

  // ---- dispatch -----------------------------------------------------------------------------

  async function answerWithFaults(
    req: IncomingMessage,
    res: ServerResponse,
    kind: 'api' | 'token',
    produce: () => Promise<Answer>,
  ): Promise<number | null> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.take(faults.hanging, kind)) return null; // never answered; close() drops the socket
    if (faults.take(faults.failing, kind)) {
      sendJson(res, faults.failStatus, { error: failureMessage(faults.failStatus) });
      return faults.failStatus;
    }
    let answer: Answer;
    try {
      answer = await produce();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      answer = { status: error.status, body: error.body };
    }
    if (faults.take(faults.dropping, kind)) {
      // Applied, but the caller never learns it: the timeout-after-commit case.
      req.socket.destroy();
      return null;
    }
    if (faults.take(faults.malforming, kind)) {
      const whole = JSON.stringify(answer.body);
      const cut = whole.slice(0, Math.max(1, Math.floor(whole.length / 2)));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(cut) });
      res.end(cut);
      return 200;
    }
    sendJson(res, answer.status, answer.body);
    return answer.status;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<number | null> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname;
    if (faults.down) {
      req.socket.destroy();
      return null;
    }
    if (path === '/oauth/token') return answerWithFaults(req, res, 'token', () => tokenRoute(req));
    if (path.startsWith(API_PREFIX)) {
      const name = path.slice(API_PREFIX.length);
      return answerWithFaults(req, res, 'api', () => api(req, name));
    }
    if (path.startsWith(AUTHORISE_PREFIX)) {
      await authoriseRoute(req, res, decodeURIComponent(path.slice(AUTHORISE_PREFIX.length)));
      return res.statusCode;
    }
    sendJson(res, 404, { error: 'Not Found' });
    return 404;
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    handle(req, res).then(
      (status) => requests.push({ path, status }),
      (error: unknown) => {
        const status = error instanceof ApiError ? error.status : 500;
        sendJson(res, status, error instanceof ApiError ? error.body : { error: 'Server Error' });
        requests.push({ path, status });
      },
    );
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  publicUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  function orderOrThrow(orderTokenOrAuthorizeUrl: string): SandboxOrder {
    const order = state.orders.get(orderToken(orderTokenOrAuthorizeUrl));
    if (!order) throw new Error(`no TendoPay sandbox order ${orderTokenOrAuthorizeUrl}`);
    return order;
  }

  const view = (order: SandboxOrder): TendoPaySandboxOrderView => ({
    orderToken: order.orderToken,
    merchantOrderId: order.merchantOrderId,
    amountText: order.amountText,
    redirectUrl: order.redirectUrl,
    state: state.orderState(order),
    transactionId: order.transactionId,
    createdAt: order.createdAt,
  });

  return {
    url: publicUrl,
    clientId,
    clientSecret,
    faults,
    tokensIssued: () => tokensIssued,
    requests,
    notifications: notifier.log,
    orders: () => [...state.orders.values()].map(view),
    order: (key) => {
      const order = state.orders.get(orderToken(key));
      return order ? view(order) : undefined;
    },
    transaction: (id) => {
      try {
        return signed(state.transactionJson(state.transaction(id)));
      } catch {
        return undefined;
      }
    },
    finish: (key, finishOptions = {}) =>
      finish(orderOrThrow(key), {
        outcome: finishOptions.outcome ?? 'pay',
        approvedAmount: finishOptions.approvedAmount,
        message: finishOptions.message,
      }),
    cancel: (id) => {
      notify(state.cancel(state.transaction(id)));
    },
    expireOrder: (key) => {
      orderOrThrow(key).expiredByHand = true;
    },
    revokeTokens: () => state.revokeTokens(),
    setNotificationUrl: (url, encoding) => {
      notificationUrl = url;
      if (encoding) notificationEncoding = encoding;
    },
    flushNotifications: () => notifier.flush(),
    async close() {
      notifier.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
