import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { formatStatus } from '../../src/output/status.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * Guards that no other test notices when they break: the lease, the full sweep, one company's
 * trouble kept to itself, an invoice the gateway cannot charge.
 */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const ready = (): Promise<App> => stack.readyApp();

describe('the lease on a link', () => {
  it('lets only one of two passes register a paid link, also when Odoo would take both', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const app = await ready();
    await app.pipeline.publish();
    stack.mytpe.pay(String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')));
    // More is due than was paid, so Odoo itself would accept the payment twice.
    stack.odoo.models.resetToDraft(id!);
    stack.odoo.models.setAmount(id!, '4000.00');
    stack.odoo.models.postInvoice(id!);
    // The first registration fails: the link waits in `paid` for the next pass.
    stack.odoo.faults.failNext(
      { model: 'account.payment.register', method: 'create' },
      { name: 'psycopg2.errors.SerializationFailure', message: 'could not serialize access' },
    );
    await app.pipeline.confirm();
    expect(app.links.countsByState()).toEqual([{ state: 'paid', count: 1 }]);
    // Two passes at once on a slow Odoo: both would find no payment with the memo yet.
    stack.odoo.faults.latencyMs = 40;
    const other = stack.app();
    const [first, second] = await Promise.all([app.pipeline.confirm(), other.pipeline.confirm()]);
    expect(first.registered + second.registered).toBe(1);
    expect(stack.odoo.models.payments()).toHaveLength(1);
  });
});

describe('the full sweep', () => {
  it('finds an invoice the incremental read missed (committed with an old write_date)', async () => {
    stack = await startStack();
    const app = await ready();
    await app.pipeline.publish();
    const [id] = stack.createInvoices(1);
    // A long Odoo transaction: the row's write_date is its start, older than the cursor's overlap.
    const row = stack.odoo.models.registry.model('account.move').rows.get(id!)!;
    row.write_date = new Date(Date.now() - 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
    await app.pipeline.publish();
    expect(stack.mytpe.links(), 'the cursor does not see it').toHaveLength(0);
    stack.advanceOdooClock(61 * 60_000);
    await app.pipeline.publish();
    expect(stack.mytpe.links().map((link) => link.slug)).toEqual([`${stack.prefix}-inv-${id}-1`]);
  });
});

describe('an invoice in a currency the gateway cannot charge', () => {
  it('gets one chatter note and a status line, however often it is read', async () => {
    stack = await startStack();
    const kwd = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '12.500',
      currency: 'KWD',
    });
    let app = await ready();
    await app.pipeline.publish();
    stack.advanceOdooClock(61 * 60_000);
    await app.pipeline.publish();
    app.close();
    app = await ready();
    await app.pipeline.publish();
    const notes = stack.odoo.models
      .messages(kwd)
      .filter((message) => String(message.body).includes('cannot charge KWD'));
    expect(notes).toHaveLength(1);
    expect(formatStatus(app, { runs: false })).toMatch(/1 are in a currency the gateway cannot charge/);
    expect(stack.mytpe.links()).toHaveLength(0);
  });
});

describe("one company's Odoo trouble", () => {
  it('does not stop the other companies from publishing', async () => {
    stack = await startStack();
    const other = stack.odoo.models.createCompany({ name: 'Other SARL', currency: 'DZD' });
    const journal = stack.odoo.models.createJournal({
      name: 'Bank',
      type: 'bank',
      code: 'OBNK',
      companyId: other,
    });
    stack.odoo.models.setUserCompanies(stack.odoo.bot!.uid, [stack.companyId, other]);
    const companies = [
      { ...stack.config.companies[0]!, odooCompanyId: other, journalId: journal },
      ...stack.config.companies,
    ];
    const app = stack.app({ config: { companies } });
    await app.prepareOdoo();
    const [id] = stack.createInvoices(1);
    // The bot loses access to the first company listed.
    stack.odoo.models.setUserCompanies(stack.odoo.bot!.uid, [stack.companyId]);
    const summary = await app.pipeline.publish();
    expect(summary.companiesFailed).toBe(1);
    expect(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')).not.toBe(false);
  });
});
