import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

/** `doctor` and the start checks of `run`, through the built CLI: output and exit codes. */

const ROOT = path.resolve(import.meta.dirname, '../..');
let stack: Stack | undefined;

afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], {
      cwd: ROOT,
      env: { ...process.env, PAYLINK_CONFIG: '', NO_COLOR: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function configFile(config: unknown): string {
  const file = path.join(stack!.dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

describe('odoo-paylink doctor', () => {
  it('exits 0 with a ✓ line per check on a healthy setup, without colour in a pipe', async () => {
    stack = await startStack();
    const file = configFile({ ...stack.config, http: { ...stack.config.http, port: 0 } });
    const { code, stdout } = await cli(['doctor', '--config', file]);
    expect(stdout).not.toContain('\u001b[');
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(10);
    for (const line of lines) expect(line).toMatch(/^✓ /);
    expect(code).toBe(0);
  });

  it('exits 1 when a check fails; --json prints the array', async () => {
    stack = await startStack();
    const [company] = stack.config.companies;
    const file = configFile({ ...stack.config, companies: [{ ...company, journalId: 9999 }] });
    const { code, stdout } = await cli(['doctor', '--json', '--config', file]);
    const results = JSON.parse(stdout) as { id: string; verdict: string; fix?: string }[];
    expect(results.find((result) => result.id === `companies.${stack!.companyId}.journal`)).toMatchObject({
      verdict: 'fail',
      fix: `set companies[0].journalId to a bank or cash journal of company ${stack.companyId}, e.g. ${stack.journalId} (Bank)`,
    });
    expect(code).toBe(1);
  });

  it('exits 78 with one ✗ line when the config does not load', async () => {
    stack = await startStack();
    const [company] = stack.config.companies;
    const file = configFile({ ...stack.config, companies: [{ ...company, journalId: 'seven' }] });
    const { code, stdout } = await cli(['doctor', '--config', file]);
    expect(stdout).toMatch(
      /^✗ configuration: .*companies\.0\.journalId.* — fix: correct the keys named above/,
    );
    expect(code).toBe(78);
  });
});

describe('odoo-paylink run', () => {
  it("refuses to start on a sale journal: exit 78 with the doctor's line", async () => {
    stack = await startStack();
    const sale = stack.odoo.models.createJournal({
      name: 'Customer Invoices',
      type: 'sale',
      code: 'XSAL',
      companyId: stack.companyId,
    });
    const [company] = stack.config.companies;
    const file = configFile({
      ...stack.config,
      companies: [{ ...company, journalId: sale }],
      http: { ...stack.config.http, port: 0 },
    });
    const { code, stdout, stderr } = await cli(['run', '--config', file, '--log-format', 'json']);
    expect(stderr).toContain(
      `✗ company ${stack.companyId} journal: journal ${sale} (Customer Invoices) is a sale journal`,
    );
    expect(stdout + stderr).not.toContain('odoo-paylink is running');
    expect(code).toBe(78);
  });
});
