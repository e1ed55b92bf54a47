import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Config } from './config/schema.js';
import { createGateways } from './gateways/registry.js';
import { Scheduler } from './jobs/scheduler.js';
import type { Logger } from './log.js';
import { RpcOdooClient } from './odoo/client.js';
import { JsonRpcTransport } from './odoo/jsonrpc.js';
import { OdooLedger } from './odoo/ledger.js';
import { ensureLinkFields } from './odoo/setup.js';
import type { CompanyRoute, PipelineHooks } from './pipeline/deps.js';
import { Pipeline } from './pipeline/passes.js';
import { CursorRepository } from './store/cursors.js';
import { type Db, openDatabase } from './store/database.js';
import { LinkRepository } from './store/links.js';
import { RunRepository } from './store/runs.js';

export interface App {
  readonly config: Config;
  readonly db: Db;
  readonly odoo: RpcOdooClient;
  readonly pipeline: Pipeline;
  readonly links: LinkRepository;
  readonly runs: RunRepository;
  readonly log: Logger;
  /** Checks Odoo is reachable with our credentials and the custom fields exist. */
  prepareOdoo(): Promise<void>;
  close(): void;
}

/** This process's lease owner: host, pid and a nonce (a pid can be reused after a reboot). */
export const LEASE_OWNER = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;

/** A lease owner is dead when it names this host and a pid that no longer runs. */
export function isDeadOwner(owner: string): boolean {
  const [host, pid] = owner.split('/');
  if (host !== hostname() || !pid) return false;
  if (Number(pid) === process.pid) return owner !== LEASE_OWNER;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

export interface AppOptions {
  hooks?: PipelineHooks;
  now?: () => number;
  fetch?: typeof fetch;
}

/** Wires config → store → Odoo → gateways → pipeline. Nothing starts running here. */
export function createApp(config: Config, log: Logger, options: AppOptions = {}): App {
  const odooConfig = config.odoo;
  if (!odooConfig) throw new Error('createApp needs odoo configured (sandbox mode fills it in)');
  const db = openDatabase(config.store.path);
  const links = new LinkRepository(db);
  const released = links.releaseLeasesOf(isDeadOwner);
  if (released > 0) log.warn(`released ${released} links held by a process that died; they will be finished now`);
  const runs = new RunRepository(db);
  const cursors = new CursorRepository(db);
  const transport = new JsonRpcTransport({ url: odooConfig.url, timeoutMs: odooConfig.timeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const odoo = new RpcOdooClient(transport, { db: odooConfig.db, login: odooConfig.login, password: odooConfig.password }, log.child({ component: 'odoo' }));
  const ledger = new OdooLedger(odoo);
  const gateways = createGateways(config, options.fetch);
  const companies: CompanyRoute[] = config.companies.map((company) => {
    const gateway = gateways.get(company.gateway);
    if (!gateway) throw new Error(`company ${company.odooCompanyId} uses gateway ${company.gateway}, which is not configured`);
    return { companyId: company.odooCompanyId, journalId: company.journalId, gateway, merchantAccount: company.mytpeInstanceId };
  });
  const pipeline = new Pipeline({
    db,
    ledger,
    companies,
    links,
    cursors,
    runs,
    settings: { database: odooConfig.db, ...config.pipeline },
    log: log.child({ component: 'pipeline' }),
    now: options.now ?? Date.now,
    owner: LEASE_OWNER,
    ...(options.hooks ? { hooks: options.hooks } : {}),
  });
  return {
    config,
    db,
    odoo,
    pipeline,
    links,
    runs,
    log,
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
  scheduler.add({ name: 'publish', schedule: app.config.schedule.publish, run: () => app.pipeline.publish() });
  scheduler.add({ name: 'confirm', schedule: app.config.schedule.confirm, run: () => app.pipeline.confirm() });
  return scheduler;
}
