import { z } from 'zod';
import { classifyOdooError, OdooError, type OdooErrorKind } from './errors.js';
import { exchange } from './http.js';
import type { OdooTransport } from './transport.js';

/**
 * Odoo's JSON-2 API (19.0+): `POST /json/2/<model>/<method>` with `Authorization: bearer <API
 * key>`, the database in `X-Odoo-Database`, every argument by name (`ids`, `context`, then the
 * method's parameters) and a bare JSON result. Errors come with real HTTP statuses and a body
 * `{name, message, arguments, context, debug}` (shared/odoo-captures/19.0/json2).
 */

/** How a method's positional arguments are named: `record` methods take the ids first. */
interface Signature {
  readonly kind: 'model' | 'record';
  /** Python parameter names after self (and after the ids of a record method). */
  readonly params: readonly string[];
}

const model = (...params: string[]): Signature => ({ kind: 'model', params });
const record = (...params: string[]): Signature => ({ kind: 'record', params });

/**
 * The methods the daemon calls with positional arguments, named as in Odoo's Python signatures.
 * A method missing here still works when called with kwargs only (a model method) or with the
 * ids alone (add it here as a record method); anything else fails loudly instead of guessing.
 */
export const JSON2_SIGNATURES: Readonly<Record<string, Signature>> = {
  search: model('domain', 'offset', 'limit', 'order'),
  search_read: model('domain', 'fields', 'offset', 'limit', 'order'),
  search_count: model('domain', 'limit'),
  read_group: model('domain', 'fields', 'groupby', 'offset', 'limit', 'orderby', 'lazy'),
  name_search: model('name', 'domain', 'operator', 'limit'),
  create: model('vals_list'),
  fields_get: model('allfields', 'attributes'),
  default_get: model('fields_list'),
  get_views: model('views', 'options'),
  get_param: model('key', 'default'),
  context_get: model(),
  check_access_rights: model('operation', 'raise_exception'),
  read: record('fields', 'load'),
  write: record('vals'),
  unlink: record(),
  exists: record(),
  message_post: record(),
  action_post: record(),
  action_create_payments: record(),
};

/** Turns an execute_kw call (positional args + kwargs) into a JSON-2 body. */
export function json2Body(
  modelName: string,
  method: string,
  args: readonly unknown[],
  kwargs: Record<string, unknown>,
): Record<string, unknown> {
  const signature = JSON2_SIGNATURES[method];
  if (!signature) {
    if (args.length === 0) return { ...kwargs };
    throw new OdooError(
      'protocol',
      `JSON-2 takes named arguments only, and ${modelName}.${method} has no known parameter names for its ${args.length} positional argument(s): add it to JSON2_SIGNATURES in src/odoo/json2.ts or pass them as kwargs`,
    );
  }
  const body: Record<string, unknown> = {};
  let rest = args;
  if (signature.kind === 'record') {
    if (rest.length === 0) {
      throw new OdooError(
        'protocol',
        `${modelName}.${method} is a record method: its first argument is the ids`,
      );
    }
    body.ids = rest[0];
    rest = rest.slice(1);
  }
  if (rest.length > signature.params.length) {
    throw new OdooError(
      'protocol',
      `${modelName}.${method} takes at most ${signature.params.length} positional argument(s) after the ids, got ${rest.length}`,
    );
  }
  rest.forEach((value, index) => {
    body[signature.params[index]!] = value;
  });
  for (const [name, value] of Object.entries(kwargs)) {
    if (name in body) {
      throw new OdooError('protocol', `${modelName}.${method} got ${name} both by position and by name`);
    }
    body[name] = value;
  }
  return body;
}

const errorBodySchema = z
  .object({ name: z.string(), message: z.string(), arguments: z.array(z.unknown()).optional() })
  .loose();
const contextSchema = z.object({ uid: z.number().int().positive() }).loose();
const userLoginSchema = z.array(z.object({ login: z.string() }).loose()).length(1);
const webVersionSchema = z
  .object({ version: z.string(), version_info: z.array(z.union([z.number(), z.string()])) })
  .loose();

/** The kind JSON-RPC gives for the same failure, from JSON-2's status and error body. */
export function classifyJson2Error(status: number, name: string, message: string): OdooErrorKind {
  if (status === 401) return 'access_denied';
  switch (name) {
    case 'werkzeug.exceptions.Unauthorized':
      return 'access_denied';
    case 'werkzeug.exceptions.NotFound':
      // JSON-RPC says UserError "Object x doesn't exist" and AttributeError for these two.
      if (/^the model '[^']*' does not exist$/.test(message)) return 'unknown_model';
      if (/^The method '[^']*' does not exist$/.test(message)) return 'unknown_method';
      return 'not_found';
    case 'werkzeug.exceptions.UnprocessableEntity':
      // A call that does not fit the method's signature: JSON-RPC raises it as a TypeError.
      return classifyOdooError('builtins.TypeError', message);
    default:
      return classifyOdooError(name, message);
  }
}

export interface Json2Options {
  url: string;
  timeoutMs: number;
  fetch?: typeof fetch;
  /** The daemon's stop signal (see exchange()). */
  signal?: AbortSignal | undefined;
}

/**
 * Stateless like JsonRpcTransport: the password of every call is the API key. `common` knows
 * `version` (GET /web/version, which needs no key) and `authenticate` (the key's own uid from
 * res.users.context_get; a refused key, or a key of another user than the configured login,
 * answers false, as JSON-RPC's authenticate does).
 */
export class Json2Transport implements OdooTransport {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: Json2Options) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  async common(method: string, args: readonly unknown[], timeoutMs?: number): Promise<unknown> {
    if (method === 'version') {
      const raw = await this.send('GET', '/web/version', {}, undefined, 'common.version', timeoutMs);
      const parsed = webVersionSchema.safeParse(raw);
      if (!parsed.success) throw new OdooError('protocol', 'Odoo answered /web/version without a version');
      const { version, version_info: info } = parsed.data;
      return {
        server_version: version,
        server_version_info: info,
        server_serie: `${info[0]}.${info[1]}`,
        protocol_version: 1,
      };
    }
    if (method === 'authenticate' || method === 'login') {
      const [db, login, key] = args;
      if (typeof db !== 'string' || typeof login !== 'string' || typeof key !== 'string') {
        throw new OdooError('protocol', `common.${method} needs the database, the login and the API key`);
      }
      const headers = { 'X-Odoo-Database': db, Authorization: `bearer ${key}` };
      try {
        const raw = await this.send(
          'POST',
          '/json/2/res.users/context_get',
          headers,
          {},
          `common.${method}`,
          timeoutMs,
        );
        const parsed = contextSchema.safeParse(raw);
        if (!parsed.success) throw new OdooError('protocol', 'Odoo answered context_get without a uid');
        const { uid } = parsed.data;
        // A bearer key names its user by itself: odoo.login must be that user, as JSON-RPC's
        // authenticate checks, or the daemon would act (and sign notes) as someone else.
        // Every user may read their own login.
        const owner = userLoginSchema.safeParse(
          await this.send(
            'POST',
            '/json/2/res.users/read',
            headers,
            { ids: [uid], fields: ['login'] },
            `common.${method}`,
            timeoutMs,
          ),
        );
        if (!owner.success)
          throw new OdooError('protocol', "Odoo answered res.users.read without the user's login");
        return owner.data[0]?.login === login ? uid : false;
      } catch (error) {
        if (error instanceof OdooError && error.kind === 'access_denied') return false;
        throw error;
      }
    }
    throw new OdooError('protocol', `JSON-2 has no common.${method}`);
  }

  executeKw(
    credentials: { db: string; uid: number; password: string },
    modelName: string,
    method: string,
    args: readonly unknown[],
    kwargs: Record<string, unknown>,
    timeoutMs?: number,
  ): Promise<unknown> {
    const body = json2Body(modelName, method, args, kwargs);
    return this.send(
      'POST',
      `/json/2/${encodeURIComponent(modelName)}/${encodeURIComponent(method)}`,
      { 'X-Odoo-Database': credentials.db, Authorization: `bearer ${credentials.password}` },
      body,
      `${modelName}.${method}`,
      timeoutMs,
    );
  }

  private async send(
    httpMethod: 'GET' | 'POST',
    path: string,
    headers: Record<string, string>,
    body: unknown,
    label: string,
    timeoutMs = this.options.timeoutMs,
  ): Promise<unknown> {
    const endpoint = new URL(path, this.options.url).toString();
    const { response, text } = await exchange(
      this.fetchImpl,
      endpoint,
      {
        method: httpMethod,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        // 18.0 answers /json/2 with a redirect to its login page: that means "no JSON-2 here".
        redirect: 'manual',
      },
      { label, timeoutMs, signal: this.options.signal },
    );
    if (response.status >= 300 && response.status < 400) {
      throw new OdooError(
        'not_found',
        `Odoo answered ${label} over JSON-2 with a redirect (HTTP ${response.status}): this server has no JSON-2 API (Odoo 19+ has it)`,
        { httpStatus: response.status },
      );
    }
    let parsed: unknown;
    let isJson = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      isJson = false;
    }
    if (response.ok) {
      if (!isJson) {
        throw new OdooError(
          'protocol',
          `Odoo answered ${label} with something that is not JSON: ${text.slice(0, 200)}`,
        );
      }
      return parsed;
    }
    const failure = errorBodySchema.safeParse(parsed);
    if (isJson && failure.success) {
      const { name, message } = failure.data;
      throw new OdooError(
        classifyJson2Error(response.status, name, message),
        `Odoo refused ${label}: ${message} (${name}, HTTP ${response.status})`,
        { odooName: name, httpStatus: response.status },
      );
    }
    // Not Odoo's JSON error body: an HTML page from Odoo's HTTP layer or a proxy.
    let kind: OdooErrorKind = response.status >= 500 ? 'server' : 'protocol';
    if (response.status === 401) kind = 'access_denied';
    else if (response.status === 404) {
      kind = /No database is selected/.test(text) ? 'unknown_database' : 'not_found';
    }
    throw new OdooError(
      kind,
      `Odoo answered HTTP ${response.status} to ${label}: ${htmlText(text).slice(0, 200)}`,
      {
        httpStatus: response.status,
      },
    );
  }
}

function htmlText(text: string): string {
  return text
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}
