#!/usr/bin/env node
import { Command, Option } from 'commander';
import { createApp } from './app.js';
import { ConfigError, loadConfig, secretValues } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger, redactor } from './log.js';
import { runDaemon, startRuntime } from './main.js';
import type { PassSummary } from './pipeline/passes.js';
import { formatStatus } from './status.js';

interface GlobalOptions {
  config?: string;
  logFormat?: 'pretty' | 'json';
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

function setup(program: Command): { config: Config; log: ReturnType<typeof createLogger> } {
  const options = program.opts<GlobalOptions>();
  const { config, source } = loadConfig({ file: options.config });
  redactor.addSecrets(secretValues(config));
  const log = createLogger({
    level: options.logLevel ?? config.log.level,
    format: options.logFormat ?? config.log.format,
  });
  log.debug(`configuration from ${source}`);
  return { config, log };
}

function printSummary(name: string, summary: PassSummary): void {
  const parts = Object.entries(summary)
    .filter(([, value]) => value !== 0)
    .map(([key, value]) => `${key} ${value}`);
  console.log(`${name.padEnd(8)} ${parts.length > 0 ? parts.join(', ') : 'nothing to do'}`);
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
  .description(
    'run the daemon: publish links and confirm payments on schedule until SIGINT/SIGTERM (sandbox mode without Odoo config)',
  )
  .action(async () => {
    const { config, log } = setup(program);
    await runDaemon(config, log);
  });

program
  .command('sync')
  .description('run one publish and one confirm pass, print a summary and exit')
  .action(async () => {
    const { config, log } = setup(program);
    const runtime = await startRuntime(config, log);
    try {
      const publish = await runtime.app.pipeline.publish();
      const confirm = await runtime.app.pipeline.confirm();
      printSummary('publish', publish);
      printSummary('confirm', confirm);
      console.log(formatStatus(runtime.app.links, runtime.app.runs, { runs: false }));
      if (publish.failed + confirm.failed > 0) process.exitCode = 1;
    } finally {
      await runtime.close();
      await log.close();
    }
  });

program
  .command('status')
  .description('show links per state, the latest failures and the latest passes')
  .action(async () => {
    const { config, log } = setup(program);
    if (!config.odoo) {
      console.log(
        'No Odoo is configured: the daemon runs in sandbox mode with a throw-away state database, so there is no status to show.',
      );
      await log.close();
      return;
    }
    const app = createApp(config, log);
    try {
      console.log(formatStatus(app.links, app.runs, { runs: true }));
    } finally {
      app.close();
      await log.close();
    }
  });

program
  .command('setup-odoo')
  .description('check the Odoo connection and create the x_mytpe_* fields on account.move')
  .action(async () => {
    const { config, log } = setup(program);
    if (!config.odoo) throw new ConfigError('setup-odoo needs odoo configured (url, db, login, password)');
    const app = createApp(config, log);
    try {
      await app.prepareOdoo();
      console.log('Odoo is ready for odoo-paylink.');
    } finally {
      app.close();
      await log.close();
    }
  });

program.parseAsync().catch((error: unknown) => {
  const message = redactor.text(error instanceof Error ? error.message : String(error));
  console.error(
    error instanceof ConfigError ? `configuration error: ${message}` : `odoo-paylink: ${message}`,
  );
  process.exitCode = error instanceof ConfigError ? 78 : 1;
});
