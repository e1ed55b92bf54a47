import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { money } from '../../src/domain/money.js';
import { type Gateway, GatewayError, type LinkRequest } from '../../src/gateways/gateway.js';
import { createMyTpeClient } from '../../src/gateways/mytpe/client.js';
import { createMyTpeGateway } from '../../src/gateways/mytpe/gateway.js';
import { slugFromReference } from '../../src/gateways/mytpe/slug.js';
import { type MyTpeSandbox, startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';

// The MyTPE adapter against the MyTPE sandbox over loopback HTTP: nothing mocked.

const API_KEY = 'mtk_test_contract_0f9e8d7c';
const API_SECRET = 'mts_test_contract_secret_6b5a4c3d';
const DZD = { currency: 'DZD', decimals: 2 } as const;

let sandbox: MyTpeSandbox;
let gateway: Gateway;
let seq = 0;
// MyTPE needs only the link id: the instance is the link's own.
const ACCOUNT = { merchantAccount: 'instance' };

function request(minor = 500_000, overrides: Partial<LinkRequest> = {}): LinkRequest {
  seq += 1;
  return {
    reference: `contractdb-inv-${seq}-1`,
    merchantAccount: sandbox.instanceId,
    amount: money(minor, 'DZD', 2),
    invoice: {
      odooId: seq,
      name: `INV/2026/${String(seq).padStart(5, '0')}`,
      companyName: 'Sandbox SARL',
      partnerName: 'Client',
    },
    metadata: { reference: `contractdb-inv-${seq}-1`, odoo_invoice_id: String(seq) },
    attempt: 1,
    ...overrides,
  };
}

function gatewayWith(overrides: Partial<Parameters<typeof createMyTpeGateway>[0]> = {}): Gateway {
  return createMyTpeGateway({
    baseUrl: sandbox.apiBaseUrl,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    ...overrides,
  });
}

/** Runs the call, expects a GatewayError, and checks it leaks no credential. */
async function gatewayError(call: Promise<unknown>): Promise<GatewayError> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(GatewayError);
  const gatewayErr = error as GatewayError;
  for (const text of [
    gatewayErr.message,
    JSON.stringify(gatewayErr.details.fieldErrors ?? {}),
    String(gatewayErr.stack),
  ]) {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toContain(API_SECRET);
  }
  expect(gatewayErr.gateway).toBe('mytpe');
  return gatewayErr;
}

beforeAll(async () => {
  sandbox = await startMyTpeSandbox({
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    instances: [{ name: 'Sandbox SARL' }, { name: 'Other Shop' }],
  });
  gateway = gatewayWith();
});

afterEach(() => {
  sandbox.faults.reset();
  sandbox.setInstanceStatus(sandbox.instanceId, 'active');
});

afterAll(async () => {
  await sandbox.close();
});

describe('MyTPE adapter against the sandbox', () => {
  it('identifies itself', () => {
    expect(gateway.id).toBe('mytpe');
    expect(gateway.displayName).toBe('MyTPE Pay');
    expect(gateway.currencies).toEqual(['DZD']);
  });

  it('creates a link, reads it, sees the payment and the paid status', async () => {
    const req = request(500_050);
    const link = await gateway.createLink(req);
    expect(link.reference).toBe(req.reference);
    expect(link.amount).toEqual(req.amount);
    expect(link.url).toBe(`${sandbox.url}/pay/${req.reference}`);

    const atSandbox = sandbox.linkBySlug(req.reference);
    expect(atSandbox).toMatchObject({
      id: link.id,
      type: 'dynamic',
      payment_mode: 'one_shot',
      amount: '5000.50',
      title: `Invoice ${req.invoice.name}`,
      metadata: req.metadata,
      settings: { allow_anonymous: false, show_retry_button: true },
    });

    const page = await fetch(link.url).then((res) => res.text());
    expect(page).toContain(`Invoice ${req.invoice.name}`);
    expect(page).toContain('5\u00a0000.50 DZD');

    const before = await gateway.getLink(link.id, DZD, ACCOUNT);
    expect(before.status).toBe('open');
    expect(before.payments).toEqual([]);
    expect(before.link).toEqual({
      id: link.id,
      url: link.url,
      reference: req.reference,
      amount: req.amount,
      merchantAccount: sandbox.instanceId,
      metadata: req.metadata,
    });

    const transaction = sandbox.pay(link.id);
    const after = await gateway.getLink(link.id, DZD, ACCOUNT);
    expect(after.status).toBe('paid');
    expect(after.payments).toHaveLength(1);
    expect(after.payments[0]).toMatchObject({
      transactionId: transaction.id,
      status: 'completed',
      amount: { minor: 500_050, currency: 'DZD', decimals: 2 },
    });
    expect(after.payments[0]?.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(transaction.metadata).toMatchObject({ original_slug: req.reference, payment_link_id: link.id });
  });

  it('pays through the hosted page form', async () => {
    const link = await gateway.createLink(request(120_000));
    const res = await fetch(link.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=completed&name=A&email=a%40example.test&phone=%2B213555',
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Payment completed');
    expect((await gateway.getLink(link.id, DZD, ACCOUNT)).status).toBe('paid');
    const again = await fetch(link.url);
    expect(again.status).toBe(410);
  });

  it('returns the same link when the same reference is created twice', async () => {
    const req = request();
    const first = await gateway.createLink(req);
    const second = await gateway.createLink(req);
    expect(second).toEqual({ ...first, adopted: true });
    expect(sandbox.links().filter((link) => link.slug === req.reference)).toHaveLength(1);
  });

  it('finds the link a lost answer created when the create is retried', async () => {
    const req = request();
    sandbox.faults.dropResponseAfterCreateNext(1);
    const lost = await gatewayError(gateway.createLink(req));
    expect(lost.kind).toBe('network');
    expect(lost.retryable).toBe(true);
    expect(sandbox.links().filter((link) => link.slug === req.reference)).toHaveLength(1);

    const retried = await gateway.createLink(req);
    expect(retried.id).toBe(sandbox.linkBySlug(req.reference)?.id);
    expect(sandbox.links().filter((link) => link.slug === req.reference)).toHaveLength(1);
  });

  it('adopts the existing link with an exact slug match across search pages', async () => {
    const req = request();
    const original = await gateway.createLink(req);
    // 60 newer links whose slugs contain the reference: the partial search returns them first.
    for (let i = 0; i < 60; i++) {
      await gateway.createLink({ ...req, reference: `${req.reference}${i}` });
    }
    const again = await gateway.createLink(req);
    expect(again.id).toBe(original.id);
  });

  it('maps a reference that is not a clean slug deterministically and stays idempotent', async () => {
    const req = request(10_000, { reference: `Contract_DB-inv-${seq + 1}-1` });
    const slug = slugFromReference(req.reference);
    expect(slug).toMatch(/^contract-db-inv-\d+-1-[0-9a-f]{10}$/);
    const first = await gateway.createLink(req);
    expect(first.reference).toBe(req.reference);
    expect(sandbox.linkBySlug(slug)?.id).toBe(first.id);
    expect((await gateway.createLink(req)).id).toBe(first.id);
  });

  it('refuses to adopt a link under our slug whose metadata names another database or invoice', async () => {
    const req = request(500_000);
    await gateway.createLink({ ...req, metadata: { ...req.metadata, reference: 'someone-else' } });
    const error = await gatewayError(gateway.createLink(req));
    expect(error.kind).toBe('conflict');
    expect(error.message).toMatch(/not this invoice's link .*metadata says reference/);
  });

  it('finds an existing link by reference without creating one, and only when it is ours', async () => {
    const req = request(250_000);
    expect(await gateway.findLink(req)).toBeUndefined();
    expect(sandbox.links().filter((link) => link.slug === req.reference)).toHaveLength(0);
    const created = await gateway.createLink(req);
    expect((await gateway.findLink(req))?.id).toBe(created.id);
    expect(await gateway.findLink({ ...req, amount: money(1, 'DZD', 2) })).toBeUndefined();
    expect(
      await gateway.findLink({ ...req, metadata: { ...req.metadata, odoo_invoice_id: '999' } }),
    ).toBeUndefined();
  });

  it('refuses to adopt an existing slug with another amount', async () => {
    const req = request(500_000);
    await gateway.createLink(req);
    const error = await gatewayError(gateway.createLink({ ...req, amount: money(600_000, 'DZD', 2) }));
    expect(error.kind).toBe('conflict');
    expect(error.retryable).toBe(false);
    expect(sandbox.links().filter((link) => link.slug === req.reference)).toHaveLength(1);
  });

  it('reports a conflict when the slug belongs to another instance', async () => {
    const other = createMyTpeClient({ baseUrl: sandbox.apiBaseUrl, apiKey: API_KEY, apiSecret: API_SECRET });
    const instances = await other.listInstances();
    const otherId = instances.data.data.find((instance) => instance.name === 'Other Shop')?.id;
    expect(otherId).toBeDefined();
    const req = request();
    await gateway.createLink({ ...req, merchantAccount: otherId ?? '' });
    const error = await gatewayError(gateway.createLink(req));
    expect(error.kind).toBe('conflict');
  });

  it('refuses a currency MyTPE cannot charge before calling it', async () => {
    const before = sandbox.links().length;
    const error = await gatewayError(gateway.createLink(request(100, { amount: money(100, 'EUR', 2) })));
    expect(error.kind).toBe('validation');
    expect(sandbox.links()).toHaveLength(before);
  });

  it('deletes a link that has no transaction', async () => {
    const link = await gateway.createLink(request());
    expect(await gateway.closeLink(link.id, ACCOUNT)).toBe('deleted');
    expect((await gatewayError(gateway.getLink(link.id, DZD, ACCOUNT))).kind).toBe('not_found');
    expect(sandbox.links().some((item) => item.id === link.id)).toBe(false);
  });

  it('deactivates a link that has a failed attempt, then reports it already closed', async () => {
    const link = await gateway.createLink(request());
    sandbox.pay(link.id, { outcome: 'failed' });
    const open = await gateway.getLink(link.id, DZD, ACCOUNT);
    expect(open.status).toBe('open');
    expect(open.payments).toMatchObject([{ status: 'failed', amount: { minor: 500_000 } }]);

    expect(await gateway.closeLink(link.id, ACCOUNT)).toBe('deactivated');
    expect(sandbox.linkBySlug(link.reference)?.status).toBe('inactive');
    expect((await gateway.getLink(link.id, DZD, ACCOUNT)).status).toBe('cancelled');
    expect(await gateway.closeLink(link.id, ACCOUNT)).toBe('already_closed');
    expect(sandbox.linkBySlug(link.reference)?.status).toBe('inactive');
  });

  it('reports a paid link as already closed', async () => {
    const link = await gateway.createLink(request());
    sandbox.pay(link.id);
    expect(await gateway.closeLink(link.id, ACCOUNT)).toBe('already_closed');
    expect(sandbox.linkBySlug(link.reference)?.status).toBe('closed');
  });

  it('reads every page of a long transaction history', async () => {
    const link = await gateway.createLink(request(70_000));
    for (let i = 0; i < 60; i++) sandbox.pay(link.id, { outcome: 'failed' });
    const paid = sandbox.pay(link.id);
    const snapshot = await gateway.getLink(link.id, DZD, ACCOUNT);
    expect(snapshot.payments).toHaveLength(61);
    expect(new Set(snapshot.payments.map((payment) => payment.transactionId)).size).toBe(61);
    expect(snapshot.payments.find((payment) => payment.status === 'completed')?.transactionId).toBe(paid.id);
    expect(snapshot.status).toBe('paid');
  });

  it('maps a forced expiry to expired', async () => {
    const link = await gateway.createLink(request());
    sandbox.expire(link.id);
    const snapshot = await gateway.getLink(link.id, DZD, ACCOUNT);
    expect(snapshot.status).toBe('expired');
    expect(await gateway.closeLink(link.id, ACCOUNT)).toBe('already_closed');
  });
});

describe('MyTPE adapter error classes', () => {
  it('bad credentials → auth', async () => {
    const error = await gatewayError(gatewayWith({ apiSecret: 'mts_wrong' }).getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('auth');
    expect(error.details.status).toBe(401);
    expect(error.message).toContain('Unauthenticated.');
    expect(error.retryable).toBe(false);
  });

  it('inactive instance → unavailable (retried: the merchant can activate it), with the field message', async () => {
    sandbox.setInstanceStatus(sandbox.instanceId, 'pending');
    const error = await gatewayError(gateway.createLink(request()));
    expect(error.kind).toBe('unavailable');
    expect(error.retryable).toBe(true);
    expect(error.details.status).toBe(422);
    expect(error.details.fieldErrors?.mytpe_pay_id).toEqual([
      'The selected MyTPE Pay instance is not active.',
    ]);
  });

  it('unknown instance and negative amount → validation with every field message', async () => {
    const error = await gatewayError(
      gateway.createLink(request(-100, { merchantAccount: '00000000-0000-4000-8000-000000000000' })),
    );
    expect(error.kind).toBe('validation');
    expect(error.details.fieldErrors).toEqual({
      mytpe_pay_id: ['The selected mytpe pay id is invalid.'],
      amount: ['The amount field must be at least 0.'],
    });
    expect(error.message).toContain('The selected mytpe pay id is invalid. (and 1 more error)');
  });

  it('unknown link → not_found', async () => {
    const error = await gatewayError(gateway.getLink('00000000-0000-4000-8000-000000000000', DZD, ACCOUNT));
    expect(error.kind).toBe('not_found');
    expect(error.details.status).toBe(404);
    // Closing a link that is gone is done: MyTPE deletes only links without transactions.
    await expect(gateway.closeLink('00000000-0000-4000-8000-000000000000', ACCOUNT)).resolves.toBe('deleted');
  });

  it('429 → rate_limited with Retry-After in ms', async () => {
    sandbox.faults.rateLimitNext(1, 7);
    const error = await gatewayError(gateway.createLink(request()));
    expect(error.kind).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBe(7000);
    expect(error.message).toContain('Too Many Attempts.');
    expect(error.retryable).toBe(true);
  });

  it('500 → server', async () => {
    sandbox.faults.failNext(1, 500);
    const error = await gatewayError(gateway.getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('server');
    expect(error.retryable).toBe(true);
    sandbox.faults.failNext(1, 503);
    expect((await gatewayError(gateway.getLink('x', DZD, ACCOUNT))).details.status).toBe(503);
  });

  it('no answer → timeout', async () => {
    sandbox.faults.hangNext(1);
    const started = Date.now();
    const error = await gatewayError(gatewayWith({ timeoutMs: 200 }).getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('timeout');
    expect(error.retryable).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('connection dropped → network', async () => {
    sandbox.faults.down = true;
    const error = await gatewayError(gateway.getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
  });

  it('nothing listening → network', async () => {
    const dead = await startMyTpeSandbox();
    const deadUrl = dead.apiBaseUrl;
    await dead.close();
    const error = await gatewayError(gatewayWith({ baseUrl: deadUrl }).getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('a non-JSON 200 → protocol', async () => {
    const fakeFetch: typeof fetch = async () => new Response('<html>login</html>', { status: 200 });
    const error = await gatewayError(gatewayWith({ fetch: fakeFetch }).getLink('x', DZD, ACCOUNT));
    expect(error.kind).toBe('protocol');
  });

  it('a create answer with another amount → protocol', async () => {
    const tamper: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const body = (await res.json()) as { data: { amount: string } };
      body.data.amount = '1.00';
      return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
    };
    const error = await gatewayError(gatewayWith({ fetch: tamper }).createLink(request()));
    expect(error.kind).toBe('protocol');
  });
});

describe('MyTPE expiry on the sandbox clock', () => {
  it('expires an unpaid one_shot link after the TTL', async () => {
    let clock = Date.parse('2026-04-09T10:00:00Z');
    const timed = await startMyTpeSandbox({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      now: () => new Date(clock),
    });
    try {
      const timedGateway = createMyTpeGateway({
        baseUrl: timed.apiBaseUrl,
        apiKey: API_KEY,
        apiSecret: API_SECRET,
      });
      const link = await timedGateway.createLink({ ...request(), merchantAccount: timed.instanceId });
      clock += 48 * 3600 * 1000 - 1;
      expect((await timedGateway.getLink(link.id, DZD, ACCOUNT)).status).toBe('open');
      clock += 1;
      expect((await timedGateway.getLink(link.id, DZD, ACCOUNT)).status).toBe('expired');
      expect(() => timed.pay(link.id)).toThrow(/not payable \(expired\)/);
    } finally {
      await timed.close();
    }
  });
});
