import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, secretValues } from './load.js';

function withFile(content: string): { cwd: string; file: string } {
  const cwd = mkdtempSync(path.join(tmpdir(), 'paylink-config-'));
  const file = path.join(cwd, 'config.json');
  writeFileSync(file, content);
  return { cwd, file };
}

const valid = {
  odoo: { url: 'https://erp.example.com', db: 'prod', login: 'bot', password: 'odoo-secret-1' },
  companies: [{ odooCompanyId: 1, journalId: 7, mytpeInstanceId: 'inst-1' }],
  gateways: { mytpe: { apiKey: 'mtk_live_key', apiSecret: 'mts_live_secret' } },
};

describe('loadConfig', () => {
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
    expect(config.gateways.mytpe?.baseUrl).toBe('https://dev.mytpe.app/api/v2/mytpe-pay');
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
