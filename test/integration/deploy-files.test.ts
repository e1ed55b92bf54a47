import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema, SHUTDOWN_ABORT_MS } from '../../src/config/schema.js';

// No PM2 run, systemd or Docker here: the files admins start from are read and their key
// directives held against the daemon's own bounds (README: "Running under systemd" and
// "Running in Docker" give the manual check).
const ROOT = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
/** The longest the daemon takes to stop with the default config: grace, then the abort. */
const STOP_BOUND_MS = configSchema.parse({}).shutdown.graceMs + SHUTDOWN_ABORT_MS;

/** A systemd unit as section → key → values (a key may repeat); comments and blanks dropped. */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section?.[1]) {
      current = new Map();
      sections.set(section[1], current);
      continue;
    }
    const pair = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!pair?.[1] || !current) throw new Error(`not a unit line: ${line}`);
    current.set(pair[1], [...(current.get(pair[1]) ?? []), pair[2] ?? '']);
  }
  return sections;
}

/** Dockerfile instructions, continuation lines joined, per stage. */
function parseDockerfile(text: string): { instruction: string; args: string }[][] {
  const joined = text.replace(/\\\n/g, ' ');
  const stages: { instruction: string; args: string }[][] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [instruction = '', ...rest] = line.split(/\s+/);
    const entry = { instruction: instruction.toUpperCase(), args: rest.join(' ') };
    if (entry.instruction === 'FROM') stages.push([]);
    const stage = stages.at(-1);
    if (!stage) throw new Error(`instruction before FROM: ${line}`);
    stage.push(entry);
  }
  return stages;
}

describe('ecosystem.config.cjs', () => {
  const app = z
    .object({
      script: z.string(),
      exec_mode: z.string(),
      instances: z.number(),
      wait_ready: z.boolean(),
      stop_exit_codes: z.array(z.number()),
      kill_timeout: z.number(),
      env: z.record(z.string(), z.string()),
      env_production: z.record(z.string(), z.string()),
    })
    .loose()
    .parse(
      z
        .object({ apps: z.array(z.unknown()).length(1) })
        .parse(createRequire(import.meta.url)(path.join(ROOT, 'ecosystem.config.cjs'))).apps[0],
    );

  it('runs one copy in fork mode, waits for ready, leaves exit 78 stopped, and outwaits the daemon’s stop', () => {
    expect(app.exec_mode).toBe('fork');
    expect(app.instances).toBe(1);
    expect(app.wait_ready).toBe(true);
    expect(app.stop_exit_codes).toContain(78);
    expect(app.kill_timeout).toBeGreaterThan(STOP_BOUND_MS);
  });

  it('starts sandbox mode by default and config/local.json with --env production, with no secret in either env', () => {
    expect(app.env.PAYLINK_CONFIG).toBeUndefined();
    expect(app.env_production.PAYLINK_CONFIG).toBe('config/local.json');
    for (const name of [...Object.keys(app.env), ...Object.keys(app.env_production)])
      expect(name).not.toMatch(/PASSWORD|SECRET|API_KEY|TOKEN/);
  });
});

describe('deploy/systemd/odoo-paylink.service', () => {
  const unit = parseUnit(read('deploy/systemd/odoo-paylink.service'));
  const service = unit.get('Service') ?? new Map<string, string[]>();
  const one = (key: string) => service.get(key)?.at(-1);

  it('runs the daemon as a dedicated user, secrets from a file, restarting on failure but not on 78', () => {
    expect(one('User')).toBe('odoo-paylink');
    expect(one('ExecStart')).toMatch(/node dist\/cli\.js run\b/);
    expect(service.has('EnvironmentFile') || service.has('LoadCredential')).toBe(true);
    expect(one('Restart')).toBe('on-failure');
    expect(one('RestartPreventExitStatus')?.split(/\s+/)).toContain('78');
    for (const value of service.get('Environment') ?? [])
      expect(value).not.toMatch(/PASSWORD=|SECRET=|API_KEY=/);
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('waits longer for the stop than the daemon takes', () => {
    expect(one('KillSignal') ?? 'SIGTERM').toBe('SIGTERM');
    expect(Number(one('TimeoutStopSec')) * 1000).toBeGreaterThan(STOP_BOUND_MS);
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const last = stages.at(-1) ?? [];
  const args = (stage: typeof last, instruction: string) =>
    stage.filter((entry) => entry.instruction === instruction).map((entry) => entry.args);

  it('builds in one node:20-slim stage (better-sqlite3 compiled there) and runs from another', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(args(stage, 'FROM')[0]).toMatch(/^node:20-slim\b/);
    const build = stages[0] ?? [];
    expect(args(build, 'RUN').join(' ')).toMatch(/python3.*make.*g\+\+/);
    expect(args(build, 'RUN').join(' ')).toMatch(/npm install --no-audit --no-fund/);
    expect(args(build, 'RUN').join(' ')).toMatch(/npm run build/);
    expect(args(last, 'COPY').join(' ')).toMatch(/--from=build .*node_modules/);
  });

  it('runs as a non-root user with a healthcheck on /readyz', () => {
    const user = args(last, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(args(last, 'HEALTHCHECK').join(' ')).toContain('/readyz');
    expect(args(last, 'STOPSIGNAL')).toEqual(['SIGTERM']);
    expect(args(last, 'CMD').join(' ')).toContain('"run"');
  });

  it('copies only files that exist, and .dockerignore keeps secrets and stores out of the context', () => {
    for (const stage of stages) {
      for (const copy of args(stage, 'COPY').filter((text) => !text.startsWith('--from'))) {
        const sources = copy.split(/\s+/).slice(0, -1);
        for (const source of sources) expect(existsSync(path.join(ROOT, source)), source).toBe(true);
      }
    }
    const ignored = read('.dockerignore').split('\n');
    for (const entry of ['.env', 'config/local.json', '*.db', 'node_modules', 'var'])
      expect(ignored).toContain(entry);
  });
});
