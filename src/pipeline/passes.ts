import pLimit from 'p-limit';
import type { Invoice } from '../domain/invoice.js';
import { isPayable } from '../domain/invoice.js';
import type { LinkState } from '../domain/link-state.js';
import { describeMoney } from '../domain/money.js';
import { linkReference } from '../domain/reference.js';
import type { LinkRow } from '../store/links.js';
import type { CompanyRoute, PipelineDeps } from './deps.js';
import { noteMarker } from './notes.js';
import type { InvoiceCursor } from './ports.js';
import { type ReconcileReport, reconcile } from './reconcile.js';
import { backoffDelay, classifyFailure } from './retry.js';
import { HaltError, LinkSteps, type StepOutcome } from './steps.js';

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
  halted?: string;
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
    case 'busy':
    case 'unchanged':
      break;
  }
}

const PUBLISH_STATES: readonly LinkState[] = ['creating', 'writing_back', 'closing'];
const CONFIRM_STATES: readonly LinkState[] = ['open', 'paid'];

/** Odoo's datetime text ('YYYY-MM-DD HH:MM:SS', UTC) for an instant. */
export function odooDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

function isAfter(a: InvoiceCursor, b: InvoiceCursor): boolean {
  return a.writeDate > b.writeDate || (a.writeDate === b.writeDate && a.id > b.id);
}

/** Why an invoice's open link must be archived, or undefined when it still fits. */
export function whyLinkNoLongerFits(row: LinkRow, invoice: Invoice): string | undefined {
  if (invoice.state === 'cancel') return 'the invoice was cancelled';
  if (invoice.state === 'draft') return 'the invoice was reset to draft';
  if (invoice.paymentState === 'reversed') return 'the invoice was reversed by a credit note';
  if (invoice.paymentState === 'paid' || invoice.paymentState === 'in_payment')
    return 'the invoice was paid by other means';
  if (invoice.paymentState === 'blocked') return 'the invoice is blocked';
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

  constructor(private readonly deps: PipelineDeps) {
    this.steps = new LinkSteps(deps);
  }

  async publish(): Promise<PassSummary> {
    const summary = emptySummary();
    return this.recordRun('publish', summary, async () => {
      for (const company of this.deps.companies) {
        const discovered = await this.discover(company, summary);
        await this.advanceAll(discovered, summary);
      }
      await this.advanceAll(this.deps.links.due(PUBLISH_STATES, this.deps.now(), 10_000), summary);
      await this.postNotes();
    });
  }

  async confirm(): Promise<PassSummary> {
    const summary = emptySummary();
    return this.recordRun('confirm', summary, async () => {
      await this.advanceAll(this.deps.links.due(CONFIRM_STATES, this.deps.now(), 10_000), summary);
      await this.postNotes();
    });
  }

  /**
   * Handles stored webhook events: each one only says "look at this link now". The link is
   * re-read from the gateway (a webhook's word alone never moves money) and goes through the
   * same steps as polling. Events for links we do not know are kept and reported.
   */
  async processEvents(): Promise<{ processed: number; unknown: number; postponed: number }> {
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

  /** Compares the gateways' payments with Odoo over a window; records the run. */
  async reconcile(window: { since: Date; until: Date }, options: { fix: boolean }): Promise<ReconcileReport> {
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

  /** Posts the chatter notes owed to Odoo; a note already in the chatter is not posted again. */
  async postNotes(): Promise<number> {
    const { notes, links, ledger, now, log, settings } = this.deps;
    const limit = pLimit(settings.concurrency);
    let posted = 0;
    let halt: HaltError | undefined;
    for (;;) {
      const due = notes.due(now(), 500);
      const claimed = due.filter((note) => notes.claim(note.id, now(), settings.leaseMs));
      if (claimed.length === 0) break;
      await Promise.all(
        claimed.map((note) =>
          limit(async () => {
            const link = links.byId(note.linkRowId);
            if (!link || halt) return;
            try {
              // claim() counted this attempt: from the second one on, an earlier poster may
              // have posted before dying, so look for the marker first.
              await ledger.postNote(
                { id: note.invoiceId, companyId: note.companyId },
                note.body,
                noteMarker(link.reference, note.kind),
                {
                  checkFirst: note.attempts > 0,
                },
              );
              notes.markPosted(note.id, now());
              posted++;
            } catch (error) {
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
                `could not post a note on invoice ${link.invoiceName}: ${failure.message}; retrying later`,
              );
            }
          }),
        ),
      );
      if (halt) throw halt;
    }
    return posted;
  }

  /** Reads new and changed invoices of a company and records a `creating` link for each payable one. */
  private async discover(
    company: CompanyRoute,
    summary: PassSummary,
  ): Promise<Array<{ row: LinkRow; invoice: Invoice }>> {
    const { cursors, ledger, settings, now } = this.deps;
    const state = cursors.get(company.companyId);
    const sweepDue =
      state.cursor === null ||
      state.lastFullSweepAt === null ||
      now() - state.lastFullSweepAt >= settings.fullSweepMinutes * 60_000;
    const work: Array<{ row: LinkRow; invoice: Invoice }> = [];
    const consider = (invoice: Invoice) => {
      summary.invoicesRead++;
      // write_date has one-second resolution: a change in the same second as the last read keeps
      // it, so the fingerprint holds every field a decision depends on.
      const fingerprint = `${invoice.writeDate}|${invoice.state}|${invoice.paymentState}|${invoice.residual.minor}|${invoice.residual.currency}`;
      if (this.seen.get(invoice.id) === fingerprint) return;
      const row = this.consider(company, invoice, summary);
      if (row) work.push({ row, invoice });
      this.seen.set(invoice.id, fingerprint);
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

  /**
   * Decides what a fresh view of an invoice calls for: a new link (returned, to be advanced), or,
   * when the invoice changed under an open link, archiving that link.
   */
  private consider(company: CompanyRoute, invoice: Invoice, summary: PassSummary): LinkRow | undefined {
    const { links, now, settings, log } = this.deps;
    const current = links.currentForInvoice(invoice.id);
    if (current) return this.follow(current, invoice);
    if (!isPayable(invoice)) return undefined;
    if (!company.gateway.currencies.includes(invoice.residual.currency)) {
      summary.skipped++;
      log.debug(
        `invoice ${invoice.name} is in ${invoice.residual.currency}, which ${company.gateway.displayName} does not take`,
      );
      return undefined;
    }
    return links.insertCreating(
      {
        gateway: company.gateway.id,
        companyId: company.companyId,
        invoiceId: invoice.id,
        invoiceName: invoice.name,
        amount: invoice.residual,
        reference: (sequence) => linkReference(settings.database, invoice.id, sequence),
      },
      now(),
    );
  }

  /** Archives an open link whose invoice can no longer be paid through it. */
  private follow(row: LinkRow, invoice: Invoice): LinkRow | undefined {
    if (row.state !== 'open' && row.state !== 'writing_back') return undefined;
    const reason = whyLinkNoLongerFits(row, invoice);
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
    work: ReadonlyArray<LinkRow | { row: LinkRow; invoice: Invoice }>,
    summary: PassSummary,
  ): Promise<void> {
    const limit = pLimit(this.deps.settings.concurrency);
    let halt: HaltError | undefined;
    await Promise.all(
      work.map((entry) =>
        limit(async () => {
          if (halt) return;
          const [row, hint] = 'row' in entry ? [entry.row, { invoice: entry.invoice }] : [entry, undefined];
          try {
            for (const outcome of await this.steps.advance(row, hint)) count(summary, outcome);
          } catch (error) {
            if (error instanceof HaltError) halt = error;
            else throw error;
          }
        }),
      ),
    );
    if (halt) throw halt;
  }

  private async recordRun(
    kind: string,
    summary: PassSummary,
    body: () => Promise<void>,
  ): Promise<PassSummary> {
    const { runs, now, log } = this.deps;
    const runId = runs.start(kind, now());
    try {
      await body();
      runs.finish(runId, summary.failed > 0 || summary.retrying > 0 ? 'partial' : 'ok', summary, now());
      return summary;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof HaltError) summary.halted = message;
      runs.finish(runId, 'failed', { ...summary, error: message }, now());
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
