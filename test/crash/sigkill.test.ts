/**
 * Issue 3: the crash suite. The real daemon (`node dist/cli.js run`) runs as a child process over
 * both sandboxes while this test kills it with SIGKILL at seeded random moments and restarts it at
 * once. A simulated customer pays links (and sometimes the test cancels invoices in Odoo) between
 * and during the runs. At the end the daemon runs once more until the world is settled, and the
 * sandboxes' own state must show: no invoice with two links, no payment registered twice, every
 * link paid at the gateway registered in Odoo, and every payable invoice carrying its link.
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
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import { type OdooSandbox, startOdooSandbox } from '../../src/sandbox/odoo/server.js';
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

// ---- the world: both sandboxes, taps in front of them, a config file --------------------------

interface World {
  readonly odoo: OdooSandbox;
  readonly mytpe: MyTpeSandbox;
  readonly odooTap: Tap;
  readonly mytpeTap: Tap;
  readonly companyId: number;
  readonly journalId: number;
  readonly partnerIds: readonly number[];
  readonly dir: string;
  readonly configPath: string;
  readonly secrets: readonly string[];
  readonly invoiceIds: number[];
  /** Invoices this test cancelled in Odoo (the daemon must follow). */
  readonly cancelled: Set<number>;
  readonly daemons: ChildDaemon[];
}

let world: World | undefined;
const timers = new Timers();

afterEach(async (context) => {
  timers.clear();
  const current = world;
  world = undefined;
  if (!current) return;
  await Promise.all(current.daemons.map((daemon) => daemon.stop()));
  await current.odooTap.close();
  await current.mytpeTap.close();
  await current.mytpe.close();
  await current.odoo.close();
  keepForPostMortem(current.dir, current.daemons, context.task.result?.state === 'fail');
});

async function startWorld(rng: Rng, invoices: number): Promise<World> {
  // Distinctive secrets, so a leak into a log line cannot be mistaken for anything else.
  const odooPassword = `odoo-pw-${rng.hex(20)}`;
  const botPassword = `bot-pw-${rng.hex(20)}`;
  const apiKey = `mtk_crash_${rng.hex(24)}`;
  const apiSecret = `mts_crash_${rng.hex(32)}`;
  const webhookSecret = `whsec_${rng.hex(48)}`;
  const odoo = await startOdooSandbox({ password: odooPassword });
  const mytpe = await startMyTpeSandbox({
    apiKey,
    apiSecret,
    // Retries while the daemon is down come back soon, so some land on a running daemon.
    webhookRetryDelaysMs: [300, 1_500],
    webhookMaxAttempts: 3,
  });
  const odooTap = await new Tap('odoo', odoo.url).listen();
  const mytpeTap = await new Tap('mytpe', mytpe.url).listen();
  const companyId = odoo.models.createCompany({ name: 'Crash SARL', currency: 'DZD' });
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
  const partnerIds = [
    odoo.models.createPartner({ name: 'Client Un', email: 'un@example.com', lang: 'fr_FR' }),
    odoo.models.createPartner({ name: 'Client Deux', email: 'deux@example.com', lang: 'en_US' }),
    odoo.models.createPartner({ name: 'Client Trois', email: 'trois@example.com', lang: 'ar_001' }),
  ];
  const dir = mkdtempSync(path.join(tmpdir(), 'paylink-crash-'));
  // A fixed port for the daemon's webhooks, so the instance's webhook URL stays valid across restarts.
  const port = await freePort();
  mytpe.setWebhook(mytpe.instanceId, `http://127.0.0.1:${port}/webhooks/mytpe`, webhookSecret);
  const config = {
    odoo: { url: odooTap.url, db: odoo.db, login: 'paylink-bot', password: botPassword, timeoutMs: 5_000 },
    companies: [{ odooCompanyId: companyId, journalId, gateway: 'mytpe', mytpeInstanceId: mytpe.instanceId }],
    gateways: {
      mytpe: {
        baseUrl: `${mytpeTap.url}/api/v2/mytpe-pay`,
        apiKey,
        apiSecret,
        webhookSecrets: { [mytpe.instanceId]: webhookSecret },
        timeoutMs: 5_000,
      },
    },
    store: { path: path.join(dir, 'paylink.db') },
    pipeline: { backoffBaseMs: 50, backoffMaxMs: 500 },
    schedule: { publish: '* * * * * *', confirm: '* * * * * *' },
    http: { host: '127.0.0.1', port },
    mail: { enabled: false },
    log: { level: 'debug', format: 'json' },
  };
  const configPath = path.join(dir, 'config.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
  // The admin's setup step, once, before any daemon starts.
  const setup = createApp(configSchema.parse(config), silentLogger);
  await setup.setupOdoo({ db: odoo.db, login: odoo.login, password: odooPassword });
  setup.close();
  const created: World = {
    odoo,
    mytpe,
    odooTap,
    mytpeTap,
    companyId,
    journalId,
    partnerIds,
    dir,
    configPath,
    secrets: [odooPassword, botPassword, apiKey, apiSecret, webhookSecret],
    invoiceIds: [],
    cancelled: new Set(),
    daemons: [],
  };
  world = created;
  addInvoices(created, rng, invoices);
  return created;
}

function addInvoices(w: World, rng: Rng, count: number): void {
  for (let index = 0; index < count; index++) {
    const amount = `${rng.int(100, 250_000)}.${String(rng.int(0, 99)).padStart(2, '0')}`;
    w.invoiceIds.push(
      w.odoo.models.createInvoice({ partnerId: rng.pick(w.partnerIds), companyId: w.companyId, amount }),
    );
  }
}

// ---- what the test does to the world ------------------------------------------------------------

/** The customer pays up to `count` of the links that are payable right now (seeded choice). */
function customerPays(w: World, picks: readonly number[], failShare: number, failDraws: readonly number[]) {
  const payable = w.mytpe
    .links()
    .filter((link) => link.status === 'active')
    .sort((a, b) => a.slug.localeCompare(b.slug));
  let paid = 0;
  picks.forEach((pick, index) => {
    if (payable.length === 0) return;
    const [link] = payable.splice(Math.floor(pick * payable.length), 1);
    if (!link) return;
    const failed = (failDraws[index] ?? 1) < failShare;
    try {
      w.mytpe.pay(link.id, failed ? { outcome: 'failed' } : {});
      if (!failed) paid++;
    } catch {
      // Closed between our read and the payment (the daemon archived it): the customer gives up.
    }
  });
  return paid;
}

/** An accountant cancels an unpaid posted invoice in Odoo. */
function accountantCancels(w: World, pick: number): number | undefined {
  const candidates = w.invoiceIds.filter((id) => {
    if (w.cancelled.has(id)) return false;
    const invoice = w.odoo.models.getInvoice(id);
    return invoice.state === 'posted' && invoice.payment_state === 'not_paid';
  });
  if (candidates.length === 0) return undefined;
  const id = candidates[Math.floor(pick * candidates.length)]!;
  try {
    w.odoo.models.cancelInvoice(id);
    w.cancelled.add(id);
    return id;
  } catch {
    return undefined;
  }
}

// ---- kill plans -------------------------------------------------------------------------------

const EFFECTS: Record<string, Effect> = {
  createLink: {
    name: 'MyTPE link created',
    matches: (call) =>
      call.upstream === 'mytpe' && call.method === 'POST' && call.path.endsWith('/links/store'),
  },
  writeBack: {
    name: 'link written onto the invoice',
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
  closeLink: {
    name: 'MyTPE link deleted or paused',
    matches: (call) =>
      call.upstream === 'mytpe' &&
      (call.method === 'DELETE' || (call.method === 'PATCH' && call.path.endsWith('/toggle-status'))),
  },
  createField: {
    name: 'custom field created',
    matches: (call) => call.upstream === 'odoo' && odooCallOf(call.requestBody) === 'ir.model.fields.create',
  },
};

const LOG_TRIGGERS: Record<string, RegExp> = {
  created: /^created MyTPE Pay link/,
  shown: /now shows its payment link$/,
  paid: /was paid online$/,
  registered: /^registered payment/,
  archiving: /archiving its payment link$/,
  webhook: /^received MyTPE Pay webhook transaction\.completed/,
};

function planKill(rng: Rng, effects: readonly string[], logTriggers: readonly string[]): KillPlan {
  const roll = rng.float();
  const mode: KillMode =
    roll < 0.2
      ? 'startup'
      : roll < 0.32
        ? 'early'
        : roll < 0.44
          ? 'late'
          : roll < 0.64
            ? 'nth-call'
            : roll < 0.86
              ? 'after-effect'
              : 'after-log';
  const delayMs =
    mode === 'startup'
      ? rng.int(50, 400)
      : mode === 'early'
        ? rng.int(400, 1_200)
        : mode === 'late'
          ? rng.int(1_200, 3_000)
          : rng.int(0, 12);
  return {
    mode,
    delayMs,
    nthCall: rng.int(1, 60),
    effect: rng.pick(effects),
    logTrigger: rng.pick(logTriggers),
    fallbackMs: rng.int(1_500, 3_000),
  };
}

interface KillRecord {
  readonly round: number;
  readonly mode: KillMode;
  readonly trigger: string;
  readonly afterMs: number;
}

/** Arms the plan on a fresh child; the child gets SIGKILL from one of the armed triggers. */
function arm(w: World, daemon: ChildDaemon, plan: KillPlan, record: (trigger: string) => void): () => void {
  const disarmers: Array<() => void> = [];
  const kill = (trigger: string) => {
    if (daemon.kill('SIGKILL')) record(trigger);
  };
  const timer = (ms: number, trigger: string) => {
    const handle = setTimeout(() => kill(trigger), ms);
    disarmers.push(() => clearTimeout(handle));
  };
  const tapHook = (hook: (call: TappedCall) => boolean) => {
    w.odooTap.hook = hook;
    w.mytpeTap.hook = hook;
    disarmers.push(() => {
      w.odooTap.hook = undefined;
      w.mytpeTap.hook = undefined;
    });
  };
  switch (plan.mode) {
    case 'startup':
    case 'early':
    case 'late':
      timer(plan.delayMs, `${plan.delayMs} ms after spawn`);
      break;
    case 'nth-call': {
      let calls = 0;
      tapHook((call) => {
        calls++;
        if (calls !== plan.nthCall || !daemon.running) return false;
        kill(`answer to call #${calls} (${call.upstream} ${call.method} ${describeCall(call)}) lost`);
        return true;
      });
      timer(plan.fallbackMs, `fallback ${plan.fallbackMs} ms (fewer than ${plan.nthCall} calls)`);
      break;
    }
    case 'after-effect': {
      const effect = EFFECTS[plan.effect]!;
      tapHook((call) => {
        if (!effect.matches(call) || !daemon.running) return false;
        kill(`${effect.name}, answer lost`);
        return true;
      });
      timer(plan.fallbackMs, `fallback ${plan.fallbackMs} ms (no ${effect.name})`);
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
      timer(plan.fallbackMs, `fallback ${plan.fallbackMs} ms (no log ${pattern})`);
      break;
    }
  }
  return () => {
    for (const disarm of disarmers) disarm();
  };
}

function describeCall(call: TappedCall): string {
  if (call.upstream === 'odoo') return odooCallOf(call.requestBody) ?? call.path;
  return call.path.replace(/^\/api\/v2\/mytpe-pay/, '').replace(/[0-9a-f-]{36}/g, ':id');
}

// ---- the invariants, read from the sandboxes ----------------------------------------------------

function invariantViolations(w: World): string[] {
  const problems: string[] = [];
  const { models } = w.odoo;
  const links = w.mytpe.links();
  const ours = new Set(w.invoiceIds);

  // 1. No invoice has two links.
  const slugs = new Map<string, number>();
  for (const link of links) slugs.set(link.slug, (slugs.get(link.slug) ?? 0) + 1);
  for (const [slug, count] of slugs) if (count > 1) problems.push(`slug ${slug} is used by ${count} links`);
  const linksOf = new Map<number, typeof links>();
  for (const link of links) {
    const invoiceId = Number(link.metadata.invoice_id);
    if (!ours.has(invoiceId)) {
      problems.push(
        `link ${link.slug} names invoice ${link.metadata.invoice_id ?? '(none)'}, not one of ours`,
      );
      continue;
    }
    linksOf.set(invoiceId, [...(linksOf.get(invoiceId) ?? []), link]);
  }
  for (const [invoiceId, list] of linksOf) {
    const live = list.filter((link) => link.status === 'active' || link.payment_status === 'paid');
    if (live.length > 1) {
      problems.push(
        `invoice ${invoiceId} has ${live.length} live links: ${live.map((l) => `${l.slug} (${l.status}/${l.payment_status})`).join(', ')}`,
      );
    }
    // Nothing in this run expires a link or changes an amount, so one link per invoice, ever.
    if (list.length > 1)
      problems.push(`invoice ${invoiceId} has ${list.length} links: ${list.map((l) => l.slug).join(', ')}`);
  }

  // Completed transactions at the gateway, by id.
  const completed = new Map<string, { invoiceId: number; slug: string }>();
  for (const link of links) {
    for (const transaction of w.mytpe.transactions(link.id)) {
      if (transaction.status === 'completed') {
        completed.set(transaction.id, { invoiceId: Number(link.metadata.invoice_id), slug: link.slug });
      }
    }
  }

  // 2. No payment is registered twice.
  const payments = models.payments();
  // Our memos name the gateway: `MyTPE <transaction id>`.
  const transactionOf = (memo: string | false) =>
    typeof memo === 'string' && memo.startsWith('MyTPE ') ? memo.slice('MyTPE '.length) : undefined;
  const fromUs = payments.filter((payment) => completed.has(transactionOf(payment.memo) ?? ''));
  const byMemo = new Map<string, number>();
  for (const payment of fromUs) byMemo.set(String(payment.memo), (byMemo.get(String(payment.memo)) ?? 0) + 1);
  for (const [memo, count] of byMemo)
    if (count > 1) problems.push(`transaction ${memo} is registered ${count} times`);
  const byInvoice = new Map<number, number>();
  for (const payment of fromUs) {
    for (const invoiceId of payment.invoice_ids)
      byInvoice.set(invoiceId, (byInvoice.get(invoiceId) ?? 0) + 1);
  }
  for (const [invoiceId, count] of byInvoice) {
    if (count > 1) problems.push(`invoice ${invoiceId} has ${count} payments registered from MyTPE`);
  }
  const stray = payments.filter((payment) => !fromUs.includes(payment));
  for (const payment of stray) {
    problems.push(
      `account.payment ${payment.id} (memo ${String(payment.memo)}) matches no completed transaction`,
    );
  }

  // 3. Every link paid at the gateway is registered in Odoo (unless the invoice was cancelled).
  for (const [transactionId, { invoiceId, slug }] of completed) {
    if (w.cancelled.has(invoiceId)) continue;
    const registered = models.paymentsByMemo(`MyTPE ${transactionId}`);
    if (registered.length === 0) {
      problems.push(
        `transaction ${transactionId} on ${slug} was paid at MyTPE but is not registered in Odoo`,
      );
      continue;
    }
    if (!registered.some((payment) => payment.invoice_ids.includes(invoiceId))) {
      problems.push(`transaction ${transactionId} is registered, but not on invoice ${invoiceId}`);
    }
    const invoice = models.getInvoice(invoiceId);
    if (invoice.payment_state !== 'paid') {
      problems.push(`invoice ${invoiceId} was paid through ${slug} but is ${invoice.payment_state} in Odoo`);
    }
  }

  // 4. Every posted invoice that was not cancelled carries a link the gateway knows.
  const byId = new Map(links.map((link) => [link.id, link]));
  for (const invoiceId of w.invoiceIds) {
    const invoice = models.getInvoice(invoiceId);
    if (w.cancelled.has(invoiceId)) {
      if (invoice.state !== 'cancel')
        problems.push(`invoice ${invoiceId} was cancelled but is ${invoice.state}`);
      // 5. The daemon followed the cancellation: no link of it can still be paid.
      for (const link of linksOf.get(invoiceId) ?? []) {
        if (link.status === 'active')
          problems.push(`cancelled invoice ${invoiceId} still has active link ${link.slug}`);
      }
      continue;
    }
    const linkId = models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id');
    const url = models.invoiceFieldValue(invoiceId, 'x_mytpe_payment_link');
    const link = typeof linkId === 'string' ? byId.get(linkId) : undefined;
    if (!link) {
      problems.push(
        `invoice ${invoiceId} (${invoice.state}/${invoice.payment_state}) carries link ${JSON.stringify(linkId)}, unknown at MyTPE`,
      );
      continue;
    }
    if (Number(link.metadata.invoice_id) !== invoiceId)
      problems.push(`invoice ${invoiceId} carries link ${link.slug} of invoice ${link.metadata.invoice_id}`);
    if (url !== link.payment_link)
      problems.push(`invoice ${invoiceId} shows URL ${String(url)}, link is ${link.payment_link}`);
    if (invoice.payment_state === 'not_paid' && link.status !== 'active') {
      problems.push(`unpaid invoice ${invoiceId} carries link ${link.slug}, which is ${link.status}`);
    }
  }
  return problems;
}

interface BookRow {
  id: number;
  invoice_id: number;
  invoice_name: string;
  state: string;
  state_reason: string | null;
  last_error: string | null;
  attempts: number;
}

/**
 * The daemon's own books once it is idle (read only, with no daemon running): nothing may be left
 * half-done, and nothing may have been given up on or flagged for a person because of a crash.
 * A refund is owed only on an invoice the test cancelled.
 */
function bookProblems(w: World): string[] {
  const db = new Database(path.join(w.dir, 'paylink.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare<[], BookRow>(
        'SELECT id, invoice_id, invoice_name, state, state_reason, last_error, attempts FROM links ORDER BY id',
      )
      .all();
    const problems: string[] = [];
    for (const row of rows) {
      const settled =
        row.state === 'open' ||
        row.state === 'registered' ||
        row.state === 'closed' ||
        (row.state === 'refund_needed' && w.cancelled.has(row.invoice_id));
      if (!settled) {
        problems.push(
          `link row ${row.id} of ${row.invoice_name} (invoice ${row.invoice_id}) is ${row.state}` +
            ` after ${row.attempts} attempts: ${row.state_reason ?? row.last_error ?? ''}`,
        );
      }
    }
    return problems;
  } finally {
    db.close();
  }
}

/** Rows whose state still owes a side effect; the final daemon runs until there are none. */
function unfinishedWork(w: World): number {
  const file = path.join(w.dir, 'paylink.db');
  if (!existsSync(file)) return Number.POSITIVE_INFINITY;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const row = db
        .prepare<[], { count: number }>(
          "SELECT count(*) AS count FROM links WHERE state IN ('creating', 'writing_back', 'paid', 'closing')",
        )
        .get();
      return row?.count ?? 0;
    } finally {
      db.close();
    }
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function leakedSecrets(w: World): string[] {
  const leaks: string[] = [];
  for (const daemon of w.daemons) {
    const text = `${daemon.stdout}\n${daemon.stderr}`;
    w.secrets.forEach((secret, index) => {
      if (text.includes(secret)) {
        const what = ['the Odoo password', 'the MyTPE API key', 'the MyTPE API secret', 'the webhook secret'][
          index
        ];
        leaks.push(`process #${daemon.index} (${daemon.args[0]}) printed ${what}`);
      }
    });
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
      if (/SANDBOX MODE/.test(record.message)) trouble.push(`process #${daemon.index} entered sandbox mode`);
    }
  }
  return trouble;
}

// ---- scenarios ---------------------------------------------------------------------------------

interface Scenario {
  readonly name: string;
  readonly seedOffset: number;
  readonly kills: number;
  readonly invoices: number;
  /** Chance per round that 1-3 new invoices are posted. */
  readonly newInvoices: number;
  /** Links paid per round, at most (before the start and while it runs). */
  readonly paysBefore: number;
  readonly paysDuring: number;
  /** Share of payment attempts that the bank refuses. */
  readonly failShare: number;
  /** Chance per round that an accountant cancels an unpaid invoice. */
  readonly cancels: number;
  /** Chance per round that MyTPE loses the answer of the next link creation (a network fault). */
  readonly lostCreateAnswers: number;
  readonly effects: readonly string[];
  readonly logTriggers: readonly string[];
  /** Overrides the plan of the first round (a moment only the first start has). */
  readonly firstKill?: Partial<KillPlan>;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'links created, paid and registered while the daemon is killed 30 times',
    seedOffset: 0,
    kills: 30,
    invoices: 40,
    newInvoices: 0.35,
    paysBefore: 3,
    paysDuring: 2,
    failShare: 0.1,
    cancels: 0,
    lostCreateAnswers: 0,
    effects: ['createLink', 'createLink', 'writeBack', 'register', 'register', 'note'],
    logTriggers: ['created', 'shown', 'paid', 'registered', 'webhook'],
    // The first start creates the x_mytpe_* fields in Odoo: die right after the first one.
    firstKill: { mode: 'after-effect', effect: 'createField' },
  },
  {
    name: 'invoices cancelled in Odoo and answers lost while the daemon is killed 30 times',
    seedOffset: 1,
    kills: 30,
    invoices: 30,
    newInvoices: 0.3,
    paysBefore: 2,
    paysDuring: 2,
    failShare: 0.15,
    cancels: 0.4,
    lostCreateAnswers: 0.15,
    effects: ['createLink', 'writeBack', 'register', 'closeLink', 'closeLink', 'note'],
    logTriggers: ['created', 'paid', 'archiving', 'archiving', 'webhook'],
  },
];

interface RoundRecord extends KillRecord {
  readonly exit: ChildExit;
}

async function runScenario(scenario: Scenario): Promise<void> {
  expect(existsSync(CLI), `${CLI} is missing: run "npm run build" first`).toBe(true);
  const seed = (SEED + scenario.seedOffset) >>> 0;
  const rng = new Rng(seed);
  const w = await startWorld(rng, scenario.invoices);
  const rounds: RoundRecord[] = [];
  const unexpected: string[] = [];
  const startedAt = Date.now();

  for (let round = 1; round <= scenario.kills; round++) {
    // Draw everything for the round up front: the sequence of draws is the same on a replay,
    // whatever the timing of the processes.
    const drawn = planKill(rng, scenario.effects, scenario.logTriggers);
    const plan = round === 1 && scenario.firstKill ? { ...drawn, ...scenario.firstKill } : drawn;
    // A plan that waits for an effect sets the scene for it: new invoices for a link creation,
    // a payment for a registration, a cancellation for a link to close.
    const wants = (effect: string) => plan.mode === 'after-effect' && plan.effect === effect;
    const addDraw = rng.chance(scenario.newInvoices);
    const addCount = addDraw || wants('createLink') || wants('writeBack') ? rng.int(1, 3) : 0;
    const payBefore = Array.from(
      { length: Math.max(rng.int(0, scenario.paysBefore), wants('register') ? 1 : 0) },
      () => rng.float(),
    );
    const failBefore = payBefore.map(() => rng.float());
    const payDuring = Array.from({ length: rng.int(0, scenario.paysDuring) }, () => rng.float());
    const failDuring = payDuring.map(() => rng.float());
    const payDuringAt = rng.int(30, 1_500);
    const cancelDraw = rng.chance(scenario.cancels);
    const cancelPick = rng.float();
    const cancel = cancelDraw || wants('closeLink') ? cancelPick : undefined;
    const loseCreate = rng.chance(scenario.lostCreateAnswers);

    addInvoices(w, rng, addCount);
    customerPays(w, payBefore, scenario.failShare, failBefore);
    if (cancel !== undefined) accountantCancels(w, cancel);
    w.mytpe.faults.reset();
    if (loseCreate) w.mytpe.faults.dropResponseAfterCreateNext(1);

    const daemon = spawnDaemon(w, 'run');
    let trigger = '';
    let killedAfter = 0;
    const disarm = arm(w, daemon, plan, (what) => {
      trigger = what;
      killedAfter = Date.now() - daemon.startedAt;
    });
    timers.later(payDuringAt, () => {
      if (daemon.running) customerPays(w, payDuring, scenario.failShare, failDuring);
    });
    // A child that neither dies by itself nor meets its trigger is killed anyway (never hangs the suite).
    const guard = setTimeout(() => daemon.kill('SIGKILL'), 10_000);
    const exit = await daemon.exited;
    clearTimeout(guard);
    disarm();
    w.mytpe.faults.reset();
    rounds.push({ round, mode: plan.mode, trigger, afterMs: killedAfter, exit });
    if (exit.signal !== 'SIGKILL' || daemon.signalled !== 'SIGKILL') {
      unexpected.push(
        `round ${round}: the daemon exited by itself (code ${exit.code}, signal ${exit.signal}); stderr tail:\n${daemon.stderr.slice(-2_000)}`,
      );
    }
  }
  const killPhaseMs = Date.now() - startedAt;

  // Settle: one last daemon runs until the sandboxes show a settled world, then stops cleanly.
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
  // And one `sync` over the settled world: nothing left to do, nothing failed.
  const sync = spawnDaemon(w, 'sync');
  const syncExit = await sync.exited;

  const kills = rounds.filter((round) => round.exit.signal === 'SIGKILL').length;
  const modes = new Map<string, number>();
  for (const round of rounds) modes.set(round.mode, (modes.get(round.mode) ?? 0) + 1);
  const payments = w.mytpe
    .links()
    .flatMap((link) => w.mytpe.transactions(link.id))
    .filter((transaction) => transaction.status === 'completed').length;
  const triggers = new Map<string, number>();
  for (const round of rounds) {
    const label = round.trigger
      .replace(/"[^"]*"/g, '"…"')
      .replace(/\d+/g, '#')
      .replace(/\(fewer than # calls\)|\(no log .*\)|\(no .*\)/, '');
    triggers.set(label, (triggers.get(label) ?? 0) + 1);
  }
  const context = [
    `seed ${seed} (replay: CRASH_SEED=${SEED} npx vitest run test/crash)`,
    `${kills} kills in ${killPhaseMs} ms; modes ${JSON.stringify(Object.fromEntries(modes))}`,
    'kill moments:',
    ...[...triggers].sort((a, b) => b[1] - a[1]).map(([label, count]) => `  ${count}× ${label}`),
    `${w.invoiceIds.length} invoices, ${w.cancelled.size} cancelled, ${w.mytpe.links().length} links, ${payments} paid at MyTPE`,
    'last rounds:',
    ...rounds.slice(-8).map((r) => `  #${r.round} ${r.mode}: ${r.trigger || '(no kill)'} at ${r.afterMs} ms`),
  ].join('\n');
  console.info(`[crash] ${scenario.name}\n${context}`);

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
  expect(leakedSecrets(w), context).toEqual([]);
  expect(bookProblems(w), context).toEqual([]);
  expect(daemonTrouble(w), context).toEqual([]);
}

async function waitUntil(check: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/** The invoice's latest link row, read while a daemon may run (undefined before the store exists). */
function bookRow(w: World, invoiceId: number): BookRow | undefined {
  const file = path.join(w.dir, 'paylink.db');
  if (!existsSync(file)) return undefined;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db
        .prepare<[number], BookRow>(
          'SELECT id, invoice_id, invoice_name, state, state_reason, last_error, attempts FROM links WHERE invoice_id = ? ORDER BY id DESC LIMIT 1',
        )
        .get(invoiceId);
    } finally {
      db.close();
    }
  } catch {
    return undefined; // still being created or migrated
  }
}

describe('crash at a known moment', () => {
  it('a SIGKILL right after MyTPE deleted the link of a cancelled invoice leaves the link closed, not failed', async () => {
    expect(existsSync(CLI), `${CLI} is missing: run "npm run build" first`).toBe(true);
    const w = await startWorld(new Rng(7), 1);
    const invoiceId = w.invoiceIds[0]!;
    const first = spawnDaemon(w, 'run');
    const linked = await waitUntil(() => bookRow(w, invoiceId)?.state === 'open', 15_000);
    expect(linked, first.stderr.slice(-2_000)).toBe(true);

    // The accountant cancels the invoice; the daemon dies the moment MyTPE has deleted the link.
    let killedOn = '';
    w.mytpeTap.hook = (call) => {
      if (call.method !== 'DELETE' || !first.running) return false;
      killedOn = `${call.method} ${call.path} → ${call.status}`;
      first.kill('SIGKILL');
      return true;
    };
    w.odoo.models.cancelInvoice(invoiceId);
    w.cancelled.add(invoiceId);
    const guard = setTimeout(() => first.kill('SIGKILL'), 10_000);
    await first.exited;
    clearTimeout(guard);
    w.mytpeTap.hook = undefined;
    expect(killedOn, 'the daemon deleted the link of the cancelled invoice').toMatch(/^DELETE .* → 200$/);
    expect(w.mytpe.links(), 'the link is gone at MyTPE').toEqual([]);
    expect(bookRow(w, invoiceId)?.state, 'the crash came before the daemon wrote it down').toBe('closing');

    // Restart: the close that already happened must be recognised, not retried into "failed".
    const second = spawnDaemon(w, 'run');
    await waitUntil(() => ['closed', 'failed'].includes(bookRow(w, invoiceId)?.state ?? ''), 15_000);
    second.kill('SIGTERM');
    await second.exited;
    const row = bookRow(w, invoiceId);
    expect(row?.state, `link row after the restart: ${JSON.stringify(row)}`).toBe('closed');
    expect(daemonTrouble(w)).toEqual([]);
  }, 40_000);
});

describe(`crash suite: SIGKILL at random moments (seed ${SEED})`, () => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name} (seed ${(SEED + scenario.seedOffset) >>> 0})`, () => runScenario(scenario), 100_000);
  }
});
