import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, unknownKeys } from './load.js';
import { accountOf, configSchema } from './schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** The variables of config/.env.example, as an admin would export them. */
function exampleEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const line of readFileSync(path.join(ROOT, 'config/.env.example'), 'utf8').split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match && match[1] !== 'PAYLINK_CONFIG') env[match[1]!] = match[2]!;
  }
  return env;
}

type JsonObject = { [key: string]: unknown };

/**
 * Every key of the README's configuration table as a config object. A row's first key is a full
 * path; the others are full paths too when they start with a top-level key, otherwise siblings of
 * the first (`pipeline.backoffBaseMs`, `backoffMaxMs`). Environment variables and globs are skipped.
 */
function readmeKeys(): string[][] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  const table = section.slice(0, section.indexOf('\n## ', 1));
  const topLevel = new Set(Object.keys(configSchema.shape));
  const keys: string[][] = [];
  for (const row of table.split('\n')) {
    if (!row.startsWith('| `')) continue;
    const cell = row.split('|')[1]!;
    const tokens = [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);
    const names = tokens.filter((token) => !/^[A-Z_]+$/.test(token) && !token.includes('*'));
    const first = names[0]!.split('.');
    for (const name of names) {
      const parts = name.split('.');
      keys.push(topLevel.has(parts[0]!.replace('[]', '')) ? parts : [...first.slice(0, -1), ...parts]);
    }
  }
  return keys;
}

function objectWith(keys: readonly string[][]): JsonObject {
  const root: JsonObject = {};
  for (const parts of keys) {
    let node = root;
    for (const [index, part] of parts.entries()) {
      const last = index === parts.length - 1;
      if (part.endsWith('[]')) {
        const name = part.slice(0, -2);
        node[name] ??= [{}];
        node = (node[name] as JsonObject[])[0]!;
      } else if (last) {
        node[part] = null;
      } else {
        node[part] ??= {};
        node = node[part] as JsonObject;
      }
    }
  }
  return root;
}

describe('configSchema', () => {
  it('accepts config/production.example.json with the secrets of config/.env.example', () => {
    const file = path.join(ROOT, 'config/production.example.json');
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(unknownKeys(configSchema, raw)).toEqual([]);
    const { config } = loadConfig({ file, cwd: ROOT, env: exampleEnv() });
    expect(config.odoo?.db).toBe('example');
    expect(config.companies).toHaveLength(1);
  });

  it('sends the invoice email through SMTP unless mail.via says odoo', () => {
    const mailOf = (mail: unknown) => configSchema.shape.mail.parse(mail);
    expect(mailOf(undefined).via).toBe('smtp');
    expect(mailOf({ enabled: true }).via).toBe('smtp');
    expect(mailOf({ via: 'odoo' }).via).toBe('odoo');
  });

  it('accepts config/four-gateways.example.json with every gateway secret from the environment', () => {
    const file = path.join(ROOT, 'config/four-gateways.example.json');
    const raw: unknown = JSON.parse(readFileSync(file, 'utf8'));
    expect(unknownKeys(configSchema, raw)).toEqual([]);
    // The commented lines of .env.example, filled in as an admin would.
    const env: NodeJS.ProcessEnv = { ...exampleEnv() };
    for (const name of [
      'TILOPAY_API_KEY',
      'TILOPAY_API_USER',
      'TILOPAY_API_PASSWORD',
      'TILOPAY_PANAMA_API_KEY',
      'TILOPAY_PANAMA_API_USER',
      'TILOPAY_PANAMA_API_PASSWORD',
      'TENDOPAY_CLIENT_ID',
      'TENDOPAY_CLIENT_SECRET',
      'MPCHAT_KEY_ID',
      'MPCHAT_SECRET',
      'MPCHAT_WEBHOOK_SECRET',
    ]) {
      expect(readFileSync(path.join(ROOT, 'config/.env.example'), 'utf8')).toContain(name);
      env[name] = `${name.toLowerCase()}-value`;
    }
    const { config } = loadConfig({ file, cwd: ROOT, env });
    expect(config.companies.map((company) => [company.gateway, accountOf(company)])).toEqual([
      ['mytpe', '9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d'],
      ['tilopay', 'default'],
      ['tilopay', 'panama'],
      ['tendopay', 'default'],
      ['mpchat', 'default'],
    ]);
    expect(config.gateways.tilopay?.accounts.panama?.apiPassword).toBe('tilopay_panama_api_password-value');
  });

  it('knows every key the README documents', () => {
    const keys = readmeKeys();
    // A parser that silently found nothing would prove nothing.
    expect(keys.length).toBeGreaterThan(40);
    expect(keys).toContainEqual(['mail', 'smtp', 'tls', 'rejectUnauthorized']);
    expect(keys).toContainEqual(['pipeline', 'backoffMaxMs']);
    expect(unknownKeys(configSchema, objectWith(keys))).toEqual([]);
  });
});

describe('schedule values', () => {
  const issues = (config: unknown) => {
    const result = configSchema.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('refuse a time zone Intl does not know, naming the key', () => {
    expect(issues({ schedule: { timezone: 'Mars/Olympus' } })).toEqual([
      'schedule.timezone: must be an IANA time zone, e.g. "UTC" or "Africa/Algiers"',
    ]);
    expect(issues({ schedule: { timezone: 'Africa/Algiers' } })).toEqual([]);
    expect(configSchema.parse({}).schedule.timezone).toBe('UTC');
  });

  it('refuse every cron expression node-cron would refuse, naming the key', () => {
    const refused = "is not a cron expression node-cron accepts: check each field's range and syntax";
    expect(
      issues({
        schedule: { publish: '61 * * * * *', confirm: '*/0 * * * *' },
        reconcile: { schedule: '0 0 31 2 *' },
      }),
    ).toEqual([
      `schedule.publish: ${refused}`,
      `schedule.confirm: ${refused}`,
      `reconcile.schedule: ${refused}`,
    ]);
    // A wrong number of fields gets the one message that says so.
    expect(issues({ schedule: { publish: 'every minute' } })).toEqual([
      'schedule.publish: must be a cron expression with 5 or 6 fields, e.g. "*/30 * * * * *"',
    ]);
    expect(
      issues({ schedule: { publish: '*/5 * * * * *', confirm: '0 */2 * * *' }, reconcile: { schedule: '' } }),
    ).toEqual([]);
  });
});

describe('store.retentionDays', () => {
  it('defaults to 90 days and must be a whole number of days, at least 1', () => {
    expect(configSchema.parse({}).store.retentionDays).toBe(90);
    expect(configSchema.parse({ store: { path: 'x.db' } }).store).toEqual({
      path: 'x.db',
      retentionDays: 90,
    });
    expect(configSchema.parse({ store: { retentionDays: 400 } }).store.retentionDays).toBe(400);
    for (const bad of [0, -1, 1.5, '30']) {
      expect(configSchema.safeParse({ store: { retentionDays: bad } }).error?.issues[0]?.path).toEqual([
        'store',
        'retentionDays',
      ]);
    }
  });
});

describe('companies on the other gateways', () => {
  const odoo = { url: 'https://erp.example.com', db: 'prod', login: 'bot', password: 'pw-123456' };
  const http = { publicUrl: 'https://pay.example.com', paySecret: 'x'.repeat(32) };
  const tilopay = { accounts: { default: { apiKey: 'k', apiUser: 'u', apiPassword: 'p' } } };
  const issues = (config: unknown) => {
    const result = configSchema.safeParse(config);
    return result.success
      ? []
      : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('take the account named in the company, "default" when none is', () => {
    const config = configSchema.parse({
      odoo,
      http,
      companies: [
        { odooCompanyId: 1, journalId: 7, gateway: 'tilopay' },
        { odooCompanyId: 2, journalId: 8, gateway: 'tilopay', account: 'panama' },
      ],
      gateways: {
        tilopay: {
          accounts: { ...tilopay.accounts, panama: { apiKey: 'k2', apiUser: 'u2', apiPassword: 'p2' } },
        },
      },
    });
    expect(config.companies.map(accountOf)).toEqual(['default', 'panama']);
    expect(config.gateways.tilopay?.baseUrl).toBe('https://app.tilopay.com/api/v1');
    expect(config.gateways.tilopay?.orderTtlMinutes).toBe(120);
  });

  it('refuse a gateway that is not configured, an account it does not have, and no public address', () => {
    expect(issues({ odoo, companies: [{ odooCompanyId: 1, journalId: 7, gateway: 'tendopay' }] })).toEqual([
      'companies.0.gateway: uses tendopay, so gateways.tendopay must be configured',
      'http.publicUrl: must be set when a company uses tendopay (its orders expire, so customers go through the pay page, and it sends them back to <publicUrl>/return/tendopay)',
    ]);
    expect(
      issues({
        odoo,
        http,
        companies: [{ odooCompanyId: 1, journalId: 7, gateway: 'tilopay', account: 'panamá' }],
        gateways: { tilopay },
      }),
    ).toEqual([
      'companies.0.account: names account "panamá", which gateways.tilopay.accounts does not have (it has default)',
    ]);
    expect(
      issues({ odoo, companies: [{ odooCompanyId: 1, journalId: 7, gateway: 'mytpe' }], gateways: {} })[1],
    ).toBe(
      "companies.0.mytpeInstanceId: must be the uuid of the MyTPE Pay instance that owns this company's links",
    );
  });

  it('take http only on loopback, for the public address and the gateways', () => {
    expect(issues({ http: { publicUrl: 'http://127.0.0.1:8089', paySecret: 'x'.repeat(32) } })).toEqual([]);
    expect(issues({ http: { publicUrl: 'http://pay.example.com', paySecret: 'x'.repeat(32) } })).toEqual([
      'http.publicUrl: must be the https address the daemon is reached at, e.g. https://pay.example.com (http only on 127.0.0.1 or localhost)',
    ]);
    expect(
      issues({ gateways: { tendopay: { baseUrl: 'http://sandbox.tendopay.ph', accounts: {} } } }),
    ).toEqual([
      'gateways.tendopay.baseUrl: must be https (http only on 127.0.0.1 or localhost, for the sandboxes)',
      'gateways.tendopay.accounts: must name at least one account, e.g. { "default": { … } }',
    ]);
  });

  it('keep MPChat amounts as decimal text', () => {
    const mpchat = { baseUrl: 'https://api.mpchat.com', accounts: { default: { keyId: 'k', secret: 's' } } };
    expect(configSchema.parse({ gateways: { mpchat } }).gateways.mpchat?.tolerancePercent).toBe('0.01');
    expect(issues({ gateways: { mpchat: { ...mpchat, usdtPerUsd: 0.99 } } })).toEqual([
      'gateways.mpchat.usdtPerUsd: Invalid input: expected string, received number',
    ]);
  });
});
