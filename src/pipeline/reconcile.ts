import { describeMoney, type Money } from '../domain/money.js';
import { parseLinkReference } from '../domain/reference.js';
import { GatewayError, type GatewayPaymentRecord } from '../gateways/gateway.js';
import type { LinkRow } from '../store/links.js';
import type { PipelineDeps } from './deps.js';
import type { LinkSteps } from './steps.js';

/** What reconciliation can find when it compares the gateway with Odoo. */
export type DiscrepancyKind =
  | 'paid_not_registered' // paid at the gateway, no account.payment in Odoo yet
  | 'registered_unknown_to_gateway' // an account.payment of ours whose transaction the gateway does not know
  | 'amount_mismatch' // paid, but not the amount or currency of the invoice
  | 'payment_on_closed_invoice' // paid on an archived link, or for an invoice already settled
  | 'unknown_link'; // a payment on a link this daemon never created

export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  readonly gateway: string;
  readonly invoice: string | null;
  readonly invoiceId: number | null;
  readonly linkId: string;
  readonly transactionId: string | null;
  readonly amount: string | null;
  readonly detail: string;
  /** True when --fix resolved it. */
  readonly fixed: boolean;
}

export interface ReconcileReport {
  readonly since: string;
  readonly until: string;
  readonly gatewayPayments: number;
  readonly matched: number;
  /** Payments on links another deployment or shop made (same gateway account): not ours to check. */
  readonly notOurs: number;
  readonly discrepancies: readonly Discrepancy[];
  /** Discrepancies still open after the run. */
  readonly remaining: number;
  /** What this run could not check, per gateway, in words (a gateway whose API cannot list payments). */
  readonly limits: readonly string[];
}

/** How far a run is, for a progress line: payments seen at the gateways, checked, and registered by --fix. */
export interface ReconcileProgress {
  /** Links read one by one at a gateway that cannot list payments, of those to read. */
  readonly linksRead: number;
  readonly linksToRead: number;
  readonly checked: number;
  readonly total: number;
  readonly fixed: number;
}

export interface ReconcileOptions {
  readonly fix: boolean;
  /** Called after each payment is checked. */
  readonly onProgress?: (progress: ReconcileProgress) => void;
}

function amountText(amount: Money | null): string | null {
  return amount ? describeMoney(amount) : null;
}

/**
 * Compares every payment the gateways saw in the window with the links and Odoo's payments, and
 * with --fix registers what was paid but not registered, through the same steps as polling.
 */
export async function reconcile(
  deps: PipelineDeps,
  steps: LinkSteps,
  window: { since: Date; until: Date },
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const { links, ledger, companies } = deps;
  const progress = { linksRead: 0, linksToRead: 0, checked: 0, total: 0, fixed: 0 };
  const tell = () => options.onProgress?.({ ...progress });
  const discrepancies: Discrepancy[] = [];
  let gatewayPayments = 0;
  let matched = 0;
  let notOurs = 0;
  const limits: string[] = [];
  const prefix = deps.identity.prefix;
  const seenTransactions = new Set<string>();
  const gateways = new Map(companies.map((company) => [company.gateway.id, company.gateway]));
  const toVerify: Array<{
    row: LinkRow;
    memos: readonly string[];
    entry: Omit<Discrepancy, 'kind' | 'detail' | 'fixed'>;
  }> = [];

  for (const gateway of gateways.values()) {
    const currencies = new Map<string, number>();
    for (const currency of gateway.currencies) currencies.set(currency, decimalsOf(deps, currency));
    const accounts = [
      ...new Set(
        companies.filter((company) => company.gateway === gateway).map((company) => company.merchantAccount),
      ),
    ];
    const payments: GatewayPaymentRecord[] = [];
    if (gateway.listPayments) {
      for (const [currency, decimals] of currencies)
        payments.push(...(await gateway.listPayments(window, { currency, decimals }, accounts)));
    } else {
      const rows = links.checkableBetween(gateway.id, window.since.getTime(), window.until.getTime());
      progress.linksToRead += rows.length;
      payments.push(
        ...(await paymentsOfLinks(deps, steps, rows, () => {
          progress.linksRead++;
          tell();
        })),
      );
      limits.push(
        `${gateway.displayName} cannot list payments: the ${rows.length} links of the window were read one by one, so a payment on a link the state store does not know cannot be seen${gateway.reconcileBlindSpot ? `; ${gateway.reconcileBlindSpot}` : ''}`,
      );
    }
    progress.total += payments.filter((payment) => payment.status === 'completed').length;
    for (const payment of payments) {
      if (payment.status !== 'completed') continue;
      progress.checked++;
      tell();
      gatewayPayments++;
      seenTransactions.add(`${gateway.id}:${payment.transactionId}`);
      const row =
        links.byTransaction(gateway.id, payment.transactionId) ?? links.byLinkId(gateway.id, payment.linkId);
      const base = {
        gateway: gateway.id,
        linkId: payment.linkId,
        transactionId: payment.transactionId,
        amount: amountText(payment.amount),
      };
      if (!row) {
        // Only a link under our reference prefix is ours: a shop or another deployment on the
        // same gateway account is not a discrepancy of this database.
        const ours = payment.linkReference ? parseLinkReference(prefix, payment.linkReference) : undefined;
        if (!ours) {
          notOurs++;
          continue;
        }
        discrepancies.push({
          ...base,
          kind: 'unknown_link',
          invoice: null,
          invoiceId: ours.invoiceId,
          detail: `a link of this database (invoice ${ours.invoiceId}) that the state store does not know: run "odoo-paylink rebuild"`,
          fixed: false,
        });
        continue;
      }
      const where = { invoice: row.invoiceName, invoiceId: row.invoiceId };
      if (row.state === 'registered' && row.transactionId !== payment.transactionId) {
        discrepancies.push({
          ...base,
          ...where,
          kind: 'payment_on_closed_invoice',
          detail: `a second payment on a link already registered with transaction ${row.transactionId}`,
          fixed: false,
        });
        continue;
      }
      if (row.state === 'registered') {
        // Checked against Odoo below, in one query per company.
        toVerify.push({
          row,
          memos: [`${gateway.memoPrefix} ${payment.transactionId}`, payment.transactionId],
          entry: { ...base, ...where },
        });
        continue;
      }
      const after = options.fix ? await fixRow(steps, links.byId(row.id) ?? row) : row;
      const found = classify(after, row, base, where, options.fix);
      discrepancies.push(found);
      if (found.fixed) progress.fixed++;
    }
  }

  for (const companyId of new Set(toVerify.map((item) => item.row.companyId))) {
    const items = toVerify.filter((item) => item.row.companyId === companyId);
    const payments = await ledger.paymentsByMemo(
      companyId,
      items.flatMap((item) => item.memos),
    );
    for (const item of items) {
      // The payment must be this invoice's, not merely one carrying the memo.
      const found = payments.some(
        (payment) =>
          item.memos.includes(payment.memo) &&
          (payment.invoiceIds.includes(item.row.invoiceId) || payment.id === item.row.odooPaymentId),
      );
      if (found) matched++;
      else {
        discrepancies.push({
          ...item.entry,
          kind: 'paid_not_registered',
          detail: `recorded as registered, but Odoo has no payment of invoice ${item.row.invoiceName} with this memo (deleted or cancelled?)`,
          fixed: false,
        });
      }
    }
  }

  // Payments we registered whose transaction the gateway did not list in the window: ask the link.
  for (const row of links.registeredBetween(window.since.getTime(), window.until.getTime())) {
    if (!row.transactionId || !row.linkId || seenTransactions.has(`${row.gateway}:${row.transactionId}`))
      continue;
    const gateway = gateways.get(row.gateway);
    if (!gateway) continue;
    const route = companies.find((company) => company.companyId === row.companyId);
    if (!route) continue;
    const snapshot = await gateway
      .getLink(
        row.linkId,
        { currency: row.amount.currency, decimals: row.amount.decimals },
        steps.linkContext(route, row, row.linkId),
      )
      .catch(() => undefined);
    const known = snapshot?.payments.some(
      (payment) => payment.transactionId === row.transactionId && payment.status === 'completed',
    );
    if (known) {
      matched++;
      continue;
    }
    discrepancies.push({
      kind: 'registered_unknown_to_gateway',
      gateway: row.gateway,
      invoice: row.invoiceName,
      invoiceId: row.invoiceId,
      linkId: row.linkId,
      transactionId: row.transactionId,
      amount:
        row.paidMinor === null || row.paidCurrency === null
          ? null
          : describeMoney({
              minor: row.paidMinor,
              currency: row.paidCurrency,
              decimals: row.amount.decimals,
            }),
      detail: `Odoo payment ${row.odooPaymentId ?? '?'} carries a transaction the gateway does not report as completed`,
      fixed: false,
    });
  }

  return {
    since: window.since.toISOString(),
    until: window.until.toISOString(),
    gatewayPayments,
    matched,
    notOurs,
    discrepancies,
    remaining: discrepancies.filter((discrepancy) => !discrepancy.fixed).length,
    limits,
  };
}

/** The payments on each of these links, as the gateway reports them now (links it no longer has are skipped). */
async function paymentsOfLinks(
  deps: PipelineDeps,
  steps: LinkSteps,
  rows: readonly LinkRow[],
  onRead: () => void,
): Promise<GatewayPaymentRecord[]> {
  const payments: GatewayPaymentRecord[] = [];
  for (const row of rows) {
    onRead();
    const route = deps.companies.find((company) => company.companyId === row.companyId);
    if (!route || !row.linkId) continue;
    const linkId = row.linkId;
    try {
      const snapshot = await route.gateway.getLink(
        linkId,
        { currency: row.amount.currency, decimals: row.amount.decimals },
        steps.linkContext(route, row, linkId),
      );
      for (const payment of snapshot.payments)
        payments.push({ ...payment, linkId, linkReference: row.reference });
    } catch (error) {
      if (error instanceof GatewayError && error.kind === 'not_found') continue;
      throw error;
    }
  }
  return payments;
}

async function fixRow(steps: LinkSteps, row: LinkRow): Promise<LinkRow> {
  await steps.advance(row, { recheck: true });
  return steps.reload(row);
}

function classify(
  after: LinkRow,
  before: LinkRow,
  base: { gateway: string; linkId: string; transactionId: string; amount: string | null },
  where: { invoice: string; invoiceId: number },
  fixing: boolean,
): Discrepancy {
  const reason = after.stateReason ?? after.lastError ?? '';
  switch (after.state) {
    case 'registered':
      return {
        ...base,
        ...where,
        kind: 'paid_not_registered',
        detail: `registered as Odoo payment ${after.odooPaymentId}`,
        fixed: fixing && before.state !== 'registered',
      };
    case 'mismatch':
      return { ...base, ...where, kind: 'amount_mismatch', detail: reason, fixed: false };
    case 'refund_needed':
    case 'closed':
    case 'closing':
    case 'expired':
      return {
        ...base,
        ...where,
        kind: 'payment_on_closed_invoice',
        detail: reason || `link is ${after.state}`,
        fixed: false,
      };
    default:
      return {
        ...base,
        ...where,
        kind: 'paid_not_registered',
        detail: fixing
          ? `still ${after.state}: ${reason || 'will be retried'}`
          : `link is ${after.state}; run with --fix to register it`,
        fixed: false,
      };
  }
}

function decimalsOf(deps: PipelineDeps, currency: string): number {
  return deps.links.decimalsOf(currency) ?? 2;
}
