import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

describe('the link on the invoice', () => {
  it('is in the fields every gateway shares as well as in MyTPE’s own pair, and both go when it is archived', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await stack.readyApp();
    await app.pipeline.publish();
    const field = (name: string) => stack.odoo.models.invoiceFieldValue(id!, name);
    const [link] = stack.mytpe.links();
    expect(field('x_mytpe_link_id')).toBe(link?.id);
    expect(field('x_paylink_gateway')).toBe('mytpe');
    expect(field('x_paylink_id')).toBe(link?.id);
    // Without a pay page, the address on the invoice is the gateway's own.
    expect(field('x_paylink_url')).toBe(field('x_mytpe_payment_link'));

    stack.odoo.models.cancelInvoice(id!);
    await app.pipeline.publish();
    for (const name of ['x_mytpe_link_id', 'x_mytpe_payment_link', 'x_paylink_id', 'x_paylink_url'])
      expect(field(name), name).toBe(false);
  });

  it('a link only in the generic fields is found again after the state file is lost', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const first = await stack.readyApp();
    await first.pipeline.publish();
    // An invoice whose MyTPE pair was emptied by hand still names the link in the shared fields.
    stack.odoo.models.writeInvoice(id!, { x_mytpe_link_id: false, x_mytpe_payment_link: false });
    first.close();
    stack.loseStore();
    const restarted = await stack.readyApp({
      config: { odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix } },
    });
    await restarted.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(1);
    expect(restarted.links.ofInvoice(id!).map((row) => row.state)).toEqual(['open']);
  });
});

describe("Odoo's currency rates", () => {
  it('convert one currency into another as the Billing bot reads them, at the invoice date', async () => {
    stack = await startStack();
    const app = await stack.readyApp();
    const { models } = stack.odoo;
    // The company currency is DZD: a rate says how much of a currency one dinar buys.
    models.setCurrencyRate('USD', '2026-11-01', 0.0074, stack.companyId);
    models.setCurrencyRate('EUR', '2026-11-01', 0.0068, stack.companyId);
    models.setCurrencyRate('EUR', '2026-11-20', 0.0064, stack.companyId);
    models.setCurrencyRate('EUR', '2026-12-05', 0.006);
    const rate = (from: string, to: string, date: string) =>
      app.ledger.currencyRate(stack.companyId, from, to, date);
    expect(await rate('EUR', 'USD', '2026-11-10')).toEqual({ rate: '1.088235294118', date: '2026-11-01' });
    // The newest rate on or before the day; a later one is not used.
    expect(await rate('EUR', 'USD', '2026-12-01')).toEqual({ rate: '1.15625', date: '2026-11-20' });
    expect(await rate('DZD', 'USD', '2026-11-10')).toEqual({ rate: '0.0074', date: '2026-11-01' });
    expect(await rate('USD', 'DZD', '2026-11-10')).toEqual({ rate: '135.135135135135', date: '2026-11-01' });
    expect(await rate('EUR', 'USD', '2026-10-01')).toBeUndefined();
    expect(await rate('GBP', 'USD', '2026-11-10')).toBeUndefined();
  });
});
