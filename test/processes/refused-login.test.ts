import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, freePort, spawnDaemon } from '../support/daemon-process.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let child: ChildProcess | undefined;
let daemon: DaemonProcess;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stack?.close();
});

describe('refused Odoo credentials at start', () => {
  it('keep the daemon up and idle, with one login attempt, an alert and /readyz 503', async () => {
    stack = await startStack();
    // Only the daemon's own calls (the admin's setup logged in before).
    stack.odoo.calls.length = 0;
    const port = await freePort();
    const configFile = path.join(stack.dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...stack.config,
        odoo: { ...stack.config.odoo, password: 'not-the-password' },
        http: { host: '127.0.0.1', port },
        schedule: { publish: '* * * * * *', confirm: '* * * * * *', timezone: 'UTC' },
      }),
    );
    daemon = spawnDaemon(configFile);
    child = daemon.child;
    await daemon.waitFor('odoo-paylink is idle');
    const output = daemon.output();
    expect(output).toContain('ALERT: odoo-paylink is idle');
    // Several schedule ticks later it is still up and has not tried again.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(child.exitCode).toBeNull();
    const logins = stack.odoo.calls.filter((call) => call.service === 'common' && call.method !== 'version');
    expect(logins).toHaveLength(1);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(503);
    const readyBody = JSON.stringify(await ready.json());
    expect(JSON.parse(readyBody)).toEqual({ status: 'not_ready', reason: 'odoo_credentials_refused' });
    // The reason is a code: Odoo's refusal text (in the log) names the login and the database.
    expect(readyBody).not.toContain(stack.config.odoo!.login);
    expect(readyBody).not.toContain(stack.config.odoo!.db);
    expect(daemon.output()).not.toContain('not-the-password');

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child?.on('exit', resolve));
    expect(code).toBe(0);
  }, 40_000);
});

describe('Odoo not set up yet (fields missing) at start', () => {
  it('keeps the daemon up and idle, naming the admin step, instead of exiting into a restart loop', async () => {
    stack = await startStack({ skipSetup: true });
    const port = await freePort();
    const configFile = path.join(stack.dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...stack.config,
        // Asked to create the fields, the Billing bot is refused (AccessError): still no exit.
        odoo: { ...stack.config.odoo, createFields: true },
        http: { host: '127.0.0.1', port },
      }),
    );
    daemon = spawnDaemon(configFile);
    child = daemon.child;
    await daemon.waitFor('odoo-paylink is idle');
    const output = daemon.output();
    expect(output).toContain('setup-odoo');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(child.exitCode).toBeNull();
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'odoo_fields_missing' });
    child.kill('SIGTERM');
    expect(await new Promise<number | null>((resolve) => child?.on('exit', resolve))).toBe(0);
  }, 40_000);
});
