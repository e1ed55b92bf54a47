import { GatewayError } from '../gateway.js';
import { redact, socketErrorCode } from '../http-errors.js';
import { errorBodySchema, type TendoPayErrorBody } from './schemas.js';

export { redact };

export const TENDOPAY_GATEWAY_ID = 'tendopay';

function readErrorBody(text: string): TendoPayErrorBody | undefined {
  try {
    const parsed = errorBodySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export interface HttpFailure {
  readonly method: string;
  /** Path relative to the base URL, to keep logs short. */
  readonly path: string;
  readonly status: number;
  readonly bodyText: string;
}

// TendoPay does not say whether a reused tp_merchant_order_id is refused; if it is, Laravel's
// `unique` rule words it like this. Only then is a 422 a conflict rather than bad input.
const DUPLICATE_MESSAGE = /already been taken|already exists|duplicate/i;

/** Maps a non-2xx answer to a GatewayError kind (spec §9: 401, 403, 422, 500; the rest by HTTP). */
export function errorFromResponse(failure: HttpFailure, secrets: readonly string[]): GatewayError {
  const { status } = failure;
  const body = readErrorBody(failure.bodyText);
  // OAuth answers put a code in `error` and the sentence in `error_description`/`message`.
  const serverMessage = body?.error_description ?? body?.message ?? body?.error ?? undefined;
  const where = `TendoPay ${failure.method} ${failure.path} answered HTTP ${status}`;
  // The server echoes our input in messages; the secret is part of no input but redact anyway.
  const message = redact(serverMessage ? `${where}: ${serverMessage}` : where, secrets);
  const base = { status };
  if (status === 401 || status === 403) return new GatewayError(TENDOPAY_GATEWAY_ID, 'auth', message, base);
  if (status === 422 || status === 400) {
    const kind = serverMessage && DUPLICATE_MESSAGE.test(serverMessage) ? 'conflict' : 'validation';
    return new GatewayError(TENDOPAY_GATEWAY_ID, kind, message, base);
  }
  if (status === 404) return new GatewayError(TENDOPAY_GATEWAY_ID, 'not_found', message, base);
  if (status === 409) return new GatewayError(TENDOPAY_GATEWAY_ID, 'conflict', message, base);
  if (status === 408) return new GatewayError(TENDOPAY_GATEWAY_ID, 'timeout', message, base);
  // None documented; a proxy in front may still send one.
  if (status === 429) return new GatewayError(TENDOPAY_GATEWAY_ID, 'rate_limited', message, base);
  if (status === 503) return new GatewayError(TENDOPAY_GATEWAY_ID, 'unavailable', message, base);
  if (status >= 500) return new GatewayError(TENDOPAY_GATEWAY_ID, 'server', message, base);
  // Redirects (Laravel sends a login redirect when Accept is ignored) and other codes.
  return new GatewayError(TENDOPAY_GATEWAY_ID, 'protocol', message, base);
}

/** A fetch that threw (no answer, or the body could not be read) → timeout or network. */
export function errorFromFetchFailure(
  error: unknown,
  context: { readonly method: string; readonly path: string; readonly timeoutMs: number },
  secrets: readonly string[],
): GatewayError {
  const where = `TendoPay ${context.method} ${context.path}`;
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new GatewayError(
      TENDOPAY_GATEWAY_ID,
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
    TENDOPAY_GATEWAY_ID,
    'network',
    `${where} failed before an answer arrived (${detail})`,
    {
      cause: error,
    },
  );
}

/** A 2xx whose body is not JSON, not the documented shape, or not correctly signed. */
export function protocolError(
  context: { readonly method: string; readonly path: string; readonly status?: number },
  problem: string,
  secrets: readonly string[],
): GatewayError {
  return new GatewayError(
    TENDOPAY_GATEWAY_ID,
    'protocol',
    redact(
      `TendoPay ${context.method} ${context.path} answered with an unexpected body: ${problem}`,
      secrets,
    ),
    context.status === undefined ? {} : { status: context.status },
  );
}

/** Input refused before anything is sent. */
export function inputError(problem: string): GatewayError {
  return new GatewayError(TENDOPAY_GATEWAY_ID, 'validation', `TendoPay request not sent: ${problem}`);
}
