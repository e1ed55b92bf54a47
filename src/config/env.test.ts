import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { envName, envVariables } from './env.js';
import { CONFIG_TABLE_FILE, configTable } from './env-table.js';
import { ConfigError, loadConfig } from './load.js';
import { configSchema } from './schema.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

function folder(files: Record<string, string> = {}): string {
  const cwd = mkdtempSync(path.join(tmpdir(), 'paylink-env-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(cwd, name), content);
  return cwd;
}

/** A production config given by the environment alone, no file. */
const production: NodeJS.ProcessEnv = {
  PAYLINK_ODOO_URL: 'https://erp.example.com',
  PAYLINK_ODOO_DB: 'prod',
  PAYLINK_ODOO_LOGIN: 'bot',
  PAYLINK_ODOO_PASSWORD: 'odoo-secret-1',
  PAYLINK_COMPANIES: '[{"odooCompanyId":1,"journalId":7,"mytpeInstanceId":"inst-1"}]',
  PAYLINK_GATEWAYS_MYTPE_BASE_URL: 'https://mytpe.example.com/api/v2/mytpe-pay',
  PAYLINK_GATEWAYS_MYTPE_API_KEY: 'mtk_live_key',
  PAYLINK_GATEWAYS_MYTPE_API_SECRET: 'mts_live_secret',
};

describe('environment variables', () => {
  it('are named from the key path, one per key, none twice', () => {
    expect(envName(['pipeline', 'concurrency'])).toBe('PAYLINK_PIPELINE_CONCURRENCY');
    expect(envName(['mail', 'smtp', 'tls', 'rejectUnauthorized'])).toBe(
      'PAYLINK_MAIL_SMTP_TLS_REJECT_UNAUTHORIZED',
    );
    const names = envVariables(configSchema).map((variable) => variable.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining(['PAYLINK_ODOO_URL', 'PAYLINK_COMPANIES', 'PAYLINK_LOG_LEVEL']),
    );
  });

  it('set every kind of key: string, number, boolean, enum, JSON array and map', () => {
    const env = {
      ...production,
      PAYLINK_PIPELINE_CONCURRENCY: '9',
      PAYLINK_ODOO_ACTIVITIES: 'false',
      PAYLINK_MAIL_ATTACH_PDF: '0',
      PAYLINK_ODOO_PROTOCOL: 'xmlrpc',
      PAYLINK_SCHEDULE_TIMEZONE: 'Africa/Algiers',
      PAYLINK_PUBLISH_EXCLUDE_PARTNER_TAGS: '["Staff","VIP"]',
      PAYLINK_GATEWAYS_MYTPE_WEBHOOK_SECRETS: '{"inst-1":"whsec_one"}',
    };
    const { config } = loadConfig({ cwd: folder(), env });
    expect(config.odoo).toMatchObject({
      url: 'https://erp.example.com',
      protocol: 'xmlrpc',
      activities: false,
    });
    expect(config.companies).toEqual([
      { odooCompanyId: 1, journalId: 7, mytpeInstanceId: 'inst-1', gateway: 'mytpe' },
    ]);
    expect(config.pipeline.concurrency).toBe(9);
    expect(config.mail.attachPdf).toBe(false);
    expect(config.schedule.timezone).toBe('Africa/Algiers');
    expect(config.publish.excludePartnerTags).toEqual(['Staff', 'VIP']);
    expect(config.gateways.mytpe?.webhookSecrets).toEqual({ 'inst-1': 'whsec_one' });
  });

  it('win over the file, are checked by the same schema, and name the key of a bad value', () => {
    const cwd = folder({ 'config.json': JSON.stringify({ pipeline: { concurrency: 2, batchSize: 50 } }) });
    const file = path.join(cwd, 'config.json');
    const { config } = loadConfig({ cwd, file, env: { PAYLINK_PIPELINE_CONCURRENCY: '8' } });
    expect(config.pipeline).toMatchObject({ concurrency: 8, batchSize: 50 });
    expect(() => loadConfig({ cwd, file, env: { PAYLINK_PIPELINE_CONCURRENCY: 'many' } })).toThrow(
      /pipeline\.concurrency: .*number/,
    );
    expect(() => loadConfig({ cwd, file, env: { PAYLINK_PIPELINE_CONCURRENCY: '500' } })).toThrow(
      /pipeline\.concurrency/,
    );
    expect(() => loadConfig({ cwd, file, env: { PAYLINK_LOG_FORMAT: 'xml' } })).toThrow(/log\.format/);
  });

  it('refuse JSON that does not parse without quoting it (it may hold secrets)', () => {
    const env = { PAYLINK_GATEWAYS_TILOPAY_ACCOUNTS: '{"default":{"apiKey":"tilo-secret-9"' };
    const error = catchError(() => loadConfig({ cwd: folder(), env }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/PAYLINK_GATEWAYS_TILOPAY_ACCOUNTS must be JSON/);
    expect(error.message).not.toContain('tilo-secret-9');
  });

  it('keep the older names working, the PAYLINK_ name winning when both are set', () => {
    const { ODOO_PASSWORD: _p, PAYLINK_ODOO_PASSWORD: _q, ...rest } = production;
    const older = loadConfig({
      cwd: folder(),
      env: { ...rest, ODOO_PASSWORD: 'older-name', LOG_LEVEL: 'debug' },
    });
    expect(older.config.odoo?.password).toBe('older-name');
    expect(older.config.log.level).toBe('debug');
    const both = loadConfig({
      cwd: folder(),
      env: { ...rest, ODOO_PASSWORD: 'older-name', PAYLINK_ODOO_PASSWORD: 'newer-name' },
    });
    expect(both.config.odoo?.password).toBe('newer-name');
  });
});

describe('<VARIABLE>_FILE', () => {
  it('reads any variable from a file, trimmed (Docker secrets, systemd credentials)', () => {
    const cwd = folder({ 'odoo-key': 'key-from-a-file\n', concurrency: ' 6 \n' });
    const { PAYLINK_ODOO_PASSWORD: _p, ...rest } = production;
    const { config } = loadConfig({
      cwd,
      env: {
        ...rest,
        ODOO_API_KEY_FILE: path.join(cwd, 'odoo-key'),
        PAYLINK_PIPELINE_CONCURRENCY_FILE: path.join(cwd, 'concurrency'),
      },
    });
    expect(config.odoo?.password).toBe('key-from-a-file');
    expect(config.odoo?.apiKey).toBe('key-from-a-file');
    expect(config.pipeline.concurrency).toBe(6);
  });

  it('also serves a "$env:NAME" reference of the file', () => {
    const cwd = folder({
      'config.json': JSON.stringify({ log: { level: '$env:SHOP_LEVEL' } }),
      level: 'warn\n',
    });
    const env = { SHOP_LEVEL_FILE: path.join(cwd, 'level') };
    expect(loadConfig({ cwd, file: path.join(cwd, 'config.json'), env }).config.log.level).toBe('warn');
  });

  it('names the file it cannot read, and a value both set and given a file', () => {
    const cwd = folder({ secret: 'the-content-itself' });
    expect(() => loadConfig({ cwd, env: { ODOO_PASSWORD_FILE: '/nonexistent/odoo-password' } })).toThrow(
      'ODOO_PASSWORD_FILE names /nonexistent/odoo-password, which cannot be read (ENOENT)',
    );
    const error = catchError(() =>
      loadConfig({ cwd, env: { ODOO_PASSWORD: 'x', ODOO_PASSWORD_FILE: path.join(cwd, 'secret') } }),
    );
    expect(error.message).toContain('ODOO_PASSWORD and ODOO_PASSWORD_FILE are both set');
    expect(error.message).not.toContain('the-content-itself');
  });

  it('never puts the content in an error when the value is refused', () => {
    const cwd = folder({ port: 'not-a-port-but-a-secret\n' });
    const error = catchError(() =>
      loadConfig({ cwd, env: { PAYLINK_HTTP_PORT_FILE: path.join(cwd, 'port') } }),
    );
    expect(error.message).toMatch(/http\.port/);
    expect(error.message).not.toContain('not-a-port-but-a-secret');
  });
});

describe('.env', () => {
  it('is read when present, and the environment wins over it', () => {
    const cwd = folder({
      '.env':
        'PAYLINK_PIPELINE_CONCURRENCY=5\nPAYLINK_PIPELINE_BATCH_SIZE=77\n# a comment\nLOG_LEVEL="warn"\n',
    });
    const env: NodeJS.ProcessEnv = { PAYLINK_PIPELINE_CONCURRENCY: '3' };
    const { config } = loadConfig({ cwd, env });
    expect(config.pipeline).toMatchObject({ concurrency: 3, batchSize: 77 });
    expect(config.log.level).toBe('warn');
    // Its values are in the environment afterwards, for what reads it directly (ODOO_ADMIN_PASSWORD).
    expect(env.PAYLINK_PIPELINE_BATCH_SIZE).toBe('77');
  });

  it('may name the config file, and is skipped when absent or turned off', () => {
    const cwd = folder({
      '.env': 'PAYLINK_CONFIG=shop.json\n',
      'shop.json': JSON.stringify({ pipeline: { concurrency: 11 } }),
    });
    expect(loadConfig({ cwd, env: {} }).config.pipeline.concurrency).toBe(11);
    expect(loadConfig({ cwd, env: {}, dotEnv: false }).config.pipeline.concurrency).toBe(4);
    expect(loadConfig({ cwd: folder(), env: {} }).config.pipeline.concurrency).toBe(4);
  });
});

describe('unknown keys', () => {
  it('are rejected with the nearest valid one', () => {
    const cwd = folder({ 'config.json': JSON.stringify({ odoo: { pasword: 'x' }, pipline: {} }) });
    const error = catchError(() => loadConfig({ cwd, file: path.join(cwd, 'config.json'), env: {} }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('odoo.pasword: unknown key; did you mean password?');
    expect(error.message).toContain('pipline: unknown key; did you mean pipeline?');
  });
});

describe(CONFIG_TABLE_FILE, () => {
  it('lists every variable as the schema has them now (run `npm run config-table` when this fails)', () => {
    const committed = readFileSync(path.join(ROOT, CONFIG_TABLE_FILE), 'utf8');
    expect(committed).toBe(configTable());
    for (const variable of envVariables(configSchema)) expect(committed).toContain(`\`${variable.name}\``);
  });
});

function catchError(body: () => unknown): Error {
  try {
    body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
