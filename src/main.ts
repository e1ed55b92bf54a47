import { type App, createApp, createScheduler } from './app.js';
import type { Config } from './config/schema.js';
import type { Logger } from './log.js';
import { startSandboxEnvironment, type SandboxEnvironment } from './sandbox/demo.js';

export interface Runtime {
  readonly app: App;
  readonly sandbox: SandboxEnvironment | undefined;
  close(): Promise<void>;
}

/**
 * Builds the app, entering sandbox mode only when no Odoo is configured, and checks Odoo before
 * any schedule starts.
 */
export async function startRuntime(config: Config, log: Logger): Promise<Runtime> {
  const sandbox = config.odoo ? undefined : await startSandboxEnvironment(config, log);
  const app = createApp(sandbox ? sandbox.config : config, log);
  try {
    await app.prepareOdoo();
  } catch (error) {
    app.close();
    await sandbox?.close();
    throw error;
  }
  return {
    app,
    sandbox,
    async close() {
      app.close();
      await sandbox?.close();
    },
  };
}

/** `run`: schedules the passes until SIGINT or SIGTERM, then shuts down in order. */
export async function runDaemon(config: Config, log: Logger & { close(): Promise<void> }): Promise<void> {
  const runtime = await startRuntime(config, log);
  const scheduler = createScheduler(runtime.app);
  scheduler.start();
  // First passes right away instead of waiting for the first cron tick.
  void scheduler.trigger({ name: 'publish', schedule: '', run: () => runtime.app.pipeline.publish() });
  log.info('odoo-paylink is running', {
    publish: runtime.app.config.schedule.publish,
    confirm: runtime.app.config.schedule.confirm,
    store: runtime.app.config.store.path,
  });
  process.send?.('ready');

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.error(`second ${signal}: exiting at once`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${signal} received: finishing the passes in flight, then stopping`);
      scheduler
        .stop()
        .then(() => runtime.close())
        .catch((error: unknown) => log.error(`error while stopping: ${(error as Error).message}`))
        .finally(resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  log.info('odoo-paylink stopped cleanly');
  await log.close();
}
