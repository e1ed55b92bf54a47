/**
 * Fault knobs for tests and the benchmark: latency, a dead server, random transient errors,
 * scripted Odoo errors for the next matching calls, and answers lost after the work was done.
 */
import { OdooError, serializationFailure } from './errors.js';

/** What a call was, as logged and as matched by fault rules. */
export interface OdooCallInfo {
  /** 'common', 'object', 'db', 'web' for the web-client routes, or 'json2' for /json/2 calls. */
  service: string;
  /** The service method: 'execute_kw', 'authenticate', 'call_kw'… */
  method: string;
  model?: string;
  /** The model method for object calls: 'search_read', 'action_create_payments'… */
  modelMethod?: string;
  /** The HTTP face it came through, so a test can tell /jsonrpc from /xmlrpc/2 (same services). */
  wire?: 'jsonrpc' | 'xmlrpc' | 'json2' | 'web';
}

export interface OdooCallRecord extends OdooCallInfo {
  /** Positional arguments of the model method (never the password). */
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  /** When the call arrived (ISO 8601). */
  at: string;
}

/**
 * A call matches when every given key matches; `method` is compared with the model method of
 * object calls and with the service method otherwise (so `{method: 'authenticate'}` works too).
 */
export interface FaultMatch {
  service?: string;
  method?: string;
  model?: string;
}

export interface FaultError {
  /** Fully qualified class as Odoo sends it in error.data.name, e.g. 'odoo.exceptions.UserError'. */
  name: string;
  message: string;
}

interface Rule {
  match: FaultMatch;
  remaining: number;
  error?: FaultError;
}

function matches(match: FaultMatch, call: OdooCallInfo): boolean {
  if (match.service !== undefined && match.service !== call.service) return false;
  if (match.model !== undefined && match.model !== call.model) return false;
  if (
    match.method !== undefined &&
    match.method !== (call.modelMethod ?? call.method) &&
    match.method !== call.method
  ) {
    return false;
  }
  return true;
}

function take(rules: Rule[], call: OdooCallInfo): Rule | undefined {
  const index = rules.findIndex((rule) => matches(rule.match, call));
  const rule = rules[index];
  if (!rule) return undefined;
  rule.remaining -= 1;
  if (rule.remaining <= 0) rules.splice(index, 1);
  return rule;
}

export class OdooFaults {
  /** Added to every HTTP request before it is handled. */
  latencyMs = 0;
  /** When true every request has its connection destroyed, so clients see a network error. */
  down = false;
  /** Fraction (0..1) of object-service calls answered with a transient SerializationFailure. */
  errorRate = 0;
  /** Source of randomness for errorRate; replace for deterministic runs. */
  random: () => number = Math.random;
  private readonly failures: Rule[] = [];
  private readonly drops: Rule[] = [];

  constructor(latencyMs = 0) {
    this.latencyMs = latencyMs;
  }

  /** The next `times` calls matching `match` fail with exactly this Odoo error, before doing anything. */
  failNext(match: FaultMatch, error: FaultError, times = 1): void {
    this.failures.push({ match, error, remaining: times });
  }

  /**
   * The next `times` matching calls are carried out (and committed) but the connection is
   * destroyed instead of answering, like a timeout after Odoo did the work.
   */
  dropResponseNext(match: FaultMatch, times = 1): void {
    this.drops.push({ match, remaining: times });
  }

  /** Removes every scripted failure and drop, and resets latency, down and errorRate. */
  reset(): void {
    this.failures.length = 0;
    this.drops.length = 0;
    this.latencyMs = 0;
    this.down = false;
    this.errorRate = 0;
  }

  /** The error a call must fail with, if a rule or the error rate says so. */
  failureFor(call: OdooCallInfo): OdooError | undefined {
    const rule = take(this.failures, call);
    if (rule?.error) {
      const rpcCode = rule.error.name === 'odoo.http.SessionExpiredException' ? 100 : undefined;
      return new OdooError(rule.error.name, rule.error.message, rpcCode);
    }
    const isObjectCall =
      call.service === 'object' ||
      call.service === 'json2' ||
      (call.service === 'web' && call.method === 'call_kw');
    if (isObjectCall && this.errorRate > 0 && this.random() < this.errorRate) return serializationFailure();
    return undefined;
  }

  shouldDrop(call: OdooCallInfo): boolean {
    return take(this.drops, call) !== undefined;
  }
}
