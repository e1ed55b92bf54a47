import { OdooError, type OdooErrorKind } from './errors.js';

/**
 * One HTTP exchange with Odoo, the same for every wire: a per-call timeout, and a typed error for
 * a timeout or an unreachable server. Returns the response and its body as text.
 *
 * `signal` is the daemon's stop signal: aborted once the shutdown grace period is over, it ends
 * the call as a timeout would (retryable: Odoo may or may not have done it, and every step is
 * idempotent, so the next start resumes it).
 */
export async function exchange(
  fetchImpl: typeof fetch,
  endpoint: string,
  init: Omit<RequestInit, 'signal'>,
  what: { label: string; timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<{ response: Response; text: string }> {
  const timeout = AbortSignal.timeout(what.timeoutMs);
  const signal = what.signal ? AbortSignal.any([timeout, what.signal]) : timeout;
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(endpoint, { ...init, signal });
    // The body is read under the same signal: a slow body must not outlive the shutdown either.
    text = await response.text().catch((error: unknown) => {
      if (what.signal?.aborted) throw error;
      return '';
    });
  } catch (error) {
    if (what.signal?.aborted) {
      throw new OdooError('timeout', `${what.label} to Odoo was aborted: odoo-paylink is stopping`, {
        cause: error,
      });
    }
    const name = (error as Error).name;
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new OdooError('timeout', `Odoo did not answer ${what.label} within ${what.timeoutMs} ms`, {
        cause: error,
      });
    }
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new OdooError('network', `cannot reach Odoo at ${endpoint} for ${what.label}: ${reason}`, {
      cause: error,
    });
  }
  return { response, text };
}

/** An HTTP error status where the wire promises its own error envelope (JSON-RPC, XML-RPC). */
export function httpStatusError(status: number, label: string, text: string): OdooError {
  const kind: OdooErrorKind = status === 404 ? 'not_found' : status >= 500 ? 'server' : 'protocol';
  return new OdooError(kind, `Odoo answered HTTP ${status} to ${label}: ${text.slice(0, 200)}`, {
    httpStatus: status,
  });
}
