import { GatewayError } from '../gateway.js';
import { parseRetryAfter, redact, socketErrorCode } from '../http-errors.js';
import { errorBodySchema } from './schemas.js';

export { parseRetryAfter, redact };

export const MPCHAT_GATEWAY_ID = 'mpchat';

function serverMessageOf(text: string): string | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.error : undefined;
  } catch {
    return undefined;
  }
}

export interface HttpFailure {
  readonly method: string;
  /** Path relative to the API base, without the query. */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly bodyText: string;
}

/**
 * 400 messages that do not mean our request was wrong (§6): the pool of deposit addresses is
 * empty for now, and the docs say to retry later.
 */
const TRANSIENT_400 = new Set(['no available address']);

/** Maps a non-2xx answer to a GatewayError kind, following the error table of spec §6. */
export function errorFromResponse(
  failure: HttpFailure,
  secrets: readonly string[],
  nowMs: number = Date.now(),
): GatewayError {
  const { status } = failure;
  const serverMessage = serverMessageOf(failure.bodyText);
  const where = `MPChat ${failure.method} ${failure.path} answered HTTP ${status}`;
  const message = redact(serverMessage ? `${where}: ${serverMessage}` : where, secrets);
  const base = { status };

  // 401 covers bad key, inactive key, bad signature and a clock outside ±5 min: all need a
  // person (credentials or clock), none passes by retrying the same request. 403 on an order
  // means it belongs to another merchant: the configured key is not the account we think.
  if (status === 401 || status === 403) return new GatewayError(MPCHAT_GATEWAY_ID, 'auth', message, base);
  if (status === 400) {
    if (serverMessage !== undefined && TRANSIENT_400.has(serverMessage.trim().toLowerCase())) {
      return new GatewayError(MPCHAT_GATEWAY_ID, 'unavailable', message, base);
    }
    return new GatewayError(MPCHAT_GATEWAY_ID, 'validation', message, base);
  }
  if (status === 422) return new GatewayError(MPCHAT_GATEWAY_ID, 'validation', message, base);
  if (status === 404) return new GatewayError(MPCHAT_GATEWAY_ID, 'not_found', message, base);
  // The documented 409 is "duplicate idempotency key": the key was used with other parameters.
  if (status === 409) return new GatewayError(MPCHAT_GATEWAY_ID, 'conflict', message, base);
  if (status === 408) return new GatewayError(MPCHAT_GATEWAY_ID, 'timeout', message, base);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.headers.get('retry-after'), nowMs);
    return new GatewayError(MPCHAT_GATEWAY_ID, 'rate_limited', message, {
      ...base,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500) return new GatewayError(MPCHAT_GATEWAY_ID, 'server', message, base);
  // Redirects and undocumented 4xx: not an answer of the API we know.
  return new GatewayError(MPCHAT_GATEWAY_ID, 'protocol', message, base);
}

/** Maps a fetch that threw (no HTTP answer, or the body could not be read) to timeout/network. */
export function errorFromFetchFailure(
  error: unknown,
  context: {
    readonly method: string;
    readonly path: string;
    readonly timeoutMs: number;
    /** True when the caller's own signal aborted, not our timeout. */
    readonly callerAborted?: boolean;
  },
  secrets: readonly string[],
): GatewayError {
  const where = `MPChat ${context.method} ${context.path}`;
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    const why = context.callerAborted
      ? 'was aborted by the caller'
      : `got no answer within ${context.timeoutMs} ms`;
    // A create may still have been applied: the caller retries with the same idempotency_key.
    return new GatewayError(
      MPCHAT_GATEWAY_ID,
      'timeout',
      `${where} ${why}; the request may still have been applied`,
      { cause: error },
    );
  }
  const code = socketErrorCode(error);
  const detail = redact(
    code ??
      (error instanceof Error
        ? error.cause instanceof Error
          ? error.cause.message
          : error.message
        : 'unknown'),
    secrets,
  );
  return new GatewayError(
    MPCHAT_GATEWAY_ID,
    'network',
    `${where} failed before an answer arrived (${detail}); the request may still have been applied`,
    { cause: error },
  );
}

/** A 2xx whose body is not JSON or not the documented shape. */
export function protocolError(
  context: { readonly method: string; readonly path: string; readonly status?: number },
  problem: string,
  secrets: readonly string[],
): GatewayError {
  return new GatewayError(
    MPCHAT_GATEWAY_ID,
    'protocol',
    redact(`MPChat ${context.method} ${context.path} answered with an unexpected body: ${problem}`, secrets),
    context.status === undefined ? {} : { status: context.status },
  );
}
