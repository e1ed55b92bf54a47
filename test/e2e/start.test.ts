import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
let child: ChildProcess | undefined;

afterEach(() => {
  // npm, its shell and the daemon share the process group the test created.
  if (child?.pid && child.exitCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function waitFor(output: { text: string }, pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const timer = setInterval(() => {
      const match = output.text.match(pattern);
      if (match) {
        clearInterval(timer);
        resolve(match);
      } else if (Date.now() - started > ms || child?.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`no ${pattern} within ${ms} ms; output:\n${output.text.slice(-3000)}`));
      }
    }, 100);
  });
}

describe("the README's start command", () => {
  it('starts the daemon in sandbox mode and shows an invoice registered paid within 60 seconds', async () => {
    // A directory without config/local.json and no config in the environment: the no-config default.
    const home = mkdtempSync(path.join(tmpdir(), 'paylink-start-'));
    const env = {
      ...process.env,
      HOME: home,
      PAYLINK_CONFIG: '',
      ODOO_URL: '',
      LOG_FORMAT: 'json',
      NO_COLOR: '1',
    };
    child = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const output = { text: '' };
    child.stdout?.on('data', (chunk: Buffer) => {
      output.text += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output.text += chunk.toString();
    });

    await waitFor(output, /SANDBOX MODE/, 30_000);
    // One company per gateway, each paid through its pay page, its gateway's page and the way back.
    for (const currency of ['DZD', 'CRC', 'PHP', 'USD']) {
      const registered = await waitFor(
        output,
        new RegExp(`registered payment of [\\d.]+ ${currency} on invoice (INV\\/\\d+\\/\\d+)`),
        60_000,
      );
      expect(registered[1]).toMatch(/^INV\//);
    }

    // The customer emails were captured where the log says.
    const mailDir = output.text.match(/written as \.eml files to (\S+?);/)?.[1];
    expect(mailDir).toBeDefined();
    const emails = readdirSync(mailDir!).filter((file) => file.endsWith('.eml'));
    expect(emails.length).toBeGreaterThan(0);
    // The email carries the invoice's pay address, the one address it keeps for its whole life.
    const email = readFileSync(path.join(mailDir!, emails[0]!), 'utf8').replace(/=\r?\n/g, '');
    expect(email).toMatch(/http:\/\/127\.0\.0\.1:\d+\/pay\//);

    // The sandbox says what it is, loudly, and a clean stop follows SIGTERM.
    expect(output.text).toMatch(/"level":"warn","message":"SANDBOX MODE: no Odoo is configured/);
    const daemon = await findDaemon(child.pid!);
    process.kill(daemon, 'SIGTERM');
    await waitFor(output, /odoo-paylink stopped cleanly/, 15_000);
  }, 120_000);
});

/** npm runs the daemon as a grandchild; find the node process that runs dist/cli.js. */
async function findDaemon(npmPid: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  const table = execFileSync('ps', ['-eo', 'pid,ppid,args'], { encoding: 'utf8' });
  const rows = table
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .map(([pid, ppid, ...args]) => ({ pid: Number(pid), ppid: Number(ppid), args: args.join(' ') }));
  const descendants = new Set([npmPid]);
  for (let round = 0; round < 5; round++)
    for (const row of rows) if (descendants.has(row.ppid)) descendants.add(row.pid);
  const daemon = rows.find(
    (row) =>
      descendants.has(row.pid) && /^(\S*\/)?node\s/.test(row.args) && row.args.includes('dist/cli.js run'),
  );
  if (!daemon) throw new Error('daemon process not found');
  return daemon.pid;
}
