import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatMinorAsDecimal } from '../../domain/money.js';
import { notPayablePage, payPage, resultPage } from './pages.js';
import {
  ApiError,
  type InstanceStatus,
  type LinkJson,
  laravelTime,
  newWebhookSecret,
  type PayOptions,
  type SandboxInstance,
  type SandboxLink,
  SandboxState,
  type TransactionJson,
} from './state.js';
import { Validator } from './validation.js';
import { type WebhookDeliveryAttempt, WebhookDispatcher } from './webhooks.js';

/**
 * A loopback MyTPE Pay v2 server for tests and sandbox mode: the API under /api/v2/mytpe-pay,
 * a hosted pay page under /pay/{slug}, test controls under /sandbox/, signed webhooks, and
 * fault knobs. node:http rather than fastify because the faults need raw socket control.
 */

export const MYTPE_API_PREFIX = '/api/v2/mytpe-pay';

export interface MyTpeSandboxInstanceOptions {
  readonly id?: string | undefined;
  readonly name: string;
  readonly status?: InstanceStatus | undefined;
  readonly webhookUrl?: string | undefined;
  readonly webhookSecret?: string | undefined;
}

export interface MyTpeSandboxOptions {
  readonly port?: number | undefined;
  readonly host?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly apiSecret?: string | undefined;
  /** Default: one active instance "Sandbox SARL" with a fixed id. */
  readonly instances?: readonly MyTpeSandboxInstanceOptions[] | undefined;
  /** Unpaid one_shot links expire after this long (spec: 48 h). */
  readonly oneShotTtlMs?: number | undefined;
  readonly now?: (() => Date) | undefined;
  readonly latencyMs?: number | undefined;
  /** Wait before retry n (the last value repeats). Default [1000, 5000, 25000]. */
  readonly webhookRetryDelaysMs?: readonly number[] | undefined;
  /** Attempts per delivery in all, first included. Spec: 3. */
  readonly webhookMaxAttempts?: number | undefined;
}

export interface MyTpeSandboxFaults {
  /** Added before every API answer. */
  latencyMs: number;
  /** Every API and pay-page request has its socket destroyed (test controls keep working). */
  down: boolean;
  /** The next n API calls get 429 `{"message":"Too Many Attempts."}` with Retry-After. */
  rateLimitNext(n: number, retryAfterSeconds?: number): void;
  /** The next n API calls fail with this status (default 500). */
  failNext(n: number, status?: number): void;
  /** The next n API calls never get an answer. */
  hangNext(n: number): void;
  /** The next n successful link creations commit, then lose their answer (socket destroyed). */
  dropResponseAfterCreateNext(n: number): void;
  reset(): void;
}

export interface MyTpeSandbox {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `${url}/api/v2/mytpe-pay`, the adapter's baseUrl. */
  readonly apiBaseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** The first instance. */
  readonly instanceId: string;
  readonly faults: MyTpeSandboxFaults;
  /** Every webhook attempt so far, in order. */
  readonly deliveries: readonly WebhookDeliveryAttempt[];
  links(): LinkJson[];
  linkBySlug(slug: string): LinkJson | undefined;
  /** A payer pays (default outcome completed). Throws when the link is unknown or not payable. */
  pay(linkIdOrSlug: string, options?: PayOptions): TransactionJson;
  transactions(linkId: string): TransactionJson[];
  /** Forces the expiry of an unpaid link now. */
  expire(linkId: string): void;
  /** Sets the instance's webhook URL and secret (a fresh `whsec_…` when omitted); returns the secret. */
  setWebhook(instanceId: string, url: string | null, secret?: string): string | null;
  setInstanceStatus(instanceId: string, status: InstanceStatus): void;
  /** Resolves once every queued webhook delivery has succeeded or run out of attempts. */
  flushWebhooks(): Promise<void>;
  /** Stops the server, drops open connections and cancels pending webhook retries. */
  close(): Promise<void>;
}

export const DEFAULT_SANDBOX_INSTANCE_ID = '9d1c3a52-5b7e-4c1a-9f0e-5a1b7c2d3e4f';
export const DEFAULT_SANDBOX_API_KEY = 'mtk_test_sandbox';
export const DEFAULT_SANDBOX_API_SECRET = 'mts_test_sandbox_secret';
const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_BODY_BYTES = 5 * 1024 * 1024;

class Faults implements MyTpeSandboxFaults {
  latencyMs: number;
  down = false;
  rateLimited = 0;
  retryAfterSeconds = 1;
  failing = 0;
  failStatus = 500;
  hanging = 0;
  droppingCreates = 0;

  constructor(latencyMs: number) {
    this.latencyMs = latencyMs;
  }

  rateLimitNext(n: number, retryAfterSeconds = 1): void {
    this.rateLimited = n;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  failNext(n: number, status = 500): void {
    this.failing = n;
    this.failStatus = status;
  }

  hangNext(n: number): void {
    this.hanging = n;
  }

  dropResponseAfterCreateNext(n: number): void {
    this.droppingCreates = n;
  }

  reset(): void {
    this.latencyMs = 0;
    this.down = false;
    this.rateLimited = 0;
    this.failing = 0;
    this.hanging = 0;
    this.droppingCreates = 0;
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
    if (size > MAX_BODY_BYTES) throw new ApiError(413, { message: 'The request is too large.' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** `metadata[reference]=x` → `{metadata: {reference: 'x'}}`, as PHP builds `$_POST`. */
function nestFormEntries(entries: Iterable<[string, string | Blob]>): Input {
  const out: Input = {};
  for (const [key, value] of entries) {
    const match = /^([^[\]]+)\[([^[\]]*)\]$/.exec(key);
    if (!match?.[1]) {
      out[key] = value;
      continue;
    }
    const parent = match[1];
    const existing = out[parent];
    const group: Input =
      typeof existing === 'object' && existing !== null && !(existing instanceof Blob)
        ? (existing as Input)
        : {};
    group[match[2] ?? ''] = value;
    out[parent] = group;
  }
  return out;
}

async function parseInput(req: IncomingMessage, raw: Buffer): Promise<Input> {
  if (raw.length === 0) return {};
  const contentType = req.headers['content-type'] ?? '';
  if (/^application\/json/i.test(contentType)) {
    try {
      const json: unknown = JSON.parse(raw.toString('utf8'));
      return typeof json === 'object' && json !== null && !Array.isArray(json) ? (json as Input) : {};
    } catch {
      throw new ApiError(400, { message: 'The request body is not valid JSON.' });
    }
  }
  if (/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(contentType)) {
    // undici's Request parses multipart and urlencoded bodies; no extra dependency needed.
    const form = await new Request('http://sandbox.invalid/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    })
      .formData()
      .catch(() => {
        throw new ApiError(400, { message: 'The form body could not be parsed.' });
      });
    return nestFormEntries(form.entries());
  }
  return {};
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.destroyed || res.writableEnded) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
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

function intParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** Laravel's LengthAwarePaginator JSON. */
function paginate<T>(items: readonly T[], query: URLSearchParams, pageUrl: string, defaultPerPage = 10) {
  const perPage = Math.min(100, Math.max(1, intParam(query, 'per_page') ?? defaultPerPage));
  const page = Math.max(1, intParam(query, 'page') ?? 1);
  const total = items.length;
  const lastPage = Math.max(1, Math.ceil(total / perPage));
  const data = items.slice((page - 1) * perPage, page * perPage);
  const from = data.length > 0 ? (page - 1) * perPage + 1 : null;
  const urlOf = (n: number) => `${pageUrl}?page=${n}`;
  return {
    current_page: page,
    data,
    first_page_url: urlOf(1),
    from,
    last_page: lastPage,
    last_page_url: urlOf(lastPage),
    links: [
      { url: page > 1 ? urlOf(page - 1) : null, label: '&laquo; Previous', active: false },
      ...Array.from({ length: lastPage }, (_, i) => ({
        url: urlOf(i + 1),
        label: String(i + 1),
        active: i + 1 === page,
      })),
      { url: page < lastPage ? urlOf(page + 1) : null, label: 'Next &raquo;', active: false },
    ],
    next_page_url: page < lastPage ? urlOf(page + 1) : null,
    path: pageUrl,
    per_page: perPage,
    prev_page_url: page > 1 ? urlOf(page - 1) : null,
    to: from === null ? null : from + data.length - 1,
    total,
  };
}

function maskSecret(secret: string | null): string | null {
  return secret === null ? null : `whsec_••••••••${secret.slice(-4)}`;
}

function isLoopbackUrl(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
}

function failureMessage(status: number): string {
  if (status === 503) return 'Service Unavailable';
  if (status === 502) return 'Bad Gateway';
  if (status >= 500) return 'Server Error';
  return `HTTP ${status}`;
}

export async function startMyTpeSandbox(options: MyTpeSandboxOptions = {}): Promise<MyTpeSandbox> {
  const host = options.host ?? '127.0.0.1';
  const apiKey = options.apiKey ?? DEFAULT_SANDBOX_API_KEY;
  const apiSecret = options.apiSecret ?? DEFAULT_SANDBOX_API_SECRET;
  const now = options.now ?? (() => new Date());
  const faults = new Faults(options.latencyMs ?? 0);
  let publicUrl = '';

  const dispatcher = new WebhookDispatcher({
    retryDelaysMs: options.webhookRetryDelaysMs ?? [1000, 5000, 25000],
    maxAttempts: options.webhookMaxAttempts ?? 3,
    now,
  });
  const state = new SandboxState({
    now,
    oneShotTtlMs: options.oneShotTtlMs ?? 2 * DAY_MS,
    publicUrl: () => publicUrl,
    emit: (instance, event, build) => {
      if (instance.webhookUrl && instance.webhookSecret) {
        dispatcher.send({ url: instance.webhookUrl, secret: instance.webhookSecret }, event, build);
      }
    },
  });
  const instanceOptions = options.instances ?? [{ id: DEFAULT_SANDBOX_INSTANCE_ID, name: 'Sandbox SARL' }];
  for (const instance of instanceOptions) state.addInstance(instance);
  const firstInstance = [...state.instances.values()][0];
  if (!firstInstance) throw new Error('the MyTPE sandbox needs at least one instance');

  function linkOrThrow(idOrSlug: string): SandboxLink {
    const link = state.findLink(idOrSlug);
    // What the real MyTPE answers for a deleted (or someone else's) link.
    if (!link) throw new ApiError(404, { message: 'Not found.' });
    return link;
  }

  function setWebhook(instance: SandboxInstance, url: string | null, secret?: string): string | null {
    instance.webhookUrl = url;
    if (secret !== undefined) instance.webhookSecret = secret;
    else if (url !== null && instance.webhookSecret === null) instance.webhookSecret = newWebhookSecret();
    instance.updatedAt = now();
    return instance.webhookSecret;
  }

  // ---- API routes ---------------------------------------------------------------------------

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.hanging > 0) {
      faults.hanging -= 1;
      return; // never answered; close() drops the socket
    }
    if (faults.rateLimited > 0) {
      faults.rateLimited -= 1;
      sendJson(
        res,
        429,
        { message: 'Too Many Attempts.' },
        {
          'Retry-After': String(faults.retryAfterSeconds),
          'X-RateLimit-Limit': '60',
          'X-RateLimit-Remaining': '0',
        },
      );
      return;
    }
    if (faults.failing > 0) {
      faults.failing -= 1;
      sendJson(res, faults.failStatus, { message: failureMessage(faults.failStatus) });
      return;
    }
    if (req.headers['x-api-key'] !== apiKey || req.headers['x-api-secret'] !== apiSecret) {
      sendJson(res, 401, { message: 'Unauthenticated.' });
      return;
    }
    const input = await parseInput(req, await readBody(req));
    let method = req.method ?? 'GET';
    // Laravel's method override, which the docs' update example uses.
    if (method === 'POST' && typeof input._method === 'string') method = input._method.toUpperCase();
    const segments = url.pathname
      .slice(MYTPE_API_PREFIX.length)
      .split('/')
      .filter((segment) => segment !== '')
      .map((segment) => decodeURIComponent(segment));
    const query = url.searchParams;
    const pageUrl = `${publicUrl}${url.pathname}`;
    const [first, second, third] = segments;
    const notAllowed = () => {
      throw new ApiError(405, {
        message: `The ${method} method is not supported for route ${url.pathname}.`,
      });
    };

    if (segments.length === 0 || (segments.length === 1 && first === 'active')) {
      if (method !== 'GET') return notAllowed();
      let instances = [...state.instances.values()];
      if (first === 'active') instances = instances.filter((instance) => instance.status === 'active');
      const status = query.get('status');
      if (status) instances = instances.filter((instance) => instance.status === status);
      const search = query.get('search')?.toLowerCase();
      if (search) instances = instances.filter((instance) => instance.name.toLowerCase().includes(search));
      const page = paginate(
        instances.map((instance) => state.instanceJson(instance)),
        query,
        pageUrl,
      );
      sendJson(res, 200, { success: true, message: 'Retrieved successfully.', data: page });
      return;
    }

    if (first === 'stats' && segments.length === 1) {
      if (method !== 'GET') return notAllowed();
      const completed = state.transactionList.filter((transaction) => transaction.status === 'completed');
      const links = state.allLinks();
      const total = links.reduce((sum, link) => sum + link.collectedMinor, 0);
      sendJson(res, 200, {
        success: true,
        message: 'Retrieved successfully.',
        data: {
          transaction_count: completed.length,
          total_amount: formatMinorAsDecimal(total, 2),
          mytpe_pay_count: state.instances.size,
        },
      });
      return;
    }

    if (first === 'transaction' && second === 'recent' && segments.length === 2) {
      if (method !== 'GET') return notAllowed();
      const recent = [...state.transactionList]
        .reverse()
        .map((transaction) => state.transactionJson(transaction));
      sendJson(res, 200, {
        success: true,
        message: 'Retrieved successfully.',
        data: paginate(recent, query, pageUrl),
      });
      return;
    }

    if (first === 'links') {
      if (second === 'store' && segments.length === 2) {
        if (method !== 'POST') return notAllowed();
        const link = state.createLink(input);
        if (faults.droppingCreates > 0) {
          faults.droppingCreates -= 1;
          // Committed, but the caller never learns it: the timeout-after-commit case.
          req.socket.destroy();
          return;
        }
        sendJson(res, 201, { success: true, message: 'Created successfully.', data: state.linkJson(link) });
        return;
      }
      if (second === 'update' && third !== undefined && segments.length === 3) {
        if (!['POST', 'PATCH', 'PUT'].includes(method)) return notAllowed();
        const link = state.updateLink(state.link(third), input);
        sendJson(res, 200, { success: true, message: 'Updated successfully.', data: state.linkJson(link) });
        return;
      }
      if (second !== undefined && segments.length === 2) {
        if (method === 'GET') {
          sendJson(res, 200, {
            success: true,
            message: 'Retrieved successfully.',
            data: state.linkJson(state.link(second)),
          });
          return;
        }
        if (method === 'DELETE') {
          state.deleteLink(state.link(second));
          sendJson(res, 200, { success: true, message: 'Deleted successfully.' });
          return;
        }
        return notAllowed();
      }
      if (second !== undefined && third === 'toggle-status' && segments.length === 3) {
        if (method !== 'PATCH') return notAllowed();
        const link = state.toggleLink(state.link(second));
        sendJson(res, 200, {
          success: true,
          message: link.status === 'active' ? 'Payment link activated.' : 'Payment link deactivated.',
          data: {
            id: link.id,
            title: link.title,
            status: link.status,
            updated_at: laravelTime(link.updatedAt),
          },
        });
        return;
      }
      if (second !== undefined && third === 'transactions' && segments.length === 3) {
        if (method !== 'GET') return notAllowed();
        const link = state.link(second);
        const status = query.get('status');
        const list = state
          .transactionsOf(link.id)
          .filter((transaction) => !status || transaction.status === status)
          .reverse()
          .map((transaction) => state.transactionJson(transaction));
        sendJson(res, 200, {
          success: true,
          message: 'Retrieved successfully.',
          data: paginate(list, query, pageUrl),
        });
        return;
      }
    }

    if (first !== undefined && second === 'links' && segments.length === 2) {
      if (method !== 'GET') return notAllowed();
      const instance = state.instance(first);
      let links = state.allLinks().filter((link) => link.instanceId === instance.id);
      const search = query.get('search')?.toLowerCase();
      if (search) {
        links = links.filter(
          (link) => link.title.toLowerCase().includes(search) || link.slug.toLowerCase().includes(search),
        );
      }
      const status = query.get('status');
      if (status) links = links.filter((link) => link.status === status);
      const type = query.get('type');
      if (type) links = links.filter((link) => link.type === type);
      const sortBy = query.get('sort_by');
      links.sort((a, b) => {
        if (sortBy === 'title') return a.title.localeCompare(b.title);
        if (sortBy === 'collected_amount') return b.collectedMinor - a.collectedMinor;
        return b.createdAt.getTime() - a.createdAt.getTime();
      });
      const page = paginate(
        links.map((link) => state.linkListItemJson(link)),
        query,
        pageUrl,
      );
      sendJson(res, 200, { success: true, message: 'Retrieved successfully.', data: page });
      return;
    }

    if (first !== undefined && second === 'webhook') {
      const instance = state.instance(first);
      if (segments.length === 2 && method === 'GET') {
        sendJson(res, 200, {
          success: true,
          message: 'Retrieved successfully.',
          data: {
            webhook_url: instance.webhookUrl,
            webhook_secret: maskSecret(instance.webhookSecret),
            has_secret: instance.webhookSecret !== null,
          },
        });
        return;
      }
      if (segments.length === 2 && method === 'PUT') {
        const v = new Validator();
        const value = input.webhook_url;
        if (v.required('webhook_url', value) && v.string('webhook_url', value, 2048)) {
          let parsed: URL | undefined;
          try {
            parsed = new URL(String(value));
          } catch {
            v.add('webhook_url', 'The webhook url field must be a valid URL.');
          }
          // The spec requires HTTPS; loopback receivers in tests are allowed plain HTTP.
          if (
            parsed &&
            parsed.protocol !== 'https:' &&
            !(parsed.protocol === 'http:' && isLoopbackUrl(parsed))
          ) {
            v.add('webhook_url', 'The webhook url field must start with one of the following: https://.');
          }
        }
        const failure = v.failure();
        if (failure) throw ApiError.validation(failure);
        const firstTime = instance.webhookSecret === null;
        setWebhook(instance, String(value));
        sendJson(res, 200, {
          success: true,
          message: 'Webhook updated successfully.',
          data: {
            webhook_url: instance.webhookUrl,
            // The full secret is shown once, when it is created.
            webhook_secret: firstTime ? instance.webhookSecret : maskSecret(instance.webhookSecret),
            has_secret: true,
          },
        });
        return;
      }
      if (segments.length === 3 && third === 'regenerate-secret' && method === 'POST') {
        instance.webhookSecret = newWebhookSecret();
        instance.updatedAt = now();
        sendJson(res, 200, {
          success: true,
          message: 'Webhook secret regenerated.',
          data: {
            webhook_url: instance.webhookUrl,
            webhook_secret: instance.webhookSecret,
            has_secret: true,
          },
        });
        return;
      }
      return notAllowed();
    }

    throw new ApiError(404, { message: `The route ${url.pathname.slice(1)} could not be found.` });
  }

  // ---- hosted pay page ----------------------------------------------------------------------

  async function payRoute(req: IncomingMessage, res: ServerResponse, slug: string): Promise<void> {
    const link = state.findLink(slug);
    if (!link || link.slug !== slug) {
      sendHtml(res, 404, notPayablePage('Payment link not found', 'Check the address you were given.'));
      return;
    }
    const instance = state.instance(link.instanceId);
    if (req.method === 'GET') {
      if (link.status !== 'active') {
        const reason =
          link.status === 'inactive'
            ? 'This payment link is paused by the merchant.'
            : state.paymentStatus(link) === 'expired'
              ? 'This payment link has expired.'
              : 'This payment link has already been paid.';
        sendHtml(res, 410, notPayablePage(link.title, reason));
        return;
      }
      sendHtml(
        res,
        200,
        payPage({
          slug: link.slug,
          title: link.title,
          details: link.details,
          amount: link.amount,
          instanceName: instance.name,
          allowAnonymous: link.settings.allow_anonymous,
        }),
      );
      return;
    }
    if (req.method !== 'POST') {
      sendHtml(res, 405, notPayablePage('Not allowed', 'Use the Pay button.'));
      return;
    }
    const form = await parseInput(req, await readBody(req));
    const text = (key: string) => (typeof form[key] === 'string' ? (form[key] as string) : undefined);
    try {
      const transaction = state.pay(link, {
        outcome: text('outcome') === 'failed' ? 'failed' : 'completed',
        amount: link.amount === null ? text('amount') : undefined,
        name: text('name'),
        email: text('email'),
        phone: text('phone'),
      });
      sendHtml(
        res,
        200,
        resultPage({
          title: link.title,
          slug: link.slug,
          completed: transaction.status === 'completed',
          amount: transaction.amount,
          orderNumber: transaction.orderNumber,
          retry: link.settings.show_retry_button,
        }),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      sendHtml(res, error.status, notPayablePage(link.title, error.message));
    }
  }

  // ---- test controls ------------------------------------------------------------------------

  async function control(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const segments = url.pathname
      .split('/')
      .filter((segment) => segment !== '')
      .map(decodeURIComponent);
    const [, kind, id, action] = segments;
    if (kind === 'links' && id !== undefined && req.method === 'POST' && segments.length === 4) {
      const input = await parseInput(req, await readBody(req));
      const link = linkOrThrow(id);
      if (action === 'pay') {
        const outcome = input.outcome ?? 'completed';
        if (outcome !== 'completed' && outcome !== 'failed') {
          throw new ApiError(422, {
            message: 'The selected outcome is invalid.',
            errors: { outcome: ['The selected outcome is invalid.'] },
          });
        }
        const transaction = state.pay(link, {
          outcome,
          amount: typeof input.amount === 'string' ? input.amount : undefined,
        });
        sendJson(res, 201, { success: true, data: state.transactionJson(transaction) });
        return;
      }
      if (action === 'expire') {
        try {
          state.expire(link);
        } catch (error) {
          throw new ApiError(422, { message: error instanceof Error ? error.message : String(error) });
        }
        sendJson(res, 200, { success: true, data: state.linkJson(link) });
        return;
      }
    }
    if (kind === 'deliveries' && req.method === 'GET' && segments.length === 2) {
      sendJson(res, 200, { data: dispatcher.log });
      return;
    }
    throw new ApiError(404, { message: `The route ${url.pathname.slice(1)} could not be found.` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname;
    if (path.startsWith('/sandbox/')) return control(req, res, url);
    if (faults.down) {
      req.socket.destroy();
      return;
    }
    const payMatch = /^\/pay\/([^/]+)\/?$/.exec(path);
    if (payMatch?.[1]) return payRoute(req, res, decodeURIComponent(payMatch[1]));
    if (path === MYTPE_API_PREFIX || path.startsWith(`${MYTPE_API_PREFIX}/`)) return api(req, res, url);
    sendJson(res, 404, { message: `The route ${path.slice(1)} could not be found.` });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof ApiError) {
        sendJson(res, error.status, error.body);
        return;
      }
      sendJson(res, 500, {
        message: 'Server Error',
        exception: error instanceof Error ? error.message : String(error),
      });
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

  const instanceOf = (id: string): SandboxInstance => {
    const instance = state.instances.get(id);
    if (!instance) throw new Error(`no MyTPE sandbox instance ${id}`);
    return instance;
  };

  return {
    url: publicUrl,
    apiBaseUrl: `${publicUrl}${MYTPE_API_PREFIX}`,
    apiKey,
    apiSecret,
    instanceId: firstInstance.id,
    faults,
    deliveries: dispatcher.log,
    links: () => state.allLinks().map((link) => state.linkJson(link)),
    linkBySlug: (slug) => {
      const link = state.findLink(slug);
      return link && link.slug === slug ? state.linkJson(link) : undefined;
    },
    pay: (linkIdOrSlug, payOptions) => {
      const link = state.findLink(linkIdOrSlug);
      if (!link) throw new Error(`no MyTPE sandbox link ${linkIdOrSlug}`);
      return state.transactionJson(state.pay(link, payOptions));
    },
    transactions: (linkId) =>
      state.transactionsOf(linkId).map((transaction) => state.transactionJson(transaction)),
    expire: (linkId) => {
      const link = state.findLink(linkId);
      if (!link) throw new Error(`no MyTPE sandbox link ${linkId}`);
      state.expire(link);
    },
    setWebhook: (instanceId, url, secret) => setWebhook(instanceOf(instanceId), url, secret),
    setInstanceStatus: (instanceId, status) => {
      const instance = instanceOf(instanceId);
      instance.status = status;
      instance.updatedAt = now();
    },
    flushWebhooks: () => dispatcher.flush(),
    async close() {
      dispatcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
