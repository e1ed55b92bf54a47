import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { listen, type Runtime, startRuntime } from '../../src/main.js';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack | undefined;
let runtime: Runtime | undefined;
let server: FastifyInstance | undefined;

afterEach(async () => {
  await server?.close();
  await runtime?.close();
  await stack?.close();
  server = runtime = stack = undefined;
});

/** Starts the daemon the way `run` does when Odoo refuses it at start: idle, /readyz listening. */
async function idleDaemon(
  odoo: Partial<NonNullable<Config['odoo']>>,
): Promise<{ status: number; body: string }> {
  stack = await startStack();
  const config: Config = {
    ...stack.config,
    odoo: { ...stack.config.odoo!, ...odoo },
    http: { ...stack.config.http, host: '127.0.0.1', port: 0 },
  };
  runtime = await startRuntime(config, silentLogger, { tolerateRefusedLogin: true });
  expect(runtime.refusedBy).toBeDefined();
  const listening = await listen(
    runtime.app,
    { trigger: () => Promise.resolve() },
    { refusedBy: runtime.refusedBy },
  );
  server = listening.server;
  const response = await fetch(`${listening.url}/readyz`);
  return { status: response.status, body: await response.text() };
}

describe('/readyz of a daemon Odoo refused at start', () => {
  it('says the credentials were refused, without the login or the database', async () => {
    const { status, body } = await idleDaemon({ password: 'not-the-password' });
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({ status: 'not_ready', reason: 'odoo_credentials_refused' });
    // Odoo's refusal text, which the log keeps, names both.
    expect(runtime?.refusedBy?.message).toContain(stack!.config.odoo!.login);
    expect(body).not.toContain(stack!.config.odoo!.login);
    expect(body).not.toContain(stack!.odoo.db);
  });

  it('says the database is unknown, without its name', async () => {
    const { status, body } = await idleDaemon({ db: 'acme-prod-2026' });
    expect(status).toBe(503);
    expect(JSON.parse(body)).toEqual({ status: 'not_ready', reason: 'odoo_unknown_database' });
    expect(runtime?.refusedBy?.message).toContain('acme-prod-2026');
    expect(body).not.toContain('acme-prod-2026');
    expect(body).not.toContain(stack!.config.odoo!.login);
  });
});
