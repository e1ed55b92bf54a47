import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type App, createApp } from '../../src/app.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import type { Scheduler } from '../../src/jobs/scheduler.js';
import { createLogger } from '../../src/log.js';
import { listen } from '../../src/main.js';
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import {
  type OdooSandbox,
  type OdooSandboxOptions,
  startOdooSandbox,
} from '../../src/sandbox/odoo/server.js';

/**
 * Both sandboxes on loopback, a company with a bank journal, and apps of the real daemon wired to
 * them. Every app of one stack shares the same state database, as restarts of one daemon do.
 */
export interface Stack {
  readonly odoo: OdooSandbox;
  readonly mytpe: MyTpeSandbox;
  readonly companyId: number;
  readonly journalId: number;
  readonly partnerId: number;
  readonly config: Config;
  readonly dir: string;
  /** Log records of every app of the stack (JSON lines, parsed). */
  readonly logs: Array<{ level: string; message: string } & Record<string, unknown>>;
  /** Moves the clocks of the Odoo sandbox (write_date) and of the apps forward together. */
  advanceOdooClock(ms: number): void;
  /** A new daemon over the same state database (a restart). */
  app(options?: { fetch?: typeof fetch; config?: Partial<Config> }): App;
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
  config?: Partial<Config>;
  /** Reads happen with these settings; the defaults make retries due immediately. */
  pipeline?: Partial<Config['pipeline']>;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  let offsetMs = 0;
  const odoo = await startOdooSandbox({ now: () => new Date(Date.now() + offsetMs), ...options.odoo });
  const mytpe = await startMyTpeSandbox();
  const companyId = odoo.models.createCompany({
    name: 'Test SARL',
    currency: 'DZD',
    email: 'billing@test-sarl.example.com',
  });
  const journalId = odoo.models.createJournal({ name: 'Bank', type: 'bank', code: 'TBNK', companyId });
  const partnerId = odoo.models.createPartner({
    name: 'Customer One',
    email: 'one@example.com',
    lang: 'fr_FR',
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'paylink-it-'));
  const logs: Stack['logs'] = [];
  const config = configSchema.parse({
    odoo: { url: odoo.url, db: odoo.db, login: odoo.login, password: odoo.password, timeoutMs: 5_000 },
    companies: [{ odooCompanyId: companyId, journalId, gateway: 'mytpe', mytpeInstanceId: mytpe.instanceId }],
    gateways: {
      mytpe: {
        baseUrl: `${mytpe.url}/api/v2/mytpe-pay`,
        apiKey: mytpe.apiKey,
        apiSecret: mytpe.apiSecret,
        webhookSecret: WEBHOOK_SECRET,
        timeoutMs: 5_000,
      },
    },
    store: { path: path.join(dir, 'paylink.db') },
    pipeline: { backoffBaseMs: 1, backoffMaxMs: 1, leaseMs: 60_000, ...options.pipeline },
    mail: { enabled: false },
    log: { level: 'debug', format: 'json' },
    ...options.config,
  });
  const apps: App[] = [];
  const servers: FastifyInstance[] = [];
  return {
    odoo,
    mytpe,
    companyId,
    journalId,
    partnerId,
    config,
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
      const app = createApp({ ...config, ...appOptions.config }, log, {
        now: () => Date.now() + offsetMs,
        ...(appOptions.fetch ? { fetch: appOptions.fetch } : {}),
      });
      apps.push(app);
      return app;
    },
    createInvoices(count, amount = '1500.00') {
      const ids: number[] = [];
      for (let index = 0; index < count; index++) {
        ids.push(odoo.models.createInvoice({ partnerId, companyId, amount }));
      }
      return ids;
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
      const { server, url } = await listen(app, trigger);
      servers.push(server);
      mytpe.setWebhook(mytpe.instanceId, `${url}/webhooks/mytpe`, WEBHOOK_SECRET);
      return {
        url,
        async idle() {
          await mytpe.flushWebhooks();
          await running;
        },
      };
    },
    async close() {
      for (const server of servers) await server.close();
      for (const app of apps) app.close();
      await mytpe.close();
      await odoo.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Runs publish then confirm until nothing changes (a few passes at most). */
export async function settle(app: App, passes = 4): Promise<void> {
  for (let pass = 0; pass < passes; pass++) {
    await app.pipeline.publish();
    await app.pipeline.confirm();
  }
}
