/**
 * The sandbox's JSON-2 face (Odoo 19.0+): `POST /json/2/<model>/<method>` with a bearer API key,
 * named arguments and bare JSON results; errors with HTTP statuses and Odoo's
 * `{name, message, arguments, context, debug}` body, as in shared/odoo-captures/19.0/json2.
 * Calls run through the same registry as /jsonrpc, so both wires see the same records.
 * Before 19.0 there is no JSON-2: /json/... is the web client's JSON view, which sends a visitor
 * without a session to the login page.
 */
import { type Dispatcher, recordCall } from './dispatch.js';
import { type Json, type JsonObject, ODOO_EXCEPTIONS, OdooError, pyRepr, serializeError } from './errors.js';
import type { OdooCallInfo } from './faults.js';
import { isObject } from './fields.js';
import { ORM_METHODS } from './orm.js';

export interface Json2Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** The work was done but the answer must be lost (faults.dropResponseNext). */
  drop?: boolean;
}

export interface Json2Request {
  method: string;
  path: string;
  /** url.pathname with the query string, as werkzeug's full_path. */
  fullPath: string;
  headers: { authorization?: string | undefined; database?: string | undefined };
  body: Buffer;
}

/** werkzeug.exceptions.HTTPException subclasses the controller raises, with their statuses. */
class HttpError extends Error {
  constructor(
    readonly className: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const unauthorized = (message: string) => new HttpError('werkzeug.exceptions.Unauthorized', 401, message);
const notFound = (message: string) => new HttpError('werkzeug.exceptions.NotFound', 404, message);
const unprocessable = (message: string) =>
  new HttpError('werkzeug.exceptions.UnprocessableEntity', 422, message);

/** exceptions' http_status in odoo/exceptions.py; anything else is a 500. */
const STATUS_OF: Readonly<Record<string, number>> = {
  [ODOO_EXCEPTIONS.userError]: 422,
  [ODOO_EXCEPTIONS.validationError]: 422,
  [ODOO_EXCEPTIONS.accessError]: 403,
  [ODOO_EXCEPTIONS.accessDenied]: 403,
  [ODOO_EXCEPTIONS.missingError]: 404,
  'odoo.exceptions.LockError': 409,
};

/** Capture 30: an X-Odoo-Database naming no database falls through to the server-wide 404 page. */
const NO_DATABASE_PAGE =
  '<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n';

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

function errorAnswer(error: unknown, dispatcher: Dispatcher): Json2Answer {
  if (error instanceof HttpError) {
    const body = {
      name: error.className,
      message: error.message,
      arguments: [error.message, error.status],
      context: {},
      debug: `Traceback (most recent call last):\n  File "/opt/odoo/odoo/addons/rpc/controllers/json2.py", line 1, in web_json_2_rpc\n${error.className}: ${error.status} ${error.message}\n`,
    };
    const headers: Record<string, string> =
      error.status === 401 ? { ...JSON_HEADERS, 'WWW-Authenticate': 'Bearer' } : JSON_HEADERS;
    return { status: error.status, body: JSON.stringify(body), headers };
  }
  const serialized = serializeError(error, dispatcher.reg.version).data;
  const body = {
    name: serialized.name,
    message: serialized.message,
    arguments: serialized.arguments,
    context: {},
    debug: serialized.debug,
  };
  const status = error instanceof OdooError ? (STATUS_OF[error.className] ?? 500) : 500;
  return { status, body: JSON.stringify(body), headers: JSON_HEADERS };
}

function uidOfKey(dispatcher: Dispatcher, key: string): number | undefined {
  for (const [uid, keys] of dispatcher.reg.apiKeys) {
    if (!keys.has(key)) continue;
    const user = dispatcher.reg.model('res.users').rows.get(uid);
    return user && user.active !== false ? uid : undefined;
  }
  return undefined;
}

/** Whether this path is JSON-2's (or, before 19.0, the web client's /json view). */
export function isJson2Path(path: string): boolean {
  return path === '/json/2' || path.startsWith('/json/2/');
}

export function json2Route(dispatcher: Dispatcher, request: Json2Request): Json2Answer {
  if (Number.parseFloat(dispatcher.reg.version) < 19) {
    // 18.0's /json/<path> route needs a web session: a bearer key is no session, so Odoo
    // redirects to its login page (HttpDispatcher on SessionExpiredException).
    const location = `/web/login?redirect=${encodeURIComponent(request.fullPath)}`;
    return {
      status: 303,
      body: `<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: <a href="${location}">${location}</a>. If not, click the link.\n`,
      headers: { Location: location, 'Content-Type': 'text/html; charset=utf-8' },
    };
  }
  if (request.headers.database !== undefined && request.headers.database !== dispatcher.db) {
    return { status: 404, body: NO_DATABASE_PAGE, headers: { 'Content-Type': 'text/html; charset=utf-8' } };
  }
  try {
    const match = /^\/json\/2\/([^/]+)\/([^/]+)$/.exec(request.path);
    if (!match?.[1] || !match[2] || request.method !== 'POST') {
      throw notFound('Did you mean POST /json/2/<model>/<method>?');
    }
    const modelName = decodeURIComponent(match[1]);
    const method = decodeURIComponent(match[2]);
    const uid = authenticate(dispatcher, request.headers.authorization);
    const params = parseBody(request);
    const { ids: rawIds, context: rawContext, ...kwargs } = params;
    const ids = rawIds ?? [];
    const call: OdooCallInfo = {
      service: 'json2',
      method: 'call',
      model: modelName,
      modelMethod: method,
      wire: 'json2',
    };
    recordCall(dispatcher, call, rawIds === undefined ? [] : [ids], kwargs);
    const failure = dispatcher.faults.failureFor(call);
    if (failure) throw failure;
    const result = run(dispatcher, uid, modelName, method, ids, rawContext, kwargs);
    return {
      status: 200,
      body: JSON.stringify(result),
      headers: JSON_HEADERS,
      drop: dispatcher.faults.shouldDrop(call),
    };
  } catch (error) {
    return errorAnswer(error, dispatcher);
  }
}

/** ir.http._auth_method_bearer: a key in `Authorization: bearer <key>`, or 401. */
function authenticate(dispatcher: Dispatcher, header: string | undefined): number {
  const match = /^bearer\s+(\S+)\s*$/i.exec(header ?? '');
  if (!match?.[1]) {
    throw unauthorized('User not authenticated, use an API Key with a Bearer Authorization header.');
  }
  const uid = uidOfKey(dispatcher, match[1]);
  if (uid === undefined) throw unauthorized('Invalid apikey');
  return uid;
}

function parseBody(request: Json2Request): JsonObject {
  const text = request.body.toString('utf8');
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new HttpError('werkzeug.exceptions.BadRequest', 400, 'Invalid JSON data');
  }
  if (!isObject(parsed)) throw new HttpError('werkzeug.exceptions.BadRequest', 400, 'Invalid JSON data');
  return parsed;
}

/** web_json_2_rpc: model, public method, ids vs @api.model, signature, then the call. */
function run(
  dispatcher: Dispatcher,
  uid: number,
  modelName: string,
  method: string,
  ids: Json,
  context: Json | undefined,
  kwargs: JsonObject,
): Json {
  const { reg } = dispatcher;
  const model = reg.models.get(modelName);
  if (!model) throw notFound(`the model ${pyRepr(modelName)} does not exist`);
  // Private and unknown methods: reg.call raises AccessError and AttributeError; JSON-2 turns
  // an unknown method into a 404 with the AttributeError's text.
  const spec = method.startsWith('_') ? undefined : (model.spec.methods?.[method] ?? ORM_METHODS[method]);
  if (!spec && !method.startsWith('_')) throw notFound(`The method '${modelName}.${method}' does not exist`);
  const hasIds = Array.isArray(ids) ? ids.length > 0 : ids !== null && ids !== false;
  if (spec?.model && hasIds) throw unprocessable(`cannot call ${modelName}.${method} with ids`);
  if (spec && !spec.keywordOnly) {
    for (const name of Object.keys(kwargs)) {
      if (spec.params.includes(name)) continue;
      // search_read passes what it does not know on to _read_format (capture 25).
      if (method === 'search_read') {
        throw new OdooError(
          'builtins.TypeError',
          `BaseModel._read_format() got an unexpected keyword argument '${name}'`,
        );
      }
      throw unprocessable(`got an unexpected keyword argument '${name}'`);
    }
  }
  const env = reg.userEnv(uid, isObject(context) ? context : {}, false);
  return reg.call(env, modelName, method, spec?.model ? [] : [ids], kwargs);
}
