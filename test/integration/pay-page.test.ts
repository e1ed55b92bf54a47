import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/schema.js';
import { Mailbox } from '../support/mailbox.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * One pay address per invoice for the life of the invoice (`<publicUrl>/pay/<token>`), through
 * a real HTTP client against the daemon's own server.
 */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const HOUR = 3_600_000;
const PUBLIC_URL = 'https://pay.example.test';

function payConfig(limits = { perAddress: 10_000, perToken: 10_000 }): Partial<Config> {
  return {
    http: {
      ...stack.config.http,
      port: 0,
      publicUrl: PUBLIC_URL,
      paySecret: 'pay-page-secret-for-tests-0123456789abcdef',
      payRequestsPerMinute: limits,
    },
  };
}

/** Counts the requests an app sends to Odoo and to MyTPE. */
function counter(): { fetch: typeof fetch; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    fetch: (input, init) => {
      calls.push(String(input));
      return fetch(input, init);
    },
  };
}

async function served(
  options: {
    limits?: { perAddress: number; perToken: number };
    mailbox?: Mailbox;
    fetch?: typeof fetch;
  } = {},
): Promise<{ app: App; url: string }> {
  const app = await stack.readyApp({
    config: payConfig(options.limits),
    ...(options.mailbox ? { mailbox: options.mailbox } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { url } = await stack.serve(app);
  return { app, url };
}

/** The path of an invoice's pay address, opened on the local server instead of the public host. */
function localPay(app: App, url: string, invoiceId: number): string {
  const address = app.payPage!.addressOf(invoiceId);
  expect(address.startsWith(`${PUBLIC_URL}/pay/`)).toBe(true);
  return `${url}${address.slice(PUBLIC_URL.length)}`;
}

const open = (address: string) => fetch(address, { redirect: 'manual' });

describe('the pay page', () => {
  it('sends the customer on to the live link, from the store alone; emails and the chatter carry the stable address', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const calls = counter();
    const [id] = stack.createInvoices(1);
    const { app, url } = await served({ mailbox, fetch: calls.fetch });
    await app.pipeline.publish();
    await app.mail!.runOnce();
    await app.pipeline.postNotes();
    const gatewayUrl = String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_payment_link'));
    expect(gatewayUrl).toMatch(/^https?:\/\//);
    const address = app.payPage!.addressOf(id!);

    const before = calls.calls.length;
    const answer = await open(localPay(app, url, id!));
    expect(answer.status).toBe(303);
    expect(answer.headers.get('location')).toBe(gatewayUrl);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(calls.calls.length, 'no Odoo or gateway call for a live link').toBe(before);

    const [email] = mailbox.sent;
    expect(email!.html).toContain(address);
    expect(email!.html).not.toContain(gatewayUrl);
    const created = stack.odoo.models.messages(id!).find((message) => String(message.body).includes(address));
    expect(created, 'the link-created note carries the stable address').toBeDefined();
  });

  it('replaces an expired link on the first request only, under 100 at once: one new gateway link', async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const { app, url } = await served();
    await app.pipeline.publish();
    const first = String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_payment_link'));
    stack.mytpe.expire(String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')));
    stack.advanceOdooClock(49 * HOUR);
    const linksBefore = stack.mytpe.links().length;

    const answers = await Promise.all(Array.from({ length: 100 }, () => open(localPay(app, url, id!))));
    const locations = new Set(answers.map((answer) => `${answer.status} ${answer.headers.get('location')}`));
    expect(locations.size, [...locations].join(', ')).toBe(1);
    const [only] = [...locations];
    expect(only).toMatch(/^303 /);
    expect(only).not.toContain(first);
    expect(stack.mytpe.links().length - linksBefore, 'one new gateway link').toBe(1);
    expect(only).toContain(String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_payment_link')));
  });

  it('shows paid and cancelled invoices a page in the customer language', async () => {
    stack = await startStack();
    const languages = ['en_US', 'fr_FR', 'ar_001'];
    const invoices = languages.map((lang) => {
      const partnerId = stack.odoo.models.createPartner({
        name: `Client ${lang}`,
        email: `${lang}@example.com`,
        lang,
      });
      return {
        lang,
        paid: stack.odoo.models.createInvoice({ partnerId, companyId: stack.companyId, amount: '100.00' }),
        cancelled: stack.odoo.models.createInvoice({
          partnerId,
          companyId: stack.companyId,
          amount: '200.00',
        }),
      };
    });
    const { app, url } = await served();
    await app.pipeline.publish();
    for (const { paid, cancelled } of invoices) {
      stack.mytpe.pay(String(stack.odoo.models.invoiceFieldValue(paid, 'x_mytpe_link_id')));
      stack.odoo.models.cancelInvoice(cancelled);
    }
    await app.pipeline.confirm();
    stack.advanceOdooClock(2_000);
    await app.pipeline.publish();
    const expected: Record<string, { paid: RegExp; cancelled: RegExp; dir: string }> = {
      en_US: { paid: /is paid/, cancelled: /This invoice was cancelled\./, dir: 'ltr' },
      fr_FR: { paid: /est réglée/, cancelled: /Cette facture a été annulée\./, dir: 'ltr' },
      ar_001: { paid: /مدفوعة/, cancelled: /تم إلغاء هذه الفاتورة\./, dir: 'rtl' },
    };
    for (const { lang, paid, cancelled } of invoices) {
      const paidPage = await open(localPay(app, url, paid));
      expect(paidPage.status).toBe(200);
      const paidHtml = await paidPage.text();
      expect(paidHtml).toMatch(expected[lang]!.paid);
      expect(paidHtml).toContain(`dir="${expected[lang]!.dir}"`);
      expect(paidHtml).toContain(String(stack.odoo.models.getInvoice(paid).name));
      const cancelledPage = await open(localPay(app, url, cancelled));
      expect(cancelledPage.status).toBe(200);
      expect(await cancelledPage.text()).toMatch(expected[lang]!.cancelled);
    }
  });

  it("answers a plain 404 to forged, truncated and other databases' tokens, and limits requests", async () => {
    stack = await startStack();
    const [id] = stack.createInvoices(1);
    const { app, url } = await served({ limits: { perAddress: 1_000, perToken: 5 } });
    await app.pipeline.publish();
    const good = localPay(app, url, id!);
    const token = good.slice(good.lastIndexOf('/') + 1);
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    for (const bad of [token.slice(0, -1), token.slice(0, 8), flipped, String(id), 'x'.repeat(500)]) {
      const answer = await open(`${url}/pay/${bad}`);
      expect(answer.status, bad).toBe(404);
      expect(await answer.text()).toBe('Not found');
    }
    const statuses: number[] = [];
    for (let request = 0; request < 6; request++) statuses.push((await open(good)).status);
    expect(statuses).toEqual([303, 303, 303, 303, 303, 429]);
  });

  it("keeps the first email's address leading to a payable link through a month of 48 h expiries, with no second email", async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const [id] = stack.createInvoices(1);
    const { app, url } = await served({ mailbox });
    await app.pipeline.publish();
    await app.mail!.runOnce();
    const [email] = mailbox.sent;
    const address = /https:\/\/pay\.example\.test\/pay\/[A-Za-z0-9_-]+/.exec(email!.html)?.[0];
    expect(address).toBe(app.payPage!.addressOf(id!));
    const local = `${url}${address!.slice(PUBLIC_URL.length)}`;
    const visited: string[] = [];
    for (let day = 2; day <= 30; day += 2) {
      stack.mytpe.expire(String(stack.odoo.models.invoiceFieldValue(id!, 'x_mytpe_link_id')));
      stack.advanceOdooClock(48 * HOUR);
      if (day % 4 === 0) await app.pipeline.confirm();
      const answer = await open(local);
      expect(answer.status, `day ${day}`).toBe(303);
      const location = answer.headers.get('location')!;
      const live = stack.mytpe
        .links()
        .find((link) => location.endsWith(`/${link.slug}`) || location.endsWith(`/${link.id}`));
      expect(live?.status, `day ${day}: the address leads to a payable link`).toBe('active');
      visited.push(location);
      await app.mail!.runOnce();
    }
    expect(new Set(visited).size).toBe(15);
    expect(mailbox.sent).toHaveLength(1);
  });
});
