/**
 * The Odoo sandbox's HTTP face on loopback: /jsonrpc, /xmlrpc/2 (xmlrpc.ts), /json/2 on 19.0
 * (json2.ts), the web session routes, /web/version and the invoice PDF report, with Odoo's
 * envelopes, statuses and error shapes (node:http, so faults can cut connections and nothing
 * parses bodies behind our back).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  authenticateLogin,
  type Dispatcher,
  dispatchCallKw,
  dispatchRpc,
  recordCall,
  versionInfo,
} from './dispatch.js';
import {
  accessDenied,
  accessError,
  type Json,
  type JsonObject,
  serializeError,
  sessionExpired,
} from './errors.js';
import { type OdooCallRecord, OdooFaults } from './faults.js';
import { isObject } from './fields.js';
import { isJson2Path, json2Route } from './json2.js';
import { createRegistry } from './models/index.js';
import type { OdooVersion, Registry } from './registry.js';
import { SandboxModels } from './scene.js';
import { seedBase } from './seed.js';
import { invoiceReport, parseCookies, sessionCookie, sessionInfo, WebSessions, webContext } from './web.js';
import { xmlRpcRoute, xmlRpcService } from './xmlrpc.js';

export interface OdooSandboxOptions {
  version?: OdooVersion;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  db?: string;
  login?: string;
  password?: string;
  /** Initial value of faults.latencyMs: delay added to every request. */
  latencyMs?: number;
  /** payment_state of a fully paid invoice: 'paid' (Community) or 'in_payment' (Enterprise accounting). */
  settledState?: 'paid' | 'in_payment';
  /** 'demo' runs models.seedDemo() before listening. */
  seed?: 'demo' | 'empty';
  /** Clock for create/write dates and today's date (default: the real clock). */
  now?: () => Date;
  /**
   * Seeds a Billing-rights bot user (Invoicing / Billing plus Internal User), the way the product
   * runs in production; defaults: login 'paylink-bot', password 'bot-pass-123', email
   * 'paylink-bot@example.com' (false: no email, which 18.0's message_post refuses).
   */
  bot?: { login?: string; password?: string; email?: string | false; name?: string };
  /** ir.config_parameter database.uuid (default: a random uuid v4). */
  databaseUuid?: string;
  /** A neutralized database copy: database.is_neutralized is 'true' instead of unset. */
  neutralized?: boolean;
}

export interface SandboxBot {
  readonly uid: number;
  readonly login: string;
  readonly password: string;
}

export interface OdooSandbox {
  /** e.g. http://127.0.0.1:53124 */
  readonly url: string;
  readonly db: string;
  /** The admin's login and password (uid 2, every group). */
  readonly login: string;
  readonly password: string;
  /** The Billing bot, when the `bot` option asked for one. */
  readonly bot?: SandboxBot;
  readonly version: OdooVersion;
  readonly faults: OdooFaults;
  readonly models: SandboxModels;
  /** Every RPC call received, oldest first; clear it with `calls.length = 0`. */
  readonly calls: OdooCallRecord[];
  /** Makes `key` an API key of `uid` (default the admin, 2): a password over RPC, a bearer for JSON-2. */
  addApiKey(key: string, uid?: number): void;
  close(): Promise<void>;
}

const JSON_MIMETYPES = new Set(['application/json', 'application/json-rpc']);
const MAX_BODY_BYTES = 20 * 1024 * 1024;

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: string | Buffer,
    readonly headers: Record<string, string> = {},
  ) {}
}

function html(status: number, title: string, text: string): HttpAnswer {
  const body = `<!doctype html>\n<html lang=en>\n<title>${status} ${title}</title>\n<h1>${title}</h1>\n<p>${text}</p>\n`;
  return new HttpAnswer(status, body, { 'Content-Type': 'text/html; charset=utf-8' });
}

function json(value: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return new HttpAnswer(200, JSON.stringify(value), { 'Content-Type': 'application/json', ...headers });
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error('request body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

type JsonRequest = { id: Json; params: JsonObject };

/** Odoo's JsonRPCDispatcher front: 415 for a non-JSON type, 400 plain text for bad JSON. */
function parseJsonRequest(request: IncomingMessage, body: Buffer): JsonRequest | HttpAnswer {
  const mimetype = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (!JSON_MIMETYPES.has(mimetype)) {
    const answer = html(
      415,
      'Unsupported Media Type',
      `Expected a JSON request (application/json or application/json-rpc), got ${mimetype || 'no content type'}.`,
    );
    return new HttpAnswer(415, answer.body, {
      ...answer.headers,
      Accept: 'application/json, application/json-rpc',
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return new HttpAnswer(400, 'Invalid JSON data', { 'Content-Type': 'text/html; charset=utf-8' });
  }
  if (!isObject(parsed)) {
    return new HttpAnswer(400, 'Invalid JSON-RPC data', { 'Content-Type': 'text/html; charset=utf-8' });
  }
  const params = parsed.params ?? {};
  return { id: parsed.id ?? null, params: isObject(params) ? params : {} };
}

class SandboxServer {
  readonly faults: OdooFaults;
  readonly calls: OdooCallRecord[] = [];
  readonly sessions = new WebSessions();
  readonly dispatcher: Dispatcher;
  url = '';
  /** Answers whose connection must be cut after the work is done. */
  private static readonly DROP = Symbol('drop');

  constructor(
    readonly reg: Registry,
    readonly db: string,
    latencyMs: number,
  ) {
    this.faults = new OdooFaults(latencyMs);
    this.dispatcher = { reg, faults: this.faults, calls: this.calls, db };
  }

  async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.faults.down) {
      request.socket.destroy();
      return;
    }
    let body: Buffer;
    try {
      body = await readBody(request);
    } catch {
      request.socket.destroy();
      return;
    }
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    if (this.faults.down) {
      request.socket.destroy();
      return;
    }
    const answer = (await this.xmlRpc(request, body)) ?? this.route(request, body);
    if (answer === SandboxServer.DROP) {
      request.socket.destroy();
      return;
    }
    response.writeHead(answer.status, {
      ...answer.headers,
      'Content-Length': String(Buffer.byteLength(answer.body)),
    });
    response.end(answer.body);
  }

  /** POST /xmlrpc/2/<service> (xmlrpc.ts); undefined for every other request. */
  private async xmlRpc(
    request: IncomingMessage,
    body: Buffer,
  ): Promise<HttpAnswer | typeof SandboxServer.DROP | undefined> {
    const path = new URL(request.url ?? '/', 'http://sandbox.invalid').pathname;
    const service = xmlRpcService(path);
    if (service === undefined || request.method !== 'POST') return undefined;
    const answer = await xmlRpcRoute(this.dispatcher, service, body);
    return answer.drop ? SandboxServer.DROP : new HttpAnswer(answer.status, answer.body, answer.headers);
  }

  private route(request: IncomingMessage, body: Buffer): HttpAnswer | typeof SandboxServer.DROP {
    const url = new URL(request.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    if (isJson2Path(path)) {
      const header = (name: string) => {
        const value = request.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      const answer = json2Route(this.dispatcher, {
        method,
        path,
        fullPath: `${url.pathname}?${url.search.slice(1)}`,
        headers: {
          authorization: header('authorization'),
          database: header('x-odoo-database'),
        },
        body,
      });
      return answer.drop ? SandboxServer.DROP : new HttpAnswer(answer.status, answer.body, answer.headers);
    }
    if (path === '/jsonrpc') {
      if (method !== 'POST')
        return html(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.');
      return this.jsonRoute(request, body, (params) => dispatchRpc(this.dispatcher, params));
    }
    if (path === '/web/session/authenticate' && method === 'POST') {
      return this.jsonRoute(request, body, (params) => this.authenticate(params), true);
    }
    if (path === '/web/session/destroy' && method === 'POST') {
      const sid = parseCookies(request.headers.cookie).session_id;
      return this.jsonRoute(request, body, () => {
        this.sessions.close(sid);
        return { result: null, drop: false };
      });
    }
    if (path === '/web/session/get_session_info' && method === 'POST') {
      return this.jsonRoute(request, body, () => {
        const session = this.session(request);
        return { result: sessionInfo(this.reg, session.uid, session.db, this.url), drop: false };
      });
    }
    if (path === '/web/dataset/call_kw' || path.startsWith('/web/dataset/call_kw/')) {
      if (method !== 'POST')
        return html(405, 'Method Not Allowed', 'The method is not allowed for the requested URL.');
      return this.jsonRoute(request, body, (params) =>
        dispatchCallKw(this.dispatcher, this.session(request).uid, params),
      );
    }
    if (path === '/web/version' || (path === '/json/version' && this.reg.traits.hasJson2)) {
      return json({ version_info: versionInfo(this.reg), version: this.reg.version });
    }
    if (path === '/web/login') {
      return html(200, 'Login', 'Odoo sandbox: log in with /web/session/authenticate.');
    }
    const report = /^\/report\/pdf\/account\.report_invoice\/([\d,]+)$/.exec(path);
    if (report?.[1] && method === 'GET') return this.report(request, report[1]);
    return html(404, 'Not Found', 'The requested URL was not found on the server.');
  }

  private jsonRoute(
    request: IncomingMessage,
    body: Buffer,
    run: (params: JsonObject) => { result: Json; drop: boolean; headers?: Record<string, string> },
    setsCookie = false,
  ): HttpAnswer | typeof SandboxServer.DROP {
    const parsed = parseJsonRequest(request, body);
    if (parsed instanceof HttpAnswer) return parsed;
    try {
      const outcome = run(parsed.params);
      if (outcome.drop) return SandboxServer.DROP;
      return json(
        { jsonrpc: '2.0', id: parsed.id, result: outcome.result },
        setsCookie ? (outcome.headers ?? {}) : {},
      );
    } catch (error) {
      return json({ jsonrpc: '2.0', id: parsed.id, error: serializeError(error, this.reg.version) });
    }
  }

  private session(request: IncomingMessage) {
    const session = this.sessions.get(parseCookies(request.headers.cookie).session_id);
    if (!session) throw sessionExpired();
    return session;
  }

  private authenticate(params: JsonObject): { result: Json; drop: boolean; headers: Record<string, string> } {
    const call = { service: 'web', method: 'authenticate' };
    recordCall(this.dispatcher, call);
    const failure = this.faults.failureFor(call);
    if (failure) throw failure;
    if (params.db !== this.db) throw accessError('Database not found.');
    const uid = authenticateLogin(this.reg, params.login, params.password, false);
    if (uid === false) throw accessDenied();
    const sid = this.sessions.open({ uid, db: this.db, login: String(params.login) });
    return {
      result: sessionInfo(this.reg, uid, this.db, this.url),
      drop: this.faults.shouldDrop(call),
      headers: { 'Set-Cookie': sessionCookie(sid) },
    };
  }

  private report(request: IncomingMessage, idsText: string): HttpAnswer {
    const cookies = parseCookies(request.headers.cookie);
    const session = this.sessions.get(cookies.session_id);
    if (!session) {
      const redirect = `/web/login?redirect=${encodeURIComponent(request.url ?? '/')}`;
      return new HttpAnswer(
        303,
        `<!doctype html>\n<title>Redirecting...</title>\n<a href="${redirect}">${redirect}</a>\n`,
        {
          Location: redirect,
          'Content-Type': 'text/html; charset=utf-8',
        },
      );
    }
    const ids = idsText.split(',').map((id) => Number.parseInt(id, 10));
    try {
      const env = this.reg.userEnv(session.uid, webContext(cookies.cids), true);
      const pdf = invoiceReport(this.reg, env, ids);
      return new HttpAnswer(200, pdf, {
        'Content-Type': 'application/pdf',
        'Content-Disposition': `inline; filename="Invoice_${ids.join('_')}.pdf"`,
      });
    } catch (error) {
      // Odoo's report route answers errors as a 500 carrying the serialized exception.
      const payload = JSON.stringify({
        code: 200,
        message: 'Odoo Server Error',
        data: serializeError(error, this.reg.version).data,
      });
      return new HttpAnswer(
        500,
        payload.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'),
        {
          'Content-Type': 'text/html; charset=utf-8',
        },
      );
    }
  }
}

/** Starts an in-memory Odoo 18.0/19.0 on loopback. */
export async function startOdooSandbox(options: OdooSandboxOptions = {}): Promise<OdooSandbox> {
  const version = options.version ?? '18.0';
  const db = options.db ?? 'sandbox';
  const login = options.login ?? 'admin';
  const password = options.password ?? 'admin';
  const reg = createRegistry({
    version,
    settledState: options.settledState ?? 'paid',
    now: options.now ?? (() => new Date()),
  });
  seedBase(reg, {
    login,
    password,
    ...(options.databaseUuid !== undefined ? { databaseUuid: options.databaseUuid } : {}),
    ...(options.neutralized !== undefined ? { neutralized: options.neutralized } : {}),
  });
  const models = new SandboxModels(reg);
  let bot: SandboxBot | undefined;
  if (options.bot) {
    const botLogin = options.bot.login ?? 'paylink-bot';
    const botPassword = options.bot.password ?? 'bot-pass-123';
    const uid = models.createUser({
      name: options.bot.name ?? 'Paylink Bot',
      login: botLogin,
      password: botPassword,
      email: options.bot.email === undefined ? 'paylink-bot@example.com' : options.bot.email,
      groups: ['billing'],
    });
    bot = { uid, login: botLogin, password: botPassword };
  }
  if (options.seed === 'demo') models.seedDemo();
  const sandbox = new SandboxServer(reg, db, options.latencyMs ?? 0);
  const server: Server = createServer((request, response) => {
    sandbox.handle(request, response).catch((error: unknown) => {
      // A bug in the sandbox: answer like Odoo would for an unexpected exception.
      if (!response.headersSent) {
        response.writeHead(500, { 'Content-Type': 'text/plain' });
        response.end(
          `Odoo sandbox internal error: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  sandbox.url = `http://${urlHost}:${address.port}`;
  models.setConfigParam('web.base.url', sandbox.url);
  return {
    url: sandbox.url,
    db,
    login,
    password,
    ...(bot ? { bot } : {}),
    version,
    faults: sandbox.faults,
    models,
    calls: sandbox.calls,
    addApiKey(key: string, uid = 2): void {
      const keys = reg.apiKeys.get(uid) ?? new Set<string>();
      keys.add(key);
      reg.apiKeys.set(uid, keys);
    },
    close(): Promise<void> {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
