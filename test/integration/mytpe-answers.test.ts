import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { createMyTpeClient } from '../../src/gateways/mytpe/client.js';
import { signMyTpePayload } from '../../src/gateways/mytpe/webhook.js';
import { formatStatus } from '../../src/output/status.js';
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import { type Stack, startStack } from '../support/stack.js';

/** MyTPE as it really answers: deleted links, one secret per instance, refusals that may pass. */

let stack: Stack;
let shared: MyTpeSandbox | undefined;

afterEach(async () => {
  await stack?.close();
  await shared?.close();
  shared = undefined;
});

const SECOND_INSTANCE = '0b9e8f7a-6c5d-4e3f-8a1b-2c3d4e5f6a7b';
const SECOND_SECRET = 'whsec_second_instance_0123456789abcdef0123456789ab';

const ready = (options?: Parameters<Stack['app']>[0]): Promise<App> => stack.readyApp(options);

/** Counts the requests an app sends to MyTPE, by method and path. */
function mytpeCounter(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (input, init) => {
      const url = new URL(String(input instanceof Request ? input.url : input));
      if (url.pathname.startsWith('/api/v2/mytpe-pay'))
        calls.push(`${init?.method ?? 'GET'} ${url.pathname}`);
      return fetch(input, init);
    },
  };
}

describe('MyTPE link lifecycle', () => {
  it('takes the deletion webhook after our own close as final, not as a failing step', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await ready();
    const server = await stack.serve(app);
    await app.pipeline.publish();
    stack.odoo.models.cancelInvoice(id!);
    await app.pipeline.publish();
    await server.idle();
    expect(stack.mytpe.deliveries.some((delivery) => delivery.event === 'pay_link.deleted')).toBe(true);
    const [row] = app.links.ofInvoice(id!);
    expect(row?.state).toBe('closed');
    expect(row?.lastError).toBeNull();
    // pay_link.created is only stored; pay_link.deleted was looked at and changed nothing.
    expect(app.events.countsByState()).toEqual([
      { state: 'ignored', count: 1 },
      { state: 'processed', count: 1 },
    ]);
    expect(stack.logs.filter((line) => /failed|retrying/.test(line.message))).toEqual([]);
  });

  it('creates a link with one call to MyTPE, looking up only when the slug is taken', async () => {
    stack = await startStack();
    stack.createInvoices(5);
    const counter = mytpeCounter();
    const app = await ready({ fetch: counter.fetch });
    await app.pipeline.publish();
    expect(counter.calls).toEqual(Array(5).fill('POST /api/v2/mytpe-pay/links/store'));
  });

  it('retries a refusal that may pass (instance not active, 5xx) up to maxAttempts, then fails it for `retry`', async () => {
    stack = await startStack({ pipeline: { maxAttempts: 4 } });
    const [id] = stack.createInvoices(1);
    const app = await ready();
    stack.mytpe.setInstanceStatus(stack.mytpe.instanceId, 'inactive');
    await app.pipeline.publish();
    stack.advanceOdooClock(10);
    await app.pipeline.publish();
    expect(app.links.ofInvoice(id!)[0]?.state).toBe('creating');
    // The merchant activates the instance; a 5xx on the way is retried too.
    stack.mytpe.setInstanceStatus(stack.mytpe.instanceId, 'active');
    stack.mytpe.faults.failNext(1, 503);
    stack.advanceOdooClock(10);
    await app.pipeline.publish();
    stack.advanceOdooClock(10);
    await app.pipeline.publish();
    expect(app.links.ofInvoice(id!)[0]?.state).toBe('open');

    // A second invoice whose creation keeps failing: failed after maxAttempts, with a note.
    const [second] = stack.createInvoices(1);
    stack.mytpe.faults.failNext(10, 500);
    for (let pass = 0; pass < 5; pass++) {
      stack.advanceOdooClock(10);
      await app.pipeline.publish();
    }
    const failed = app.links.ofInvoice(second!)[0]!;
    expect(failed.state).toBe('failed');
    expect(stack.mytpe.links()).toHaveLength(1);
    stack.mytpe.faults.reset();
    const resumed = app.pipeline.steps.retryFailed(failed)!;
    expect(await app.pipeline.steps.advance(resumed)).toEqual(['created', 'written_back']);
  });

  it('stops MyTPE work on a refused API key with one ALERT and a status line, checking again every 15 minutes', async () => {
    stack = await startStack();
    // More invoices than run at once: those after the first refusal are not even tried.
    stack.createInvoices(stack.config.pipeline.concurrency * 3);
    const counter = mytpeCounter();
    const wrongKey = { ...stack.config.gateways.mytpe!, apiKey: 'mtk_wrong_key_123' };
    const app = await ready({ fetch: counter.fetch, config: { gateways: { mytpe: wrongKey } } });
    await app.pipeline.publish();
    await app.pipeline.publish();
    await app.pipeline.confirm();
    // The creations in flight when the first refusal came back, then MyTPE is left alone.
    const refused = counter.calls.length;
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(stack.config.pipeline.concurrency);
    // An invoice posted meanwhile waits too.
    stack.createInvoices(1);
    await app.pipeline.publish();
    expect(counter.calls).toHaveLength(refused);
    expect(stack.logs.filter((line) => line.message.startsWith('ALERT: MyTPE Pay refused'))).toHaveLength(1);
    expect(formatStatus(app, { runs: false })).toMatch(/ALERTS[\s\S]*MyTPE Pay refused our credentials/);
    expect(app.links.inStates(['failed'])).toEqual([]);
    // A quarter of an hour later one pass checks again, refused again: no second ALERT.
    stack.advanceOdooClock(16 * 60_000);
    await app.pipeline.publish();
    await app.pipeline.publish();
    expect(counter.calls.length - refused).toBeGreaterThanOrEqual(1);
    expect(counter.calls.length - refused).toBeLessThanOrEqual(stack.config.pipeline.concurrency);
    expect(stack.logs.filter((line) => line.message.startsWith('ALERT: MyTPE Pay refused'))).toHaveLength(1);
  });
});

describe('MyTPE webhooks', () => {
  async function twoInstances(): Promise<{ app: App; ids: number[] }> {
    shared = await startMyTpeSandbox({
      instances: [
        { id: '9d1c3a52-5b7e-4c1a-9f0e-5a1b7c2d3e4f', name: 'First SARL' },
        { id: SECOND_INSTANCE, name: 'Second SARL' },
      ],
    });
    stack = await startStack({ mytpe: shared });
    const secondCompany = stack.odoo.models.createCompany({ name: 'Second SARL', currency: 'DZD' });
    const secondJournal = stack.odoo.models.createJournal({
      name: 'Bank',
      type: 'bank',
      code: 'SBNK',
      companyId: secondCompany,
    });
    stack.odoo.models.setUserCompanies(stack.odoo.bot!.uid, [stack.companyId, secondCompany]);
    const companies = [
      ...stack.config.companies,
      {
        odooCompanyId: secondCompany,
        journalId: secondJournal,
        gateway: 'mytpe' as const,
        mytpeInstanceId: SECOND_INSTANCE,
      },
    ];
    const mytpe = {
      ...stack.config.gateways.mytpe!,
      webhookSecrets: { ...stack.config.gateways.mytpe!.webhookSecrets, [SECOND_INSTANCE]: SECOND_SECRET },
    };
    const app = await ready({ config: { companies, gateways: { mytpe } } });
    const id = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: secondCompany,
      amount: '900.00',
    });
    return { app, ids: [id] };
  }

  it("are verified with each instance's own secret", async () => {
    const { app, ids } = await twoInstances();
    const server = await stack.serve(app);
    shared!.setWebhook(SECOND_INSTANCE, `${server.url}/webhooks/mytpe`, SECOND_SECRET);
    await app.pipeline.publish();
    shared!.pay(String(stack.odoo.models.invoiceFieldValue(ids[0]!, 'x_mytpe_link_id')));
    await server.idle();
    // Registered from the webhook alone, no confirm pass.
    expect(stack.odoo.models.getInvoice(ids[0]!).payment_state).toBe('paid');
    expect(shared!.deliveries.filter((delivery) => !delivery.ok)).toEqual([]);
  });

  it("refuse a delivery of one instance signed with another instance's secret", async () => {
    const { app, ids } = await twoInstances();
    const server = await stack.serve(app);
    // The second instance signs with the first one's secret: forged for us.
    shared!.setWebhook(
      SECOND_INSTANCE,
      `${server.url}/webhooks/mytpe`,
      stack.config.gateways.mytpe!.webhookSecrets[shared!.instanceId]!,
    );
    await app.pipeline.publish();
    shared!.pay(String(stack.odoo.models.invoiceFieldValue(ids[0]!, 'x_mytpe_link_id')));
    await server.idle();
    expect(shared!.deliveries.some((delivery) => delivery.status === 401)).toBe(true);
    expect(stack.odoo.models.payments()).toHaveLength(0);
  });

  it('are set up through the API by setup-gateway, which keeps the secret MyTPE returns', async () => {
    stack = await startStack();
    const unconfigured = { gateways: { mytpe: { ...stack.config.gateways.mytpe!, webhookSecrets: {} } } };
    const app = stack.app({ config: unconfigured });
    expect(app.gateways.get('mytpe')?.webhooks, 'no secret, no webhooks').toBeUndefined();
    const lines = await app.setupGateways('https://pay.example.com', { regenerate: false });
    expect(lines.join('\n')).toMatch(
      /webhooks go to https:\/\/pay\.example\.com\/webhooks\/mytpe; its new secret is kept/,
    );
    const client = createMyTpeClient({
      baseUrl: stack.mytpe.apiBaseUrl,
      apiKey: stack.mytpe.apiKey,
      apiSecret: stack.mytpe.apiSecret,
    });
    const answer = (await client.getWebhook(stack.mytpe.instanceId)).data;
    expect(answer.webhook_url).toBe('https://pay.example.com/webhooks/mytpe');
    app.close();
    // After a restart the daemon takes webhooks signed with the secret MyTPE made.
    const restarted = stack.app({ config: unconfigured });
    const secret = stack.mytpe.setWebhook(stack.mytpe.instanceId, 'https://pay.example.com/webhooks/mytpe')!;
    const body = Buffer.from(
      JSON.stringify({ event: 'pay_link.updated', data: { instance: { id: stack.mytpe.instanceId } } }),
    );
    const timestamp = String(Math.floor(Date.now() / 1000));
    const webhooks = restarted.gateways.get('mytpe')!.webhooks!;
    const delivery = (key: string) => ({
      rawBody: body,
      headers: {
        'x-mytpepay-signature': signMyTpePayload(body, timestamp, key),
        'x-mytpepay-timestamp': timestamp,
      },
      receivedAt: new Date(),
    });
    expect(webhooks.verify(delivery(secret))).toEqual({ ok: true });
    expect(webhooks.verify(delivery('whsec_someone_else_000000000000')).ok).toBe(false);
    // Asked again, MyTPE masks the secret: nothing is overwritten, the line says what to do.
    const again = await restarted.setupGateways('https://pay.example.com', { regenerate: false });
    expect(again.join('\n')).toMatch(/already had a secret/);
  });
});

describe('reconciliation', () => {
  it('reads only the configured instances and leaves links of another shop alone', async () => {
    shared = await startMyTpeSandbox({
      instances: [
        { id: '9d1c3a52-5b7e-4c1a-9f0e-5a1b7c2d3e4f', name: 'Ours' },
        { id: SECOND_INSTANCE, name: 'Another shop' },
      ],
    });
    stack = await startStack({ mytpe: shared });
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    shared.pay(String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')));
    await app.pipeline.confirm();
    const client = createMyTpeClient({
      baseUrl: shared.apiBaseUrl,
      apiKey: shared.apiKey,
      apiSecret: shared.apiSecret,
    });
    for (const [instance, slug] of [
      [SECOND_INSTANCE, 'shop-order-1'],
      [shared.instanceId, 'wc_order_77'],
    ] as const) {
      const link = await client.createLink({
        mytpe_pay_id: instance,
        title: 'order',
        details: 'a shop order',
        type: 'dynamic',
        payment_mode: 'one_shot',
        amount: '100.00',
        slug,
      });
      shared.pay(link.data.id);
    }
    const report = await app.pipeline.reconcile(
      { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) },
      { fix: false },
    );
    expect(report.remaining).toBe(0);
    expect(report.matched).toBe(1);
    expect(report.notOurs).toBe(1);
    expect(report.gatewayPayments).toBe(2);
  });
});
