import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/schema.js';
import { Rng } from '../support/crash-harness.js';
import { Mailbox } from '../support/mailbox.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * Odoo and the gateway are the record; the state file is a cache. A daemon that lost it (a new
 * server, a deleted var/paylink.db) must not email anyone again, make a second payable link, or
 * lose or double a payment.
 */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

/** As the README advises: the prefix in config, so a lost store needs no new admin setup. */
function withPrefix(stack: Stack): Partial<Config> {
  return { odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix } };
}

async function daemon(mailbox: Mailbox, fetch?: typeof globalThis.fetch): Promise<App> {
  const app = stack.app({ mailbox, config: withPrefix(stack), ...(fetch ? { fetch } : {}) });
  await app.prepareOdoo();
  return app;
}

async function cycle(app: App): Promise<void> {
  await app.pipeline.publish();
  await app.pipeline.confirm();
  await app.mail!.runOnce();
  await app.pipeline.postNotes();
}

function linkOf(invoiceId: number): string {
  return String(stack.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id'));
}

describe('a daemon that lost its state file', () => {
  it('adopts the links invoices carry: no second link, no second email, the payment registered once', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const ids = stack.createInvoices(3);
    let app = await daemon(mailbox);
    await cycle(app);
    // Invoice 2's amount changes: its first link is deleted and a second one made, which does not
    // email the customer again by itself.
    stack.odoo.models.resetToDraft(ids[1]!);
    stack.odoo.models.setAmount(ids[1]!, '1700.00');
    stack.odoo.models.postInvoice(ids[1]!);
    await cycle(app);
    expect(mailbox.sent).toHaveLength(3);
    const before = ids.map(linkOf);
    stack.mytpe.pay(before[0]!);

    app.close();
    stack.loseStore();
    app = await daemon(mailbox);
    await cycle(app);
    await cycle(app);

    expect(mailbox.sent, 'nobody is emailed again').toHaveLength(3);
    expect(ids.map(linkOf), 'x_mytpe_link_id is never overwritten').toEqual(before);
    expect(
      stack.mytpe
        .links()
        .map((link) => link.slug)
        .sort(),
    ).toEqual(
      [
        `${stack.prefix}-inv-${ids[0]}-1`,
        `${stack.prefix}-inv-${ids[1]}-2`,
        `${stack.prefix}-inv-${ids[2]}-1`,
      ].sort(),
    );
    expect(stack.odoo.models.payments()).toHaveLength(1);
    expect(stack.odoo.models.getInvoice(ids[0]!).payment_state).toBe('paid');
    expect(app.links.countsByState()).toEqual([
      { state: 'open', count: 2 },
      { state: 'registered', count: 1 },
    ]);
  });

  it('is rebuilt from Odoo and the gateway by `rebuild`, which creates and emails nothing', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const ids = stack.createInvoices(4);
    let app = await daemon(mailbox);
    await cycle(app);
    stack.mytpe.pay(linkOf(ids[0]!));
    await cycle(app);
    stack.mytpe.pay(linkOf(ids[1]!));
    app.close();
    stack.loseStore();

    app = await daemon(mailbox);
    const summary = await app.pipeline.rebuild();
    expect(summary.invoicesRead).toBe(4);
    expect(summary.adopted).toBe(4);
    expect(summary.linksCreated).toBe(0);
    expect(app.links.countsByState()).toEqual([
      { state: 'open', count: 2 },
      { state: 'registered', count: 2 },
    ]);
    await app.mail!.runOnce();
    expect(mailbox.sent).toHaveLength(4);
    // The payment that arrived while the store was gone was registered, once; the earlier one adopted.
    expect(stack.odoo.models.payments()).toHaveLength(2);
  });

  it('deleted at random moments of a run: 0 duplicate emails, 0 second payable links, 0 lost or double payments', async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const rng = new Rng(seed);
    stack = await startStack();
    const mailbox = new Mailbox();
    const ids = stack.createInvoices(10);
    let app = await daemon(mailbox);
    const restart = async (crashAfter?: number) => {
      app.close();
      if (crashAfter === undefined || rng.chance(0.7)) stack.loseStore();
      app = await daemon(mailbox);
      if (crashAfter === undefined) return;
      // A process that dies after `crashAfter` requests: the last one takes effect, its answer is lost.
      let requests = 0;
      const dying: typeof fetch = async (input, init) => {
        requests++;
        if (requests > crashAfter) throw new TypeError('fetch failed');
        const answer = await fetch(input, init);
        if (requests === crashAfter) throw new TypeError('fetch failed');
        return answer;
      };
      const doomed = stack.app({ mailbox, config: withPrefix(stack), fetch: dying });
      await doomed
        .prepareOdoo()
        .then(() => cycle(doomed))
        .catch(() => undefined);
      doomed.close();
      if (rng.chance(0.7)) stack.loseStore();
      app.close();
      app = await daemon(mailbox);
    };
    const active = () =>
      stack.mytpe
        .links()
        .filter((link) => link.status === 'active' && link.payment_status === 'awaiting_payment');

    for (let step = 0; step < 30; step++) {
      const roll = rng.int(0, 9);
      if (roll <= 3) await cycle(app);
      else if (roll === 4) {
        const payable = active();
        if (payable.length > 0) stack.mytpe.pay(rng.pick(payable).id);
      } else if (roll === 5) {
        const id = rng.pick(ids);
        const invoice = stack.odoo.models.getInvoice(id);
        if (invoice.state === 'posted' && invoice.payment_state === 'not_paid') {
          stack.odoo.models.resetToDraft(id);
          stack.odoo.models.setAmount(id, `${rng.int(1000, 2000)}.00`);
          stack.odoo.models.postInvoice(id);
        }
      } else if (roll === 6) {
        const payable = active();
        if (payable.length > 0) stack.mytpe.expire(rng.pick(payable).id);
      } else if (roll === 7) ids.push(...stack.createInvoices(1));
      else if (roll === 8) await restart();
      else await restart(rng.int(1, 12));
    }
    for (let pass = 0; pass < 4; pass++) await cycle(app);

    const where = `seed ${seed} (CRASH_SEED=${seed} replays it)`;
    // No customer got the same pay address twice.
    const urls = mailbox.sent.map((email) => /href="([^"]+\/pay\/[^"]+)"/.exec(email.html)?.[1]);
    expect(new Set(urls).size, `duplicate emails, ${where}`).toBe(urls.length);
    // At most one payable link per invoice, and it is the one the invoice shows.
    for (const id of ids) {
      const payable = active().filter((link) => link.slug.startsWith(`${stack.prefix}-inv-${id}-`));
      expect(payable.length, `payable links of invoice ${id}, ${where}`).toBeLessThanOrEqual(1);
      if (payable[0])
        expect(linkOf(id), `invoice ${id} shows its payable link, ${where}`).toBe(payable[0].id);
    }
    // Every completed payment is registered once, or told to the accountant on the invoice.
    const memos = stack.odoo.models.payments().map((payment) => payment.memo);
    expect(new Set(memos).size, `double payments, ${where}`).toBe(memos.length);
    for (const link of stack.mytpe.links()) {
      for (const transaction of stack.mytpe.transactions(link.id)) {
        if (transaction.status !== 'completed') continue;
        const invoiceId = Number(/-inv-(\d+)-/.exec(link.slug)?.[1]);
        const told = stack.odoo.models
          .messages(invoiceId)
          .some((message) => String(message.body).includes(transaction.id));
        expect(
          memos.includes(`MyTPE ${transaction.id}`) || told,
          `payment ${transaction.id} of invoice ${invoiceId} lost, ${where}`,
        ).toBe(true);
      }
    }
  });
});
