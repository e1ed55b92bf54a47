import type { FastifyInstance } from 'fastify';
import { type App, createApp, createScheduler, NotReadyError } from './app.js';
import { ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { createHttpServer, type Readiness } from './http/server.js';
import type { Scheduler } from './jobs/scheduler.js';
import type { Logger } from './log.js';
import { isOdooError, type OdooError } from './odoo/errors.js';
import { type SandboxEnvironment, startSandboxEnvironment } from './sandbox/demo.js';
import { acquireStoreLock, type StoreLock, StoreLockedError } from './store/lock.js';

export interface Runtime {
  readonly app: App;
  readonly sandbox: SandboxEnvironment | undefined;
  /**
   * Why Odoo work cannot start (only with `tolerateRefusedLogin`): refused credentials, or what
   * only an admin can fix (fields missing, no reference prefix).
   */
  readonly refusedBy: OdooError | NotReadyError | undefined;
  close(): Promise<void>;
}

/**
 * Builds the app, entering sandbox mode only when no Odoo is configured, and checks Odoo before
 * any schedule starts. With `tolerateRefusedLogin`, refused credentials do not throw: the daemon
 * must stay up rather than exit, or its supervisor would restart it into another failed login,
 * and a few of those lock the whole IP out of Odoo.
 */
export async function startRuntime(
  config: Config,
  log: Logger,
  options: { tolerateRefusedLogin?: boolean } = {},
): Promise<Runtime> {
  const sandbox = config.odoo ? undefined : await startSandboxEnvironment(config, log);
  let app: App | undefined;
  let refusedBy: OdooError | NotReadyError | undefined;
  try {
    app = createApp(sandbox ? sandbox.config : config, log);
    // The daemon starts clean: what is still wrong is alerted again at its first attempt.
    if (options.tolerateRefusedLogin) app.alerts.forgetStored();
    // In sandbox mode the emulated Odoo's admin runs the setup step, as an admin would once.
    if (sandbox) await app.setupOdoo(sandbox.admin);
    else await app.prepareOdoo();
  } catch (error) {
    const refused =
      isOdooError(error, 'access_denied') ||
      isOdooError(error, 'unknown_database') ||
      error instanceof NotReadyError;
    if (refused && options.tolerateRefusedLogin && app) {
      refusedBy = error;
    } else {
      app?.close();
      await sandbox?.close();
      throw error;
    }
  }
  const ready = app;
  return {
    app: ready,
    sandbox,
    refusedBy,
    async close() {
      ready.close();
      await sandbox?.close();
    },
  };
}

/** What /readyz answers while Odoo work is stopped: a code, never Odoo's text (it names the login and db). */
export function readinessOf(stoppedBy: OdooError | NotReadyError | undefined): Readiness {
  if (!stoppedBy) return { ok: true };
  if (stoppedBy instanceof NotReadyError) return { ok: false, reason: stoppedBy.reason };
  switch (stoppedBy.kind) {
    case 'access_denied':
      return { ok: false, reason: 'odoo_credentials_refused' };
    case 'unknown_database':
      return { ok: false, reason: 'odoo_unknown_database' };
    default:
      return { ok: false, reason: 'odoo_unavailable' };
  }
}

/**
 * The daemon's HTTP server, listening; its URL for the sandbox's webhooks. `refusedBy` is the
 * refusal that left the daemon idle at start: an unknown database does not halt the Odoo client,
 * so without it /readyz would say ready.
 */
export async function listen(
  app: App,
  scheduler: Pick<Scheduler, 'trigger'>,
  options: { refusedBy?: OdooError | NotReadyError | undefined } = {},
): Promise<{ server: FastifyInstance; url: string }> {
  const server = createHttpServer({
    gateways: app.gateways,
    events: app.events,
    links: app.links,
    recordOf: (row, linkId) => app.recordOf(row, linkId),
    ...(app.returns ? { returns: app.returns } : {}),
    log: app.log.child({ component: 'http' }),
    now: app.now,
    bodyLimit: app.config.http.bodyLimit,
    ...(app.payPage
      ? {
          payPage: {
            open: (token: string) => app.payPage!.open(token),
            perAddressPerMinute: app.config.http.payRequestsPerMinute.perAddress,
            perTokenPerMinute: app.config.http.payRequestsPerMinute.perToken,
          },
        }
      : {}),
    onEvent: () =>
      void scheduler.trigger({ name: 'events', schedule: '', run: () => app.pipeline.processEvents() }),
    ready: () => readinessOf(app.odoo.halted ?? options.refusedBy),
  });
  const url = await server.listen({ host: app.config.http.host, port: app.config.http.port });
  return { server, url };
}

/** `run`: schedules the passes until SIGINT or SIGTERM, then shuts down in order. */
export async function runDaemon(config: Config, log: Logger & { close(): Promise<void> }): Promise<void> {
  // One daemon per store (sandbox mode has a store of its own): a second one is refused at once.
  const lock = config.odoo ? acquireDaemonLock(config.store.path, log) : undefined;
  try {
    await runLocked(config, log);
  } finally {
    lock?.release();
  }
}

function acquireDaemonLock(storePath: string, log: Logger): StoreLock {
  try {
    const lock = acquireStoreLock(storePath);
    if (lock.takenOver)
      log.warn(`took over the store lock of pid ${lock.previous?.pid}, which is no longer running`);
    return lock;
  } catch (error) {
    if (error instanceof StoreLockedError) throw new ConfigError(error.message);
    throw error;
  }
}

async function runLocked(config: Config, log: Logger & { close(): Promise<void> }): Promise<void> {
  const runtime = await startRuntime(config, log, { tolerateRefusedLogin: true });
  const { app } = runtime;
  if (runtime.refusedBy) {
    // Stay up, idle: webhooks are still stored (and handled after a restart with good
    // credentials), /readyz says why, and no further login is attempted.
    const notReady = runtime.refusedBy instanceof NotReadyError ? runtime.refusedBy : undefined;
    const { server } = await listen(
      app,
      { trigger: () => Promise.resolve() },
      { refusedBy: runtime.refusedBy },
    );
    log.error(
      notReady
        ? `ALERT: odoo-paylink is idle: ${notReady.message}; then restart it.`
        : `ALERT: odoo-paylink is idle: ${runtime.refusedBy.message}. Fix the credentials and restart it; it will not retry by itself.`,
    );
    process.send?.('ready');
    await untilStopped(log, async () => {
      await server.close();
      await runtime.close();
    });
    await log.close();
    return;
  }
  const scheduler = createScheduler(app);
  const { server, url } = await listen(app, scheduler);
  runtime.sandbox?.connectWebhooks(url);
  app.mail?.start();
  scheduler.start();
  // First passes right away instead of waiting for the first cron tick.
  void scheduler
    .trigger({ name: 'events', schedule: '', run: () => app.pipeline.processEvents() })
    .then(() => scheduler.trigger({ name: 'publish', schedule: '', run: () => app.pipeline.publish() }))
    .then(() => app.mail?.wake());
  log.info('odoo-paylink is running', {
    webhooks: `${url}/webhooks/<gateway>`,
    publish: app.config.schedule.publish,
    confirm: app.config.schedule.confirm,
    store: app.config.store.path,
  });
  process.send?.('ready');

  // Order: no new schedules, no new HTTP requests, drain, then close the database.
  await untilStopped(log, async () => {
    await scheduler.stop();
    await server.close();
    await app.mail?.stop();
    await runtime.close();
  });
  log.info('odoo-paylink stopped cleanly');
  await log.close();
}

/** Resolves once SIGINT or SIGTERM was handled by `stop`; a second signal exits at once. */
function untilStopped(log: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.error(`second ${signal}: exiting at once`);
        process.exit(1);
      }
      stopping = true;
      log.info(`${signal} received: finishing the work in flight, then stopping`);
      stop()
        .catch((error: unknown) => log.error(`error while stopping: ${(error as Error).message}`))
        .finally(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
