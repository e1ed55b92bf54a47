import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { type Stack, settle, startStack } from '../support/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

async function published(count = 1, amount = '1500.00'): Promise<{ app: App; ids: number[] }> {
  stack = await startStack();
  const ids = stack.createInvoices(count, amount);
  const app = stack.app();
  await app.prepareOdoo();
  await app.pipeline.publish();
  return { app, ids };
}

function linkOf(slug: string) {
  return stack.mytpe.linkBySlug(slug);
}

function notesOf(invoiceId: number): string[] {
  return stack.odoo.models.messages(invoiceId).map((message) => message.body);
}

describe('following invoice changes in Odoo', () => {
  it.each([
    ['cancelled', (id: number) => stack.odoo.models.cancelInvoice(id), 'the invoice was cancelled'],
    ['reset to draft', (id: number) => stack.odoo.models.resetToDraft(id), 'the invoice was reset to draft'],
    [
      'reversed by a credit note',
      (id: number) => void stack.odoo.models.reverseInvoice(id),
      'the invoice was reversed by a credit note',
    ],
    [
      'paid by other means',
      (id: number) => void stack.odoo.models.payByOtherMeans(id, { memo: 'CASH' }),
      'the invoice was paid by other means',
    ],
  ])('archives the link of an invoice %s (deleted: it has no transaction)', async (_name, change, reason) => {
    const { app, ids } = await published();
    const id = ids[0]!;
    change(id);
    await app.pipeline.publish();
    expect(linkOf(`${stack.prefix}-inv-${id}-1`)).toBeUndefined();
    const [row] = app.links.inStates(['closed']);
    expect(row?.stateReason).toBe(reason);
    // The invoice no longer shows a link that cannot be paid.
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(false);
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_payment_link')).toBe(false);
    expect(
      notesOf(id).some((body) => body.includes('archived so it cannot be paid') && body.includes(reason)),
    ).toBe(true);
    // Nothing else happens on later passes: no new link for an invoice that cannot be paid.
    await settle(app, 2);
    expect(stack.mytpe.links()).toHaveLength(0);
  });

  it('deactivates instead of deleting a link that saw a payment attempt', async () => {
    const { app, ids } = await published();
    const slug = `${stack.prefix}-inv-${ids[0]}-1`;
    stack.mytpe.pay(slug, { outcome: 'failed' });
    stack.odoo.models.cancelInvoice(ids[0]!);
    await app.pipeline.publish();
    expect(linkOf(slug)?.status).toBe('inactive');
    expect(app.links.countsByState()).toEqual([{ state: 'closed', count: 1 }]);
  });

  it('gives an invoice reset to draft and posted again with another amount a new link', async () => {
    const { app, ids } = await published();
    const id = ids[0]!;
    stack.odoo.models.resetToDraft(id);
    stack.odoo.models.setAmount(id, '1750.00');
    stack.odoo.models.postInvoice(id);
    await settle(app, 2);
    expect(linkOf(`${stack.prefix}-inv-${id}-1`)).toBeUndefined();
    const replacement = linkOf(`${stack.prefix}-inv-${id}-2`);
    expect(replacement?.amount).toBe('1750.00');
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(replacement?.id);
    expect(app.links.countsByState()).toEqual([
      { state: 'closed', count: 1 },
      { state: 'open', count: 1 },
    ]);
  });

  it('replaces a link that expired unpaid, writes the new one back and tells the accountant', async () => {
    const { app, ids } = await published();
    const id = ids[0]!;
    const first = linkOf(`${stack.prefix}-inv-${id}-1`)!;
    stack.mytpe.expire(first.id);
    await app.pipeline.confirm();
    const second = linkOf(`${stack.prefix}-inv-${id}-2`);
    expect(second?.status).toBe('active');
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id')).toBe(second?.id);
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_mytpe_payment_link')).toBe(
      `${stack.mytpe.url}/pay/${second?.slug}`,
    );
    expect(notesOf(id).some((body) => body.includes('expired unpaid'))).toBe(true);
    expect(notesOf(id).filter((body) => body.includes('payment link created'))).toHaveLength(2);
    // The new link is paid and registered like any other.
    stack.mytpe.pay(second!.id);
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id).payment_state).toBe('paid');
  });

  it('records a payment that lands as the invoice is cancelled as needing a refund, never registers it', async () => {
    const { app, ids } = await published();
    const id = ids[0]!;
    const transaction = stack.mytpe.pay(`${stack.prefix}-inv-${id}-1`);
    stack.odoo.models.cancelInvoice(id);
    await settle(app, 2);
    expect(stack.odoo.models.payments()).toHaveLength(0);
    const [row] = app.links.inStates(['refund_needed']);
    expect(row?.transactionId).toBe(transaction.id);
    expect(notesOf(id).some((body) => body.includes('needs a refund') && body.includes(transaction.id))).toBe(
      true,
    );
  });

  it('records a payment on an invoice already paid by other means as needing a refund', async () => {
    const { app, ids } = await published();
    const id = ids[0]!;
    stack.mytpe.pay(`${stack.prefix}-inv-${id}-1`);
    stack.odoo.models.payByOtherMeans(id, { memo: 'BANK-TRANSFER' });
    await app.pipeline.confirm();
    expect(stack.odoo.models.payments().map((payment) => payment.memo)).toEqual(['BANK-TRANSFER']);
    expect(app.links.countsByState()).toEqual([{ state: 'refund_needed', count: 1 }]);
  });

  it('records a payment on an expired link as needing a refund once the invoice was paid through its replacement', async () => {
    const { app, ids } = await published();
    const id = ids[0]!;
    const first = linkOf(`${stack.prefix}-inv-${id}-1`)!;
    stack.mytpe.expire(first.id);
    await app.pipeline.confirm();
    stack.mytpe.pay(`${stack.prefix}-inv-${id}-2`);
    await settle(app, 2);
    expect(stack.odoo.models.getInvoice(id).payment_state).toBe('paid');
    // The gateway reports a payment on the old link after all (a late bank confirmation).
    const lateRow = app.links.inStates(['expired'])[0]!;
    await app.pipeline.steps.applySnapshot(lateRow, {
      link: { id: first.id, url: first.payment_link ?? '', reference: first.slug, amount: lateRow.amount },
      status: 'paid',
      payments: [{ transactionId: 'late-1', status: 'completed', amount: lateRow.amount }],
    });
    await app.pipeline.postNotes();
    expect(app.links.inStates(['refund_needed'])).toHaveLength(1);
    expect(stack.odoo.models.payments()).toHaveLength(1);
    expect(notesOf(id).some((body) => body.includes('late-1'))).toBe(true);
  });

  it('posts each chatter note once, however often the passes run', async () => {
    const { app, ids } = await published(3);
    for (const id of ids) stack.mytpe.pay(`${stack.prefix}-inv-${id}-1`);
    await settle(app, 4);
    const again = stack.app();
    await settle(again, 2);
    for (const id of ids) {
      const bodies = notesOf(id);
      expect(bodies.filter((body) => body.includes('payment link created'))).toHaveLength(1);
      expect(bodies.filter((body) => body.includes('registered (transaction'))).toHaveLength(1);
    }
  });

  it('waits for an instance that is not active yet instead of failing the link, and publishes once it is', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = stack.app();
    await app.prepareOdoo();
    stack.mytpe.setInstanceStatus(stack.mytpe.instanceId, 'inactive');
    await app.pipeline.publish();
    const [row] = app.links.inStates(['creating']);
    expect(row?.lastError).toContain('The selected MyTPE Pay instance is not active.');
    expect(notesOf(id!).some((body) => body.includes('refused to create a payment link'))).toBe(false);
    stack.mytpe.setInstanceStatus(stack.mytpe.instanceId, 'active');
    stack.advanceOdooClock(10);
    await app.pipeline.publish();
    expect(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]?.id);
  });

  it('tells the accountant when the gateway refuses a link for good, and `retry` resumes it once fixed', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = stack.app();
    await app.prepareOdoo();
    // A refusal no retry can change: MyTPE rejects the request itself.
    stack.mytpe.faults.failNext(1, 422);
    await app.pipeline.publish();
    const [row] = app.links.inStates(['failed']);
    expect(row).toBeDefined();
    expect(notesOf(id!).find((body) => body.includes('refused to create a payment link'))).toBeDefined();
    // Passes leave it alone; once the admin fixed the cause, a retry resumes it.
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(0);
    const resumed = app.pipeline.steps.retryFailed(row!);
    expect(resumed?.state).toBe('creating');
    expect(await app.pipeline.steps.advance(resumed!)).toEqual(['created', 'written_back']);
    expect(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')).toBe(stack.mytpe.links()[0]?.id);
  });
});
