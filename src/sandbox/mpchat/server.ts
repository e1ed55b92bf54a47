import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  MPCHAT_CLOCK_WINDOW_SECONDS,
  type MpChatWebhookSigningOptions,
  unixSeconds,
  verifyRequestAuth,
  webhookSignatureHeader,
} from '../../gateways/mpchat/signature.js';
import { checkoutPage, messagePage } from './pages.js';
import {
  ApiError,
  type SandboxKey,
  type SandboxOrder,
  type SandboxOrderStatus,
  SandboxState,
  textFromMicro,
} from './state.js';

/**
 * A loopback MP Merchant API for tests and sandbox mode: `/v1/...` with the Bearer signature
 * auth, a hosted checkout at `/pay/{id}`, signed webhooks with retries, and fault knobs.
 * node:http rather than fastify because the faults need raw socket control.
 */

export interface MpChatSandboxKeyOptions {
  readonly keyId: string;
  readonly secret: string;
  /** Keys of different merchants see each other's orders as 403 forbidden. */
  readonly merchantId?: string | undefined;
  readonly active?: boolean | undefined;
}

export interface MpChatSandboxOptions {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  /** Default: one active key, DEFAULT_MPCHAT_KEY_ID / DEFAULT_MPCHAT_SECRET, merchant `mer_sandbox`. */
  readonly keys?: readonly MpChatSandboxKeyOptions[] | undefined;
  /** The merchant-level webhook signing secret (set in the dashboard for real). */
  readonly webhookSecret?: string | undefined;
  /** Merchant default webhook URL, used when neither the order nor a registered endpoint has one. */
  readonly webhookUrl?: string | undefined;
  /** How the sandbox signs webhooks; default the spec's assumption `t + "." + body`. */
  readonly webhookSigning?: MpChatWebhookSigningOptions | undefined;
  /** Orders expire after this long (docs: 30 minutes). */
  readonly orderTtlMs?: number | undefined;
  readonly now?: (() => Date) | undefined;
  /** Requests per minute per key before 429 (docs: 60). Default: unlimited, so tests do not trip it. */
  readonly rateLimitPerMinute?: number | undefined;
  /** Wait before retry n (the last value repeats). Default [1000, 5000, 25000]. */
  readonly webhookRetryDelaysMs?: readonly number[] | undefined;
  readonly webhookMaxAttempts?: number | undefined;
  /**
   * Show a `tx_hash` on orders that received money. Off by default: the docs we read show no such
   * field, so the adapter must work without it.
   */
  readonly txHashes?: boolean | undefined;
}

/**
 * What the buyer does on the hosted checkout: pay the order amount, half of it, 10 % more, a
 * chosen amount, or walk away (`abandon`: nothing changes; MPChat has no cancel), or let the
 * order run out (`expire`).
 */
export type MpChatBuyerAction = 'pay' | 'underpay' | 'overpay' | 'custom' | 'abandon' | 'expire';

export interface MpChatSandboxFaults {
  /** Added before every API answer. */
  latencyMs: number;
  /** The next n API calls fail with this status (default 500) and `{"error": …}`. */
  failNext(n: number, status?: number, message?: string): void;
  /** The next n API calls do their effect, then lose the answer (socket destroyed). */
  dropAnswerNext(n: number): void;
  /** The next n API calls do their effect, then answer after `ms`. */
  delayAnswerNext(n: number, ms: number): void;
  /** The next n API calls answer 200 with a body that is not JSON. */
  malformedNext(n: number): void;
  /** The next n API calls get 429 with Retry-After. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void;
  reset(): void;
}

export interface MpChatWebhookAttempt {
  readonly id: string;
  readonly event: string;
  readonly orderId: string;
  readonly url: string;
  readonly attempt: number;
  readonly status: number | null;
  readonly ok: boolean;
  readonly body: string;
  readonly signature: string;
  readonly at: Date;
}

export interface MpChatSandbox {
  /** `http://127.0.0.1:<port>`, the client's baseUrl (paths carry /v1). */
  readonly url: string;
  readonly keyId: string;
  readonly secret: string;
  readonly webhookSecret: string;
  readonly faults: MpChatSandboxFaults;
  readonly deliveries: readonly MpChatWebhookAttempt[];
  orders(): Record<string, unknown>[];
  order(id: string): Record<string, unknown>;
  /** A transfer arrives (default: the order amount). `confirm: false` stops at CONFIRMING. */
  pay(id: string, amount?: string, options?: { confirm?: boolean }): Record<string, unknown>;
  confirm(id: string): Record<string, unknown>;
  expire(id: string): Record<string, unknown>;
  setStatus(id: string, status: SandboxOrderStatus): Record<string, unknown>;
  setKeyActive(keyId: string, active: boolean): void;
  /**
   * The buyer acts on the hosted page of order `id`, as clicking would (no browser needed).
   * Returns the order after it and where the browser is sent next: the order's `return_url` as
   * given (MPChat signs nothing there and adds no documented parameter; it is never proof), or
   * undefined when the order has none. Webhooks go out as for a real click (see flushWebhooks).
   */
  buyer(
    id: string,
    action?: MpChatBuyerAction,
    options?: { amount?: string; confirm?: boolean },
  ): { order: Record<string, unknown>; returnUrl: string | undefined };
  /** The merchant default webhook URL, changed at runtime (the daemon's port is known late). */
  setWebhookUrl(url: string | undefined): void;
  flushWebhooks(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_MPCHAT_KEY_ID = 'mk_test_sandbox01';
export const DEFAULT_MPCHAT_SECRET = '5f4dcc3b5aa765d61d8327deb882cf995f4dcc3b5aa765d61d8327deb882cf99';
export const DEFAULT_MPCHAT_WEBHOOK_SECRET = 'whsec_sandbox';
const MAX_BODY_BYTES = 1024 * 1024;

const AUTH_MESSAGES = {
  missing_authorization: 'missing authorization header',
  invalid_format: 'invalid authorization format',
  unknown_key: 'api key not found',
  inactive_key: 'api key is inactive',
  invalid_signature: 'invalid signature',
  stale_timestamp: 'request timestamp too old',
} as const;

class Faults implements MpChatSandboxFaults {
  latencyMs = 0;
  failing = 0;
  failStatus = 500;
  failMessage = 'internal server error';
  dropping = 0;
  delaying = 0;
  delayMs = 0;
  malformed = 0;
  limited = 0;
  retryAfterSeconds = 1;

  failNext(n: number, status = 500, message = 'internal server error'): void {
    this.failing = n;
    this.failStatus = status;
    this.failMessage = message;
  }
  dropAnswerNext(n: number): void {
    this.dropping = n;
  }
  delayAnswerNext(n: number, ms: number): void {
    this.delaying = n;
    this.delayMs = ms;
  }
  malformedNext(n: number): void {
    this.malformed = n;
  }
  rateLimitNext(n: number, retryAfterSeconds = 1): void {
    this.limited = n;
    this.retryAfterSeconds = retryAfterSeconds;
  }
  reset(): void {
    this.latencyMs = 0;
    this.failing = 0;
    this.dropping = 0;
    this.delaying = 0;
    this.malformed = 0;
    this.limited = 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  text: string,
  headers: Record<string, string> = {},
) {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  send(res, status, 'application/json', JSON.stringify(body), headers);
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

export async function startMpChatSandbox(options: MpChatSandboxOptions = {}): Promise<MpChatSandbox> {
  const host = options.host ?? '127.0.0.1';
  const now = options.now ?? (() => new Date());
  const faults = new Faults();
  const webhookSecret = options.webhookSecret ?? DEFAULT_MPCHAT_WEBHOOK_SECRET;
  const retryDelays = options.webhookRetryDelaysMs ?? [1000, 5000, 25000];
  const maxAttempts = options.webhookMaxAttempts ?? 3;
  const deliveries: MpChatWebhookAttempt[] = [];
  const pending = new Set<Promise<void>>();
  const abort = new AbortController();
  const rateWindows = new Map<string, { start: number; count: number }>();
  let deliverySeq = 0;
  let defaultWebhookUrl = options.webhookUrl;
  let publicUrl = '';
  let closed = false;

  const keys = new Map<string, SandboxKey>();
  for (const key of options.keys ?? [{ keyId: DEFAULT_MPCHAT_KEY_ID, secret: DEFAULT_MPCHAT_SECRET }]) {
    keys.set(key.keyId, {
      keyId: key.keyId,
      secret: key.secret,
      merchantId: key.merchantId ?? 'mer_sandbox',
      active: key.active ?? true,
    });
  }
  const firstKey = [...keys.values()][0];
  if (!firstKey) throw new Error('the MPChat sandbox needs at least one key');

  // ---- webhooks -----------------------------------------------------------------------------

  function targetsOf(order: SandboxOrder, event: string): string[] {
    if (order.webhookUrl) return [order.webhookUrl];
    const registered = [...state.endpoints.values()]
      .filter((endpoint) => endpoint.merchantId === order.merchantId && endpoint.isActive)
      .filter((endpoint) => endpoint.events.includes(event))
      .map((endpoint) => endpoint.url);
    if (registered.length > 0) return registered;
    return defaultWebhookUrl ? [defaultWebhookUrl] : [];
  }

  async function attempt(
    url: string,
    event: string,
    orderId: string,
    body: string,
    n: number,
  ): Promise<boolean> {
    const ts = unixSeconds(now());
    const signature = webhookSignatureHeader(body, ts, webhookSecret, options.webhookSigning);
    let status: number | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'X-Merchant-Signature': signature,
          'X-Webhook-Event': event,
        },
        body,
        signal: AbortSignal.any([abort.signal, AbortSignal.timeout(10_000)]),
      });
      status = response.status;
      await response.arrayBuffer().catch(() => undefined);
    } catch {
      status = null;
    }
    const ok = status !== null && status >= 200 && status < 300;
    deliverySeq += 1;
    deliveries.push({
      id: `whd_${deliverySeq}`,
      event,
      orderId,
      url,
      attempt: n,
      status,
      ok,
      body,
      signature,
      at: now(),
    });
    return ok;
  }

  /** A retry wait that close() cuts short, so no timer outlives the sandbox. */
  function abortableSleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      }
      abort.signal.addEventListener('abort', done);
    });
  }

  function emit(order: SandboxOrder, event: string): void {
    if (closed) return;
    // Built now, so the body reflects the order at the moment of the event.
    const body = JSON.stringify({ event, timestamp: now().toISOString(), data: state.webhookData(order) });
    for (const url of targetsOf(order, event)) {
      const run = (async () => {
        for (let n = 1; n <= maxAttempts && !closed; n++) {
          if (n > 1) await abortableSleep(retryDelays[n - 2] ?? retryDelays[retryDelays.length - 1] ?? 0);
          if (closed || (await attempt(url, event, order.id, body, n))) return;
        }
      })();
      pending.add(run);
      void run.finally(() => pending.delete(run));
    }
  }

  const state = new SandboxState({
    now,
    orderTtlMs: options.orderTtlMs ?? 30 * 60 * 1000,
    publicUrl: () => publicUrl,
    emit,
    txHashes: options.txHashes,
  });

  // ---- API ----------------------------------------------------------------------------------

  function parseJson(raw: Buffer): Record<string, unknown> {
    if (raw.length === 0) return {};
    try {
      const json: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof json === 'object' && json !== null && !Array.isArray(json))
        return json as Record<string, unknown>;
    } catch {
      // fall through
    }
    throw new ApiError(400, 'invalid request body');
  }

  function checkRate(keyId: string): void {
    const limit = options.rateLimitPerMinute;
    if (limit === undefined) return;
    const at = now().getTime();
    const window = rateWindows.get(keyId);
    if (!window || at - window.start >= 60_000) {
      rateWindows.set(keyId, { start: at, count: 1 });
      return;
    }
    window.count += 1;
    if (window.count > limit) {
      const retryAfter = Math.max(1, Math.ceil((window.start + 60_000 - at) / 1000));
      throw new ApiError(429, 'rate limit exceeded', { 'Retry-After': String(retryAfter) });
    }
  }

  /** Runs the route; returns status, body and headers so faults can act after the effect. */
  async function route(
    req: IncomingMessage,
    url: URL,
  ): Promise<{ status: number; body: unknown; headers?: Record<string, string> }> {
    const auth = verifyRequestAuth({
      header: req.headers.authorization,
      lookupKey: (keyId) => keys.get(keyId),
      now: now(),
      windowSeconds: MPCHAT_CLOCK_WINDOW_SECONDS,
    });
    if (!auth.ok) throw new ApiError(401, AUTH_MESSAGES[auth.reason]);
    checkRate(auth.keyId);
    const merchantId = keys.get(auth.keyId)?.merchantId ?? '';
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const segments = url.pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent);
    const [, resource, id, sub] = segments;

    if (resource === 'orders' && segments.length === 2) {
      if (method === 'POST') {
        const { order, replayed } = state.createOrder(merchantId, parseJson(raw));
        // 201 on creation; a replay answers 200 with the original (status code [inferred]).
        return { status: replayed ? 200 : 201, body: state.orderJson(order) };
      }
      if (method === 'GET') {
        const all = state.listOrders(merchantId);
        const query = url.searchParams;
        // Both documented paginations (§3.4): page/per_page when given, else limit/offset.
        const perPage = intParam(query, 'per_page');
        const page = intParam(query, 'page');
        const limit = Math.min(100, Math.max(1, perPage ?? intParam(query, 'limit') ?? 20));
        const offset =
          page !== undefined || perPage !== undefined
            ? (Math.max(1, page ?? 1) - 1) * limit
            : (intParam(query, 'offset') ?? 0);
        const data = all.slice(offset, offset + limit).map((order) => state.orderJson(order));
        return {
          status: 200,
          body:
            page !== undefined || perPage !== undefined
              ? { data, total: all.length, page: page ?? 1, per_page: limit }
              : { data, total: all.length, limit, offset },
        };
      }
    }
    if (resource === 'orders' && id !== undefined && segments.length === 3 && method === 'GET') {
      return { status: 200, body: state.orderJson(state.orderFor(merchantId, id)) };
    }
    if (resource === 'webhooks' && segments.length === 2) {
      if (method === 'POST') {
        return { status: 201, body: state.endpointJson(state.addEndpoint(merchantId, parseJson(raw))) };
      }
      if (method === 'GET') {
        const list = [...state.endpoints.values()].filter((endpoint) => endpoint.merchantId === merchantId);
        return { status: 200, body: { data: list.map((endpoint) => state.endpointJson(endpoint)) } };
      }
    }
    if (
      resource === 'webhooks' &&
      id !== undefined &&
      sub === 'deliveries' &&
      segments.length === 4 &&
      method === 'GET'
    ) {
      const endpoint = state.endpoints.get(id);
      if (!endpoint || endpoint.merchantId !== merchantId) throw new ApiError(404, 'webhook not found');
      const limit = Math.min(100, intParam(url.searchParams, 'limit') ?? 20);
      const list = deliveries
        .filter((delivery) => delivery.url === endpoint.url)
        .slice(-limit)
        .reverse()
        .map((delivery) => ({
          id: delivery.id,
          event: delivery.event,
          status_code: delivery.status,
          success: delivery.ok,
          attempt: delivery.attempt,
          created_at: delivery.at.toISOString(),
        }));
      return { status: 200, body: { data: list } };
    }
    throw new ApiError(404, 'not found');
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.limited > 0) {
      faults.limited -= 1;
      sendJson(
        res,
        429,
        { error: 'rate limit exceeded' },
        { 'Retry-After': String(faults.retryAfterSeconds) },
      );
      return;
    }
    if (faults.failing > 0) {
      faults.failing -= 1;
      sendJson(res, faults.failStatus, { error: faults.failMessage });
      return;
    }
    let result: { status: number; body: unknown; headers?: Record<string, string> };
    try {
      result = await route(req, url);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      result = { status: error.status, body: { error: error.message }, headers: error.headers };
    }
    // Effect done: the faults below lose or mangle only the answer.
    if (faults.dropping > 0) {
      faults.dropping -= 1;
      req.socket.destroy();
      return;
    }
    if (faults.delaying > 0) {
      faults.delaying -= 1;
      await sleep(faults.delayMs);
    }
    if (faults.malformed > 0) {
      faults.malformed -= 1;
      send(res, 200, 'application/json', '{"id": "ord_');
      return;
    }
    sendJson(res, result.status, result.body, result.headers);
  }

  // ---- hosted checkout ------------------------------------------------------------------------

  /** One buyer action on an order, shared by the hosted page's buttons and `buyer()`. */
  function act(
    order: SandboxOrder,
    action: string,
    extra: { amount?: string; confirm?: boolean } = {},
  ): void {
    const payOptions = extra.confirm === undefined ? {} : { confirm: extra.confirm };
    switch (action) {
      case 'pay':
        state.pay(order, textFromMicro(order.orderMicro), payOptions);
        return;
      case 'underpay':
        state.pay(order, textFromMicro(order.orderMicro / 2n), payOptions);
        return;
      case 'overpay':
        state.pay(order, textFromMicro(order.orderMicro + order.orderMicro / 10n), payOptions);
        return;
      case 'custom':
        state.pay(order, extra.amount ?? '', payOptions);
        return;
      case 'expire':
        state.expire(order);
        return;
      case 'abandon':
        return;
      default:
        throw new ApiError(400, 'unknown action');
    }
  }

  async function checkout(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const order = state.find(id);
    if (!order) {
      send(
        res,
        404,
        'text/html; charset=utf-8',
        messagePage('Order not found', 'Check the address you were given.'),
      );
      return;
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams((await readBody(req)).toString('utf8'));
      const action = form.get('action');
      try {
        act(order, action === 'full' ? 'pay' : (action ?? ''), { amount: (form.get('amount') ?? '').trim() });
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        send(res, error.status, 'text/html; charset=utf-8', messagePage(order.orderNumber, error.message));
        return;
      }
      send(
        res,
        200,
        'text/html; charset=utf-8',
        messagePage(
          order.orderNumber,
          `Order is now ${order.status}; received ${textFromMicro(order.receivedMicro)} USDT.`,
          order.returnUrl ?? undefined,
        ),
      );
      return;
    }
    if (order.status !== 'OPEN' && order.status !== 'PENDING') {
      send(
        res,
        410,
        'text/html; charset=utf-8',
        messagePage(order.orderNumber, `This order is ${order.status}.`),
      );
      return;
    }
    send(
      res,
      200,
      'text/html; charset=utf-8',
      checkoutPage({
        id: order.id,
        orderNumber: order.orderNumber,
        amount: textFromMicro(order.orderMicro),
        network: order.network,
        address: order.depositAddress,
        description: order.description,
        expireAt: order.expireAt.toISOString(),
        underpay: textFromMicro(order.orderMicro / 2n),
        overpay: textFromMicro(order.orderMicro + order.orderMicro / 10n),
      }),
    );
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const payMatch = /^\/pay\/([^/]+)\/?$/.exec(url.pathname);
    if (payMatch?.[1]) return checkout(req, res, decodeURIComponent(payMatch[1]));
    if (url.pathname.startsWith('/v1/')) return api(req, res, url);
    sendJson(res, 404, { error: 'not found' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof ApiError) sendJson(res, error.status, { error: error.message }, error.headers);
      else sendJson(res, 500, { error: 'internal server error' });
    });
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

  function orderOrThrow(id: string): SandboxOrder {
    const order = state.find(id);
    if (!order) throw new Error(`no MPChat sandbox order ${id}`);
    return order;
  }

  return {
    url: publicUrl,
    keyId: firstKey.keyId,
    secret: firstKey.secret,
    webhookSecret,
    faults,
    deliveries,
    orders: () => [...state.orders.values()].map((order) => state.orderJson(state.refresh(order))),
    order: (id) => state.orderJson(orderOrThrow(id)),
    pay: (id, amount, payOptions) => {
      const order = orderOrThrow(id);
      return state.orderJson(state.pay(order, amount ?? textFromMicro(order.orderMicro), payOptions));
    },
    confirm: (id) => state.orderJson(state.confirm(orderOrThrow(id))),
    expire: (id) => state.orderJson(state.expire(orderOrThrow(id))),
    setStatus: (id, status) => state.orderJson(state.setStatus(orderOrThrow(id), status)),
    buyer: (id, action = 'pay', buyerOptions = {}) => {
      const order = orderOrThrow(id);
      act(order, action, buyerOptions);
      return { order: state.orderJson(order), returnUrl: order.returnUrl ?? undefined };
    },
    setWebhookUrl: (url) => {
      defaultWebhookUrl = url;
    },
    setKeyActive: (keyId, active) => {
      const key = keys.get(keyId);
      if (!key) throw new Error(`no MPChat sandbox key ${keyId}`);
      key.active = active;
    },
    async flushWebhooks() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
    async close() {
      closed = true;
      abort.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
