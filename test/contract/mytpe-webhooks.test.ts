import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { money, parseDecimalToMinor } from '../../src/domain/money.js';
import { createMyTpeClient } from '../../src/gateways/mytpe/client.js';
import { createMyTpeGateway } from '../../src/gateways/mytpe/gateway.js';
import { parseMyTpeWebhook, verifyMyTpeSignature } from '../../src/gateways/mytpe/webhook.js';
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';

// Webhooks from the MyTPE sandbox to a real local receiver, checked with our verifier.

const SECRET = 'whsec_6f1e0d2c3b4a59687766554433221100ffeeddccbbaa9988';

interface Received {
  readonly headers: IncomingHttpHeaders;
  readonly rawBody: Buffer;
}

interface Receiver {
  readonly url: string;
  readonly received: Received[];
  /** Status to answer for each request in turn; 200 once the list is used up. */
  statuses: number[];
  waitFor(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const waiters: Array<() => void> = [];
  const receiver: { statuses: number[] } = { statuses: [] };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks) });
      res.writeHead(receiver.statuses.shift() ?? 200).end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhooks/mytpe`,
    received,
    get statuses() {
      return receiver.statuses;
    },
    set statuses(value: number[]) {
      receiver.statuses = value;
    },
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < count) {
        if (Date.now() > deadline) throw new Error(`got ${received.length} webhooks, expected ${count}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function header(received: Received, name: string): string {
  const value = received.headers[name];
  return typeof value === 'string' ? value : '';
}

let sandbox: MyTpeSandbox;
let receiver: Receiver;

beforeEach(async () => {
  receiver = await startReceiver();
  sandbox = await startMyTpeSandbox({ webhookRetryDelaysMs: [50, 100] });
});

afterEach(async () => {
  await sandbox.close();
  await receiver.close();
});

async function createLink(reference: string, minor = 500_000) {
  const gateway = createMyTpeGateway({
    baseUrl: sandbox.apiBaseUrl,
    apiKey: sandbox.apiKey,
    apiSecret: sandbox.apiSecret,
  });
  return gateway.createLink({
    reference,
    merchantAccount: sandbox.instanceId,
    amount: money(minor, 'DZD', 2),
    invoice: { odooId: 1, name: 'INV/2026/00001', companyName: 'Sandbox SARL', partnerName: 'Client' },
    metadata: { reference },
    attempt: 1,
  });
}

describe('MyTPE sandbox webhooks', () => {
  it('delivers signed transaction.completed and pay_link.closed, retrying a 500 with the same delivery id', async () => {
    const link = await createLink('hookdb-inv-1-1');
    // Set after the create so pay_link.created is not in the way.
    sandbox.setWebhook(sandbox.instanceId, receiver.url, SECRET);
    receiver.statuses = [500];
    const transaction = sandbox.pay(link.id);

    await receiver.waitFor(3);
    await sandbox.flushWebhooks();
    // The retry and pay_link.closed race each other; pick them by event, not arrival order.
    const completedDeliveries = receiver.received.filter(
      (d) => header(d, 'x-mytpepay-event') === 'transaction.completed',
    );
    const [failed, retried] = completedDeliveries;
    const closed = receiver.received.find((d) => header(d, 'x-mytpepay-event') === 'pay_link.closed');
    if (!failed || !closed || !retried) throw new Error('missing deliveries');
    expect(receiver.received).toHaveLength(3);

    for (const delivery of receiver.received) {
      expect(
        verifyMyTpeSignature({
          rawBody: delivery.rawBody,
          headers: delivery.headers,
          secret: SECRET,
          now: new Date(),
        }),
      ).toEqual({ ok: true });
      expect(verifyMyTpeSignature({ ...delivery, secret: 'whsec_wrong', now: new Date() }).ok).toBe(false);
      expect(header(delivery, 'content-type')).toBe('application/json');
      expect(header(delivery, 'user-agent')).toBe('MytpePay-Webhook/1.0');
      expect(header(delivery, 'x-mytpepay-signature')).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(header(delivery, 'x-mytpepay-timestamp')).toMatch(/^\d{10}$/);
      expect(header(delivery, 'x-mytpepay-delivery-id')).toMatch(/^[0-9a-f-]{36}$/);
    }

    expect(header(retried, 'x-mytpepay-delivery-id')).toBe(header(failed, 'x-mytpepay-delivery-id'));
    expect(header(closed, 'x-mytpepay-delivery-id')).not.toBe(header(failed, 'x-mytpepay-delivery-id'));
    expect(retried.rawBody.equals(failed.rawBody)).toBe(true);

    // Amount is a JSON number in the payload, written as MyTPE prints it.
    expect(failed.rawBody.toString()).toContain('"amount":5000.00');
    const parsed = parseMyTpeWebhook(JSON.parse(retried.rawBody.toString()));
    if (!parsed.ok) throw new Error(parsed.error);
    expect(parsed.event).toMatchObject({
      deliveryId: header(retried, 'x-mytpepay-delivery-id'),
      event: 'transaction.completed',
      linkId: link.id,
      slug: 'hookdb-inv-1-1',
      instanceId: sandbox.instanceId,
      transaction: {
        id: transaction.id,
        status: 'completed',
        paymentStatus: 'completed',
        environment: 'development',
      },
    });
    expect(parseDecimalToMinor(parsed.event.transaction?.amount ?? '', 2)).toBe(500_000);
    expect(parsed.event.transaction?.metadata).toMatchObject({
      reference: 'hookdb-inv-1-1',
      payment_link_id: link.id,
    });

    const closedEvent = parseMyTpeWebhook(JSON.parse(closed.rawBody.toString()));
    expect(closedEvent.ok && closedEvent.event).toMatchObject({
      event: 'pay_link.closed',
      linkId: link.id,
      linkStatus: 'closed',
    });

    expect(sandbox.deliveries.map((d) => [d.event, d.attempt, d.status]).sort()).toEqual([
      ['pay_link.closed', 1, 200],
      ['transaction.completed', 1, 500],
      ['transaction.completed', 2, 200],
    ]);
  });

  it('stops after three attempts in all', async () => {
    const link = await createLink('hookdb-inv-2-1');
    sandbox.setWebhook(sandbox.instanceId, receiver.url, SECRET);
    receiver.statuses = [500, 500, 500, 500, 500, 500];
    sandbox.pay(link.id, { outcome: 'failed' });
    await sandbox.flushWebhooks();
    expect(receiver.received.map((d) => header(d, 'x-mytpepay-event'))).toEqual([
      'transaction.failed',
      'transaction.failed',
      'transaction.failed',
    ]);
    expect(new Set(receiver.received.map((d) => header(d, 'x-mytpepay-delivery-id'))).size).toBe(1);
    expect(sandbox.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    // A failed attempt leaves the one_shot link payable.
    expect(sandbox.linkBySlug('hookdb-inv-2-1')?.payment_status).toBe('awaiting_payment');
  });

  it('retries after a network error and gives up when close() is called', async () => {
    const link = await createLink('hookdb-inv-3-1');
    const deadUrl = receiver.url;
    await receiver.close();
    sandbox.setWebhook(sandbox.instanceId, deadUrl, SECRET);
    sandbox.pay(link.id);
    await sandbox.flushWebhooks();
    const attempts = sandbox.deliveries.filter((d) => d.event === 'transaction.completed');
    expect(attempts.map((d) => [d.attempt, d.status, d.ok])).toEqual([
      [1, null, false],
      [2, null, false],
      [3, null, false],
    ]);
    receiver = await startReceiver();
  });

  it('sends pay_link.expired when the expiry is noticed', async () => {
    const link = await createLink('hookdb-inv-4-1');
    sandbox.setWebhook(sandbox.instanceId, receiver.url, SECRET);
    sandbox.expire(link.id);
    await receiver.waitFor(1);
    const [expired] = receiver.received;
    if (!expired) throw new Error('no webhook');
    expect(header(expired, 'x-mytpepay-event')).toBe('pay_link.expired');
    const parsed = parseMyTpeWebhook(JSON.parse(expired.rawBody.toString()));
    expect(parsed.ok && parsed.event).toMatchObject({
      linkId: link.id,
      slug: 'hookdb-inv-4-1',
      linkStatus: 'closed',
    });
  });

  it('configures the webhook through the API: full secret once, masked after, HTTPS outside loopback', async () => {
    const client = createMyTpeClient({
      baseUrl: sandbox.apiBaseUrl,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
    });
    const first = await client.setWebhook(sandbox.instanceId, receiver.url);
    const secret = first.data.webhook_secret ?? '';
    expect(secret).toMatch(/^whsec_[0-9a-f]{48}$/);
    const read = await client.getWebhook(sandbox.instanceId);
    expect(read.data).toMatchObject({ webhook_url: receiver.url, has_secret: true });
    expect(read.data.webhook_secret).not.toBe(secret);
    expect(read.data.webhook_secret?.endsWith(secret.slice(-4))).toBe(true);
    const second = await client.setWebhook(sandbox.instanceId, receiver.url);
    expect(second.data.webhook_secret).not.toBe(secret);

    await expect(client.setWebhook(sandbox.instanceId, 'http://example.com/hook')).rejects.toMatchObject({
      kind: 'validation',
      details: {
        fieldErrors: {
          webhook_url: ['The webhook url field must start with one of the following: https://.'],
        },
      },
    });

    // The secret handed out is the one the sandbox signs with.
    const link = await createLink('hookdb-inv-5-1');
    await receiver.waitFor(1);
    const [created] = receiver.received;
    if (!created) throw new Error('no webhook');
    expect(header(created, 'x-mytpepay-event')).toBe('pay_link.created');
    expect(verifyMyTpeSignature({ ...created, secret, now: new Date() })).toEqual({ ok: true });
    expect(link.id).toBeTruthy();
  });
});
