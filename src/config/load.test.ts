import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadConfig, nearest, secretValues, unknownKeys } from './load.js';

function withFile(content: string): { cwd: string; file: string } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'paylink-config-'));
  const file = path.join(cwd, 'config.json');
  writeFileSync(file, content);
  return { cwd, file };
}

const valid = {
  odoo: { url: 'https://erp.example.com', db: 'prod', login: 'bot', password: 'odoo-secret-1' },
  companies: [{ odooCompanyId: 1, journalId: 7, mytpeInstanceId: 'inst-1' }],
  gateways: {
    mytpe: {
      baseUrl: 'https://mytpe.example.com/api/v2/mytpe-pay',
      apiKey: 'mtk_live_key',
      apiSecret: 'mts_live_secret',
    },
  },
};

describe('loadConfig', () => {
  it('takes a "$env:NAME" value from that variable, and names the key when it is unset', () => {
    const file = { ...valid, odoo: { ...valid.odoo, password: '$env:SHOP_ODOO_KEY' } };
    const { cwd, file: at } = withFile(JSON.stringify(file));
    expect(loadConfig({ cwd, file: at, env: { SHOP_ODOO_KEY: 'odoo-from-env' } }).config.odoo?.password).toBe(
      'odoo-from-env',
    );
    expect(() => loadConfig({ cwd, file: at, env: {} })).toThrow(
      /odoo\.password: names the environment variable SHOP_ODOO_KEY, which is not set/,
    );
  });

  it('defaults to sandbox mode when nothing is configured', () => {
    const { cwd } = withFile('{}');
    const { config } = loadConfig({ cwd, env: {} });
    expect(config.odoo).toBeUndefined();
    expect(config.pipeline.concurrency).toBe(4);
    expect(config.schedule.publish).toBe('*/30 * * * * *');
  });

  it('reads a full production file and fills defaults', () => {
    const { cwd, file } = withFile(JSON.stringify(valid));
    const { config } = loadConfig({ cwd, file, env: {} });
    expect(config.odoo?.timeoutMs).toBe(30_000);
    expect(config.companies[0]?.gateway).toBe('mytpe');
    expect(config.gateways.mytpe?.webhookSecrets).toEqual({});
  });

  it("requires MyTPE's base URL, so live keys never go to its development server by default", () => {
    const { baseUrl: _baseUrl, ...withoutBase } = valid.gateways.mytpe;
    const { cwd, file } = withFile(JSON.stringify({ ...valid, gateways: { mytpe: withoutBase } }));
    expect(() => loadConfig({ cwd, file, env: {} })).toThrow(
      /gateways\.mytpe\.baseUrl: .*development server/,
    );
  });

  it('takes secrets from the environment', () => {
    const { odoo, ...rest } = valid;
    const { password: _password, ...odooWithoutPassword } = odoo;
    const { cwd, file } = withFile(JSON.stringify({ ...rest, odoo: odooWithoutPassword }));
    const { config } = loadConfig({
      cwd,
      file,
      env: { ODOO_PASSWORD: 'from-env-pw', MYTPE_API_SECRET: 'env-secret' },
    });
    expect(config.odoo?.password).toBe('from-env-pw');
    expect(config.gateways.mytpe?.apiSecret).toBe('env-secret');
    expect(secretValues(config)).toEqual(
      expect.arrayContaining(['from-env-pw', 'env-secret', 'mtk_live_key']),
    );
  });

  it("fills the other gateways' default account from their environment variables", () => {
    const { cwd, file } = withFile(
      JSON.stringify({
        ...valid,
        http: { publicUrl: 'https://pay.example.com', paySecret: 'p'.repeat(32) },
        companies: [{ odooCompanyId: 1, journalId: 7, gateway: 'tilopay' }],
        gateways: { tilopay: {} },
      }),
    );
    const { config } = loadConfig({
      cwd,
      file,
      env: { TILOPAY_API_KEY: 'tp-key-1', TILOPAY_API_USER: 'tp-user', TILOPAY_API_PASSWORD: 'tp-pass-1' },
    });
    expect(config.gateways.tilopay?.accounts).toEqual({
      default: { apiKey: 'tp-key-1', apiUser: 'tp-user', apiPassword: 'tp-pass-1' },
    });
    expect(secretValues(config)).toEqual(expect.arrayContaining(['tp-key-1', 'tp-pass-1']));
  });

  it('names the key and the fix for each bad value', () => {
    const bad = {
      ...valid,
      odoo: { ...valid.odoo, url: 'not a url', password: '' },
      pipeline: { concurrency: 0 },
    };
    const { cwd, file } = withFile(JSON.stringify(bad));
    expect(() => loadConfig({ cwd, file, env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ cwd, file, env: {} });
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('odoo.url: must be the base URL of the Odoo server');
      expect(message).toContain('odoo.password: must be the password or, better, an API key');
      expect(message).toContain('pipeline.concurrency');
    }
  });

  it('requires a company and the gateway it uses once Odoo is configured', () => {
    const { cwd, file } = withFile(
      JSON.stringify({
        odoo: valid.odoo,
        companies: [{ odooCompanyId: 1, journalId: 2, mytpeInstanceId: 'x' }],
      }),
    );
    expect(() => loadConfig({ cwd, file, env: {} })).toThrow(
      /companies\.0\.gateway: uses mytpe, so gateways\.mytpe/,
    );
    const { cwd: cwd2, file: file2 } = withFile(
      JSON.stringify({ odoo: valid.odoo, gateways: valid.gateways }),
    );
    expect(() => loadConfig({ cwd: cwd2, file: file2, env: {} })).toThrow(
      /companies: must list at least one company/,
    );
  });

  it('reports unreadable JSON and missing files clearly', () => {
    const { cwd, file } = withFile('{ not json');
    expect(() => loadConfig({ cwd, file, env: {} })).toThrow(/is not valid JSON/);
    expect(() => loadConfig({ cwd, file: 'missing.json', env: {} })).toThrow(/config file not found/);
  });

  it('never echoes a secret in a validation message', () => {
    const bad = { ...valid, odoo: { ...valid.odoo, url: 'odoo-secret-1' } };
    const { cwd, file } = withFile(JSON.stringify(bad));
    expect(() => loadConfig({ cwd, file, env: {} })).toThrow(ConfigError);
    try {
      loadConfig({ cwd, file, env: {} });
    } catch (error) {
      expect((error as Error).message).not.toContain('odoo-secret-1');
    }
  });
});

function loadError(config: unknown, env: NodeJS.ProcessEnv = {}): string {
  const { cwd, file } = withFile(JSON.stringify(config));
  try {
    loadConfig({ cwd, file, env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('the configuration was accepted');
}

describe('unknown config keys', () => {
  it('are an error naming each one with the nearest valid key at its level', () => {
    const message = loadError({
      ...valid,
      pipline: { concurrency: 2 },
      odoo: { ...valid.odoo, timeoutms: 5000 },
      companies: [valid.companies[0], { odooCompanyId: 2, jurnalId: 8, mytpeInstanceId: 'inst-2' }],
      mail: { smtp: { host: 'smtp.example.com', port: 587, from: 'billing@example.com', tsl: {} } },
    });
    expect(message).toContain('  - pipline: unknown key; did you mean pipeline?');
    expect(message).toContain('  - odoo.timeoutms: unknown key; did you mean timeoutMs?');
    expect(message).toContain('  - companies.1.jurnalId: unknown key; did you mean journalId?');
    expect(message).toContain('  - mail.smtp.tsl: unknown key; did you mean tls?');
    // The misspelt required key is also reported as missing, right below.
    expect(message).toContain('companies.1.journalId');
  });

  it('list the valid keys when none is close', () => {
    const message = loadError({ ...valid, log: { level: 'info', destination: 'syslog' } });
    expect(message).toContain('  - log.destination: unknown key; the keys here are level, format');
  });

  it('are found in a file whose values the environment completed', () => {
    const { password: _password, ...odoo } = valid.odoo;
    const message = loadError(
      { ...valid, odoo: { ...odoo, pasword: 'x' } },
      { ODOO_PASSWORD: 'from-env-pw' },
    );
    expect(message).toContain('odoo.pasword: unknown key; did you mean password?');
    expect(message).not.toContain('odoo.password:');
  });

  it('leave a configuration with only known keys alone', () => {
    expect(unknownKeys(z.object({ a: z.number() }), { a: 1 })).toEqual([]);
  });
});

describe('unknownKeys', () => {
  const schema = z
    .object({
      plain: z.object({ alpha: z.number() }).optional(),
      defaulted: z.object({ beta: z.number().default(1) }).default({ beta: 1 }),
      list: z.array(z.object({ gamma: z.string(), deep: z.array(z.object({ delta: z.number() })) })),
      map: z.record(z.string(), z.object({ epsilon: z.number() })),
      piped: z.object({ zeta: z.string() }).pipe(z.object({ zeta: z.string().min(1) })),
      preprocessed: z.preprocess((value) => value, z.object({ eta: z.number() })),
      either: z.union([z.object({ theta: z.number() }), z.object({ iota: z.number() }), z.literal('')]),
      loose: z.looseObject({ kappa: z.number() }),
      lazy: z.lazy(() => z.object({ lambda: z.number() })).nullable(),
      refined: z.object({ mu: z.number() }).refine(() => true),
    })
    .superRefine(() => {});

  const paths = (raw: unknown) => unknownKeys(schema, raw).map((key) => key.path.join('.'));

  it('walks through optional, default, pipe, preprocess, union, lazy, nullable and refinements', () => {
    expect(
      paths({
        plain: { alpha: 1, alpah: 2 },
        defaulted: { bta: 1 },
        piped: { zeta: 'z', zta: 'z' },
        preprocessed: { eta: 1, eat: 2 },
        either: { theta: 1, iota: 2, tehta: 3 },
        lazy: { lambda: 1, lamda: 2 },
        refined: { mu: 1, muu: 2 },
        extra: true,
      }),
    ).toEqual([
      'plain.alpah',
      'defaulted.bta',
      'piped.zta',
      'preprocessed.eat',
      'either.tehta',
      'lazy.lamda',
      'refined.muu',
      'extra',
    ]);
  });

  it('checks every element of an array of objects, at any depth', () => {
    expect(
      paths({
        list: [
          { gamma: 'a', deep: [] },
          { gamma: 'b', gama: 'b', deep: [{ delta: 1 }, { detla: 2 }] },
        ],
      }),
    ).toEqual(['list.1.gama', 'list.1.deep.1.detla']);
  });

  it('does not check the keys of free-form maps or loose objects, but does check inside their values', () => {
    expect(
      paths({
        map: { anything: { epsilon: 1 }, 'any key at all': { epsilon: 2, epsilom: 3 } },
        loose: { kappa: 1, whatever: 2 },
      }),
    ).toEqual(['map.any key at all.epsilom']);
  });

  it('leaves values of the wrong type to zod', () => {
    expect(paths({ plain: 'not an object', list: { gamma: 'not an array' }, either: '' })).toEqual([]);
  });

  it('suggests the nearest key only when it is close enough to be a typo', () => {
    expect(unknownKeys(schema, { lst: [] })[0]?.suggestion).toBe('list');
    expect(unknownKeys(schema, { xyz: 1 })[0]).toMatchObject({ path: ['xyz'], suggestion: undefined });
    expect(nearest('pipline', ['pipeline', 'schedule'])).toBe('pipeline');
    expect(nearest('jounral', ['journal'])).toBe('journal');
    expect(nearest('LOG', ['log'])).toBe('log');
    expect(nearest('foo', ['log', 'http'])).toBeUndefined();
  });
});
