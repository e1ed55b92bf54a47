import type { Config } from '../config/schema.js';
import type { MailTransport } from '../mail/transport.js';
import type { RpcOdooClient } from '../odoo/client.js';

/**
 * One doctor check: what it looks at, and a verdict with what it found and the exact fix. Checks
 * only read: nothing is written to Odoo or a gateway, and the store is only opened.
 */
export type Verdict = 'ok' | 'fail' | 'warn';

export type CheckGroup =
  | 'config'
  | 'odoo'
  | 'rights'
  | 'companies'
  | 'gateways'
  | 'webhooks'
  | 'public-url'
  | 'smtp'
  | 'store'
  | 'clock';

export interface Outcome {
  readonly verdict: Verdict;
  readonly found: string;
  /** What to do, in exact words (a command, a config key); absent when all is well. */
  readonly fix?: string | undefined;
}

export interface CheckResult extends Outcome {
  readonly id: string;
  readonly group: CheckGroup;
  readonly title: string;
}

export interface DoctorContext {
  readonly config: Config;
  /** The daemon's own Odoo user, as `run` logs in (present when odoo is configured). */
  readonly odoo: RpcOdooClient | undefined;
  readonly fetch: typeof fetch;
  /** Our clock, compared with Odoo's. */
  readonly now: () => number;
  /** Webhook secrets `setup-gateway` kept in the store, by gateway and account. */
  readonly storedSecrets: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Replaces the SMTP transport (tests). */
  readonly mailTransport?: MailTransport | undefined;
  /** `run`'s start checks: no call to a gateway (an outage must not refuse the start). */
  readonly atStart: boolean;
  /** What earlier checks learnt, so later ones do not fail for the same cause again. */
  readonly facts: { odooMajor?: number; odooDown?: string };
}

export interface Check {
  readonly id: string;
  readonly group: CheckGroup;
  readonly title: string;
  /** Checked by `run` at start too (no call beyond what the start makes anyway, or one read). */
  readonly cheap?: boolean;
  /** Needs a working Odoo login; reported as not checked when an earlier Odoo check failed. */
  readonly needsOdoo?: boolean;
  run(ctx: DoctorContext): Promise<Outcome>;
}

export const ok = (found: string): Outcome => ({ verdict: 'ok', found });
export const fail = (found: string, fix: string): Outcome => ({ verdict: 'fail', found, fix });
export const warn = (found: string, fix: string): Outcome => ({ verdict: 'warn', found, fix });
