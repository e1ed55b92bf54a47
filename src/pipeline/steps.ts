import type { LinkStatus } from '../domain/gateway-status.js';
import { type Invoice, isPayable, isSettled } from '../domain/invoice.js';
import type { LinkState } from '../domain/link-state.js';
import { describeMoney, money } from '../domain/money.js';
import { linkReference } from '../domain/reference.js';
import type { GatewayPayment, LinkSnapshot } from '../gateways/gateway.js';
import type { LinkPatch, LinkRow } from '../store/links.js';
import type { CompanyRoute, PipelineDeps } from './deps.js';
import { type Note, notes } from './notes.js';
import { backoffDelay, classifyFailure } from './retry.js';

export type StepOutcome =
  | 'created'
  | 'written_back'
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
}

export class HaltError extends Error {
  override name = 'HaltError';
}

/**
 * Moves one link through its states. Each state names the side effect still owed; the step
 * performs it (idempotently) and commits the next state, so a crash anywhere is finished by the
 * next pass. All confirmations (poll, webhook, reconcile) end in applySnapshot.
 */
export class LinkSteps {
  constructor(private readonly deps: PipelineDeps) {}

  /** The row as stored now. */
  reload(row: LinkRow): LinkRow {
    return this.deps.links.byId(row.id) ?? row;
  }

  route(companyId: number): CompanyRoute | undefined {
    return this.deps.companies.find((company) => company.companyId === companyId);
  }

  /**
   * Commits a transition and, in the same transaction, the chatter note that reports it, so the
   * accountant is told once, whatever crashes or retries.
   */
  private commit(
    row: LinkRow,
    to: LinkState,
    patch: LinkPatch,
    note?: Note,
    from?: readonly LinkState[],
  ): LinkRow | undefined {
    const { db, links, notes: noteStore, now } = this.deps;
    return db
      .transaction(() => {
        const next = links.transition(row.id, to, patch, now(), from);
        if (next && note) {
          noteStore.enqueue(
            {
              linkRowId: row.id,
              companyId: row.companyId,
              invoiceId: row.invoiceId,
              kind: note.kind,
              body: note.body,
            },
            now(),
          );
        }
        return next;
      })
      .immediate();
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
    try {
      return await this.run(claimed, hint ?? {});
    } catch (error) {
      // A halt stops the whole pass; anything else is this link's failure.
      if (error instanceof HaltError) throw error;
      return [this.fail(claimed, error)];
    } finally {
      links.release(row.id, owner);
    }
  }

  private async run(row: LinkRow, hint: StepHint): Promise<StepOutcome[]> {
    let current: LinkRow | undefined = row;
    const outcomes: StepOutcome[] = [];
    // Chain the steps while each one succeeds: a new link is written back in the same pass, a
    // paid link is registered as soon as it is seen paid.
    for (let step = 0; current && step < 4; step++) {
      const before = current.state;
      let result: { outcome: StepOutcome; row?: LinkRow | undefined };
      try {
        result = await this.step(current, hint);
      } catch (error) {
        outcomes.push(this.fail(current, error));
        break;
      }
      if (result.outcome !== 'unchanged') outcomes.push(result.outcome);
      if (!result.row || result.row.state === before) break;
      current = result.row;
      // A link that expired, or was archived because the amount due changed, is replaced while
      // the invoice can still be paid. A link closed at the gateway by the merchant is not.
      if (
        result.outcome === 'expired' ||
        (result.outcome === 'closed' && hint.invoice && before === 'closing')
      ) {
        await this.replace(current, hint.invoice);
      }
      // A recheck was for the first step only; the next steps read what they need afresh.
      hint = { ...(hint.invoice ? { invoice: hint.invoice } : {}) };
    }
    return outcomes;
  }

  private async step(
    row: LinkRow,
    hint: StepHint,
  ): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    switch (row.state) {
      case 'creating':
        return this.create(row, hint.invoice);
      case 'writing_back':
        return this.writeBack(row);
      case 'open': {
        const snapshot = await this.snapshot(row);
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
      case 'expired':
        // Only on a hint that money may have arrived (webhook, reconcile): is it on this link?
        if (!hint.recheck || !row.linkId) return { outcome: 'unchanged' };
        return this.applySnapshot(row, await this.snapshot(row));
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

  /** Gives the invoice of a finished link a new one (next sequence) when it can still be paid. */
  private async replace(expired: LinkRow, hinted?: Invoice): Promise<void> {
    const { links, now, settings, log } = this.deps;
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
    if (!invoice || !isPayable(invoice)) return;
    const route = this.gatewayFor(expired);
    if (!route.gateway.currencies.includes(invoice.residual.currency)) return;
    const replacement = links.insertCreating(
      {
        gateway: route.gateway.id,
        companyId: expired.companyId,
        invoiceId: invoice.id,
        invoiceName: invoice.name,
        amount: invoice.residual,
        reference: (sequence) => linkReference(settings.database, invoice.id, sequence),
      },
      now(),
    );
    if (!replacement) return;
    log.info(`replacing the ${expired.state} payment link of invoice ${invoice.name}`, {
      invoice: invoice.name,
      reference: replacement.reference,
    });
    await this.advance(replacement, { invoice });
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

  private async create(
    row: LinkRow,
    hinted?: Invoice,
  ): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    const { links, now, log } = this.deps;
    const route = this.gatewayFor(row);
    const invoice = hinted ?? (await this.invoiceFor(row));
    if (!invoice || !isPayable(invoice) || invoice.residual.minor !== row.amount.minor) {
      // Nothing was shown to the customer yet; the link (if an earlier attempt made one) is closed.
      const reason = invoice
        ? `invoice is ${describeInvoice(invoice)} before its link was published`
        : 'invoice no longer exists';
      const next = links.transition(row.id, 'closing', { stateReason: reason }, now());
      return { outcome: 'unchanged', row: next };
    }
    const link = await route.gateway.createLink({
      reference: row.reference,
      merchantAccount: route.merchantAccount,
      amount: row.amount,
      invoice: {
        odooId: invoice.id,
        name: invoice.name,
        companyName: invoice.companyName,
        partnerName: invoice.partner?.name ?? '',
        partnerEmail: invoice.partner?.email ?? undefined,
      },
      metadata: {
        odoo_db: this.deps.settings.database,
        invoice_id: String(invoice.id),
        invoice: invoice.name,
      },
    });
    // Read before the transaction, which cannot wait for Odoo (cached per company).
    const company = this.deps.hooks?.onLinkCreated
      ? await this.deps.ledger.companyContact(row.companyId)
      : undefined;
    const next = this.deps.db
      .transaction(() => {
        const updated = links.transition(
          row.id,
          'writing_back',
          { linkId: link.id, linkUrl: link.url },
          now(),
        );
        if (updated && company) this.deps.hooks?.onLinkCreated?.(updated, { invoice, company });
        return updated;
      })
      .immediate();
    log.info(`created ${route.gateway.displayName} link for invoice ${row.invoiceName}`, {
      invoice: row.invoiceName,
      invoiceId: row.invoiceId,
      link: link.id,
      amount: describeMoney(row.amount),
    });
    return { outcome: 'created', row: next };
  }

  private async writeBack(row: LinkRow): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    const { ledger, log } = this.deps;
    if (!row.linkId || !row.linkUrl) throw new Error(`link row ${row.id} is writing_back without a link`);
    await ledger.writeLink(
      { id: row.invoiceId, companyId: row.companyId },
      { id: row.linkId, url: row.linkUrl },
    );
    const next = this.commit(
      row,
      'open',
      {},
      notes.linkCreated(this.gatewayName(row), row.linkUrl, row.amount),
    );
    log.info(`invoice ${row.invoiceName} now shows its payment link`, {
      invoice: row.invoiceName,
      url: row.linkUrl,
    });
    return { outcome: 'written_back', row: next };
  }

  private async snapshot(row: LinkRow): Promise<LinkSnapshot> {
    if (!row.linkId) throw new Error(`link row ${row.id} is ${row.state} without a link id`);
    return this.gatewayFor(row).gateway.getLink(row.linkId, {
      currency: row.amount.currency,
      decimals: row.amount.decimals,
    });
  }

  /**
   * Decides what a gateway snapshot means for the link and commits it. The one entry point for
   * every confirmation source; repeated snapshots are no-ops.
   */
  async applySnapshot(
    row: LinkRow,
    snapshot: LinkSnapshot,
  ): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    const { links, now, log } = this.deps;
    const completed = snapshot.payments.filter((payment) => payment.status === 'completed');
    if (completed.length === 0) return this.applyUnpaid(row, snapshot.status);
    const payment = completed[0]!;
    const paid = {
      transactionId: payment.transactionId,
      paidMinor: payment.amount.minor,
      paidCurrency: payment.amount.currency,
    };
    if (row.state === 'closing' || row.state === 'closed' || row.state === 'expired') {
      // Money on a link we archived (or that expired): never lost, never registered blindly.
      const reason =
        row.state === 'expired'
          ? 'the payment arrived on a link that had expired and was replaced'
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
    if (row.state !== 'open' && row.state !== 'writing_back') return { outcome: 'unchanged' };
    const problem = paymentProblem(row, completed);
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

  private applyUnpaid(row: LinkRow, status: LinkStatus): { outcome: StepOutcome; row?: LinkRow | undefined } {
    const { log } = this.deps;
    if (row.state !== 'open' && row.state !== 'writing_back') return { outcome: 'unchanged' };
    switch (status) {
      case 'expired': {
        const next = this.commit(
          row,
          'expired',
          { stateReason: 'the gateway closed the link unpaid' },
          notes.expired(this.gatewayName(row)),
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
   * Registers the payment in Odoo exactly once: the gateway transaction id is the payment's memo,
   * and an existing payment with that memo is adopted instead of creating another.
   */
  private async register(row: LinkRow): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    const { now, ledger, log } = this.deps;
    const route = this.gatewayFor(row);
    if (!row.transactionId || row.paidMinor === null || row.paidCurrency === null) {
      throw new Error(`link row ${row.id} is paid without a transaction`);
    }
    const amount = money(row.paidMinor, row.paidCurrency, row.amount.decimals);
    const existing = await ledger.findPaymentByMemo(row.companyId, row.transactionId);
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
    const invoice = await this.invoiceFor(row);
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
    const paymentId = await ledger.registerPayment(
      { id: row.invoiceId, companyId: row.companyId },
      { journalId: route.journalId, amount, date: utcDate(now()), memo: row.transactionId },
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

  private async close(row: LinkRow): Promise<{ outcome: StepOutcome; row?: LinkRow | undefined }> {
    const { log } = this.deps;
    const route = this.gatewayFor(row);
    let linkId = row.linkId;
    if (!linkId) {
      // An earlier attempt may have created the link before crashing: createLink finds it by
      // reference (or makes it), so it can be closed for sure.
      const invoice = await this.invoiceFor(row);
      const link = await route.gateway.createLink({
        reference: row.reference,
        merchantAccount: route.merchantAccount,
        amount: row.amount,
        invoice: {
          odooId: row.invoiceId,
          name: row.invoiceName,
          companyName: invoice?.companyName ?? '',
          partnerName: invoice?.partner?.name ?? '',
        },
        metadata: {
          odoo_db: this.deps.settings.database,
          invoice_id: String(row.invoiceId),
          invoice: row.invoiceName,
        },
      });
      linkId = link.id;
    }
    const outcome = await route.gateway.closeLink(linkId);
    if (outcome !== 'deleted') {
      // A payment that landed before the link went down is not lost: it needs a refund. (A
      // deleted link had no transaction at all.)
      const snapshot = await route.gateway.getLink(linkId, {
        currency: row.amount.currency,
        decimals: row.amount.decimals,
      });
      if (snapshot.payments.some((payment) => payment.status === 'completed')) {
        return this.applySnapshot({ ...row, linkId }, snapshot);
      }
    }
    // The invoice no longer shows a link nobody can pay (a replacement writes its own).
    await this.deps.ledger.clearLink({ id: row.invoiceId, companyId: row.companyId });
    const reason = row.stateReason ?? 'the invoice changed';
    const next = this.commit(row, 'closed', { linkId }, notes.closed(route.gateway.displayName, reason));
    log.info(`closed payment link of invoice ${row.invoiceName} (${outcome}): ${row.stateReason ?? ''}`, {
      invoice: row.invoiceName,
      link: linkId,
    });
    return { outcome: 'closed', row: next };
  }

  private fail(row: LinkRow, error: unknown): StepOutcome {
    const { links, now, log, settings } = this.deps;
    const failure = classifyFailure(error);
    const context = {
      invoice: row.invoiceName,
      invoiceId: row.invoiceId,
      state: row.state,
      attempt: row.attempts + 1,
    };
    if (failure.kind === 'halt') throw new HaltError(failure.message, { cause: error });
    const giveUp =
      failure.kind === 'permanent' && (row.state === 'creating' || row.attempts + 1 >= settings.maxAttempts);
    if (giveUp) {
      const note =
        row.state === 'creating' ? notes.creationRefused(this.gatewayName(row), failure.message) : undefined;
      this.commit(row, 'failed', { stateReason: failure.message, failedStep: row.state }, note, [row.state]);
      links.recordFailure(row.id, failure.message, 0, now());
      log.error(
        `gave up on invoice ${row.invoiceName} at step ${row.state}: ${failure.message}; a person must look at it`,
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
}

function paymentProblem(row: LinkRow, completed: readonly GatewayPayment[]): string | undefined {
  if (completed.length > 1) return `${completed.length} completed payments on a one-time link`;
  const payment = completed[0]!;
  if (payment.amount.currency !== row.amount.currency) {
    return `paid in ${payment.amount.currency}, invoice is in ${row.amount.currency}`;
  }
  if (payment.amount.minor !== row.amount.minor) {
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

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
