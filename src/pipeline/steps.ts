import type { LinkStatus } from '../domain/gateway-status.js';
import { exclusionOf, type Invoice, isPayable, isSettled } from '../domain/invoice.js';
import type { LinkState } from '../domain/link-state.js';
import { describeMoney, type Money, money, sameMoney } from '../domain/money.js';
import { linkReference, parseLinkReference } from '../domain/reference.js';
import {
  type ExchangeRate,
  GatewayError,
  type GatewayPayment,
  type LinkContext,
  type LinkRequest,
  type LinkSnapshot,
} from '../gateways/gateway.js';
import type { LinkPatch, LinkRow } from '../store/links.js';
import type { CompanyRoute, PipelineDeps } from './deps.js';
import { invoiceNoteMarker, linkNote, type Note, notes } from './notes.js';
import type { LedgerPayment } from './ports.js';
import { backoffDelay, classifyFailure } from './retry.js';
import { InvoiceStatuses } from './statuses.js';

export type StepOutcome =
  | 'created'
  | 'written_back'
  | 'adopted'
  | 'unchanged'
  | 'paid'
  | 'registered'
  | 'mismatch'
  | 'refund_needed'
  | 'closed'
  | 'expired'
  | 'retry'
  | 'failed'
  | 'busy';

export interface StepHint {
  /** The invoice as just read from Odoo, saving a read. */
  readonly invoice?: Invoice;
  /** Look at closed and expired links too: a payment may have arrived on them. */
  readonly recheck?: boolean;
  /** The link as just read from the gateway (adoption), saving a read. */
  readonly snapshot?: LinkSnapshot;
}

export class HaltError extends Error {
  override name = 'HaltError';
}

type StepResult = { outcome: StepOutcome; row?: LinkRow | undefined };

/** The alert that pauses a gateway after it refused our credentials. */
export function gatewayAlertKey(gatewayId: string): string {
  return `gateway.${gatewayId}.credentials`;
}

/**
 * Moves one link through its states. Each state names the side effect still owed; the step
 * performs it (idempotently) and commits the next state, so a crash anywhere is finished by the
 * next pass. All confirmations (poll, webhook, reconcile) end in applySnapshot.
 */
export class LinkSteps {
  readonly statuses: InvoiceStatuses;

  constructor(private readonly deps: PipelineDeps) {
    this.statuses = new InvoiceStatuses(deps);
  }

  /** The row as stored now. */
  reload(row: LinkRow): LinkRow {
    return this.deps.links.byId(row.id) ?? row;
  }

  route(companyId: number): CompanyRoute | undefined {
    return this.deps.companies.find((company) => company.companyId === companyId);
  }

  /** Payable, and not excluded by the merchant (an invoice already linked stays in scope by date). */
  wantsLink(invoice: Invoice): boolean {
    return isPayable(invoice) && exclusionOf(invoice, this.deps.scope) === undefined;
  }

  /** The gateway of this company refused our credentials and no probe is due yet. */
  gatewayPaused(companyId: number): boolean {
    const route = this.route(companyId);
    return route !== undefined && this.deps.alerts.blocking(gatewayAlertKey(route.gateway.id)) !== undefined;
  }

  /** The reference of an invoice's link number `sequence`. */
  reference(invoiceId: number, sequence: number): string {
    return linkReference(this.deps.identity.prefix, invoiceId, sequence);
  }

  /**
   * Commits a transition and, in the same transaction, the chatter note that reports it (so the
   * accountant is told once, whatever crashes or retries) and whatever `also` writes with it.
   */
  private commit(
    row: LinkRow,
    to: LinkState,
    patch: LinkPatch,
    note?: Note,
    from?: readonly LinkState[],
    also?: (next: LinkRow) => void,
  ): LinkRow | undefined {
    const { db, links, now } = this.deps;
    return db
      .transaction(() => {
        const next = links.transition(row.id, to, patch, now(), from);
        if (next && note) this.enqueueNote(next, note);
        // writeBack showed "open" with the link fields, in the same write.
        if (next)
          this.statuses.followLink(next, {
            renews: this.renewsOnExpiry(next),
            shown: to === 'open' && row.state === 'writing_back',
          });
        if (next) also?.(next);
        return next;
      })
      .immediate();
  }

  private enqueueNote(row: LinkRow, note: Note): void {
    this.deps.notes.enqueue(linkNote(row, note, this.deps.noteStrings(row.companyId)), this.deps.now());
  }

  /** Queues a note about an invoice that has no link of ours. */
  enqueueInvoiceNote(invoice: { id: number; companyId: number }, note: Note): void {
    this.deps.notes.enqueue(
      {
        linkRowId: null,
        companyId: invoice.companyId,
        invoiceId: invoice.id,
        kind: note.kind,
        marker: invoiceNoteMarker(this.deps.identity.prefix, invoice.id, note.kind),
        body: note.render(this.deps.noteStrings(invoice.companyId)),
      },
      this.deps.now(),
    );
  }

  /** Archives a link an accountant asked to replace or stop (inside the request's transaction). */
  closeOnRequest(row: LinkRow, reason: string): LinkRow | undefined {
    return this.commit(row, 'closing', { stateReason: reason }, undefined, ['open', 'writing_back']);
  }

  private gatewayName(row: LinkRow): string {
    return this.route(row.companyId)?.gateway.displayName ?? row.gateway;
  }

  /**
   * Claims the row, runs the steps its state calls for while they succeed, and releases it.
   * Returns what happened, in order (a new link is usually 'created' then 'written_back').
   */
  async advance(row: LinkRow, hint?: StepHint): Promise<StepOutcome[]> {
    const { links, owner, now, settings } = this.deps;
    const claimed = links.claim(row.id, owner, now(), settings.leaseMs);
    if (!claimed) return ['busy'];
    let outcomes: StepOutcome[];
    try {
      outcomes = await this.run(claimed, hint ?? {});
    } catch (error) {
      // A halt stops the whole pass; anything else is this link's failure.
      if (error instanceof HaltError) throw error;
      outcomes = [this.fail(claimed, error)];
    } finally {
      links.release(row.id, owner);
    }
    this.deps.observer?.linkAdvanced?.(claimed, outcomes);
    return outcomes;
  }

  private async run(row: LinkRow, hint: StepHint): Promise<StepOutcome[]> {
    let current: LinkRow | undefined = row;
    const outcomes: StepOutcome[] = [];
    // Chain the steps while each one succeeds: a new link is written back in the same pass, a
    // paid link is registered as soon as it is seen paid.
    for (let step = 0; current && step < 4; step++) {
      const before = current.state;
      let result: StepResult;
      try {
        result = await this.step(current, hint);
      } catch (error) {
        outcomes.push(this.fail(current, error));
        break;
      }
      if (result.outcome !== 'unchanged') outcomes.push(result.outcome);
      if (!result.row || result.row.state === before) break;
      current = result.row;
      // A link just shown on the invoice needs no look at the gateway yet: nobody has paid it.
      if (result.outcome === 'written_back') break;
      // A link that expired, or was archived because the amount due changed, is replaced while
      // the invoice can still be paid. A link closed at the gateway by the merchant is not.
      // An on_visit gateway's expired order is renewed by the pay page when the customer comes.
      if (
        (result.outcome === 'expired' && this.renewsOnExpiry(current)) ||
        (result.outcome === 'closed' && hint.invoice && before === 'closing')
      ) {
        await this.replace(current, hint.invoice);
      }
      // A recheck or a snapshot was for the first step only; the next steps read afresh.
      hint = { ...(hint.invoice ? { invoice: hint.invoice } : {}) };
    }
    return outcomes;
  }

  private async step(row: LinkRow, hint: StepHint): Promise<StepResult> {
    switch (row.state) {
      case 'creating':
        return this.create(row, hint.invoice);
      case 'writing_back':
        return this.writeBack(row);
      case 'open': {
        const snapshot = hint.snapshot ?? (await this.snapshotOrGone(row));
        if (snapshot === 'gone') return this.deletedAtGateway(row);
        const result = await this.applySnapshot(row, snapshot);
        if (result.outcome === 'unchanged') {
          // Webhooks bring news at once; polling is the safety net, sparser as a link ages.
          this.deps.links.scheduleNextAttempt(
            row.id,
            this.deps.now() + pollDelay(this.deps.now() - row.createdAt),
          );
        }
        return result;
      }
      case 'paid':
        return this.register(row);
      case 'closing':
        return this.close(row);
      case 'closed':
      case 'expired': {
        // Only on a hint that money may have arrived (webhook, reconcile): is it on this link?
        if (!hint.recheck || !row.linkId) return { outcome: 'unchanged' };
        const snapshot = await this.snapshotOrGone(row);
        // A link deleted at the gateway had no transaction at all (MyTPE deletes only those):
        // its 404 is final, not a failure to retry.
        if (snapshot === 'gone') return { outcome: 'unchanged' };
        return this.applySnapshot(row, snapshot);
      }
      case 'registered':
      case 'mismatch':
      case 'refund_needed':
      case 'failed':
        return { outcome: 'unchanged' };
    }
  }

  /**
   * An admin's retry of a failed link: back to the step it failed at, due now. Every step is
   * idempotent, so resuming is safe whatever happened before the failure.
   */
  retryFailed(row: LinkRow): LinkRow | undefined {
    if (row.state !== 'failed' || !row.failedStep) return undefined;
    const next = this.deps.links.transition(
      row.id,
      row.failedStep,
      { stateReason: 'retried by an admin' },
      this.deps.now(),
      ['failed'],
    );
    if (next)
      this.deps.log.info(`retrying invoice ${row.invoiceName} from step ${row.failedStep}, as asked`, {
        invoice: row.invoiceName,
      });
    return next;
  }

  /** Records the intent to give a payable invoice a new link (the next unused number). */
  newLinkFor(route: CompanyRoute, invoice: Invoice): LinkRow | undefined {
    return this.deps.links.insertCreating(
      {
        gateway: route.gateway.id,
        companyId: route.companyId,
        invoiceId: invoice.id,
        invoiceName: invoice.name,
        amount: invoice.residual,
        reference: (sequence) => this.reference(invoice.id, sequence),
        usedSequence: invoice.lastSequence,
      },
      this.deps.now(),
    );
  }

  /** Gives the invoice of a finished link a new one (next sequence) when it can still be paid. */
  private async replace(expired: LinkRow, hinted?: Invoice): Promise<void> {
    const { log } = this.deps;
    let invoice: Invoice | undefined;
    try {
      invoice = hinted ?? (await this.invoiceFor(expired));
    } catch (error) {
      // The next full sweep finds the invoice without a link and gives it one.
      log.warn(
        `could not read invoice ${expired.invoiceName} to replace its link: ${(error as Error).message}`,
      );
      return;
    }
    if (!invoice || !this.wantsLink(invoice)) return;
    const route = this.gatewayFor(expired);
    if (!route.gateway.currencies.includes(invoice.residual.currency)) return;
    const replacement = this.newLinkFor(route, invoice);
    if (!replacement) return;
    log.info(`replacing the ${expired.state} payment link of invoice ${invoice.name}`, {
      invoice: invoice.name,
      reference: replacement.reference,
    });
    await this.advance(replacement, { invoice });
  }

  private renewsOnExpiry(row: LinkRow): boolean {
    return this.route(row.companyId)?.gateway.renewal !== 'on_visit';
  }

  /** What the gateway gets to know about a stored link with each call about it. */
  linkContext(route: CompanyRoute, row: LinkRow, linkId: string): LinkContext {
    return {
      merchantAccount: route.merchantAccount,
      record: {
        linkId,
        merchantAccount: route.merchantAccount,
        reference: row.reference,
        amount: row.amount,
        createdAt: row.createdAt,
        context: row.gatewayContext ?? undefined,
        transactionIds: this.deps.events.transactionIdsOf(row.gateway, linkId),
      },
    };
  }

  private gatewayFor(row: LinkRow): CompanyRoute {
    const route = this.route(row.companyId);
    if (!route) throw new Error(`company ${row.companyId} is no longer configured`);
    return route;
  }

  private async invoiceFor(row: LinkRow): Promise<Invoice | undefined> {
    const [invoice] = await this.deps.ledger.invoicesByIds(row.companyId, [row.invoiceId]);
    return invoice;
  }

  /** What we ask the gateway for: the reference, and metadata that names database, invoice and amount. */
  private linkRequest(
    route: CompanyRoute,
    row: LinkRow,
    invoice?: Pick<Invoice, 'companyName' | 'partner' | 'invoiceDate'>,
    rate?: ExchangeRate,
  ): LinkRequest {
    const callbacks = this.deps.callbacks?.(route.gateway.id);
    return {
      reference: row.reference,
      merchantAccount: route.merchantAccount,
      amount: row.amount,
      attempt: row.attempts + 1,
      ...(callbacks ? { callbacks } : {}),
      ...(rate ? { rate } : {}),
      invoice: {
        odooId: row.invoiceId,
        name: row.invoiceName,
        companyName: invoice?.companyName ?? '',
        partnerName: invoice?.partner?.name ?? '',
        partnerEmail: invoice?.partner?.email ?? undefined,
        partnerLang: invoice?.partner?.lang ?? undefined,
        invoiceDate: invoice?.invoiceDate ?? undefined,
      },
      metadata: {
        database: this.deps.identity.prefix,
        invoice_id: String(row.invoiceId),
        amount: describeMoney(row.amount),
      },
    };
  }

  private async create(row: LinkRow, hinted?: Invoice): Promise<StepResult> {
    const { links, now, log } = this.deps;
    const route = this.gatewayFor(row);
    const invoice = hinted ?? (await this.invoiceFor(row));
    if (!invoice || !this.wantsLink(invoice) || invoice.residual.minor !== row.amount.minor) {
      // Nothing was shown to the customer yet; the link (if an earlier attempt made one) is closed.
      const excluded = invoice && exclusionOf(invoice, this.deps.scope);
      const reason = !invoice
        ? 'invoice no longer exists'
        : excluded
          ? `${excluded} before its link was published`
          : `invoice is ${describeInvoice(invoice)} before its link was published`;
      const next = links.transition(row.id, 'closing', { stateReason: reason }, now());
      return { outcome: 'unchanged', row: next };
    }
    const rate = await this.rateFor(route, invoice);
    const link = await route.gateway.createLink(this.linkRequest(route, row, invoice, rate));
    this.gatewayAnswered(row.companyId);
    // A link found under our reference that another process made and put on the invoice since
    // we recorded our intent was emailed by it (Odoo says when); an earlier attempt of ours that
    // lost its answer was not, and an older emailedAt belongs to an earlier link.
    const emailedSince =
      invoice.emailedAt !== null && Date.parse(`${invoice.emailedAt.replace(' ', 'T')}Z`) >= row.createdAt;
    const email = this.deps.hooks?.onLinkCreated && !(link.adopted && emailedSince);
    // Read before the transaction, which cannot wait for Odoo (cached per company).
    const company = email ? await this.deps.ledger.companyContact(row.companyId) : undefined;
    const next = this.deps.db
      .transaction(() => {
        const updated = links.transition(
          row.id,
          'writing_back',
          {
            linkId: link.id,
            linkUrl: link.url,
            gatewayContext: link.context ?? null,
            charge: link.charge ?? null,
          },
          now(),
        );
        if (updated && company) this.deps.hooks?.onLinkCreated?.(updated, { invoice, company });
        return updated;
      })
      .immediate();
    log.info(
      `${link.adopted ? 'found the' : 'created'} ${route.gateway.displayName} link for invoice ${row.invoiceName}`,
      {
        invoice: row.invoiceName,
        invoiceId: row.invoiceId,
        link: link.id,
        amount: describeMoney(row.amount),
      },
    );
    return { outcome: 'created', row: next };
  }

  /** Odoo's rate into the gateway's pricing currency at the invoice date, when it prices in another. */
  private async rateFor(route: CompanyRoute, invoice: Invoice): Promise<ExchangeRate | undefined> {
    const to = route.gateway.pricingCurrency;
    if (!to) return undefined;
    const from = invoice.residual.currency;
    if (from === to) return { from, to, rate: '1', date: null };
    const date = invoice.invoiceDate ?? dateInZone(this.deps.now(), null);
    const found = await this.deps.ledger.currencyRate(route.companyId, from, to, date);
    if (!found) {
      throw new GatewayError(
        route.gateway.id,
        'validation',
        `Odoo has no ${from} to ${to} rate on or before ${date}, which ${route.gateway.displayName} needs to price the invoice: add one in Accounting > Configuration > Currencies`,
      );
    }
    return { from, to, rate: found.rate, date: found.date };
  }

  private async writeBack(row: LinkRow): Promise<StepResult> {
    const { ledger, log, hooks, now } = this.deps;
    if (!row.linkId || !row.linkUrl) throw new Error(`link row ${row.id} is writing_back without a link`);
    // Odoo learns that the customer is being emailed before the email can go: a daemon that
    // lost its state file reads it there and does not email again.
    const emailed = hooks?.emailWaitsFor?.(row) === true;
    const payAddress = this.deps.payAddress?.(row.invoiceId);
    await ledger.writeLink(
      { id: row.invoiceId, companyId: row.companyId },
      {
        gateway: row.gateway,
        id: row.linkId,
        url: row.linkUrl,
        ...(payAddress ? { payAddress } : {}),
        sequence: row.sequence,
        ...(emailed ? { emailedAt: odooDateTime(now()) } : {}),
      },
      this.statuses.openOnInvoice(row.companyId),
    );
    // A checkout order renewed for a returning customer is no news for the accountant.
    const renewal =
      !this.renewsOnExpiry(row) &&
      this.deps.links.ofInvoice(row.invoiceId).some((other) => other.id !== row.id && other.linkId !== null);
    const next = this.commit(
      row,
      'open',
      {},
      renewal
        ? undefined
        : notes.linkCreated(this.gatewayName(row), payAddress ?? row.linkUrl, row.amount, row.charge),
      undefined,
      (published) => hooks?.onLinkPublished?.(published),
    );
    log.info(`invoice ${row.invoiceName} now shows its payment link`, {
      invoice: row.invoiceName,
      url: row.linkUrl,
    });
    return { outcome: 'written_back', row: next };
  }

  private async snapshotOrGone(row: LinkRow): Promise<LinkSnapshot | 'gone'> {
    if (!row.linkId) throw new Error(`link row ${row.id} is ${row.state} without a link id`);
    try {
      const route = this.gatewayFor(row);
      const snapshot = await route.gateway.getLink(
        row.linkId,
        { currency: row.amount.currency, decimals: row.amount.decimals },
        this.linkContext(route, row, row.linkId),
      );
      this.gatewayAnswered(row.companyId);
      return snapshot;
    } catch (error) {
      if (error instanceof GatewayError && error.kind === 'not_found') return 'gone';
      throw error;
    }
  }

  /** An open link the gateway no longer knows: deleted there, so nobody can pay it. */
  private async deletedAtGateway(row: LinkRow): Promise<StepResult> {
    await this.deps.ledger.clearLink({ id: row.invoiceId, companyId: row.companyId }, row);
    const next = this.commit(
      row,
      'closed',
      { stateReason: 'the link was deleted at the gateway' },
      notes.deletedAtGateway(this.gatewayName(row)),
      ['open', 'writing_back'],
    );
    this.deps.log.warn(`payment link of invoice ${row.invoiceName} was deleted at the gateway`, {
      invoice: row.invoiceName,
      link: row.linkId,
    });
    return { outcome: 'closed', row: next };
  }

  /**
   * Decides what a gateway snapshot means for the link and commits it. The one entry point for
   * every confirmation source; repeated snapshots are no-ops.
   */
  async applySnapshot(row: LinkRow, snapshot: LinkSnapshot): Promise<StepResult> {
    const { links, now, log } = this.deps;
    const completed = snapshot.payments.filter((payment) => payment.status === 'completed');
    if (completed.length === 0) return this.applyUnpaid(row, snapshot.status);
    const payment = completed[0]!;
    const paid = {
      transactionId: payment.transactionId,
      paidMinor: payment.amount.minor,
      paidCurrency: payment.amount.currency,
      paidAt: payment.occurredAt ? Date.parse(payment.occurredAt) || null : null,
    };
    if (row.state === 'closing' || row.state === 'closed' || row.state === 'expired') {
      return this.latePayment(row, payment, paid);
    }
    if (row.state !== 'open' && row.state !== 'writing_back') return { outcome: 'unchanged' };
    const problem = payment.needsPerson ?? paymentProblem(row, completed);
    if (problem) {
      const next = this.commit(
        row,
        'mismatch',
        { ...paid, stateReason: problem },
        notes.mismatch(this.gatewayName(row), problem, payment.transactionId),
      );
      log.warn(
        `payment for invoice ${row.invoiceName} does not match it and was NOT registered: ${problem}; a person must decide`,
        {
          invoice: row.invoiceName,
          transaction: payment.transactionId,
        },
      );
      return { outcome: 'mismatch', row: next };
    }
    const next = links.transition(row.id, 'paid', paid, now());
    if (next) {
      log.info(`invoice ${row.invoiceName} was paid online`, {
        invoice: row.invoiceName,
        transaction: payment.transactionId,
        amount: describeMoney(payment.amount),
      });
    }
    return { outcome: 'paid', row: next };
  }

  /**
   * Money on a link we archived or that expired. While the invoice still needs that money it is
   * this customer paying this invoice: registered, and the newer link archived in the same
   * transaction so it cannot be paid too. Otherwise it waits for a refund; never lost, never
   * registered blindly.
   */
  private async latePayment(
    row: LinkRow,
    payment: GatewayPayment,
    paid: LinkPatch & { transactionId: string },
  ): Promise<StepResult> {
    const { links, log } = this.deps;
    const invoice = await this.invoiceFor(row);
    // The same amount rule as on an open link: a late payment is registered only as asked.
    const problem = payment.needsPerson ?? paymentProblem(row, [payment]);
    const needed =
      problem === undefined &&
      invoice !== undefined &&
      isPayable(invoice) &&
      invoice.residual.currency === payment.amount.currency &&
      payment.amount.minor <= invoice.residual.minor;
    if (needed) {
      const replacement = links.payableForInvoice(row.invoiceId);
      const reason = `paid through its earlier link ${row.reference}`;
      const next = this.commit(
        row,
        'paid',
        { ...paid, stateReason: 'paid after it had been replaced' },
        notes.latePayment(this.gatewayName(row), payment.amount, payment.transactionId),
        ['closing', 'closed', 'expired'],
        () => {
          if (replacement && replacement.id !== row.id)
            links.transition(replacement.id, 'closing', { stateReason: reason }, this.deps.now());
        },
      );
      if (next)
        log.warn(
          `invoice ${row.invoiceName} was paid through a link that had been replaced; registering it and archiving the newer link`,
          { invoice: row.invoiceName, transaction: payment.transactionId },
        );
      return { outcome: next ? 'paid' : 'unchanged', row: next };
    }
    const reason = problem
      ? `${problem}, on a link that had ${row.state === 'expired' ? 'expired' : 'been archived'}`
      : row.state === 'expired'
        ? `the payment arrived on a link that had expired and was replaced, and the invoice is ${invoice ? describeInvoice(invoice) : 'gone'}`
        : `the payment arrived on a link archived because ${row.stateReason ?? 'the invoice changed'}`;
    const next = this.commit(
      row,
      'refund_needed',
      { ...paid, stateReason: reason },
      notes.refundNeeded(this.gatewayName(row), reason, payment.transactionId, payment.amount),
    );
    if (next)
      log.warn(
        `payment ${payment.transactionId} on archived link of invoice ${row.invoiceName} needs a refund: ${reason}`,
        { invoice: row.invoiceName },
      );
    return { outcome: next ? 'refund_needed' : 'unchanged', row: next };
  }

  private applyUnpaid(row: LinkRow, status: LinkStatus): StepResult {
    const { log } = this.deps;
    if (row.state !== 'open' && row.state !== 'writing_back') return { outcome: 'unchanged' };
    switch (status) {
      case 'expired': {
        // A checkout order that expired is renewed when the customer comes back: nothing to tell.
        const next = this.commit(
          row,
          'expired',
          { stateReason: 'the gateway closed the link unpaid' },
          this.renewsOnExpiry(row) ? notes.expired(this.gatewayName(row)) : undefined,
          ['open', 'writing_back'],
        );
        log.info(`payment link of invoice ${row.invoiceName} expired unpaid`, {
          invoice: row.invoiceName,
          link: row.linkId,
        });
        return { outcome: 'expired', row: next };
      }
      case 'cancelled': {
        const reason = 'the link was closed at the gateway';
        const next = this.commit(
          row,
          'closed',
          { stateReason: reason },
          notes.closed(this.gatewayName(row), reason),
          ['open', 'writing_back'],
        );
        log.warn(`payment link of invoice ${row.invoiceName} was closed at the gateway`, {
          invoice: row.invoiceName,
          link: row.linkId,
        });
        return { outcome: 'closed', row: next };
      }
      case 'open':
      case 'pending':
      case 'paid':
      case 'partially_paid':
      case 'unknown':
        return { outcome: 'unchanged' };
    }
  }

  /**
   * Registers the payment in Odoo exactly once. Its memo names the gateway and transaction
   * (`MyTPE <id>`); a payment with that memo is adopted only when it is this invoice's payment,
   * so an unrelated payment (or one for another invoice) never marks this one registered.
   */
  private async register(row: LinkRow): Promise<StepResult> {
    const { now, ledger, log } = this.deps;
    const route = this.gatewayFor(row);
    if (!row.transactionId || row.paidMinor === null || row.paidCurrency === null) {
      throw new Error(`link row ${row.id} is paid without a transaction`);
    }
    const amount = money(row.paidMinor, row.paidCurrency, row.amount.decimals);
    const memo = `${route.gateway.memoPrefix} ${row.transactionId}`;
    const invoice = await this.invoiceFor(row);
    // The bare transaction id is how releases before 0.2 wrote the memo.
    const candidates = await ledger.paymentsByMemo(row.companyId, [memo, row.transactionId]);
    const existing = invoice && candidates.find((payment) => isPaymentOf(payment, invoice, amount, route));
    if (existing) {
      const next = this.commit(
        row,
        'registered',
        { odooPaymentId: existing.id },
        notes.registered(route.gateway.displayName, amount, row.transactionId),
      );
      log.info(`payment for invoice ${row.invoiceName} was already in Odoo; adopted it`, {
        invoice: row.invoiceName,
        payment: existing.id,
      });
      return { outcome: 'registered', row: next };
    }
    if (candidates.length > 0) {
      log.warn(
        `Odoo has payments with memo ${memo} that are not for invoice ${row.invoiceName} (${candidates.map((payment) => payment.id).join(', ')}); registering this one anyway`,
        { invoice: row.invoiceName },
      );
    }
    const refusal = registrationRefusal(invoice, row);
    if (refusal) {
      const note =
        refusal.state === 'mismatch'
          ? notes.mismatch(route.gateway.displayName, refusal.reason, row.transactionId)
          : notes.refundNeeded(route.gateway.displayName, refusal.reason, row.transactionId, amount);
      const next = this.commit(row, refusal.state, { stateReason: refusal.reason }, note);
      log.warn(`payment for invoice ${row.invoiceName} was not registered: ${refusal.reason}`, {
        invoice: row.invoiceName,
        transaction: row.transactionId,
      });
      return { outcome: refusal.state, row: next };
    }
    const company = await ledger.companyContact(row.companyId);
    const date = dateInZone(row.paidAt ?? now(), company.timezone, (zone) =>
      log.warn(`company ${row.companyId} has an unknown time zone ${zone}; dating payments in UTC`),
    );
    const paymentId = await ledger.registerPayment(
      { id: row.invoiceId, companyId: row.companyId },
      { journalId: route.journalId, amount, date, memo },
    );
    const next = this.commit(
      row,
      'registered',
      { odooPaymentId: paymentId },
      notes.registered(route.gateway.displayName, amount, row.transactionId),
    );
    log.info(`registered payment of ${describeMoney(amount)} on invoice ${row.invoiceName}`, {
      invoice: row.invoiceName,
      payment: paymentId,
      transaction: row.transactionId,
    });
    return { outcome: 'registered', row: next };
  }

  private async close(row: LinkRow): Promise<StepResult> {
    const { log, ledger } = this.deps;
    const route = this.gatewayFor(row);
    let linkId = row.linkId;
    if (!linkId) {
      // An earlier attempt may have created the link before crashing: look it up by reference
      // (never create one just to close it, never take someone else's).
      const found = await route.gateway.findLink(this.linkRequest(route, row));
      linkId = found?.id ?? null;
    }
    // The invoice stops showing the link, and Odoo records its number, before the gateway frees
    // the reference: a daemon that lost its state never makes a link under it again.
    await ledger.clearLink({ id: row.invoiceId, companyId: row.companyId }, row);
    const context = linkId ? this.linkContext(route, row, linkId) : undefined;
    const outcome = linkId && context ? await route.gateway.closeLink(linkId, context) : 'already_closed';
    this.gatewayAnswered(row.companyId);
    if (linkId && context && outcome !== 'deleted') {
      // A payment that landed before the link went down is not lost. (A deleted link had no
      // transaction at all.)
      const snapshot = await route.gateway.getLink(
        linkId,
        { currency: row.amount.currency, decimals: row.amount.decimals },
        context,
      );
      if (snapshot.payments.some((payment) => payment.status === 'completed')) {
        return this.applySnapshot({ ...row, linkId }, snapshot);
      }
    }
    const reason = row.stateReason ?? 'the invoice changed';
    const next = this.commit(
      row,
      'closed',
      linkId ? { linkId } : {},
      notes.closed(route.gateway.displayName, reason),
    );
    log.info(
      `closed payment link of invoice ${row.invoiceName} (${linkId ? outcome : 'never created'}): ${reason}`,
      { invoice: row.invoiceName, link: linkId },
    );
    return { outcome: 'closed', row: next };
  }

  /**
   * Takes the link an invoice already carries into the store: it was made by this deployment (our
   * reference prefix, this invoice, this account) and the gateway's state of it becomes ours.
   * Anything else is someone else's link and is left alone. Returns what happened.
   */
  async adopt(
    route: CompanyRoute,
    invoice: Invoice,
    options: { createForDeleted?: boolean } = {},
  ): Promise<StepOutcome[]> {
    const { links, notices, log, now, identity } = this.deps;
    const linkId = invoice.linkId;
    if (!linkId) return [];
    // A link of the gateway the company used before is that gateway's to finish, not ours to read.
    if (invoice.linkGateway !== null && invoice.linkGateway !== route.gateway.id) {
      log.debug(
        `invoice ${invoice.name} carries a ${invoice.linkGateway} link, but its company now uses ${route.gateway.displayName}; leaving it alone`,
        { invoice: invoice.name },
      );
      return [];
    }
    let snapshot: LinkSnapshot;
    try {
      snapshot = await route.gateway.getLink(
        linkId,
        { currency: invoice.residual.currency, decimals: invoice.residual.decimals },
        { merchantAccount: route.merchantAccount },
      );
    } catch (error) {
      if (!(error instanceof GatewayError)) throw error;
      if (error.kind === 'auth') {
        this.fail(undefined, error, route);
        return ['retry'];
      }
      if (error.kind !== 'not_found') {
        log.warn(
          `could not read link ${linkId} of invoice ${invoice.name} at ${route.gateway.displayName}: ${error.message}; trying again next pass`,
          { invoice: invoice.name },
        );
        return ['retry'];
      }
      return this.adoptDeleted(route, invoice, options.createForDeleted !== false);
    }
    const parsed = parseLinkReference(identity.prefix, snapshot.link.reference);
    const foreign =
      !parsed || parsed.invoiceId !== invoice.id
        ? `its reference ${snapshot.link.reference} is not one of ours for this invoice`
        : snapshot.link.merchantAccount !== undefined &&
            snapshot.link.merchantAccount !== route.merchantAccount
          ? `it belongs to account ${snapshot.link.merchantAccount}`
          : snapshot.link.metadata?.database !== undefined &&
              snapshot.link.metadata.database !== identity.prefix
            ? `it was made for database ${snapshot.link.metadata.database}`
            : undefined;
    if (foreign || !parsed) {
      const reason = foreign ?? 'not ours';
      if (
        notices.record(
          { invoiceId: invoice.id, companyId: invoice.companyId, kind: 'foreign_link', detail: linkId },
          now(),
        )
      ) {
        this.enqueueInvoiceNote(invoice, notes.foreignLink(linkId, reason));
        this.statuses.needsAttention(invoice, 'foreign_link', reason);
        log.warn(
          `invoice ${invoice.name} carries link ${linkId}, which this deployment did not make (${reason}); leaving it alone`,
          { invoice: invoice.name },
        );
      }
      return [];
    }
    const row = links.insertAdopted(
      {
        gateway: route.gateway.id,
        companyId: route.companyId,
        invoiceId: invoice.id,
        invoiceName: invoice.name,
        sequence: parsed.sequence,
        reference: snapshot.link.reference,
        amount: snapshot.link.amount,
        linkId,
        linkUrl: snapshot.link.url,
      },
      now(),
    );
    if (!row) return [];
    log.info(`adopted link ${linkId} that invoice ${invoice.name} already carries; it is not emailed again`, {
      invoice: invoice.name,
      reference: row.reference,
    });
    return ['adopted', ...(await this.advance(row, { invoice, snapshot }))];
  }

  /** The invoice names a link the gateway no longer has: a new one if it can be paid. */
  private async adoptDeleted(route: CompanyRoute, invoice: Invoice, create: boolean): Promise<StepOutcome[]> {
    const { log, ledger } = this.deps;
    log.info(`invoice ${invoice.name} carries link ${invoice.linkId}, which the gateway no longer has`, {
      invoice: invoice.name,
    });
    if (this.wantsLink(invoice) && route.gateway.currencies.includes(invoice.residual.currency)) {
      if (!create) return [];
      const row = this.newLinkFor(route, invoice);
      return row ? this.advance(row, { invoice }) : [];
    }
    await ledger.clearLink(invoice, { sequence: invoice.lastSequence });
    return [];
  }

  /**
   * Records a failed attempt. A gateway that refuses our credentials pauses all its work (one
   * ALERT, probed again later) without counting against the link; a refusal that may pass is
   * retried with backoff (up to maxAttempts while creating); one no retry can change fails a new
   * link at once.
   */
  fail(row: LinkRow, error: unknown): StepOutcome;
  fail(row: undefined, error: unknown, route: CompanyRoute): StepOutcome;
  fail(row: LinkRow | undefined, error: unknown, explicitRoute?: CompanyRoute): StepOutcome {
    const { links, now, log, settings, alerts } = this.deps;
    const failure = classifyFailure(error);
    if (failure.kind === 'halt') throw new HaltError(failure.message, { cause: error });
    const route = explicitRoute ?? (row ? this.route(row.companyId) : undefined);
    if (error instanceof GatewayError && error.kind === 'auth' && route) {
      alerts.raise(
        gatewayAlertKey(route.gateway.id),
        `${route.gateway.displayName} refused our credentials (${error.message}); no ${route.gateway.displayName} work until gateways.${route.gateway.id} is fixed (checked again every 15 minutes)`,
      );
      if (row) links.postpone(row.id, error.message, now() + 60_000, now());
      return 'retry';
    }
    if (!row) return 'retry';
    const context = {
      invoice: row.invoiceName,
      invoiceId: row.invoiceId,
      state: row.state,
      attempt: row.attempts + 1,
    };
    const outOfAttempts = row.attempts + 1 >= settings.maxAttempts;
    const giveUp =
      row.state === 'creating'
        ? failure.kind === 'permanent' || outOfAttempts
        : failure.kind === 'permanent' && outOfAttempts;
    if (giveUp) {
      const note =
        row.state === 'creating' ? notes.creationRefused(this.gatewayName(row), failure.message) : undefined;
      this.commit(row, 'failed', { stateReason: failure.message, failedStep: row.state }, note, [row.state]);
      links.recordFailure(row.id, failure.message, 0, now());
      log.error(
        `gave up on invoice ${row.invoiceName} at step ${row.state} after ${row.attempts + 1} attempts: ${failure.message}; a person must look at it ("odoo-paylink retry")`,
        context,
      );
      return 'failed';
    }
    const delay = Math.max(
      failure.kind === 'transient' ? (failure.retryAfterMs ?? 0) : 0,
      backoffDelay(row.attempts, settings.backoffBaseMs, settings.backoffMaxMs, this.deps.random),
    );
    links.recordFailure(row.id, failure.message, now() + delay, now());
    log.warn(
      `step ${row.state} failed for invoice ${row.invoiceName}: ${failure.message}; retrying in ${Math.round(delay / 1000)} s`,
      context,
    );
    return 'retry';
  }

  /** Lifts the pause of a gateway once a call to it succeeded again. */
  private gatewayAnswered(companyId: number): void {
    const route = this.route(companyId);
    if (route && this.deps.alerts.get(gatewayAlertKey(route.gateway.id)))
      this.deps.alerts.clear(gatewayAlertKey(route.gateway.id));
  }
}

/**
 * Whether an Odoo payment carrying our memo pays this invoice: Odoo says it does (invoice_ids or
 * reconciled_invoice_ids), or, for a payment tied to no invoice at all, it is for the same
 * customer, amount, currency and journal. A payment of another invoice never is.
 */
function isPaymentOf(payment: LedgerPayment, invoice: Invoice, amount: Money, route: CompanyRoute): boolean {
  if (payment.invoiceIds.length > 0) return payment.invoiceIds.includes(invoice.id);
  return (
    payment.partnerId !== null &&
    payment.partnerId === invoice.commercialPartnerId &&
    payment.journalId === route.journalId &&
    sameMoney(payment.amount, amount)
  );
}

function paymentProblem(row: LinkRow, completed: readonly GatewayPayment[]): string | undefined {
  if (completed.length > 1) return `${completed.length} completed payments on a one-time link`;
  const payment = completed[0]!;
  if (payment.amount.currency !== row.amount.currency) {
    return `paid in ${payment.amount.currency}, invoice is in ${row.amount.currency}`;
  }
  // Less than asked is a payment only when the gateway settled it within the merchant's tolerance.
  const short =
    payment.settlesShort === true && payment.amount.minor > 0 && payment.amount.minor < row.amount.minor;
  if (payment.amount.minor !== row.amount.minor && !short) {
    return `paid ${describeMoney(payment.amount)}, link asked for ${describeMoney(row.amount)}`;
  }
  return undefined;
}

function registrationRefusal(
  invoice: Invoice | undefined,
  row: LinkRow,
): { state: Extract<LinkState, 'mismatch' | 'refund_needed'>; reason: string } | undefined {
  if (!invoice) return { state: 'refund_needed', reason: 'the invoice no longer exists in Odoo' };
  if (invoice.state !== 'posted' || isSettled(invoice)) {
    return { state: 'refund_needed', reason: `paid online but the invoice is ${describeInvoice(invoice)}` };
  }
  if (invoice.residual.currency !== row.paidCurrency) {
    return { state: 'mismatch', reason: `invoice is now in ${invoice.residual.currency}` };
  }
  if (row.paidMinor !== null && invoice.residual.minor < row.paidMinor) {
    return {
      state: 'mismatch',
      reason: `invoice now has ${describeMoney(invoice.residual)} left to pay, less than the ${describeMoney(money(row.paidMinor, invoice.residual.currency, invoice.residual.decimals))} paid online`,
    };
  }
  return undefined;
}

/** How long an unpaid open link waits before the next poll: every pass at first, then less often. */
export function pollDelay(ageMs: number): number {
  const minute = 60_000;
  if (ageMs < 15 * minute) return 0;
  if (ageMs < 2 * 60 * minute) return 2 * minute;
  if (ageMs < 24 * 60 * minute) return 10 * minute;
  return 30 * minute;
}

export function describeInvoice(invoice: Invoice): string {
  if (invoice.state !== 'posted')
    return invoice.state === 'cancel' ? 'cancelled' : `in state ${invoice.state}`;
  if (invoice.paymentState === 'reversed') return 'reversed by a credit note';
  if (isSettled(invoice)) return `already ${invoice.paymentState.replace('_', ' ')}`;
  return `posted (${invoice.paymentState.replace('_', ' ')}, ${describeMoney(invoice.residual)} due)`;
}

/** Odoo's datetime text ('YYYY-MM-DD HH:MM:SS', UTC) for an instant. */
export function odooDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * The calendar day of an instant in a time zone ('YYYY-MM-DD'): a payment made at 00:30 in
 * Algiers is dated that day, not the day before as in UTC. Unknown zones fall back to UTC.
 */
export function dateInZone(ms: number, timeZone: string | null, onUnknown?: (zone: string) => void): string {
  if (timeZone) {
    try {
      return new Intl.DateTimeFormat('en-CA', {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
      }).format(new Date(ms));
    } catch {
      onUnknown?.(timeZone);
    }
  }
  return new Date(ms).toISOString().slice(0, 10);
}
