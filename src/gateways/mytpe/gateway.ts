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
  linkMatchesRequest,
} from '../gateway.js';
import { createMyTpeClient, type MyTpeClient } from './client.js';
import { MYTPE_GATEWAY_ID } from './errors.js';
import type { MyTpeLink, MyTpeTransaction } from './schemas.js';
import { slugFromReference } from './slug.js';
import { linkStatusFromMyTpe, paymentStatusFromMyTpe } from './status.js';
import { createMyTpeWebhooks, type MyTpeWebhookSecrets } from './webhook-receiver.js';

export interface MyTpeGatewayOptions {
  /** v2 API base, e.g. `https://dev.mytpe.app/api/v2/mytpe-pay`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly timeoutMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  /** The instances' `whsec_…` secrets; without any, the gateway takes no webhooks. */
  readonly webhookSecrets?: MyTpeWebhookSecrets | undefined;
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

/** A refusal naming only the instance (not active yet, or paused): the merchant can fix it. */
function isInstanceInactive(error: unknown): error is GatewayError {
  if (!(error instanceof GatewayError) || error.kind !== 'validation') return false;
  const fields = error.details.fieldErrors ?? {};
  const names = Object.keys(fields);
  return names.length === 1 && (fields.mytpe_pay_id ?? []).some((message) => /not active/i.test(message));
}

/** MyTPE metadata values as text (it stores form strings; numbers are written back as such). */
function textMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value === 'string' || typeof value === 'number') out[key] = String(value);
  }
  return out;
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

  /** The link under `slug` in the request's instance, if any (search is a partial match). */
  async function linkBySlug(instanceId: string, slug: string): Promise<MyTpeLink | undefined> {
    let foundId: string | undefined;
    for (let page = 1; page <= MAX_PAGES && foundId === undefined; page++) {
      const result = await client.listLinks(instanceId, { search: slug, perPage: PER_PAGE, page });
      // `search` is a partial match on title and slug: only an exact slug counts.
      foundId = result.data.data.find((item) => item.slug === slug)?.id;
      if (!hasMorePages(result.data, PER_PAGE)) break;
    }
    if (foundId === undefined) return undefined;
    try {
      return (await client.getLink(foundId)).data;
    } catch (error) {
      // Deleted between the list and the read.
      if (error instanceof GatewayError && error.kind === 'not_found') return undefined;
      throw error;
    }
  }

  function asGatewayLink(link: MyTpeLink, reference: string, amount: Money): GatewayLink {
    return {
      id: link.id,
      url: linkUrl(link),
      reference,
      amount,
      ...(link.mytpe_pay_id ? { merchantAccount: link.mytpe_pay_id } : {}),
      ...(link.metadata ? { metadata: textMetadata(link.metadata) } : {}),
    };
  }

  /** A link found under our slug, as ours only if it is what the request asks for. */
  function ownLink(link: MyTpeLink, request: LinkRequest): { link: GatewayLink } | { refusal: string } {
    const { decimals, currency } = request.amount;
    if (link.amount == null) return { refusal: 'it has no fixed amount' };
    if (link.payment_mode != null && link.payment_mode !== 'one_shot')
      return { refusal: `it is ${link.payment_mode}, not one_shot` };
    const found = asGatewayLink(
      link,
      request.reference,
      money(minorOf(link.amount, decimals, `link ${link.id}`), currency, decimals),
    );
    const refusal = linkMatchesRequest(found, request);
    return refusal ? { refusal } : { link: found };
  }

  /** After "slug already taken": the link an earlier attempt created, if it is really ours. */
  async function adoptExisting(request: LinkRequest, slug: string): Promise<GatewayLink> {
    const link = await linkBySlug(request.merchantAccount, slug);
    if (!link) {
      throw fail(
        'conflict',
        `MyTPE slug ${slug} is taken, but not by a link of instance ${request.merchantAccount}; another deployment uses the same reference prefix (set odoo.referencePrefix to one of its own)`,
      );
    }
    const own = ownLink(link, request);
    if ('refusal' in own) {
      throw fail(
        'conflict',
        `MyTPE link ${link.id} under slug ${slug} is not this invoice's link (${own.refusal}); it was left alone`,
      );
    }
    return { ...own.link, adopted: true };
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
    webhooks:
      options.webhookSecrets &&
      (options.webhookSecrets.shared || Object.keys(options.webhookSecrets.byInstance).length > 0)
        ? createMyTpeWebhooks(options.webhookSecrets)
        : undefined,
    webhookSetup: {
      regenerates: true,
      secretKey: (instanceId) => `gateways.mytpe.webhookSecrets.${instanceId}`,
      async register(instanceId, url, { regenerate }) {
        let answer = await client.setWebhook(instanceId, url);
        if (regenerate) answer = await client.regenerateWebhookSecret(instanceId);
        const secret = answer.data.webhook_secret;
        // MyTPE shows the whole secret once (first PUT, regenerate); later it is masked.
        return { secret: secret && !secret.includes('•') && !secret.includes('*') ? secret : undefined };
      },
    },
    id: MYTPE_GATEWAY_ID,
    displayName: 'MyTPE Pay',
    linkLifetimeMs: 48 * 3_600_000,
    renewal: 'on_expiry',
    currencies: [CURRENCY],
    memoPrefix: 'MyTPE',

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
        if (isInstanceInactive(error)) {
          throw new GatewayError(
            MYTPE_GATEWAY_ID,
            'unavailable',
            `MyTPE instance ${request.merchantAccount} cannot take payments now: ${error.message}`,
            error.details,
          );
        }
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
      return asGatewayLink(created, request.reference, request.amount);
    },

    async findLink(request: LinkRequest): Promise<GatewayLink | undefined> {
      assertCurrency(request.amount.currency);
      const link = await linkBySlug(request.merchantAccount, slugFromReference(request.reference));
      if (!link) return undefined;
      const own = ownLink(link, request);
      return 'link' in own ? own.link : undefined;
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
        link: asGatewayLink(link, link.slug, amount),
        status: refineStatus(linkStatusFromMyTpe(link), amount, payments),
        payments,
      };
    },

    async listPayments(window, amountCurrency, merchantAccounts): Promise<GatewayPaymentRecord[]> {
      const { currency, decimals } = amountCurrency;
      assertCurrency(currency);
      const since = window.since.getTime();
      const until = window.until.getTime();
      const accounts = new Set(merchantAccounts);
      // transaction/recent spans every instance of the API key, and its items do not say which:
      // the link does (read once per link).
      const linkAccounts = new Map<string, Promise<string | undefined>>();
      const accountOf = (linkId: string) => {
        let account = linkAccounts.get(linkId);
        if (!account) {
          account = client.getLink(linkId).then(
            (answer) => answer.data.mytpe_pay_id ?? undefined,
            (error: unknown) => {
              // A deleted link has no transaction; any other failure is the run's failure.
              if (error instanceof GatewayError && error.kind === 'not_found') return undefined;
              throw error;
            },
          );
          linkAccounts.set(linkId, account);
        }
        return account;
      };
      const byId = new Map<string, GatewayPaymentRecord>();
      // transaction/recent lists newest first: page until a page starts before the window.
      for (let page = 1; page <= MAX_PAGES; page++) {
        const result = await client.recentTransactions({ perPage: PER_PAGE, page });
        let older = false;
        for (const transaction of result.data.data) {
          const created = isoTimestamp(transaction.created_at ?? transaction.updated_at);
          const at = created === undefined ? Number.NaN : Date.parse(created);
          if (at < since) older = true;
          const linkId = transaction.transactionable_id;
          // A payment landing while we page shifts the list: keying by id drops the repeat.
          if (!(at >= since && at < until) || !linkId || byId.has(transaction.id)) continue;
          const account = await accountOf(linkId);
          if (account === undefined || !accounts.has(account)) continue;
          const slug = transaction.metadata?.original_slug;
          byId.set(transaction.id, {
            ...paymentOf(transaction, currency, decimals),
            linkId,
            linkReference: typeof slug === 'string' ? slug : undefined,
          });
        }
        if (older || !hasMorePages(result.data, PER_PAGE)) break;
      }
      return [...byId.values()];
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
