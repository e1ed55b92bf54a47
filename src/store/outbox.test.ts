import Database from 'better-sqlite3';
import { beforeEach, describe, expect, it } from 'vitest';
import { sampleInvoiceEmail } from '../mail/preview.js';
import { OUTBOX_SCHEMA_SQL, OutboxRepository } from './outbox.js';

const T0 = 1_700_000_000_000;
const LEASE = 60_000;

describe('OutboxRepository', () => {
  let db: Database.Database;
  let outbox: OutboxRepository;

  beforeEach(() => {
    db = new Database(':memory:');
    db.exec(OUTBOX_SCHEMA_SQL);
    outbox = new OutboxRepository(db, { leaseMs: LEASE, clock: () => T0 });
  });

  const enqueue = (linkRowId: number, dedupeKey = `link:${linkRowId}`, now = T0) =>
    outbox.enqueue({
      linkRowId,
      invoiceId: 100 + linkRowId,
      companyId: 1,
      dedupeKey,
      payload: sampleInvoiceEmail(),
      now,
    });

  it('queues a row once per dedupe key and returns the existing row on a repeat', () => {
    const first = enqueue(1);
    expect(first.inserted).toBe(true);
    expect(first.row).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: T0, messageId: null });
    expect(JSON.parse(first.row.payload)).toEqual(sampleInvoiceEmail());

    const again = enqueue(1, 'link:1', T0 + 5000);
    expect(again.inserted).toBe(false);
    expect(again.row.id).toBe(first.row.id);
    expect(again.row.createdAt).toBe(T0);
    expect(outbox.countsByState().queued).toBe(1);
  });

  it('joins the caller transaction: a rollback removes the queued row', () => {
    const tx = db.transaction(() => {
      enqueue(1);
      throw new Error('link insert failed');
    });
    expect(() => tx()).toThrow('link insert failed');
    expect(outbox.findByInvoice(101)).toEqual([]);
  });

  it('refuses an invalid payload before touching the table', () => {
    const bad = { ...sampleInvoiceEmail(), payment: { url: 'javascript:alert(1)', gatewayName: 'x' } };
    expect(() =>
      outbox.enqueue({
        linkRowId: 1,
        invoiceId: 1,
        companyId: 1,
        dedupeKey: 'link:1',
        payload: bad,
        now: T0,
      }),
    ).toThrow(/payment\.url/);
    expect(outbox.countsByState().queued).toBe(0);
  });

  it('claims due rows only, counts the attempt and mints a Message-ID once', () => {
    enqueue(1);
    enqueue(2, 'link:2', T0 + 10_000);
    const claimed = outbox.claimDue(T0, 10);
    expect(claimed.map((r) => r.linkRowId)).toEqual([1]);
    const [row] = claimed;
    expect(row).toMatchObject({ state: 'sending', attempts: 1, nextAttemptAt: T0 + LEASE });
    expect(row?.messageId).toMatch(/^<outbox-\d+\.[0-9a-f]{16}@odoo-paylink>$/);

    // Still leased: nobody else takes it.
    expect(outbox.claimDue(T0 + LEASE - 1, 10).map((r) => r.linkRowId)).toEqual([2]);

    // Lease over (the worker died): claimed again with the same Message-ID.
    const reclaimed = outbox.claimDue(T0 + LEASE, 10);
    expect(reclaimed.map((r) => r.linkRowId)).toEqual([1]);
    expect(reclaimed[0]).toMatchObject({ attempts: 2, messageId: row?.messageId });
  });

  it('respects the claim limit', () => {
    for (let i = 1; i <= 5; i++) enqueue(i);
    expect(outbox.claimDue(T0, 2).map((r) => r.linkRowId)).toEqual([1, 2]);
    expect(outbox.claimDue(T0, 10).map((r) => r.linkRowId)).toEqual([3, 4, 5]);
  });

  it('records sent, retry, failed and no-recipient outcomes from allowed states only', () => {
    const a = enqueue(1).row;
    const b = enqueue(2).row;
    const c = enqueue(3).row;
    const d = enqueue(4).row;
    outbox.claimDue(T0, 10);

    expect(outbox.markSent(a.id, '<m@x>', T0 + 1)).toBe(true);
    expect(outbox.markRetry(b.id, 'ECONNECTION: refused', T0 + 30_000)).toBe(true);
    expect(outbox.markFailed(c.id, '550 5.1.1 User unknown')).toBe(true);
    expect(outbox.markNoRecipient(d.id)).toBe(true);

    expect(outbox.findByInvoice(101)[0]).toMatchObject({ state: 'sent', sentAt: T0 + 1, messageId: '<m@x>' });
    expect(outbox.findByInvoice(102)[0]).toMatchObject({
      state: 'queued',
      nextAttemptAt: T0 + 30_000,
      lastError: 'ECONNECTION: refused',
    });
    expect(outbox.findByInvoice(103)[0]).toMatchObject({
      state: 'failed',
      lastError: '550 5.1.1 User unknown',
    });
    expect(outbox.findByInvoice(104)[0]?.state).toBe('no_recipient');

    // A sent email is final: a late retry or failure report changes nothing.
    expect(outbox.markRetry(a.id, 'late', T0)).toBe(false);
    expect(outbox.markFailed(a.id, 'late')).toBe(false);
    expect(outbox.markSent(b.id, '<m@x>', T0)).toBe(false); // queued, not claimed
    expect(outbox.findByInvoice(101)[0]?.state).toBe('sent');

    expect(outbox.countsByState()).toEqual({
      queued: 1,
      sending: 0,
      sent: 1,
      failed: 1,
      no_recipient: 1,
      dropped: 0,
    });
  });

  it('numbers resends per link', () => {
    expect(outbox.nextResendKey(7)).toBe('resend:7:1');
    enqueue(7);
    enqueue(7, outbox.nextResendKey(7));
    enqueue(7, outbox.nextResendKey(7));
    enqueue(70, 'resend:70:9'); // another link whose id starts with the same digit
    expect(outbox.nextResendKey(7)).toBe('resend:7:3');
    expect(outbox.nextResendKey(70)).toBe('resend:70:10');
  });

  it('lists recent failures newest first and rows by invoice', () => {
    for (let i = 1; i <= 3; i++) enqueue(i);
    outbox.claimDue(T0, 10);
    outbox.markFailed(1, 'first', T0 + 1);
    outbox.markFailed(3, 'third', T0 + 3);
    expect(outbox.recentFailures(10).map((r) => r.lastError)).toEqual(['third', 'first']);
    expect(outbox.recentFailures(1)).toHaveLength(1);
    enqueue(1, 'resend:1:1');
    expect(outbox.findByInvoice(101).map((r) => r.dedupeKey)).toEqual(['link:1', 'resend:1:1']);
  });

  it('keeps stored errors bounded', () => {
    enqueue(1);
    outbox.claimDue(T0, 1);
    outbox.markFailed(1, 'x'.repeat(10_000));
    expect(outbox.findByInvoice(101)[0]?.lastError?.length).toBeLessThanOrEqual(2000);
  });
});
