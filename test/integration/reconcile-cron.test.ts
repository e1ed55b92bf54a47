import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createScheduler } from '../../src/app.js';
import { type Job, Scheduler } from '../../src/jobs/scheduler.js';
import { ReconcileLockedError, reconcileLockPath } from '../../src/pipeline/reconcile-lock.js';
import { captureSmtpConfig, type SmtpCapture, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import { acquireStoreLock, type StoreLock } from '../../src/store/lock.js';
import { type Stack, startStack } from '../support/stack.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
let stack: Stack | undefined;
let capture: SmtpCapture | undefined;
const locks: StoreLock[] = [];

afterEach(async () => {
  for (const lock of locks.splice(0)) lock.release();
  await capture?.close();
  capture = undefined;
  await stack?.close();
  stack = undefined;
});

const WINDOW = () => ({ since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) });

/** Two invoices paid at the gateway and not yet registered: two discrepancies until --fix. */
async function paidNotRegistered(): Promise<Stack> {
  const started = await startStack();
  stack = started;
  started.createInvoices(2);
  const app = started.app();
  await app.prepareOdoo();
  await app.pipeline.publish();
  for (const link of started.mytpe.links()) started.mytpe.pay(link.id);
  app.close();
  return started;
}

function writeConfig(at: Stack, extra: Record<string, unknown> = {}): string {
  const file = path.join(at.dir, 'config.json');
  writeFileSync(file, JSON.stringify({ ...at.config, ...extra }));
  return file;
}

/** The built CLI, asynchronously: the sandboxes live in this process and must keep answering. */
function reconcileCli(
  configFile: string,
  ...args: string[]
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', '--config', configFile, 'reconcile', ...args],
      { cwd: ROOT, env: { ...process.env, PAYLINK_CONFIG: '' } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

/**
 * A reconcile lock held by another live process, as a reconcile from cron would hold it: vitest's
 * own (this worker's parent), which outlives the test. Not this process's pid: a lock naming this
 * very pid but not held in it is a former life of the pid, and stale.
 */
const HOLDER = process.ppid;

function holdReconcileLock(storePath: string, pid = HOLDER): void {
  writeFileSync(
    reconcileLockPath(storePath),
    `${JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString() })}\n`,
  );
}

describe('reconcile from cron', () => {
  it('runs one reconciliation per store: a second one at the same time is refused and changes nothing', async () => {
    const at = await paidNotRegistered();
    const first = at.app();
    const second = at.app();
    await first.prepareOdoo();
    await second.prepareOdoo();
    const running = first.pipeline.reconcile(WINDOW(), { fix: true });
    await expect(second.pipeline.reconcile(WINDOW(), { fix: true })).rejects.toThrow(ReconcileLockedError);
    expect((await running).discrepancies.filter((entry) => entry.fixed)).toHaveLength(2);
    // Its lock went with it: the next run goes ahead.
    expect((await second.pipeline.reconcile(WINDOW(), { fix: false })).remaining).toBe(0);
    const runs = second.db.prepare(`SELECT COUNT(*) AS count FROM runs WHERE kind = 'reconcile'`).get() as {
      count: number;
    };
    expect(runs.count, 'the refused run recorded nothing').toBe(2);
  }, 60_000);

  it("the daemon's nightly run steps aside, with a warning, while a reconcile from cron runs", async () => {
    const at = await paidNotRegistered();
    const app = at.app();
    await app.prepareOdoo();
    const jobs: Job[] = [];
    const add = vi.spyOn(Scheduler.prototype, 'add').mockImplementation((job) => {
      jobs.push(job);
    });
    createScheduler(app);
    add.mockRestore();
    const nightly = jobs.find((job) => job.name === 'reconcile')!;
    holdReconcileLock(at.config.store.path);
    await expect(nightly.run()).resolves.toBeUndefined();
    const skipped = at.logs.find((record) => record.message.startsWith('nightly reconciliation skipped'));
    expect(skipped?.level).toBe('warn');
    expect(skipped?.message).toContain(`another reconcile (pid ${HOLDER}`);
    expect(app.links.countsByState().find((entry) => entry.state === 'registered')).toBeUndefined();
  }, 60_000);

  it('as a command, says another reconcile runs and exits 75 without touching anything', async () => {
    const at = await paidNotRegistered();
    const configFile = writeConfig(at);
    holdReconcileLock(at.config.store.path);
    const busy = await reconcileCli(configFile, '--fix');
    expect(busy.status).toBe(75);
    expect(busy.stderr).toContain(`another reconcile (pid ${HOLDER} on ${hostname()}`);
    expect(busy.stderr).toContain('this run did nothing');
    expect(busy.stdout).toBe('');
    // Nothing was registered: the invoices are still open in Odoo.
    const open = at.app();
    expect(open.links.countsByState().find((entry) => entry.state === 'registered')).toBeUndefined();
    open.close();
  }, 60_000);

  it('names the daemon when the run in progress is its own nightly one', async () => {
    const at = await paidNotRegistered();
    const configFile = writeConfig(at);
    // This process plays the daemon: its store lock, and its nightly run's reconcile lock.
    locks.push(acquireStoreLock(at.config.store.path));
    holdReconcileLock(at.config.store.path, process.pid);
    const busy = await reconcileCli(configFile);
    expect(busy.status).toBe(75);
    expect(busy.stderr).toContain(`the daemon's own nightly run (pid ${process.pid}`);
  }, 60_000);

  it('runs next to the daemon (its store lock held) and says so', async () => {
    const at = await paidNotRegistered();
    const configFile = writeConfig(at);
    locks.push(acquireStoreLock(at.config.store.path));
    const result = await reconcileCli(configFile, '--fix');
    expect(result.stderr).toContain(`the daemon (pid ${process.pid} on ${hostname()}) runs on this store`);
    expect(result.stderr).toContain('OK: every discrepancy was fixed.');
    expect(result.status).toBe(0);
  }, 60_000);

  it('with --wait, waits for the run in progress and then runs', async () => {
    const at = await paidNotRegistered();
    const configFile = writeConfig(at);
    const lock = acquireStoreLock(`${at.config.store.path}.reconcile`);
    setTimeout(() => lock.release(), 1_500);
    const result = await reconcileCli(configFile, '--wait', '20');
    expect(result.stderr).not.toContain('did nothing');
    expect(result.stderr).toContain('ATTENTION: 2 discrepancies need a person.');
    expect(result.status).toBe(1);
  }, 60_000);

  it('mails the report when discrepancies remain, as well as exiting 1; and none when all agree', async () => {
    const at = await paidNotRegistered();
    capture = await startSmtpCapture({ dir: path.join(at.dir, 'mail') });
    const smtp = captureSmtpConfig(capture, '"Paylink" <paylink@example.com>');
    const configFile = writeConfig(at, { mail: { ...at.config.mail, smtp } });

    const found = await reconcileCli(configFile, '--mail-report', 'accounts@example.com');
    expect(found.status).toBe(1);
    expect(found.stderr).toContain('mailed the report to accounts@example.com');
    const [file] = await capture.messages();
    expect(file).toBeDefined();
    const mail = await simpleParser(readFileSync(file!));
    expect(mail.subject).toMatch(/^odoo-paylink: 2 payment discrepancies need a person \(/);
    expect((Array.isArray(mail.to) ? mail.to[0] : mail.to)?.text).toBe('accounts@example.com');
    expect(mail.text).toContain('ATTENTION: 2 discrepancies need a person.');
    expect(mail.text).toContain('paid_not_registered');
    const csv = mail.attachments.find((attachment) => attachment.filename?.endsWith('.csv'));
    expect(csv?.content.toString().split('\n')[0]).toBe(
      'kind,fixed,invoice,invoiceId,gateway,linkId,transactionId,amount,detail',
    );
    expect(mail.text).not.toContain(at.mytpe.apiSecret);

    // reconcile.reportTo in the config does the same; once fixed there is nothing to mail.
    const fromConfig = writeConfig(at, {
      mail: { ...at.config.mail, smtp },
      reconcile: { ...at.config.reconcile, reportTo: 'accounts@example.com' },
    });
    const fixed = await reconcileCli(fromConfig, '--fix');
    expect(fixed.status).toBe(0);
    expect(fixed.stderr).not.toContain('mailed the report');
    expect(await capture.messages()).toHaveLength(1);
  }, 60_000);

  it('refuses a report address without mail.smtp, before doing anything', async () => {
    const at = await paidNotRegistered();
    const result = await reconcileCli(writeConfig(at), '--mail-report', 'accounts@example.com');
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('needs mail.smtp configured');
    const bad = await reconcileCli(writeConfig(at), '--mail-report', 'not-an-address');
    expect(bad.status).toBe(64);
  }, 60_000);
});
