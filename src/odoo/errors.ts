/**
 * Odoo failures as typed errors carrying Odoo's own message. Classification reads
 * `error.data.name` (the Python exception class), never `error.code`, which is 200 on 18.0 and 0
 * on 19.0 for the same error.
 */

export type OdooErrorKind =
  | 'access_denied' // bad login, password or API key: stop, never retry (Odoo locks the IP out)
  | 'unknown_database'
  | 'access' // rights or record rules
  | 'validation'
  | 'user' // a business rule refused the operation (UserError)
  | 'missing' // record deleted or never existed
  | 'unknown_model'
  | 'unknown_field'
  | 'unknown_method'
  | 'concurrency' // serialization failure or lock: safe to retry
  | 'not_found' // the RPC route itself is missing (services hidden on 19+)
  | 'server' // anything else Odoo raised
  | 'network'
  | 'timeout'
  | 'protocol'; // the answer was not what JSON-RPC promises

const RETRYABLE: ReadonlySet<OdooErrorKind> = new Set(['concurrency', 'server', 'network', 'timeout']);

export class OdooError extends Error {
  override name = 'OdooError';
  readonly retryable: boolean;

  constructor(
    readonly kind: OdooErrorKind,
    message: string,
    readonly details: {
      readonly odooName?: string;
      readonly httpStatus?: number;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = RETRYABLE.has(kind);
  }
}

export function isOdooError(error: unknown, kind?: OdooErrorKind): error is OdooError {
  return error instanceof OdooError && (kind === undefined || error.kind === kind);
}

/** Maps a JSON-RPC error's `data.name` and message to our kind. */
export function classifyOdooError(name: string, message: string): OdooErrorKind {
  switch (name) {
    case 'odoo.exceptions.AccessDenied':
      return 'access_denied';
    case 'odoo.exceptions.AccessError':
      return 'access';
    case 'odoo.exceptions.ValidationError':
      return 'validation';
    case 'odoo.exceptions.MissingError':
      return 'missing';
    case 'odoo.exceptions.LockError':
    case 'psycopg2.errors.SerializationFailure':
    case 'psycopg2.extensions.TransactionRollbackError':
    case 'psycopg2.errors.LockNotAvailable':
      return 'concurrency';
    case 'odoo.exceptions.UserError':
      // Odoo raises UserError for an unknown model; only the message tells them apart.
      return /^Object \S+ doesn't exist$/.test(message) ? 'unknown_model' : 'user';
    case 'builtins.KeyError':
      return 'unknown_field';
    case 'builtins.ValueError':
      return /Invalid field/i.test(message) ? 'unknown_field' : 'server';
    case 'builtins.AttributeError':
      return 'unknown_method';
    case 'werkzeug.exceptions.NotFound':
      return 'not_found';
    case 'psycopg2.OperationalError':
      return /database "[^"]*" does not exist/.test(message) ? 'unknown_database' : 'server';
    default:
      return 'server';
  }
}
