import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import { ConfigError } from '../../src/config/load.js';
import { createMyTpeClient } from '../../src/gateways/mytpe/client.js';
import { startMyTpeSandbox } from '../../src/sandbox/mytpe/server.js';
import { type Stack, startStack } from '../support/stack.js';

/** Link identity across databases and deployments: references never meet, foreign links stay alone. */

const stacks: Stack[] = [];

afterEach(async () => {
  // The stack that owns the shared MyTPE sandbox closes last.
  for (const stack of stacks.reverse()) await stack.close();
  stacks.length = 0;
});

async function stackOf(options: Parameters<typeof startStack>[0] = {}): Promise<Stack> {
  const stack = await startStack(options);
  stacks.push(stack);
  return stack;
}

/** A restart of the stack's daemon after its state file was lost (the prefix kept in config). */
function stackAppLosingStore(stack: Stack): App {
  stack.loseStore();
  return stack.app({ config: { odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix } } });
}

const ready = (stack: Stack, config?: Parameters<Stack['app']>[0]): Promise<App> => stack.readyApp(config);

function slugOf(stack: Stack, invoiceId: number): string | undefined {
  const linkId = stack.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id');
  return stack.mytpe.links().find((link) => link.id === linkId)?.slug;
}

describe('link references', () => {
  it("start with a prefix derived from the database's uuid", async () => {
    const stack = await stackOf();
    const [id] = stack.createInvoices(1);
    const uuid = String(stack.odoo.models.configParam('database.uuid'));
    await (await ready(stack)).pipeline.publish();
    expect(stack.prefix).toBe(`${stack.odoo.db}-${uuid.replaceAll('-', '').slice(0, 12)}`);
    expect(slugOf(stack, id!)).toBe(`${stack.prefix}-inv-${id}-1`);
  });

  it('let two merchants whose databases are both called odoo use one MyTPE', async () => {
    const first = await stackOf({ odoo: { db: 'odoo' } });
    const second = await stackOf({ odoo: { db: 'odoo' }, mytpe: first.mytpe });
    // Fresh databases number their invoices alike.
    const ids = first.createInvoices(3);
    expect(second.createInvoices(3)).toEqual(ids);
    await (await ready(first)).pipeline.publish();
    const summary = await (await ready(second)).pipeline.publish();
    expect(summary.failed).toBe(0);
    expect(first.mytpe.links()).toHaveLength(6);
    for (const id of ids) {
      expect(slugOf(first, id)).toBe(`${first.prefix}-inv-${id}-1`);
      expect(slugOf(second, id)).toBe(`${second.prefix}-inv-${id}-1`);
    }
  });

  it("of a staging copy never adopt, close or delete production's links", async () => {
    const production = await stackOf({ odoo: { db: 'shop' } });
    const ids = production.createInvoices(2);
    await (await ready(production)).pipeline.publish();
    const productionLinks = production.mytpe.links();
    // The copy: same database name and invoices, carrying production's link fields, a new uuid.
    const staging = await stackOf({ odoo: { db: 'shop' }, mytpe: production.mytpe });
    staging.createInvoices(2);
    for (const id of ids) {
      staging.odoo.models.writeInvoice(id, {
        x_mytpe_link_id: production.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id'),
        x_mytpe_payment_link: production.odoo.models.invoiceFieldValue(id, 'x_mytpe_payment_link'),
      });
    }
    const app = await ready(staging);
    await app.pipeline.publish();
    // Someone cancels an invoice on the copy.
    staging.odoo.models.cancelInvoice(ids[0]!);
    await app.pipeline.publish();
    await app.pipeline.confirm();

    expect(production.mytpe.links().map((link) => [link.id, link.status])).toEqual(
      productionLinks.map((link) => [link.id, 'active']),
    );
    expect(app.links.countsByState()).toEqual([]);
    expect(app.notices.countsByKind()).toEqual([{ kind: 'foreign_link', count: 2 }]);
    const note = staging.odoo.models
      .messages(ids[1]!)
      .find((message) => String(message.body).includes('did not make'));
    expect(note, 'the accountant of the copy is told once').toBeDefined();
  });

  it("of another invoice, or in another gateway account, are never taken for an invoice's own", async () => {
    const shared = await startMyTpeSandbox({
      instances: [
        { id: '9d1c3a52-5b7e-4c1a-9f0e-5a1b7c2d3e4f', name: 'Production' },
        { id: '0b9e8f7a-6c5d-4e3f-8a1b-2c3d4e5f6a7b', name: 'Test instance' },
      ],
    });
    try {
      const production = await stackOf({ odoo: { db: 'shop' }, mytpe: shared });
      const ids = production.createInvoices(3);
      await (await ready(production)).pipeline.publish();
      const linkOf = (id: number) => production.odoo.models.invoiceFieldValue(id, 'x_mytpe_link_id');
      // Someone copies invoice 1's link onto invoice 3 by hand.
      const third = linkOf(ids[2]!);
      production.odoo.models.writeInvoice(ids[2]!, { x_mytpe_link_id: linkOf(ids[0]!) });
      const restarted = stackAppLosingStore(production);
      await restarted.prepareOdoo();
      await restarted.pipeline.publish();
      expect(restarted.notices.countsByKind()).toEqual([{ kind: 'foreign_link', count: 1 }]);
      expect(restarted.links.ofInvoice(ids[2]!)).toEqual([]);
      expect(shared.links().find((link) => link.id === third)?.status).toBe('active');

      // A copy whose config was copied too (same prefix) but points at the test instance.
      const staging = await stackOf({ odoo: { db: 'shop' }, mytpe: shared });
      staging.createInvoices(2);
      for (const id of ids.slice(0, 2)) staging.odoo.models.writeInvoice(id, { x_mytpe_link_id: linkOf(id) });
      const copy = staging.app({
        config: {
          odoo: { ...staging.config.odoo!, referencePrefix: production.prefix },
          companies: [
            { ...staging.config.companies[0]!, mytpeInstanceId: '0b9e8f7a-6c5d-4e3f-8a1b-2c3d4e5f6a7b' },
          ],
        },
      });
      await copy.prepareOdoo();
      await copy.pipeline.publish();
      expect(copy.notices.countsByKind()).toEqual([{ kind: 'foreign_link', count: 2 }]);
      expect(copy.links.countsByState()).toEqual([]);
    } finally {
      for (const stack of stacks.reverse()) await stack.close();
      stacks.length = 0;
      await shared.close();
    }
  });

  it('never reuse a reference for another link of the invoice, even after the state file is lost', async () => {
    const stack = await stackOf();
    const [id] = stack.createInvoices(1);
    const config = { config: { odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix } } };
    let app = await ready(stack, config);
    await app.pipeline.publish();
    // Cancelled: the link is deleted at MyTPE, which frees its slug.
    stack.odoo.models.cancelInvoice(id!);
    await app.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(0);
    stack.odoo.models.resetToDraft(id!);
    stack.odoo.models.postInvoice(id!);
    app.close();
    stack.loseStore();
    app = await ready(stack, config);
    await app.pipeline.publish();
    expect(slugOf(stack, id!)).toBe(`${stack.prefix}-inv-${id}-2`);
    expect(stack.odoo.models.invoiceFieldValue(id!, 'x_paylink_last_sequence')).toBe(2);
  });
});

describe('a link found under our reference', () => {
  it('is taken only when its metadata names this database, this invoice and this amount', async () => {
    const stack = await stackOf();
    const [id] = stack.createInvoices(1);
    // Someone else's link already holds the slug our link would get.
    const client = createMyTpeClient({
      baseUrl: `${stack.mytpe.url}/api/v2/mytpe-pay`,
      apiKey: stack.mytpe.apiKey,
      apiSecret: stack.mytpe.apiSecret,
    });
    const squatter = await client.createLink({
      mytpe_pay_id: stack.mytpe.instanceId,
      title: 'not ours',
      details: 'not ours',
      type: 'dynamic',
      payment_mode: 'one_shot',
      amount: '1500.00',
      slug: `${stack.prefix}-inv-${id}-1`,
      metadata: { database: 'another-database', invoice_id: String(id) },
    });
    const app = await ready(stack);
    await app.pipeline.publish();
    const [row] = app.links.inStates(['failed']);
    expect(row?.stateReason).toMatch(/not this invoice's link/);
    expect(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')).toBe(false);
    // Left alone: never closed, never deleted.
    stack.odoo.models.cancelInvoice(id!);
    await app.pipeline.publish();
    expect(stack.mytpe.links().find((link) => link.id === squatter.data.id)?.status).toBe('active');
  });
});

describe('a neutralized database (a staging copy)', () => {
  it('is refused by setup and at start, with the reason, unless config allows it', async () => {
    const stack = await stackOf({ odoo: { neutralized: true }, skipSetup: true });
    stack.createInvoices(1);
    const setup = stack.app();
    await expect(setup.setupOdoo(stack.admin)).rejects.toThrow(/is neutralized/);
    await expect(setup.setupOdoo(stack.admin)).rejects.toBeInstanceOf(ConfigError);
    // A daemon whose user may read the flag refuses at start too.
    const asAdmin = { ...stack.config.odoo!, login: stack.admin.login, password: stack.admin.password };
    await expect(
      stack.app({ config: { odoo: { ...asAdmin, createFields: true } } }).prepareOdoo(),
    ).rejects.toThrow(/neutralized/);
    expect(stack.mytpe.links()).toHaveLength(0);
    const allowed = stack.app({
      config: { odoo: { ...asAdmin, createFields: true, allowNeutralized: true } },
    });
    await allowed.prepareOdoo();
    await allowed.pipeline.publish();
    expect(stack.mytpe.links()).toHaveLength(1);
  });

  it('without an admin step leaves a Billing bot idle, naming the step', async () => {
    const stack = await stackOf({ skipSetup: true });
    const app = stack.app();
    await expect(app.prepareOdoo()).rejects.toMatchObject({
      name: 'NotReadyError',
      reason: 'odoo_fields_missing',
      message: expect.stringContaining('setup-odoo'),
    });
  });
});
