import type { MailConfig, OdooConfig } from '../config/schema.js';
import type { Invoice } from '../domain/invoice.js';
import type { Logger } from '../log.js';
import type { OdooClient } from '../odoo/client.js';
import { linkNote, type Note, type NoteStrings, notes as noteTexts } from '../pipeline/notes.js';
import type { CompanyContact } from '../pipeline/ports.js';
import type { Db } from '../store/database.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { NoteRepository } from '../store/notes.js';
import { type EmailKind, OutboxRepository, type OutboxRow } from '../store/outbox.js';
import { invoicePdfFetcher } from './invoice-pdf.js';
import { type InvoiceEmail, parseInvoiceEmailJson } from './model.js';
import { EmailRenderer } from './render.js';
import { createMailTransport, type MailTransport } from './transport.js';
import { OdooMailHandOff } from './via-odoo.js';
import { MailWorker, type SendCheck } from './worker.js';

export interface MailService {
  readonly outbox: OutboxRepository;
  readonly renderer: EmailRenderer;
  /**
   * Queues the invoice email of a new link, held until release(); call inside the transaction
   * that records the link.
   */
  enqueueForLink(link: LinkRow, invoice: Invoice, company: CompanyContact): boolean;
  /** Queues reminder `number` of the invoice, with its current link (in the transaction that counts it). */
  enqueueReminder(
    link: LinkRow,
    invoice: Invoice,
    company: CompanyContact,
    reminder: { number: number; overdueSince: string | null },
  ): void;
  /** Whether a held email waits for this link. */
  isHeld(link: LinkRow): boolean;
  /** Lets the held email of a link go (once the link is on the invoice). */
  release(link: LinkRow): void;
  /**
   * Queues the email of an invoice's current link again, on purpose. Forced, it goes even if the
   * invoice is no longer payable when its turn comes (checked before any other email).
   */
  resend(link: LinkRow, invoice: Invoice, company: CompanyContact, options?: { force?: boolean }): void;
  start(): void;
  wake(): void;
  runOnce(): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the dedupe key of a resend an admin forced past the checks (`resend --force`). */
const FORCED_PREFIX = 'forced:';

/** The email of a link, snapshotted when queued; `logoUrl` may hold {companyId}. */
export function invoiceEmailFor(
  link: LinkRow,
  invoice: Invoice,
  company: CompanyContact,
  gatewayName: string,
  logoUrl?: string,
  payAddress?: string,
): InvoiceEmail | undefined {
  if (!link.linkUrl) return undefined;
  return {
    invoice: {
      odooId: invoice.id,
      name: invoice.name,
      invoiceDate: invoice.invoiceDate,
      dueDate: invoice.dueDate,
      amount: { minor: link.amount.minor, currency: link.amount.currency, decimals: link.amount.decimals },
    },
    company: {
      name: company.name,
      email: company.email,
      website: company.website,
      logoUrl: logoUrl ? logoUrl.replace('{companyId}', String(company.id)) : null,
    },
    partner: {
      name: invoice.partner?.name ?? '',
      email: invoice.partner?.email ?? null,
      lang: invoice.partner?.lang ?? null,
    },
    payment: { url: payAddress ?? link.linkUrl, gatewayName },
  };
}

/** A queued email's payload, pointed at another link of its invoice (its address and amount). */
function payloadForLink(payload: string, link: LinkRow): string {
  const email = parseInvoiceEmailJson(payload);
  return JSON.stringify({
    ...email,
    invoice: {
      ...email.invoice,
      amount: { minor: link.amount.minor, currency: link.amount.currency, decimals: link.amount.decimals },
    },
    payment: { ...email.payment, url: link.linkUrl ?? email.payment.url },
  });
}

/**
 * The invoice email: queued in SQLite with the link, sent by a worker through one pooled SMTP
 * transport. Without SMTP configured, nothing is queued and the start-up log says so.
 */
export function createMailService(options: {
  config: MailConfig;
  odoo: OdooConfig;
  db: Db;
  links: LinkRepository;
  notes: NoteRepository;
  gatewayName: (link: LinkRow) => string;
  /**
   * The invoice's stable pay address, when the pay page is on: emails carry it, and a queued
   * email stays good while its link is being replaced.
   */
  payAddress?: (invoiceId: number) => string;
  /** Why an invoice no longer wants this email (see MailWorkerOptions.staleReason). */
  invoiceStaleReason?: (invoiceId: number, companyId: number) => Promise<string | undefined>;
  /** The words of a company's chatter notes (see PipelineDeps.noteStrings). */
  noteStrings: (companyId: number) => NoteStrings;
  /** Whether the customer could be reached: the invoice's status and To-Do follow it. */
  onReachable?: (invoice: { id: number; companyId: number }, reachable: boolean) => void;
  log: Logger;
  now: () => number;
  transport?: MailTransport;
  /** The daemon's Odoo client, which sends the emails with `mail.via: odoo`. */
  odooClient?: OdooClient;
}): MailService | undefined {
  const { config, log, now } = options;
  if (!config.enabled) return undefined;
  const viaOdoo = config.via === 'odoo';
  if (viaOdoo && !options.odooClient) {
    log.warn('mail.via is odoo but no Odoo client was given: customers will not be emailed');
    return undefined;
  }
  if (!viaOdoo && !config.smtp && !options.transport) {
    log.warn('no mail.smtp configured: customers will not be emailed their payment links');
    return undefined;
  }
  const outbox = new OutboxRepository(options.db, { clock: now });
  const renderer = new EmailRenderer(
    config.templatesOverrideDir ? { overrideDir: config.templatesOverrideDir } : {},
  );
  // With mail.via odoo, Odoo renders, attaches the PDF and sends: no SMTP, no PDF download.
  const transport = viaOdoo ? undefined : (options.transport ?? createMailTransport(config.smtp!));
  const handOff = viaOdoo && options.odooClient ? new OdooMailHandOff(options.odooClient) : undefined;
  const fetchPdf =
    config.attachPdf && !viaOdoo
      ? invoicePdfFetcher({
          odooUrl: options.odoo.url,
          db: options.odoo.db,
          login: options.odoo.login,
          password: options.odoo.password,
          timeoutMs: config.pdfTimeoutMs,
        })
      : () => Promise.reject(new Error('PDF attachment disabled by mail.attachPdf'));
  const mailLog = log.child({ component: 'mail' });
  // Through the notes queue like the pipeline's own notes.
  const queueNote = (row: OutboxRow, note: Note) => {
    const link = {
      id: row.linkRowId,
      companyId: row.companyId,
      invoiceId: row.invoiceId,
      reference: options.links.byId(row.linkRowId)?.reference ?? `invoice-${row.invoiceId}`,
    };
    options.notes.enqueue(linkNote(link, note, options.noteStrings(row.companyId)), now());
  };
  const worker = new MailWorker({
    outbox,
    ...(transport ? { transport } : {}),
    ...(handOff ? { handOff } : {}),
    renderer,
    fetchPdf,
    clock: now,
    check: async (row): Promise<SendCheck> => {
      if (row.dedupeKey.startsWith(FORCED_PREFIX)) return { send: row };
      const link = options.links.byId(row.linkRowId);
      if (!link) return { drop: 'its payment link is no longer known' };
      // The pay address stays good while the link behind it is replaced.
      const goesAsIs = link.state === 'open' || options.payAddress !== undefined;
      // Settled by the link's state alone, before Odoo is asked about the invoice.
      if (!goesAsIs && link.state !== 'expired')
        return { drop: `its payment link is ${link.state.replace('_', ' ')}` };
      const invoiceStale = await options.invoiceStaleReason?.(row.invoiceId, row.companyId);
      if (invoiceStale) return { drop: invoiceStale };
      if (goesAsIs) return { send: row };
      // It expired while the email waited (a reminder queued in the pass that found the expiry):
      // the customer gets the link that replaces it, never the dead one, and the email is not lost.
      const current = options.links.currentForInvoice(row.invoiceId);
      if (!current || current.state === 'creating' || current.state === 'writing_back')
        return { wait: 'its payment link expired and the one replacing it is being made' };
      if (current.state !== 'open')
        return { drop: `its payment link expired and the next one is ${current.state.replace('_', ' ')}` };
      const moved = outbox.moveToLink(row.id, current.id, payloadForLink(row.payload, current), now());
      return moved ? { send: moved } : { drop: 'it was taken over by another sender' };
    },
    logger: {
      info: (message, meta) => mailLog.info(message, meta as Record<string, unknown>),
      warn: (message, meta) => mailLog.warn(message, meta as Record<string, unknown>),
      error: (message, meta) => mailLog.error(message, meta as Record<string, unknown>),
      debug: (message, meta) => mailLog.debug(message, meta as Record<string, unknown>),
    },
    onSent: (row, recipients) => {
      options.onReachable?.({ id: row.invoiceId, companyId: row.companyId }, true);
      // Sent by Odoo, the email itself is in the chatter: no note about it.
      if (viaOdoo) return;
      const key =
        row.kind === 'reminder'
          ? 'noteEmailedReminder'
          : row.kind === 'resend'
            ? 'noteEmailedResend'
            : 'noteEmailedInvoice';
      const kind = `email_${row.id}`;
      queueNote(row, noteTexts.emailed(kind, key, recipients, row.dedupeKey.split(':').at(-1)));
    },
    // The accountant learns it on the invoice; the note goes through the notes queue like the others.
    notifyNoRecipient: async (row) => {
      options.onReachable?.({ id: row.invoiceId, companyId: row.companyId }, false);
      queueNote(row, noteTexts.noEmail());
    },
  });
  const enqueue = (
    link: LinkRow,
    invoice: Invoice,
    company: CompanyContact,
    dedupeKey: string,
    held: boolean,
    kind: EmailKind,
    overdueSince: string | null = null,
  ): boolean => {
    const email = invoiceEmailFor(
      link,
      invoice,
      company,
      options.gatewayName(link),
      config.logoUrl,
      options.payAddress?.(link.invoiceId),
    );
    if (!email) return false;
    const payload = kind === 'reminder' ? { ...email, kind: 'reminder' as const, overdueSince } : email;
    return outbox.enqueue({
      linkRowId: link.id,
      invoiceId: link.invoiceId,
      companyId: link.companyId,
      kind,
      dedupeKey,
      payload,
      now: now(),
      held,
    }).inserted;
  };
  return {
    outbox,
    renderer,
    enqueueForLink(link, invoice, company) {
      // One first email per invoice: a link replacing an expired one, or one for a new amount,
      // is not news to send by itself (reminders and the pay page carry it). Odoo's record
      // counts too, for a store that was lost.
      if (invoice.emailedAt !== null || outbox.hasFirstEmail(link.invoiceId)) return false;
      return enqueue(link, invoice, company, `link:${link.id}`, true, 'invoice');
    },
    enqueueReminder(link, invoice, company, { number, overdueSince }) {
      enqueue(
        link,
        invoice,
        company,
        `reminder:${link.invoiceId}:${number}`,
        false,
        'reminder',
        overdueSince,
      );
      worker.wake();
    },
    isHeld: (link) => outbox.isHeld(link.id),
    release(link) {
      if (outbox.release(link.id, now()) > 0) worker.wake();
    },
    resend(link, invoice, company, { force = false } = {}) {
      const key = outbox.nextResendKey(link.id);
      enqueue(link, invoice, company, force ? `${FORCED_PREFIX}${key}` : key, false, 'resend');
      worker.wake();
    },
    start: () => worker.start(),
    wake: () => worker.wake(),
    runOnce: () => worker.runOnce(),
    async stop() {
      await worker.stop();
      transport?.close();
    },
  };
}
