/**
 * Service routing of Odoo's RPC: `common` (version, login, authenticate), `db`, `object`
 * (execute_kw, execute) and the web client's call_kw. Checks run in Odoo's order: database,
 * credentials, companies of the context, then the model method.
 */
import {
  accessDenied,
  type Json,
  type JsonObject,
  keyError,
  OdooError,
  typeError,
  unknownDatabase,
  valueError,
} from './errors.js';
import type { OdooCallInfo, OdooCallRecord, OdooFaults } from './faults.js';
import { isObject } from './fields.js';
import type { Registry } from './registry.js';

export interface Dispatcher {
  readonly reg: Registry;
  readonly faults: OdooFaults;
  readonly calls: OdooCallRecord[];
  readonly db: string;
}

export interface DispatchOutcome {
  result: Json;
  /** The call was done but its answer must be lost (faults.dropResponseNext). */
  drop: boolean;
}

export function versionInfo(reg: Registry): Json[] {
  return [Number(reg.version.slice(0, 2)), 0, 0, 'final', 0, ''];
}

export function serverVersion(reg: Registry): string {
  return reg.traits.serverVersion;
}

/** Appends a call to the sandbox's call log (what tests assert on). */
export function recordCall(
  dispatcher: Dispatcher,
  call: OdooCallInfo,
  args?: Json[],
  kwargs?: JsonObject,
): void {
  const entry: OdooCallRecord = { ...call, at: new Date().toISOString() };
  if (args !== undefined) entry.args = args;
  if (kwargs !== undefined) entry.kwargs = kwargs;
  dispatcher.calls.push(entry);
}

function checkDatabase(dispatcher: Dispatcher, db: Json | undefined): void {
  if (db !== dispatcher.db) throw unknownDatabase(String(db));
}

/**
 * Whether `password` is the user's password, or one of their API keys when `acceptApiKeys`
 * (RPC accepts keys; the interactive web login does not).
 */
export function checkCredentials(
  reg: Registry,
  uid: number,
  password: Json | undefined,
  acceptApiKeys = true,
): boolean {
  if (typeof password !== 'string' || password === '') return false;
  const user = reg.model('res.users').rows.get(uid);
  if (!user || user.active === false) return false;
  if (reg.passwords.get(uid) === password) return true;
  return acceptApiKeys && (reg.apiKeys.get(uid)?.has(password) ?? false);
}

/** uid for a login and password (or API key), false when they do not match. */
export function authenticateLogin(
  reg: Registry,
  login: Json | undefined,
  password: Json | undefined,
  acceptApiKeys = true,
): number | false {
  for (const user of reg.model('res.users').rows.values()) {
    if (user.login === login && user.active !== false) {
      return checkCredentials(reg, user.id, password, acceptApiKeys) ? user.id : false;
    }
  }
  return false;
}

function positional(method: string, args: Json[], names: readonly string[]): Json[] {
  if (args.length < names.length) {
    const missing = names.slice(args.length);
    throw typeError(
      `${method}() missing ${missing.length} required positional argument${missing.length > 1 ? 's' : ''}: ${missing.map((n) => `'${n}'`).join(' and ')}`,
    );
  }
  return args;
}

/** POST /jsonrpc with params {service, method, args}. */
export function dispatchRpc(
  dispatcher: Dispatcher,
  params: JsonObject,
  wire: 'jsonrpc' | 'xmlrpc' = 'jsonrpc',
): DispatchOutcome {
  for (const key of Object.keys(params)) {
    if (!['service', 'method', 'args'].includes(key)) {
      throw typeError(`jsonrpc() got an unexpected keyword argument '${key}'`);
    }
  }
  const missing = ['service', 'method', 'args'].filter((key) => params[key] === undefined);
  if (missing.length > 0) {
    throw typeError(
      `jsonrpc() missing ${missing.length} required positional argument: ${missing.map((k) => `'${k}'`).join(', ')}`,
    );
  }
  const service = String(params.service);
  const method = String(params.method);
  const args = Array.isArray(params.args) ? params.args : [];
  const call: OdooCallInfo = { service, method, wire };
  let modelArgs: Json[] | undefined;
  let modelKwargs: JsonObject | undefined;
  if (service === 'object' && (method === 'execute_kw' || method === 'execute')) {
    if (typeof args[3] === 'string') call.model = args[3];
    if (typeof args[4] === 'string') call.modelMethod = args[4];
    if (method === 'execute_kw') {
      modelArgs = Array.isArray(args[5]) ? args[5] : [];
      modelKwargs = isObject(args[6]) ? args[6] : {};
    } else {
      modelArgs = args.slice(5);
    }
  }
  recordCall(dispatcher, call, modelArgs, modelKwargs);
  const failure = dispatcher.faults.failureFor(call);
  if (failure) throw failure;
  let result: Json;
  switch (service) {
    case 'common':
      result = commonService(dispatcher, method, args);
      break;
    case 'db':
      result = dbService(dispatcher, method);
      break;
    case 'object':
      result = objectService(dispatcher, method, args);
      break;
    default:
      throw keyError(service);
  }
  return { result, drop: dispatcher.faults.shouldDrop(call) };
}

function commonService(dispatcher: Dispatcher, method: string, args: Json[]): Json {
  const { reg } = dispatcher;
  switch (method) {
    case 'version':
      return {
        server_version: serverVersion(reg),
        server_version_info: versionInfo(reg),
        server_serie: reg.version,
        protocol_version: 1,
      };
    case 'about':
      return 'See http://openerp.com';
    case 'login': {
      const [db, login, password] = positional('exp_login', args, ['db', 'login', 'password']);
      checkDatabase(dispatcher, db);
      return authenticateLogin(reg, login, password);
    }
    case 'authenticate': {
      const [db, login, password] = positional('exp_authenticate', args, [
        'db',
        'login',
        'password',
        'user_agent_env',
      ]);
      checkDatabase(dispatcher, db);
      return authenticateLogin(reg, login, password);
    }
    default:
      throw keyError(`exp_${method}`);
  }
}

function dbService(dispatcher: Dispatcher, method: string): Json {
  if (method === 'list') return [dispatcher.db];
  if (method === 'server_version') return serverVersion(dispatcher.reg);
  throw keyError(`Method not found: ${method}`);
}

function objectService(dispatcher: Dispatcher, method: string, args: Json[]): Json {
  if (method !== 'execute_kw' && method !== 'execute') {
    throw new OdooError('builtins.NameError', `Method not available ${method}`);
  }
  const [db, rawUid, password, model, modelMethod] = positional(method, args, [
    'db',
    'uid',
    'passwd',
    'obj',
    'method',
  ]);
  checkDatabase(dispatcher, db);
  const uid = typeof rawUid === 'number' ? rawUid : Number.parseInt(String(rawUid), 10);
  if (!Number.isInteger(uid))
    throw valueError(`invalid literal for int() with base 10: ${JSON.stringify(rawUid)}`);
  if (!checkCredentials(dispatcher.reg, uid, password)) throw accessDenied();
  let modelArgs: Json[];
  let kwargs: JsonObject;
  if (method === 'execute_kw') {
    const rawArgs = args[5] ?? [];
    const rawKwargs = args[6] ?? {};
    if (!Array.isArray(rawArgs))
      throw typeError(`execute_kw() argument 'args' must be a list, not ${typeof rawArgs}`);
    if (!isObject(rawKwargs)) throw typeError("execute_kw() argument 'kw' must be a dict");
    modelArgs = rawArgs;
    kwargs = rawKwargs;
  } else {
    modelArgs = args.slice(5);
    kwargs = {};
  }
  return callModel(dispatcher.reg, uid, String(model), String(modelMethod), modelArgs, kwargs, false);
}

/** Runs a model method as `uid`, with the context taken out of kwargs as Odoo's call_kw does. */
export function callModel(
  reg: Registry,
  uid: number,
  model: string,
  method: string,
  args: Json[],
  kwargs: JsonObject,
  viaHttp: boolean,
): Json {
  const { context, ...rest } = kwargs;
  const env = reg.userEnv(uid, isObject(context) ? context : {}, viaHttp);
  return reg.call(env, model, method, args, rest);
}

/** POST /web/dataset/call_kw[/model/method] for a web session's user. */
export function dispatchCallKw(dispatcher: Dispatcher, uid: number, params: JsonObject): DispatchOutcome {
  const model = typeof params.model === 'string' ? params.model : '';
  const method = typeof params.method === 'string' ? params.method : '';
  const args = Array.isArray(params.args) ? params.args : [];
  const kwargs = isObject(params.kwargs) ? params.kwargs : {};
  const call: OdooCallInfo = { service: 'web', method: 'call_kw', model, modelMethod: method, wire: 'web' };
  recordCall(dispatcher, call, args, kwargs);
  const failure = dispatcher.faults.failureFor(call);
  if (failure) throw failure;
  const result = callModel(dispatcher.reg, uid, model, method, args, kwargs, true);
  return { result, drop: dispatcher.faults.shouldDrop(call) };
}
