import Fastify, { type FastifyInstance } from 'fastify';
import type { Gateway, LinkRecord, WebhookDelivery } from '../gateways/gateway.js';
import type { Logger } from '../log.js';
import { checkDelivery, type ReturnService } from '../paypage/returns.js';
import type { PayPageAnswer } from '../paypage/service.js';
import type { EventRepository } from '../store/events.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import { RateLimiter } from './rate-limit.js';

/**
 * Why the daemon is not ready, as a short code: /readyz is often reachable by more people than
 * the log, and Odoo's own refusal text names the login and the database.
 */
export type ReadinessReason =
  | 'odoo_credentials_refused'
  | 'odoo_unknown_database'
  | 'odoo_fields_missing'
  | 'odoo_identity_missing'
  | 'odoo_unavailable'
  | 'gateway_unavailable'
  | 'store_unavailable';

/** Not ready: the first reason, and all of them when several hold (Odoo, gateways, store). */
export type Readiness =
  | { ok: true }
  | { ok: false; reason: ReadinessReason; reasons?: readonly ReadinessReason[] };

/** What a webhook delivery came to, for metrics. */
export type WebhookVerdict = 'accepted' | 'duplicate' | 'bad_signature' | 'malformed' | 'unknown_gateway';

export interface HttpServerDeps {
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly events: EventRepository;
  /** The links webhooks name, and what the gateway needs of them to verify a signature. */
  readonly links: LinkRepository;
  readonly recordOf: (row: LinkRow, linkId: string) => LinkRecord | undefined;
  readonly log: Logger;
  readonly now: () => number;
  /** Called after an event is stored, to process it without waiting for a schedule. */
  readonly onEvent: () => void;
  /** Readiness: false while Odoo work is halted, with the reason's code (the details go to the log). */
  readonly ready: () => Readiness;
  /** Largest webhook body accepted (bytes). */
  readonly bodyLimit?: number;
  /** Told of every webhook delivery's verdict (metrics). */
  readonly onWebhook?: (gateway: string, verdict: WebhookVerdict) => void;
  /** The pay page (`GET /pay/<token>`), when http.publicUrl is configured. */
  readonly payPage?: {
    open(token: string): Promise<PayPageAnswer>;
    /** Requests per minute one client address, and one token, may make. */
    readonly perAddressPerMinute: number;
    readonly perTokenPerMinute: number;
  };
  /** The customer's return from a redirect-style gateway (`/return/<gateway>`). */
  readonly returns?: ReturnService;
}

/**
 * The daemon's HTTP face: gateway webhooks and health probes. Webhooks are verified on the raw
 * bytes, stored, and acknowledged within milliseconds; the work happens afterwards.
 */
export function createHttpServer(deps: HttpServerDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.bodyLimit ?? 256 * 1024,
    return503OnClosing: true,
    // A long bad pay token is a plain 404 like any other, not a 414.
    routerOptions: { maxParamLength: 512 },
    // Behind a reverse proxy on this host, the client is who the proxy says (rate limits per client).
    trustProxy: ['127.0.0.1', '::1'],
  });
  const log = deps.log;

  // Keep every body as the exact bytes received: signatures are computed over them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setNotFoundHandler((request, reply) => {
    void reply
      .code(404)
      .send({ error: 'not_found', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status === 413)
      return reply.code(413).send({ error: 'payload_too_large', message: 'body over the size limit' });
    if (status >= 500) log.error(`HTTP handler failed: ${error.message}`);
    return reply
      .code(status)
      .send({ error: error.code ?? 'error', message: status >= 500 ? 'internal error' : error.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const ready = deps.ready();
    return ready.ok
      ? { status: 'ready' }
      : reply.code(503).send({
          status: 'not_ready',
          reason: ready.reason,
          // All of them only when several hold: the one-reason answer stays as it always was.
          ...(ready.reasons && ready.reasons.length > 1 ? { reasons: ready.reasons } : {}),
        });
  });

  const payPage = deps.payPage;
  if (payPage) {
    const byAddress = new RateLimiter(payPage.perAddressPerMinute, 60_000, deps.now);
    const byToken = new RateLimiter(payPage.perTokenPerMinute, 60_000, deps.now);
    app.get<{ Params: { token: string } }>('/pay/:token', async (request, reply) => {
      // Nothing about an invoice is cached or sent on to other sites (the token is in the URL).
      void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
      const { token } = request.params;
      if (!byAddress.take(request.ip) || !byToken.take(token)) {
        return reply
          .code(429)
          .header('retry-after', String(byAddress.retryAfterSeconds()))
          .type('text/plain; charset=utf-8')
          .send('Too many requests. Please try again in a minute.');
      }
      const answer = await payPage.open(token);
      switch (answer.kind) {
        case 'redirect':
          return reply.code(303).header('location', answer.location).send();
        case 'page':
          if (answer.status === 503) void reply.header('retry-after', '120');
          return reply.code(answer.status).type('text/html; charset=utf-8').send(answer.html);
        case 'not_found':
          return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      }
    });
  }

  app.post<{ Params: { gateway: string } }>('/webhooks/:gateway', async (request, reply) => {
    const gateway = deps.gateways.get(request.params.gateway);
    const webhooks = gateway?.webhooks;
    const verdict = (value: WebhookVerdict) => deps.onWebhook?.(request.params.gateway, value);
    if (!gateway || !webhooks) {
      // Any name may be POSTed here: only known gateways get a label of their own.
      deps.onWebhook?.('unknown', 'unknown_gateway');
      return reply.code(404).send({ error: 'not_found', message: 'no webhook endpoint for this gateway' });
    }
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const delivery = { rawBody, headers: request.headers, receivedAt: new Date(deps.now()) };
    const checked = checkDelivery(webhooks, gateway, delivery, deps);
    if (!checked.ok && checked.status === 401) {
      verdict('bad_signature');
      log.warn(
        `SECURITY: rejected a ${gateway.displayName} webhook (${checked.reason}); nothing was stored`,
        {
          ip: request.ip,
          reason: checked.reason,
        },
      );
      return reply.code(401).send({ error: 'unauthorized', message: 'signature check failed' });
    }
    if (!checked.ok) {
      verdict('malformed');
      log.warn(`rejected a signed ${gateway.displayName} webhook with a malformed body: ${checked.reason}`);
      return reply.code(400).send({ error: 'bad_request', message: checked.reason });
    }
    const { event } = checked;
    const stored = deps.events.record(gateway.id, event, rawBody.toString('utf8'), deps.now());
    verdict(stored ? 'accepted' : 'duplicate');
    const level = event.concernsPayment ? 'info' : 'debug';
    log[level](`${stored ? 'received' : 'already had'} ${gateway.displayName} webhook ${event.type}`, {
      event: event.id,
      link: event.linkId,
    });
    if (stored && event.concernsPayment) deps.onEvent();
    return reply.code(200).send({ received: true, duplicate: !stored });
  });

  const returns = deps.returns;
  if (returns) {
    // The browser comes back with a GET query, or a POST form (TendoPay may do either).
    app.route<{ Params: { gateway: string } }>({
      method: ['GET', 'POST'],
      url: '/return/:gateway',
      handler: async (request, reply) => {
        void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        if (!returns.handles(request.params.gateway))
          return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
        const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
        const rawBody =
          request.method === 'POST' && Buffer.isBuffer(request.body)
            ? request.body
            : Buffer.from(query, 'utf8');
        const delivery: WebhookDelivery = {
          rawBody,
          headers: request.headers,
          receivedAt: new Date(deps.now()),
        };
        const answer = await returns.receive(request.params.gateway, delivery, {
          ip: request.ip,
          acceptLanguage: request.headers['accept-language'],
        });
        if (answer.kind === 'page') {
          const stored = answer.status < 400;
          if (stored) deps.onEvent();
          return reply.code(answer.status).type('text/html; charset=utf-8').send(answer.html);
        }
        if (answer.kind === 'redirect') return reply.code(303).header('location', answer.location).send();
        return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
      },
    });
  }

  app.route({
    method: ['GET', 'PUT', 'PATCH', 'DELETE'],
    url: '/webhooks/:gateway',
    handler: async (_request, reply) =>
      reply
        .code(405)
        .header('allow', 'POST')
        .send({ error: 'method_not_allowed', message: 'webhooks are POSTed' }),
  });

  return app;
}
