import { GatewayError } from '../gateway.js';
import { parseRetryAfter, redact, socketErrorCode } from '../http-errors.js';
import { errorBodySchema } from './schemas.js';

export { parseRetryAfter, redact };

export const TILOPAY_GATEWAY_ID = 'tilopay';

/**
 * The body `type` codes TiloPay answers with (spec §3, §10). HTTP status is not reliable (errors
 * often come with HTTP 200), so the body decides. Compared as strings: `type` may be a number.
 */
export const TILOPAY_TYPE_CREATED = '100';
/** processPayment "direct approval" [3p], rare; /consult's success. Treated as success by both. */
export const TILOPAY_TYPE_OK = '200';
export const TILOPAY_TYPE_LICENCE = '300';
export const TILOPAY_ERROR_TYPES = ['300', '400', '401', '402', '403', '404'] as const;
export type TiloPayErrorType = (typeof TILOPAY_ERROR_TYPES)[number];

export function isTiloPayErrorType(type: string): type is TiloPayErrorType {
  return (TILOPAY_ERROR_TYPES as readonly string[]).includes(type);
}

export interface CallContext {
  readonly method: string;
  /** Path relative to the API base, e.g. `/consult`; never a URL with credentials. */
  readonly path: string;
}

/**
 * Body `type` error → kind. The spec only says "300 licence/integration problem" and "400–404 key
 * or integration not found, invalid data", plus the sandbox contract: 403 = bad key, 400 = missing
 * fields. 300 is `unavailable` (the integration cannot take payments until TiloPay fixes it) and
 * 404 `not_found`; the README lists these as choices.
 */
export function kindOfErrorType(type: TiloPayErrorType): GatewayError['kind'] {
  switch (type) {
    case '300':
      return 'unavailable';
    case '401':
    case '403':
      return 'auth';
    case '404':
      return 'not_found';
    case '400':
    case '402':
      return 'validation';
  }
}

/** An answer whose body says `{type: <error>, message}`, whatever its HTTP status. */
export function errorFromBodyType(
  context: CallContext & { readonly status: number },
  type: TiloPayErrorType,
  serverMessage: string | undefined,
  secrets: readonly string[],
): GatewayError {
  const where = `TiloPay ${context.method} ${context.path} answered type ${type}`;
  const message = redact(serverMessage ? `${where}: ${serverMessage}` : where, secrets);
  return new GatewayError(TILOPAY_GATEWAY_ID, kindOfErrorType(type), message, { status: context.status });
}

function readErrorBody(text: string): { type?: string | undefined; message?: string | undefined } {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}

/** A non-2xx HTTP answer → kind. A body `type` error code wins over the HTTP status when both exist. */
export function errorFromResponse(
  failure: CallContext & { readonly status: number; readonly headers: Headers; readonly bodyText: string },
  secrets: readonly string[],
  nowMs: number,
): GatewayError {
  const { status } = failure;
  const body = readErrorBody(failure.bodyText);
  if (body.type !== undefined && isTiloPayErrorType(body.type) && status < 500) {
    return errorFromBodyType(failure, body.type, body.message, secrets);
  }
  const where = `TiloPay ${failure.method} ${failure.path} answered HTTP ${status}`;
  const message = redact(body.message ? `${where}: ${body.message}` : where, secrets);
  const base = { status };
  if (status === 401 || status === 403) return new GatewayError(TILOPAY_GATEWAY_ID, 'auth', message, base);
  if (status === 400 || status === 422)
    return new GatewayError(TILOPAY_GATEWAY_ID, 'validation', message, base);
  if (status === 404) return new GatewayError(TILOPAY_GATEWAY_ID, 'not_found', message, base);
  if (status === 409) return new GatewayError(TILOPAY_GATEWAY_ID, 'conflict', message, base);
  if (status === 408) return new GatewayError(TILOPAY_GATEWAY_ID, 'timeout', message, base);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.headers.get('retry-after'), nowMs);
    return new GatewayError(TILOPAY_GATEWAY_ID, 'rate_limited', message, {
      ...base,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500) return new GatewayError(TILOPAY_GATEWAY_ID, 'server', message, base);
  // Redirects (the client never follows them) and other 4xx: not an API answer we know.
  return new GatewayError(TILOPAY_GATEWAY_ID, 'protocol', message, base);
}

/** A fetch that threw (no answer, or the body could not be read) → timeout or network. */
export function errorFromFetchFailure(
  error: unknown,
  context: CallContext & { readonly timeoutMs: number },
  secrets: readonly string[],
): GatewayError {
  const where = `TiloPay ${context.method} ${context.path}`;
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new GatewayError(
      TILOPAY_GATEWAY_ID,
      'timeout',
      `${where} got no answer within ${context.timeoutMs} ms; the request may still have been applied`,
      { cause: error },
    );
  }
  const detail = redact(
    socketErrorCode(error) ??
      (error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : 'unknown'),
    secrets,
  );
  return new GatewayError(
    TILOPAY_GATEWAY_ID,
    'network',
    `${where} failed before an answer arrived (${detail})`,
    {
      cause: error,
    },
  );
}

/** A 2xx whose body is not JSON, not the documented shape, or carries a `type` we do not know. */
export function protocolError(
  context: CallContext & { readonly status?: number },
  problem: string,
  secrets: readonly string[],
): GatewayError {
  return new GatewayError(
    TILOPAY_GATEWAY_ID,
    'protocol',
    redact(`TiloPay ${context.method} ${context.path} answered with an unexpected body: ${problem}`, secrets),
    context.status === undefined ? {} : { status: context.status },
  );
}
