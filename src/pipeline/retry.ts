import { GatewayError } from '../gateways/gateway.js';
import { OdooError } from '../odoo/errors.js';

/** Exponential backoff with full jitter: a random delay up to base·2^attempt, capped. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.max(baseMs, Math.floor(random() * ceiling));
}

export type FailureClass =
  /** Stop everything: the credentials are wrong. */
  | { kind: 'halt'; message: string }
  /** Try again later; nothing is wrong with the request itself. */
  | { kind: 'transient'; message: string; retryAfterMs?: number }
  /** The other side refused the request itself; retrying the same thing will not help. */
  | { kind: 'permanent'; message: string };

export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof OdooError) {
    if (error.kind === 'access_denied' || error.kind === 'unknown_database')
      return { kind: 'halt', message: error.message };
    return error.retryable
      ? { kind: 'transient', message: error.message }
      : { kind: 'permanent', message: error.message };
  }
  if (error instanceof GatewayError) {
    if (error.retryable) {
      return error.details.retryAfterMs === undefined
        ? { kind: 'transient', message: error.message }
        : { kind: 'transient', message: error.message, retryAfterMs: error.details.retryAfterMs };
    }
    // A refused API key is fixed by an admin, not by the invoice: keep retrying slowly.
    if (error.kind === 'auth') return { kind: 'transient', message: error.message };
    return { kind: 'permanent', message: error.message };
  }
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { kind: 'transient', message };
}
