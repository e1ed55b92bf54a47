import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TiloPayCredentials } from '../../gateways/tilopay/signature.js';
import { messagePage, payPage } from './pages.js';
import {
  type AttemptResult,
  isPayOutcome,
  type OtherCode,
  type PayOutcome,
  type SandboxOrder,
  TiloPayApiError,
  TiloPayState,
} from './state.js';

/**
 * A loopback TiloPay for tests and sandbox mode: login, processPayment and consult under
 * /api/v1 with bearer auth and TiloPay's `{type, message}` errors (often with HTTP 200), a hosted
 * page under /pay/{id} that redirects back with the OrderHash, an optional server-to-server
 * notice, and fault knobs. node:http rather than fastify because the faults need raw socket control.
 */

export const TILOPAY_API_PREFIX = '/api/v1';

export const DEFAULT_SANDBOX_CREDENTIALS: TiloPayCredentials = {
  apiKey: '9999-0000-1111-2222-3333',
  apiUser: 'sandboxUser',
  apiPassword: 'sandboxPassword',
};

export interface TiloPaySandboxOptions {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly credentials?: TiloPayCredentials | undefined;
  /** `expires_in` of login answers. Default 86400 (24 h, as [3p] observed). */
  readonly tokenTtlSeconds?: number | undefined;
  /** Shared with the client in tests to make tokens expire. */
  readonly now?: (() => Date) | undefined;
  /**
   * Written before our orderNumber in /consult entries, as a merchant prefix TiloPay may add
   * (spec §4, `PFC024851-`). Default none.
   */
  readonly consultOrderPrefix?: string | undefined;
  /** Where the server-to-server notice goes (spec §7); none by default, as for one-off payments. */
  readonly webhookUrl?: string | undefined;
  readonly latencyMs?: number | undefined;
}

export interface TiloPaySandboxFaults {
  /** Added before every API answer. */
  latencyMs: number;
  /** Every API and page request has its socket destroyed. */
  down: boolean;
  /** The next n API calls fail with this HTTP status (default 500) and `{message}`. */
  failNext(n: number, status?: number): void;
  /** The next n API calls answer HTTP 200 `{type, message}`, TiloPay's usual error form. */
  failNextWithType(n: number, type: string, message?: string): void;
  /** The next n API calls answer HTTP 200 with a body that is not JSON. */
  malformNext(n: number): void;
  /** The next n API calls never get an answer. */
  hangNext(n: number): void;
  /** The next n API calls do their effect, then lose the answer (socket destroyed). */
  dropAnswerNext(n: number): void;
  /** Every bearer token is refused with 401, fresh ones included. */
  rejectTokens: boolean;
  reset(): void;
}

export interface WebhookDelivery {
  readonly url: string;
  readonly body: Record<string, string>;
  readonly status: number | null;
  readonly error?: string | undefined;
}

export interface TiloPaySandboxOrder {
  readonly orderNumber: string;
  readonly amount: string;
  readonly currency: string;
  readonly email: string;
  readonly redirect: string;
  readonly hashVersion: string;
  readonly pageUrls: readonly string[];
  readonly attempts: readonly {
    readonly tpt: string;
    readonly code: string;
    readonly auth: string;
    readonly amount: string;
    readonly currency: string;
  }[];
}

export interface TiloPaySandbox {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `${url}/api/v1`, the client's baseUrl. */
  readonly apiBaseUrl: string;
  readonly credentials: TiloPayCredentials;
  readonly faults: TiloPaySandboxFaults;
  /** Logins, successful or not, since start. */
  readonly loginCount: number;
  /** Every notice sent so far. */
  readonly deliveries: readonly WebhookDelivery[];
  orders(): TiloPaySandboxOrder[];
  order(orderNumber: string): TiloPaySandboxOrder | undefined;
  /**
   * The buyer pays (default approved) on the order's latest unused page, as clicking on it would.
   * Sends the notice when a webhook URL is set, and returns the redirect the browser would follow.
   */
  pay(
    orderNumber: string,
    outcome?: PayOutcome | OtherCode,
  ): Promise<{ redirectUrl: string; tpt: string; code: string }>;
  /** A pending SINPE attempt settles; the notice goes out as TiloPay's would. */
  settle(orderNumber: string, approved?: boolean): Promise<{ tpt: string; code: string }>;
  /** Every token issued so far stops working (as after its expiry). */
  expireTokens(): void;
  setWebhookUrl(url: string | undefined): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

class Faults implements TiloPaySandboxFaults {
  down = false;
  rejectTokens = false;
  failing = 0;
  failStatus = 500;
  typing = 0;
  typeCode = '300';
  typeMessage = 'Integration error.';
  malformed = 0;
  hanging = 0;
  dropping = 0;

  constructor(public latencyMs: number) {}

  failNext(n: number, status = 500): void {
    this.failing = n;
    this.failStatus = status;
  }
  failNextWithType(n: number, type: string, message = 'Error.'): void {
    this.typing = n;
    this.typeCode = type;
    this.typeMessage = message;
  }
  malformNext(n: number): void {
    this.malformed = n;
  }
  hangNext(n: number): void {
    this.hanging = n;
  }
  dropAnswerNext(n: number): void {
    this.dropping = n;
  }
  reset(): void {
    this.latencyMs = 0;
    this.down = false;
    this.rejectTokens = false;
    this.failing = 0;
    this.typing = 0;
    this.malformed = 0;
    this.hanging = 0;
    this.dropping = 0;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new TiloPayApiError(413, { message: 'Payload too large.' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Length': Buffer.byteLength(html),
  });
  res.end(html);
}

function orderJson(order: SandboxOrder, pageUrl: (id: string) => string): TiloPaySandboxOrder {
  return {
    orderNumber: order.orderNumber,
    amount: order.amount,
    currency: order.currency,
    email: order.email,
    redirect: order.redirect,
    hashVersion: order.hashVersion,
    pageUrls: order.pages.map(pageUrl),
    attempts: order.attempts.map(({ tpt, code, auth, amount, currency }) => ({
      tpt,
      code,
      auth,
      amount,
      currency,
    })),
  };
}

export async function startTiloPaySandbox(options: TiloPaySandboxOptions = {}): Promise<TiloPaySandbox> {
  const host = options.host ?? '127.0.0.1';
  const credentials = options.credentials ?? DEFAULT_SANDBOX_CREDENTIALS;
  const now = options.now ?? (() => new Date());
  const prefix = options.consultOrderPrefix ?? '';
  const faults = new Faults(options.latencyMs ?? 0);
  const deliveries: WebhookDelivery[] = [];
  let webhookUrl = options.webhookUrl;
  let publicUrl = '';
  let loginCount = 0;

  const state = new TiloPayState({
    credentials,
    now,
    tokenTtlSeconds: options.tokenTtlSeconds ?? 86_400,
    publicUrl: () => publicUrl,
  });

  /** The server-to-server notice (spec §7): one POST, no retry (TiloPay's policy is not public). */
  async function notify(result: AttemptResult): Promise<void> {
    if (!webhookUrl) return;
    const body = {
      orderNumber: result.order.orderNumber,
      code: result.attempt.code,
      orderHash: result.orderHash,
      tpt: result.attempt.tpt,
      auth: result.attempt.auth,
    };
    const url = webhookUrl;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await response.arrayBuffer();
      deliveries.push({ url, body, status: response.status });
    } catch (error) {
      deliveries.push({
        url,
        body,
        status: null,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  function parseJsonBody(raw: Buffer): Record<string, unknown> {
    if (raw.length === 0) return {};
    try {
      const json: unknown = JSON.parse(raw.toString('utf8'));
      if (typeof json === 'object' && json !== null && !Array.isArray(json))
        return json as Record<string, unknown>;
    } catch {
      // falls through to the same answer as a non-object body
    }
    throw new TiloPayApiError(200, { type: '400', message: 'Invalid JSON body.' });
  }

  function bearerOf(req: IncomingMessage): string | undefined {
    const match = /^bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    return match?.[1];
  }

  async function api(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.hanging > 0) {
      faults.hanging -= 1;
      return; // never answered; close() drops the socket
    }
    if (faults.failing > 0) {
      faults.failing -= 1;
      sendJson(res, faults.failStatus, { message: faults.failStatus >= 500 ? 'Server Error' : 'Error' });
      return;
    }
    if (faults.typing > 0) {
      faults.typing -= 1;
      sendJson(res, 200, { type: faults.typeCode, message: faults.typeMessage });
      return;
    }
    if (faults.malformed > 0) {
      faults.malformed -= 1;
      const text = '<html><body>Bad gateway</body>';
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (req.method !== 'POST') throw new TiloPayApiError(405, { message: 'Method not allowed.' });
    const route = path.slice(TILOPAY_API_PREFIX.length);
    const input = parseJsonBody(await readBody(req));
    let answer: unknown;
    if (route === '/login') {
      loginCount += 1;
      // Postman documents `apiuser`, the official plugin sends `email`: both are in use.
      const user = input.apiuser ?? input.email;
      if (user !== credentials.apiUser || input.password !== credentials.apiPassword) {
        throw new TiloPayApiError(401, { message: 'Invalid credentials.' });
      }
      answer = state.issueToken();
    } else if (route === '/processPayment' || route === '/consult') {
      const token = bearerOf(req);
      if (faults.rejectTokens || token === undefined || !state.tokenValid(token)) {
        throw new TiloPayApiError(401, { message: 'Unauthenticated.' });
      }
      if (route === '/processPayment') {
        const { page } = state.processPayment(input);
        answer = { type: '100', url: state.pageUrl(page) };
      } else {
        answer = { type: '200', response: state.consult(input, prefix) };
      }
    } else {
      throw new TiloPayApiError(404, { message: 'Not found.' });
    }
    if (faults.dropping > 0) {
      faults.dropping -= 1;
      // Done, but the caller never learns it: the timeout-after-commit case.
      req.socket.destroy();
      return;
    }
    sendJson(res, 200, answer);
  }

  async function pageRoute(req: IncomingMessage, res: ServerResponse, pageId: string): Promise<void> {
    const page = state.pages.get(pageId);
    const order = page ? state.orders.get(page.orderNumber) : undefined;
    if (!page || !order) {
      sendHtml(res, 404, messagePage('Payment not found', 'Check the address you were given.'));
      return;
    }
    if (page.used) {
      sendHtml(res, 410, messagePage('Payment already processed', 'This payment page was already used.'));
      return;
    }
    if (req.method === 'GET') {
      sendHtml(
        res,
        200,
        payPage({
          pageId,
          orderNumber: order.orderNumber,
          amount: order.amount,
          currency: order.currency,
          email: order.email,
        }),
      );
      return;
    }
    if (req.method !== 'POST') {
      sendHtml(res, 405, messagePage('Not allowed', 'Use the buttons on the page.'));
      return;
    }
    const form = new URLSearchParams((await readBody(req)).toString('utf8'));
    const outcome = form.get('outcome');
    if (!isPayOutcome(outcome)) {
      sendHtml(res, 400, messagePage('Unknown choice', 'Use the buttons on the page.'));
      return;
    }
    const result = state.payPage(page, outcome);
    await notify(result);
    // TiloPay sends the browser back to `redirect` with the result in the query (spec §5).
    res.writeHead(303, { Location: result.redirectUrl, 'Content-Length': 0 });
    res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname;
    if (faults.down) {
      req.socket.destroy();
      return;
    }
    const pageMatch = /^\/pay\/([0-9a-f]+)\/?$/.exec(path);
    if (pageMatch?.[1]) return pageRoute(req, res, pageMatch[1]);
    if (path.startsWith(`${TILOPAY_API_PREFIX}/`)) return api(req, res, path);
    sendJson(res, 404, { message: 'Not found.' });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof TiloPayApiError) {
        sendJson(res, error.httpStatus, error.body);
        return;
      }
      sendJson(res, 500, { message: 'Server Error' });
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
  const pageUrl = (id: string) => `${publicUrl}/pay/${id}`;

  return {
    url: publicUrl,
    apiBaseUrl: `${publicUrl}${TILOPAY_API_PREFIX}`,
    credentials,
    faults,
    get loginCount() {
      return loginCount;
    },
    deliveries,
    orders: () => [...state.orders.values()].map((order) => orderJson(order, pageUrl)),
    order: (orderNumber) => {
      const order = state.orders.get(orderNumber);
      return order ? orderJson(order, pageUrl) : undefined;
    },
    async pay(orderNumber, outcome = 'approved') {
      const order = state.orders.get(orderNumber);
      const pageId = order?.pages.findLast((id) => state.pages.get(id)?.used === false);
      const page = pageId === undefined ? undefined : state.pages.get(pageId);
      if (!page) throw new Error(`no unused TiloPay sandbox page for order ${orderNumber}`);
      const result = state.payPage(page, outcome);
      await notify(result);
      return { redirectUrl: result.redirectUrl, tpt: result.attempt.tpt, code: result.attempt.code };
    },
    async settle(orderNumber, approved = true) {
      const result = state.settle(orderNumber, approved);
      await notify(result);
      return { tpt: result.attempt.tpt, code: result.attempt.code };
    },
    expireTokens: () => state.expireTokens(),
    setWebhookUrl: (url) => {
      webhookUrl = url;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
