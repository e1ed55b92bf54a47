import { GatewayError } from '../gateway.js';
import { parseRetryAfter, redact, socketErrorCode } from '../http-errors.js';
import { errorBodySchema, type MyTpeErrorBody } from './schemas.js';

export { parseRetryAfter, redact };

export const MYTPE_GATEWAY_ID = 'mytpe';

function readErrorBody(text: string): MyTpeErrorBody | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function fieldErrorsOf(body: MyTpeErrorBody | undefined): Record<string, readonly string[]> | undefined {
  if (!body?.errors) return undefined;
  const out: Record<string, readonly string[]> = {};
  for (const [field, messages] of Object.entries(body.errors)) {
    out[field] = typeof messages === 'string' ? [messages] : messages;
  }
  return out;
}

export interface HttpFailure {
  readonly method: string;
  /** Path relative to the API base; never the full URL with query, to keep logs short. */
  readonly path: string;
  readonly status: number;
  readonly headers: Headers;
  readonly bodyText: string;
}

/** Maps a non-2xx answer to a GatewayError kind (see the brief and spec §8). */
export function errorFromResponse(
  failure: HttpFailure,
  secrets: readonly string[],
  nowMs: number = Date.now(),
): GatewayError {
  const { status } = failure;
  const body = readErrorBody(failure.bodyText);
  const serverMessage = body?.message ?? body?.error ?? undefined;
  const where = `MyTPE ${failure.method} ${failure.path} answered HTTP ${status}`;
  const message = redact(serverMessage ? `${where}: ${serverMessage}` : where, secrets);
  const fieldErrors = fieldErrorsOf(body);
  const base = { status, ...(fieldErrors ? { fieldErrors } : {}) };

  if (status === 401 || status === 403 || status === 419) {
    return new GatewayError(MYTPE_GATEWAY_ID, 'auth', message, base);
  }
  if (status === 422 || status === 400)
    return new GatewayError(MYTPE_GATEWAY_ID, 'validation', message, base);
  if (status === 404) return new GatewayError(MYTPE_GATEWAY_ID, 'not_found', message, base);
  if (status === 409) return new GatewayError(MYTPE_GATEWAY_ID, 'conflict', message, base);
  if (status === 408) return new GatewayError(MYTPE_GATEWAY_ID, 'timeout', message, base);
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.headers.get('retry-after'), nowMs);
    return new GatewayError(MYTPE_GATEWAY_ID, 'rate_limited', message, {
      ...base,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500) return new GatewayError(MYTPE_GATEWAY_ID, 'server', message, base);
  // Redirects (a Laravel login redirect when Accept is ignored) and other 4xx: not an API answer we know.
  return new GatewayError(MYTPE_GATEWAY_ID, 'protocol', message, base);
}

/** Maps a fetch that threw (no HTTP answer, or the body could not be read) to timeout/network. */
export function errorFromFetchFailure(
  error: unknown,
  context: { readonly method: string; readonly path: string; readonly timeoutMs: number },
  secrets: readonly string[],
): GatewayError {
  const where = `MyTPE ${context.method} ${context.path}`;
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new GatewayError(
      MYTPE_GATEWAY_ID,
      'timeout',
      `${where} got no answer within ${context.timeoutMs} ms; the request may still have been applied`,
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
    MYTPE_GATEWAY_ID,
    'network',
    `${where} failed before an answer arrived (${detail})`,
    {
      cause: error,
    },
  );
}

/** A 2xx whose body is not JSON or not the documented shape. */
export function protocolError(
  context: { readonly method: string; readonly path: string; readonly status?: number },
  problem: string,
  secrets: readonly string[],
): GatewayError {
  return new GatewayError(
    MYTPE_GATEWAY_ID,
    'protocol',
    redact(`MyTPE ${context.method} ${context.path} answered with an unexpected body: ${problem}`, secrets),
    context.status === undefined ? {} : { status: context.status },
  );
}
