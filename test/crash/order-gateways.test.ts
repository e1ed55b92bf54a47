/**
 * The crash suite over the checkout-order gateways (TiloPay, TendoPay, MPChat). The real daemon
 * (`node dist/cli.js run`) runs as a child process over Odoo and the gateway's sandbox while this
 * test kills it with SIGKILL at seeded random moments and restarts it at once. A customer opens
 * invoices' pay addresses between and during the runs (the daemon makes or renews the order, the
 * customer pays or declines on the gateway's page and follows the redirect back), and sometimes
 * pays a page left open in a tab while the daemon is down. At the end one daemon settles the world,
 * and the sandboxes' own state and the daemon's books must show: no payment registered twice,
 * every order paid at the gateway registered, every unpaid invoice showing its pay address and an
 * order made for it, at most one payable current order per invoice, nothing left half-done.
 *
 * Replay a failure with CRASH_SEED=<the seed in the suite name> (each scenario adds its offset).
 * Spawns dist/cli.js: build first (npm run build).
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { payToken } from '../../src/paypage/token.js';
import { type CustomerChoice, type GatewaySandboxes, visitPayAddress } from '../../src/sandbox/customer.js';
import { type MpChatSandbox, startMpChatSandbox } from '../../src/sandbox/mpchat/server.js';
import { type OdooSandbox, startOdooSandbox } from '../../src/sandbox/odoo/server.js';
import { startTendoPaySandbox, type TendoPaySandbox } from '../../src/sandbox/tendopay/server.js';
import { startTiloPaySandbox, type TiloPaySandbox } from '../../src/sandbox/tilopay/server.js';
import {
  type ChildDaemon,
  type ChildExit,
  crashSeed,
  type Effect,
  freePort,
  type KillMode,
  type KillPlan,
  keepForPostMortem,
  type LogRecord,
  odooCallOf,
  Rng,
  sleep,
  spawnDaemon,
  Tap,
  type TappedCall,
  Timers,
} from '../support/crash-harness.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SEED = crashSeed();

type OrderGateway = 'tilopay' | 'tendopay' | 'mpchat';

const MEMO: Record<OrderGateway, string> = { tilopay: 'TiloPay', tendopay: 'TendoPay', mpchat: 'MPChat' };
const CURRENCY: Record<OrderGateway, string> = { tilopay: 'CRC', tendopay: 'PHP', mpchat: 'USD' };

// ---- the world: Odoo, the gateway's sandbox, taps in front of both, a config file ----------------

type GatewaySandbox =
  | { readonly id: 'tilopay'; readonly sandbox: TiloPaySandbox }
  | { readonly id: 'tendopay'; readonly sandbox: TendoPaySandbox }
  | { readonly id: 'mpchat'; readonly sandbox: MpChatSandbox };

interface Secret {
  readonly what: string;
  readonly value: string;
}

interface World {
  readonly gateway: GatewaySandbox;
  /** The real sandbox objects: hosted pages point at their own origin, not at the tap. */
  readonly sandboxes: GatewaySandboxes;
  readonly odoo: OdooSandbox;
  readonly odooTap: Tap;
  readonly gatewayTap: Tap;
  readonly companyId: number;
  readonly partnerIds: readonly number[];
  readonly dir: string;
  readonly configPath: string;
  readonly publicUrl: string;
  readonly paySecret: string;
  readonly prefix: string;
  readonly secrets: readonly Secret[];
  readonly invoiceIds: number[];
  readonly daemons: ChildDaemon[];
  /** Hosted pages a customer left open in a tab, by invoice, to pay later (maybe while the daemon is down). */
  readonly tabs: Map<number, string>;
  /** Invoices a customer is on right now. */
  readonly visiting: Set<number>;
  readonly customer: CustomerTally;
}

interface CustomerTally {
  visits: number;
  /** Visits that failed somewhere (daemon down, killed mid-visit, page already used…). */
  failedVisits: number;
  paidVisits: number;
  declinedVisits: number;
  tabsKept: number;
  tabsPaid: number;
  /** Why visits failed, by message. */
  readonly failures: Map<string, number>;
}

let world: World | undefined;
const timers = new Timers();

async function closeSandbox(gateway: GatewaySandbox): Promise<void> {
  await gateway.sandbox.close();
}

afterEach(async (context) => {
  timers.clear();
  const current = world;
  world = undefined;
  if (!current) return;
  await Promise.all(current.daemons.map((daemon) => daemon.stop()));
  await current.odooTap.close();
  await current.gatewayTap.close();
  await closeSandbox(current.gateway);
  await current.odoo.close();
  keepForPostMortem(current.dir, current.daemons, context.task.result?.state === 'fail');
});

/** The gateway's sandbox with distinctive credentials and short retry delays for its notices. */
async function startGateway(
  id: OrderGateway,
  rng: Rng,
): Promise<{ gateway: GatewaySandbox; secrets: Secret[]; section: Record<string, unknown> }> {
  switch (id) {
    case 'tilopay': {
      const credentials = {
        apiKey: `tk-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}-${rng.hex(4)}`,
        apiUser: `crash-user-${rng.hex(8)}`,
        apiPassword: `tilo-pw-${rng.hex(24)}`,
      };
      // TiloPay sends one notice per attempt and never retries it: polling (/consult) catches up.
      const sandbox = await startTiloPaySandbox({ credentials });
      return {
        gateway: { id, sandbox },
        secrets: [
          { what: 'the TiloPay API key', value: credentials.apiKey },
          { what: 'the TiloPay API password', value: credentials.apiPassword },
        ],
        section: { accounts: { default: credentials }, timeoutMs: 5_000 },
      };
    }
    case 'tendopay': {
      const clientId = `crash-client-${rng.hex(12)}`;
      const clientSecret = `tp_crash_secret_${rng.hex(32)}`;
      // TendoPay is asked about a payment only by the transaction id its return or notification
      // carries: its notifications must outlast the kill phase, soon enough to land on a live daemon.
      const sandbox = await startTendoPaySandbox({
        clientId,
        clientSecret,
        notificationRetryDelayMs: 250,
        notificationMaxAttempts: 400,
      });
      return {
        gateway: { id, sandbox },
        secrets: [{ what: 'the TendoPay client secret', value: clientSecret }],
        section: { accounts: { default: { clientId, clientSecret } }, timeoutMs: 5_000 },
      };
    }
    case 'mpchat': {
      const keyId = `mk_crash_${rng.hex(12)}`;
      const secret = rng.hex(64);
      const webhookSecret = `whsec_crash_${rng.hex(40)}`;
      const sandbox = await startMpChatSandbox({
        keys: [{ keyId, secret }],
        webhookSecret,
        webhookRetryDelaysMs: [200, 400, 800],
        webhookMaxAttempts: 60,
      });
      return {
        gateway: { id, sandbox },
        secrets: [
          { what: 'the MPChat API secret', value: secret },
          { what: 'the MPChat webhook secret', value: webhookSecret },
        ],
        section: { accounts: { default: { keyId, secret, webhookSecret } }, timeoutMs: 5_000 },
      };
    }
  }
}

function sandboxesOf(gateway: GatewaySandbox): GatewaySandboxes {
  switch (gateway.id) {
    case 'tilopay':
      return { tilopay: gateway.sandbox };
    case 'tendopay':
      return { tendopay: gateway.sandbox };
    case 'mpchat':
      return { mpchat: gateway.sandbox };
  }
}

/** Where the daemon's client talks to the gateway, through the tap. */
function gatewayBaseUrl(gateway: GatewaySandbox, tap: Tap): string {
  return gateway.id === 'tilopay' ? `${tap.url}/api/v1` : tap.url;
}

function pointNoticesAt(gateway: GatewaySandbox, url: string): void {
  switch (gateway.id) {
    case 'tilopay':
      gateway.sandbox.setWebhookUrl(url);
      return;
    case 'tendopay':
      gateway.sandbox.setNotificationUrl(url);
      return;
    case 'mpchat':
      gateway.sandbox.setWebhookUrl(url);
      return;
  }
}

async function startWorld(id: OrderGateway, rng: Rng, invoices: number): Promise<World> {
  // Distinctive secrets, so a leak into a log line cannot be mistaken for anything else.
  const odooPassword = `odoo-pw-${rng.hex(20)}`;
  const botPassword = `bot-pw-${rng.hex(20)}`;
  const paySecret = `pay-secret-${rng.hex(40)}`;
  const odoo = await startOdooSandbox({ password: odooPassword });
  const { gateway, secrets, section } = await startGateway(id, rng);
  const odooTap = await new Tap('odoo', odoo.url).listen();
  const gatewayTap = await new Tap(id, gateway.sandbox.url).listen();
  const companyId = odoo.models.createCompany({
    name: `Crash ${id}`,
    currency: CURRENCY[id],
    email: 'billing@crash.example.com',
  });
  const journalId = odoo.models.createJournal({ name: 'Bank', type: 'bank', code: 'CBNK', companyId });
  // The daemon runs as a Billing-rights bot, as the README says; the admin only sets Odoo up.
  odoo.models.createUser({
    name: 'Paylink Bot',
    login: 'paylink-bot',
    password: botPassword,
    email: 'paylink-bot@example.com',
    groups: ['billing'],
    companyIds: [companyId],
  });
  // Every customer has an email: TiloPay signs it and refuses an order without one.
  const partnerIds = [
    odoo.models.createPartner({ name: 'Cliente Uno', email: 'uno@example.com', lang: 'es_ES' }),
    odoo.models.createPartner({ name: 'Customer Two', email: 'two@example.com', lang: 'en_US' }),
    odoo.models.createPartner({ name: 'Client Trois', email: 'trois@example.com', lang: 'fr_FR' }),
  ];
  const dir = mkdtempSync(path.join(tmpdir(), `paylink-crash-${id}-`));
  // A fixed port: pay addresses, return addresses and the notice URL stay valid across restarts.
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  pointNoticesAt(gateway, `${publicUrl}/webhooks/${id}`);
  const config = {
    odoo: { url: odooTap.url, db: odoo.db, login: 'paylink-bot', password: botPassword, timeoutMs: 5_000 },
    companies: [{ odooCompanyId: companyId, journalId, gateway: id }],
    gateways: { [id]: { baseUrl: gatewayBaseUrl(gateway, gatewayTap), ...section } },
    store: { path: path.join(dir, 'paylink.db') },
    pipeline: { backoffBaseMs: 50, backoffMaxMs: 500 },
    schedule: { publish: '* * * * * *', confirm: '* * * * * *' },
    http: { host: '127.0.0.1', port, publicUrl, paySecret },
    mail: { enabled: false },
    log: { level: 'debug', format: 'json' },
  };
  const configPath = path.join(dir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  // The admin's setup step, once, before any daemon starts.
  const setup = createApp(configSchema.parse(config), silentLogger);
  await setup.setupOdoo({ db: odoo.db, login: odoo.login, password: odooPassword });
  const prefix = setup.identity.prefix;
  setup.close();
  const created: World = {
    gateway,
    sandboxes: sandboxesOf(gateway),
    odoo,
    odooTap,
    gatewayTap,
    companyId,
    partnerIds,
    dir,
    configPath,
    publicUrl,
    paySecret,
    prefix,
    secrets: [
      { what: 'the Odoo admin password', value: odooPassword },
      { what: 'the bot password', value: botPassword },
      { what: 'the pay page secret', value: paySecret },
      ...secrets,
    ],
    invoiceIds: [],
    daemons: [],
    tabs: new Map(),
    visiting: new Set(),
    customer: {
      visits: 0,
      failedVisits: 0,
      paidVisits: 0,
      declinedVisits: 0,
      tabsKept: 0,
      tabsPaid: 0,
      failures: new Map(),
    },
  };
  world = created;
  addInvoices(created, rng, invoices);
  return created;
}

/** Amounts with two decimals; pesos mostly whole (TendoPay's centavos are taken as decimal text). */
function invoiceAmount(gateway: OrderGateway, rng: Rng): string {
  const cents = String(rng.int(0, 99)).padStart(2, '0');
  switch (gateway) {
    case 'tilopay':
      return `${rng.int(1_000, 250_000)}.${cents}`;
    case 'tendopay':
      return `${rng.int(500, 60_000)}.${rng.chance(0.25) ? cents : '00'}`;
    case 'mpchat':
      return `${rng.int(5, 5_000)}.${cents}`;
  }
}

function addInvoices(w: World, rng: Rng, count: number): void {
  for (let index = 0; index < count; index++) {
    const amount = invoiceAmount(w.gateway.id, rng);
    w.invoiceIds.push(
      w.odoo.models.createInvoice({ partnerId: rng.pick(w.partnerIds), companyId: w.companyId, amount }),
    );
  }
}

// ---- the gateway's orders, as its sandbox holds them ----------------------------------------------

interface PaidTransaction {
  readonly transactionId: string;
  /** As the gateway reports it, in major units. */
  readonly amount: number;
}

/** One order at the gateway, in the terms the invariants need. */
interface GatewayOrder {
  /** What a store row names it by: TiloPay orderNumber, TendoPay order token, MPChat order id. */
  readonly key: string;
  /** What `x_paylink_id` carries for it: TiloPay orderNumber, TendoPay merchant order id, MPChat id. */
  readonly linkId: string;
  /** The invoice it was made for, read from its number or metadata; undefined when none of ours. */
  readonly invoiceId: number | undefined;
  /** A customer on its page could still pay it now. */
  readonly payable: boolean;
  readonly paid: readonly PaidTransaction[];
  /** For messages. */
  readonly label: string;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The invoice of one of our order numbers: `<prefix>-inv-<invoice>-<n>` then the attempt suffix. */
function invoiceOfOrderNumber(w: World, orderNumber: string, attemptSuffix: RegExp): number | undefined {
  const match = new RegExp(`^${escapeRegExp(w.prefix)}-inv-(\\d+)-\\d+${attemptSuffix.source}$`).exec(
    orderNumber,
  );
  return match ? Number(match[1]) : undefined;
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function gatewayOrders(w: World): GatewayOrder[] {
  const { gateway } = w;
  switch (gateway.id) {
    case 'tilopay':
      return gateway.sandbox.orders().map((order) => {
        const approved = order.attempts.filter((attempt) => attempt.code === '1');
        return {
          key: order.orderNumber,
          linkId: order.orderNumber,
          // The adapter's orderNumber: `<reference>-<attempt>`.
          invoiceId: invoiceOfOrderNumber(w, order.orderNumber, /-\d+/),
          // Each page takes one attempt; an approved order takes no more money.
          payable: order.attempts.length < order.pageUrls.length && approved.length === 0,
          paid: approved.map((attempt) => ({ transactionId: attempt.tpt, amount: Number(attempt.amount) })),
          label: `TiloPay order ${order.orderNumber}`,
        };
      });
    case 'tendopay':
      return gateway.sandbox.orders().map((order) => {
        const transaction =
          order.transactionId === null ? undefined : gateway.sandbox.transaction(order.transactionId);
        const paid =
          transaction && transaction.tp_transaction_status === 'PAID'
            ? [
                {
                  transactionId: String(transaction.tp_transaction_id),
                  amount: Number(transaction.tp_amount),
                },
              ]
            : [];
        return {
          key: order.orderToken,
          linkId: order.merchantOrderId,
          // The adapter's tp_merchant_order_id: `<reference>-tp<attempt>`.
          invoiceId: invoiceOfOrderNumber(w, order.merchantOrderId, /-tp\d+/),
          payable: order.state === 'open',
          paid,
          label: `TendoPay order ${order.merchantOrderId} (${order.orderToken})`,
        };
      });
    case 'mpchat':
      return gateway.sandbox.orders().map((order) => {
        const id = String(order.id);
        const metadata =
          typeof order.metadata === 'object' && order.metadata !== null
            ? (order.metadata as Record<string, unknown>)
            : {};
        const invoiceText = textOf(metadata.invoice_id);
        const database = textOf(metadata.database);
        const expireAt = Date.parse(textOf(order.expire_at) ?? '');
        return {
          key: id,
          linkId: id,
          invoiceId: invoiceText !== undefined && database === w.prefix ? Number(invoiceText) : undefined,
          payable: order.status === 'OPEN' && !(expireAt <= Date.now()),
          // MPChat names no transfer: the order is the transaction (the adapter's transactionId).
          paid: order.status === 'PAID' ? [{ transactionId: id, amount: Number(order.order_amount) }] : [],
          label: `MPChat order ${id} (${String(order.status)})`,
        };
      });
  }
}

/** The key of the order a store row names (see GatewayOrder.key). */
function orderKeyOfRow(w: World, row: Pick<BookRow, 'link_id' | 'link_url'>): string | undefined {
  if (w.gateway.id === 'tendopay') {
    // Two orders may share a merchant order id (a retry of the same attempt after a crash); the
    // page address names the one the daemon kept.
    return row.link_url ? w.gateway.sandbox.order(row.link_url)?.orderToken : undefined;
  }
  return row.link_id ?? undefined;
}

/** The order whose hosted page this is. */
function orderAtPage(w: World, page: string): GatewayOrder | undefined {
  const { gateway } = w;
  switch (gateway.id) {
    case 'tilopay': {
      const number = gateway.sandbox.orders().find((order) => order.pageUrls.includes(page))?.orderNumber;
      return gatewayOrders(w).find((order) => order.key === number);
    }
    case 'tendopay': {
      const orderToken = gateway.sandbox.order(page)?.orderToken;
      return gatewayOrders(w).find((order) => order.key === orderToken);
    }
    case 'mpchat': {
      const id = gateway.sandbox.orders().find((order) => order.payment_url === page)?.id;
      return gatewayOrders(w).find((order) => order.key === String(id));
    }
  }
}

// ---- the daemon's books (read only) ---------------------------------------------------------------

interface BookRow {
  id: number;
  invoice_id: number;
  invoice_name: string;
  state: string;
  state_reason: string | null;
  last_error: string | null;
  attempts: number;
  link_id: string | null;
  link_url: string | null;
}

function readBooks<T>(w: World, read: (db: Database.Database) => T): T | undefined {
  const file = path.join(w.dir, 'paylink.db');
  if (!existsSync(file)) return undefined;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // being created or migrated
  }
}

function bookRows(w: World): BookRow[] | undefined {
  return readBooks(w, (db) =>
    db
      .prepare<[], BookRow>(
        'SELECT id, invoice_id, invoice_name, state, state_reason, last_error, attempts, link_id, link_url FROM links ORDER BY id',
      )
      .all(),
  );
}

/**
 * The daemon's own books once it is idle (no daemon running): nothing half-done, nothing given up
 * on or sent to a person (no amount in this run differs, no invoice is cancelled), and every event
 * it took handled.
 */
function bookProblems(w: World): string[] {
  const problems: string[] = [];
  const rows = bookRows(w);
  if (!rows) return ['the store cannot be read'];
  for (const row of rows) {
    // expired: a declined (TiloPay, TendoPay) order waits for the customer's next visit.
    const settled = ['open', 'registered', 'closed', 'expired'].includes(row.state);
    if (!settled) {
      problems.push(
        `link row ${row.id} of ${row.invoice_name} (invoice ${row.invoice_id}) is ${row.state}` +
          ` after ${row.attempts} attempts: ${row.state_reason ?? row.last_error ?? ''}`,
      );
    }
  }
  const events =
    readBooks(w, (db) =>
      db
        .prepare<[], { id: number; type: string; state: string; last_error: string | null }>(
          "SELECT id, type, state, last_error FROM events WHERE state IN ('pending', 'unknown_link') ORDER BY id",
        )
        .all(),
    ) ?? [];
  for (const event of events) {
    problems.push(`event ${event.id} (${event.type}) is ${event.state}: ${event.last_error ?? ''}`);
  }
  return problems;
}

/** Rows whose state still owes a side effect; the final daemon runs until there are none. */
function unfinishedWork(w: World): number {
  return (
    readBooks(
      w,
      (db) =>
        db
          .prepare<[], { count: number }>(
            "SELECT count(*) AS count FROM links WHERE state IN ('creating', 'writing_back', 'paid', 'closing')",
          )
          .get()?.count ?? 0,
    ) ?? Number.POSITIVE_INFINITY
  );
}

// ---- the invariants, read from the sandboxes and the books ----------------------------------------

function invariantViolations(w: World): string[] {
  const problems: string[] = [];
  const { models } = w.odoo;
  const memo = MEMO[w.gateway.id];
  const ours = new Set(w.invoiceIds);
  const orders = gatewayOrders(w);

  // Paid transactions at the gateway, by id, with the invoice their order was made for.
  const paidAt = new Map<string, { invoiceId: number | undefined; amount: number; order: string }>();
  for (const order of orders) {
    if (order.invoiceId !== undefined && !ours.has(order.invoiceId))
      problems.push(`${order.label} names invoice ${order.invoiceId}, not one of ours`);
    for (const paid of order.paid) {
      if (paidAt.has(paid.transactionId))
        problems.push(`transaction ${paid.transactionId} is paid on two orders at the gateway`);
      paidAt.set(paid.transactionId, { invoiceId: order.invoiceId, amount: paid.amount, order: order.label });
    }
  }

  // 1. No account.payment registered twice, and each is for a paid transaction of its invoice.
  const payments = models.payments();
  const byMemo = new Map<string, number>();
  const byInvoice = new Map<number, number>();
  for (const payment of payments) {
    const text = typeof payment.memo === 'string' ? payment.memo : '';
    byMemo.set(text, (byMemo.get(text) ?? 0) + 1);
    for (const invoiceId of payment.invoice_ids)
      byInvoice.set(invoiceId, (byInvoice.get(invoiceId) ?? 0) + 1);
    const transactionId = text.startsWith(`${memo} `) ? text.slice(memo.length + 1) : undefined;
    const paid = transactionId === undefined ? undefined : paidAt.get(transactionId);
    if (!paid) {
      problems.push(
        `account.payment ${payment.id} (memo ${JSON.stringify(payment.memo)}) matches no paid transaction`,
      );
      continue;
    }
    if (paid.invoiceId === undefined || !payment.invoice_ids.includes(paid.invoiceId)) {
      problems.push(
        `account.payment ${payment.id} (${text}) pays invoices ${payment.invoice_ids.join(', ')}, but ${paid.order} was made for invoice ${paid.invoiceId}`,
      );
      continue;
    }
    const invoice = models.getInvoice(paid.invoiceId);
    if (Math.round(payment.amount * 100) !== Math.round(invoice.amount_total * 100))
      problems.push(
        `account.payment ${payment.id} (${text}) is for ${payment.amount}, invoice ${paid.invoiceId} is ${invoice.amount_total}`,
      );
  }
  for (const [text, count] of byMemo)
    if (count > 1) problems.push(`memo ${JSON.stringify(text)} is registered ${count} times`);
  for (const [invoiceId, count] of byInvoice)
    if (count > 1) problems.push(`invoice ${invoiceId} has ${count} payments registered`);

  // 2. Every order paid at the gateway is registered on its invoice. (Nothing in this run makes a
  // payment that should not be: no invoice is cancelled or changed, no amount differs, and the
  // customer pays only orders the daemon sent them to.)
  const paidOrdersOf = new Map<number, string[]>();
  for (const [transactionId, paid] of paidAt) {
    if (paid.invoiceId === undefined) {
      problems.push(`transaction ${transactionId} on ${paid.order} was paid, for no invoice of ours`);
      continue;
    }
    paidOrdersOf.set(paid.invoiceId, [...(paidOrdersOf.get(paid.invoiceId) ?? []), transactionId]);
    const registered = models.paymentsByMemo(`${memo} ${transactionId}`);
    if (!registered.some((payment) => payment.invoice_ids.includes(paid.invoiceId!))) {
      problems.push(
        `transaction ${transactionId} on ${paid.order} was paid at the gateway but is not registered on invoice ${paid.invoiceId}`,
      );
      continue;
    }
    const invoice = models.getInvoice(paid.invoiceId);
    // USD at par for MPChat (usdtPerUsd 1): every gateway took exactly the invoice's amount.
    if (Math.round(paid.amount * 100) !== Math.round(invoice.amount_total * 100))
      problems.push(
        `${paid.order} took ${paid.amount}, invoice ${paid.invoiceId} is ${invoice.amount_total}`,
      );
    if (invoice.payment_state !== 'paid' && invoice.payment_state !== 'in_payment')
      problems.push(
        `invoice ${paid.invoiceId} was paid through ${paid.order} but is ${invoice.payment_state} in Odoo`,
      );
  }
  for (const [invoiceId, list] of paidOrdersOf)
    if (list.length > 1)
      problems.push(`invoice ${invoiceId} was paid ${list.length} times at the gateway: ${list.join(', ')}`);

  // 3. Every posted unpaid invoice shows this gateway, an order made for it, and its pay address.
  const byLinkId = new Map<string, GatewayOrder[]>();
  for (const order of orders) byLinkId.set(order.linkId, [...(byLinkId.get(order.linkId) ?? []), order]);
  for (const invoiceId of w.invoiceIds) {
    const invoice = models.getInvoice(invoiceId);
    if (invoice.state !== 'posted' || invoice.payment_state !== 'not_paid') continue;
    const gatewayField = models.invoiceFieldValue(invoiceId, 'x_paylink_gateway');
    const linkId = models.invoiceFieldValue(invoiceId, 'x_paylink_id');
    const url = models.invoiceFieldValue(invoiceId, 'x_paylink_url');
    if (gatewayField !== w.gateway.id)
      problems.push(`unpaid invoice ${invoiceId} shows gateway ${JSON.stringify(gatewayField)}`);
    const named = typeof linkId === 'string' ? (byLinkId.get(linkId) ?? []) : [];
    if (named.length === 0) {
      problems.push(
        `unpaid invoice ${invoiceId} carries ${JSON.stringify(linkId)}, no order the gateway knows`,
      );
    } else if (!named.every((order) => order.invoiceId === invoiceId)) {
      problems.push(
        `unpaid invoice ${invoiceId} carries ${String(linkId)}, an order made for invoice ${named.map((o) => o.invoiceId).join(', ')}`,
      );
    }
    const address = `${w.publicUrl}/pay/${payToken(w.paySecret, w.prefix, invoiceId)}`;
    if (url !== address || !address.includes('/pay/'))
      problems.push(
        `unpaid invoice ${invoiceId} shows ${JSON.stringify(url)}, its pay address is ${address}`,
      );
  }

  // 4. At most one payable order per invoice that the store considers current. (Orders abandoned
  // after a lost answer are not named by any row: nobody was ever sent there.)
  const rows = bookRows(w);
  if (!rows) {
    problems.push('the store cannot be read');
    return problems;
  }
  const byKey = new Map(orders.map((order) => [order.key, order]));
  const current = new Map<number, Set<string>>();
  const openRows = new Map<number, number>();
  for (const row of rows) {
    if (row.state === 'open') openRows.set(row.invoice_id, (openRows.get(row.invoice_id) ?? 0) + 1);
    if (!['creating', 'writing_back', 'open', 'paid'].includes(row.state)) continue;
    const key = orderKeyOfRow(w, row);
    const order = key === undefined ? undefined : byKey.get(key);
    if (row.link_id !== null && !order) {
      problems.push(
        `link row ${row.id} (${row.state}) of invoice ${row.invoice_id} names ${row.link_id}, unknown at the gateway`,
      );
      continue;
    }
    if (order && order.invoiceId !== row.invoice_id)
      problems.push(
        `link row ${row.id} of invoice ${row.invoice_id} names ${order.label}, made for invoice ${order.invoiceId}`,
      );
    if (order?.payable)
      current.set(row.invoice_id, new Set([...(current.get(row.invoice_id) ?? []), order.key]));
  }
  for (const [invoiceId, keys] of current)
    if (keys.size > 1)
      problems.push(`invoice ${invoiceId} has ${keys.size} payable current orders: ${[...keys].join(', ')}`);
  for (const [invoiceId, count] of openRows)
    if (count > 1) problems.push(`invoice ${invoiceId} has ${count} open link rows`);
  return problems;
}

function leakedSecrets(w: World): string[] {
  const leaks: string[] = [];
  for (const daemon of w.daemons) {
    const text = `${daemon.stdout}\n${daemon.stderr}`;
    for (const secret of w.secrets) {
      if (text.includes(secret.value))
        leaks.push(`process #${daemon.index} (${daemon.args[0]}) printed ${secret.what}`);
    }
  }
  return leaks;
}

/** Records that say the daemon itself went wrong (not a consequence of being killed). */
function daemonTrouble(w: World): string[] {
  const trouble: string[] = [];
  for (const daemon of w.daemons) {
    for (const line of daemon.strayStderr) trouble.push(`process #${daemon.index} wrote to stderr: ${line}`);
    for (const record of daemon.logs) {
      if (record.level === 'error') trouble.push(`process #${daemon.index} logged error: ${record.message}`);
      if (/SANDBOX MODE|^SECURITY/.test(record.message))
        trouble.push(`process #${daemon.index} logged: ${record.message}`);
    }
  }
  return trouble;
}

// ---- what the customer does ---------------------------------------------------------------------

/** What a customer knows: they paid this invoice already (they do not pay twice). */
function paidAtGateway(invoiceId: number, orders: readonly GatewayOrder[]): boolean {
  return orders.some((order) => order.invoiceId === invoiceId && order.paid.length > 0);
}

/** Posted unpaid invoices with a pay address, by id. */
function visitable(w: World): Array<{ invoiceId: number; address: string }> {
  const orders = gatewayOrders(w);
  const out: Array<{ invoiceId: number; address: string }> = [];
  for (const invoiceId of [...w.invoiceIds].sort((a, b) => a - b)) {
    const invoice = w.odoo.models.getInvoice(invoiceId);
    if (invoice.state !== 'posted' || invoice.payment_state !== 'not_paid') continue;
    if (paidAtGateway(invoiceId, orders)) continue;
    const address = w.odoo.models.invoiceFieldValue(invoiceId, 'x_paylink_url');
    if (typeof address === 'string' && address.includes('/pay/')) out.push({ invoiceId, address });
  }
  return out;
}

interface VisitPlan {
  readonly pick: number;
  readonly choice: CustomerChoice;
  /** When the customer comes: after the daemon said it runs, or (early) counted from its spawn. */
  readonly atMs: number;
  readonly early: boolean;
}

/** A customer opens a pay address; a visit that fails is given up (they come back another time). */
async function visit(w: World, plan: VisitPlan): Promise<void> {
  // One customer per invoice, one page at a time. (Two at once on a TiloPay order that a retried
  // processPayment gave a second page would pay both pages: the sandbox helper pays the order's
  // latest unused page, not the one the customer was sent to, a double payment no browser can make.)
  const candidates = visitable(w).filter((candidate) => !w.visiting.has(candidate.invoiceId));
  if (candidates.length === 0) return;
  const { invoiceId, address } = candidates[Math.floor(plan.pick * candidates.length)]!;
  w.customer.visits++;
  w.visiting.add(invoiceId);
  try {
    const result = await withTimeout(visitPayAddress(address, w.sandboxes, plan.choice), 15_000);
    if (result.gateway === undefined) return;
    if (plan.choice === 'pay') w.customer.paidVisits++;
    if (plan.choice === 'decline') w.customer.declinedVisits++;
    if (plan.choice === 'abandon' && result.hostedPage) {
      w.tabs.set(invoiceId, result.hostedPage);
      w.customer.tabsKept++;
    }
  } catch (error) {
    w.customer.failedVisits++;
    const cause = (error as { cause?: { code?: unknown } }).cause?.code;
    const reason = `${(error as Error).message}${typeof cause === 'string' ? ` (${cause})` : ''}`.replace(
      /\d+/g,
      '#',
    );
    w.customer.failures.set(reason, (w.customer.failures.get(reason) ?? 0) + 1);
  } finally {
    w.visiting.delete(invoiceId);
  }
}

/**
 * The customer pays on a page left open in a tab, while the daemon is down: the gateway takes the
 * money, its notice and the way back to the daemon fail, and the daemon must learn it later.
 */
async function payTab(w: World, pick: number): Promise<boolean> {
  const orders = gatewayOrders(w);
  const tabs = [...w.tabs].sort((a, b) => a[0] - b[0]);
  if (tabs.length === 0) return false;
  const [invoiceId, page] = tabs[Math.floor(pick * tabs.length)]!;
  w.tabs.delete(invoiceId);
  const order = orderAtPage(w, page);
  // A page already used, paid or gone shows no pay button; nor does the customer pay twice.
  if (!order?.payable || paidAtGateway(invoiceId, orders)) return false;
  const { gateway } = w;
  if (gateway.id === 'tilopay' && gateway.sandbox.order(order.key)?.attempts.length !== 0) return false;
  let back: string | undefined;
  try {
    switch (gateway.id) {
      case 'tilopay':
        back = (await gateway.sandbox.pay(order.key, 'approved')).redirectUrl;
        break;
      case 'tendopay':
        back = gateway.sandbox.finish(page, { outcome: 'pay' }).redirectUrl;
        break;
      case 'mpchat':
        back = gateway.sandbox.buyer(order.key, 'pay').returnUrl;
        break;
    }
  } catch {
    return false;
  }
  w.customer.tabsPaid++;
  if (back) {
    // The daemon is down: the browser's way back fails (the gateway's notice or polling must tell).
    await withTimeout(fetch(back, { redirect: 'manual' }), 5_000).then(
      (answer) => answer.body?.cancel(),
      () => undefined,
    );
  }
  return true;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- kill plans -----------------------------------------------------------------------------------

/** The call that creates a checkout order at each gateway. */
function createsOrder(call: TappedCall): boolean {
  if (call.method !== 'POST' || call.status >= 300) return false;
  const pathOnly = call.path.split('?')[0] ?? '';
  switch (call.upstream) {
    case 'tilopay':
      return pathOnly.endsWith('/processPayment');
    case 'tendopay':
      return pathOnly === '/payments/api/v2/order';
    case 'mpchat':
      return pathOnly === '/v1/orders';
    default:
      return false;
  }
}

const EFFECTS: Record<string, Effect> = {
  createOrder: { name: 'order created at the gateway', matches: createsOrder },
  writeBack: {
    name: 'order written onto the invoice',
    matches: (call) =>
      call.upstream === 'odoo' &&
      odooCallOf(call.requestBody) === 'account.move.write' &&
      call.status === 200,
  },
  register: {
    name: 'payment registered in Odoo',
    matches: (call) =>
      call.upstream === 'odoo' &&
      odooCallOf(call.requestBody) === 'account.payment.register.action_create_payments',
  },
  note: {
    name: 'chatter note posted',
    matches: (call) =>
      call.upstream === 'odoo' && odooCallOf(call.requestBody) === 'account.move.message_post',
  },
  readOrder: {
    name: 'order read at the gateway',
    matches: (call) =>
      call.upstream !== 'odoo' &&
      (call.path.includes('/consult') || call.path.includes('showTransaction') || call.method === 'GET'),
  },
};

const LOG_TRIGGERS: Record<string, RegExp> = {
  created: /^created .+ link for invoice/,
  shown: /now shows its payment link$/,
  paid: /was paid online$/,
  registered: /^registered payment/,
  webhook: /^received .+ webhook/,
  expired: /expired unpaid$/,
};

function planKill(rng: Rng, effects: readonly string[], logTriggers: readonly string[]): KillPlan {
  const roll = rng.float();
  const mode: KillMode =
    roll < 0.15
      ? 'startup'
      : roll < 0.27
        ? 'early'
        : roll < 0.4
          ? 'late'
          : roll < 0.6
            ? 'nth-call'
            : roll < 0.84
              ? 'after-effect'
              : 'after-log';
  // 'startup' counts from the spawn (the daemon listens after 1-2 s on this machine); 'early' and
  // 'late' count from the moment it listens, so the customer has a daemon to talk to.
  const delayMs =
    mode === 'startup'
      ? rng.int(50, 900)
      : mode === 'early'
        ? rng.int(0, 600)
        : mode === 'late'
          ? rng.int(600, 2_500)
          : rng.int(0, 12);
  return {
    mode,
    delayMs,
    nthCall: rng.int(1, 50),
    effect: rng.pick(effects),
    logTrigger: rng.pick(logTriggers),
    fallbackMs: rng.int(800, 2_200),
  };
}

/**
 * Arms the plan on a fresh child; the child gets SIGKILL from one of the armed triggers. Timers
 * other than 'startup' (and the fallbacks) start once the daemon listens.
 */
function arm(
  w: World,
  daemon: ChildDaemon,
  plan: KillPlan,
  listening: Promise<boolean>,
  record: (trigger: string) => void,
): () => void {
  const disarmers: Array<() => void> = [];
  let disarmed = false;
  const kill = (trigger: string) => {
    if (daemon.kill('SIGKILL')) record(trigger);
  };
  const fromSpawn = (ms: number, trigger: string) => {
    const handle = setTimeout(() => kill(trigger), ms);
    disarmers.push(() => clearTimeout(handle));
  };
  const timer = (ms: number, trigger: string) => {
    void listening.then((listens) => {
      if (listens && !disarmed) fromSpawn(ms, trigger);
    });
  };
  disarmers.push(() => {
    disarmed = true;
  });
  const tapHook = (hook: (call: TappedCall) => boolean) => {
    w.odooTap.hook = hook;
    w.gatewayTap.hook = hook;
    disarmers.push(() => {
      w.odooTap.hook = undefined;
      w.gatewayTap.hook = undefined;
    });
  };
  switch (plan.mode) {
    case 'startup':
      fromSpawn(plan.delayMs, `${plan.delayMs} ms after spawn`);
      break;
    case 'early':
    case 'late':
      timer(plan.delayMs, `${plan.delayMs} ms after it listened`);
      break;
    case 'nth-call': {
      let calls = 0;
      tapHook((call) => {
        calls++;
        if (calls !== plan.nthCall || !daemon.running) return false;
        kill(`answer to call #${calls} (${call.upstream} ${call.method} ${describeCall(call)}) lost`);
        return true;
      });
      timer(
        plan.fallbackMs,
        `fallback ${plan.fallbackMs} ms after it listened (fewer than ${plan.nthCall} calls)`,
      );
      break;
    }
    case 'after-effect': {
      const effect = EFFECTS[plan.effect]!;
      tapHook((call) => {
        if (!effect.matches(call) || !daemon.running) return false;
        kill(`${effect.name}, answer lost`);
        return true;
      });
      timer(plan.fallbackMs, `fallback ${plan.fallbackMs} ms after it listened (no ${effect.name})`);
      break;
    }
    case 'after-log': {
      const pattern = LOG_TRIGGERS[plan.logTrigger]!;
      const off = daemon.onLog((line: LogRecord) => {
        if (!pattern.test(line.message)) return;
        off();
        const handle = setTimeout(() => kill(`${plan.delayMs} ms after "${line.message}"`), plan.delayMs);
        disarmers.push(() => clearTimeout(handle));
      });
      disarmers.push(off);
      timer(plan.fallbackMs, `fallback ${plan.fallbackMs} ms after it listened (no log ${pattern})`);
      break;
    }
  }
  return () => {
    for (const disarm of disarmers) disarm();
  };
}

function describeCall(call: TappedCall): string {
  if (call.upstream === 'odoo') return odooCallOf(call.requestBody) ?? call.path;
  return call.path.replace(/[0-9a-f-]{16,}|\d{3,}/g, ':id');
}

// ---- scenarios ------------------------------------------------------------------------------------

interface Scenario {
  readonly gateway: OrderGateway;
  readonly seedOffset: number;
  readonly kills: number;
  readonly invoices: number;
  /** Chance per round that 1-2 new invoices are posted. */
  readonly newInvoices: number;
  /** Visits per run, at most. */
  readonly visits: number;
  /** Chance per round that the next answer of the gateway is lost (a network fault, not a kill). */
  readonly lostAnswers: number;
  readonly effects: readonly string[];
  readonly logTriggers: readonly string[];
}

const EFFECT_MIX = ['createOrder', 'createOrder', 'writeBack', 'register', 'register', 'note', 'readOrder'];

const SCENARIOS: readonly Scenario[] = (['tilopay', 'tendopay', 'mpchat'] as const).map((gateway, index) => ({
  gateway,
  seedOffset: index,
  kills: 12,
  invoices: 15,
  newInvoices: 0.3,
  visits: 5,
  lostAnswers: 0.15,
  effects: EFFECT_MIX,
  logTriggers: ['created', 'shown', 'paid', 'registered', 'webhook', 'webhook', 'expired'],
}));

interface RoundRecord {
  readonly round: number;
  readonly mode: KillMode;
  readonly trigger: string;
  readonly afterMs: number;
  readonly exit: ChildExit;
}

function drawChoice(rng: Rng): CustomerChoice {
  const roll = rng.float();
  return roll < 0.55 ? 'pay' : roll < 0.78 ? 'decline' : 'abandon';
}

function loseNextAnswer(gateway: GatewaySandbox): void {
  switch (gateway.id) {
    case 'tilopay':
      gateway.sandbox.faults.dropAnswerNext(1);
      return;
    case 'tendopay':
      gateway.sandbox.faults.dropAnswerNext(1, 'api');
      return;
    case 'mpchat':
      gateway.sandbox.faults.dropAnswerNext(1);
      return;
  }
}

function countPaid(w: World): number {
  return gatewayOrders(w).reduce((sum, order) => sum + order.paid.length, 0);
}

async function runScenario(scenario: Scenario): Promise<void> {
  expect(existsSync(CLI), `${CLI} is missing: run "npm run build" first`).toBe(true);
  const seed = (SEED + scenario.seedOffset) >>> 0;
  const rng = new Rng(seed);
  const w = await startWorld(scenario.gateway, rng, scenario.invoices);
  const rounds: RoundRecord[] = [];
  const unexpected: string[] = [];
  /** How long each daemon took to listen, for the report. */
  const runningAfter: number[] = [];
  const startedAt = Date.now();

  for (let round = 1; round <= scenario.kills; round++) {
    // Draw everything for the round up front: the sequence of draws is the same on a replay,
    // whatever the timing of the processes.
    const drawn = planKill(rng, scenario.effects, scenario.logTriggers);
    // The first start makes every order: die the moment the first one exists.
    const plan: KillPlan = round === 1 ? { ...drawn, mode: 'after-effect', effect: 'createOrder' } : drawn;
    const wants = (effect: string) => plan.mode === 'after-effect' && plan.effect === effect;
    const addDraw = rng.chance(scenario.newInvoices);
    const addCount = addDraw || wants('createOrder') || wants('writeBack') ? rng.int(1, 2) : 0;
    const tabDraw = rng.chance(0.5);
    const tabPick = rng.float();
    const visits: VisitPlan[] = Array.from({ length: rng.int(2, scenario.visits) }, () => {
      // Most come while the daemon works; some before it listens, some late (as it dies).
      const roll = rng.float();
      const early = roll < 0.2;
      return {
        pick: rng.float(),
        choice: drawChoice(rng),
        early,
        atMs: early ? rng.int(0, 1_200) : roll < 0.85 ? rng.int(0, 600) : rng.int(600, 2_000),
      };
    });
    // A kill that waits for a registration gets a payment as soon as the daemon listens.
    if (wants('register'))
      visits.push({ pick: rng.float(), choice: 'pay', early: false, atMs: rng.int(0, 200) });
    const loseAnswer = rng.chance(scenario.lostAnswers);

    addInvoices(w, rng, addCount);
    // Between runs: a customer pays a page left open, while no daemon listens.
    if (tabDraw || wants('register')) await payTab(w, tabPick);
    w.gateway.sandbox.faults.reset();
    if (loseAnswer) loseNextAnswer(w.gateway);

    const daemon = spawnDaemon(w, 'run');
    const listening = daemon
      .waitForLog((record) => record.message === 'odoo-paylink is running', 10_000)
      .then((record) => record !== undefined && daemon.running);
    let trigger = '';
    let killedAfter = 0;
    const disarm = arm(w, daemon, plan, listening, (what) => {
      trigger = what;
      killedAfter = Date.now() - daemon.startedAt;
    });
    const inFlight: Promise<void>[] = [];
    const come = (planned: VisitPlan) => timers.later(planned.atMs, () => inFlight.push(visit(w, planned)));
    // Visits land whenever they land: before the daemon listens, while it works, as it dies.
    for (const planned of visits) if (planned.early) come(planned);
    void listening.then((listens) => {
      if (!listens) return;
      runningAfter.push(Date.now() - daemon.startedAt);
      for (const planned of visits) if (!planned.early) come(planned);
    });
    // A child that neither dies by itself nor meets its trigger is killed anyway (never hangs the suite).
    const guard = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    const exit = await daemon.exited;
    clearTimeout(guard);
    disarm();
    // Customers who had not come yet come another time; those on their way finish (or fail) now.
    timers.clear();
    await Promise.all(inFlight);
    w.gateway.sandbox.faults.reset();
    rounds.push({ round, mode: plan.mode, trigger, afterMs: killedAfter, exit });
    if (exit.signal !== 'SIGKILL' || daemon.signalled !== 'SIGKILL') {
      unexpected.push(
        `round ${round}: the daemon exited by itself (code ${exit.code}, signal ${exit.signal}); stderr tail:\n${daemon.stderr.slice(-2_000)}`,
      );
    }
  }
  const killPhaseMs = Date.now() - startedAt;

  // Settle: one last daemon runs until the world is settled, then stops cleanly.
  const settleStart = Date.now();
  const last = spawnDaemon(w, 'run');
  const running = await last.waitForLog((record) => record.message === 'odoo-paylink is running', 15_000);
  expect(running, `the final daemon did not start:\n${last.stderr.slice(-3_000)}`).toBeDefined();
  const deadline = Date.now() + 30_000;
  let clean = 0;
  while (Date.now() < deadline && clean < 3) {
    await sleep(400);
    clean = invariantViolations(w).length === 0 && unfinishedWork(w) === 0 ? clean + 1 : 0;
  }
  last.kill('SIGTERM');
  const lastExit = await last.exited;
  const settleMs = Date.now() - settleStart;
  // And one `sync` over the settled world: nothing left to do, nothing failed.
  const sync = spawnDaemon(w, 'sync');
  const syncExit = await sync.exited;

  const kills = rounds.filter((round) => round.exit.signal === 'SIGKILL').length;
  const modes = new Map<string, number>();
  for (const round of rounds) modes.set(round.mode, (modes.get(round.mode) ?? 0) + 1);
  const triggers = new Map<string, number>();
  for (const round of rounds) {
    const label = round.trigger
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, '#')
      .replace(/\(fewer than # calls\)|\(no log .*\)|\(no .*\)/, '');
    triggers.set(label, (triggers.get(label) ?? 0) + 1);
  }
  const { customer } = w;
  const context = [
    `${scenario.gateway}: seed ${seed} (replay: CRASH_SEED=${SEED} npx vitest run test/crash/order-gateways.test.ts)`,
    `${kills} kills in ${killPhaseMs} ms (${runningAfter.length} daemons listened, after ${Math.min(...runningAfter)}-${Math.max(...runningAfter)} ms), settled in ${settleMs} ms; modes ${JSON.stringify(Object.fromEntries(modes))}`,
    'kill moments:',
    ...[...triggers].sort((a, b) => b[1] - a[1]).map(([label, count]) => `  ${count}× ${label}`),
    `${w.invoiceIds.length} invoices, ${gatewayOrders(w).length} orders, ${countPaid(w)} paid at the gateway, ${w.odoo.models.payments().length} payments in Odoo`,
    `customer: ${customer.visits} visits (${customer.paidVisits} paid, ${customer.declinedVisits} declined, ${customer.failedVisits} failed), ${customer.tabsKept} tabs kept, ${customer.tabsPaid} paid while the daemon was down; failed visits: ${JSON.stringify(Object.fromEntries(customer.failures))}`,
    'last rounds:',
    ...rounds.slice(-6).map((r) => `  #${r.round} ${r.mode}: ${r.trigger || '(no kill)'} at ${r.afterMs} ms`),
  ].join('\n');
  console.info(`[crash] ${context}`);

  expect(unexpected, context).toEqual([]);
  expect(kills, context).toBe(scenario.kills);
  expect(lastExit, `final daemon on SIGTERM\n${last.stderr.slice(-3_000)}`).toEqual({
    code: 0,
    signal: null,
  });
  expect(syncExit, `sync after settling\n${sync.stdout}\n${sync.stderr.slice(-3_000)}`).toEqual({
    code: 0,
    signal: null,
  });
  expect(invariantViolations(w), context).toEqual([]);
  expect(bookProblems(w), context).toEqual([]);
  expect(leakedSecrets(w), context).toEqual([]);
  expect(daemonTrouble(w), context).toEqual([]);
  // The run did what it is for: money moved while the daemon was being killed.
  expect(countPaid(w), context).toBeGreaterThan(0);
}

describe(`crash suite over checkout-order gateways: SIGKILL at random moments (seed ${SEED})`, () => {
  for (const scenario of SCENARIOS) {
    it(
      `${scenario.gateway}: orders made, paid, declined and registered while the daemon is killed ${scenario.kills} times (seed ${(SEED + scenario.seedOffset) >>> 0})`,
      () => runScenario(scenario),
      90_000,
    );
  }
});
