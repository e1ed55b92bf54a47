import { GatewayError } from '../gateway.js';
import { errorBodySchema, type MyTpeErrorBody } from './schemas.js';

export const MYTPE_GATEWAY_ID = 'mytpe';

/** Replaces every occurrence of a credential by `[redacted]`: messages end up in logs and Odoo chatter. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would redact ordinary words; real keys are long.
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/**
 * Retry-After is either delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns milliseconds
 * from `nowMs`, never negative, or undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

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

function errorCode(error: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', {cause: {code: 'ECONNREFUSED'}}).
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
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
  const code = errorCode(error);
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
