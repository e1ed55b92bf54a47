#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type App, createApp } from './app.js';
import { ConfigError, loadConfig, secretValues } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger, redactor } from './log.js';
import { renderPreview } from './mail/preview.js';
import { invoiceEmailFor } from './mail/service.js';
import { runDaemon, startRuntime } from './main.js';
import { formatReconcileDetail, type ReportFormat, reconcileSummary } from './output/reconcile.js';
import { formatPublishPreview, formatStatus } from './output/status.js';
import type { PassSummary } from './pipeline/passes.js';

interface GlobalOptions {
  config?: string;
  logFormat?: 'pretty' | 'json';
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

type CliLogger = ReturnType<typeof createLogger>;

function setup(program: Command, quiet = false): { config: Config; log: CliLogger } {
  const options = program.opts<GlobalOptions>();
  const { config, source } = loadConfig({ file: options.config });
  redactor.addSecrets(secretValues(config));
  const log = createLogger({
    level: options.logLevel ?? (quiet ? 'warn' : config.log.level),
    format: options.logFormat ?? config.log.format,
    // Reports go to stdout; logs to stderr, so `reconcile --format csv > file` stays clean.
    stream: process.stderr,
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

const program = new Command()
  .name('odoo-paylink')
  .description(
    'Gives posted Odoo customer invoices an online payment link and registers the payments in Odoo.',
  )
  .option('-c, --config <file>', 'configuration file (default: config/local.json, or $PAYLINK_CONFIG)')
  .addOption(new Option('--log-format <format>', 'log output').choices(['pretty', 'json']))
  .addOption(new Option('--log-level <level>', 'log verbosity').choices(['error', 'warn', 'info', 'debug']))
  .showHelpAfterError();

program
  .command('run')
  .description('run the daemon until SIGINT/SIGTERM (sandbox mode when no Odoo is configured)')
  .action(async () => {
    const { config, log } = setup(program);
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
    try {
      const publish = await runtime.app.pipeline.publish();
      const events = await runtime.app.pipeline.processEvents();
      const confirm = await runtime.app.pipeline.confirm();
      await runtime.app.mail?.runOnce();
      // The mail worker may have owed the accountant a note (a customer without an address).
      await runtime.app.pipeline.postNotes();
      printSummary('publish', publish);
      printSummary('confirm', confirm);
      if (events.processed + events.unknown > 0)
        console.log(`events   processed ${events.processed}, unknown ${events.unknown}`);
      console.log(formatStatus(runtime.app, { runs: false }));
      if (publish.failed + confirm.failed > 0) process.exitCode = 1;
    } finally {
      await runtime.app.mail?.stop();
      await runtime.close();
      await log.close();
    }
  });

program
  .command('status')
  .description('links per state, problems that need a person, emails, webhooks and the latest passes')
  .action(() =>
    withApp(
      program,
      async (app) => {
        console.log(formatStatus(app, { runs: true }));
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
  .action((options: { since?: Date; until?: Date; fix: boolean; format: ReportFormat }) =>
    withApp(
      program,
      async (app) => {
        await app.prepareOdoo();
        const until = options.until ?? new Date();
        const since =
          options.since ?? new Date(until.getTime() - app.config.reconcile.windowDays * 86_400_000);
        if (since >= until) throw new ConfigError('--since must be before --until');
        const report = await app.pipeline.reconcile({ since, until }, { fix: options.fix });
        // Summary for people on stderr; the detail in the chosen format on stdout.
        console.error(reconcileSummary(report));
        console.log(formatReconcileDetail(report, options.format));
        process.exitCode = report.remaining === 0 ? 0 : 1;
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
      const summary = await app.pipeline.rebuild();
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
          : process.env.ODOO_ADMIN_PASSWORD;
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

program.parseAsync().catch((error: unknown) => {
  const message = redactor.text(error instanceof Error ? error.message : String(error));
  console.error(
    error instanceof ConfigError ? `configuration error: ${message}` : `odoo-paylink: ${message}`,
  );
  process.exitCode = error instanceof ConfigError ? 78 : 2;
  // A command that failed is over, even if something it started still holds the event loop (a
  // daemon worker under a cluster must exit, not hang and look online).
  setTimeout(() => process.exit(), 1_000);
});
