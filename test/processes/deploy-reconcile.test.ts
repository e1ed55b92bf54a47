import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isValidCron } from '../../src/jobs/scheduler.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SYSTEMD = path.join(ROOT, 'deploy/systemd');

const hasSystemdAnalyze = spawnSync('systemd-analyze', ['--version'], { stdio: 'ignore' }).status === 0;

/** The reconcile command a deploy file runs, as argv after `dist/cli.js`. */
function cliArgs(line: string): string[] {
  const at = line.indexOf('dist/cli.js ');
  return line
    .slice(at + 'dist/cli.js '.length)
    .split('>')[0]!
    .trim()
    .split(/\s+/);
}

describe('the shipped reconcile timer and crontab', () => {
  it.skipIf(!hasSystemdAnalyze)('are units systemd accepts', () => {
    const output = execFileSync(
      'systemd-analyze',
      [
        'verify',
        '--man=no',
        path.join(SYSTEMD, 'odoo-paylink-reconcile.timer'),
        path.join(SYSTEMD, 'odoo-paylink-reconcile.service'),
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
    );
    expect(output).toBe('');
  });

  it('run a reconcile command line the CLI accepts, on a valid schedule', () => {
    const service = readFileSync(path.join(SYSTEMD, 'odoo-paylink-reconcile.service'), 'utf8');
    const cron = readFileSync(path.join(ROOT, 'deploy/cron/odoo-paylink-reconcile'), 'utf8');
    const execStart = service.split('\n').find((line) => line.startsWith('ExecStart='))!;
    const job = cron.split('\n').find((line) => /^\d/.test(line))!;
    expect(isValidCron(job.split(/\s+/).slice(0, 5).join(' '))).toBe(true);
    for (const args of [cliArgs(execStart), cliArgs(job)]) {
      expect(args.slice(0, 2)).toEqual(['reconcile', '--fix']);
      // --help after them: commander checks each option's value (a bad one exits 64) and runs nothing.
      const result = spawnSync(process.execPath, ['dist/cli.js', ...args, '--help'], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      // …but skips its check of unknown names, done here.
      for (const option of args.filter((arg) => arg.startsWith('--')))
        expect(result.stdout).toMatch(new RegExp(`^\\s+${option}\\b`, 'm'));
    }
  });
});
