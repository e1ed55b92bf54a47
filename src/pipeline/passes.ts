import pLimit from 'p-limit';
import type { Invoice } from '../domain/invoice.js';
import { exclusionOf, isBeforeScope, isPayable, isSettled, type PublishScope } from '../domain/invoice.js';
import type { LinkState } from '../domain/link-state.js';
import { describeMoney } from '../domain/money.js';
import type { LinkRow } from '../store/links.js';
import type { CompanyRoute, PipelineDeps } from './deps.js';
import { notes as noteTexts } from './notes.js';
import { type InvoiceCursor, SenderEmailMissingError } from './ports.js';
import { type ReconcileOptions, type ReconcileReport, reconcile } from './reconcile.js';
import { type ReconcileLockOptions, withReconcileLock } from './reconcile-lock.js';
import { InvoiceRequests } from './requests.js';
import { backoffDelay, classifyFailure } from './retry.js';
import { HaltError, LinkSteps, odooDateTime, type StepOutcome } from './steps.js';

/** Work a pass found for one invoice: carry a link forward, or adopt the link it carries. */
type InvoiceWork = { row: LinkRow; invoice: Invoice } | { adopt: Invoice; company: CompanyRoute };

/** The alert that pauses chatter notes while Odoo refuses them for the bot's missing email. */
export const NOTES_ALERT = 'odoo.notes.sender_email';

/** The alert that keeps a company out of publishing while its journal cannot take payments. */
export function journalAlertKey(companyId: number): string {
  return `company.${companyId}.journal`;
}

export interface PassSummary {
  invoicesRead: number;
  linksCreated: number;
  writtenBack: number;
  paid: number;
  registered: number;
  needsAttention: number;
  closed: number;
  retrying: number;
  failed: number;
  skipped: number;
  adopted: number;
  /** Companies whose pass stopped on an error (the others went on). */
  companiesFailed: number;
  remindersQueued: number;
  halted?: string;
}

/** What a publish pass would do now, as `sync --dry-run` reports it. */
export interface PublishPreview {
  /** Open invoices read. */
  readonly open: number;
  readonly wouldLink: number;
  /** Of those, the customers who would be emailed (never emailed before, with an address). */
  readonly wouldEmail: number;
  /** The oldest invoice date among those that would get a link. */
  readonly oldest: string | null;
  /** Already linked (in the store or carrying a link in Odoo). */
  readonly linked: number;
  /** Dated before publish.since. */
  readonly beforeSince: number;
  readonly excluded: number;
  readonly unsupportedCurrency: number;
}

function emptySummary(): PassSummary {
  return {
    invoicesRead: 0,
    linksCreated: 0,
    writtenBack: 0,
    paid: 0,
    registered: 0,
    needsAttention: 0,
    closed: 0,
    retrying: 0,
    failed: 0,
    skipped: 0,
    adopted: 0,
    companiesFailed: 0,
    remindersQueued: 0,
  };
}

function count(summary: PassSummary, outcome: StepOutcome): void {
  switch (outcome) {
    case 'created':
      summary.linksCreated++;
      break;
    case 'written_back':
      summary.writtenBack++;
      break;
    case 'paid':
      summary.paid++;
      break;
    case 'registered':
      summary.registered++;
      break;
    case 'mismatch':
    case 'refund_needed':
      summary.needsAttention++;
      break;
    case 'closed':
    case 'expired':
      summary.closed++;
      break;
    case 'retry':
      summary.retrying++;
      break;
    case 'failed':
      summary.failed++;
      break;
    case 'adopted':
      summary.adopted++;
      break;
    case 'busy':
    case 'unchanged':
      break;
  }
}

const PUBLISH_STATES: readonly LinkState[] = ['creating', 'writing_back', 'closing'];
const CONFIRM_STATES: readonly LinkState[] = ['open', 'paid'];

export { odooDateTime };

function isAfter(a: InvoiceCursor, b: InvoiceCursor): boolean {
  return a.writeDate > b.writeDate || (a.writeDate === b.writeDate && a.id > b.id);
}

/** Why an invoice's open link must be archived, or undefined when it still fits. */
export function whyLinkNoLongerFits(row: LinkRow, invoice: Invoice, scope: PublishScope): string | undefined {
  if (invoice.state === 'cancel') return 'the invoice was cancelled';
  if (invoice.state === 'draft') return 'the invoice was reset to draft';
  if (invoice.paymentState === 'reversed') return 'the invoice was reversed by a credit note';
  if (invoice.paymentState === 'paid' || invoice.paymentState === 'in_payment')
    return 'the invoice was paid by other means';
  if (invoice.paymentState === 'blocked') return 'the invoice is blocked';
  const excluded = exclusionOf(invoice, scope);
  if (excluded) return `${excluded}, so it is no longer offered online`;
  if (invoice.residual.currency !== row.amount.currency)
    return `the invoice currency changed to ${invoice.residual.currency}`;
  if (invoice.residual.minor !== row.amount.minor) {
    return `the amount due changed from ${describeMoney(row.amount)} to ${describeMoney(invoice.residual)}`;
  }
  return undefined;
}

/**
 * The two passes the scheduler runs. publish: find invoices that need a link and carry each link
 * to `open`; confirm: ask the gateway about open links and register what was paid.
 */
export class Pipeline {
  readonly steps: LinkSteps;
  /** Invoice id → fingerprint of the version already handled, so the overlap window is not processed twice. */
  private readonly seen = new Map<number, string>();

  private readonly requests: InvoiceRequests;

  constructor(private readonly deps: PipelineDeps) {
    this.steps = new LinkSteps(deps);
    this.requests = new InvoiceRequests(deps, this.steps);
  }

  async publish(): Promise<PassSummary> {
    const summary = emptySummary();
    const { log, alerts } = this.deps;
    // Rows carried forward by discovery had their try this pass, whatever the backoff.
    const handled = new Set<number>();
    return this.recordRun('publish', summary, async () => {
      for (const company of this.deps.companies) {
        // A company whose journal cannot take payments gets no links (its alert says why), nor
        // one whose gateway refuses our credentials.
        if (alerts.get(journalAlertKey(company.companyId))) continue;
        if (this.steps.gatewayPaused(company.companyId)) continue;
        try {
          const asked: Invoice[] = [];
          const discovered = await this.discover(company, summary, asked);
          for (const entry of discovered) if ('row' in entry) handled.add(entry.row.id);
          await this.advanceAll(discovered, summary);
          // After the pass's own work, so a request meets the invoice's links as they now are.
          for (const invoice of asked) await this.requests.answer(company, invoice);
        } catch (error) {
          // One company's Odoo trouble (rights, a record rule, a timeout) never stops the others;
          // refused credentials stop everything.
          if (error instanceof HaltError) throw error;
          const failure = classifyFailure(error);
          if (failure.kind === 'halt') throw new HaltError(failure.message, { cause: error });
          summary.companiesFailed++;
          log.error(
            `publishing for company ${company.companyId} stopped: ${(error as Error).message}; the other companies go on, it is tried again next pass`,
            { company: company.companyId },
          );
        }
      }
      await this.advanceAll(this.dueRows(PUBLISH_STATES, handled), summary);
      if (this.deps.reminders) summary.remindersQueued = await this.deps.reminders.run();
      await this.postNotes();
    });
  }

  async confirm(): Promise<PassSummary> {
    const summary = emptySummary();
    return this.recordRun('confirm', summary, async () => {
      await this.advanceAll(this.dueRows(CONFIRM_STATES, new Set()), summary);
      await this.postNotes();
    });
  }

  /** Reads every open invoice and says what publishing would do with it; changes nothing anywhere. */
  async previewPublish(options: { emails: boolean }): Promise<PublishPreview> {
    const { ledger, links, settings, scope } = this.deps;
    const preview = {
      open: 0,
      wouldLink: 0,
      wouldEmail: 0,
      oldest: null as string | null,
      linked: 0,
      beforeSince: 0,
      excluded: 0,
      unsupportedCurrency: 0,
    };
    for (const company of this.deps.companies) {
      let afterId = 0;
      for (;;) {
        const page = await ledger.openInvoices(company.companyId, afterId, settings.batchSize);
        for (const invoice of page) {
          if (!isPayable(invoice)) continue;
          preview.open++;
          if (invoice.linkId || links.currentForInvoice(invoice.id)) preview.linked++;
          else if (isBeforeScope(invoice, scope)) preview.beforeSince++;
          else if (exclusionOf(invoice, scope)) preview.excluded++;
          else if (!company.gateway.currencies.includes(invoice.residual.currency))
            preview.unsupportedCurrency++;
          else {
            preview.wouldLink++;
            if (options.emails && invoice.emailedAt === null && invoice.partner?.email) preview.wouldEmail++;
            const date = invoice.invoiceDate;
            if (date !== null && (preview.oldest === null || date < preview.oldest)) preview.oldest = date;
          }
        }
        if (page.length < settings.batchSize) break;
        afterId = page[page.length - 1]!.id;
      }
    }
    return preview;
  }

  /**
   * Puts the store back together from Odoo and the gateway: every invoice that carries a link is
   * adopted (the gateway's state of the link becomes ours). Nothing is created or emailed.
   */
  async rebuild(): Promise<PassSummary> {
    const summary = emptySummary();
    const { ledger, settings } = this.deps;
    return this.recordRun('rebuild', summary, async () => {
      for (const company of this.deps.companies) {
        let afterId = 0;
        for (;;) {
          const page = await ledger.linkedInvoices(company.companyId, afterId, settings.batchSize);
          summary.invoicesRead += page.length;
          const work = page.flatMap((invoice): InvoiceWork[] =>
            this.deps.links.byLinkId(company.gateway.id, invoice.linkId ?? '')
              ? []
              : [{ adopt: invoice, company }],
          );
          await this.advanceAll(work, summary, { createForDeleted: false });
          if (page.length < settings.batchSize) break;
          afterId = page[page.length - 1]!.id;
        }
      }
      await this.postNotes();
    });
  }

  /**
   * Rows due in these states, leaving out those this pass already handled (one attempt per pass,
   * whatever the backoff) and the gateway work of a gateway that is paused.
   */
  private dueRows(states: readonly LinkState[], handled: ReadonlySet<number>): LinkRow[] {
    return this.deps.links
      .due(states, this.deps.now(), 10_000)
      .filter((row) => !handled.has(row.id))
      .filter((row) => row.state === 'paid' || !this.steps.gatewayPaused(row.companyId));
  }

  /**
   * Handles stored webhook events: each one only says "look at this link now". The link is
   * re-read from the gateway (a webhook's word alone never moves money) and goes through the
   * same steps as polling. Events for links we do not know are kept and reported.
   */
  async processEvents(): Promise<{ processed: number; unknown: number; postponed: number }> {
    const { now, observer } = this.deps;
    const startedAt = now();
    try {
      const result = await this.handleEvents();
      observer?.passFinished?.('events', 'ok', now() - startedAt);
      return result;
    } catch (error) {
      observer?.passFinished?.('events', 'failed', now() - startedAt);
      throw error;
    }
  }

  private async handleEvents(): Promise<{ processed: number; unknown: number; postponed: number }> {
    const { events, links, now, log } = this.deps;
    const result = { processed: 0, unknown: 0, postponed: 0 };
    for (;;) {
      const due = events.due(now(), 100);
      if (due.length === 0) break;
      // Several events often name one link (transaction.completed, then pay_link.closed): the
      // link is looked at once for all of them.
      const byLink = new Map<number, typeof due>();
      for (const event of due) {
        const row =
          (event.linkId ? links.byLinkId(event.gateway, event.linkId) : undefined) ??
          (event.linkReference ? links.byReference(event.gateway, event.linkReference) : undefined);
        if (!row) {
          events.finish(event.id, 'unknown_link', now());
          result.unknown++;
          log.warn(
            `webhook ${event.type} from ${event.gateway} names a link we do not know; recorded, nothing done`,
            {
              event: event.eventId,
              link: event.linkId,
              reference: event.linkReference,
            },
          );
          continue;
        }
        byLink.set(row.id, [...(byLink.get(row.id) ?? []), event]);
      }
      for (const [rowId, linkEvents] of byLink) {
        const row = links.byId(rowId);
        if (!row) continue;
        let outcomes: StepOutcome[];
        try {
          outcomes = await this.steps.advance(row, { recheck: true });
        } catch (error) {
          for (const event of linkEvents) events.postpone(event.id, (error as Error).message, now() + 60_000);
          throw error;
        }
        for (const event of linkEvents) {
          if (outcomes.includes('busy')) {
            // Another pass holds the link right now; look again in a moment.
            events.postpone(event.id, 'link busy', now() + 1_000);
            result.postponed++;
          } else {
            events.finish(event.id, 'processed', now());
            result.processed++;
          }
        }
      }
      if (result.postponed > 0) break;
    }
    await this.postNotes();
    return result;
  }

  /**
   * Compares the gateways' payments with Odoo over a window; records the run. One run per store
   * at a time (the daemon's nightly one, cron's): ReconcileLockedError when another holds it.
   */
  reconcile(
    window: { since: Date; until: Date },
    options: ReconcileOptions & ReconcileLockOptions,
  ): Promise<ReconcileReport> {
    return withReconcileLock(this.deps.db.name, () => this.reconcileLocked(window, options), options);
  }

  private async reconcileLocked(
    window: { since: Date; until: Date },
    options: ReconcileOptions,
  ): Promise<ReconcileReport> {
    const { runs, now, log } = this.deps;
    const runId = runs.start('reconcile', now());
    try {
      const report = await reconcile(this.deps, this.steps, window, options);
      await this.postNotes();
      runs.finish(
        runId,
        report.remaining === 0 ? 'ok' : 'partial',
        {
          since: report.since,
          until: report.until,
          fix: options.fix,
          gatewayPayments: report.gatewayPayments,
          matched: report.matched,
          discrepancies: report.discrepancies.length,
          remaining: report.remaining,
          detail: report.discrepancies.slice(0, 50),
        },
        now(),
      );
      const level = report.remaining === 0 ? 'info' : 'warn';
      log[level](
        `reconciliation ${report.since} → ${report.until}: ${report.gatewayPayments} gateway payments, ${report.matched} matched, ${report.discrepancies.length} discrepancies, ${report.remaining} left for a person`,
      );
      return report;
    } catch (error) {
      runs.finish(runId, 'failed', { error: (error as Error).message }, now());
      throw error;
    }
  }

  /**
   * Tells Odoo what it does not know yet: the chatter notes owed (returns how many were posted)
   * and the online payment states and To-Dos of the invoice forms.
   */
  async postNotes(): Promise<number> {
    const posted = await this.postChatterNotes();
    await this.steps.statuses.show();
    return posted;
  }

  /** Posts the chatter notes owed to Odoo; a note already in the chatter is not posted again. */
  private async postChatterNotes(): Promise<number> {
    const { notes, ledger, now, log, settings, alerts } = this.deps;
    if (alerts.blocking(NOTES_ALERT)) return 0;
    const limit = pLimit(settings.concurrency);
    let posted = 0;
    let halt: HaltError | undefined;
    let refused = false;
    // One try per note and pass: a note that failed may be due again before the pass ends
    // (its backoff shorter than a slow Odoo's answer), and must wait for the next pass.
    const tried = new Set<number>();
    for (;;) {
      const due = notes.due(now(), 500).filter((note) => !tried.has(note.id));
      for (const note of due) tried.add(note.id);
      const claimed = due.filter((note) => notes.claim(note.id, now(), settings.leaseMs));
      if (claimed.length === 0) break;
      await Promise.all(
        claimed.map((note) =>
          limit(async () => {
            if (halt || refused) {
              notes.postpone(note.id, 'not tried: Odoo refused an earlier note of this pass', now());
              return;
            }
            try {
              // claim() counted this attempt: from the second one on, an earlier poster may
              // have posted before dying, so look for the marker first.
              await ledger.postNote(
                { id: note.invoiceId, companyId: note.companyId },
                note.body,
                note.marker,
                {
                  checkFirst: note.attempts > 0,
                },
              );
              notes.markPosted(note.id, now());
              posted++;
              if (alerts.get(NOTES_ALERT)) alerts.clear(NOTES_ALERT);
            } catch (error) {
              if (error instanceof SenderEmailMissingError) {
                // Every note would fail the same way: one ALERT with the fix, then wait.
                refused = true;
                alerts.raise(
                  NOTES_ALERT,
                  `Odoo refuses the chatter notes of the user odoo-paylink logs in as: "${error.message}". Give that Odoo user an email address (Settings → Users → the user → Email); the notes wait and are posted then (checked every 15 minutes)`,
                );
                notes.postpone(note.id, error.message, now());
                return;
              }
              const failure = classifyFailure(error);
              if (failure.kind === 'halt') {
                halt = new HaltError(failure.message, { cause: error });
                return;
              }
              const delay = backoffDelay(
                note.attempts,
                settings.backoffBaseMs,
                settings.backoffMaxMs,
                this.deps.random,
              );
              notes.postpone(note.id, failure.message, now() + delay);
              log.warn(
                `could not post a note on invoice ${note.invoiceId}: ${failure.message}; retrying later`,
              );
            }
          }),
        ),
      );
      if (halt) throw halt;
      if (refused) break;
    }
    return posted;
  }

  /** Reads new and changed invoices of a company and records a `creating` link for each payable one. */
  private async discover(
    company: CompanyRoute,
    summary: PassSummary,
    asked: Invoice[] = [],
  ): Promise<InvoiceWork[]> {
    const { cursors, ledger, settings, now } = this.deps;
    const state = cursors.get(company.companyId);
    const sweepDue =
      state.cursor === null ||
      state.lastFullSweepAt === null ||
      now() - state.lastFullSweepAt >= settings.fullSweepMinutes * 60_000;
    const work: InvoiceWork[] = [];
    const consider = (invoice: Invoice) => {
      summary.invoicesRead++;
      // write_date has one-second resolution: a change in the same second as the last read keeps
      // it, so the fingerprint holds every field a decision depends on (a partner's tags change
      // no invoice's write_date: the full sweep sees them).
      const fingerprint = `${invoice.writeDate}|${invoice.state}|${invoice.paymentState}|${invoice.residual.minor}|${invoice.residual.currency}|${invoice.linkId ?? ''}|${invoice.skip}|${invoice.request ?? ''}|${invoice.partner?.categoryIds.join(',') ?? ''}|${this.lastLinkState(invoice.id)}`;
      if (this.seen.get(invoice.id) === fingerprint) return;
      if (invoice.request) asked.push(invoice);
      const found = this.consider(company, invoice, summary);
      if (found) work.push(found);
      // An invoice with a request is looked at again until the request is cleared in Odoo.
      if (!invoice.request) this.seen.set(invoice.id, fingerprint);
    };

    // Rows written before `settled` have all committed by now (transactions are shorter than the
    // overlap), so the cursor never needs to stay further back than that, nor beyond what we read.
    const readStart = now();
    const settled: InvoiceCursor = {
      writeDate: odooDateTime(readStart - settings.cursorOverlapSeconds * 1000),
      id: 0,
    };
    const nextCursor = (from: InvoiceCursor | null, newest: InvoiceCursor | null): InvoiceCursor => {
      const candidate = newest === null || isAfter(newest, settled) ? settled : newest;
      return from !== null && isAfter(from, candidate) ? from : candidate;
    };

    if (sweepDue) {
      // Everything older than the newest change is read by the sweep itself when still open.
      const head = await ledger.latestChange(company.companyId);
      let afterId = 0;
      for (;;) {
        const page = await ledger.openInvoices(company.companyId, afterId, settings.batchSize);
        for (const invoice of page) consider(invoice);
        if (page.length < settings.batchSize) break;
        afterId = page[page.length - 1]!.id;
      }
      // Invoices with a live link are read too: a cancelled or paid one is no longer "open".
      const linked = this.deps.links
        .inStates(['writing_back', 'open'], company.companyId)
        .map((row) => row.invoiceId);
      for (let index = 0; index < linked.length; index += settings.batchSize) {
        const batch = linked.slice(index, index + settings.batchSize);
        for (const invoice of await ledger.invoicesByIds(company.companyId, batch)) consider(invoice);
      }
      cursors.advance(company.companyId, nextCursor(state.cursor, head));
      cursors.markFullSweep(company.companyId, now());
    } else if (state.cursor) {
      let after: InvoiceCursor = state.cursor;
      let newest: InvoiceCursor | null = null;
      for (;;) {
        const page = await ledger.changedInvoices(company.companyId, after, settings.batchSize);
        for (const invoice of page) {
          consider(invoice);
          newest = { writeDate: invoice.writeDate, id: invoice.id };
        }
        if (page.length < settings.batchSize) break;
        after = newest!;
      }
      cursors.advance(company.companyId, nextCursor(state.cursor, newest ?? state.cursor));
    }
    this.trimSeen();
    return work;
  }

  /** The invoice's newest link as stored: a link closed since the last read makes the same view new work. */
  private lastLinkState(invoiceId: number): string {
    const last = this.deps.links.ofInvoice(invoiceId).at(-1);
    return last ? `${last.id}:${last.state}` : '';
  }

  /**
   * Decides what a fresh view of an invoice calls for: a new link, adopting the link it already
   * carries (Odoo is the record; our store may have lost it), or, when the invoice changed under
   * an open link, archiving that link.
   */
  private consider(company: CompanyRoute, invoice: Invoice, summary: PassSummary): InvoiceWork | undefined {
    const { links, notices, now, log } = this.deps;
    // A payment that did not match is settled once a person registered the invoice's payment by hand.
    if (isSettled(invoice)) this.steps.statuses.resolved(invoice, 'mismatch', 'paid');
    const current = links.currentForInvoice(invoice.id);
    if (current) {
      const closing = this.follow(current, invoice);
      return closing ? { row: closing, invoice } : undefined;
    }
    const foreign = notices.detail(invoice.id, 'foreign_link');
    if (foreign !== undefined) {
      // Someone else's link stays alone while the invoice carries it.
      if (foreign === invoice.linkId) return undefined;
      notices.remove(invoice.id, 'foreign_link');
      this.steps.statuses.resolved(invoice, 'foreign_link');
    }
    if (invoice.linkId && !links.byLinkId(company.gateway.id, invoice.linkId)) {
      return { adopt: invoice, company };
    }
    // A checkout order that expired unvisited is renewed by the pay page when the customer comes,
    // not by every sweep (Gateway.renewal 'on_visit').
    if (company.gateway.renewal === 'on_visit' && links.ofInvoice(invoice.id).at(-1)?.state === 'expired')
      return undefined;
    if (!isPayable(invoice)) return undefined;
    // Out of the merchant's scope: left alone, and not counted as work.
    if (isBeforeScope(invoice, this.deps.scope) || exclusionOf(invoice, this.deps.scope)) return undefined;
    if (!company.gateway.currencies.includes(invoice.residual.currency)) {
      summary.skipped++;
      const notice = {
        invoiceId: invoice.id,
        companyId: invoice.companyId,
        kind: 'unsupported_currency' as const,
        detail: invoice.residual.currency,
      };
      if (notices.record(notice, now())) {
        this.steps.enqueueInvoiceNote(
          invoice,
          noteTexts.unsupportedCurrency(
            company.gateway.displayName,
            invoice.residual.currency,
            company.gateway.currencies,
          ),
        );
        log.warn(
          `invoice ${invoice.name} is in ${invoice.residual.currency}, which ${company.gateway.displayName} cannot charge; it gets no link (noted on the invoice)`,
          { invoice: invoice.name },
        );
      }
      return undefined;
    }
    const row = this.steps.newLinkFor(company, invoice);
    return row ? { row, invoice } : undefined;
  }

  /** Archives an open link whose invoice can no longer be paid through it. */
  private follow(row: LinkRow, invoice: Invoice): LinkRow | undefined {
    if (row.state !== 'open' && row.state !== 'writing_back') return undefined;
    const reason = whyLinkNoLongerFits(row, invoice, this.deps.scope);
    if (!reason) return undefined;
    const closing = this.deps.links.transition(row.id, 'closing', { stateReason: reason }, this.deps.now());
    if (closing)
      this.deps.log.info(
        `invoice ${row.invoiceName} changed in Odoo (${reason}); archiving its payment link`,
        { invoice: row.invoiceName },
      );
    return closing;
  }

  private async advanceAll(
    work: ReadonlyArray<LinkRow | InvoiceWork>,
    summary: PassSummary,
    options: { createForDeleted?: boolean } = {},
  ): Promise<void> {
    const limit = pLimit(this.deps.settings.concurrency);
    let halt: HaltError | undefined;
    await Promise.all(
      work.map((entry) =>
        limit(async () => {
          if (halt) return;
          // A refusal of our credentials while this pass runs leaves the rest of its gateway
          // work for after the probe, instead of one refused call per invoice.
          const row = 'adopt' in entry ? undefined : 'row' in entry ? entry.row : entry;
          const companyId = 'adopt' in entry ? entry.company.companyId : row!.companyId;
          if (row?.state !== 'paid' && this.steps.gatewayPaused(companyId)) {
            if ('adopt' in entry) this.seen.delete(entry.adopt.id);
            return;
          }
          try {
            const outcomes =
              'adopt' in entry
                ? await this.adopt(entry.company, entry.adopt, options)
                : 'row' in entry
                  ? await this.steps.advance(entry.row, { invoice: entry.invoice })
                  : await this.steps.advance(entry);
            for (const outcome of outcomes) count(summary, outcome);
          } catch (error) {
            if (error instanceof HaltError) halt = error;
            else throw error;
          }
        }),
      ),
    );
    if (halt) throw halt;
  }

  /** Adopts the link an invoice carries, then archives it if the invoice no longer fits it. */
  private async adopt(
    company: CompanyRoute,
    invoice: Invoice,
    options: { createForDeleted?: boolean },
  ): Promise<StepOutcome[]> {
    const outcomes = await this.steps.adopt(company, invoice, options);
    if (outcomes.includes('adopted')) await this.deps.reminders?.adopt(invoice);
    // Not adopted this time (the gateway did not answer): look at the invoice again next pass.
    if (outcomes.includes('retry')) this.seen.delete(invoice.id);
    const row = this.deps.links.currentForInvoice(invoice.id);
    const closing = row && this.follow(row, invoice);
    if (closing) outcomes.push(...(await this.steps.advance(closing, { invoice })));
    return outcomes;
  }

  private async recordRun(
    kind: string,
    summary: PassSummary,
    body: () => Promise<void>,
  ): Promise<PassSummary> {
    const { runs, now, log, observer } = this.deps;
    const startedAt = now();
    const runId = runs.start(kind, startedAt);
    try {
      await body();
      const partial = summary.failed > 0 || summary.retrying > 0 || summary.companiesFailed > 0;
      runs.finish(runId, partial ? 'partial' : 'ok', summary, now());
      observer?.passFinished?.(kind, partial ? 'partial' : 'ok', now() - startedAt);
      return summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof HaltError) summary.halted = message;
      runs.finish(runId, 'failed', { ...summary, error: message }, now());
      observer?.passFinished?.(kind, 'failed', now() - startedAt);
      if (!(error instanceof HaltError))
        log.error(`${kind} pass stopped: ${message}; it will run again on schedule`);
      throw error;
    }
  }

  private trimSeen(): void {
    if (this.seen.size <= 50_000) return;
    const excess = this.seen.size - 25_000;
    let index = 0;
    for (const key of this.seen.keys()) {
      if (index++ >= excess) break;
      this.seen.delete(key);
    }
  }
}
