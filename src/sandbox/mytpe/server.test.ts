import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMyTpeClient } from '../../gateways/mytpe/client.js';
import { DEFAULT_SANDBOX_INSTANCE_ID, type MyTpeSandbox, startMyTpeSandbox } from './server.js';

let sandbox: MyTpeSandbox;
let seq = 0;

beforeAll(async () => {
  sandbox = await startMyTpeSandbox();
});

afterAll(async () => {
  await sandbox.close();
});

function api(path: string, init: RequestInit = {}, auth = true): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (auth) {
    headers.set('X-API-KEY', sandbox.apiKey);
    headers.set('X-API-SECRET', sandbox.apiSecret);
  }
  return fetch(`${sandbox.apiBaseUrl}${path}`, { ...init, headers });
}

function form(fields: Record<string, string>): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  return body;
}

function linkFields(overrides: Record<string, string> = {}): Record<string, string> {
  seq += 1;
  return {
    mytpe_pay_id: sandbox.instanceId,
    title: `Invoice ${seq}`,
    details: 'Test',
    type: 'dynamic',
    amount: '1500',
    slug: `sbx-${seq}`,
    payment_mode: 'one_shot',
    ...overrides,
  };
}

async function createLink(overrides: Record<string, string> = {}) {
  const res = await api('/links/store', { method: 'POST', body: form(linkFields(overrides)) });
  expect(res.status).toBe(201);
  return ((await res.json()) as { data: { id: string; slug: string } }).data;
}

describe('MyTPE sandbox API', () => {
  it('uses the documented defaults', () => {
    expect(sandbox.instanceId).toBe(DEFAULT_SANDBOX_INSTANCE_ID);
    expect(sandbox.apiKey).toBe('mtk_test_sandbox');
    expect(sandbox.apiSecret).toBe('mts_test_sandbox_secret');
    expect(sandbox.apiBaseUrl).toBe(`${sandbox.url}/api/v2/mytpe-pay`);
  });

  it('answers 401 Unauthenticated without the key pair', async () => {
    const res = await api('/active', {}, false);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ message: 'Unauthenticated.' });
  });

  it('lists instances in a Laravel paginator', async () => {
    const body = (await (await api('/?per_page=5')).json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      success: true,
      data: {
        current_page: 1,
        per_page: 5,
        total: 1,
        last_page: 1,
        data: [{ name: 'Sandbox SARL', status: 'active' }],
      },
    });
    const active = (await (await api('/active')).json()) as { data: { data: unknown[] } };
    expect(active.data.data).toHaveLength(1);
  });

  it('creates a link from multipart form-data with nested metadata and settings', async () => {
    const res = await api('/links/store', {
      method: 'POST',
      body: form({
        ...linkFields({ amount: '5000.5' }),
        'metadata[reference]': 'REF-1',
        'metadata[odoo_invoice_id]': '42',
        'settings[allow_anonymous]': '1',
      }),
    });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { message: string; data: Record<string, unknown> };
    expect(body.message).toBe('Created successfully.');
    expect(body.data).toMatchObject({
      amount: '5000.50',
      status: 'active',
      payment_status: 'awaiting_payment',
      payment_mode: 'one_shot',
      successful_payments_count: 0,
      collected_amount: '0.00',
      metadata: { reference: 'REF-1', odoo_invoice_id: '42' },
      settings: { allow_anonymous: true, show_retry_button: true },
    });
    expect(body.data.payment_link).toBe(`${sandbox.url}/pay/${String(body.data.slug)}`);
    expect(body.data.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('accepts a JSON body too, as the session API does', async () => {
    const fields = linkFields();
    const res = await api('/links/store', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...fields, amount: 5000, settings: { allow_anonymous: false } }),
    });
    expect(res.status).toBe(201);
  });

  it('validates like Laravel, counting the other errors in the message', async () => {
    const res = await api('/links/store', {
      method: 'POST',
      body: form({ type: 'dynamic', slug: 'has space', 'settings[allow_anonymous]': 'false' }),
    });
    expect(res.status).toBe(422);
    const body = (await res.json()) as { message: string; errors: Record<string, string[]> };
    expect(body.errors).toEqual({
      mytpe_pay_id: ['The mytpe pay id field is required.'],
      title: ['The title field is required.'],
      details: ['The details field is required.'],
      amount: ['The amount field is required when type is dynamic.'],
      slug: ['The slug field must only contain letters, numbers, dashes, and underscores.'],
      'settings.allow_anonymous': ['The settings.allow anonymous field must be true or false.'],
    });
    expect(body.message).toBe('The mytpe pay id field is required. (and 5 more errors)');
  });

  it('refuses a slug already taken, a bad amount and an unknown mode', async () => {
    const existing = await createLink();
    const res = await api('/links/store', {
      method: 'POST',
      body: form(linkFields({ slug: existing.slug, amount: 'abc', payment_mode: 'forever' })),
    });
    const body = (await res.json()) as { errors: Record<string, string[]> };
    expect(body.errors).toEqual({
      amount: ['The amount field must be a number.'],
      slug: ['The slug has already been taken.'],
      payment_mode: ['The selected payment mode is invalid.'],
    });
  });

  it('stores amounts like a decimal:2 column', async () => {
    for (const [sent, stored] of [
      ['.5', '0.50'],
      ['5000', '5000.00'],
      ['1e3', '1000.00'],
      ['12.345', '12.35'],
    ] as const) {
      const res = await api('/links/store', { method: 'POST', body: form(linkFields({ amount: sent })) });
      expect(((await res.json()) as { data: { amount: string } }).data.amount).toBe(stored);
    }
    const tooBig = await api('/links/store', { method: 'POST', body: form(linkFields({ amount: '1e15' })) });
    expect(tooBig.status).toBe(422);
  });

  it('makes static links reusable whatever mode is asked', async () => {
    const res = await api('/links/store', {
      method: 'POST',
      body: form(linkFields({ type: 'static', payment_mode: 'one_shot', amount: '' })),
    });
    const body = (await res.json()) as { data: Record<string, unknown> };
    expect(body.data).toMatchObject({ type: 'static', amount: null, payment_mode: 'reusable' });
  });

  it('keeps one_shot links immutable and refuses type changes on others', async () => {
    const oneShot = await createLink();
    const res = await api(`/links/update/${oneShot.id}`, {
      method: 'POST',
      body: form({ _method: 'PATCH', title: 'x' }),
    });
    expect(res.status).toBe(422);

    const reusable = await createLink({ payment_mode: 'reusable' });
    const changed = await api(`/links/update/${reusable.id}`, {
      method: 'POST',
      body: form({ _method: 'PATCH', type: 'static' }),
    });
    expect(((await changed.json()) as { errors: Record<string, string[]> }).errors).toEqual({
      type: ['The type cannot be changed.'],
    });
    const client = createMyTpeClient({
      baseUrl: sandbox.apiBaseUrl,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
    });
    const updated = await client.updateLink(reusable.id, {
      title: 'Renamed',
      amount: '20',
      metadata: { a: 'b' },
    });
    expect(updated.data).toMatchObject({ title: 'Renamed', amount: '20.00' });
  });

  it('closes a limited link at its quota and reopens it when the quota is raised', async () => {
    const limited = await createLink({ payment_mode: 'limited', max_payments: '2' });
    sandbox.pay(limited.id);
    sandbox.pay(limited.id);
    expect(sandbox.linkBySlug(limited.slug)).toMatchObject({ status: 'closed', remaining_payments: 0 });
    const client = createMyTpeClient({
      baseUrl: sandbox.apiBaseUrl,
      apiKey: sandbox.apiKey,
      apiSecret: sandbox.apiSecret,
    });
    await expect(client.updateLink(limited.id, { max_payments: 1 })).rejects.toMatchObject({
      kind: 'validation',
    });
    const reopened = await client.updateLink(limited.id, { max_payments: 3 });
    expect(reopened.data).toMatchObject({
      status: 'active',
      remaining_payments: 1,
      collected_amount: '3000.00',
    });
  });

  it('toggles active ↔ inactive but never a closed link', async () => {
    const link = await createLink();
    const off = (await (await api(`/links/${link.id}/toggle-status`, { method: 'PATCH' })).json()) as {
      data: { status: string };
    };
    expect(off.data.status).toBe('inactive');
    expect(sandbox.linkBySlug(link.slug)?.payment_status).toBe('inactive');
    expect(() => sandbox.pay(link.id)).toThrow(/not payable \(paused\)/);
    const on = (await (await api(`/links/${link.id}/toggle-status`, { method: 'PATCH' })).json()) as {
      data: { status: string };
    };
    expect(on.data.status).toBe('active');
    sandbox.pay(link.id);
    const closed = await api(`/links/${link.id}/toggle-status`, { method: 'PATCH' });
    expect(closed.status).toBe(422);
  });

  it('refuses to delete a link with any transaction', async () => {
    const link = await createLink();
    sandbox.pay(link.id, { outcome: 'failed' });
    const res = await api(`/links/${link.id}`, { method: 'DELETE' });
    expect(res.status).toBe(422);
    const empty = await createLink();
    const ok = await api(`/links/${empty.id}`, { method: 'DELETE' });
    expect(await ok.json()).toEqual({ success: true, message: 'Deleted successfully.' });
    expect((await api(`/links/${empty.id}`)).status).toBe(404);
  });

  it('lists, searches and filters links and transactions with pagination', async () => {
    const a = await createLink({ slug: 'search-me-1', title: 'Alpha' });
    await createLink({ slug: 'search-me-2', title: 'Beta' });
    await createLink({ slug: 'other-3', title: 'Search-me in title' });
    const found = (await (
      await api(`/${sandbox.instanceId}/links?search=search-me&per_page=2&page=1`)
    ).json()) as {
      data: {
        total: number;
        last_page: number;
        per_page: number;
        data: Array<{ slug: string }>;
        next_page_url: string;
      };
    };
    expect(found.data).toMatchObject({ total: 3, last_page: 2, per_page: 2 });
    expect(found.data.data).toHaveLength(2);
    expect(found.data.next_page_url).toContain('page=2');

    sandbox.pay(a.id, { outcome: 'failed' });
    sandbox.pay(a.id);
    const completed = (await (await api(`/links/${a.id}/transactions?status=completed`)).json()) as {
      data: { total: number; data: Array<Record<string, unknown>> };
    };
    expect(completed.data.total).toBe(1);
    expect(completed.data.data[0]).toMatchObject({
      transactionable_id: a.id,
      transactionable_type: 'App\\Models\\MytpePayLink',
      amount: '1500.00',
      status: 'completed',
      payment_method: 'online',
      environment: 'development',
      metadata: { original_slug: 'search-me-1', payment_link_id: a.id, payment_mode: 'one_shot' },
    });
    const closedOnly = (await (
      await api(`/${sandbox.instanceId}/links?status=closed&search=search-me`)
    ).json()) as {
      data: { data: Array<{ slug: string; payment_status: string }> };
    };
    expect(closedOnly.data.data).toEqual([
      expect.objectContaining({ slug: 'search-me-1', payment_status: 'paid' }),
    ]);
    const recent = (await (await api('/transaction/recent?per_page=1')).json()) as {
      data: { data: Array<{ status: string; transactionable_id: string }> };
    };
    expect(recent.data.data).toEqual([
      expect.objectContaining({ transactionable_id: a.id, status: 'completed' }),
    ]);
    expect((await api('/00000000-0000-4000-8000-000000000000/links')).status).toBe(404);
  });

  it('pays and expires through the /sandbox control routes', async () => {
    const link = await createLink();
    const wrong = await fetch(`${sandbox.url}/sandbox/links/${link.id}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ outcome: 'failed', amount: '1.00' }),
    });
    expect(wrong.status).toBe(201);
    expect(((await wrong.json()) as { data: { amount: string; status: string } }).data).toMatchObject({
      amount: '1.00',
      status: 'failed',
    });
    const expired = await fetch(`${sandbox.url}/sandbox/links/${link.slug}/expire`, { method: 'POST' });
    expect(((await expired.json()) as { data: { payment_status: string } }).data.payment_status).toBe(
      'expired',
    );
    const page = await fetch(`${sandbox.url}/pay/${link.slug}`);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('expired');
  });

  it('asks the payer for the amount on a static link page', async () => {
    const link = await createLink({ type: 'static', amount: '' });
    const page = await (await fetch(`${sandbox.url}/pay/${link.slug}`)).text();
    expect(page).toContain('name="amount"');
    const paid = await fetch(`${sandbox.url}/pay/${link.slug}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=completed&amount=250',
    });
    expect(await paid.text()).toContain('250.00 DZD');
    expect(sandbox.transactions(link.id)).toMatchObject([{ amount: '250.00', status: 'completed' }]);
    expect(sandbox.linkBySlug(link.slug)?.status).toBe('active');
  });

  it('adds latency when asked', async () => {
    sandbox.faults.latencyMs = 150;
    const started = Date.now();
    await api('/active');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    sandbox.faults.reset();
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await api('/nope/nope/nope')).status).toBe(404);
    expect((await api('/links/store')).status).toBe(405);
  });
});
