import type { FastifyInstance } from 'fastify';
import { type App, createApp, createScheduler, NotReadyError } from './app.js';
import { ConfigError } from './config/load.js';
import { type Config, SHUTDOWN_ABORT_MS } from './config/schema.js';
import { startFailures } from './doctor/doctor.js';
import { abortableFetch } from './gateways/abortable-fetch.js';
import { type AdminServer, startAdminServer } from './http/admin.js';
import { readinessWithHealth } from './http/readiness.js';
import { createHttpServer, type Readiness } from './http/server.js';
import type { Scheduler } from './jobs/scheduler.js';
import type { Logger } from './log.js';
import { isOdooError, type OdooError } from './odoo/errors.js';
import { type SandboxEnvironment, startSandboxEnvironment } from './sandbox/demo.js';
import { startHeartbeat } from './store/heartbeat.js';
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
  options: {
    tolerateRefusedLogin?: boolean;
    /** The daemon's stop signal: aborts every Odoo and gateway call in flight when it fires. */
    signal?: AbortSignal;
  } = {},
): Promise<Runtime> {
  const sandbox = config.odoo ? undefined : await startSandboxEnvironment(config, log);
  let app: App | undefined;
  let refusedBy: OdooError | NotReadyError | undefined;
  const { signal } = options;
  try {
    app = createApp(
      sandbox ? sandbox.config : config,
      log,
      signal ? { signal, fetch: abortableFetch(signal) } : {},
    );
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
  const ready = () =>
    readinessWithHealth(readinessOf(app.odoo.halted ?? options.refusedBy), app.metrics.reachability, app.db);
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
    ready,
    onWebhook: (gateway, verdict) => app.metrics.webhook(gateway, verdict),
  });
  // The admin interface (/metrics) and the heartbeat `status` reads start once the public one
  // listens, and end with it.
  let admin: AdminServer | undefined;
  let stopHeartbeat: (() => void) | undefined;
  server.addHook('onClose', async () => {
    stopHeartbeat?.();
    await admin?.close();
  });
  const url = await server.listen({ host: app.config.http.host, port: app.config.http.port });
  const { adminHost, adminPort } = app.config.http;
  if (adminPort !== 0) {
    const scrape = () => app.metrics.scrape();
    admin = await startAdminServer({ host: adminHost, port: adminPort, scrape, log: app.log });
    if (admin) app.log.info(`metrics at ${admin.url}/metrics`);
  }
  stopHeartbeat = startHeartbeat(app.settings, {
    reasons: () => {
      const now = ready();
      return now.ok ? [] : (now.reasons ?? [now.reason]);
    },
    now: app.now,
    storeOpen: () => app.db.open,
  });
  return { server, url };
}

/** `run`: schedules the passes until SIGINT or SIGTERM, then shuts down in order. */
export async function runDaemon(config: Config, log: Logger & { close(): Promise<void> }): Promise<void> {
  // Both refusals come before anything else, any Odoo login above all.
  refuseExtraPm2Copies(process.env);
  // One daemon per store (sandbox mode has a store of its own): a second one is refused at once.
  const lock = config.odoo ? acquireDaemonLock(config.store.path, log) : undefined;
  try {
    await runLocked(config, log);
  } finally {
    lock?.release();
  }
}

/**
 * PM2 copies beyond the first (`instances: 2`, or cluster mode) would be second writers of the
 * store and of the links in Odoo, and would restart forever on EADDRINUSE. PM2 tells each copy
 * its index (NODE_APP_INSTANCE, or the variable `instance_var` names) and its exec_mode. A
 * ConfigError exits 78, which the shipped ecosystem file's stop_exit_codes keeps PM2 from
 * restarting.
 */
export function refuseExtraPm2Copies(env: NodeJS.ProcessEnv): void {
  if (env.pm_id === undefined) return;
  const fix =
    "run exactly one copy: exec_mode: 'fork', instances: 1 (as in the shipped ecosystem.config.cjs)";
  if (env.exec_mode === 'cluster_mode') {
    throw new ConfigError(
      `PM2 cluster mode is refused: odoo-paylink is the single writer of its store and of the links in Odoo; ${fix}`,
    );
  }
  const instance = env[env.instance_var || 'NODE_APP_INSTANCE'];
  if (instance !== undefined && instance !== '0') {
    throw new ConfigError(
      `PM2 copy ${instance} of odoo-paylink is refused (instances: ${env.instances ?? '?'}): only one copy may run, it is the single writer of its store and of the links in Odoo; ${fix}. Copy 0 keeps running`,
    );
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
  const stop = new AbortController();
  const runtime = await startRuntime(config, log, { tolerateRefusedLogin: true, signal: stop.signal });
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
  // Before any schedule: what would only show after customers paid refuses the start (exit 78).
  const refusals = runtime.sandbox
    ? []
    : await startFailures(config, { log, odoo: app.odoo }).catch(async (error: unknown) => {
        await runtime.close();
        throw error;
      });
  if (refusals.length > 0) {
    await runtime.close();
    throw new ConfigError(
      `odoo-paylink will not start (run "odoo-paylink doctor" for every check):\n${refusals.join('\n')}`,
    );
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

  // Order: no new schedules and no new HTTP requests, drain (bounded), then close the database.
  await untilStopped(log, async () => {
    const drain = (async () => {
      await Promise.all([scheduler.stop(), server.close()]);
      await app.mail?.stop();
    })();
    if (!(await drainWithin(drain, stop, config.shutdown.graceMs, SHUTDOWN_ABORT_MS, log))) {
      // The database stays open under the passes still running: SQLite's journal keeps it whole.
      await log.close();
      process.exit(1);
    }
    await runtime.close();
  });
  log.info('odoo-paylink stopped cleanly');
  await log.close();
}

/**
 * Waits for `drain` (the work in flight, once no new work is taken) at most `graceMs`; past it
 * aborts `stop`, which ends every Odoo and gateway call in flight as a transient error, and waits
 * `abortMs` more for the passes to write down where they stopped. Every step writes its state
 * before its effect and is idempotent, so the next start resumes what was cut. False when the
 * work was still running after that too.
 */
export async function drainWithin(
  drain: Promise<unknown>,
  stop: AbortController,
  graceMs: number,
  abortMs: number,
  log: Logger,
): Promise<boolean> {
  if (await settlesWithin(drain, graceMs)) return true;
  log.warn(
    `work still in flight after the ${graceMs} ms shutdown grace period (shutdown.graceMs): aborting its Odoo and gateway calls; the next start resumes it`,
  );
  stop.abort();
  if (await settlesWithin(drain, abortMs)) return true;
  log.error(`work still in flight ${abortMs} ms after the abort: exiting without waiting for it`);
  return false;
}

function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, late]).finally(() => clearTimeout(timer));
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
