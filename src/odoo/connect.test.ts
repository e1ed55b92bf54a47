import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import type { Logger } from '../log.js';
import { type OdooSandbox, startOdooSandbox } from '../sandbox/odoo/server.js';
import { createOdooTransport, LazyOdooTransport } from './connect.js';
import { Json2Transport } from './json2.js';
import { JsonRpcTransport } from './jsonrpc.js';
import { XmlRpcTransport } from './xmlrpc.js';

const KEY = 'fedcba9876543210fedcba9876543210fedcba98';
const running: OdooSandbox[] = [];

async function sandbox(version: '18.0' | '19.0'): Promise<OdooSandbox> {
  const started = await startOdooSandbox({ version });
  started.addApiKey(KEY);
  running.push(started);
  return started;
}

afterEach(async () => {
  for (const started of running.splice(0)) await started.close();
});

function recordingLogger(): Logger & {
  lines: { level: string; message: string; meta?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(meta ? { meta } : {}) });
    };
  const log = {
    lines,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    child: () => log,
  };
  return log;
}

const base = (url: string) => ({ url, timeoutMs: 5_000 });

describe('createOdooTransport', () => {
  it('auto: picks JSON-2 on 19.0 when an API key is configured, and says why', async () => {
    const odoo = await sandbox('19.0');
    const log = recordingLogger();
    const transport = await createOdooTransport(
      { ...base(odoo.url), protocol: 'auto', apiKey: KEY },
      { log },
    );
    expect(transport).toBeInstanceOf(Json2Transport);
    expect(log.lines).toEqual([
      {
        level: 'info',
        message: 'Odoo transport chosen',
        meta: expect.objectContaining({ protocol: 'json2', serverVersion: '19.0-20251227' }),
      },
    ]);
    expect(JSON.stringify(log.lines)).not.toContain(KEY);
    // It really works: the key's uid.
    expect(await transport.common('authenticate', [odoo.db, 'admin', KEY, {}])).toBe(2);
  });

  it('auto: stays on JSON-RPC on 19.0 without an API key, with a warning', async () => {
    const odoo = await sandbox('19.0');
    const log = recordingLogger();
    const transport = await createOdooTransport({ ...base(odoo.url), protocol: 'auto' }, { log });
    expect(transport).toBeInstanceOf(JsonRpcTransport);
    expect(log.lines[0]).toMatchObject({ level: 'warn', meta: { protocol: 'jsonrpc' } });
    expect(String(log.lines[0]?.meta?.reason)).toMatch(/needs odoo\.apiKey/);
  });

  it('auto: takes JSON-RPC on 18.0 even with an API key', async () => {
    const odoo = await sandbox('18.0');
    const log = recordingLogger();
    const transport = await createOdooTransport(
      { ...base(odoo.url), protocol: 'auto', apiKey: KEY },
      { log },
    );
    expect(transport).toBeInstanceOf(JsonRpcTransport);
    expect(log.lines[0]).toMatchObject({ level: 'info', meta: { protocol: 'jsonrpc' } });
    expect(String(log.lines[0]?.meta?.reason)).toMatch(/no JSON-2/);
  });

  it('an explicit protocol wins without asking the server', async () => {
    const odoo = await sandbox('18.0');
    const log = recordingLogger();
    expect(await createOdooTransport({ ...base(odoo.url), protocol: 'xmlrpc' }, { log })).toBeInstanceOf(
      XmlRpcTransport,
    );
    expect(
      await createOdooTransport({ ...base(odoo.url), protocol: 'jsonrpc', apiKey: KEY }, { log }),
    ).toBeInstanceOf(JsonRpcTransport);
    expect(
      await createOdooTransport({ ...base(odoo.url), protocol: 'json2', apiKey: KEY }, { log }),
    ).toBeInstanceOf(Json2Transport);
    expect(odoo.calls).toEqual([]);
  });

  it('json2 without an API key is a configuration error, at once', async () => {
    const log = recordingLogger();
    await expect(
      createOdooTransport({ ...base('http://127.0.0.1:9'), protocol: 'json2' }, { log }),
    ).rejects.toThrow(ConfigError);
    expect(
      () => new LazyOdooTransport({ ...base('http://127.0.0.1:9'), protocol: 'json2' }, { log }),
    ).toThrow(/odoo\.apiKey \(env ODOO_API_KEY\) is not set/);
  });

  it('lazily: chooses on the first call, and asks again after a failed choice', async () => {
    const odoo = await sandbox('19.0');
    const log = recordingLogger();
    odoo.faults.down = true;
    const lazy = new LazyOdooTransport({ ...base(odoo.url), protocol: 'auto', apiKey: KEY }, { log });
    await expect(lazy.common('version', [])).rejects.toMatchObject({ kind: 'network' });
    odoo.faults.down = false;
    expect(await lazy.common('authenticate', [odoo.db, 'admin', KEY, {}])).toBe(2);
    expect(await lazy.resolve()).toBeInstanceOf(Json2Transport);
    expect(log.lines.filter((line) => line.message === 'Odoo transport chosen')).toHaveLength(1);
  });
});

describe('odoo config', () => {
  const odoo = { url: 'https://erp.example.com', db: 'prod', login: 'paylink-bot' };
  const parse = (values: Record<string, unknown>) =>
    configSchema.shape.odoo.safeParse({ ...odoo, ...values });

  it('defaults to auto and lets the API key stand in for the password', () => {
    const parsed = parse({ apiKey: KEY });
    expect(parsed.success && parsed.data).toMatchObject({ protocol: 'auto', apiKey: KEY, password: KEY });
  });

  it('needs a password or an API key', () => {
    const parsed = parse({});
    expect(parsed.success).toBe(false);
    expect(JSON.stringify(parsed.error?.issues)).toMatch(/unless odoo\.apiKey \(env ODOO_API_KEY\) is set/);
  });

  it('refuses protocol json2 without an API key', () => {
    const parsed = parse({ password: 'secret', protocol: 'json2' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['apiKey'] });
    expect(parsed.error?.issues[0]?.message).toMatch(/JSON-2 authenticates with an API key/);
  });
});
