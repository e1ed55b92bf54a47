import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import { ConfigError } from './config/load.js';
import { accountOf, type Config } from './config/schema.js';
import { exclusionOf, type Invoice, isPayable, type PublishScope } from './domain/invoice.js';
import { referencePrefixFor } from './domain/reference.js';
import type { Gateway, LinkRecord } from './gateways/gateway.js';
import { createGateways } from './gateways/registry.js';
import { Scheduler } from './jobs/scheduler.js';
import { type Logger, redactor } from './log.js';
import { TemplateFolders } from './mail/render.js';
import { createMailService, type MailService } from './mail/service.js';
import type { MailTransport } from './mail/transport.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { type OdooCredentials, RpcOdooClient } from './odoo/client.js';
import { LazyOdooTransport } from './odoo/connect.js';
import { isOdooError } from './odoo/errors.js';
import { type InvoiceUiSetup, installInvoiceUi, removeInvoiceUi } from './odoo/invoice-ui.js';
import { OdooLedger } from './odoo/ledger.js';
import { installPaylinkTemplate, removePaylinkTemplate, type TemplateSetup } from './odoo/mail-template.js';
import { ObservedOdooTransport } from './odoo/observed.js';
import {
  createLinkFields,
  type DatabaseIdentity,
  journalProblems,
  missingLinkFields,
  readDatabaseIdentity,
} from './odoo/setup.js';
import { PayPageRenderer } from './paypage/render.js';
import { ReturnService } from './paypage/returns.js';
import { PayPageService } from './paypage/service.js';
import { payToken } from './paypage/token.js';
import { Alerts } from './pipeline/alerts.js';
import type { CompanyRoute, DatabaseIdentity as PrefixSource } from './pipeline/deps.js';
import { journalAlertKey, Pipeline } from './pipeline/passes.js';
import type { CompanyContact } from './pipeline/ports.js';
import { ReconcileLockedError } from './pipeline/reconcile-lock.js';
import { ReminderSchedule } from './pipeline/reminders.js';
import { dateInZone, describeInvoice } from './pipeline/steps.js';
import { CursorRepository } from './store/cursors.js';
import { type Db, openDatabase } from './store/database.js';
import { EventRepository } from './store/events.js';
import { LinkRepository, type LinkRow } from './store/links.js';
import { NoteRepository } from './store/notes.js';
import { NoticeRepository } from './store/notices.js';
import { pruneStore } from './store/prune.js';
import { ReminderRepository } from './store/reminders.js';
import { RunRepository } from './store/runs.js';
import { SettingsRepository, WEBHOOK_SECRET_KEY, webhookSecretsIn } from './store/settings.js';
import { InvoiceRequestRepository, InvoiceStatusRepository } from './store/statuses.js';

/**
 * Odoo is not ready for the daemon in a way only an admin can fix (fields missing, no reference
 * prefix yet). The daemon stays up and idle rather than exiting into a restart loop.
 */
export class NotReadyError extends Error {
  override name = 'NotReadyError';
  constructor(
    readonly reason: 'odoo_fields_missing' | 'odoo_identity_missing',
    message: string,
  ) {
    super(message);
  }
}

/** What setup recorded about the Odoo database, kept in the store. */
const storedIdentitySchema = z.object({
  db: z.string(),
  url: z.string(),
  uuid: z.string(),
  prefix: z.string(),
  neutralized: z.boolean(),
});
export type StoredIdentity = z.infer<typeof storedIdentitySchema>;
const IDENTITY_KEY = 'odoo.identity';
/** The first day publishing covered, when config does not say (publish.since). */
const PUBLISH_SINCE_KEY = 'publish.since';

/** The reference prefix, set once Odoo was checked. */
class PrefixHolder implements PrefixSource {
  value: string | undefined;
  get prefix(): string {
    if (this.value === undefined) throw new Error('the Odoo database is not checked yet (prepareOdoo)');
    return this.value;
  }
}

/** What `setupOdoo` did and found, for the command to print. */
export interface SetupReport {
  readonly createdFields: readonly string[];
  readonly prefix: string;
  readonly prefixSource: 'config' | 'database.uuid';
  readonly journalProblems: readonly string[];
  /** The invoice form's group, the list filter and the Action menu entries (src/odoo/invoice-ui.ts). */
  readonly invoiceUi: InvoiceUiSetup;
  /** With mail.via odoo: our invoice mail template (see src/odoo/mail-template.ts). */
  readonly mailTemplate?: TemplateSetup;
}

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
  readonly notices: NoticeRepository;
  /** What each invoice shows of its online payment (src/store/statuses.ts). */
  readonly statuses: InvoiceStatusRepository;
  readonly settings: SettingsRepository;
  readonly alerts: Alerts;
  readonly runs: RunRepository;
  readonly mail: MailService | undefined;
  /** This app's Prometheus registry and the observers that feed it (served on the admin interface). */
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly now: () => number;
  /**
   * Checks Odoo before any link is made: reachable with our credentials, the custom fields
   * there, the database's reference prefix known (and the database not a neutralized copy),
   * each company's journal able to take payments (a company whose journal cannot is kept out).
   * With `dryRun`, nothing is created in Odoo nor remembered in the store (sync --dry-run).
   */
  prepareOdoo(options?: { dryRun?: boolean }): Promise<void>;
  /**
   * The administrator's setup: creates the fields, reads the database's identity (its uuid, which
   * a Billing user may not read) into the store, then checks everything as the daemon's user.
   */
  setupOdoo(admin?: OdooCredentials): Promise<SetupReport>;
  /** `setup-odoo --remove`: takes out what setup installed, except the fields; returns what went. */
  removeFromOdoo(admin?: OdooCredentials): Promise<string[]>;
  /**
   * Points each configured gateway account's webhooks at `publicUrl` through the gateway's API and
   * keeps the secret it returns in the store (a restart takes it). Returns a line per account.
   */
  setupGateways(publicUrl: string, options: { regenerate: boolean }): Promise<string[]>;
  /** The reference prefix, once prepareOdoo succeeded. */
  readonly identity: PrefixSource;
  /** The pay page (`/pay/<token>`), when http.publicUrl is configured. */
  readonly payPage: PayPageService | undefined;
  /** `/return/<gateway>`, when a redirect-style gateway is configured and http.publicUrl is set. */
  readonly returns: ReturnService | undefined;
  /** What a gateway needs of a stored link to verify a signature over it. */
  recordOf(row: LinkRow, linkId: string): LinkRecord | undefined;
  /** Which invoices may get links (publish.since, exclusions), settled by prepareOdoo. */
  readonly scope: PublishScope;
  /** Why an invoice's customer must not be asked to pay it now (not payable, excluded), if so. */
  invoiceStaleReason(invoice: Invoice): string | undefined;
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
  /**
   * The daemon's stop signal: aborts the Odoo calls in flight once the shutdown grace is over
   * (the gateways' calls through `fetch`, see abortableFetch).
   */
  signal?: AbortSignal;
  /** Replaces the SMTP transport (tests, sandbox capture). */
  mailTransport?: MailTransport;
}

function neutralizedError(db: string): ConfigError {
  return new ConfigError(
    `Odoo database ${db} is neutralized (database.is_neutralized: a staging copy whose mails, crons and payments Odoo disarmed): odoo-paylink refuses to make payment links there. Point it at the production database, or set odoo.allowNeutralized to true for a test on this copy (with its own gateway test account and odoo.referencePrefix)`,
  );
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
  const notices = new NoticeRepository(db);
  const settings = new SettingsRepository(db);
  const alerts = new Alerts(settings, log.child({ component: 'alerts' }), now);
  const statuses = new InvoiceStatusRepository(db);
  // Read at scrape time only, by when `mail` exists.
  const metrics = createMetrics({
    linksByState: () => links.countsByState(),
    oldestOpenLinkCreatedAt: () => links.oldestOpenCreatedAt(),
    eventsByState: () => events.countsByState(),
    pendingNotes: () => notes.pendingCount(),
    unshownStatuses: () => statuses.unshownCount(),
    emailsByState: () => mail?.outbox.countsByState(),
    storeOpen: () => db.open,
    now,
  });
  const identity = new PrefixHolder();
  // What config or setup already settled is known at once; prepareOdoo checks it against Odoo.
  identity.value = odooConfig.referencePrefix ?? settings.get(IDENTITY_KEY, storedIdentitySchema)?.prefix;
  // Which invoices may be linked: completed by prepareOdoo (tags by name, the stored first day).
  const scope: { since: string | null; excludedCategoryIds: number[] } = {
    since: config.publish.since ?? settings.get(PUBLISH_SINCE_KEY, z.string()) ?? null,
    excludedCategoryIds: [],
  };
  // The wire (JSON-2, JSON-RPC, XML-RPC) is chosen on the first Odoo call: createApp stays synchronous.
  const transport = new LazyOdooTransport(odooConfig, {
    log: log.child({ component: 'odoo' }),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    signal: options.signal,
  });
  const odoo = new RpcOdooClient(
    new ObservedOdooTransport(transport, (call) => metrics.odooCall(call)),
    // An API key, when configured, is the password of every RPC call (and JSON-2's bearer).
    { db: odooConfig.db, login: odooConfig.login, password: odooConfig.apiKey ?? odooConfig.password },
    log.child({ component: 'odoo' }),
  );
  const ledger = new OdooLedger(odoo);
  const storedSecrets = webhookSecretsIn(settings.entries('gateway.', z.string()));
  for (const byAccount of Object.values(storedSecrets)) redactor.addSecrets(Object.values(byAccount));
  const gateways = createGateways(config, options.fetch, storedSecrets, now, (call) =>
    metrics.gatewayCall(call),
  );
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
      merchantAccount: accountOf(company),
    };
  });
  const gatewayName = (row: { gateway: string }) => gateways.get(row.gateway)?.displayName ?? row.gateway;
  const { publicUrl, paySecret } = config.http;
  // The invoice's one address for its whole life, when the daemon is reachable from outside.
  const payAddress =
    publicUrl && paySecret
      ? (invoiceId: number) => `${publicUrl}/pay/${payToken(paySecret, identity.prefix, invoiceId)}`
      : undefined;
  // Where redirect-style gateways send the customer back, and post their notices.
  const callbacks = publicUrl
    ? (gatewayId: string) => ({
        returnUrl: `${publicUrl}/return/${gatewayId}`,
        notifyUrl: `${publicUrl}/webhooks/${gatewayId}`,
      })
    : undefined;
  // The accountants' language per company, settled by prepareOdoo; English until then.
  const noteFolders = new TemplateFolders(
    config.mail.templatesOverrideDir ? { overrideDir: config.mail.templatesOverrideDir } : {},
  );
  const noteLanguages = new Map<number, string>();
  const noteStrings = (companyId: number) =>
    noteFolders.stringsFor(
      noteLanguages.get(companyId) ?? noteFolders.languageFor(odooConfig?.notesLanguage ?? null),
    );
  const mail = createMailService({
    noteStrings,
    // The pipeline exists by the time an email goes out.
    onReachable: (invoice, reachable) => {
      if (reachable) pipeline.steps.statuses.resolved(invoice, 'no_email');
      else
        pipeline.steps.statuses.needsAttention(
          invoice,
          'no_email',
          'the customer has no valid email address',
        );
    },
    config: config.mail,
    odoo: odooConfig,
    db,
    links,
    notes,
    gatewayName,
    ...(payAddress ? { payAddress } : {}),
    invoiceStaleReason: async (invoiceId, companyId) => {
      const [invoice] = await ledger.invoicesByIds(companyId, [invoiceId]);
      return invoice ? invoiceStaleReason(invoice) : 'the invoice no longer exists in Odoo';
    },
    log,
    now,
    ...(options.mailTransport ? { transport: options.mailTransport } : {}),
    odooClient: odoo,
  });
  const reminders =
    mail && config.reminders.enabled
      ? new ReminderSchedule({
          db,
          ledger,
          links,
          reminders: new ReminderRepository(db),
          policy: config.reminders,
          scope,
          defaultTimezone: config.schedule.timezone,
          log: log.child({ component: 'reminders' }),
          now,
          send: (link, due) =>
            mail.enqueueReminder(link, due.invoice, due.company, {
              number: due.number,
              overdueSince: due.overdueSince,
            }),
        })
      : undefined;
  const pipeline = new Pipeline({
    db,
    statuses,
    requests: new InvoiceRequestRepository(db),
    ...(odooConfig.activities
      ? {
          activities: {
            assignee: async (invoice: { id: number; companyId: number }) =>
              odooConfig.activityUserId ??
              (await ledger.invoicesByIds(invoice.companyId, [invoice.id]))[0]?.responsibleUserId ??
              null,
          },
        }
      : {}),
    ledger,
    companies,
    links,
    notes,
    notices,
    alerts,
    identity,
    scope,
    events,
    cursors,
    runs,
    ...(reminders ? { reminders } : {}),
    ...(payAddress ? { payAddress } : {}),
    ...(callbacks ? { callbacks } : {}),
    settings: config.pipeline,
    noteStrings,
    log: log.child({ component: 'pipeline' }),
    now,
    owner,
    observer: metrics.pipeline,
    hooks: {
      onLinkCreated: (link, { invoice, company }) => {
        if (mail?.enqueueForLink(link, invoice, company)) reminders?.start(invoice, company, now());
      },
      emailWaitsFor: (link) => mail?.isHeld(link) === true,
      onLinkPublished: (link) => mail?.release(link),
      ...(mail
        ? {
            onResendRequested: (
              link: LinkRow,
              { invoice, company }: { invoice: Invoice; company: CompanyContact },
            ) => mail.resend(link, invoice, company),
          }
        : {}),
    },
  });
  const companyIds = companies.map((company) => company.companyId);
  const renderer = new PayPageRenderer(
    config.mail.templatesOverrideDir ? { overrideDir: config.mail.templatesOverrideDir } : {},
  );
  const logoUrl = (companyId: number) =>
    config.mail.logoUrl?.replace('{companyId}', String(companyId)) ?? null;
  const payPage =
    publicUrl && paySecret
      ? new PayPageService({
          publicUrl,
          secret: paySecret,
          prefix: () => identity.prefix,
          companies,
          links,
          steps: pipeline.steps,
          ledger,
          scope,
          renderer,
          logoUrl,
          log: log.child({ component: 'pay-page' }),
          now,
        })
      : undefined;

  const returns =
    payAddress && [...gateways.values()].some((gateway) => gateway.returns)
      ? new ReturnService({
          gateways,
          companies,
          links,
          events,
          steps: pipeline.steps,
          ledger,
          renderer,
          payAddress,
          logoUrl,
          log: log.child({ component: 'returns' }),
          now,
        })
      : undefined;
  /** What a gateway needs to know of a stored link to verify a signature over it. */
  const recordOf = (row: LinkRow, linkId: string) => {
    const route = companies.find((company) => company.companyId === row.companyId);
    return route ? pipeline.steps.linkContext(route, row, linkId).record : undefined;
  };

  /** Why the invoice's customer must not be emailed about paying it now, if so. */
  function invoiceStaleReason(invoice: Invoice): string | undefined {
    if (!isPayable(invoice)) return `the invoice is ${describeInvoice(invoice)}`;
    return exclusionOf(invoice, scope);
  }

  /** The reference prefix: configured, recorded by setup, or read from Odoo when the user may. */
  async function resolveIdentity(): Promise<void> {
    const stored = settings.get(IDENTITY_KEY, storedIdentitySchema);
    let readable: DatabaseIdentity | undefined;
    try {
      readable = await readDatabaseIdentity(odoo, companyIds);
    } catch (error) {
      // A Billing user may not read ir.config_parameter: setup (an admin) recorded it instead.
      if (!isOdooError(error, 'access')) throw error;
    }
    if (readable?.neutralized && !odooConfig!.allowNeutralized) throw neutralizedError(odooConfig!.db);
    if (stored && (stored.db !== odooConfig!.db || (readable && readable.uuid !== stored.uuid))) {
      throw new ConfigError(
        `the state store ${config.store.path} belongs to Odoo database ${stored.db} (uuid ${stored.uuid}), not to ${odooConfig!.db}${readable ? ` (uuid ${readable.uuid})` : ''}: is this a copy of that database? Give this one its own store.path and run setup-odoo`,
      );
    }
    let prefix = odooConfig!.referencePrefix ?? stored?.prefix;
    if (prefix === undefined && readable) {
      prefix = referencePrefixFor(odooConfig!.db, readable.uuid);
      settings.set(IDENTITY_KEY, identityRecord(readable, prefix), now());
    }
    if (prefix === undefined) {
      throw new NotReadyError(
        'odoo_identity_missing',
        `no reference prefix for Odoo database ${odooConfig!.db} yet: run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>" once (it reads the database's uuid, which ${odooConfig!.login} may not read), or set odoo.referencePrefix`,
      );
    }
    if (stored && odooConfig!.referencePrefix && stored.prefix !== odooConfig!.referencePrefix) {
      log.warn(
        `odoo.referencePrefix ${odooConfig!.referencePrefix} differs from the prefix ${stored.prefix} this store was set up with: links made under ${stored.prefix} are no longer recognised as ours`,
      );
    }
    identity.value = prefix;
  }

  /**
   * Resolves the excluding tags by name and settles the first day publishing covers: configured,
   * kept in the store, or, for a store that was lost, the date of the oldest invoice we linked;
   * on a true first start, today, so years of old invoices are not linked and emailed at once.
   */
  async function resolveScope({ persist }: { persist: boolean }): Promise<void> {
    const tags = config.publish.excludePartnerTags;
    if (tags.length > 0) {
      const found = await ledger.partnerTagIds(tags, companyIds);
      const unknown = tags.filter((name) => !found.has(name));
      if (unknown.length > 0)
        log.warn(
          `publish.excludePartnerTags names ${unknown.map((name) => JSON.stringify(name)).join(', ')}, which Odoo has no partner tag for: no customer is excluded by ${unknown.length > 1 ? 'them' : 'it'}`,
        );
      scope.excludedCategoryIds = [...found.values()].flat();
    }
    if (config.publish.since) return;
    if (scope.since === null) {
      const oldest = await ledger.oldestLinkedInvoiceDate(companyIds);
      scope.since = oldest ?? dateInZone(now(), config.schedule.timezone);
      if (!persist) return;
      settings.set(PUBLISH_SINCE_KEY, scope.since, now());
      log.info(
        `publishing covers invoices dated ${scope.since} or later (${oldest ? 'the oldest invoice that had a link' : 'the first start against this database'}); set publish.since to go further back`,
      );
    }
  }

  function identityRecord(found: DatabaseIdentity, prefix: string): StoredIdentity {
    return {
      db: odooConfig!.db,
      url: odooConfig!.url,
      uuid: found.uuid,
      prefix,
      neutralized: found.neutralized,
    };
  }

  /** The administrator's client; their secret may be a password, which JSON-2 refuses, so never JSON-2. */
  function adminClientFor(admin: OdooCredentials | undefined): RpcOdooClient {
    if (!admin) return odoo;
    const adminTransport = new LazyOdooTransport(
      {
        url: odooConfig!.url,
        timeoutMs: odooConfig!.timeoutMs,
        protocol: odooConfig!.protocol === 'json2' ? 'jsonrpc' : odooConfig!.protocol,
      },
      {
        log: log.child({ component: 'odoo-admin' }),
        ...(options.fetch ? { fetch: options.fetch } : {}),
        signal: options.signal,
      },
    );
    return new RpcOdooClient(adminTransport, admin, log.child({ component: 'odoo-admin' }));
  }

  /** Notes speak the configured language, else each company's own (its partner's lang). */
  async function resolveNoteLanguages(): Promise<void> {
    for (const { companyId } of companies) {
      let lang = odooConfig!.notesLanguage ?? null;
      if (lang === null) {
        try {
          lang = (await ledger.companyContact(companyId)).lang;
        } catch (error) {
          log.warn(`cannot read the language of company ${companyId}; its chatter notes stay in English`, {
            reason: (error as Error).message,
          });
        }
      }
      noteLanguages.set(companyId, noteFolders.languageFor(lang));
    }
  }

  /** Keeps a company whose journal cannot take payments out of publishing, with one ALERT. */
  async function checkJournals(): Promise<string[]> {
    const all: string[] = [];
    for (const company of companies) {
      const problems = await journalProblems(odoo, {
        companyId: company.companyId,
        journalId: company.journalId,
        currencies: company.gateway.currencies,
      });
      const key = journalAlertKey(company.companyId);
      if (problems.length === 0) {
        alerts.clear(key);
        continue;
      }
      alerts.raise(
        key,
        `company ${company.companyId} gets no payment links: ${problems.join('; ')}. Fix companies[].journalId (a bank or cash journal of that company) and restart`,
      );
      all.push(...problems.map((problem) => `company ${company.companyId}: ${problem}`));
    }
    return all;
  }
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
    notices,
    statuses,
    settings,
    alerts,
    identity,
    runs,
    mail,
    metrics,
    log,
    now,
    invoiceStaleReason,
    scope,
    payPage,
    returns,
    recordOf,
    async prepareOdoo({ dryRun = false } = {}) {
      const version = await odoo.version();
      log.info(`connected to Odoo ${version.serverVersion} at ${odooConfig.url}`, { db: odooConfig.db });
      let missing = await missingLinkFields(odoo, companyIds);
      if (missing.length > 0 && odooConfig.createFields && !dryRun) {
        try {
          await createLinkFields(odoo, { companyIds, log });
          missing = [];
        } catch (error) {
          if (!isOdooError(error, 'access')) throw error;
        }
      }
      if (missing.length > 0) {
        throw new NotReadyError(
          'odoo_fields_missing',
          `account.move lacks ${missing.join(', ')}: run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>" once (creating fields needs Administration rights, which ${odooConfig.login} should not have)`,
        );
      }
      await resolveIdentity();
      await resolveScope({ persist: !dryRun });
      await checkJournals();
      await resolveNoteLanguages();
    },
    async removeFromOdoo(admin) {
      const adminClient = adminClientFor(admin);
      const removed = await removeInvoiceUi(adminClient, { companyIds, log });
      if (await removePaylinkTemplate(adminClient, { companyIds, log })) removed.push('the mail template');
      return removed;
    },
    async setupOdoo(admin) {
      const adminClient = adminClientFor(admin);
      const { created } = await createLinkFields(adminClient, { companyIds, log });
      const invoiceUi = await installInvoiceUi(adminClient, { companyIds, log });
      const mailTemplate =
        config.mail.via === 'odoo'
          ? await installPaylinkTemplate(adminClient, { companyIds, log })
          : undefined;
      const found = await readDatabaseIdentity(adminClient, companyIds);
      if (found.neutralized && !odooConfig.allowNeutralized) throw neutralizedError(odooConfig.db);
      const stored = settings.get(IDENTITY_KEY, storedIdentitySchema);
      if (stored && stored.db === odooConfig.db && stored.uuid !== found.uuid) {
        throw new ConfigError(
          `the state store ${config.store.path} was set up for another database named ${stored.db} (uuid ${stored.uuid}; this one is ${found.uuid}): give this database its own store.path`,
        );
      }
      const derived = referencePrefixFor(odooConfig.db, found.uuid);
      const prefix = odooConfig.referencePrefix ?? stored?.prefix ?? derived;
      settings.set(IDENTITY_KEY, identityRecord(found, prefix), now());
      // Then everything as the daemon's own user will see it.
      const missing = await missingLinkFields(odoo, companyIds);
      if (missing.length > 0)
        throw new NotReadyError(
          'odoo_fields_missing',
          `${odooConfig.login} cannot see ${missing.join(', ')}`,
        );
      await resolveIdentity();
      await resolveScope({ persist: true });
      const problems = await checkJournals();
      return {
        createdFields: created,
        prefix,
        prefixSource: odooConfig.referencePrefix ? 'config' : 'database.uuid',
        journalProblems: problems,
        invoiceUi,
        ...(mailTemplate ? { mailTemplate } : {}),
      };
    },
    async setupGateways(publicUrl, { regenerate }) {
      const base = publicUrl.replace(/\/+$/, '');
      if (!/^https:\/\//.test(base))
        throw new ConfigError('the public URL must be https (gateways require it)');
      const lines: string[] = [];
      const done = new Set<string>();
      for (const { gateway, merchantAccount } of companies) {
        if (done.has(`${gateway.id}:${merchantAccount}`)) continue;
        done.add(`${gateway.id}:${merchantAccount}`);
        const url = `${base}/webhooks/${gateway.id}`;
        if (!gateway.webhookSetup) {
          lines.push(`${gateway.displayName}: its API cannot set webhooks; enter ${url} in its dashboard`);
          continue;
        }
        const { secret } = await gateway.webhookSetup.register(merchantAccount, url, { regenerate });
        if (secret) {
          redactor.addSecrets([secret]);
          settings.set(WEBHOOK_SECRET_KEY(gateway.id, merchantAccount), secret, now());
          lines.push(
            `${gateway.displayName} ${merchantAccount}: webhooks go to ${url}; its new secret is kept in ${config.store.path}`,
          );
        } else {
          lines.push(
            `${gateway.displayName} ${merchantAccount}: webhooks go to ${url}; it already had a secret, which it does not show again: configure it (${gateway.webhookSetup.secretKey(merchantAccount)})${gateway.webhookSetup.regenerates ? ' or run with --regenerate' : ''}`,
          );
        }
      }
      return lines;
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
  // History older than store.retentionDays goes, in small batches, once a day.
  scheduler.add({
    name: 'prune',
    schedule: '0 15 3 * * *',
    run: async () => {
      const pruned = pruneStore(app.db, { now: app.now(), retentionDays: app.config.store.retentionDays });
      app.log.info('pruned history older than the retention', {
        ...pruned,
        days: app.config.store.retentionDays,
      });
    },
  });
  const { reconcile } = app.config;
  if (reconcile.schedule) {
    scheduler.add({
      name: 'reconcile',
      schedule: reconcile.schedule,
      run: () => {
        const until = new Date(app.now());
        const since = new Date(until.getTime() - reconcile.windowDays * 86_400_000);
        return app.pipeline.reconcile({ since, until }, { fix: true }).catch((error: unknown) => {
          // A reconcile from cron holds the store's reconcile lock: it does this run's work.
          if (!(error instanceof ReconcileLockedError)) throw error;
          app.log.warn(`nightly reconciliation skipped: ${error.message}`);
        });
      },
    });
  }
  return scheduler;
}
