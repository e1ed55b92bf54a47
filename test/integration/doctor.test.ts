import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import type { CheckResult } from '../../src/doctor/check.js';
import {
  configFailure,
  doctorReport,
  formatResult,
  runDoctor,
  startFailures,
  wantsColour,
} from '../../src/doctor/doctor.js';
import { createLogger } from '../../src/log.js';
import { smtpConfigSchema } from '../../src/mail/transport.js';
import { type Stack, type StackOptions, startStack } from '../support/stack.js';

/**
 * `doctor` against the sandboxes: a healthy setup passes every check; then one thing is broken
 * per test and exactly that check's line fails, with its fix.
 */

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const quiet = () => createLogger({ level: 'error', format: 'json', stream: new PassThrough() });

async function healthy(options: StackOptions = {}): Promise<Stack> {
  stack = await startStack(options);
  return stack;
}

async function doctor(config: Config, options: { now?: () => number } = {}): Promise<CheckResult[]> {
  return runDoctor(config, { log: quiet(), ...options });
}

function line(results: readonly CheckResult[], id: string): CheckResult {
  const found = results.find((result) => result.id === id);
  if (!found) throw new Error(`no check ${id} in ${results.map((result) => result.id).join(', ')}`);
  return found;
}

function failed(results: readonly CheckResult[]): string[] {
  return results.filter((result) => result.verdict === 'fail').map((result) => result.id);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function withCompany(config: Config, change: Partial<Config['companies'][number]>): Config {
  return { ...config, companies: [{ ...config.companies[0]!, ...change }] };
}

describe('doctor', () => {
  it('passes every check of a healthy setup and exits 0', async () => {
    const { config, companyId } = await healthy();
    const results = await doctor(config);
    expect(results.filter((result) => result.verdict !== 'ok')).toEqual([]);
    expect(results.map((result) => result.id)).toEqual([
      'config.load',
      'odoo.version',
      'odoo.login',
      'odoo.fields',
      'odoo.views',
      'rights.invoices',
      'rights.payments',
      'rights.email',
      `companies.${companyId}.journal`,
      `gateways.mytpe.${config.companies[0]!.mytpeInstanceId}`,
      `webhooks.mytpe.${config.companies[0]!.mytpeInstanceId}`,
      'store.writable',
      'clock.odoo',
    ]);
    const report = doctorReport(results);
    expect(report.exitCode).toBe(0);
    expect(report.text.split('\n')).toHaveLength(results.length);
    expect(report.text).toMatch(/^✓ Odoo reachable: Odoo 18\.0/m);
    // Not a TTY: no colour codes.
    expect(report.text).not.toContain('\u001b[');
  });

  it('--json prints an array of {id, group, title, verdict, found, fix?}', async () => {
    const { config } = await healthy();
    const broken = { ...config, store: { ...config.store, path: path.join(config.store.path, 'x.db') } };
    const report = doctorReport(await doctor(broken), { json: true });
    expect(report.exitCode).toBe(1);
    const parsed: unknown = JSON.parse(report.text);
    expect(Array.isArray(parsed)).toBe(true);
    for (const entry of parsed as Record<string, unknown>[]) {
      expect(Object.keys(entry).sort()).toEqual(
        entry.verdict === 'ok'
          ? ['found', 'group', 'id', 'title', 'verdict']
          : ['fix', 'found', 'group', 'id', 'title', 'verdict'],
      );
    }
    expect(parsed).toContainEqual(expect.objectContaining({ id: 'store.writable', verdict: 'fail' }));
  });

  it('fails the journal line for a journal that does not exist', async () => {
    const { config, companyId, journalId } = await healthy();
    const results = await doctor(withCompany(config, { journalId: 9999 }));
    const journal = line(results, `companies.${companyId}.journal`);
    expect(journal.verdict).toBe('fail');
    expect(journal.found).toBe(
      `journal 9999 does not exist in company ${companyId} (or this user cannot see it)`,
    );
    expect(journal.fix).toBe(
      `set companies[0].journalId to a bank or cash journal of company ${companyId}, e.g. ${journalId} (Bank)`,
    );
    expect(failed(results)).toEqual([`companies.${companyId}.journal`]);
    expect(formatResult(journal)).toBe(
      `✗ company ${companyId} journal: ${journal.found} — fix: ${journal.fix}`,
    );
  });

  it('fails the journal line for a sale journal', async () => {
    const { config, companyId, journalId, odoo } = await healthy();
    const sale = odoo.models.createJournal({
      name: 'Customer Invoices',
      type: 'sale',
      code: 'XSAL',
      companyId,
    });
    const results = await doctor(withCompany(config, { journalId: sale }));
    const journal = line(results, `companies.${companyId}.journal`);
    expect(journal.verdict).toBe('fail');
    expect(journal.found).toBe(
      `journal ${sale} (Customer Invoices) is a sale journal; payments need a bank or cash journal; journal ${sale} (Customer Invoices) has no incoming payment method (Configuration → Journals → Incoming Payments)`,
    );
    expect(journal.fix).toBe(
      `set companies[0].journalId to a bank or cash journal of company ${companyId}, e.g. ${journalId} (Bank)`,
    );
    expect(failed(results)).toEqual([`companies.${companyId}.journal`]);
  });

  it("fails the journal line for another company's journal", async () => {
    const { config, companyId, journalId, odoo } = await healthy();
    const other = odoo.models.createCompany({ name: 'Other SARL', currency: 'DZD' });
    const theirs = odoo.models.createJournal({
      name: 'Other Bank',
      type: 'bank',
      code: 'OBNK',
      companyId: other,
    });
    odoo.models.setUserCompanies(odoo.bot!.uid, [companyId, other]);
    const results = await doctor(withCompany(config, { journalId: theirs }));
    const journal = line(results, `companies.${companyId}.journal`);
    expect(journal.verdict).toBe('fail');
    expect(journal.found).toMatch(
      new RegExp(
        `^journal ${theirs} (does not exist in company ${companyId}|\\(Other Bank\\) belongs to company Other SARL)`,
      ),
    );
    expect(journal.fix).toBe(
      `set companies[0].journalId to a bank or cash journal of company ${companyId}, e.g. ${journalId} (Bank)`,
    );
  });

  it('fails the gateway line for a MyTPE instance the key does not have', async () => {
    const { config, mytpe } = await healthy();
    const results = await doctor(withCompany(config, { mytpeInstanceId: 'not-our-instance' }));
    const gateway = line(results, 'gateways.mytpe.not-our-instance');
    expect(gateway.verdict).toBe('fail');
    expect(gateway.found).toBe('the API key has no MyTPE Pay instance not-our-instance');
    expect(gateway.fix).toMatch(
      new RegExp(`^set companies\\[0\\]\\.mytpeInstanceId to one of .*${mytpe.instanceId} \\(`),
    );
  });

  it('fails the gateway line for a bad MyTPE API key, naming the keys, never their values', async () => {
    const { config } = await healthy();
    const mytpe = { ...config.gateways.mytpe!, apiKey: 'not-the-key-0123456789' };
    const results = await doctor({ ...config, gateways: { ...config.gateways, mytpe } });
    const gateway = line(results, `gateways.mytpe.${config.companies[0]!.mytpeInstanceId}`);
    expect(gateway.verdict).toBe('fail');
    expect(gateway.fix).toBe(
      'check gateways.mytpe.apiKey and apiSecret (env MYTPE_API_KEY, MYTPE_API_SECRET)',
    );
    expect(JSON.stringify(results)).not.toContain('not-the-key-0123456789');
    expect(failed(results)).toEqual([gateway.id]);
  });

  for (const version of ['16.0', '17.0', '18.0'] as const) {
    it(`fails the bot's email line on ${version} when the bot has none`, async () => {
      const { config } = await healthy({ odoo: { version, bot: { email: false } } });
      const results = await doctor(config);
      const email = line(results, 'rights.email');
      expect(email.verdict).toBe('fail');
      expect(email.found).toBe('paylink-bot has no email: Odoo refuses its chatter notes');
      expect(email.fix).toBe('give paylink-bot an email address (Settings → Users → paylink-bot → Email)');
      expect(failed(results)).toEqual(['rights.email']);
    });
  }

  it('only warns about the bot without email on 19.0, which posts its notes anyway', async () => {
    const { config } = await healthy({ odoo: { version: '19.0', bot: { email: false } } });
    const results = await doctor(config);
    expect(line(results, 'rights.email').verdict).toBe('warn');
    expect(doctorReport(results).exitCode).toBe(0);
  });

  it('fails the rights lines for a bot without the Billing group', async () => {
    const { config, companyId, odoo } = await healthy();
    odoo.models.createUser({
      name: 'Plain employee',
      login: 'plain-bot',
      password: 'plain-pass-123',
      email: 'plain@example.com',
      groups: ['internal'],
      companyIds: [companyId],
    });
    const results = await doctor({
      ...config,
      odoo: { ...config.odoo!, login: 'plain-bot', password: 'plain-pass-123' },
    });
    const fix =
      'give plain-bot the Invoicing / Billing group (Settings → Users → plain-bot → Invoicing: Billing)';
    expect(line(results, 'rights.invoices')).toMatchObject({
      verdict: 'fail',
      found: 'plain-bot may not read account.move, write account.move',
      fix,
    });
    expect(line(results, 'rights.payments')).toMatchObject({ verdict: 'fail', fix });
  });

  it('fails the fields and views lines when setup-odoo was not run', async () => {
    const { config } = await healthy({ skipSetup: true });
    const results = await doctor(config);
    const fields = line(results, 'odoo.fields');
    expect(fields.verdict).toBe('fail');
    expect(fields.found).toMatch(/^account\.move lacks x_mytpe_link_id, x_mytpe_payment_link, /);
    expect(fields.fix).toBe('run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>" once');
    const views = line(results, 'odoo.views');
    expect(views.verdict).toBe('fail');
    expect(views.fix).toBe(
      `run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>" (it installs the invoice's Online payment group, filter and Action menu entries)`,
    );
    expect(failed(results)).toEqual(['odoo.fields', 'odoo.views']);
  });

  it('fails the Odoo credentials line for a refused password, and does not try the rest', async () => {
    const { config } = await healthy();
    const results = await doctor({ ...config, odoo: { ...config.odoo!, password: 'not-the-password' } });
    const login = line(results, 'odoo.login');
    expect(login.verdict).toBe('fail');
    expect(login.fix).toBe(
      'set odoo.login and its password or, better, an API key (env ODOO_PASSWORD or ODOO_API_KEY); the daemon does not retry a refused login',
    );
    expect(line(results, 'odoo.fields').found).toBe('not checked: the Odoo login failed');
    expect(JSON.stringify(results)).not.toContain('not-the-password');
  });

  it('fails the SMTP line for a server on a closed port', async () => {
    const { config } = await healthy();
    const port = await closedPort();
    const smtp = smtpConfigSchema.parse({
      host: '127.0.0.1',
      port,
      from: 'billing@test-sarl.example.com',
      connectionTimeoutMs: 3_000,
    });
    const results = await doctor({ ...config, mail: { ...config.mail, enabled: true, smtp } });
    const check = line(results, 'smtp.verify');
    expect(check.verdict).toBe('fail');
    expect(check.found).toMatch(new RegExp(`^127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(check.fix).toBe('check mail.smtp.host, port, secure and auth.user (password: env SMTP_PASSWORD)');
    expect(failed(results)).toEqual(['smtp.verify']);
  });

  it('fails the webhook line when the secret is missing and webhooks come through the public URL', async () => {
    const { config } = await healthy();
    const port = await closedPort();
    const instance = config.companies[0]!.mytpeInstanceId!;
    const mytpe = { ...config.gateways.mytpe!, webhookSecrets: {} };
    const http = {
      ...config.http,
      port,
      publicUrl: `http://127.0.0.1:${port}`,
      paySecret: 'doctor-pay-secret-0123456789abcdef0123456789',
    };
    const results = await doctor({ ...config, gateways: { ...config.gateways, mytpe }, http });
    const webhook = line(results, `webhooks.mytpe.${instance}`);
    expect(webhook.verdict).toBe('fail');
    expect(webhook.found).toBe(`no webhook secret: its webhooks to http://127.0.0.1:${port} are refused`);
    expect(webhook.fix).toBe(
      `run "odoo-paylink setup-gateway --public-url <https address of this daemon>", or set gateways.mytpe.webhookSecrets.${instance} (or env MYTPE_WEBHOOK_SECRET)`,
    );
    // The public URL leads here (the doctor's stand-in answers on http.port): only the secret fails.
    expect(line(results, 'public-url.reachable').verdict).toBe('ok');
    expect(failed(results)).toEqual([webhook.id]);
  });

  it('fails the webhook line when MyTPE sends webhooks there is no secret for, warns when it sends none', async () => {
    const { config, mytpe } = await healthy();
    const instance = config.companies[0]!.mytpeInstanceId!;
    const noSecret = {
      ...config,
      gateways: { ...config.gateways, mytpe: { ...config.gateways.mytpe!, webhookSecrets: {} } },
    };
    const quietHook = line(await doctor(noSecret), `webhooks.mytpe.${instance}`);
    expect(quietHook.verdict).toBe('warn');
    expect(quietHook.found).toBe(
      'no webhook secret: payments are seen only by the confirm pass, not at once',
    );
    mytpe.setWebhook(instance, 'https://pay.example.com/webhooks/mytpe');
    const results = await doctor(noSecret);
    const webhook = line(results, `webhooks.mytpe.${instance}`);
    expect(webhook.verdict).toBe('fail');
    expect(webhook.found).toBe(
      "no webhook secret: MyTPE sends this instance's webhooks to https://pay.example.com/webhooks/mytpe, which refuses them",
    );
    expect(webhook.fix).toBe(
      `run "odoo-paylink setup-gateway --public-url <https address of this daemon>", or set gateways.mytpe.webhookSecrets.${instance} (or env MYTPE_WEBHOOK_SECRET)`,
    );
    expect(failed(results)).toEqual([webhook.id]);
  });

  it('fails the public URL line when it does not lead to this machine', async () => {
    const { config } = await healthy();
    const [ours, nobody] = [await closedPort(), await closedPort()];
    const http = {
      ...config.http,
      port: ours,
      publicUrl: `http://127.0.0.1:${nobody}`,
      paySecret: 'doctor-pay-secret-0123456789abcdef0123456789',
    };
    const results = await doctor({ ...config, http });
    const publicUrl = line(results, 'public-url.reachable');
    expect(publicUrl.verdict).toBe('fail');
    expect(publicUrl.found).toMatch(
      new RegExp(`^http://127\\.0\\.0\\.1:${nobody} cannot be reached from this machine: .*ECONNREFUSED`),
    );
    expect(publicUrl.fix).toBe(
      `check http.publicUrl, the DNS name and the reverse proxy (forward to http://127.0.0.1:${ours})`,
    );
    expect(failed(results)).toEqual(['public-url.reachable']);
  });

  it('fails the store line when the store cannot be written', async () => {
    const { config, dir } = await healthy();
    const file = path.join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const results = await doctor({
      ...config,
      store: { ...config.store, path: path.join(file, 'paylink.db') },
    });
    const store = line(results, 'store.writable');
    expect(store.verdict).toBe('fail');
    expect(store.found).toMatch(/EEXIST|ENOTDIR/);
    expect(store.fix).toBe(
      `make ${file} a directory the daemon's user can write, or set store.path (env PAYLINK_DB)`,
    );
    expect(failed(results)).toEqual(['store.writable']);
  });

  it("warns when our clock is far from Odoo's", async () => {
    const { config } = await healthy();
    const results = await doctor(config, { now: () => Date.now() - 5 * 60_000 });
    const clock = line(results, 'clock.odoo');
    expect(clock.verdict).toBe('warn');
    expect(clock.found).toMatch(/^Odoo's clock is (29\d|30\d) s ahead of ours$/);
    expect(doctorReport(results).exitCode).toBe(0);
  });

  it('colours the marks only on a TTY without NO_COLOR', () => {
    const result = configFailure('broken');
    expect(wantsColour({ isTTY: true }, {})).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(formatResult(result, { colour: true })).toBe(
      `\u001b[31m✗\u001b[0m ${formatResult(result).slice(2)}`,
    );
  });

  it('prints one ✗ line for a config that does not load', () => {
    const result = configFailure('invalid configuration:\n  - companies.0.journalId: expected number');
    expect(formatResult(result)).toBe(
      '✗ configuration: invalid configuration: - companies.0.journalId: expected number — fix: correct the keys named above in the config file (or their env variables), then run doctor again',
    );
  });
});

describe('the start checks of run', () => {
  it('pass a healthy setup', async () => {
    const { config } = await healthy();
    const app = await stack!.readyApp();
    expect(await startFailures(config, { log: quiet(), odoo: app.odoo })).toEqual([]);
  });

  it("refuse a sale journal with the doctor's line", async () => {
    const { config, companyId, odoo } = await healthy();
    const sale = odoo.models.createJournal({
      name: 'Customer Invoices',
      type: 'sale',
      code: 'XSAL',
      companyId,
    });
    const broken = withCompany(config, { journalId: sale });
    const app = stack!.app({ config: broken });
    const [refusal, ...more] = await startFailures(broken, { log: quiet(), odoo: app.odoo });
    expect(more).toEqual([]);
    expect(refusal).toMatch(
      new RegExp(
        `^✗ company ${companyId} journal: journal ${sale} \\(Customer Invoices\\) is a sale journal; .* — fix: set companies\\[0\\]\\.journalId to a bank or cash journal of company ${companyId}, e\\.g\\. `,
      ),
    );
  });

  it('refuse a missing webhook secret only when webhooks come through a public URL', async () => {
    const { config } = await healthy();
    const app = stack!.app();
    const mytpe = { ...config.gateways.mytpe!, webhookSecrets: {} };
    const noSecret = { ...config, gateways: { ...config.gateways, mytpe } };
    expect(await startFailures(noSecret, { log: quiet(), odoo: app.odoo })).toEqual([]);
    const http = {
      ...config.http,
      publicUrl: 'https://pay.example.com',
      paySecret: 'doctor-pay-secret-0123456789abcdef0123456789',
    };
    const refusals = await startFailures({ ...noSecret, http }, { log: quiet(), odoo: app.odoo });
    expect(refusals).toEqual([
      `✗ mytpe webhook secret of ${config.companies[0]!.mytpeInstanceId}: no webhook secret: its webhooks to https://pay.example.com are refused — fix: run "odoo-paylink setup-gateway --public-url <https address of this daemon>", or set gateways.mytpe.webhookSecrets.${config.companies[0]!.mytpeInstanceId} (or env MYTPE_WEBHOOK_SECRET)`,
    ]);
  });
});
