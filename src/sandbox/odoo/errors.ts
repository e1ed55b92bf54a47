/**
 * Odoo exceptions as the sandbox raises them and as Odoo's JSON-RPC layer serializes them
 * (`odoo.http.serialize_exception`). Class names and messages are copied from real 18.0/19.0
 * answers (see shared/odoo-captures), because clients classify errors on `data.name`.
 */
import { type OdooVersion, traitsOf } from './versions.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export class OdooError extends Error {
  constructor(
    /** Fully qualified Python class, e.g. `odoo.exceptions.UserError` or `builtins.KeyError`. */
    readonly className: string,
    message: string,
    /** JSON-RPC `error.code` when Odoo uses a dedicated one (session expiry: 100). */
    readonly rpcCode?: number,
  ) {
    super(message);
    this.name = 'OdooError';
  }
}

export const ODOO_EXCEPTIONS = {
  accessDenied: 'odoo.exceptions.AccessDenied',
  accessError: 'odoo.exceptions.AccessError',
  missingError: 'odoo.exceptions.MissingError',
  userError: 'odoo.exceptions.UserError',
  validationError: 'odoo.exceptions.ValidationError',
  sessionExpired: 'odoo.http.SessionExpiredException',
  serializationFailure: 'psycopg2.errors.SerializationFailure',
  operationalError: 'psycopg2.OperationalError',
} as const;

/** Python's repr() of a JSON value, used where Odoo interpolates `%r` or tuples into messages. */
export function pyRepr(value: unknown, asTuple = false): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : pyFloat(value);
  if (typeof value === 'string') {
    const quote = value.includes("'") && !value.includes('"') ? '"' : "'";
    const body = value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n');
    return quote + (quote === "'" ? body.replaceAll("'", "\\'") : body) + quote;
  }
  if (Array.isArray(value)) {
    const items = value.map((item) => pyRepr(item));
    if (!asTuple) return `[${items.join(', ')}]`;
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value).map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`);
    return `{${entries.join(', ')}}`;
  }
  return String(value);
}

function pyFloat(value: number): string {
  const text = String(value);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/** `account.move(1, 2)`: how Odoo prints a recordset in messages. */
export function recordsetRepr(model: string, ids: readonly number[]): string {
  return `${model}${pyRepr(ids, true)}`;
}

export const accessDenied = (): OdooError => new OdooError(ODOO_EXCEPTIONS.accessDenied, 'Access Denied');
export const accessError = (message: string): OdooError =>
  new OdooError(ODOO_EXCEPTIONS.accessError, message);
export const userError = (message: string): OdooError => new OdooError(ODOO_EXCEPTIONS.userError, message);
export const validationError = (message: string): OdooError =>
  new OdooError(ODOO_EXCEPTIONS.validationError, message);
export const valueError = (message: string): OdooError => new OdooError('builtins.ValueError', message);
export const typeError = (message: string): OdooError => new OdooError('builtins.TypeError', message);
/** Python's KeyError carries the missing key; Odoo shows it as the message. */
export const keyError = (key: string): OdooError => new OdooError('builtins.KeyError', key);

export const missingError = (model: string, ids: readonly number[], uid: number): OdooError =>
  new OdooError(
    ODOO_EXCEPTIONS.missingError,
    `Record does not exist or has been deleted.\n(Record: ${recordsetRepr(model, ids)}, User: ${uid})`,
  );

export const unknownModel = (model: string): OdooError => userError(`Object ${model} doesn't exist`);

/** The texts differ per version (VersionTraits.unknownMethodMessage / privateMethodMessage). */
export const unknownMethod = (message: string): OdooError =>
  new OdooError('builtins.AttributeError', message);

export const privateMethod = (message: string): OdooError => accessError(message);

export const unknownDatabase = (db: string): OdooError =>
  new OdooError(
    ODOO_EXCEPTIONS.operationalError,
    `connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "${db}" does not exist\n`,
  );

export const serializationFailure = (): OdooError =>
  new OdooError(ODOO_EXCEPTIONS.serializationFailure, 'could not serialize access due to concurrent update');

export const sessionExpired = (): OdooError =>
  new OdooError(ODOO_EXCEPTIONS.sessionExpired, 'Session expired', 100);

export const httpOnlyMethod = (): OdooError => userError('This method can only be accessed over HTTP');

export const unauthorizedCompanies = (): OdooError =>
  accessError('Access to unauthorized or invalid companies.');

export const expectedSingleton = (model: string, ids: readonly number[]): OdooError =>
  valueError(`Expected singleton: ${recordsetRepr(model, ids)}`);

/** `on` is the version's wording (VersionTraits.fetchFieldModelWord): 19.0 reads/fetches say "on 'm'". */
export const invalidField = (model: string, field: string, on: 'on model' | 'on' = 'on model'): OdooError =>
  valueError(`Invalid field ${pyRepr(field)} ${on} ${pyRepr(model)}`);

export interface RpcErrorBody {
  code: number;
  message: string;
  data: { name: string; debug: string; message: string; arguments: Json[]; context: JsonObject };
}

/** The `error` member of a JSON-RPC answer; `version` decides the generic code (200 up to 18.0, 0 on 19.0). */
export function serializeError(error: unknown, version: OdooVersion): RpcErrorBody {
  const odooError =
    error instanceof OdooError
      ? error
      : new OdooError('builtins.Exception', error instanceof Error ? error.message : String(error));
  const genericCode = traitsOf(version).rpcErrorCode;
  const isSessionError = odooError.className === ODOO_EXCEPTIONS.sessionExpired;
  return {
    code: odooError.rpcCode ?? genericCode,
    message: isSessionError ? 'Odoo Session Expired' : 'Odoo Server Error',
    data: {
      name: odooError.className,
      debug: traceback(odooError),
      message: odooError.message,
      arguments: [odooError.message],
      context: {},
    },
  };
}

function traceback(error: OdooError): string {
  const builtin = error.className.startsWith('builtins.');
  const shortName = builtin ? error.className.slice('builtins.'.length) : error.className;
  const shown = error.className === 'builtins.KeyError' ? pyRepr(error.message) : error.message;
  return (
    'Traceback (most recent call last):\n' +
    '  File "/opt/odoo/odoo/http.py", line 2122, in _transactioning\n' +
    '  File "/sandbox/odoo-paylink/odoo_sandbox.py", line 1, in dispatch\n' +
    `${shortName}: ${shown}\n`
  );
}
