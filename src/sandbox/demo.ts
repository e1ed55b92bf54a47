import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { type GatewaySandboxes, visitPayAddress } from './customer.js';
import { startMpChatSandbox } from './mpchat/server.js';
import { type MyTpeSandbox, startMyTpeSandbox } from './mytpe/server.js';
import { type OdooSandbox, startOdooSandbox } from './odoo/server.js';
import { captureSmtpConfig, startSmtpCapture } from './smtp/capture.js';
import { startTendoPaySandbox } from './tendopay/server.js';
import { startTiloPaySandbox } from './tilopay/server.js';

/**
 * Sandbox mode: the no-config default. Starts the Odoo emulator (seeded with four companies, one
 * per gateway: DZD on MyTPE, CRC on TiloPay, PHP on TendoPay, USD on MPChat, each with a bank
 * journal and posted invoices), the four gateway sandboxes and an SMTP capture on loopback,
 * points the configuration at them, and plays customers who pay most invoices a few seconds
 * after their pay address appears.
 */
export interface SandboxEnvironment {
  readonly config: Config;
  /** The emulated Odoo's administrator, who runs the setup step the daemon's own user may not. */
  readonly admin: { db: string; login: string; password: string };
  readonly odooUrl: string;
  readonly mytpe: MyTpeSandbox;
  readonly sandboxes: GatewaySandboxes;
  readonly mailDir: string;
  /** Points every gateway's webhooks at the daemon once its HTTP server listens. */
  connectWebhooks(daemonUrl: string): void;
  close(): Promise<void>;
}

/** One demo company per gateway, in the currency that gateway charges. */
interface DemoCompany {
  readonly gateway: 'tilopay' | 'tendopay' | 'mpchat';
  readonly name: string;
  readonly currency: string;
  readonly email: string;
  readonly amounts: readonly string[];
}

const DEMO_COMPANIES: readonly DemoCompany[] = [
  {
    gateway: 'tilopay',
    name: 'Sandbox Costa Rica S.A.',
    currency: 'CRC',
    email: 'cobros@sandbox-cr.example.com',
    amounts: ['25000.00', '118450.50'],
  },
  {
    gateway: 'tendopay',
    name: 'Sandbox Philippines Inc.',
    currency: 'PHP',
    email: 'billing@sandbox-ph.example.com',
    amounts: ['4500.00', '12999.00'],
  },
  {
    gateway: 'mpchat',
    name: 'Sandbox Digital LLC',
    currency: 'USD',
    email: 'billing@sandbox-usdt.example.com',
    amounts: ['250.00', '1200.75'],
  },
];

/** A port free now on the host, so the public address is known before the app is built. */
async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port on loopback');
  return address.port;
}

export async function startSandboxEnvironment(base: Config, log: Logger): Promise<SandboxEnvironment> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'odoo-paylink-sandbox-'));
  const odoo = await startOdooSandbox({ version: '18.0' });
  const seeded = odoo.models.seedDemo({ invoices: base.sandbox.invoices });
  const today = new Date().toISOString().slice(0, 10);
  const others = DEMO_COMPANIES.map((demo, index) => {
    const companyId = odoo.models.createCompany({
      name: demo.name,
      currency: demo.currency,
      email: demo.email,
    });
    const journalId = odoo.models.createJournal({
      name: 'Bank',
      type: 'bank',
      code: `BNK${index + 2}`,
      companyId,
    });
    const invoiceIds = demo.amounts.map((amount, n) =>
      odoo.models.createInvoice({
        partnerId: seeded.partnerIds[n % seeded.partnerIds.length] ?? 0,
        companyId,
        amount,
        date: today,
      }),
    );
    return { ...demo, companyId, journalId, invoiceIds };
  });
  // The daemon acts as a dedicated Billing-rights user, as in production; the emulated admin
  // only runs the setup step.
  const bot = {
    login: 'paylink-bot',
    password: `bot-${randomBytes(12).toString('hex')}`,
  };
  odoo.models.createUser({
    name: 'Paylink Bot',
    ...bot,
    email: 'paylink-bot@sandbox.example.com',
    groups: ['billing'],
    companyIds: [seeded.companyId, ...others.map((company) => company.companyId)],
  });
  const [mytpe, tilopay, tendopay, mpchat] = await Promise.all([
    startMyTpeSandbox({ instances: [{ name: 'Sandbox SARL' }] }),
    startTiloPaySandbox(),
    startTendoPaySandbox(),
    startMpChatSandbox(),
  ]);
  const sandboxes: GatewaySandboxes = { mytpe, tilopay, tendopay, mpchat };
  const mailDir = path.join(workDir, 'mail');
  const smtp = await startSmtpCapture({ dir: mailDir });
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
  // TiloPay, TendoPay and MPChat send the customer back, so the daemon needs an address before
  // it starts: a free loopback port, and a pay secret of this run's own.
  const host = '127.0.0.1';
  const port = await freePort(host);
  const publicUrl = `http://${host}:${port}`;
  const config: Config = {
    ...base,
    odoo: {
      url: odoo.url,
      db: odoo.db,
      login: bot.login,
      password: bot.password,
      protocol: 'jsonrpc',
      timeoutMs: 10_000,
      createFields: false,
      activities: true,
      allowNeutralized: false,
    },
    companies: [
      {
        odooCompanyId: seeded.companyId,
        journalId: seeded.bankJournalId,
        gateway: 'mytpe',
        mytpeInstanceId: mytpe.instanceId,
      },
      ...others.map((company) => ({
        odooCompanyId: company.companyId,
        journalId: company.journalId,
        gateway: company.gateway,
        account: 'default',
      })),
    ],
    gateways: {
      mytpe: {
        baseUrl: `${mytpe.url}/api/v2/mytpe-pay`,
        apiKey: mytpe.apiKey,
        apiSecret: mytpe.apiSecret,
        webhookSecrets: { [mytpe.instanceId]: webhookSecret },
        timeoutMs: 10_000,
      },
      tilopay: {
        baseUrl: tilopay.apiBaseUrl,
        accounts: { default: tilopay.credentials },
        currencies: ['CRC', 'USD'],
        orderTtlMinutes: 120,
        timeoutMs: 10_000,
      },
      tendopay: {
        baseUrl: tendopay.url,
        accounts: { default: { clientId: tendopay.clientId, clientSecret: tendopay.clientSecret } },
        orderTtlHours: 24,
        centavos: 'decimal_string',
        timeoutMs: 10_000,
      },
      mpchat: {
        baseUrl: mpchat.url,
        accounts: {
          default: { keyId: mpchat.keyId, secret: mpchat.secret, webhookSecret: mpchat.webhookSecret },
        },
        network: 'TRC20',
        tolerancePercent: '0.01',
        overpayment: 'settle',
        usdtPerUsd: '1',
        invoiceCurrencies: ['USD'],
        webhookSigning: { layout: 'timestamp.body', keyEncoding: 'utf8', toleranceSeconds: 300 },
        timeoutMs: 10_000,
      },
    },
    store: { ...base.store, path: path.join(workDir, 'paylink.db') },
    http: { ...base.http, host, port, publicUrl, paySecret: randomBytes(32).toString('hex') },
    mail: {
      ...base.mail,
      enabled: true,
      smtp: captureSmtpConfig(smtp, '"Sandbox SARL" <billing@sandbox.example.com>'),
    },
    // The seeded invoices are dated up to ten days back: all of them are in scope here.
    publish: { ...base.publish, since: new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10) },
    // Faster passes than production so a newcomer sees the whole cycle within a minute.
    schedule: { ...base.schedule, publish: '*/10 * * * * *', confirm: '*/15 * * * * *' },
  };
  const invoiceIds = [...seeded.invoiceIds, ...others.flatMap((company) => company.invoiceIds)];
  // Each company's first invoice is paid whatever the share: a newcomer sees every gateway work.
  const firsts = new Set(
    [seeded.invoiceIds[0], ...others.map((company) => company.invoiceIds[0])].filter(
      (id): id is number => id !== undefined,
    ),
  );
  const customer = simulateCustomers(odoo, invoiceIds, firsts, sandboxes, base.sandbox, log);
  log.warn(
    'SANDBOX MODE: no Odoo is configured, so odoo-paylink runs against built-in sandboxes on loopback',
    {
      odoo: odoo.url,
      mytpe: mytpe.url,
      tilopay: tilopay.url,
      tendopay: tendopay.url,
      mpchat: mpchat.url,
      invoices: invoiceIds.length,
      companies: `${seeded.companyId} MyTPE (DZD), ${others.map((c) => `${c.companyId} ${c.gateway} (${c.currency})`).join(', ')}`,
    },
  );
  log.warn(
    `SANDBOX MODE: customer emails are written as .eml files to ${mailDir}; each invoice's pay address is ${publicUrl}/pay/<token> (the x_paylink_url field)`,
  );
  return {
    config,
    admin: { db: odoo.db, login: odoo.login, password: odoo.password },
    odooUrl: odoo.url,
    mytpe,
    sandboxes,
    mailDir,
    connectWebhooks(daemonUrl) {
      mytpe.setWebhook(mytpe.instanceId, `${daemonUrl}/webhooks/mytpe`, webhookSecret);
      tilopay.setWebhookUrl(`${daemonUrl}/webhooks/tilopay`);
      tendopay.setNotificationUrl(`${daemonUrl}/webhooks/tendopay`);
      mpchat.setWebhookUrl(`${daemonUrl}/webhooks/mpchat`);
    },
    async close() {
      clearInterval(customer);
      await Promise.all([mytpe.close(), tilopay.close(), tendopay.close(), mpchat.close()]);
      await smtp.close();
      await odoo.close();
    },
  };
}

/**
 * Customers who open their invoice's pay address a few seconds after it appears on the invoice
 * and pay a share of them, through the pay page, the gateway's page and the way back, as a
 * browser would; deterministic by invoice so a run is reproducible.
 */
function simulateCustomers(
  odoo: OdooSandbox,
  invoiceIds: readonly number[],
  alwaysPaid: ReadonlySet<number>,
  sandboxes: GatewaySandboxes,
  settings: Config['sandbox'],
  log: Logger,
): NodeJS.Timeout {
  const firstSeen = new Map<number, number>();
  const decided = new Set<number>();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      // Until setup created the field, no invoice has a pay address yet.
      if (!odoo.models.hasField('account.move', 'x_paylink_url')) return;
      for (const invoiceId of invoiceIds) {
        if (decided.has(invoiceId)) continue;
        const address = odoo.models.invoiceFieldValue(invoiceId, 'x_paylink_url');
        if (typeof address !== 'string' || address === '') continue;
        const seen = firstSeen.get(invoiceId) ?? Date.now();
        firstSeen.set(invoiceId, seen);
        if (Date.now() - seen < settings.payAfterSeconds * 1000) continue;
        decided.add(invoiceId);
        const name = odoo.models.getInvoice(invoiceId).name;
        if (!alwaysPaid.has(invoiceId) && shareOf(`${invoiceId}:${name}`) >= settings.payShare) continue;
        try {
          const visit = await visitPayAddress(address, sandboxes, 'pay');
          log.info(`SANDBOX: a customer paid invoice ${name} on ${visit.gateway ?? 'no gateway'}`);
        } catch (error) {
          log.debug(`SANDBOX: could not pay invoice ${name}: ${(error as Error).message}`);
        }
      }
    })().finally(() => {
      busy = false;
    });
  }, 1000);
  timer.unref();
  return timer;
}

function shareOf(text: string): number {
  let hash = 2166136261;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return (hash % 1000) / 1000;
}
