import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';
import { listen, type Runtime, startRuntime } from '../../src/main.js';
import { statusReport } from '../../src/output/status-report.js';
import { type Stack, startStack } from '../support/stack.js';
import { signedWebhookHeaders } from '../support/webhook.js';

let stack: Stack | undefined;
let runtime: Runtime | undefined;
let server: FastifyInstance | undefined;

afterEach(async () => {
  await server?.close();
  await runtime?.close();
  await stack?.close();
  server = runtime = stack = undefined;
});

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** The Prometheus text format's sample lines (comments skipped), parsed exactly. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match?.[1] || !match[3]) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[pair[1]!] = pair[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** The sum of a metric's samples whose labels include `labels`. */
function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name)
    .filter((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

async function servedWithAdmin(): Promise<{
  app: App;
  url: string;
  metricsUrl: string;
  idle(): Promise<void>;
}> {
  stack = await startStack();
  const adminPort = await freePort();
  const app = await stack.readyApp({ config: { http: { ...stack.config.http, adminPort } } });
  const served = await stack.serve(app);
  return { app, ...served, metricsUrl: `http://127.0.0.1:${adminPort}/metrics` };
}

async function scrape(url: string): Promise<Sample[]> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parseMetrics(await response.text());
}

describe('/metrics on the admin interface', () => {
  it('counts what a cycle did: links, payments and their amount, webhooks, Odoo and gateway calls', async () => {
    const { app, url, metricsUrl, idle } = await servedWithAdmin();
    stack!.createInvoices(3, '1500.00');
    await app.pipeline.publish();
    const [paid, alsoPaid] = stack!.mytpe.links();
    stack!.mytpe.pay(paid!.id);
    stack!.mytpe.pay(alsoPaid!.id);
    await idle();
    // A forged delivery, refused at the door.
    const forged = JSON.stringify({ event: 'transaction.completed', data: {} });
    const refused = await fetch(`${url}/webhooks/mytpe`, {
      method: 'POST',
      headers: signedWebhookHeaders(forged, { secret: 'whsec_not_ours' }),
      body: forged,
    });
    expect(refused.status).toBe(401);

    const samples = await scrape(metricsUrl);
    expect(total(samples, 'paylink_links_created_total', { gateway: 'mytpe' })).toBe(3);
    expect(total(samples, 'paylink_payments_registered_total', { gateway: 'mytpe', currency: 'DZD' })).toBe(
      2,
    );
    // Minor units: 2 × 1500.00 DZD.
    expect(
      total(samples, 'paylink_payments_registered_minor_units_total', { gateway: 'mytpe', currency: 'DZD' }),
    ).toBe(300_000);
    expect(total(samples, 'paylink_links', { state: 'registered' })).toBe(2);
    expect(total(samples, 'paylink_links', { state: 'open' })).toBe(1);
    expect(total(samples, 'paylink_oldest_open_link_age_seconds')).toBeGreaterThanOrEqual(0);
    // Every webhook the sandbox sent was stored (accepted); the forged one was not.
    const stored = app.events.countsByState().reduce((sum, { count }) => sum + count, 0);
    expect(total(samples, 'paylink_webhooks_total', { gateway: 'mytpe', verdict: 'accepted' })).toBe(stored);
    expect(total(samples, 'paylink_webhooks_total', { gateway: 'mytpe', verdict: 'bad_signature' })).toBe(1);
    expect(total(samples, 'paylink_queue_depth', { queue: 'events' })).toBe(0);
    expect(
      total(samples, 'paylink_odoo_call_duration_seconds_count', { operation: 'account.move.search_read' }),
    ).toBeGreaterThan(0);
    expect(
      total(samples, 'paylink_gateway_call_duration_seconds_count', { gateway: 'mytpe', outcome: 'ok' }),
    ).toBeGreaterThan(0);
    expect(total(samples, 'paylink_pass_duration_seconds_count', { pass: 'publish', outcome: 'ok' })).toBe(1);
    expect(total(samples, 'paylink_odoo_call_errors_total', { class: 'network' })).toBe(0);
    // The one refusal of a normal start: the Billing bot may not read the database uuid.
    expect(
      total(samples, 'paylink_odoo_call_errors_total', {
        operation: 'ir.config_parameter.get_param',
        class: 'access',
      }),
    ).toBe(1);
    // The public interface does not serve it.
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
  });

  it('counts Odoo errors by class when Odoo cannot be reached, and /readyz says so', async () => {
    stack = await startStack();
    const unreachable: typeof fetch = () => Promise.reject(new TypeError('fetch failed'));
    const app = stack.app({ fetch: unreachable });
    for (let attempt = 0; attempt < 3; attempt++) await app.odoo.version().catch(() => undefined);
    const samples = parseMetrics((await app.metrics.scrape()).body);
    expect(total(samples, 'paylink_odoo_call_errors_total', { class: 'network' })).toBeGreaterThanOrEqual(3);
    expect(
      total(samples, 'paylink_odoo_call_duration_seconds_count', { outcome: 'error' }),
    ).toBeGreaterThanOrEqual(3);
    const { url } = await stack.serve(app, { process: false });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'not_ready', reason: 'odoo_unavailable' });
  });
});

describe('status --json exit codes', () => {
  it('0 while the daemon beats and nothing needs a person, 1 with an alert, 2 once it stopped', async () => {
    const { app } = await servedWithAdmin();
    stack!.createInvoices(1);
    await app.pipeline.publish();
    const healthy = statusReport(app);
    expect(healthy.daemon.state).toBe('running');
    expect(healthy.daemon.pid).toBe(process.pid);
    expect(healthy.links).toEqual({ open: 1 });
    expect(healthy.exitCode).toBe(0);

    app.alerts.raise('test.alert', 'the journal cannot take payments');
    const alerted = statusReport(app);
    expect(alerted.alerts.map((alert) => alert.key)).toEqual(['test.alert']);
    expect(alerted.exitCode).toBe(1);
    app.alerts.clear('test.alert');

    // A heartbeat gone stale: the daemon died without stopping.
    expect(statusReport(app, Date.now() + 5 * 60_000)).toMatchObject({
      exitCode: 2,
      daemon: { state: 'not_running' },
    });
    // A clean stop takes the heartbeat away at once.
    await stack!.close();
    const fresh = await startStack();
    stack = fresh;
    expect(statusReport(fresh.app())).toMatchObject({
      exitCode: 2,
      daemon: { state: 'not_running', heartbeatAt: null },
    });
  });

  it('2 while the daemon is up but halted on refused credentials', async () => {
    stack = await startStack();
    const config: Config = {
      ...stack.config,
      odoo: { ...stack.config.odoo!, password: 'not-the-password' },
      http: { ...stack.config.http, host: '127.0.0.1', port: 0 },
    };
    runtime = await startRuntime(config, silentLogger, { tolerateRefusedLogin: true });
    server = (
      await listen(runtime.app, { trigger: () => Promise.resolve() }, { refusedBy: runtime.refusedBy })
    ).server;
    expect(statusReport(runtime.app)).toMatchObject({
      exitCode: 2,
      daemon: { state: 'halted', reasons: ['odoo_credentials_refused'] },
    });
  });
});
