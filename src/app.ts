import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from './config/schema.js';
import type { Gateway } from './gateways/gateway.js';
import { createGateways } from './gateways/registry.js';
import { Scheduler } from './jobs/scheduler.js';
import type { Logger } from './log.js';
import { createMailService, type MailService } from './mail/service.js';
import type { MailTransport } from './mail/transport.js';
import { RpcOdooClient } from './odoo/client.js';
import { JsonRpcTransport } from './odoo/jsonrpc.js';
import { OdooLedger } from './odoo/ledger.js';
import { ensureLinkFields } from './odoo/setup.js';
import type { CompanyRoute } from './pipeline/deps.js';
import { Pipeline } from './pipeline/passes.js';
import { CursorRepository } from './store/cursors.js';
import { type Db, openDatabase } from './store/database.js';
import { EventRepository } from './store/events.js';
import { LinkRepository } from './store/links.js';
import { NoteRepository } from './store/notes.js';
import { RunRepository } from './store/runs.js';

export interface App {
  readonly config: Config;
  readonly db: Db;
  readonly odoo: RpcOdooClient;
  readonly ledger: OdooLedger;
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly companies: readonly CompanyRoute[];
  readonly pipeline: Pipeline;
  readonly links: LinkRepository;
  readonly events: EventRepository;
  readonly notes: NoteRepository;
  readonly runs: RunRepository;
  readonly mail: MailService | undefined;
  readonly log: Logger;
  readonly now: () => number;
  /** Checks Odoo is reachable with our credentials and the custom fields exist. */
  prepareOdoo(): Promise<void>;
  close(): void;
}

/** A lease owner: host, pid and a nonce (a pid can be reused after a reboot). */
export function newLeaseOwner(): string {
  return `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
}

/**
 * A lease owner is dead when it names this host and a pid that no longer runs, or an earlier
 * app of this very process (only tests build several; a daemon has one).
 */
export function isDeadOwner(owner: string, self: string): boolean {
  const [host, pid] = owner.split('/');
  if (host !== hostname() || !pid) return false;
  if (Number(pid) === process.pid) return owner !== self;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface AppOptions {
  now?: () => number;
  fetch?: typeof fetch;
  /** Replaces the SMTP transport (tests, sandbox capture). */
  mailTransport?: MailTransport;
}

/** Wires config → store → Odoo → gateways → pipeline → mail. Nothing starts running here. */
export function createApp(config: Config, log: Logger, options: AppOptions = {}): App {
  const odooConfig = config.odoo;
  if (!odooConfig) throw new Error('createApp needs odoo configured (sandbox mode fills it in)');
  const now = options.now ?? Date.now;
  const db = openDatabase(config.store.path);
  const links = new LinkRepository(db);
  const owner = newLeaseOwner();
  const released = links.releaseLeasesOf((other) => isDeadOwner(other, owner));
  if (released > 0)
    log.warn(`released ${released} links held by a process that died; they will be finished now`);
  const runs = new RunRepository(db);
  const cursors = new CursorRepository(db);
  const events = new EventRepository(db);
  const notes = new NoteRepository(db);
  const transport = new JsonRpcTransport({
    url: odooConfig.url,
    timeoutMs: odooConfig.timeoutMs,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const odoo = new RpcOdooClient(
    transport,
    { db: odooConfig.db, login: odooConfig.login, password: odooConfig.password },
    log.child({ component: 'odoo' }),
  );
  const ledger = new OdooLedger(odoo);
  const gateways = createGateways(config, options.fetch);
  const companies: CompanyRoute[] = config.companies.map((company) => {
    const gateway = gateways.get(company.gateway);
    if (!gateway)
      throw new Error(
        `company ${company.odooCompanyId} uses gateway ${company.gateway}, which is not configured`,
      );
    return {
      companyId: company.odooCompanyId,
      journalId: company.journalId,
      gateway,
      merchantAccount: company.mytpeInstanceId,
    };
  });
  const gatewayName = (row: { gateway: string }) => gateways.get(row.gateway)?.displayName ?? row.gateway;
  const mail = createMailService({
    config: config.mail,
    odoo: odooConfig,
    db,
    links,
    notes,
    gatewayName,
    log,
    now,
    ...(options.mailTransport ? { transport: options.mailTransport } : {}),
  });
  const pipeline = new Pipeline({
    db,
    ledger,
    companies,
    links,
    notes,
    events,
    cursors,
    runs,
    settings: { database: odooConfig.db, ...config.pipeline },
    log: log.child({ component: 'pipeline' }),
    now,
    owner,
    hooks: {
      onLinkCreated: (link, { invoice, company }) => mail?.enqueueForLink(link, invoice, company),
    },
  });
  return {
    config,
    db,
    odoo,
    ledger,
    gateways,
    companies,
    pipeline,
    links,
    events,
    notes,
    runs,
    mail,
    log,
    now,
    async prepareOdoo() {
      const version = await odoo.version();
      log.info(`connected to Odoo ${version.serverVersion} at ${odooConfig.url}`, { db: odooConfig.db });
      await ensureLinkFields(odoo, {
        companyIds: companies.map((company) => company.companyId),
        create: odooConfig.createFields,
        log,
      });
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/** The daemon's schedules over an app. */
export function createScheduler(app: App): Scheduler {
  const scheduler = new Scheduler(app.log.child({ component: 'scheduler' }), app.config.schedule.timezone);
  scheduler.add({
    name: 'publish',
    schedule: app.config.schedule.publish,
    run: () => app.pipeline.publish(),
  });
  scheduler.add({
    name: 'confirm',
    schedule: app.config.schedule.confirm,
    run: () => app.pipeline.confirm(),
  });
  // Webhooks wake the event job at once; the schedule picks up events postponed after a failure.
  scheduler.add({ name: 'events', schedule: '*/15 * * * * *', run: () => app.pipeline.processEvents() });
  const { reconcile } = app.config;
  if (reconcile.schedule) {
    scheduler.add({
      name: 'reconcile',
      schedule: reconcile.schedule,
      run: () => {
        const until = new Date(app.now());
        const since = new Date(until.getTime() - reconcile.windowDays * 86_400_000);
        return app.pipeline.reconcile({ since, until }, { fix: true });
      },
    });
  }
  return scheduler;
}
