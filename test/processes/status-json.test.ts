import { type ChildProcess, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DaemonProcess, freePort, ROOT, spawnDaemon } from '../support/daemon-process.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let child: ChildProcess | undefined;
let daemon: DaemonProcess;

afterEach(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await stack?.close();
});

/** `odoo-paylink status --json` as an admin's script runs it: its exit code and its JSON. */
function status(configFile: string): { code: number | null; report: { daemon: { state: string } } } {
  const result = spawnSync(process.execPath, ['dist/cli.js', 'status', '--json', '--config', configFile], {
    cwd: ROOT,
    env: { ...process.env, PAYLINK_CONFIG: '' },
    encoding: 'utf8',
  });
  return { code: result.status, report: JSON.parse(result.stdout) };
}

describe('status --json against a real daemon', () => {
  it('exits 0 while `run` beats, 1 when something needs a person, 2 once it stopped; /metrics on the admin port', async () => {
    stack = await startStack();
    const [port, adminPort] = [await freePort(), await freePort()];
    const configFile = path.join(stack.dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({ ...stack.config, http: { host: '127.0.0.1', port, adminPort } }),
    );
    expect(status(configFile)).toMatchObject({ code: 2, report: { daemon: { state: 'not_running' } } });

    daemon = spawnDaemon(configFile);
    child = daemon.child;
    await daemon.waitFor('odoo-paylink is running');
    const output = daemon.output();
    expect(output).toContain('odoo-paylink is running');

    expect(status(configFile)).toMatchObject({ code: 0, report: { daemon: { state: 'running' } } });
    const metrics = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(
      /^paylink_odoo_call_duration_seconds_count\{operation="common\.version",outcome="ok"\} 1$/m,
    );
    expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(404);

    // What a person must fix: an alert in the daemon's store.
    const app = stack.app();
    app.alerts.raise('company.1.journal', 'company 1 gets no payment links: the journal is a sale journal');
    expect(status(configFile).code).toBe(1);
    app.alerts.clear('company.1.journal');
    app.close();

    child.kill('SIGTERM');
    expect(await new Promise<number | null>((resolve) => child?.on('exit', resolve))).toBe(0);
    expect(status(configFile)).toMatchObject({ code: 2, report: { daemon: { state: 'not_running' } } });
  }, 60_000);
});
