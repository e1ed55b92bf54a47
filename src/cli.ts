#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import { type App, createApp } from './app.js';
import { readVariable } from './config/env.js';
import { configTable } from './config/env-table.js';
import { ConfigError, loadConfig, secretValues } from './config/load.js';
import type { Config } from './config/schema.js';
import { configFailure, doctorReport, runDoctor, wantsColour } from './doctor/doctor.js';
import { createLogger, redactor } from './log.js';
import { renderPreview } from './mail/preview.js';
import { mailReconcileReport } from './mail/reconcile-report.js';
import { invoiceEmailFor } from './mail/service.js';
import { createMailTransport } from './mail/transport.js';
import { runDaemon, startRuntime } from './main.js';
import { startProgress } from './output/progress.js';
import { formatReconcileDetail, type ReportFormat, reconcileSummary } from './output/reconcile.js';
import { formatPublishPreview, formatStatus } from './output/status.js';
import { statusReport } from './output/status-report.js';
import type { PassSummary } from './pipeline/passes.js';
import type { ReconcileProgress, ReconcileReport } from './pipeline/reconcile.js';
import { ReconcileLockedError, withReconcileLock } from './pipeline/reconcile-lock.js';
import { storeLockHolder } from './store/lock.js';

interface GlobalOptions {
  config?: string;
  logFormat?: 'pretty' | 'json';
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

type CliLogger = ReturnType<typeof createLogger>;

function setup(program: Command, quiet = false, daemon = false): { config: Config; log: CliLogger } {
  const options = program.opts<GlobalOptions>();
  const { config, source } = loadConfig({ file: options.config });
  redactor.addSecrets(secretValues(config));
  const log = createLogger({
    level: options.logLevel ?? (quiet ? 'warn' : config.log.level),
    format: options.logFormat ?? config.log.format,
    // Reports go to stdout; logs to stderr, so `reconcile --format csv > file` stays clean. The
    // daemon prints no report: its info goes to stdout, its warnings and errors to stderr.
    stream: daemon ? 'split' : process.stderr,
  });
  log.debug(`configuration from ${source}`);
  return { config, log };
}

/** Commands that read the state database of a configured daemon. */
async function withApp<T>(
  program: Command,
  body: (app: App, log: CliLogger) => Promise<T>,
  quiet = false,
): Promise<T> {
  const { config, log } = setup(program, quiet);
  if (!config.odoo) {
    throw new ConfigError(
      'this command needs odoo configured; in sandbox mode the state is thrown away with the process',
    );
  }
  const app = createApp(config, log);
  try {
    return await body(app, log);
  } finally {
    await app.mail?.stop();
    app.close();
    await log.close();
  }
}

function printSummary(name: string, summary: PassSummary): void {
  const parts = Object.entries(summary)
    .filter(([, value]) => value !== 0)
    .map(([key, value]) => `${key} ${value}`);
  console.log(`${name.padEnd(8)} ${parts.length > 0 ? parts.join(', ') : 'nothing to do'}`);
}

function parseDate(value: string): Date {
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value);
  if (Number.isNaN(date.getTime()))
    throw new InvalidArgumentError('expected a date like 2026-11-01 or an ISO timestamp');
  return date;
}

/** Another reconciliation holds the store's reconcile lock: nothing was done (EX_TEMPFAIL, "try again later"). */
const EXIT_BUSY = 75;

function parseAddress(value: string): string {
  const parsed = z.email().safeParse(value.trim());
  if (!parsed.success) throw new InvalidArgumentError('expected an email address, e.g. accounts@example.com');
  return parsed.data;
}

function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new InvalidArgumentError('expected a number of seconds');
  return seconds;
}

function reconcileProgressText(progress: ReconcileProgress | undefined): string {
  if (!progress) return 'starting';
  if (progress.linksRead < progress.linksToRead)
    return `${progress.linksRead}/${progress.linksToRead} links read at the gateway`;
  return `${progress.checked}/${progress.total} payments checked, ${progress.fixed} registered`;
}

/** Links in the store by state, for the progress line of the passes that make or settle them. */
function linkProgressText(app: App, before: Map<string, number>): string {
  const counts = new Map(app.links.countsByState().map(({ state, count }) => [state, count]));
  const total = [...counts.values()].reduce((sum, count) => sum + count, 0);
  const totalBefore = [...before.values()].reduce((sum, count) => sum + count, 0);
  const registered = (counts.get('registered') ?? 0) - (before.get('registered') ?? 0);
  return `${total - totalBefore} links new, ${registered} payments registered so far`;
}

function parseInvoiceId(value: string): number {
  const id = Number(value);
  if (!Number.isSafeInteger(id) || id <= 0)
    throw new InvalidArgumentError('expected an Odoo invoice id (account.move id)');
  return id;
}

/** An invoice as an admin names it: its Odoo id (account.move id) or its number. */
function parseInvoiceRef(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected an invoice number or Odoo invoice id');
  return value.trim();
}

function invoiceIdOf(app: App, ref: string): number {
  if (/^\d+$/.test(ref)) {
    const id = Number(ref);
    if (Number.isSafeInteger(id) && id > 0) return id;
  }
  const ids = app.links.invoiceIdsNamed(ref);
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0)
    throw new Error(`no invoice numbered ${ref} has had a payment link (give its Odoo id instead)`);
  throw new Error(
    `several invoices are numbered ${ref} (one per company): give the Odoo id, one of ${ids.join(', ')}`,
  );
}

/** This package's version, from its package.json (one folder up from src/ and dist/). */
function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  return z.object({ version: z.string() }).parse(JSON.parse(text)).version;
}

/** Set when commander itself reported a usage error on stderr (so it is not printed twice). */
let usageReported = false;

const program = new Command()
  .name('odoo-paylink')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .description(
    'Gives posted Odoo customer invoices an online payment link and registers the payments in Odoo.',
  )
  .option('-c, --config <file>', 'configuration file (default: config/local.json, or $PAYLINK_CONFIG)')
  .addOption(new Option('--log-format <format>', 'log output').choices(['pretty', 'json']))
  .addOption(new Option('--log-level <level>', 'log verbosity').choices(['error', 'warn', 'info', 'debug']))
  .showHelpAfterError()
  // Usage errors exit 64 (EX_USAGE) in the catch below, not commander's 1, which means "work left".
  // Both settings are copied to the commands defined after them.
  .exitOverride()
  .configureOutput({
    writeErr: (text) => {
      usageReported = true;
      process.stderr.write(text);
    },
  });

program
  .command('run')
  .description('run the daemon until SIGINT/SIGTERM (sandbox mode when no Odoo is configured)')
  .action(async () => {
    const { config, log } = setup(program, false, true);
    await runDaemon(config, log);
  });

program
  .command('sync')
  .description('run one publish and one confirm pass, send queued emails, print a summary and exit')
  .option(
    '--dry-run',
    'only say how many invoices would get links and emails, and the oldest; change nothing',
  )
  .action(async (options: { dryRun?: boolean }) => {
    if (options.dryRun) {
      await withApp(program, async (app) => {
        await app.prepareOdoo({ dryRun: true });
        const preview = await app.pipeline.previewPublish({ emails: app.mail !== undefined });
        console.log(formatPublishPreview(preview, app.scope));
      });
      return;
    }
    const { config, log } = setup(program);
    const runtime = await startRuntime(config, log);
    const before = new Map(runtime.app.links.countsByState().map(({ state, count }) => [state, count]));
    const progress = startProgress({ label: 'sync', render: () => linkProgressText(runtime.app, before) });
    try {
      const publish = await runtime.app.pipeline.publish();
      const events = await runtime.app.pipeline.processEvents();
      const confirm = await runtime.app.pipeline.confirm();
      await runtime.app.mail?.runOnce();
      // The mail worker may have owed the accountant a note (a customer without an address).
      await runtime.app.pipeline.postNotes();
      progress.stop();
      printSummary('publish', publish);
      printSummary('confirm', confirm);
      if (events.processed + events.unknown > 0)
        console.log(`events   processed ${events.processed}, unknown ${events.unknown}`);
      console.log(formatStatus(runtime.app, { runs: false }));
      if (publish.failed + confirm.failed > 0) process.exitCode = 1;
    } finally {
      progress.stop();
      await runtime.app.mail?.stop();
      await runtime.close();
      await log.close();
    }
  });

program
  .command('status')
  .description(
    'whether the daemon runs, links per state, problems that need a person, emails, webhooks and the latest passes; exit 0 healthy, 1 something needs a person, 2 the daemon is not running or halted',
  )
  .option('--json', 'the same facts as JSON, for machines', false)
  .action((options: { json: boolean }) =>
    withApp(
      program,
      async (app) => {
        const report = statusReport(app);
        console.log(
          options.json
            ? JSON.stringify(report, null, 2)
            : formatStatus(app, { runs: true, daemon: report.daemon }),
        );
        process.exitCode = report.exitCode;
      },
      true,
    ),
  );

program
  .command('reconcile')
  .description(
    'compare the gateway payments with Odoo; exit 0 when they agree (or all was fixed), 1 when discrepancies remain',
  )
  .option('--since <date>', 'start of the window (default: 3 days ago)', parseDate)
  .option('--until <date>', 'end of the window (default: now)', parseDate)
  .option('--fix', 'register payments that were paid but not registered', false)
  .addOption(
    new Option('--format <format>', 'detail format').choices(['table', 'json', 'csv']).default('table'),
  )
  .option(
    '--mail-report <address>',
    'when discrepancies remain, mail the report there through mail.smtp (default: reconcile.reportTo)',
    parseAddress,
  )
  .option(
    '--wait <seconds>',
    `wait that long for a reconciliation in progress to finish (default: exit ${EXIT_BUSY} at once)`,
    parseSeconds,
  )
  .action(
    (options: {
      since?: Date;
      until?: Date;
      fix: boolean;
      format: ReportFormat;
      mailReport?: string;
      wait?: number;
    }) =>
      withApp(
        program,
        async (app) => {
          const until = options.until ?? new Date();
          const since =
            options.since ?? new Date(until.getTime() - app.config.reconcile.windowDays * 86_400_000);
          if (since >= until) throw new InvalidArgumentError('--since must be before --until');
          const reportTo = options.mailReport ?? app.config.reconcile.reportTo;
          if (reportTo && !app.config.mail.smtp)
            throw new ConfigError(`mailing the report to ${reportTo} needs mail.smtp configured`);
          const storePath = app.config.store.path;
          const daemon = storeLockHolder(storePath);
          if (daemon)
            console.error(
              `the daemon (pid ${daemon.pid} on ${daemon.host}) runs on this store: reconciling next to it; the links it is working on are left to it`,
            );
          let report: ReconcileReport;
          try {
            // Taken before logging in to Odoo, so a second run costs Odoo nothing.
            report = await withReconcileLock(
              storePath,
              async () => {
                await app.prepareOdoo();
                let current: ReconcileProgress | undefined;
                const progress = options.fix
                  ? startProgress({ label: 'reconcile --fix', render: () => reconcileProgressText(current) })
                  : undefined;
                try {
                  return await app.pipeline.reconcile(
                    { since, until },
                    {
                      fix: options.fix,
                      onProgress: (now) => {
                        current = now;
                      },
                    },
                  );
                } finally {
                  progress?.stop();
                }
              },
              { waitMs: (options.wait ?? 0) * 1000 },
            );
          } catch (error) {
            if (!(error instanceof ReconcileLockedError)) throw error;
            console.error(
              `odoo-paylink: ${error.message}. Run it again later, or give --wait <seconds> to wait for it.`,
            );
            process.exitCode = EXIT_BUSY;
            return;
          }
          // Summary for people on stderr; the detail in the chosen format on stdout.
          console.error(reconcileSummary(report));
          console.log(formatReconcileDetail(report, options.format));
          process.exitCode = report.remaining === 0 ? 0 : 1;
          if (report.remaining > 0 && reportTo && app.config.mail.smtp) {
            try {
              await mailReconcileReport(
                createMailTransport(app.config.mail.smtp),
                report,
                reportTo,
                app.config.odoo!.db,
              );
              console.error(`mailed the report to ${reportTo}`);
            } catch (error) {
              console.error(
                `odoo-paylink: could not mail the report to ${reportTo}: ${redactor.text((error as Error).message)}`,
              );
              process.exitCode = 2;
            }
          }
        },
        true,
      ),
  );

program
  .command('retry')
  .description('resume failed links at the step they failed at (after fixing the cause)')
  .argument('[invoice]', 'invoice number (INV/2026/00042) or Odoo invoice id', parseInvoiceRef)
  .option('--all-failed', 'every failed link')
  .action((invoiceRef: string | undefined, options: { allFailed?: boolean }) =>
    withApp(program, async (app) => {
      if ((invoiceRef === undefined) === !options.allFailed)
        throw new InvalidArgumentError('give an invoice or --all-failed');
      const invoiceId = invoiceRef === undefined ? undefined : invoiceIdOf(app, invoiceRef);
      const failed =
        invoiceId === undefined
          ? app.links.inStates(['failed'])
          : app.links.ofInvoice(invoiceId).filter((row) => row.state === 'failed');
      if (failed.length === 0) {
        const current = invoiceId === undefined ? undefined : app.links.currentForInvoice(invoiceId);
        if (invoiceId === undefined) console.log('no failed links');
        else
          throw new Error(
            `invoice ${invoiceId} has no failed link${current ? ` (its link is ${current.state})` : ''}`,
          );
        return;
      }
      await app.prepareOdoo();
      for (const link of failed) {
        const resumed = app.pipeline.steps.retryFailed(link);
        if (!resumed) {
          console.log(`${link.invoiceName}: cannot be retried (no failed step recorded)`);
          continue;
        }
        const outcomes = await app.pipeline.steps.advance(resumed);
        console.log(
          `${link.invoiceName}: ${outcomes.join(', ') || 'unchanged'}; now ${app.links.byId(link.id)?.state}`,
        );
      }
      await app.pipeline.postNotes();
    }),
  );

program
  .command('rebuild')
  .description(
    'rebuild the state store from Odoo and the gateway (after losing var/paylink.db): adopts every link invoices carry; creates and emails nothing',
  )
  .action(() =>
    withApp(program, async (app) => {
      await app.prepareOdoo();
      const before = new Map(app.links.countsByState().map(({ state, count }) => [state, count]));
      const progress = startProgress({ label: 'rebuild', render: () => linkProgressText(app, before) });
      const summary = await app.pipeline.rebuild().finally(() => progress.stop());
      console.log(
        `read ${summary.invoicesRead} invoices carrying a link; adopted ${summary.adopted}, registered ${summary.registered}, archived ${summary.closed}, needing a person ${summary.needsAttention}`,
      );
      for (const { kind, count } of app.notices.countsByKind())
        console.log(`  ${kind.replace('_', ' ')}: ${count} invoices`);
      console.log(formatStatus(app, { runs: false }));
    }),
  );

program
  .command('resend')
  .description(
    'email the payment link of an invoice again, on purpose (refused for an invoice that cannot be paid online)',
  )
  .argument('<invoice>', 'invoice number (INV/2026/00042) or Odoo invoice id', parseInvoiceRef)
  .option('--force', 'send even though the invoice is paid, cancelled or excluded')
  .action((invoiceRef: string, options: { force?: boolean }) =>
    withApp(program, async (app) => {
      if (!app.mail) throw new ConfigError('emails are disabled or mail.smtp is not configured');
      const invoiceId = invoiceIdOf(app, invoiceRef);
      const link = app.links.currentForInvoice(invoiceId) ?? app.links.ofInvoice(invoiceId).at(-1);
      if (!link?.linkUrl) throw new Error(`invoice ${invoiceRef} has no payment link`);
      await app.prepareOdoo();
      const [invoice] = await app.ledger.invoicesByIds(link.companyId, [invoiceId]);
      if (!invoice) throw new Error(`invoice ${invoiceRef} is not in Odoo any more`);
      const refusal =
        app.invoiceStaleReason(invoice) ?? (link.state === 'open' ? undefined : `its link is ${link.state}`);
      if (refusal && !options.force)
        throw new Error(`not sending ${invoice.name}: ${refusal}. Use --force to send it anyway`);
      app.mail.resend(link, invoice, await app.ledger.companyContact(link.companyId), {
        force: options.force === true,
      });
      const summary = await app.mail.runOnce();
      console.log(`queued the email of ${link.invoiceName} again: ${JSON.stringify(summary)}`);
    }),
  );

program
  .command('preview-email')
  .description('render the invoice email to an HTML file you can open in a browser')
  .argument('[invoice]', 'Odoo invoice id (needs odoo configured)', parseInvoiceId)
  .option('--sample', 'use a sample invoice instead of a real one')
  .option('--lang <lang>', 'language, as Odoo names it (en_US, fr_FR, ar_001…)')
  .option('-o, --out <file>', 'where to write the HTML', 'var/preview/email.html')
  .action(
    async (invoiceId: number | undefined, options: { sample?: boolean; lang?: string; out: string }) => {
      const { config, log } = setup(program, true);
      try {
        const overrideDir = config.mail.templatesOverrideDir;
        const common = {
          outFile: options.out,
          ...(options.lang ? { lang: options.lang } : {}),
          ...(overrideDir ? { overrideDir } : {}),
        };
        if (options.sample || invoiceId === undefined) {
          if (!options.sample) throw new InvalidArgumentError('give an invoice id or --sample');
          console.log(await renderPreview({ ...common, sample: true }));
          return;
        }
        if (!config.odoo)
          throw new ConfigError('previewing a real invoice needs odoo configured; use --sample otherwise');
        const app = createApp(config, log);
        try {
          const link = app.links.currentForInvoice(invoiceId);
          if (!link) throw new Error(`invoice ${invoiceId} has no current payment link`);
          const [invoice] = await app.ledger.invoicesByIds(link.companyId, [invoiceId]);
          const company = await app.ledger.companyContact(link.companyId);
          const gatewayName = app.gateways.get(link.gateway)?.displayName ?? link.gateway;
          const model = invoice && invoiceEmailFor(link, invoice, company, gatewayName, config.mail.logoUrl);
          if (!model) throw new Error(`invoice ${invoiceId} cannot be rendered (no link URL or not in Odoo)`);
          console.log(await renderPreview({ ...common, model }));
        } finally {
          app.close();
        }
      } finally {
        await log.close();
      }
    },
  );

program
  .command('setup-odoo')
  .description(
    "as an Odoo administrator: create the fields on account.move, record the database identity, check the journals and what the daemon's user can do",
  )
  .option('--admin-login <login>', 'an Odoo administrator (default: the configured odoo.login)')
  .option(
    '--admin-password-file <file>',
    "a file holding the administrator's password or API key (default: env ODOO_ADMIN_PASSWORD)",
  )
  .option(
    '--remove',
    "remove what setup installed: the invoice form's group, the list filter, the Action menu entries and the Pay-button mail template (the fields stay: they hold the invoices' links)",
  )
  .action((options: { adminLogin?: string; adminPasswordFile?: string; remove?: boolean }) =>
    withApp(program, async (app) => {
      const odoo = app.config.odoo!;
      let admin: { db: string; login: string; password: string } | undefined;
      if (options.adminLogin) {
        const password = options.adminPasswordFile
          ? readFileSync(options.adminPasswordFile, 'utf8').trim()
          : readVariable(process.env, 'ODOO_ADMIN_PASSWORD');
        if (!password)
          throw new ConfigError(
            '--admin-login needs the password in ODOO_ADMIN_PASSWORD or --admin-password-file',
          );
        redactor.addSecrets([password]);
        admin = { db: odoo.db, login: options.adminLogin, password };
      }
      if (options.remove) {
        const removed = await app.removeFromOdoo(admin);
        console.log(
          removed.length > 0
            ? `removed from Odoo: ${removed.join(', ')}`
            : 'odoo-paylink had installed nothing to remove in Odoo',
        );
        return;
      }
      const report = await app.setupOdoo(admin);
      if (report.mailTemplate)
        console.log(
          `mail template for mail.via odoo: ${report.mailTemplate.action} (mail.template ${report.mailTemplate.id})`,
        );
      console.log(
        report.createdFields.length > 0
          ? `created on account.move: ${report.createdFields.join(', ')}`
          : 'the fields on account.move were already there',
      );
      const installed = Object.entries({ ...report.invoiceUi.views, ...report.invoiceUi.actions });
      console.log(`on the invoice: ${installed.map(([name, outcome]) => `${name} ${outcome}`).join('; ')}`);
      console.log(
        `link references start with ${report.prefix} (${report.prefixSource === 'config' ? 'odoo.referencePrefix' : "from the database's uuid"}); keep it: set odoo.referencePrefix to "${report.prefix}" so a lost state file needs no new setup`,
      );
      if (report.journalProblems.length > 0) {
        for (const problem of report.journalProblems) console.log(`✗ ${problem}`);
        throw new Error('Odoo is not ready: the journals above cannot take the payments');
      }
      console.log('Odoo is ready for odoo-paylink.');
    }),
  );

program
  .command('setup-gateway')
  .description(
    "point each configured gateway account's webhooks at this daemon and keep the secret it returns",
  )
  .requiredOption(
    '--public-url <url>',
    'the https address of this daemon behind its reverse proxy, e.g. https://pay.example.com',
  )
  .option('--regenerate', 'ask for a new webhook secret (the old one stops working)')
  .action((options: { publicUrl: string; regenerate?: boolean }) =>
    withApp(program, async (app) => {
      for (const line of await app.setupGateways(options.publicUrl, {
        regenerate: options.regenerate === true,
      }))
        console.log(line);
      console.log('restart the daemon so it takes the secrets');
    }),
  );

program
  .command('config')
  .description('about the configuration: --env-table prints the table of its environment variables')
  .option('--env-table', 'print every PAYLINK_ variable, its key, type and default as Markdown')
  .action((options: { envTable?: boolean }) => {
    if (!options.envTable) throw new InvalidArgumentError('give --env-table');
    process.stdout.write(configTable());
  });

program
  .command('doctor')
  .description(
    'check every piece of the setup (config, Odoo, rights, journals, gateways, webhooks, public URL, SMTP, store, clock) and print the fix for each problem; exit 0 when all pass',
  )
  .option('--json', 'print the results as a JSON array')
  .action(async (options: { json?: boolean }) => {
    let loaded: ReturnType<typeof setup>;
    try {
      loaded = setup(program, true);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // A config that does not load is the one check that stops the others (exit 78, as everywhere).
      const report = doctorReport([configFailure(redactor.text(error.message))], options);
      console.log(report.text);
      process.exitCode = 78;
      return;
    }
    const { config, log } = loaded;
    try {
      const results = await runDoctor(config, { log });
      const report = doctorReport(results, { ...options, colour: wantsColour(process.stdout) });
      console.log(report.text);
      process.exitCode = report.exitCode;
    } finally {
      await log.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    if (error.exitCode === 0) return;
    if (!usageReported) console.error(`odoo-paylink: ${error.message}`);
    process.exitCode = 64;
    setTimeout(() => process.exit(), 1_000).unref();
    return;
  }
  const message = redactor.text(error instanceof Error ? error.message : String(error));
  console.error(
    error instanceof ConfigError ? `configuration error: ${message}` : `odoo-paylink: ${message}`,
  );
  process.exitCode = error instanceof ConfigError ? 78 : 2;
  // A command that failed is over, even if something it started still holds the event loop (a
  // daemon worker under a cluster must exit, not hang and look online).
  setTimeout(() => process.exit(), 1_000);
});
