import pLimit from 'p-limit';
import type { LinkRow } from '../store/links.js';
import type { AttentionKind, InvoiceStatus, InvoiceStatusRow, WantedStatus } from '../store/statuses.js';
import type { PipelineDeps } from './deps.js';
import { fillNote, type NoteStrings, plainText } from './notes.js';
import type { StatusOnInvoice } from './ports.js';
import { backoffDelay, classifyFailure } from './retry.js';
import { HaltError, odooDateTime } from './steps.js';

/** The To-Do of each thing that needs a person: its summary key in the strings. */
const ACTIVITY_SUMMARY: Readonly<Record<AttentionKind, string>> = {
  mismatch: 'activityMismatch',
  refund_needed: 'activityRefundNeeded',
  creation_refused: 'activityCreationRefused',
  failed: 'activityFailed',
  no_email: 'activityNoEmail',
  foreign_link: 'activityForeignLink',
};

/** The status a link's new state gives its invoice; undefined while the link is still on its way. */
export function statusOfLink(
  row: LinkRow,
  options: { renews: boolean },
): Omit<WantedStatus, 'invoiceId' | 'companyId'> | undefined {
  switch (row.state) {
    case 'open':
      return { status: 'open' };
    case 'registered':
      return { status: 'paid' };
    case 'mismatch':
      return { status: 'attention', attentionKind: 'mismatch', reason: row.stateReason };
    case 'refund_needed':
      return { status: 'attention', attentionKind: 'refund_needed', reason: row.stateReason };
    case 'failed':
      return {
        status: 'attention',
        attentionKind: row.failedStep === 'creating' ? 'creation_refused' : 'failed',
        reason: row.lastError ?? row.stateReason,
      };
    case 'expired':
      return { status: options.renews ? 'replaced' : 'expired' };
    case 'closed':
      return { status: 'archived', reason: row.stateReason };
    default:
      return undefined;
  }
}

/** The words of a status in the accountant's language. */
export function statusOnInvoice(
  row: Pick<InvoiceStatusRow, 'status' | 'reason' | 'changedAt'>,
  strings: NoteStrings,
): StatusOnInvoice {
  const reason = row.reason ?? '';
  const key = {
    open: 'statusOpen',
    paid: 'statusPaid',
    replaced: 'statusReplaced',
    expired: 'statusExpired',
    archived: reason ? 'statusArchived' : 'statusArchivedNoReason',
    attention: reason ? 'statusAttention' : 'statusAttentionNoReason',
  }[row.status];
  return {
    words: plainText(strings, key, { reason }),
    attention: row.status === 'attention',
    changedAt: odooDateTime(row.changedAt),
  };
}

/**
 * What the invoice form says of its online payment, and the To-Do activity of an invoice that
 * needs a person: followed from every link transition (in its transaction), shown by a sweep.
 */
export class InvoiceStatuses {
  constructor(private readonly deps: PipelineDeps) {}

  /** Follows a link's transition; call inside the transaction that commits it. */
  followLink(row: LinkRow, options: { renews: boolean; shown?: boolean }): void {
    const wanted = statusOfLink(row, options);
    if (!wanted) return;
    const { statuses, links, now } = this.deps;
    const current = statuses.get(row.invoiceId);
    // Only the invoice's newest link speaks for it, but money registered always does; an
    // archived replacement after a late payment leaves it "paid".
    const newest = links.ofInvoice(row.invoiceId).at(-1);
    if (wanted.status !== 'paid' && newest && newest.id !== row.id) return;
    if (current?.status === 'paid' && wanted.status === 'archived') return;
    statuses.want({ invoiceId: row.invoiceId, companyId: row.companyId, ...wanted }, now(), {
      shown: options.shown === true,
    });
  }

  /** Something about the invoice needs a person (a To-Do follows). */
  needsAttention(invoice: { id: number; companyId: number }, kind: AttentionKind, reason: string): void {
    this.deps.statuses.want(
      {
        invoiceId: invoice.id,
        companyId: invoice.companyId,
        status: 'attention',
        attentionKind: kind,
        reason,
      },
      this.deps.now(),
    );
  }

  /**
   * The cause of `kind` went away: the invoice shows `status`, by default its link's again (the
   * To-Do is then done).
   */
  resolved(invoice: { id: number; companyId: number }, kind: AttentionKind, status?: InvoiceStatus): void {
    const current = this.deps.statuses.get(invoice.id);
    if (current?.status !== 'attention' || current.attentionKind !== kind) return;
    const link =
      this.deps.links.currentForInvoice(invoice.id) ?? this.deps.links.ofInvoice(invoice.id).at(-1);
    const ofLink = link ? statusOfLink(link, { renews: true }) : undefined;
    const wanted =
      status !== undefined
        ? { status }
        : ofLink === undefined || ofLink.status === 'attention'
          ? { status: 'open' as const }
          : ofLink;
    this.deps.statuses.want(
      { invoiceId: invoice.id, companyId: invoice.companyId, ...wanted },
      this.deps.now(),
    );
  }

  /** The words `writeLink` shows with a link that is about to open. */
  openOnInvoice(companyId: number): StatusOnInvoice {
    return statusOnInvoice(
      { status: 'open', reason: null, changedAt: this.deps.now() },
      this.deps.noteStrings(companyId),
    );
  }

  /** Writes every status Odoo does not show yet, and opens or closes the To-Dos; returns how many. */
  async show(): Promise<number> {
    const { statuses, now, settings, log } = this.deps;
    const limit = pLimit(settings.concurrency);
    const tried = new Set<number>();
    let shown = 0;
    let halt: HaltError | undefined;
    for (;;) {
      const due = statuses.due(now(), 500).filter((row) => !tried.has(row.invoiceId));
      for (const row of due) tried.add(row.invoiceId);
      const claimed = due.filter((row) => statuses.claim(row, now(), settings.leaseMs));
      if (claimed.length === 0) break;
      await Promise.all(
        claimed.map((row) =>
          limit(async () => {
            if (halt) return;
            try {
              if (statuses.markShown(row, await this.showOne(row))) shown++;
            } catch (error) {
              const failure = classifyFailure(error);
              if (failure.kind === 'halt') {
                halt = new HaltError(failure.message, { cause: error });
                return;
              }
              const delay = backoffDelay(
                row.attempts,
                settings.backoffBaseMs,
                settings.backoffMaxMs,
                this.deps.random,
              );
              statuses.postpone(row.invoiceId, failure.message, now() + delay);
              log.warn(
                `could not show the online payment state on invoice ${row.invoiceId}: ${failure.message}; retrying later`,
              );
            }
          }),
        ),
      );
      if (halt) throw halt;
    }
    return shown;
  }

  /** Shows one status; returns the To-Do that stays open for it, if any. */
  private async showOne(row: InvoiceStatusRow): Promise<number | null> {
    const { ledger, statuses } = this.deps;
    const invoice = { id: row.invoiceId, companyId: row.companyId };
    const strings = this.deps.noteStrings(row.companyId);
    const status = statusOnInvoice(row, strings);
    await ledger.writeStatus(invoice, status);
    if (!this.deps.activities) return row.activityId;
    if (row.status === 'attention' && row.attentionKind && row.activityId === null) {
      const summary = plainText(strings, ACTIVITY_SUMMARY[row.attentionKind]);
      // From the second try on, the first may have made it before dying.
      const [existing] = row.attempts > 0 ? await ledger.findActivities(invoice, summary) : [];
      const activityId =
        existing ??
        (await ledger.scheduleActivity(invoice, {
          summary,
          note: `<p>${fillNote(strings, 'activityNote', { reason: row.reason ?? '' })}</p>`,
          userId: await this.deps.activities.assignee(invoice),
        }));
      statuses.recordActivity(row.invoiceId, activityId);
      return activityId;
    }
    if (row.status !== 'attention' && row.activityId !== null) {
      await ledger.finishActivity(
        row.companyId,
        row.activityId,
        plainText(strings, 'activityDone', { status: status.words }),
      );
      statuses.recordActivity(row.invoiceId, null);
      return null;
    }
    return row.activityId;
  }
}
