/**
 * Sorts a nodemailer failure into what the worker should do about it: try again later
 * (transient), give up and record the server's reply (permanent), or try again but tell the
 * admin the SMTP settings are wrong (config).
 */

export type SmtpFailureKind = 'transient' | 'permanent' | 'config';

export interface SmtpFailure {
  kind: SmtpFailureKind;
  /** Human-readable reason, with the server's reply when there is one. */
  reason: string;
  code?: string;
  responseCode?: number;
}

// Authentication and TLS problems do not heal by themselves, but an admin fixing the config
// should not lose the queued emails, so they are retried while the log shouts.
const CONFIG_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2', 'ETLS', 'EREQUIRETLS', 'ECONFIG']);
const TRANSIENT_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPROXY',
  'EMAXLIMIT',
  'EPROTOCOL',
]);
// Errors about the message itself: sending it again produces the same error.
const PERMANENT_CODES = new Set(['EENVELOPE', 'EMESSAGE']);

interface ErrorFields {
  code?: unknown;
  responseCode?: unknown;
  response?: unknown;
  message?: unknown;
}

function fieldsOf(error: unknown): ErrorFields {
  return typeof error === 'object' && error !== null ? (error as ErrorFields) : {};
}

function describe(fields: ErrorFields, error: unknown): string {
  const response = typeof fields.response === 'string' ? fields.response.trim() : '';
  if (response) return response;
  if (typeof fields.message === 'string' && fields.message) return fields.message;
  return String(error);
}

export function classifySmtpError(error: unknown): SmtpFailure {
  const fields = fieldsOf(error);
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const responseCode = typeof fields.responseCode === 'number' ? fields.responseCode : undefined;
  const reason = describe(fields, error);
  const base = { reason, ...(code ? { code } : {}), ...(responseCode ? { responseCode } : {}) };

  if (code && CONFIG_CODES.has(code)) return { kind: 'config', ...base };
  if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
    return { kind: 'permanent', ...base };
  }
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) {
    return { kind: 'transient', ...base };
  }
  if (code && TRANSIENT_CODES.has(code)) return { kind: 'transient', ...base };
  if (code && PERMANENT_CODES.has(code)) return { kind: 'permanent', ...base };
  // Unknown failures are retried: attempts are capped, so this cannot loop forever, and
  // giving up on an email we do not understand would lose it.
  return { kind: 'transient', ...base };
}

export interface BackoffPolicy {
  /** Delay before the second attempt; doubles each time. */
  baseMs: number;
  /** Upper bound of any delay. */
  maxMs: number;
  /** Fraction (0..1) of the delay that is randomised, so a backlog does not retry in lockstep. */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 30_000, maxMs: 60 * 60_000, jitter: 0.2 };

/**
 * Delay after the given failed attempt (1 = the first one): base·2^(attempt-1), capped, minus up
 * to `jitter` of itself so the cap holds.
 */
export function retryDelayMs(
  attempt: number,
  policy: BackoffPolicy = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 40);
  const delay = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  return Math.round(delay * (1 - policy.jitter * random()));
}
