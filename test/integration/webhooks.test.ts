import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ReconcileLockedError } from '../../src/pipeline/reconcile-lock.js';
import { type Stack, startStack, WEBHOOK_SECRET } from '../support/stack.js';
import { signedWebhookHeaders } from '../support/webhook.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

async function served(): Promise<{ app: App; url: string; idle(): Promise<void> }> {
  stack = await startStack();
  const app = stack.app();
  await app.prepareOdoo();
  const server = await stack.serve(app);
  return { app, ...server };
}

function payload(
  linkId: string,
  transactionId: string,
  options: { event?: string; amount?: number; status?: string } = {},
) {
  return {
    delivery_id: randomUUID(),
    event: options.event ?? 'transaction.completed',
    timestamp: new Date().toISOString(),
    data: {
      transaction: {
        id: transactionId,
        status: options.status ?? 'completed',
        amount: options.amount ?? 1500,
      },
      pay_link: { id: linkId, slug: 'whatever', status: 'closed' },
      instance: { id: stack.mytpe.instanceId },
    },
  };
}

async function post(
  url: string,
  body: string | Buffer,
  options: {
    secret?: string | null;
    timestamp?: number;
    deliveryId?: string;
    method?: string;
    path?: string;
  } = {},
): Promise<{ status: number; json: unknown }> {
  const { secret, ...signing } = options;
  const headers =
    secret === null
      ? { 'content-type': 'application/json', 'x-mytpepay-event': 'transaction.completed' }
      : signedWebhookHeaders(body, { ...signing, ...(secret ? { secret } : {}) });
  const response = await fetch(`${url}${options.path ?? '/webhooks/mytpe'}`, {
    method: options.method ?? 'POST',
    headers,
    ...(options.method === 'GET' ? {} : { body }),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

describe('POST /webhooks/mytpe', () => {
  it('registers a payment from the webhook the gateway sends, re-reading the link first', async () => {
    const { app, idle } = await served();
    const [id] = stack.createInvoices(1);
    await app.pipeline.publish();
    const link = stack.mytpe.links()[0]!;
    const transaction = stack.mytpe.pay(link.id);
    await idle();
    const delivered = stack.mytpe.deliveries.filter((delivery) => delivery.event === 'transaction.completed');
    expect(delivered.at(-1)?.status).toBe(200);
    expect(stack.odoo.models.paymentsByMemo(`MyTPE ${transaction.id}`)).toHaveLength(1);
    expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('paid');
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
    const processed = app.events.countsByState().find((entry) => entry.state === 'processed');
    // transaction.completed and pay_link.closed both lead to the link; link.created is only stored.
    expect(processed?.count).toBe(2);
  });

  it('never acts on the webhook alone: a forged-amount claim on an unpaid link registers nothing', async () => {
    const { app, url, idle } = await served();
    stack.createInvoices(1);
    await app.pipeline.publish();
    const link = stack.mytpe.links()[0]!;
    const answer = await post(url, JSON.stringify(payload(link.id, 'not-a-real-transaction')));
    expect(answer.status).toBe(200);
    await idle();
    expect(stack.odoo.models.payments()).toHaveLength(0);
    expect(app.links.countsByState()).toEqual([{ state: 'open', count: 1 }]);
  });

  it.each([
    ['forged (wrong secret)', { secret: 'whsec_wrong' }, 'bad_signature'],
    ['unsigned', { secret: null }, 'missing_signature'],
    ['stale timestamp', { timestamp: Math.floor(Date.now() / 1000) - 600 }, 'stale_timestamp'],
    ['from the future', { timestamp: Math.floor(Date.now() / 1000) + 600 }, 'stale_timestamp'],
  ] as const)('answers 401 to a %s delivery and stores nothing', async (_name, options, reason) => {
    const { app, url } = await served();
    const answer = await post(
      url,
      JSON.stringify(payload('0b7d1a52-0000-4000-8000-000000000001', 't1')),
      options,
    );
    expect(answer.status).toBe(401);
    expect(app.events.countsByState()).toEqual([]);
    const security = stack.logs.find((entry) => entry.message.startsWith('SECURITY: rejected'));
    expect(security?.level).toBe('warn');
    expect(security?.reason).toBe(reason);
    expect(JSON.stringify(stack.logs)).not.toContain(WEBHOOK_SECRET);
  });

  it('rejects a tampered body even with a valid signature of the original', async () => {
    const { url, app } = await served();
    const body = JSON.stringify(payload('link', 't1'));
    const response = await fetch(`${url}/webhooks/mytpe`, {
      method: 'POST',
      headers: signedWebhookHeaders(body),
      body: body.replace('1500', '1'),
    });
    expect(response.status).toBe(401);
    expect(app.events.countsByState()).toEqual([]);
  });

  it('answers 400 to signed bodies that are not JSON or not a webhook', async () => {
    const { url, app } = await served();
    expect((await post(url, '{"event": ')).status).toBe(400);
    expect((await post(url, JSON.stringify({ hello: 'world' }))).status).toBe(400);
    expect(
      (
        await post(
          url,
          JSON.stringify({ event: 'transaction.completed', data: { transaction: { status: 'completed' } } }),
        )
      ).status,
    ).toBe(400);
    expect(app.events.countsByState()).toEqual([]);
  });

  it('answers 413 to an oversized body', async () => {
    const { url, app } = await served();
    const big = JSON.stringify({ ...payload('l', 't'), padding: 'x'.repeat(300 * 1024) });
    expect((await post(url, big)).status).toBe(413);
    expect(app.events.countsByState()).toEqual([]);
  });

  it('answers 404 to other paths and gateways, 405 to other methods', async () => {
    const { url } = await served();
    const body = JSON.stringify(payload('l', 't'));
    expect((await post(url, body, { path: '/webhooks/stripe' })).status).toBe(404);
    expect((await post(url, body, { path: '/hooks' })).status).toBe(404);
    const get = await fetch(`${url}/webhooks/mytpe`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
  });

  it('stores a replayed delivery once and registers once', async () => {
    const { app, url, idle } = await served();
    stack.createInvoices(1);
    await app.pipeline.publish();
    const link = stack.mytpe.links()[0]!;
    stack.mytpe.setWebhook(stack.mytpe.instanceId, null);
    const transaction = stack.mytpe.pay(link.id);
    const body = JSON.stringify(payload(link.id, transaction.id));
    const first = await post(url, body, { deliveryId: 'delivery-1' });
    const replay = await post(url, body, { deliveryId: 'delivery-1' });
    expect(first).toEqual({ status: 200, json: { received: true, duplicate: false } });
    expect(replay).toEqual({ status: 200, json: { received: true, duplicate: true } });
    await idle();
    expect(app.events.countsByState()).toContainEqual({ state: 'processed', count: 1 });
    expect(stack.odoo.models.paymentsByMemo(`MyTPE ${transaction.id}`)).toHaveLength(1);
  });

  it('acknowledges a webhook for an unknown link, records it and warns', async () => {
    const { app, url, idle } = await served();
    const answer = await post(
      url,
      JSON.stringify(payload('9f2c0000-0000-4000-8000-000000000000', 't-unknown')),
    );
    expect(answer.status).toBe(200);
    await idle();
    expect(app.events.countsByState()).toEqual([{ state: 'unknown_link', count: 1 }]);
    const warning = stack.logs.find((entry) => entry.message.includes('names a link we do not know'));
    expect(warning?.level).toBe('warn');
  });

  it('ends registered whatever order the events of one link arrive in', async () => {
    const { app, url, idle } = await served();
    stack.createInvoices(1);
    await app.pipeline.publish();
    const link = stack.mytpe.links()[0]!;
    stack.mytpe.setWebhook(stack.mytpe.instanceId, null);
    const transaction = stack.mytpe.pay(link.id);
    // Closed before completed, then a stale "pending" for the same transaction last.
    for (const event of [
      payload(link.id, transaction.id, { event: 'pay_link.closed' }),
      payload(link.id, transaction.id),
      payload(link.id, transaction.id, { event: 'transaction.pending', status: 'pending' }),
    ]) {
      expect((await post(url, JSON.stringify(event))).status).toBe(200);
    }
    await idle();
    expect(stack.odoo.models.paymentsByMemo(`MyTPE ${transaction.id}`)).toHaveLength(1);
    expect(app.links.countsByState()).toEqual([{ state: 'registered', count: 1 }]);
  });

  it('keeps a stored event when processing fails and finishes it later', async () => {
    stack = await startStack();
    const app = stack.app();
    await app.prepareOdoo();
    const server = await stack.serve(app, { process: false });
    stack.createInvoices(1);
    await app.pipeline.publish();
    const transaction = stack.mytpe.pay(stack.mytpe.links()[0]!.id);
    await server.idle();
    expect(app.events.countsByState()).toContainEqual({ state: 'pending', count: 2 });
    // A restart: the inbox is still there and is worked off.
    app.close();
    const restarted = stack.app();
    await restarted.pipeline.processEvents();
    expect(stack.odoo.models.paymentsByMemo(`MyTPE ${transaction.id}`)).toHaveLength(1);
  });
});

describe('exactly-once registration', () => {
  it('webhook, polling and reconciliation racing on one payment register one account.payment', async () => {
    stack = await startStack();
    const first = stack.app();
    await first.prepareOdoo();
    const second = stack.app();
    const ids = stack.createInvoices(5);
    await first.pipeline.publish();
    const server = await stack.serve(second, { process: false });
    for (const link of stack.mytpe.links()) stack.mytpe.pay(link.id);
    await server.idle();
    const window = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) };
    const [, reconciled] = await Promise.all([
      Promise.all([
        first.pipeline.processEvents(),
        second.pipeline.processEvents(),
        first.pipeline.confirm(),
        second.pipeline.confirm(),
      ]),
      Promise.allSettled([
        first.pipeline.reconcile(window, { fix: true }),
        second.pipeline.reconcile(window, { fix: true }),
      ]),
    ]);
    // Two reconciliations of one store never run at once: one of them steps aside.
    expect(reconciled.filter((result) => result.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    for (const result of reconciled)
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(ReconcileLockedError);
    await first.pipeline.confirm();
    for (const id of ids) {
      const payments = stack.odoo.models.payments().filter((payment) => payment.invoice_ids.includes(id));
      expect(payments, `invoice ${id}`).toHaveLength(1);
    }
    expect(first.links.countsByState()).toEqual([{ state: 'registered', count: 5 }]);
    const registeredNotes = ids.flatMap((id) =>
      stack.odoo.models.messages(id).filter((message) => message.body.includes('registered')),
    );
    expect(registeredNotes).toHaveLength(5);
  });
});
