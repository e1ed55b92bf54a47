import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type App, createApp } from '../../src/app.js';
import { abortableFetch } from '../../src/gateways/abortable-fetch.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { drainWithin, refuseExtraPm2Copies } from '../../src/main.js';
import { isOdooError } from '../../src/odoo/errors.js';
import { exchange } from '../../src/odoo/http.js';
import { type Stack, settle, startStack } from '../support/stack.js';

let stack: Stack | undefined;
const apps: App[] = [];

afterEach(async () => {
  for (const app of apps.splice(0)) app.close();
  await stack?.close();
  stack = undefined;
});

/** An app of the stack whose Odoo and gateway calls end when `signal` aborts, as the daemon's do. */
function stoppableApp(s: Stack, signal: AbortSignal): App {
  const log = createLogger({ level: 'error', format: 'json', stream: new PassThrough() });
  const app = createApp(s.config, log, { signal, fetch: abortableFetch(signal) });
  apps.push(app);
  return app;
}

function linksPerInvoice(app: App): Map<number, number> {
  const rows = app.db
    .prepare('SELECT invoice_id AS invoiceId, count(*) AS count FROM links GROUP BY invoice_id')
    .all() as { invoiceId: number; count: number }[];
  return new Map(rows.map((row) => [row.invoiceId, row.count]));
}

describe('bounded shutdown', () => {
  it('aborts an Odoo call in flight at once when the stop signal fires, as a retryable timeout', async () => {
    stack = await startStack({ skipSetup: true });
    stack.odoo.faults.latencyMs = 10_000;
    const stop = new AbortController();
    const started = Date.now();
    const call = exchange(
      fetch,
      new URL('/jsonrpc', stack.odoo.url).toString(),
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
      { label: 'common.version', timeoutMs: 30_000, signal: stop.signal },
    );
    setTimeout(() => stop.abort(), 200);
    const error = await call.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(isOdooError(error, 'timeout'), String(error)).toBe(true);
    expect((error as Error).message).toContain('aborted: odoo-paylink is stopping');
    expect((error as { retryable: boolean }).retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('a pass cut by the abort leaves every link resumable: the next start finishes it, one link per invoice', async () => {
    stack = await startStack();
    const invoiceIds = stack.createInvoices(4);
    const stop = new AbortController();
    const app = stoppableApp(stack, stop.signal);
    await app.prepareOdoo();
    // Slow enough that the pass is still in its Odoo calls when the grace period ends.
    stack.odoo.faults.latencyMs = 300;
    const pass = app.pipeline.publish().catch(() => undefined);
    const started = Date.now();
    const drained = await drainWithin(pass, stop, 700, 3_000, silentLogger);
    expect(drained, 'the pass ended once its calls were aborted').toBe(true);
    expect(stop.signal.aborted, 'the grace period ran out, so the calls were aborted').toBe(true);
    expect(Date.now() - started).toBeLessThan(3_000);
    const cut = linksPerInvoice(app);
    expect(
      invoiceIds.filter((id) => stack?.odoo.models.invoiceFieldValue(id, 'x_paylink_url')),
      'the pass did not get through every invoice before the abort',
    ).not.toHaveLength(invoiceIds.length);
    app.close();
    apps.splice(apps.indexOf(app), 1);

    // The next start, Odoo fast again: everything finished, nothing twice.
    stack.odoo.faults.latencyMs = 0;
    const next = await stack.readyApp();
    await settle(next);
    const after = linksPerInvoice(next);
    for (const id of invoiceIds) {
      expect(after.get(id), `invoice ${id}: one link (had ${cut.get(id) ?? 0} when cut)`).toBe(1);
      expect(stack.odoo.models.invoiceFieldValue(id, 'x_paylink_url')).toMatch(/^https?:\/\//);
    }
    expect(stack.mytpe.links(), 'one MyTPE link per invoice').toHaveLength(invoiceIds.length);
  });

  it('lets work that ends within the grace period finish without aborting anything', async () => {
    const stop = new AbortController();
    const work = new Promise((resolve) => setTimeout(resolve, 50));
    expect(await drainWithin(work, stop, 1_000, 1_000, silentLogger)).toBe(true);
    expect(stop.signal.aborted).toBe(false);
  });

  it('gives up when the work outlives the abort too, within grace + abort time', async () => {
    const stop = new AbortController();
    const started = Date.now();
    expect(await drainWithin(new Promise(() => {}), stop, 100, 100, silentLogger)).toBe(false);
    expect(stop.signal.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('aborts the gateways’ calls through their fetch, keeping their own timeout', async () => {
    const stop = new AbortController();
    let seen: AbortSignal | undefined;
    const base: typeof fetch = (_input, init) => {
      seen = init?.signal ?? undefined;
      return new Promise((_resolve, reject) => {
        init?.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    };
    const own = new AbortController();
    const call = abortableFetch(stop.signal, base)('http://127.0.0.1:9/', { signal: own.signal });
    stop.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen?.aborted).toBe(true);
    // Its own signal still ends it too.
    const other = new AbortController();
    const second = abortableFetch(other.signal, base)('http://127.0.0.1:9/', { signal: own.signal });
    own.abort();
    await expect(second).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('PM2 copies', () => {
  it('lets a process outside PM2, and PM2 copy 0 in fork mode, run', () => {
    expect(() => refuseExtraPm2Copies({})).not.toThrow();
    expect(() =>
      refuseExtraPm2Copies({ pm_id: '0', exec_mode: 'fork_mode', NODE_APP_INSTANCE: '0', instances: '1' }),
    ).not.toThrow();
  });

  it('refuses copy 1 of `instances: 2` with a ConfigError (exit 78) that says why and what to set', () => {
    expect(() =>
      refuseExtraPm2Copies({ pm_id: '1', exec_mode: 'fork_mode', NODE_APP_INSTANCE: '1', instances: '2' }),
    ).toThrow(/PM2 copy 1 of odoo-paylink is refused \(instances: 2\).*single writer.*instances: 1/);
    expect(() => refuseExtraPm2Copies({ pm_id: '3', instance_var: 'INSTANCE_ID', INSTANCE_ID: '2' })).toThrow(
      expect.objectContaining({ name: 'ConfigError' }),
    );
  });

  it('refuses cluster mode, every copy', () => {
    expect(() =>
      refuseExtraPm2Copies({ pm_id: '0', exec_mode: 'cluster_mode', NODE_APP_INSTANCE: '0' }),
    ).toThrow(/PM2 cluster mode is refused/);
  });
});
