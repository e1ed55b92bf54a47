import type { LinkStatus } from '../../domain/gateway-status.js';
import { formatMinorAsDecimal, type Money, money, parseDecimalToMinor } from '../../domain/money.js';
import {
  type CloseOutcome,
  type Gateway,
  GatewayError,
  type GatewayLink,
  type GatewayPayment,
  type GatewayPaymentRecord,
  type LinkRequest,
  type LinkSnapshot,
} from '../gateway.js';
import { createMyTpeClient, type MyTpeClient } from './client.js';
import { MYTPE_GATEWAY_ID } from './errors.js';
import type { MyTpeLink, MyTpeTransaction } from './schemas.js';
import { slugFromReference } from './slug.js';
import { linkStatusFromMyTpe, paymentStatusFromMyTpe } from './status.js';
import { createMyTpeWebhooks } from './webhook-receiver.js';

export interface MyTpeGatewayOptions {
  /** v2 API base, e.g. `https://dev.mytpe.app/api/v2/mytpe-pay`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** The instance's `whsec_…` secret; without it the gateway takes no webhooks. */
  readonly webhookSecret?: string | undefined;
}

const CURRENCY = 'DZD';
const TITLE_MAX = 255;
const PER_PAGE = 50;
// Bounds every pagination loop: 100 pages × 50 is far beyond one invoice link's history.
const MAX_PAGES = 100;

function fail(kind: GatewayError['kind'], message: string): GatewayError {
  return new GatewayError(MYTPE_GATEWAY_ID, kind, message);
}

function minorOf(text: string, decimals: number, what: string): number {
  try {
    return parseDecimalToMinor(text, decimals);
  } catch {
    throw fail('protocol', `MyTPE sent an unreadable amount for ${what}: ${JSON.stringify(text)}`);
  }
}

function assertCurrency(currency: string): void {
  if (currency !== CURRENCY) {
    throw fail('validation', `MyTPE Pay charges only ${CURRENCY}; this amount is in ${currency}`);
  }
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function hasMorePages(
  page: { current_page: number; data: readonly unknown[]; last_page?: number | null; total?: number | null },
  perPage: number,
): boolean {
  if (page.data.length === 0) return false;
  if (page.last_page != null) return page.current_page < page.last_page;
  if (page.total != null) return page.current_page * perPage < page.total;
  return page.data.length >= perPage;
}

function isSlugTaken(error: unknown): boolean {
  if (!(error instanceof GatewayError) || error.kind !== 'validation') return false;
  const messages = error.details.fieldErrors?.slug ?? [];
  return messages.some((message) => /already been taken/i.test(message));
}

/** Laravel prints `2026-04-09T14:30:00.000000Z`; we hand on a plain ISO string when it parses. */
function isoTimestamp(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

/** A MyTPE transaction as our payment, its amount in minor units of the invoice currency. */
function paymentOf(transaction: MyTpeTransaction, currency: string, decimals: number): GatewayPayment {
  const occurredAt = isoTimestamp(transaction.updated_at ?? transaction.created_at);
  return {
    transactionId: transaction.id,
    status: paymentStatusFromMyTpe(transaction.status),
    amount: money(minorOf(transaction.amount, decimals, `transaction ${transaction.id}`), currency, decimals),
    ...(occurredAt === undefined ? {} : { occurredAt }),
  };
}

/**
 * Refines the link-level status with what its payments show: an attempt in progress, or money
 * that arrived without covering the amount (possible only on static or reusable links).
 */
function refineStatus(base: LinkStatus, amount: Money, payments: readonly GatewayPayment[]): LinkStatus {
  if (base !== 'open') return base;
  const completed = payments
    .filter((payment) => payment.status === 'completed')
    .reduce((sum, payment) => sum + payment.amount.minor, 0);
  if (completed > 0 && completed < amount.minor) return 'partially_paid';
  if (payments.some((payment) => payment.status === 'pending')) return 'pending';
  return base;
}

export function createMyTpeGateway(options: MyTpeGatewayOptions): Gateway {
  const client: MyTpeClient = createMyTpeClient(options);

  function linkAmount(link: MyTpeLink, currency: string, decimals: number): Money {
    if (link.amount == null) {
      throw fail('protocol', `MyTPE link ${link.id} has no fixed amount (type ${link.type ?? 'unknown'})`);
    }
    return money(minorOf(link.amount, decimals, `link ${link.id}`), currency, decimals);
  }

  function linkUrl(link: MyTpeLink): string {
    if (!link.payment_link) throw fail('protocol', `MyTPE link ${link.id} came without a payment_link`);
    return link.payment_link;
  }

  /** After "slug already taken": the link an earlier attempt created, if it is really ours. */
  async function adoptExisting(request: LinkRequest, slug: string): Promise<GatewayLink> {
    let foundId: string | undefined;
    for (let page = 1; page <= MAX_PAGES && foundId === undefined; page++) {
      const result = await client.listLinks(request.merchantAccount, {
        search: slug,
        perPage: PER_PAGE,
        page,
      });
      // `search` is a partial match on title and slug: only an exact slug counts.
      foundId = result.data.data.find((item) => item.slug === slug)?.id;
      if (!hasMorePages(result.data, PER_PAGE)) break;
    }
    if (foundId === undefined) {
      throw fail(
        'conflict',
        `MyTPE slug ${slug} is taken, but not by a link of instance ${request.merchantAccount}; use another reference`,
      );
    }
    const link = (await client.getLink(foundId)).data;
    const { decimals, currency } = request.amount;
    const existing = link.amount == null ? undefined : minorOf(link.amount, decimals, `link ${link.id}`);
    if (existing !== request.amount.minor) {
      throw fail(
        'conflict',
        `MyTPE link ${link.id} (slug ${slug}) already exists with amount ${link.amount ?? 'none'} ${currency}, ` +
          `not ${formatMinorAsDecimal(request.amount.minor, decimals)}; the invoice needs a new reference`,
      );
    }
    if (link.payment_mode != null && link.payment_mode !== 'one_shot') {
      throw fail('conflict', `MyTPE link ${link.id} (slug ${slug}) is ${link.payment_mode}, not one_shot`);
    }
    return { id: link.id, url: linkUrl(link), reference: request.reference, amount: request.amount };
  }

  async function allTransactions(linkId: string): Promise<MyTpeTransaction[]> {
    const byId = new Map<string, MyTpeTransaction>();
    for (let page = 1; page <= MAX_PAGES; page++) {
      const result = await client.listLinkTransactions(linkId, { perPage: PER_PAGE, page });
      // A payment landing between two pages shifts the list; keying by id drops the repeat.
      for (const transaction of result.data.data) byId.set(transaction.id, transaction);
      if (!hasMorePages(result.data, PER_PAGE)) break;
    }
    return [...byId.values()];
  }

  async function hasTransactions(link: MyTpeLink): Promise<boolean> {
    if ((link.successful_payments_count ?? 0) > 0) return true;
    const result = await client.listLinkTransactions(link.id, { perPage: 1, page: 1 });
    return result.data.data.length > 0 || (result.data.total ?? 0) > 0;
  }

  async function deactivate(linkId: string): Promise<CloseOutcome> {
    // Toggle flips: read the state right before, and only toggle an active link.
    const link = (await client.getLink(linkId)).data;
    if (link.status !== 'active') return 'already_closed';
    const toggled = (await client.toggleLinkStatus(linkId)).data;
    if (toggled.status !== 'inactive') {
      throw fail(
        'conflict',
        `MyTPE link ${linkId} is ${toggled.status} after toggle-status; expected inactive`,
      );
    }
    return 'deactivated';
  }

  return {
    webhooks: options.webhookSecret ? createMyTpeWebhooks(options.webhookSecret) : undefined,
    id: MYTPE_GATEWAY_ID,
    displayName: 'MyTPE Pay',
    currencies: [CURRENCY],

    async createLink(request: LinkRequest): Promise<GatewayLink> {
      assertCurrency(request.amount.currency);
      const slug = slugFromReference(request.reference);
      const { minor, decimals } = request.amount;
      const { invoice } = request;
      let created: MyTpeLink;
      try {
        const answer = await client.createLink({
          mytpe_pay_id: request.merchantAccount,
          title: truncate(`Invoice ${invoice.name}`, TITLE_MAX),
          details: `Invoice ${invoice.name} from ${invoice.companyName} to ${invoice.partnerName}`,
          type: 'dynamic',
          payment_mode: 'one_shot',
          amount: formatMinorAsDecimal(minor, decimals),
          slug,
          metadata: request.metadata,
          settings: { allow_anonymous: false },
        });
        created = answer.data;
      } catch (error) {
        // A retry after a lost answer: the first attempt's link holds the slug.
        if (isSlugTaken(error)) return adoptExisting(request, slug);
        throw error;
      }
      const answered =
        created.amount == null ? undefined : minorOf(created.amount, decimals, `link ${created.id}`);
      if (answered !== minor) {
        throw fail(
          'protocol',
          `MyTPE created link ${created.id} with amount ${created.amount ?? 'none'} instead of ` +
            `${formatMinorAsDecimal(minor, decimals)} ${request.amount.currency}`,
        );
      }
      return { id: created.id, url: linkUrl(created), reference: request.reference, amount: request.amount };
    },

    async getLink(linkId, amountCurrency): Promise<LinkSnapshot> {
      const { currency, decimals } = amountCurrency;
      assertCurrency(currency);
      const link = (await client.getLink(linkId)).data;
      const transactions = await allTransactions(linkId);
      const payments = transactions.map((transaction) => paymentOf(transaction, currency, decimals));
      const amount = linkAmount(link, currency, decimals);
      return {
        // MyTPE knows only the slug, not the reference it was derived from.
        link: { id: link.id, url: linkUrl(link), reference: link.slug, amount },
        status: refineStatus(linkStatusFromMyTpe(link), amount, payments),
        payments,
      };
    },

    async listPayments(window, amountCurrency): Promise<GatewayPaymentRecord[]> {
      const { currency, decimals } = amountCurrency;
      assertCurrency(currency);
      const since = window.since.getTime();
      const until = window.until.getTime();
      const payments: GatewayPaymentRecord[] = [];
      // transaction/recent lists newest first: page until a page starts before the window.
      for (let page = 1; page <= MAX_PAGES; page++) {
        const result = await client.recentTransactions({ perPage: PER_PAGE, page });
        let older = false;
        for (const transaction of result.data.data) {
          const created = isoTimestamp(transaction.created_at ?? transaction.updated_at);
          const at = created === undefined ? Number.NaN : Date.parse(created);
          if (at < since) older = true;
          if (!(at >= since && at < until) || !transaction.transactionable_id) continue;
          const slug = transaction.metadata?.original_slug;
          payments.push({
            ...paymentOf(transaction, currency, decimals),
            linkId: transaction.transactionable_id,
            linkReference: typeof slug === 'string' ? slug : undefined,
          });
        }
        if (older || !hasMorePages(result.data, PER_PAGE)) break;
      }
      return payments;
    },

    async closeLink(linkId: string): Promise<CloseOutcome> {
      let link: MyTpeLink;
      try {
        link = (await client.getLink(linkId)).data;
      } catch (error) {
        // Already deleted, e.g. by an earlier attempt that died before writing it down. MyTPE
        // deletes only links without any transaction, so nothing was ever paid on it.
        if (error instanceof GatewayError && error.kind === 'not_found') return 'deleted';
        throw error;
      }
      if (link.status !== 'active') return 'already_closed';
      if (await hasTransactions(link)) return deactivate(linkId);
      try {
        await client.deleteLink(linkId);
        return 'deleted';
      } catch (error) {
        if (!(error instanceof GatewayError)) throw error;
        // Gone between our read and the delete: deleted, so it had no transaction.
        if (error.kind === 'not_found') return 'deleted';
        // A transaction arrived after our check, so MyTPE refuses the delete: pause it instead.
        if (error.kind === 'validation' || error.kind === 'conflict' || error.kind === 'protocol') {
          return deactivate(linkId);
        }
        throw error;
      }
    },
  };
}
