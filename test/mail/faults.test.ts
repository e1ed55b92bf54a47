/**
 * Delivery under failure, over real SMTP: server down then up, a recipient refused with 550,
 * and a worker that died after claiming a row.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { InvoiceEmail } from '../../src/mail/model.js';
import { sampleInvoiceEmail } from '../../src/mail/preview.js';
import { EmailRenderer } from '../../src/mail/render.js';
import { createMailTransport, type MailTransport } from '../../src/mail/transport.js';
import { MailWorker } from '../../src/mail/worker.js';
import { type SmtpCapture, startSmtpCapture } from '../../src/sandbox/smtp/capture.js';
import type { OutboxRepository } from '../../src/store/outbox.js';
import {
  FAKE_PDF,
  freePort,
  manualClock,
  memoryOutbox,
  parseEml,
  recordingLogger,
  tempDir,
} from './helpers.js';

const LEASE_MS = 5 * 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
// Pooled client connections are closed before the servers, which would otherwise wait for them.
const transports: MailTransport[] = [];

afterEach(async () => {
  for (const transport of transports.splice(0)) transport.close();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function transportTo(port: number): MailTransport {
  const transport = createMailTransport({
    host: '127.0.0.1',
    port,
    from: 'billing@atlas-distribution.dz',
    connectionTimeoutMs: 1000,
    greetingTimeoutMs: 1000,
    socketTimeoutMs: 3000,
  });
  transports.push(transport);
  return transport;
}

async function captureOn(port: number): Promise<SmtpCapture> {
  const capture = await startSmtpCapture({ dir: tempDir('smtp'), port, host: '127.0.0.1' });
  cleanups.push(async () => {
    await capture.close();
    rmSync(capture.dir, { recursive: true, force: true });
  });
  return capture;
}

function workerFor(outbox: OutboxRepository, transport: MailTransport, clock: () => number) {
  const logger = recordingLogger();
  const worker = new MailWorker({
    outbox,
    transport,
    renderer: new EmailRenderer(),
    fetchPdf: async () => FAKE_PDF,
    notifyNoRecipient: async () => undefined,
    logger,
    clock,
    random: () => 0,
    backoff: { baseMs: 30_000, maxMs: 3_600_000 },
  });
  cleanups.push(() => worker.stop());
  return { worker, logger };
}

function enqueue(outbox: OutboxRepository, now: number, email: InvoiceEmail = sampleInvoiceEmail('fr')) {
  return outbox.enqueue({
    linkRowId: 9,
    invoiceId: 42,
    companyId: 1,
    dedupeKey: 'link:9',
    payload: email,
    now,
  }).row;
}

describe('delivery faults', () => {
  it('retries while the SMTP server is down and delivers exactly once when it is back', async () => {
    const port = await freePort();
    const clock = manualClock();
    const { outbox } = memoryOutbox({ leaseMs: LEASE_MS });
    const { worker, logger } = workerFor(outbox, transportTo(port), clock.now);
    const row = enqueue(outbox, clock.now());

    expect(await worker.runOnce()).toMatchObject({ sent: 0, retried: 1 });
    const waiting = outbox.findById(row.id);
    expect(waiting).toMatchObject({ state: 'queued', attempts: 1, nextAttemptAt: clock.now() + 30_000 });
    expect(waiting?.lastError).toMatch(/ECONNECTION|ESOCKET|ECONNREFUSED/);
    expect(logger.entries.at(-1)).toMatchObject({
      level: 'warn',
      message: expect.stringContaining('Retrying at'),
    });

    // Still down on the second attempt: the delay doubles.
    clock.advance(30_000);
    expect(await worker.runOnce()).toMatchObject({ retried: 1 });
    expect(outbox.findById(row.id)).toMatchObject({ attempts: 2, nextAttemptAt: clock.now() + 60_000 });

    const capture = await captureOn(port);
    clock.advance(59_999);
    expect(await worker.runOnce()).toMatchObject({ sent: 0, retried: 0 }); // not due yet
    clock.advance(1);
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    clock.advance(24 * 3600_000);
    expect(await worker.runOnce()).toMatchObject({ sent: 0, retried: 0 });

    const messages = await capture.messages();
    expect(messages).toHaveLength(1);
    const sent = outbox.findById(row.id);
    expect(sent).toMatchObject({ state: 'sent', attempts: 3, lastError: null });
    expect((await parseEml(messages[0]!)).messageId).toBe(sent?.messageId);
  });

  it('marks a recipient refused with 550 as failed with the reply, and does not retry', async () => {
    const clock = manualClock();
    const capture = await captureOn(0);
    const { outbox } = memoryOutbox({ leaseMs: LEASE_MS });
    const { worker, logger } = workerFor(outbox, transportTo(capture.port), clock.now);
    const base = sampleInvoiceEmail('en');
    const row = enqueue(outbox, clock.now(), {
      ...base,
      partner: { ...base.partner, email: 'nobody@reject.invalid' },
    });

    expect(await worker.runOnce()).toMatchObject({ failed: 1, sent: 0, retried: 0 });
    const failed = outbox.findById(row.id);
    expect(failed?.state).toBe('failed');
    expect(failed?.lastError).toContain('550');
    expect(failed?.lastError).toContain('Recipient address rejected: User unknown');
    expect(logger.entries.at(-1)).toMatchObject({
      level: 'error',
      message: expect.stringContaining('will not be retried'),
    });

    clock.advance(7 * 24 * 3600_000);
    expect(await worker.runOnce()).toEqual({ sent: 0, retried: 0, failed: 0, noRecipient: 0, dropped: 0 });
    expect(outbox.findById(row.id)?.attempts).toBe(1);
    expect(await capture.messages()).toHaveLength(0);
  });

  it('sends a row abandoned mid-send by a dead worker exactly once after restart', async () => {
    const clock = manualClock();
    const capture = await captureOn(0);
    const { outbox } = memoryOutbox({ leaseMs: LEASE_MS });
    const row = enqueue(outbox, clock.now());

    // The dead worker claimed the row (minting its Message-ID) and crashed before recording anything.
    const [claimed] = outbox.claimDue(clock.now(), 10);
    expect(claimed).toMatchObject({ id: row.id, state: 'sending', attempts: 1 });

    clock.advance(60_000);
    const { worker } = workerFor(outbox, transportTo(capture.port), clock.now);
    expect(await worker.runOnce()).toMatchObject({ sent: 0 }); // the lease still protects it

    clock.advance(LEASE_MS);
    expect(await worker.runOnce()).toMatchObject({ sent: 1 });
    expect(await worker.runOnce()).toMatchObject({ sent: 0 });

    const messages = await capture.messages();
    expect(messages).toHaveLength(1);
    expect(outbox.findById(row.id)).toMatchObject({
      state: 'sent',
      attempts: 2,
      messageId: claimed?.messageId,
    });
    expect((await parseEml(messages[0]!)).messageId).toBe(claimed?.messageId);
  });
});
