import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configTable } from '../../src/config/env-table.js';

/** The built CLI (`npm run build --silent` first), as an admin or cron runs it. */
const ROOT = path.resolve(import.meta.dirname, '../..');
const ESC = '\x1b[';

function cli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', ...args],
      { cwd: ROOT, env: { ...process.env, PAYLINK_CONFIG: '', NO_COLOR: '', ...env } },
      (error, stdout, stderr) => resolve({ status: error ? (error.code as number) : 0, stdout, stderr }),
    );
  });
}

/** `script` gives the CLI a terminal, where colour is allowed. */
const hasScript = (() => {
  try {
    execFileSync('script', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function onTerminal(command: string, env: NodeJS.ProcessEnv): string {
  return execFileSync('script', ['-qec', command, '/dev/null'], {
    cwd: ROOT,
    env: { ...process.env, PAYLINK_CONFIG: '', ...env },
    encoding: 'utf8',
  });
}

describe('the command line', () => {
  it('prints the version of package.json with --version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const result = await cli([flag]);
      expect(result.status).toBe(0);
      expect(result.stdout.trim()).toBe(version);
    }
  });

  it('exits 64 on a usage error, saying what was wrong once, and 0 on --help', async () => {
    const unknownCommand = await cli(['reconcil']);
    expect(unknownCommand.status).toBe(64);
    expect(unknownCommand.stderr).toContain("error: unknown command 'reconcil'");
    const unknownOption = await cli(['status', '--jsn']);
    expect(unknownOption.status).toBe(64);
    expect(unknownOption.stderr).toContain("error: unknown option '--jsn'");
    const badArgument = await cli(['reconcile', '--since', 'last tuesday']);
    expect(badArgument.status).toBe(64);
    expect(badArgument.stderr).toContain('expected a date like 2026-11-01');
    const badChoice = await cli(['--log-format', 'xml', 'status']);
    expect(badChoice.status).toBe(64);
    // Refused inside the command, not by commander's parser: printed by the CLI itself.
    const missing = await cli(['config']);
    expect(missing.status).toBe(64);
    expect(missing.stderr.match(/give --env-table/g)).toHaveLength(1);
    expect((await cli(['--help'])).status).toBe(0);
    expect((await cli(['help', 'reconcile'])).status).toBe(0);
  });

  it('keeps 78 for a configuration error', async () => {
    const result = await cli(['--config', '/nonexistent/paylink.json', 'status']);
    expect(result.status).toBe(78);
    expect(result.stderr).toContain('configuration error: config file not found: /nonexistent/paylink.json');
  });

  it('prints the table of environment variables that docs/configuration.md holds', async () => {
    const result = await cli(['config', '--env-table']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(configTable());
  });

  it('writes no colour codes into a pipe', async () => {
    const result = await cli([
      '--log-level',
      'debug',
      'preview-email',
      '--sample',
      '-o',
      path.join(ROOT, 'var/preview/cli-test.html'),
    ]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain('configuration from');
    expect(result.stderr).not.toContain(ESC);
  });

  it.skipIf(!hasScript)('colours a terminal, unless NO_COLOR is set', () => {
    const command = `node dist/cli.js --log-level debug preview-email --sample -o var/preview/cli-test.html`;
    const coloured = onTerminal(command, { NO_COLOR: '' });
    expect(coloured).toContain('configuration from');
    expect(coloured).toContain(ESC);
    const plain = onTerminal(command, { NO_COLOR: '1' });
    expect(plain).toContain('configuration from');
    expect(plain).not.toContain(ESC);
  });
});
