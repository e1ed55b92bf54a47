import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';
import { signedWebhookHeaders } from '../support/webhook.js';

/**
 * Throughput of the real pipeline over the loopback sandboxes. Run with `npm run bench`; the
 * figures are printed and written to test-output/bench.json. They measure this machine at this
 * moment (2 shared cores): compare runs on the same machine, not absolute values.
 */
const INVOICES = Number(process.env.BENCH_INVOICES ?? 1000);
const results: Array<{ case: string; value: number; unit: string; detail?: string }> = [];

function record(name: string, value: number, unit: string, detail?: string) {
  results.push({ case: name, value: Math.round(value * 10) / 10, unit, ...(detail ? { detail } : {}) });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await body();
  return { ms: performance.now() - start, value };
}

afterAll(() => {
  const out = path.resolve(import.meta.dirname, '../../test-output');
  mkdirSync(out, { recursive: true });
  writeFileSync(
    path.join(out, 'bench.json'),
    `${JSON.stringify({ invoices: INVOICES, results }, null, 2)}\n`,
  );
  console.log(
    [
      '',
      '| case | value | unit | detail |',
      '|---|---:|---|---|',
      ...results.map((r) => `| ${r.case} | ${r.value} | ${r.unit} | ${r.detail ?? ''} |`),
    ].join('\n'),
  );
});

describe(`pipeline throughput, ${INVOICES} invoices`, () => {
  for (const latency of [0, 20]) {
    it(`publish and confirm with ${latency} ms latency per Odoo and gateway call`, async () => {
      const stack: Stack = await startStack({ pipeline: { concurrency: 8, batchSize: 200 } });
      try {
        stack.createInvoices(INVOICES);
        const app = stack.app();
        await app.prepareOdoo();
        stack.odoo.faults.latencyMs = latency;
        stack.mytpe.faults.latencyMs = latency;
        const publish = await timed(() => app.pipeline.publish());
        expect(publish.value.linksCreated).toBe(INVOICES);
        record(
          `publish (latency ${latency} ms)`,
          INVOICES / (publish.ms / 1000),
          'links/s',
          `${Math.round(publish.ms)} ms for ${INVOICES}`,
        );

        stack.advanceOdooClock(600_000);
        await app.pipeline.publish();
        stack.advanceOdooClock(600_000);
        const idle = await timed(() => app.pipeline.publish());
        expect(idle.value.invoicesRead).toBe(0);
        record(`idle publish pass (latency ${latency} ms)`, idle.ms, 'ms', `${INVOICES} invoices in Odoo`);

        for (const link of stack.mytpe.links()) stack.mytpe.pay(link.id);
        const confirm = await timed(() => app.pipeline.confirm());
        expect(confirm.value.registered).toBe(INVOICES);
        record(
          `confirm + register (latency ${latency} ms)`,
          INVOICES / (confirm.ms / 1000),
          'payments/s',
          `${Math.round(confirm.ms)} ms`,
        );
      } finally {
        await stack.close();
      }
    }, 600_000);
  }

  it('webhook acknowledgement time', async () => {
    const stack = await startStack();
    try {
      const app = stack.app();
      const { url } = await stack.serve(app, { process: false });
      const samples: number[] = [];
      for (let index = 0; index < 500; index++) {
        const body = JSON.stringify({
          delivery_id: `bench-${index}`,
          event: 'transaction.completed',
          data: {
            transaction: { id: `t-${index}`, status: 'completed', amount: 1500 },
            pay_link: { id: `l-${index}` },
          },
        });
        const headers = signedWebhookHeaders(body);
        const start = performance.now();
        const response = await fetch(`${url}/webhooks/mytpe`, { method: 'POST', headers, body });
        await response.text();
        samples.push(performance.now() - start);
        expect(response.status).toBe(200);
      }
      samples.sort((a, b) => a - b);
      record(
        'webhook verify + store + 200, p50',
        percentile(samples, 50),
        'ms',
        '500 signed deliveries, round trip on loopback',
      );
      record('webhook verify + store + 200, p99', percentile(samples, 99), 'ms');
    } finally {
      await stack.close();
    }
  }, 120_000);

  it('pay page answering a live link, beside the webhook endpoint', async () => {
    const stack = await startStack();
    try {
      const app = await stack.readyApp({
        config: {
          http: {
            ...stack.config.http,
            port: 0,
            publicUrl: 'https://pay.example.test',
            paySecret: 'bench-pay-secret-0123456789abcdef0123456789',
            // The bench is one client address hammering one token: no limit gets in the way.
            payRequestsPerMinute: { perAddress: 10_000_000, perToken: 10_000_000 },
          },
        },
      });
      const [id] = stack.createInvoices(1);
      await app.pipeline.publish();
      const { url } = await stack.serve(app, { process: false });
      const address = app.payPage!.addressOf(id!);
      const local = `${url}${address.slice('https://pay.example.test'.length)}`;
      const run = await new Promise<{
        elapsed: number;
        statuses: Record<string, number>;
        latencies: number[];
      }>((resolve, reject) => {
        execFile(
          process.execPath,
          [path.join(import.meta.dirname, 'load-client.mjs'), local, '32', '5'],
          { maxBuffer: 256 * 1024 * 1024 },
          (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))),
        );
      });
      expect(Object.keys(run.statuses)).toEqual(['303']);
      const requests = run.latencies.length;
      record(
        'pay page, live link (303)',
        requests / run.elapsed,
        'requests/s',
        '32 keep-alive clients in another process, 5 s',
      );
      record('pay page, live link, p50', percentile(run.latencies, 50), 'ms');
      record('pay page, live link, p99', percentile(run.latencies, 99), 'ms');
    } finally {
      await stack.close();
    }
  }, 120_000);
});
