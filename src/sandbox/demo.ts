import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import { type MyTpeSandbox, startMyTpeSandbox } from './mytpe/server.js';
import { startOdooSandbox } from './odoo/server.js';
import { captureSmtpConfig, startSmtpCapture } from './smtp/capture.js';

/**
 * Sandbox mode: the no-config default. Starts the Odoo emulator (seeded with a DZD company,
 * a bank journal, partners and posted invoices), the MyTPE sandbox and an SMTP capture on
 * loopback, points the configuration at them, and plays a customer who pays most links a few
 * seconds after they appear.
 */
export interface SandboxEnvironment {
  readonly config: Config;
  /** The emulated Odoo's administrator, who runs the setup step the daemon's own user may not. */
  readonly admin: { db: string; login: string; password: string };
  readonly odooUrl: string;
  readonly mytpe: MyTpeSandbox;
  readonly mailDir: string;
  /** Points the MyTPE instance's webhooks at the daemon once its HTTP server listens. */
  connectWebhooks(daemonUrl: string): void;
  close(): Promise<void>;
}

export async function startSandboxEnvironment(base: Config, log: Logger): Promise<SandboxEnvironment> {
  const workDir = mkdtempSync(path.join(tmpdir(), 'odoo-paylink-sandbox-'));
  const odoo = await startOdooSandbox({ version: '18.0' });
  const seeded = odoo.models.seedDemo({ invoices: base.sandbox.invoices });
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
    companyIds: [seeded.companyId],
  });
  const mytpe = await startMyTpeSandbox({ instances: [{ name: 'Sandbox SARL' }] });
  const mailDir = path.join(workDir, 'mail');
  const smtp = await startSmtpCapture({ dir: mailDir });
  const webhookSecret = `whsec_${randomBytes(24).toString('hex')}`;
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
      allowNeutralized: false,
    },
    companies: [
      {
        odooCompanyId: seeded.companyId,
        journalId: seeded.bankJournalId,
        gateway: 'mytpe',
        mytpeInstanceId: mytpe.instanceId,
      },
    ],
    gateways: {
      mytpe: {
        baseUrl: `${mytpe.url}/api/v2/mytpe-pay`,
        apiKey: mytpe.apiKey,
        apiSecret: mytpe.apiSecret,
        webhookSecrets: { [mytpe.instanceId]: webhookSecret },
        timeoutMs: 10_000,
      },
    },
    store: { ...base.store, path: path.join(workDir, 'paylink.db') },
    // A free port: several sandboxes (tests, a second terminal) may run side by side.
    http: { ...base.http, port: 0 },
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
  const customer = simulateCustomer(mytpe, base.sandbox, log);
  log.warn(
    'SANDBOX MODE: no Odoo is configured, so odoo-paylink runs against built-in sandboxes on loopback',
    {
      odoo: odoo.url,
      mytpe: mytpe.url,
      invoices: seeded.invoiceIds.length,
    },
  );
  log.warn(
    `SANDBOX MODE: customer emails are written as .eml files to ${mailDir}; payment pages open at ${mytpe.url}/pay/<slug>`,
  );
  return {
    config,
    admin: { db: odoo.db, login: odoo.login, password: odoo.password },
    odooUrl: odoo.url,
    mytpe,
    mailDir,
    connectWebhooks(daemonUrl) {
      mytpe.setWebhook(mytpe.instanceId, `${daemonUrl}/webhooks/mytpe`, webhookSecret);
    },
    async close() {
      clearInterval(customer);
      await mytpe.close();
      await smtp.close();
      await odoo.close();
    },
  };
}

/** Pays a share of new links after a delay, deterministically by slug so a run is reproducible. */
function simulateCustomer(mytpe: MyTpeSandbox, settings: Config['sandbox'], log: Logger): NodeJS.Timeout {
  const firstSeen = new Map<string, number>();
  const decided = new Set<string>();
  const timer = setInterval(() => {
    for (const link of mytpe.links()) {
      if (decided.has(link.id)) continue;
      const seen = firstSeen.get(link.id) ?? Date.now();
      firstSeen.set(link.id, seen);
      if (Date.now() - seen < settings.payAfterSeconds * 1000) continue;
      decided.add(link.id);
      if (shareOf(link.slug) >= settings.payShare) continue;
      try {
        mytpe.pay(link.id);
        log.info(`SANDBOX: a customer paid link ${link.slug}`);
      } catch (error) {
        log.debug(`SANDBOX: could not pay link ${link.slug}: ${(error as Error).message}`);
      }
    }
  }, 1000);
  timer.unref();
  return timer;
}

function shareOf(text: string): number {
  let hash = 2166136261;
  for (const char of text) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  return (hash % 1000) / 1000;
}
