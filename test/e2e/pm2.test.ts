import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Stack, startStack } from '../support/stack.js';

// The shipped ecosystem file under a real PM2 (the devDependency), with a PM2 daemon of this
// test's own (PM2_HOME in a temp dir), killed at the end. Runs `dist/`: `npm run build` first.
const ROOT = path.resolve(import.meta.dirname, '../..');
const PM2 = path.join(ROOT, 'node_modules/pm2/bin/pm2');
const SHIPPED = path.join(ROOT, 'ecosystem.config.cjs');
const NAME = 'odoo-paylink';
/** The test's own kill_timeout: above its grace (1.5 s) plus the daemon's 5 s abort bound. */
const KILL_TIMEOUT_MS = 9_000;
const GRACE_MS = 1_500;

const work = mkdtempSync(path.join(tmpdir(), 'paylink-pm2-'));
const pm2Home = path.join(work, 'pm2');

/** The environment PM2 is started with: nothing from ours may configure the daemon. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PM2_HOME: pm2Home, NO_COLOR: '1' };
  for (const key of Object.keys(env)) {
    if (
      /^(ODOO_|MYTPE_|TILOPAY_|TENDOPAY_|MPCHAT_|PAYLINK_|LOG_|SMTP_|MAIL_|pm_|NODE_APP_INSTANCE)/.test(key)
    )
      delete env[key];
  }
  return env;
}

function pm2(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [PM2, ...args],
      { cwd: work, env: cleanEnv(), timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const processSchema = z.object({
  name: z.string(),
  pm_id: z.number(),
  pid: z.number(),
  pm2_env: z
    .object({
      status: z.string(),
      restart_time: z.number(),
      exit_code: z.number().optional(),
      pm_out_log_path: z.string(),
      pm_err_log_path: z.string(),
    })
    .loose(),
});
type Pm2Process = z.infer<typeof processSchema>;

async function list(): Promise<Pm2Process[]> {
  const { stdout } = await pm2('jlist');
  // PM2 may print a banner before the JSON on its first run.
  return z.array(processSchema).parse(JSON.parse(stdout.slice(stdout.indexOf('['))));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const recordSchema = z.object({ level: z.string(), message: z.string(), timestamp: z.string() }).loose();
type LogRecord = z.infer<typeof recordSchema>;

/** The JSON log records of a log file (PM2 writes the daemon's lines as they are). */
function records(file: string): LogRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const parsed = recordSchema.safeParse(JSON.parse(line));
        return parsed.success ? [parsed.data] : [];
      } catch {
        return [];
      }
    });
}

/** Where the app logs: PM2's default files, or those a test's ecosystem file names. */
let logs = {
  out: path.join(pm2Home, 'logs', `${NAME}-out.log`),
  err: path.join(pm2Home, 'logs', `${NAME}-error.log`),
};
const outLog = () => logs.out;
const errLog = () => logs.err;
const logged = (pattern: RegExp) =>
  [...records(outLog()), ...records(errLog())].filter((r) => pattern.test(r.message));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

/**
 * An ecosystem file that is the shipped one, only run from `dir` (its config/local.json and .env)
 * with a short kill_timeout, and `overrides`.
 */
function ecosystemIn(dir: string, label: string, overrides: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${label}.config.cjs`);
  logs = { out: path.join(work, `${label}-out.log`), err: path.join(work, `${label}-error.log`) };
  const all = { out_file: logs.out, error_file: logs.err, ...overrides };
  writeFileSync(
    file,
    `const shipped = require(${JSON.stringify(SHIPPED)});
module.exports = { apps: shipped.apps.map((app) => ({ ...app, script: ${JSON.stringify(path.join(ROOT, 'dist/cli.js'))}, cwd: ${JSON.stringify(dir)}, kill_timeout: ${KILL_TIMEOUT_MS}, ...${JSON.stringify(all)} })) };
`,
  );
  return file;
}

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: npm run build');
  await pm2('ping');
});

afterAll(async () => {
  await pm2('kill');
  if (!process.env.KEEP_PM2_TEST) rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('under PM2', () => {
  it('the shipped ecosystem file starts sandbox mode with no config: online, /readyz ready, info on stdout, only warnings and errors on stderr', async () => {
    for (const file of ['config/local.json', '.env'])
      expect(existsSync(path.join(ROOT, file)), `${file} in the repo would leave sandbox mode`).toBe(false);
    const started = await pm2('start', SHIPPED);
    expect(started.code, started.stderr).toBe(0);
    // wait_ready: PM2 says online only once the daemon sent 'ready'.
    const [app] = await list();
    expect(app?.pm2_env.status).toBe('online');
    const running = await until('the running line', async () => logged(/^odoo-paylink is running$/)[0]);
    const webhooks = String(running.webhooks);
    const base = webhooks.slice(0, webhooks.indexOf('/webhooks/'));
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status, await ready.clone().text()).toBe(200);

    const out = records(outLog());
    const err = records(errLog());
    expect(out.some((r) => r.level === 'info')).toBe(true);
    expect(out.filter((r) => r.level === 'warn' || r.level === 'error')).toEqual([]);
    expect(err.length, 'the SANDBOX MODE warnings').toBeGreaterThan(0);
    expect(err.filter((r) => r.level !== 'warn' && r.level !== 'error')).toEqual([]);

    const stopped = await pm2('stop', NAME);
    expect(stopped.code).toBe(0);
    await until('the clean stop line', async () => logged(/^odoo-paylink stopped cleanly$/)[0], 15_000);
    expect((await list())[0]?.pm2_env.status).toBe('stopped');
    await pm2('delete', NAME);
  }, 60_000);

  describe('--env production against a slow Odoo', () => {
    let stack: Stack;
    let dir: string;
    let invoiceIds: number[];

    beforeAll(async () => {
      stack = await startStack();
      invoiceIds = stack.createInvoices(2);
      dir = path.join(work, 'prod');
      mkdirSync(path.join(dir, 'config'), { recursive: true });
      const { password, ...odoo } = stack.config.odoo ?? { password: '' };
      // The secret stays out of the config file and out of PM2: the app reads .env itself.
      writeFileSync(path.join(dir, '.env'), `ODOO_PASSWORD=${password}\n`, { mode: 0o600 });
      writeFileSync(
        path.join(dir, 'config', 'local.json'),
        JSON.stringify({
          // setup-odoo ran against the stack's own store: the prefix it derived, set here.
          odoo: { ...odoo, referencePrefix: stack.prefix },
          companies: stack.config.companies,
          gateways: stack.config.gateways,
          store: { path: path.join(dir, 'paylink.db') },
          http: {
            host: '127.0.0.1',
            port: await freePort(),
            // The admin interface, where the config has one, off any port another test may hold.
            ...('adminPort' in stack.config.http ? { adminPort: await freePort() } : {}),
          },
          mail: { enabled: false },
          pipeline: { backoffBaseMs: 1, backoffMaxMs: 1 },
          schedule: { publish: '*/2 * * * * *', confirm: '*/5 * * * * *' },
          shutdown: { graceMs: GRACE_MS },
        }),
      );
    });

    afterAll(async () => {
      await pm2('delete', 'all');
      await stack?.close();
    });

    function linksPerInvoice(): Map<number, number> {
      const db = new Database(path.join(dir, 'paylink.db'), { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare('SELECT invoice_id AS invoiceId, count(*) AS count FROM links GROUP BY invoice_id')
          .all() as { invoiceId: number; count: number }[];
        return new Map(rows.map((row) => [row.invoiceId, row.count]));
      } finally {
        db.close();
      }
    }

    it('reload with a pass in flight: the old process aborts it after the grace, exits within kill_timeout, and the new one finishes it: nothing lost, nothing twice', async () => {
      await pm2('delete', 'all');
      const ecosystem = ecosystemIn(dir, 'reload');
      const started = await pm2('start', ecosystem, '--env', 'production');
      expect(started.code, started.stdout + started.stderr).toBe(0);
      expect((await list())[0]?.pm2_env.status).toBe('online');
      await until('the first invoices linked', async () =>
        invoiceIds.every((id) => stack.odoo.models.invoiceFieldValue(id, 'x_paylink_url')) ? true : undefined,
      );

      // Odoo slows down and new invoices come: a publish pass now spends seconds in its calls.
      stack.odoo.faults.latencyMs = 1_000;
      invoiceIds.push(...stack.createInvoices(16));
      const linksBefore = stack.mytpe.links().length;
      await until('a pass in flight', async () =>
        stack.mytpe.links().length > linksBefore ? true : undefined,
      );
      const reloadAt = Date.now();
      const reloaded = await pm2('reload', NAME);
      expect(reloaded.code, reloaded.stdout + reloaded.stderr).toBe(0);

      const signalled = await until(
        'the signal line',
        async () => logged(/received: finishing the work in flight/)[0],
      );
      const aborted = logged(/shutdown grace period \(shutdown\.graceMs\): aborting/)[0];
      expect(aborted, 'a pass was in flight past the grace period and was aborted').toBeDefined();
      const last = await until(
        'the old process to end',
        async () => logged(/^odoo-paylink stopped cleanly$|after the abort: exiting without waiting/)[0],
      );
      expect(last.message, 'the aborted pass ended at once').toBe('odoo-paylink stopped cleanly');
      const clean = last;
      const stopMs = Date.parse(clean.timestamp) - Date.parse(signalled.timestamp);
      expect(stopMs, 'the old process stopped within kill_timeout').toBeLessThan(KILL_TIMEOUT_MS);
      // The grace period, then the abort cuts the call in flight at once (the pass alone would
      // take several seconds more at this latency).
      expect(stopMs).toBeGreaterThanOrEqual(GRACE_MS);
      expect(stopMs, 'the calls in flight were aborted right after the grace period').toBeLessThan(
        GRACE_MS + 1_000,
      );
      const pm2Log = readFileSync(path.join(pm2Home, 'pm2.log'), 'utf8');
      expect(pm2Log, 'PM2 never had to SIGKILL it').not.toMatch(/SIGKILL/);
      expect(pm2Log).toContain(`App [${NAME}:0] exited with code [0]`);
      expect(Date.now() - reloadAt).toBeLessThan(KILL_TIMEOUT_MS + 15_000);

      // The new process, Odoo fast again, finishes what was cut.
      stack.odoo.faults.latencyMs = 0;
      const [app] = await list();
      expect(app?.pm2_env.status).toBe('online');
      expect(app?.pm2_env.restart_time).toBe(1);
      await until(
        'every invoice linked',
        async () =>
          invoiceIds.every(
            (id) => String(stack.odoo.models.invoiceFieldValue(id, 'x_paylink_url') || '') !== '',
          )
            ? true
            : undefined,
        40_000,
      );
      const stopped = await pm2('stop', NAME);
      expect(stopped.code).toBe(0);
      expect((await list())[0]?.pm2_env.status).toBe('stopped');
      const links = linksPerInvoice();
      for (const id of invoiceIds) expect(links.get(id), `invoice ${id}: one link`).toBe(1);
      expect(stack.mytpe.links(), 'one MyTPE link per invoice').toHaveLength(invoiceIds.length);

      // `pm2 save` writes the app's environment to dump.pm2 in clear: the password is not in it.
      await pm2('save');
      const dump = readFileSync(path.join(pm2Home, 'dump.pm2'), 'utf8');
      expect(dump).toContain('PAYLINK_CONFIG');
      expect(dump).not.toContain(String(stack.config.odoo?.password));
      await pm2('delete', NAME);
    }, 100_000);

    it('instances: 2 is refused: the second copy exits 78 before any Odoo login and stays stopped', async () => {
      await pm2('delete', 'all');
      stack.odoo.faults.latencyMs = 0;
      const loginsBefore = stack.odoo.calls.filter((call) => call.method === 'authenticate').length;
      const started = await pm2('start', ecosystemIn(dir, 'two', { instances: 2 }), '--env', 'production');
      expect(started.code, started.stdout + started.stderr).toBe(0);
      const pm2Log = () => readFileSync(path.join(pm2Home, 'pm2.log'), 'utf8');
      await until('the refused copy', async () =>
        pm2Log().includes(`App [${NAME}:1] exited with code [78]`) ? true : undefined,
      );
      // It stays stopped: stop_exit_codes [78] keeps PM2 from restarting it.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const copies = await list();
      const second = copies.find((p) => p.pm_id === 1);
      expect(second?.pid, JSON.stringify(second?.pm2_env.status)).toBe(0);
      expect(second?.pm2_env.restart_time).toBe(0);
      expect(pm2Log().split(`App [${NAME}:1] starting`)).toHaveLength(2);
      const first = copies.find((p) => p.pm_id === 0);
      expect(first?.pm2_env.status).toBe('online');
      expect(first?.pid).toBeGreaterThan(0);
      const text = readFileSync(errLog(), 'utf8');
      expect(text).toMatch(/PM2 copy 1 of odoo-paylink is refused \(instances: 2\)/);
      const logins = stack.odoo.calls.filter((call) => call.method === 'authenticate').length - loginsBefore;
      expect(logins, 'only the running copy logged into Odoo').toBe(1);
    }, 60_000);
  });
});
