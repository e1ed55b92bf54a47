/**
 * The gateways' fetch under the daemon's stop signal: every gateway client takes an injected
 * fetch and sets its own per-call timeout signal, so combining the two here aborts every gateway
 * call in flight once the shutdown grace period is over. The client then sees an AbortError,
 * which it classifies as a timeout: transient, and resumed by the next start.
 */
export function abortableFetch(stop: AbortSignal, base: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    const own = init?.signal;
    const signal = own ? AbortSignal.any([own, stop]) : stop;
    return base(input, { ...init, signal });
  };
}
