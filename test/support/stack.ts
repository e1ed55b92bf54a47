import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type App, createApp } from '../../src/app.js';
import { type Config, configSchema, type GatewayId } from '../../src/config/schema.js';
import { referencePrefixFor } from '../../src/domain/reference.js';
import type { Scheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/log.js';
import type { MailTransport } from '../../src/mail/transport.js';
import { listen } from '../../src/main.js';
import {
  type CustomerChoice,
  type CustomerVisit,
  type GatewaySandboxes,
  visitPayAddress,
} from '../../src/sandbox/customer.js';
import { type MpChatSandbox, startMpChatSandbox } from '../../src/sandbox/mpchat/server.js';
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import {
  type OdooSandbox,
  type OdooSandboxOptions,
  startOdooSandbox,
} from '../../src/sandbox/odoo/server.js';
import { startTendoPaySandbox, type TendoPaySandbox } from '../../src/sandbox/tendopay/server.js';
import { startTiloPaySandbox, type TiloPaySandbox } from '../../src/sandbox/tilopay/server.js';

/**
 * Both sandboxes on loopback, a company with a bank journal, and apps of the real daemon wired to
 * them. Every app of one stack shares the same state database, as restarts of one daemon do.
 */
export interface Stack {
  readonly odoo: OdooSandbox;
  readonly mytpe: MyTpeSandbox;
  /** The company's gateway (StackOptions.gateway) and its sandbox. */
  readonly gateway: GatewayId;
  readonly sandboxes: GatewaySandboxes;
  readonly tilopay?: TiloPaySandbox | undefined;
  readonly tendopay?: TendoPaySandbox | undefined;
  readonly mpchat?: MpChatSandbox | undefined;
  /**
   * A customer opens the invoice's pay address (x_paylink_url, the app must be served) and, on
   * the gateway's page, pays, declines or walks away; then follows the way back to the daemon.
   */
  visit(invoiceId: number, choice?: CustomerChoice): Promise<CustomerVisit>;
  readonly companyId: number;
  readonly journalId: number;
  readonly partnerId: number;
  /** The config of the daemon, which logs in as the Billing-rights bot (never as admin). */
  readonly config: Config;
  /** The emulated Odoo's administrator, for the setup step. */
  readonly admin: { db: string; login: string; password: string };
  /** The reference prefix setup derives from the database's uuid. */
  readonly prefix: string;
  readonly dir: string;
  /** Log records of every app of the stack (JSON lines, parsed). */
  readonly logs: Array<{ level: string; message: string } & Record<string, unknown>>;
  /** Moves the clocks of the Odoo sandbox (write_date) and of the apps forward together. */
  advanceOdooClock(ms: number): void;
  /**
   * A new daemon over the same state database (a restart). With a mailbox, customer emails are
   * on and go there (no PDF, to keep tests fast).
   */
  app(options?: { fetch?: typeof fetch; config?: Partial<Config>; mailbox?: MailTransport }): App;
  /** A daemon as `app` makes it, after its start-up checks of Odoo (prepareOdoo). */
  readyApp(options?: Parameters<Stack['app']>[0]): Promise<App>;
  /** Throws the state database away, as a lost disk or a new server would (close its apps first). */
  loseStore(): void;
  createInvoices(count: number, amount?: string): number[];
  /**
   * Serves the app's webhook endpoint and points the MyTPE sandbox at it. Events are processed
   * as the daemon does (at once, never two runs at a time) unless `process` is false.
   */
  serve(app: App, options?: { process?: boolean }): Promise<{ url: string; idle(): Promise<void> }>;
  close(): Promise<void>;
}

export const WEBHOOK_SECRET = 'whsec_0123456789abcdef0123456789abcdef0123456789abcdef';

export interface StackOptions {
  odoo?: OdooSandboxOptions;
  /** Another stack's MyTPE sandbox, shared (MyTPE slugs are global across merchants). */
  mytpe?: MyTpeSandbox;
  config?: Partial<Config>;
  /** Reads happen with these settings; the defaults make retries due immediately. */
  pipeline?: Partial<Config['pipeline']>;
  /** Skip the admin's setup step (fields, database identity) that a stack runs by default. */
  skipSetup?: boolean;
  /**
   * The company's gateway, default mytpe. The others get a company in their currency (CRC, PHP,
   * USD), their sandbox, and a public address on a loopback port chosen now (they need one).
   */
  gateway?: GatewayId;
}

const CURRENCY_OF: Record<GatewayId, string> = {
  mytpe: 'DZD',
  tilopay: 'CRC',
  tendopay: 'PHP',
  mpchat: 'USD',
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  let offsetMs = 0;
  // Every read moves at least a millisecond, so the tests' 1 ms backoff has always elapsed by
  // the next pass, however fast the machine (two passes within one millisecond skipped a retry).
  let lastRead = 0;
  const appClock = (): number => {
    lastRead = Math.max(Date.now() + offsetMs, lastRead + 1);
    return lastRead;
  };
  const odoo = await startOdooSandbox({
    now: () => new Date(Date.now() + offsetMs),
    bot: {},
    ...options.odoo,
  });
  const bot = odoo.bot;
  if (!bot) throw new Error('the stack needs the sandbox bot user');
  const mytpe = options.mytpe ?? (await startMyTpeSandbox());
  const gateway = options.gateway ?? 'mytpe';
  const sandboxNow = () => new Date(Date.now() + offsetMs);
  const tilopay = gateway === 'tilopay' ? await startTiloPaySandbox({ now: sandboxNow }) : undefined;
  const tendopay = gateway === 'tendopay' ? await startTendoPaySandbox({ now: sandboxNow }) : undefined;
  const mpchat = gateway === 'mpchat' ? await startMpChatSandbox({ now: sandboxNow }) : undefined;
  const sandboxes: GatewaySandboxes = { mytpe, tilopay, tendopay, mpchat };
  const companyId = odoo.models.createCompany({
    name: 'Test SARL',
    currency: CURRENCY_OF[gateway],
    email: 'billing@test-sarl.example.com',
  });
  const journalId = odoo.models.createJournal({ name: 'Bank', type: 'bank', code: 'TBNK', companyId });
  // As an admin would: the bot works in the company it serves.
  odoo.models.setUserCompanies(bot.uid, [companyId]);
  const partnerId = odoo.models.createPartner({
    name: 'Customer One',
    email: 'one@example.com',
    lang: 'fr_FR',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'paylink-it-'));
  const logs: Stack['logs'] = [];
  const config = configSchema.parse({
    odoo: { url: odoo.url, db: odoo.db, login: bot.login, password: bot.password, timeoutMs: 5_000 },
    companies: [
      gateway === 'mytpe'
        ? { odooCompanyId: companyId, journalId, gateway, mytpeInstanceId: mytpe.instanceId }
        : { odooCompanyId: companyId, journalId, gateway },
    ],
    gateways: {
      mytpe: {
        baseUrl: `${mytpe.url}/api/v2/mytpe-pay`,
        apiKey: mytpe.apiKey,
        apiSecret: mytpe.apiSecret,
        webhookSecrets: { [mytpe.instanceId]: WEBHOOK_SECRET },
        timeoutMs: 5_000,
      },
      ...(tilopay
        ? {
            tilopay: {
              baseUrl: tilopay.apiBaseUrl,
              accounts: { default: tilopay.credentials },
              timeoutMs: 5_000,
            },
          }
        : {}),
      ...(tendopay
        ? {
            tendopay: {
              baseUrl: tendopay.url,
              accounts: { default: { clientId: tendopay.clientId, clientSecret: tendopay.clientSecret } },
              timeoutMs: 5_000,
            },
          }
        : {}),
      ...(mpchat
        ? {
            mpchat: {
              baseUrl: mpchat.url,
              accounts: {
                default: { keyId: mpchat.keyId, secret: mpchat.secret, webhookSecret: mpchat.webhookSecret },
              },
              timeoutMs: 5_000,
            },
          }
        : {}),
    },
    // No admin interface (/metrics) unless a test asks: many apps run side by side.
    ...(gateway === 'mytpe'
      ? { http: { adminPort: 0 } }
      : {
          http: await (async () => {
            const port = await freePort();
            return {
              adminPort: 0,
              port,
              publicUrl: `http://127.0.0.1:${port}`,
              paySecret: 'stack-pay-secret-0123456789abcdef0123456789',
            };
          })(),
        }),
    store: { path: path.join(dir, 'paylink.db') },
    pipeline: { backoffBaseMs: 1, backoffMaxMs: 1, leaseMs: 60_000, ...options.pipeline },
    mail: { enabled: false },
    log: { level: 'debug', format: 'json' },
    ...options.config,
  });
  const apps: App[] = [];
  const servers: FastifyInstance[] = [];
  const admin = { db: odoo.db, login: odoo.login, password: odoo.password };
  const prefix = referencePrefixFor(odoo.db, String(odoo.models.configParam('database.uuid')));
  const stack: Stack = {
    odoo,
    mytpe,
    gateway,
    sandboxes,
    tilopay,
    tendopay,
    mpchat,
    visit(invoiceId, choice = 'pay') {
      const address = odoo.models.invoiceFieldValue(invoiceId, 'x_paylink_url');
      if (typeof address !== 'string' || !address.includes('/pay/'))
        throw new Error(
          `invoice ${invoiceId} has no pay address (x_paylink_url is ${JSON.stringify(address)})`,
        );
      return visitPayAddress(address, sandboxes, choice);
    },
    companyId,
    journalId,
    partnerId,
    config,
    admin,
    prefix,
    dir,
    logs,
    advanceOdooClock(ms) {
      offsetMs += ms;
    },
    app(appOptions = {}) {
      const stream = new PassThrough();
      stream.on('data', (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line.trim()) logs.push(JSON.parse(line));
      });
      const log = createLogger({ level: 'debug', format: 'json', stream });
      const mail = appOptions.mailbox
        ? { mail: { ...config.mail, enabled: true, attachPdf: false, ...appOptions.config?.mail } }
        : {};
      const app = createApp({ ...config, ...appOptions.config, ...mail }, log, {
        now: appClock,
        ...(appOptions.fetch ? { fetch: appOptions.fetch } : {}),
        ...(appOptions.mailbox ? { mailTransport: appOptions.mailbox } : {}),
      });
      apps.push(app);
      return app;
    },
    async readyApp(appOptions) {
      const app = this.app(appOptions);
      await app.prepareOdoo();
      return app;
    },
    createInvoices(count, amount = '1500.00') {
      const ids: number[] = [];
      for (let index = 0; index < count; index++) {
        ids.push(odoo.models.createInvoice({ partnerId, companyId, amount }));
      }
      return ids;
    },
    loseStore() {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${config.store.path}${suffix}`, { force: true });
    },
    async serve(app, serveOptions = {}) {
      let running: Promise<unknown> = Promise.resolve();
      const trigger: Pick<Scheduler, 'trigger'> = {
        trigger: (job) => {
          if (serveOptions.process === false) return Promise.resolve();
          running = running.then(() => job.run()).catch(() => undefined);
          return running.then(() => undefined);
        },
      };
      // The public address names one port: a new app takes it over from the previous one.
      if (gateway !== 'mytpe') for (const previous of servers.splice(0)) await previous.close();
      const { server, url } = await listen(app, trigger);
      servers.push(server);
      mytpe.setWebhook(mytpe.instanceId, `${url}/webhooks/mytpe`, WEBHOOK_SECRET);
      tilopay?.setWebhookUrl(`${url}/webhooks/tilopay`);
      tendopay?.setNotificationUrl(`${url}/webhooks/tendopay`);
      mpchat?.setWebhookUrl(`${url}/webhooks/mpchat`);
      return {
        url,
        async idle() {
          await mytpe.flushWebhooks();
          await tendopay?.flushNotifications();
          await mpchat?.flushWebhooks();
          await running;
        },
      };
    },
    async close() {
      for (const server of servers) await server.close();
      for (const app of apps) app.close();
      if (!options.mytpe) await mytpe.close();
      await tilopay?.close();
      await tendopay?.close();
      await mpchat?.close();
      await odoo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!options.skipSetup) {
    // What an admin does once: the fields on account.move and the database identity in the store.
    const setup = stack.app();
    await setup.setupOdoo(admin);
    setup.close();
  }
  return stack;
}

/** Runs publish then confirm until nothing changes (a few passes at most). */
export async function settle(app: App, passes = 4): Promise<void> {
  for (let pass = 0; pass < passes; pass++) {
    await app.pipeline.publish();
    await app.pipeline.confirm();
  }
}
