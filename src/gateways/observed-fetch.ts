/** One HTTP call to a gateway as an onlooker (metrics) sees it: no URL, no body, no header. */
export interface GatewayCall {
  readonly gateway: string;
  /** The HTTP method: the paths carry ids and tokens, so they stay out of any label. */
  readonly method: string;
  readonly durationMs: number;
  /** How the call failed, when it did: no answer in time, no connection, or an HTTP error status. */
  readonly error?: 'timeout' | 'network' | 'http_4xx' | 'http_5xx';
}

/**
 * The gateway clients' fetch, reporting each exchange to `onCall`; the answer and any thrown
 * error pass through unchanged (each client still classifies them its own way).
 */
export function observedFetch(
  gateway: string,
  inner: typeof fetch,
  onCall: (call: GatewayCall) => void,
  clock: () => number = () => performance.now(),
): typeof fetch {
  const report = (call: GatewayCall) => {
    try {
      onCall(call);
    } catch {
      // An onlooker's failure never becomes a gateway failure.
    }
  };
  return async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const startedAt = clock();
    try {
      const response = await inner(input, init);
      const durationMs = clock() - startedAt;
      const error = response.status >= 500 ? 'http_5xx' : response.status >= 400 ? 'http_4xx' : undefined;
      report({ gateway, method, durationMs, ...(error ? { error } : {}) });
      return response;
    } catch (error) {
      const name = (error as Error).name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      report({ gateway, method, durationMs: clock() - startedAt, error: timedOut ? 'timeout' : 'network' });
      throw error;
    }
  };
}
