import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { App } from '../../src/app.js';
import type { Config } from '../../src/config/schema.js';
import { reminderPolicySchema } from '../../src/domain/reminders.js';
import { formatStatus } from '../../src/output/status.js';
import { captureSmtpConfig, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import { Mailbox } from '../support/mailbox.js';
import { type Stack, startStack } from '../support/stack.js';

/**
 * A customer is never contacted beyond what the merchant configured: one first email per
 * invoice, nothing stale, nothing about invoices the merchant kept out.
 */

let stack: Stack;

afterEach(async () => {
  await stack?.close();
});

const DAY = 86_400_000;

function linkOf(invoiceId: number): string {
  return String(stack.odoo.models.invoiceFieldValue(invoiceId, 'x_mytpe_link_id'));
}

async function cycle(app: App): Promise<void> {
  await app.pipeline.publish();
  await app.pipeline.confirm();
  await app.mail!.runOnce();
  await app.pipeline.postNotes();
}

/** The CLI (built) over the stack's store and sandboxes, with extra config. */
function cli(
  extra: Partial<Config>,
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const configFile = path.join(stack.dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ ...stack.config, ...extra }));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['dist/cli.js', '--config', configFile, ...args],
      { cwd: path.resolve(import.meta.dirname, '../..'), env: { ...process.env, PAYLINK_CONFIG: '' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

/** Mail on, without a PDF (the sandbox's report is not what these tests are about). */
function startStackMail(): Config['mail'] {
  return { enabled: true, via: 'smtp', attachPdf: false, pdfTimeoutMs: 5_000 };
}

describe('an invoice whose link expires every 48 hours for a month', () => {
  it('emails its customer once; each replacement link is made without an email', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const [id] = stack.createInvoices(1);
    const app = await stack.readyApp({ mailbox });
    await cycle(app);
    const links = new Set([linkOf(id!)]);
    for (let day = 2; day <= 30; day += 2) {
      stack.mytpe.expire(linkOf(id!));
      stack.advanceOdooClock(2 * DAY);
      await cycle(app);
      links.add(linkOf(id!));
    }
    expect(links.size, 'a live link after every expiry').toBe(16);
    expect(mailbox.sent).toHaveLength(1);
    expect(app.links.inStates(['open']).map((row) => row.linkId)).toEqual([linkOf(id!)]);
  });
});

describe('a queued email', () => {
  it('is dropped, not sent, when its invoice was cancelled before its turn', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const [cancelled, kept] = stack.createInvoices(2);
    const app = await stack.readyApp({ mailbox });
    await app.pipeline.publish();
    // The mail worker has not run yet; the accountant cancels one invoice in Odoo meanwhile.
    stack.odoo.models.cancelInvoice(cancelled!);
    await app.mail!.runOnce();
    expect(mailbox.sent.map((email) => email.subject).join('|')).not.toContain(
      String(stack.odoo.models.getInvoice(cancelled!).name),
    );
    expect(mailbox.countFor(String(stack.odoo.models.getInvoice(kept!).name))).toBe(1);
    expect(app.mail!.outbox.countsByState()).toMatchObject({ sent: 1, dropped: 1 });
    expect(stack.logs.some((line) => /Dropped the email for invoice .*cancel/.test(line.message))).toBe(true);
  });
});

describe('resend', () => {
  it('refuses a paid invoice unless forced, and takes the invoice number', async () => {
    const smtp = await startSmtpCapture({
      dir: path.join(process.env.TMPDIR ?? '/tmp', `paylink-nospam-${process.pid}-${Date.now()}`),
    });
    try {
      const mail = {
        ...startStackMail(),
        smtp: captureSmtpConfig(smtp, '"Test SARL" <billing@test.example.com>'),
      };
      stack = await startStack({ config: { mail } });
      const [id] = stack.createInvoices(1);
      const app = await stack.readyApp();
      await cycle(app);
      stack.mytpe.pay(linkOf(id!));
      await cycle(app);
      expect(stack.odoo.models.getInvoice(id!).payment_state).toBe('paid');
      app.close();
      expect(await smtp.messages()).toHaveLength(1);
      const name = String(stack.odoo.models.getInvoice(id!).name);
      const refused = await cli({}, 'resend', name);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/not sending .*: the invoice is .*paid.*--force/);
      expect(await smtp.messages()).toHaveLength(1);
      const forced = await cli({}, 'resend', name, '--force');
      expect(forced.stderr).not.toContain('odoo-paylink:');
      expect(forced.code).toBe(0);
      expect(await smtp.messages()).toHaveLength(2);
    } finally {
      await smtp.close();
    }
  }, 30_000);
});

describe('what the merchant keeps out', () => {
  it('old invoices on a first start get nothing, and --dry-run says so without any effect', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    for (let index = 0; index < 500; index++) {
      stack.odoo.models.createInvoice({
        partnerId: stack.partnerId,
        companyId: stack.companyId,
        amount: '990.00',
        date: index % 2 === 0 ? '2023-04-01' : '2025-11-30',
      });
    }
    const dry = await cli({}, 'sync', '--dry-run');
    expect(dry.stderr).not.toContain('odoo-paylink:');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/would get a link\s+0/);
    expect(dry.stdout).toMatch(/dated before \d{4}-\d{2}-\d{2}\s+500/);
    const inspected = stack.app();
    expect(inspected.links.countsByState()).toEqual([]);
    inspected.close();
    expect(stack.mytpe.links()).toHaveLength(0);

    const app = await stack.readyApp({ mailbox });
    const [today] = stack.createInvoices(1);
    await cycle(app);
    expect(app.links.countsByState()).toEqual([{ state: 'open', count: 1 }]);
    expect(app.links.currentForInvoice(today!)?.state).toBe('open');
    expect(mailbox.sent).toHaveLength(1);
    expect(stack.mytpe.links()).toHaveLength(1);

    // With publish.since going back far enough, --dry-run counts them and the oldest.
    const wider = await cli(
      { publish: { since: '2023-01-01', excludePartnerTags: [] } },
      'sync',
      '--dry-run',
    );
    expect(wider.stdout).toMatch(/would get a link\s+500 \(oldest dated 2023-04-01\)/);
    expect(stack.mytpe.links()).toHaveLength(1);
  }, 60_000);

  it('after the state file is lost, still covers invoices since the first one it linked', async () => {
    stack = await startStack();
    const first = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '100.00',
      date: '2026-01-10',
    });
    const config = { publish: { since: '2026-01-01', excludePartnerTags: [] } };
    let app = await stack.readyApp({ config });
    await app.pipeline.publish();
    expect(app.links.currentForInvoice(first)?.state).toBe('open');
    app.close();
    stack.loseStore();
    const later = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '200.00',
      date: '2026-02-01',
    });
    const old = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '300.00',
      date: '2025-12-01',
    });
    app = await stack.readyApp({
      config: { odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix } },
    });
    expect(app.scope.since).toBe('2026-01-10');
    await app.pipeline.publish();
    expect(app.links.currentForInvoice(later)?.state).toBe('open');
    expect(app.links.currentForInvoice(old)).toBeUndefined();
  });

  it('an invoice ticked "do not send", or of a customer with an excluding tag, gets no link; ticking it later archives the link', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const tag = stack.odoo.models.createPartnerCategory('No online payment');
    const taggedPartner = stack.odoo.models.createPartner({
      name: 'Cash Only SARL',
      email: 'cash@example.com',
    });
    stack.odoo.models.tagPartner(taggedPartner, tag);
    const [skipped, laterSkipped, plain] = stack.createInvoices(3);
    stack.odoo.models.writeInvoice(skipped!, { x_paylink_skip: true });
    const tagged = stack.odoo.models.createInvoice({
      partnerId: taggedPartner,
      companyId: stack.companyId,
      amount: '400.00',
    });
    const app = await stack.readyApp({
      mailbox,
      config: { publish: { excludePartnerTags: ['No online payment'] } },
    });
    await app.pipeline.publish();
    expect(app.links.ofInvoice(skipped!), 'not even an intent to link it').toEqual([]);
    expect(app.links.ofInvoice(tagged)).toEqual([]);
    expect(app.links.currentForInvoice(plain!)?.state).toBe('open');
    // Ticked after its link went out, before its email did: the link is archived, the email dropped.
    stack.odoo.models.writeInvoice(laterSkipped!, { x_paylink_skip: true });
    stack.advanceOdooClock(2_000);
    await cycle(app);
    expect(app.links.ofInvoice(laterSkipped!).map((row) => row.state)).toEqual(['closed']);
    expect(stack.odoo.models.invoiceFieldValue(laterSkipped!, 'x_mytpe_link_id')).toBe(false);
    expect(mailbox.sent).toHaveLength(1);
    expect(mailbox.countFor(String(stack.odoo.models.getInvoice(plain!).name))).toBe(1);
    // A tag put on the customer later changes no invoice: the hourly full sweep sees it.
    stack.odoo.models.tagPartner(stack.partnerId, tag);
    stack.advanceOdooClock(61 * 60_000);
    await cycle(app);
    expect(app.links.ofInvoice(plain!).map((row) => row.state)).toEqual(['closed']);
  });
});

describe('reminders', () => {
  it('a month-long invoice whose link expires every 48 h: the first email plus the configured reminders, in daytime, noted in the chatter', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    // Start at 10:30 UTC, so the pass that finds a link expired on the due date is also the first
    // one in that day's sending hours: the reminder queued for the dying link must go with the
    // link replacing it, not be dropped (it was lost when the test started between 09:00 and 15:00).
    const toMorning = (((10.5 * 3_600_000 - (Date.now() % DAY)) % DAY) + DAY) % DAY;
    stack.advanceOdooClock(toMorning);
    const start = Date.now() + toMorning;
    const dueDate = new Date(start + 30 * DAY).toISOString().slice(0, 10);
    const id = stack.odoo.models.createInvoice({
      partnerId: stack.partnerId,
      companyId: stack.companyId,
      amount: '1500.00',
      dueDate,
    });
    // The README's example policy, which is also what a bare reminders section means.
    const reminders = reminderPolicySchema.parse({});
    const app = await stack.readyApp({ mailbox, config: { reminders } });
    const sentAt: number[] = [];
    let offset = 0;
    for (let hour = 0; hour <= 60 * 24; hour += 6) {
      if (hour > 0 && hour % 48 === 0) stack.mytpe.expire(linkOf(id));
      await cycle(app);
      while (sentAt.length < mailbox.sent.length) {
        const email = mailbox.sent[sentAt.length]!;
        const url = app.links.currentForInvoice(id)?.linkUrl;
        expect(url, 'the invoice has a working link when its email goes').toBeTruthy();
        expect(JSON.stringify(email), 'the email carries the link that works now').toContain(url!);
        sentAt.push(start + offset);
      }
      stack.advanceOdooClock(6 * 3_600_000);
      offset += 6 * 3_600_000;
    }
    expect(mailbox.sent).toHaveLength(5);
    // The stack's customer reads French.
    expect(mailbox.sent.map((email) => email.subject.split(' ')[0])).toEqual([
      'Facture',
      'Rappel',
      'Rappel',
      'Rappel',
      'Rappel',
    ]);
    const days = sentAt.map((at) => new Date(at).toISOString().slice(0, 10));
    expect(new Set(days).size, 'never two emails on one day').toBe(5);
    for (const at of sentAt.slice(1)) {
      const hour = new Date(at).getUTCHours();
      expect(hour, 'reminders go in the daytime of the company (UTC here)').toBeGreaterThanOrEqual(9);
      expect(hour).toBeLessThan(18 + 6);
    }
    expect(stack.odoo.models.invoiceFieldValue(id, 'x_paylink_reminders_sent')).toBe(4);
    const notes = stack.odoo.models
      .messages(id)
      .filter((message) => /was sent (again, on request, )?to/.test(String(message.body)));
    expect(notes).toHaveLength(5);
    expect(formatStatus(app, { runs: false })).toMatch(/sent: 1 first emails, 4 reminders/);
  }, 120_000);

  it('stop once the invoice is paid, and a lost store does not start them over', async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const start = Date.now();
    const ids = [0, 1].map(() =>
      stack.odoo.models.createInvoice({
        partnerId: stack.partnerId,
        companyId: stack.companyId,
        amount: '700.00',
        dueDate: new Date(start + 2 * DAY).toISOString().slice(0, 10),
      }),
    );
    const reminders = reminderPolicySchema.parse({ beforeDueDays: [], everyDaysAfterDue: 1, max: 3 });
    const config: Partial<Config> = {
      reminders,
      odoo: { ...stack.config.odoo!, referencePrefix: stack.prefix },
    };
    let app = await stack.readyApp({ mailbox, config });
    await cycle(app);
    stack.mytpe.pay(linkOf(ids[0]!));
    await cycle(app);
    const names = ids.map((id) => String(stack.odoo.models.getInvoice(id).name));
    const advanceDays = async (days: number) => {
      for (let hour = 0; hour < days * 24; hour += 6) {
        stack.advanceOdooClock(6 * 3_600_000);
        await cycle(app);
      }
    };
    await advanceDays(3);
    expect(mailbox.countFor(names[0]!), 'paid: no reminder').toBe(1);
    const before = mailbox.countFor(names[1]!);
    expect(before).toBeGreaterThanOrEqual(2);
    app.close();
    stack.loseStore();
    app = await stack.readyApp({ mailbox, config });
    await advanceDays(10);
    expect(mailbox.countFor(names[1]!), 'the first email plus at most 3 reminders, store lost or not').toBe(
      4,
    );
    expect(mailbox.countFor(names[0]!)).toBe(1);
  }, 120_000);

  it("a reminder missed while the daemon was down waits for the morning, and Odoo's count caps them", async () => {
    stack = await startStack();
    const mailbox = new Mailbox();
    const start = Date.now();
    const dueDay = new Date(start + 3 * DAY).toISOString().slice(0, 10);
    const [late, counted] = [0, 1].map(() =>
      stack.odoo.models.createInvoice({
        partnerId: stack.partnerId,
        companyId: stack.companyId,
        amount: '250.00',
        dueDate: dueDay,
      }),
    );
    const reminders = reminderPolicySchema.parse({ beforeDueDays: [], everyDaysAfterDue: 0, max: 1 });
    const app = await stack.readyApp({ mailbox, config: { reminders } });
    await cycle(app);
    expect(mailbox.sent).toHaveLength(2);
    // Another daemon (its own state file) already sent this one's only reminder, as Odoo says.
    stack.odoo.models.writeInvoice(counted!, { x_paylink_reminders_sent: 1 });
    // Down over the due date; back at 02:00 UTC the day after.
    const twoAm = Date.parse(`${dueDay}T02:00:00Z`) + DAY;
    stack.advanceOdooClock(twoAm - Date.now());
    await cycle(app);
    expect(mailbox.sent, 'not at night').toHaveLength(2);
    stack.advanceOdooClock(8 * 3_600_000);
    await cycle(app);
    const name = (id: number) => String(stack.odoo.models.getInvoice(id).name);
    expect(mailbox.countFor(name(late!)), 'at 10:00, once').toBe(2);
    expect(mailbox.countFor(name(counted!)), "Odoo counts the other daemon's reminder").toBe(1);
  });
});
