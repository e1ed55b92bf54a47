import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Config } from '../config/schema.js';
import { type Logger, redactor } from '../log.js';
import type { MailTransport } from '../mail/transport.js';
import { RpcOdooClient } from '../odoo/client.js';
import { LazyOdooTransport } from '../odoo/connect.js';
import { webhookSecretsIn } from '../store/settings.js';
import { type Check, type CheckGroup, type CheckResult, type DoctorContext, fail } from './check.js';
import { checksFor } from './checks.js';

export interface DoctorOptions {
  readonly log: Logger;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
  readonly mailTransport?: MailTransport;
  /** Only the checks `run` makes at start. */
  readonly cheapOnly?: boolean;
  /** Leaves out these groups (what `run` has just checked itself). */
  readonly skipGroups?: readonly CheckGroup[];
  /**
   * A check that throws (Odoo or a gateway down) rethrows instead of becoming a failed line: at
   * start, a passing outage must end as an error the supervisor restarts, not as a refusal.
   */
  readonly rethrow?: boolean;
  /** `run`'s start: checks make no gateway call. */
  readonly atStart?: boolean;
  /** An Odoo client to reuse (`run` has logged in already); default: a new one, as `run` logs in. */
  readonly odoo?: RpcOdooClient;
}

/** Secrets `setup-gateway` kept in the store (settings `gateway.<id>.webhook.<account>`), read only. */
function storedWebhookSecrets(file: string): Record<string, Record<string, string>> {
  if (file === ':memory:' || !existsSync(file)) return {};
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 5_000 });
    const rows = db
      .prepare<[], { key: string; value: string }>(
        "SELECT key, value FROM settings WHERE key LIKE 'gateway.%'",
      )
      .all();
    const secrets = webhookSecretsIn(
      rows.map(({ key, value }) => ({ key, value: JSON.parse(value) as unknown })),
    );
    for (const byAccount of Object.values(secrets)) redactor.addSecrets(Object.values(byAccount));
    return secrets;
  } catch {
    // A store that cannot be read is the store check's finding, not this one's.
    return {};
  } finally {
    db?.close();
  }
}

function odooClientFor(config: Config, options: DoctorOptions): RpcOdooClient | undefined {
  const odoo = config.odoo;
  if (!odoo) return undefined;
  if (options.odoo) return options.odoo;
  const log = options.log.child({ component: 'odoo' });
  const transport = new LazyOdooTransport(odoo, { log, ...(options.fetch ? { fetch: options.fetch } : {}) });
  return new RpcOdooClient(
    transport,
    { db: odoo.db, login: odoo.login, password: odoo.apiKey ?? odoo.password },
    log,
  );
}

/** The line of a config that does not load (the issues are in the message). */
export function configFailure(message: string): CheckResult {
  return {
    id: 'config.load',
    group: 'config',
    title: 'configuration',
    ...fail(
      message.replace(/\s*\n\s*/g, ' '),
      'correct the keys named above in the config file (or their env variables), then run doctor again',
    ),
  };
}

/** Runs the checks in order, each once; a check that throws is a failure with its message. */
export async function runDoctor(config: Config, options: DoctorOptions): Promise<CheckResult[]> {
  if (!config.odoo) {
    return [
      {
        id: 'config.odoo',
        group: 'config',
        title: 'configuration',
        ...fail(
          'no odoo section: this is sandbox mode, nothing real to check',
          'configure odoo, companies and a gateway (README "Setting up for real")',
        ),
      },
    ];
  }
  const ctx: DoctorContext = {
    config,
    odoo: odooClientFor(config, options),
    fetch: options.fetch ?? fetch,
    now: options.now ?? Date.now,
    storedSecrets: storedWebhookSecrets(config.store.path),
    mailTransport: options.mailTransport,
    atStart: options.atStart === true,
    facts: {},
  };
  const checks = checksFor(config).filter(
    (check) => (!options.cheapOnly || check.cheap) && !options.skipGroups?.includes(check.group),
  );
  const results: CheckResult[] = [
    { id: 'config.load', group: 'config', title: 'configuration', verdict: 'ok', found: 'loaded and valid' },
  ];
  for (const check of checks) results.push(await runOne(check, ctx, options.rethrow === true));
  return results;
}

async function runOne(check: Check, ctx: DoctorContext, rethrow: boolean): Promise<CheckResult> {
  const head = { id: check.id, group: check.group, title: check.title };
  if (check.needsOdoo && ctx.facts.odooDown)
    return { ...head, ...fail(`not checked: ${ctx.facts.odooDown}`, 'fix the Odoo line above first') };
  try {
    return { ...head, ...(await check.run(ctx)) };
  } catch (error) {
    if (rethrow) throw error;
    const message = redactor.text(error instanceof Error ? error.message : String(error));
    return { ...head, ...fail(message, 'see the message; run doctor again once it is fixed') };
  }
}

/** Whether every check passed (warnings allowed). */
export function allPassed(results: readonly CheckResult[]): boolean {
  return results.every((result) => result.verdict !== 'fail');
}

const MARK = { ok: '✓', warn: '!', fail: '✗' } as const;
const COLOUR = { ok: '\u001b[32m', warn: '\u001b[33m', fail: '\u001b[31m' } as const;

/** `✓ title: found` or `✗ title: found — fix: …`; colours only when asked (a TTY without NO_COLOR). */
export function formatResult(result: CheckResult, options: { colour?: boolean } = {}): string {
  const mark = options.colour
    ? `${COLOUR[result.verdict]}${MARK[result.verdict]}\u001b[0m`
    : MARK[result.verdict];
  const fix = result.verdict === 'ok' || !result.fix ? '' : ` — fix: ${result.fix}`;
  return `${mark} ${result.title}: ${result.found}${fix}`;
}

/** Colours on a TTY only, and never with NO_COLOR set (no-color.org). */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}

/** What `doctor` prints and its exit code: 0 all passed (warnings allowed), 1 something failed. */
export function doctorReport(
  results: readonly CheckResult[],
  options: { json?: boolean; colour?: boolean } = {},
): { text: string; exitCode: number } {
  const text = options.json
    ? JSON.stringify(results, null, 2)
    : results.map((result) => formatResult(result, { colour: options.colour === true })).join('\n');
  return { text, exitCode: allPassed(results) ? 0 : 1 };
}

/**
 * What `run` checks before any schedule starts, beyond what its start already did (Odoo
 * credentials, fields): each company's journal and the webhook secrets. The lines of the hard
 * failures, or none; warnings are logged. A wrong journal found only after customers paid, or
 * webhooks refused for want of a secret, is worse than a daemon that does not start.
 */
export async function startFailures(
  config: Config,
  options: { log: Logger; odoo: RpcOdooClient; fetch?: typeof fetch },
): Promise<string[]> {
  const results = await runDoctor(config, {
    ...options,
    cheapOnly: true,
    skipGroups: ['odoo', 'store'],
    rethrow: true,
    atStart: true,
  });
  for (const result of results)
    if (result.verdict === 'warn') options.log.warn(`doctor: ${formatResult(result)}`);
  return results.filter((result) => result.verdict === 'fail').map((result) => formatResult(result));
}
