/**
 * Sends the queued invoice emails: claims due outbox rows one at a time, renders them, attaches
 * the QR code and the invoice PDF, sends through the pooled transport and records the outcome.
 */
import type { OutboxRepository, OutboxRow } from '../store/outbox.js';
import { type InvoiceEmail, parseInvoiceEmailJson, recipientAddresses } from './model.js';
import { paymentQrPng, QR_CID } from './qr.js';
import type { EmailRenderer } from './render.js';
import { type BackoffPolicy, classifySmtpError, DEFAULT_BACKOFF, retryDelayMs } from './smtp-errors.js';
import type { MailTransport, OutgoingAttachment } from './transport.js';

export interface MailLogger {
  info(message: string, meta?: object): void;
  warn(message: string, meta?: object): void;
  error(message: string, meta?: object): void;
  debug(message: string, meta?: object): void;
}

/**
 * Another mailer that renders and sends a row's email itself (`mail.via: odoo`). It must not
 * send twice: a row it already sent (a retry after a crash) comes back 'already_sent'.
 */
export interface MailHandOff {
  deliver(row: OutboxRow, email: InvoiceEmail): Promise<'sent' | 'already_sent'>;
}

export interface MailWorkerOptions {
  outbox: OutboxRepository;
  /** Required unless `handOff` is given. */
  transport?: MailTransport;
  /** When set, checked rows go to it instead of being rendered and sent through `transport`. */
  handOff?: MailHandOff;
  renderer: EmailRenderer;
  /** The invoice PDF; when it fails the email goes without it. */
  fetchPdf: (invoiceId: number, companyId: number) => Promise<Buffer>;
  /**
   * Checked right before sending: whether this email still goes (possibly moved onto the link
   * that replaced its own), must not go any more (its invoice was paid, cancelled or excluded, its
   * link archived), or waits for a replacement link being made. Throws when it cannot tell.
   */
  check?: (row: OutboxRow) => Promise<SendCheck>;
  /** Tells the accountant that this email went, to whom (a note in the Odoo chatter). */
  onSent?: (row: OutboxRow, recipients: readonly string[]) => void;
  /** Tells a person that the customer could not be emailed (e.g. a note in the Odoo chatter). */
  notifyNoRecipient: (row: OutboxRow) => Promise<void>;
  logger: MailLogger;
  /** Epoch milliseconds. */
  clock?: () => number;
  /** For the retry jitter; tests pass a constant. */
  random?: () => number;
  backoff?: Partial<BackoffPolicy>;
  /** Attempts before a row that keeps failing transiently is marked failed (≈2 days by default). */
  maxAttempts?: number;
  /** Rows sent per pass before the loop yields. */
  batchSize?: number;
  /** Pause between passes when started. */
  pollIntervalMs?: number;
}

export interface RunSummary {
  sent: number;
  retried: number;
  failed: number;
  noRecipient: number;
  dropped: number;
}

type Outcome = keyof RunSummary;

/** What `check` found: send this row (as it now is), drop it, or try again a little later. */
export type SendCheck = { send: OutboxRow } | { drop: string } | { wait: string };

/** How long an email waits for the link replacing its expired one before it is looked at again. */
const REPLACEMENT_WAIT_MS = 60_000;

const DEFAULT_MAX_ATTEMPTS = 55;
const DEFAULT_BATCH_SIZE = 20;
const DEFAULT_POLL_MS = 5_000;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function pdfFilename(invoiceName: string): string {
  const safe = invoiceName.replace(/[^\p{L}\p{N}._-]+/gu, '_').replace(/^[_.]+|_+$/g, '');
  return `${safe.slice(0, 100) || 'invoice'}.pdf`;
}

export class MailWorker {
  private readonly opts: Required<
    Omit<MailWorkerOptions, 'backoff' | 'check' | 'onSent' | 'handOff' | 'transport'>
  > &
    Pick<MailWorkerOptions, 'check' | 'onSent' | 'handOff' | 'transport'>;
  private readonly backoff: BackoffPolicy;
  private running: Promise<RunSummary> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  private stopping = false;

  constructor(options: MailWorkerOptions) {
    if (!options.transport && !options.handOff) throw new Error('MailWorker needs a transport or a hand-off');
    this.opts = {
      clock: Date.now,
      random: Math.random,
      maxAttempts: DEFAULT_MAX_ATTEMPTS,
      batchSize: DEFAULT_BATCH_SIZE,
      pollIntervalMs: DEFAULT_POLL_MS,
      ...options,
    };
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  }

  /** Polls the outbox until stop(). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    this.schedule(0);
  }

  /** Runs a pass now instead of at the next poll (e.g. right after queueing). */
  wake(): void {
    if (this.started && !this.stopping && this.timer) this.schedule(0);
  }

  /** Stops polling and resolves once the email being sent, if any, is recorded. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.running) await this.running.catch(() => undefined);
  }

  /** One pass over the due rows; concurrent callers share the pass in progress. */
  runOnce(): Promise<RunSummary> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.runOnce()
        .catch((error: unknown) => {
          this.opts.logger.error(`The mail worker pass failed and will run again: ${errorText(error)}`);
        })
        .finally(() => {
          if (this.started && !this.stopping) this.schedule(this.opts.pollIntervalMs);
        });
    }, delayMs);
  }

  private async pass(): Promise<RunSummary> {
    const summary: RunSummary = { sent: 0, retried: 0, failed: 0, noRecipient: 0, dropped: 0 };
    // One row per claim, so a stop() never leaves claimed-but-untouched rows waiting for their lease.
    for (let i = 0; i < this.opts.batchSize && !this.stopping; i++) {
      const [row] = this.opts.outbox.claimDue(this.opts.clock(), 1);
      if (!row) break;
      summary[await this.process(row)] += 1;
    }
    return summary;
  }

  private async process(row: OutboxRow): Promise<Outcome> {
    const { logger, outbox } = this.opts;
    const meta = {
      outboxId: row.id,
      invoiceId: row.invoiceId,
      linkRowId: row.linkRowId,
      attempt: row.attempts,
    };

    let email = this.readEmail(row, meta);
    if (!email) return 'failed';
    const what = `the email for invoice ${email.invoice.name}`;

    // Queued hours or days ago: the customer gets nothing about an invoice that no longer wants
    // paying, and never a link that stopped working while the email waited.
    if (this.opts.check) {
      let check: SendCheck;
      try {
        check = await this.opts.check(row);
      } catch (error) {
        return this.retryOrFail(
          row,
          what,
          `could not check the invoice first: ${errorText(error)}`,
          meta,
          'warn',
          '',
        );
      }
      if ('drop' in check) {
        outbox.markDropped(row.id, check.drop, this.opts.clock());
        logger.info(`Dropped ${what}, not sent: ${check.drop}.`, meta);
        return 'dropped';
      }
      if ('wait' in check) {
        // Bounded like any retry: a replacement that never comes fails the row after maxAttempts.
        if (row.attempts >= this.opts.maxAttempts)
          return this.retryOrFail(row, what, check.wait, meta, 'error', '');
        const now = this.opts.clock();
        outbox.markRetry(row.id, check.wait, now + REPLACEMENT_WAIT_MS, now);
        logger.info(`Holding ${what}: ${check.wait}.`, meta);
        return 'retried';
      }
      if (check.send !== row) {
        // Moved onto the link that replaced its own: its payload was rewritten for that link.
        row = check.send;
        email = this.readEmail(row, meta);
        if (!email) return 'failed';
      }
    }

    const recipients = recipientAddresses(email.partner.email);
    if (recipients.length === 0) return this.noRecipient(row, email, meta);
    if (this.opts.handOff) return this.handOff(this.opts.handOff, row, email, recipients, meta);

    let pdf: Buffer | null = null;
    try {
      pdf = await this.opts.fetchPdf(email.invoice.odooId, row.companyId);
    } catch (error) {
      logger.warn(
        `Could not get the PDF of invoice ${email.invoice.name}; ${what} goes without it: ${errorText(error)}`,
        meta,
      );
    }

    const messageId = row.messageId;
    if (!messageId) throw new Error(`outbox row ${row.id} was claimed without a Message-ID`);

    let subject: string;
    let html: string;
    let text: string;
    let qr: Buffer;
    try {
      qr = await paymentQrPng(email.payment.url);
      ({ subject, html, text } = this.opts.renderer.render({
        email,
        qrSrc: `cid:${QR_CID}`,
        pdfAttached: pdf !== null,
      }));
    } catch (error) {
      // Templates are deterministic, so this is an admin's override to fix; keep the email queued.
      return this.retryOrFail(
        row,
        what,
        `rendering failed: ${errorText(error)}`,
        meta,
        'error',
        'Fix the email templates;',
      );
    }

    const attachments: OutgoingAttachment[] = [
      { filename: 'pay-qr.png', content: qr, contentType: 'image/png', cid: QR_CID },
    ];
    if (pdf) {
      attachments.push({
        filename: pdfFilename(email.invoice.name),
        content: pdf,
        contentType: 'application/pdf',
      });
    }
    const replyTo = recipientAddresses(email.company.email)[0];

    const { transport } = this.opts;
    if (!transport) throw new Error('MailWorker has no transport');
    try {
      const result = await transport.send({
        to: recipients.map((address) => ({ name: email.partner.name, address })),
        ...(replyTo ? { replyTo } : {}),
        subject,
        text,
        html,
        messageId,
        attachments,
        // Asks vacation responders not to answer an automatic email.
        headers: { 'Auto-Submitted': 'auto-generated' },
      });
      if (!outbox.markSent(row.id, messageId, this.opts.clock())) {
        // Only possible if this send outlived the claim's lease and another pass took the row.
        logger.warn(
          `Sent ${what}, but its outbox row ${row.id} was no longer ours; it may go out twice.`,
          meta,
        );
      }
      this.opts.onSent?.(row, recipients);
      logger.info(`Sent ${what} to ${recipients.join(', ')}${pdf ? '' : ' (without the PDF)'}.`, {
        ...meta,
        messageId,
        rejected: result.rejected,
      });
      return 'sent';
    } catch (error) {
      const failure = classifySmtpError(error);
      const detail = failure.code ? `${failure.code}: ${failure.reason}` : failure.reason;
      switch (failure.kind) {
        case 'permanent':
          outbox.markFailed(row.id, failure.reason, this.opts.clock());
          logger.error(
            `The mail server refused ${what} for good (${detail}); it will not be retried. Check the customer's address and queue a resend.`,
            meta,
          );
          return 'failed';
        case 'config':
          return this.retryOrFail(
            row,
            what,
            detail,
            meta,
            'error',
            'The SMTP settings look wrong: fix them (host, port, TLS, user, password);',
          );
        case 'transient':
          return this.retryOrFail(row, what, detail, meta, 'warn', '');
      }
    }
  }

  private async handOff(
    handOff: MailHandOff,
    row: OutboxRow,
    email: InvoiceEmail,
    recipients: readonly string[],
    meta: object,
  ): Promise<Outcome> {
    const what = `the email for invoice ${email.invoice.name}`;
    let result: 'sent' | 'already_sent';
    try {
      result = await handOff.deliver(row, email);
    } catch (error) {
      return this.retryOrFail(row, what, errorText(error), meta, 'warn', '');
    }
    const messageId = row.messageId ?? '';
    if (!this.opts.outbox.markSent(row.id, messageId, this.opts.clock()))
      this.opts.logger.warn(`Sent ${what}, but its outbox row ${row.id} was no longer ours.`, meta);
    this.opts.onSent?.(row, recipients);
    this.opts.logger.info(
      result === 'sent'
        ? `Odoo sent ${what} to ${recipients.join(', ')}.`
        : `Odoo had already sent ${what} (found in its chatter); not sent again.`,
      meta,
    );
    return 'sent';
  }

  private async noRecipient(row: OutboxRow, email: InvoiceEmail, meta: object): Promise<Outcome> {
    try {
      await this.opts.notifyNoRecipient(row);
    } catch (error) {
      // The note is how a person learns about it, so it is retried like a send.
      const reason = `could not report the missing email address: ${errorText(error)}`;
      return this.retryOrFail(row, `the note for invoice ${email.invoice.name}`, reason, meta, 'warn', '');
    }
    this.opts.outbox.markNoRecipient(row.id, this.opts.clock());
    this.opts.logger.warn(
      `Invoice ${email.invoice.name}: customer ${email.partner.name} has no valid email address (${JSON.stringify(email.partner.email ?? '')}); nothing was sent and a person was notified.`,
      meta,
    );
    return 'noRecipient';
  }

  /** The row's email, or undefined (the row marked failed, the reason logged) when unreadable. */
  private readEmail(row: OutboxRow, meta: object): InvoiceEmail | undefined {
    try {
      return parseInvoiceEmailJson(row.payload);
    } catch (error) {
      const reason = errorText(error);
      this.opts.outbox.markFailed(row.id, reason, this.opts.clock());
      this.opts.logger.error(
        `The queued email for invoice ${row.invoiceId} has an unreadable payload and will not be sent: ${reason}. Queue a resend once the cause is fixed.`,
        meta,
      );
      return undefined;
    }
  }

  private retryOrFail(
    row: OutboxRow,
    what: string,
    reason: string,
    meta: object,
    level: 'warn' | 'error',
    advice: string,
  ): Outcome {
    const { outbox, logger, clock } = this.opts;
    const now = clock();
    const prefix = `Sending ${what} (outbox row ${row.id}) failed on attempt ${row.attempts}: ${reason}.`;
    if (row.attempts >= this.opts.maxAttempts) {
      outbox.markFailed(row.id, `gave up after ${row.attempts} attempts: ${reason}`, now);
      logger.error(
        `${prefix} ${advice} No more retries; queue a resend once it is fixed.`.replace(/\s+/g, ' '),
        meta,
      );
      return 'failed';
    }
    const nextAt = now + retryDelayMs(row.attempts, this.backoff, this.opts.random);
    outbox.markRetry(row.id, reason, nextAt, now);
    logger[level](`${prefix} ${advice} Retrying at ${new Date(nextAt).toISOString()}.`.replace(/\s+/g, ' '), {
      ...meta,
      nextAttemptAt: nextAt,
    });
    return 'retried';
  }
}
