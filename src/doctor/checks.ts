import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import path from 'node:path';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { accountOf, type CompanyConfig, type Config } from '../config/schema.js';
import { GatewayError } from '../gateways/gateway.js';
import { createMpChatClient } from '../gateways/mpchat/client.js';
import { createMyTpeClient } from '../gateways/mytpe/client.js';
import type { MyTpeInstance } from '../gateways/mytpe/schemas.js';
import { createGateways } from '../gateways/registry.js';
import { createTendoPayClient } from '../gateways/tendopay/client.js';
import { createTiloPayClient } from '../gateways/tilopay/client.js';
import { redactor } from '../log.js';
import { createMailTransport } from '../mail/transport.js';
import { isOdooError } from '../odoo/errors.js';
import { INVOICE_ACTIONS, INVOICE_VIEWS } from '../odoo/invoice-ui.js';
import { journalProblems, missingLinkFields } from '../odoo/setup.js';
import { findXmlid } from '../odoo/xmlids.js';
import { MIGRATIONS } from '../store/migrations.js';
import { type Check, type DoctorContext, fail, type Outcome, ok, warn } from './check.js';

/** Oldest Odoo the daemon is tested against (16.0 to 19.0). */
const OLDEST_MAJOR = 16;
/** Beyond this much drift between Odoo's clock and ours, write_date cursors and signatures suffer. */
export const CLOCK_DRIFT_WARN_MS = 60_000;
const SETUP_ODOO = 'run "odoo-paylink setup-odoo --admin-login <an Odoo administrator>"';

function messageOf(error: unknown): string {
  return redactor.text(error instanceof Error ? error.message : String(error));
}

function companyIdsOf(config: Config): number[] {
  return config.companies.map((company) => company.odooCompanyId);
}

/** Odoo's own message is enough; the fix depends on its kind. */
function odooFailure(error: unknown, config: Config): Outcome {
  const found = messageOf(error);
  if (isOdooError(error, 'access_denied'))
    return fail(
      found,
      'set odoo.login and its password or, better, an API key (env ODOO_PASSWORD or ODOO_API_KEY); the daemon does not retry a refused login',
    );
  if (isOdooError(error, 'unknown_database'))
    return fail(found, `set odoo.db to the name of an existing database on ${config.odoo?.url}`);
  if (isOdooError(error, 'access'))
    return fail(
      found,
      `give ${config.odoo?.login} the Invoicing / Billing group (Settings → Users → ${config.odoo?.login})`,
    );
  return fail(found, `check odoo.url (${config.odoo?.url}) and that Odoo answers from this machine`);
}

const odooChecks: Check[] = [
  {
    id: 'odoo.version',
    group: 'odoo',
    title: 'Odoo reachable',
    cheap: true,
    async run(ctx) {
      const odoo = ctx.odoo!;
      try {
        const version = await odoo.version();
        ctx.facts.odooMajor = version.major;
        const found = `Odoo ${version.serverVersion} at ${ctx.config.odoo!.url} (odoo.protocol ${ctx.config.odoo!.protocol})`;
        if (version.major < OLDEST_MAJOR)
          return fail(found, `odoo-paylink works with Odoo ${OLDEST_MAJOR}.0 to 19.0: upgrade Odoo`);
        return ok(found);
      } catch (error) {
        ctx.facts.odooDown = 'Odoo is not reachable';
        return odooFailure(error, ctx.config);
      }
    },
  },
  {
    id: 'odoo.login',
    group: 'odoo',
    title: 'Odoo credentials',
    cheap: true,
    needsOdoo: true,
    async run(ctx) {
      const { login, db } = ctx.config.odoo!;
      try {
        // Any call logs in first; one every internal user may make, so rights are the next lines' finding.
        await ctx.odoo!.searchCount('res.users', [['login', '=', login]], {
          companyIds: companyIdsOf(ctx.config),
        });
        return ok(`logged in as ${login} on ${db}`);
      } catch (error) {
        ctx.facts.odooDown = 'the Odoo login failed';
        return odooFailure(error, ctx.config);
      }
    },
  },
  {
    id: 'odoo.fields',
    group: 'odoo',
    title: 'fields on account.move',
    cheap: true,
    needsOdoo: true,
    async run(ctx) {
      const missing = await missingLinkFields(ctx.odoo!, companyIdsOf(ctx.config));
      if (missing.length > 0) return fail(`account.move lacks ${missing.join(', ')}`, `${SETUP_ODOO} once`);
      return ok('all x_paylink fields are there');
    },
  },
  {
    id: 'odoo.views',
    group: 'odoo',
    title: 'invoice form, filter and actions',
    needsOdoo: true,
    async run(ctx) {
      const companyIds = companyIdsOf(ctx.config);
      const wanted = [...INVOICE_VIEWS, ...INVOICE_ACTIONS];
      const missing: string[] = [];
      for (const { xmlid } of wanted) {
        if (!(await findXmlid(ctx.odoo!, xmlid, companyIds))) missing.push(`${xmlid.module}.${xmlid.name}`);
      }
      if (missing.length > 0)
        return fail(
          `missing in Odoo: ${missing.join(', ')}`,
          `${SETUP_ODOO} (it installs the invoice's Online payment group, filter and Action menu entries)`,
        );
      return ok(`${INVOICE_VIEWS.length} views and ${INVOICE_ACTIONS.length} actions installed`);
    },
  },
];

const accessSchema = z.boolean();

/** The bot's rights on each model the daemon touches, asked with check_access_rights (16.0 to 19.0). */
function rightsCheck(
  id: string,
  title: string,
  needs: ReadonlyArray<readonly [model: string, operation: 'read' | 'write' | 'create']>,
): Check {
  return {
    id,
    group: 'rights',
    title,
    needsOdoo: true,
    async run(ctx) {
      const lacking: string[] = [];
      for (const [model, operation] of needs) {
        const allowed = await ctx.odoo!.call(model, 'check_access_rights', [operation], accessSchema, {
          companyIds: companyIdsOf(ctx.config),
          kwargs: { raise_exception: false },
        });
        if (!allowed) lacking.push(`${operation} ${model}`);
      }
      const login = ctx.config.odoo!.login;
      if (lacking.length > 0)
        return fail(
          `${login} may not ${lacking.join(', ')}`,
          `give ${login} the Invoicing / Billing group (Settings → Users → ${login} → Invoicing: Billing)`,
        );
      return ok(`${login} may ${needs.map(([model, operation]) => `${operation} ${model}`).join(', ')}`);
    },
  };
}

const usersSchema = z.object({ id: z.number().int(), email: z.union([z.string(), z.literal(false)]) });

const rightsChecks: Check[] = [
  rightsCheck('rights.invoices', 'bot reads and writes invoices', [
    ['account.move', 'read'],
    ['account.move', 'write'],
  ]),
  rightsCheck('rights.payments', 'bot registers payments', [
    ['account.journal', 'read'],
    ['account.payment.register', 'create'],
    ['account.payment', 'create'],
  ]),
  {
    id: 'rights.email',
    group: 'rights',
    title: "bot's email (chatter notes)",
    needsOdoo: true,
    async run(ctx) {
      const login = ctx.config.odoo!.login;
      const [user] = await ctx.odoo!.searchRead('res.users', [['login', '=', login]], usersSchema, {
        companyIds: companyIdsOf(ctx.config),
        fields: ['email'],
        limit: 1,
      });
      if (user?.email) return ok(`${login} has the email ${user.email}`);
      const fix = `give ${login} an email address (Settings → Users → ${login} → Email)`;
      // 16.0 to 18.0 refuse message_post from a user without one (captures 51); 19.0 posts it.
      if ((ctx.facts.odooMajor ?? 0) >= 19)
        return warn(`${login} has no email; its notes go out without a sender`, fix);
      return fail(`${login} has no email: Odoo refuses its chatter notes`, fix);
    },
  },
];

const journalSchema = z.object({ id: z.number().int(), name: z.string(), type: z.string() });

function journalCheck(company: CompanyConfig, index: number): Check {
  return {
    id: `companies.${company.odooCompanyId}.journal`,
    group: 'companies',
    title: `company ${company.odooCompanyId} journal`,
    cheap: true,
    needsOdoo: true,
    async run(ctx) {
      // The currencies the company's gateway charges in, as prepareOdoo checks them.
      const currencies = createGateways(ctx.config).get(company.gateway)?.currencies ?? [];
      const problems = await journalProblems(ctx.odoo!, {
        companyId: company.odooCompanyId,
        journalId: company.journalId,
        currencies,
      });
      if (problems.length === 0) return ok(`journal ${company.journalId} takes the payments`);
      const candidates = await ctx.odoo!.searchRead(
        'account.journal',
        [['type', 'in', ['bank', 'cash']]],
        journalSchema,
        { companyIds: [company.odooCompanyId], fields: ['name', 'type'], limit: 5 },
      );
      const offer =
        candidates.length > 0
          ? `, e.g. ${candidates.map((journal) => `${journal.id} (${journal.name})`).join(', ')}`
          : ' (it has none: add one in Invoicing → Configuration → Journals)';
      return fail(
        problems.join('; '),
        `set companies[${index}].journalId to a bank or cash journal of company ${company.odooCompanyId}${offer}`,
      );
    },
  };
}

/** Credentials by gateway account: one read-only call each that needs them. */
function gatewayCheck(config: Config, company: CompanyConfig, index: number): Check | undefined {
  const account = accountOf(company);
  const base = {
    id: `gateways.${company.gateway}.${account}`,
    group: 'gateways' as const,
    title: `${company.gateway} account ${account}`,
  };
  const refused = (error: unknown, keys: string): Outcome =>
    error instanceof GatewayError && error.kind === 'auth'
      ? fail(messageOf(error), `check ${keys}`)
      : fail(
          messageOf(error),
          `check gateways.${company.gateway}.baseUrl and that it answers from this machine`,
        );
  const { mytpe, tilopay, tendopay, mpchat } = config.gateways;
  if (company.gateway === 'mytpe' && mytpe) {
    return {
      ...base,
      async run(ctx) {
        const client = createMyTpeClient({ ...mytpe, fetch: ctx.fetch });
        const instances: MyTpeInstance[] = [];
        try {
          for (let page = 1; page <= 20; page++) {
            const answer = await client.listInstances({ page, perPage: 100 });
            instances.push(...answer.data.data);
            if (page >= (answer.data.last_page ?? 1)) break;
          }
        } catch (error) {
          return refused(error, 'gateways.mytpe.apiKey and apiSecret (env MYTPE_API_KEY, MYTPE_API_SECRET)');
        }
        const instance = instances.find((candidate) => String(candidate.id) === account);
        const known = instances.map((candidate) => `${candidate.id} (${candidate.name})`).join(', ');
        if (!instance)
          return fail(
            `the API key has no MyTPE Pay instance ${account}`,
            `set companies[${index}].mytpeInstanceId to one of ${known || 'its instances (it has none yet)'}`,
          );
        if (instance.status !== 'active')
          return warn(
            `instance ${account} (${instance.name}) is ${instance.status}: it cannot take payments yet`,
            'wait for MyTPE to activate the instance, or ask MyTPE support',
          );
        return ok(`API key accepted; instance ${account} (${instance.name}) is active`);
      },
    };
  }
  if (company.gateway === 'tilopay' && tilopay) {
    const credentials = tilopay.accounts[account];
    if (!credentials) return undefined;
    return {
      ...base,
      async run(ctx) {
        try {
          await createTiloPayClient({ ...credentials, baseUrl: tilopay.baseUrl, fetch: ctx.fetch }).login();
          return ok('TiloPay accepted the credentials');
        } catch (error) {
          return refused(error, `gateways.tilopay.accounts.${account} (apiKey, apiUser, apiPassword)`);
        }
      },
    };
  }
  if (company.gateway === 'tendopay' && tendopay) {
    const credentials = tendopay.accounts[account];
    if (!credentials) return undefined;
    return {
      ...base,
      async run(ctx) {
        try {
          await createTendoPayClient({
            ...credentials,
            baseUrl: tendopay.baseUrl,
            fetch: ctx.fetch,
          }).accessToken();
          return ok('TendoPay gave an access token');
        } catch (error) {
          return refused(error, `gateways.tendopay.accounts.${account} (clientId, clientSecret)`);
        }
      },
    };
  }
  if (company.gateway === 'mpchat' && mpchat) {
    const credentials = mpchat.accounts[account];
    if (!credentials) return undefined;
    return {
      ...base,
      async run(ctx) {
        try {
          const hooks = await createMpChatClient({
            ...credentials,
            baseUrl: mpchat.baseUrl,
            fetch: ctx.fetch,
          }).listWebhooks();
          return ok(`MPChat accepted the key; ${hooks.length} webhook endpoints`);
        } catch (error) {
          return refused(error, `gateways.mpchat.accounts.${account} (keyId, secret)`);
        }
      },
    };
  }
  return undefined;
}

/** The webhook secret of an account whose gateway signs its webhooks with one (MyTPE, MPChat). */
export function webhookSecretOf(
  config: Config,
  company: CompanyConfig,
  stored: DoctorContext['storedSecrets'],
): { secret: string | undefined; key: string } | undefined {
  const account = accountOf(company);
  if (company.gateway === 'mytpe') {
    const mytpe = config.gateways.mytpe;
    return {
      secret: mytpe?.webhookSecrets[account] ?? mytpe?.webhookSecret ?? stored.mytpe?.[account],
      key: `gateways.mytpe.webhookSecrets.${account} (or env MYTPE_WEBHOOK_SECRET)`,
    };
  }
  if (company.gateway === 'mpchat') {
    return {
      secret: config.gateways.mpchat?.accounts[account]?.webhookSecret ?? stored.mpchat?.[account],
      key: `gateways.mpchat.accounts.${account}.webhookSecret (env MPCHAT_WEBHOOK_SECRET)`,
    };
  }
  return undefined;
}

function webhookCheck(config: Config, company: CompanyConfig): Check | undefined {
  const account = accountOf(company);
  if (!webhookSecretOf(config, company, {})) return undefined;
  return {
    id: `webhooks.${company.gateway}.${account}`,
    group: 'webhooks',
    title: `${company.gateway} webhook secret of ${account}`,
    cheap: true,
    async run(ctx) {
      const { secret, key } = webhookSecretOf(ctx.config, company, ctx.storedSecrets)!;
      if (secret) return ok('present');
      const fix = `run "odoo-paylink setup-gateway --public-url <https address of this daemon>", or set ${key}`;
      if (ctx.config.http.publicUrl)
        return fail(`no webhook secret: its webhooks to ${ctx.config.http.publicUrl} are refused`, fix);
      const mytpe = ctx.config.gateways.mytpe;
      if (company.gateway === 'mytpe' && mytpe && !ctx.atStart) {
        // Pointed at us by an earlier setup-gateway (or by hand): MyTPE sends them, we refuse them.
        const hook = await createMyTpeClient({ ...mytpe, fetch: ctx.fetch })
          .getWebhook(account)
          .then((answer) => answer.data.webhook_url)
          .catch(() => undefined);
        if (hook)
          return fail(
            `no webhook secret: MyTPE sends this instance's webhooks to ${hook}, which refuses them`,
            fix,
          );
      }
      // Without a public address webhooks cannot reach us; the confirm pass still finds payments.
      return warn('no webhook secret: payments are seen only by the confirm pass, not at once', fix);
    },
  };
}

/**
 * The public address leads to this machine: our /healthz is asked through it. When the daemon
 * does not run, a stand-in answers on http.host:port with a token only it knows.
 */
const publicUrlCheck: Check = {
  id: 'public-url.reachable',
  group: 'public-url',
  title: 'public URL reachable',
  async run(ctx) {
    const publicUrl = ctx.config.http.publicUrl!;
    const token = Math.random().toString(36).slice(2);
    const standIn = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ status: 'ok', doctor: token }));
    });
    const listening = await new Promise<boolean>((resolve) => {
      standIn.once('error', () => resolve(false));
      standIn.listen(ctx.config.http.port, ctx.config.http.host, () => resolve(true));
    });
    try {
      const response = await ctx.fetch(`${publicUrl}/healthz`, { signal: AbortSignal.timeout(10_000) });
      const body = await response.text();
      if (!response.ok)
        return fail(
          `${publicUrl}/healthz answered HTTP ${response.status}`,
          `make the reverse proxy forward ${publicUrl} to http://${ctx.config.http.host}:${ctx.config.http.port}`,
        );
      if (listening && !body.includes(token))
        return fail(
          `${publicUrl} answers, but not from this daemon's address http://${ctx.config.http.host}:${ctx.config.http.port}`,
          `make the reverse proxy forward ${publicUrl} to http://${ctx.config.http.host}:${ctx.config.http.port}`,
        );
      return ok(
        `${publicUrl}/healthz answers${listening ? ' from this machine' : ' (the daemon is running)'}`,
      );
    } catch (error) {
      return fail(
        `${publicUrl} cannot be reached from this machine: ${messageOf(error instanceof Error && error.cause ? error.cause : error)}`,
        `check http.publicUrl, the DNS name and the reverse proxy (forward to http://${ctx.config.http.host}:${ctx.config.http.port})`,
      );
    } finally {
      if (listening) await new Promise<void>((resolve) => standIn.close(() => resolve()));
    }
  },
};

const smtpCheck: Check = {
  id: 'smtp.verify',
  group: 'smtp',
  title: 'SMTP server',
  async run(ctx) {
    const smtp = ctx.config.mail.smtp;
    if (!smtp)
      return warn(
        'mail.smtp is not configured: no customer email is sent',
        'set mail.smtp (host, port, from, auth)',
      );
    const transport = ctx.mailTransport ?? createMailTransport(smtp);
    try {
      await transport.verify();
      return ok(`${smtp.host}:${smtp.port} accepts us${smtp.auth ? ` as ${smtp.auth.user}` : ''}`);
    } catch (error) {
      return fail(
        `${smtp.host}:${smtp.port}: ${messageOf(error)}`,
        'check mail.smtp.host, port, secure and auth.user (password: env SMTP_PASSWORD)',
      );
    } finally {
      if (!ctx.mailTransport) transport.close();
    }
  },
};

/** Opens the store without migrating it (a running daemon of another version may own it). */
const storeCheck: Check = {
  id: 'store.writable',
  group: 'store',
  title: 'state store',
  cheap: true,
  async run(ctx) {
    const file = path.resolve(ctx.config.store.path);
    const fix = `make ${path.dirname(file)} a directory the daemon's user can write, or set store.path (env PAYLINK_DB)`;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      accessSync(path.dirname(file), constants.W_OK);
      if (existsSync(file)) {
        if (!statSync(file).isFile()) return fail(`${file} is not a file`, fix);
        accessSync(file, constants.W_OK);
      }
    } catch (error) {
      return fail(`${file}: ${messageOf(error)}`, fix);
    }
    if (!existsSync(file)) return ok(`${file} will be created at the first start`);
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { timeout: 5_000, fileMustExist: true });
      const version = db.pragma('user_version', { simple: true }) as number;
      // Takes the write lock and gives it back: proves the file and its directory are writable.
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      if (version > MIGRATIONS.length)
        return fail(
          `${file} is at schema version ${version}, newer than this odoo-paylink (${MIGRATIONS.length})`,
          'upgrade odoo-paylink to the version that wrote this store',
        );
      if (version < MIGRATIONS.length)
        return ok(
          `${file} is writable; ${MIGRATIONS.length - version} migrations will be applied at the next start`,
        );
      return ok(`${file} is writable, schema version ${version}`);
    } catch (error) {
      return fail(`${file}: ${messageOf(error)}`, fix);
    } finally {
      db?.close();
    }
  },
};

/** Odoo's clock from the Date header of a harmless answer (common.version). */
const clockCheck: Check = {
  id: 'clock.odoo',
  group: 'clock',
  title: "clock against Odoo's",
  needsOdoo: true,
  async run(ctx) {
    const url = `${ctx.config.odoo!.url.replace(/\/+$/, '')}/jsonrpc`;
    const sentAt = ctx.now();
    const response = await ctx.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        method: 'call',
        params: { service: 'common', method: 'version', args: [] },
        id: 1,
      }),
      signal: AbortSignal.timeout(ctx.config.odoo!.timeoutMs),
    });
    await response.text();
    const ours = (sentAt + ctx.now()) / 2;
    const header = response.headers.get('date');
    const theirs = header ? Date.parse(header) : Number.NaN;
    if (Number.isNaN(theirs))
      return warn(
        'Odoo sends no Date header; its clock cannot be compared',
        'keep this machine on NTP (timedatectl)',
      );
    const drift = Math.round((theirs - ours) / 1000);
    // The header has a one-second resolution.
    const found =
      drift === 0
        ? 'within a second of Odoo'
        : `Odoo's clock is ${Math.abs(drift)} s ${drift > 0 ? 'ahead of' : 'behind'} ours`;
    if (Math.abs(theirs - ours) > CLOCK_DRIFT_WARN_MS)
      return warn(found, 'synchronise both machines with NTP (timedatectl set-ntp true)');
    return ok(found);
  },
};

/** Every check for this config, in the order they are printed. */
export function checksFor(config: Config): Check[] {
  if (!config.odoo) return [];
  const checks: Check[] = [...odooChecks, ...rightsChecks];
  for (const [index, company] of config.companies.entries()) checks.push(journalCheck(company, index));
  const seen = new Set<string>();
  const perAccount: Check[] = [];
  const hooks: Check[] = [];
  config.companies.forEach((company, index) => {
    const key = `${company.gateway}:${accountOf(company)}`;
    if (seen.has(key)) return;
    seen.add(key);
    const gateway = gatewayCheck(config, company, index);
    if (gateway) perAccount.push(gateway);
    const hook = webhookCheck(config, company);
    if (hook) hooks.push(hook);
  });
  checks.push(...perAccount, ...hooks);
  if (config.http.publicUrl) checks.push(publicUrlCheck);
  if (config.mail.enabled && config.mail.via === 'smtp') checks.push(smtpCheck);
  checks.push(storeCheck, clockCheck);
  return checks;
}
