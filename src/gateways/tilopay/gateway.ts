import { z } from 'zod';
import { assertUnreachable, type LinkStatus } from '../../domain/gateway-status.js';
import { describeMoney, type Money, money, parseDecimalToMinor } from '../../domain/money.js';
import {
  type CloseOutcome,
  type Gateway,
  GatewayError,
  type GatewayEvent,
  type GatewayLink,
  type GatewayPayment,
  type GatewayWebhooks,
  type LinkContext,
  type LinkPointer,
  type LinkRecord,
  type LinkRequest,
  type LinkSnapshot,
  linkMatchesRequest,
  type WebhookDelivery,
  type WebhookVerdict,
} from '../gateway.js';
import { TiloPayAmountError, tiloPayAmountText } from './amount.js';
import {
  createTiloPayClient,
  TILOPAY_DEFAULT_BASE_URL,
  type TiloPayAttempt,
  type TiloPayBillTo,
  type TiloPayClient,
} from './client.js';
import { TILOPAY_GATEWAY_ID } from './errors.js';
import {
  parseTiloPayWebhook,
  type TiloPayCredentials,
  type TiloPayStoredOrder,
  verifyOrderHash,
  verifyTiloPayRedirect,
  verifyTiloPayWebhook,
  webhookNoticeId,
} from './signature.js';
import {
  orderStatusFromAttempts,
  outcomeFromRedirect,
  outcomeFromTiloPayCode,
  paymentStatusFromTiloPay,
  type TiloPayOrderStatus,
} from './status.js';

/**
 * TiloPay behind the pipeline's Gateway interface (spec: shared/gateways/tilopay.md). A link is
 * one processPayment hosted page under its own orderNumber (`<reference>-<attempt>`); /consult
 * on that orderNumber is the source of truth. The customer's redirect and the server-to-server
 * notice are accepted only when their OrderHash V2 verifies against what we sent, which only our
 * record (GatewayLink.context) holds.
 */

export interface TiloPayGatewayOptions {
  readonly baseUrl?: string | undefined; // default TILOPAY_DEFAULT_BASE_URL
  readonly timeoutMs?: number | undefined;
  /** Credentials by merchant account name (LinkRequest.merchantAccount / LinkContext.merchantAccount). */
  readonly accounts: Readonly<
    Record<string, { readonly apiKey: string; readonly apiUser: string; readonly apiPassword: string }>
  >;
  /** Default ['CRC', 'USD']. */
  readonly currencies?: readonly string[] | undefined;
  /** How long a hosted page is offered before the link counts as expired (ours; TiloPay documents none). Default 2 h. */
  readonly orderTtlMs?: number | undefined;
  readonly fetch?: typeof fetch | undefined;
  readonly now?: (() => number) | undefined;
}

const DEFAULT_CURRENCIES = ['CRC', 'USD'] as const;
const DEFAULT_ORDER_TTL_MS = 2 * 3_600_000;
/** TiloPay's wire amounts have two decimals (spec §3); a foreign currency is read at that scale. */
const WIRE_DECIMALS = 2;
/** Names are "Requerido" (spec §3); integrations send a placeholder when Odoo has none. */
const NAME_PLACEHOLDER = 'N/A';

function fail(kind: GatewayError['kind'], message: string): GatewayError {
  return new GatewayError(TILOPAY_GATEWAY_ID, kind, message);
}

/**
 * What the OrderHash of a later redirect or notice covers and TiloPay cannot tell us again:
 * the email, amount text and currency exactly as sent, and the orderNumber. The url rides along
 * so a snapshot can name the page. Versioned: a record written by another release is refused,
 * not misread.
 */
const orderContextSchema = z.object({
  v: z.literal(1),
  orderNumber: z.string().min(1),
  email: z.string().min(1),
  amount: z.string().regex(/^\d+\.\d{2}$/),
  currency: z.string().regex(/^[A-Z]{3}$/),
  url: z.string(),
});
type OrderContext = Omit<z.output<typeof orderContextSchema>, 'v'>;

function orderContextText(order: OrderContext): string {
  return JSON.stringify({ v: 1, ...order });
}

function orderContextOf(text: string | undefined): OrderContext | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = orderContextSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const { v: _version, ...order } = parsed.data;
    return order;
  } catch {
    return undefined;
  }
}

/** One try at a link is its own order: TiloPay has no idempotency and cannot be searched (§9). */
function orderNumberOf(request: Pick<LinkRequest, 'reference' | 'attempt'>): string {
  if (!Number.isSafeInteger(request.attempt) || request.attempt < 1)
    throw fail('validation', `attempt must be a positive integer, got ${request.attempt}`);
  return `${request.reference}-${request.attempt}`;
}

/** The reference of one of our orderNumbers (`<reference>-<attempt>`), for a link read without a record. */
function referenceOfOrderNumber(orderNumber: string): string {
  return orderNumber.replace(/-\d+$/, '');
}

/** First word, then the rest; placeholders where Odoo has nothing. */
function splitName(name: string): { firstName: string; lastName: string } {
  const words = name.trim().split(/\s+/).filter(Boolean);
  const [first, ...rest] = words;
  return { firstName: first ?? NAME_PLACEHOLDER, lastName: rest.join(' ') || NAME_PLACEHOLDER };
}

/** TiloPay's pages speak Spanish and English; other languages get TiloPay's default. */
function tiloPayLang(partnerLang: string | undefined): string | undefined {
  const base = partnerLang?.toLowerCase().split(/[_-]/)[0];
  return base === 'es' || base === 'en' ? base : undefined;
}

/**
 * An attempt's amount exactly as TiloPay reports it, never rounded: "150.004" is not 150.00. In
 * the link's currency it takes the link's decimals, in another TiloPay's two.
 */
function reportedMoney(attempt: Pick<TiloPayAttempt, 'amount' | 'currency'>, link: Money): Money | undefined {
  const currency = attempt.currency?.trim().toUpperCase();
  const text = attempt.amount?.trim();
  if (!currency || !text || !/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  const decimals = currency === link.currency ? link.decimals : WIRE_DECIMALS;
  const fraction = (text.split('.')[1] ?? '').replace(/0+$/, '');
  if (fraction.length > decimals) return undefined;
  try {
    return money(parseDecimalToMinor(text, decimals), currency, decimals);
  } catch {
    return undefined;
  }
}

function sameMoneyValue(a: Money, b: Money): boolean {
  return a.currency === b.currency && a.minor === b.minor && a.decimals === b.decimals;
}

function describeReported(attempt: TiloPayAttempt): string {
  return `${attempt.amount ?? '(no amount)'} ${attempt.currency ?? '(no currency)'}`;
}

/**
 * One /consult attempt as a payment. An approval counts as completed with the link's amount only
 * when TiloPay reports exactly that amount and currency and names the transaction. Any other
 * approval is money a person must look at: completed with what TiloPay reports and `needsPerson`,
 * so it is never registered, neither on an open link nor as a late payment on an expired one.
 */
function paymentOf(
  attempt: TiloPayAttempt,
  index: number,
  orderNumber: string,
  expected: Money | undefined,
  zero: Money,
): GatewayPayment {
  const outcome = outcomeFromTiloPayCode(attempt.code);
  const reported = reportedMoney(attempt, expected ?? zero);
  const transactionId = attempt.transactionId ?? `${orderNumber}#${index + 1}`;
  const status = paymentStatusFromTiloPay(outcome);
  if (outcome !== 'paid') return { transactionId, status, amount: reported ?? expected ?? zero };
  const review = (reason: string): GatewayPayment => ({
    transactionId,
    status: 'completed',
    amount: reported ?? zero,
    needsPerson: reason,
  });
  if (!expected)
    return review(
      `TiloPay approved ${describeReported(attempt)} on order ${orderNumber}, which has no record of what was asked`,
    );
  if (!reported || !sameMoneyValue(reported, expected))
    return review(
      `TiloPay approved ${describeReported(attempt)} on order ${orderNumber}, but the link asked for ${describeMoney(expected)}`,
    );
  if (attempt.transactionId === undefined)
    return review(`TiloPay approved order ${orderNumber} without naming its transaction (tpt)`);
  return { transactionId, status: 'completed', amount: expected };
}

/**
 * The link's status from its attempts (spec §9). A page that ended in a decline or a cancel was
 * used up: 'expired', so the pay page makes a fresh order when the customer tries again. An
 * order nobody tried expires by our own TTL; a pending SINPE attempt never does.
 */
function linkStatusOf(order: TiloPayOrderStatus, hasRecord: boolean, ttlOver: boolean): LinkStatus {
  switch (order.detail) {
    case 'paid':
      // Without our record no amount was checked: never 'paid' on TiloPay's word alone.
      return hasRecord ? 'paid' : 'unknown';
    case 'approved_mismatch':
    case 'unknown_code':
      return 'unknown';
    case 'pending_attempt':
      return 'pending';
    case 'no_attempt':
      return ttlOver ? 'expired' : 'open';
    case 'last_attempt_failed':
    case 'last_attempt_cancelled':
      return 'expired';
    default:
      return assertUnreachable(order.detail);
  }
}

function queryOf(delivery: WebhookDelivery): URLSearchParams {
  return new URLSearchParams(delivery.rawBody.toString('utf8'));
}

export function createTiloPayGateway(options: TiloPayGatewayOptions): Gateway {
  const currencies = [...(options.currencies ?? DEFAULT_CURRENCIES)];
  const orderTtlMs = options.orderTtlMs ?? DEFAULT_ORDER_TTL_MS;
  const now = options.now ?? Date.now;
  // One client per account, so its bearer token is cached across calls.
  const clients = new Map<string, TiloPayClient>();

  function credentialsOf(account: string): TiloPayCredentials | undefined {
    return Object.hasOwn(options.accounts, account) ? options.accounts[account] : undefined;
  }

  function clientFor(account: string): TiloPayClient {
    const existing = clients.get(account);
    if (existing) return existing;
    const credentials = credentialsOf(account);
    if (!credentials)
      throw fail('validation', `no TiloPay credentials for account ${JSON.stringify(account)}`);
    const client = createTiloPayClient({
      baseUrl: options.baseUrl ?? TILOPAY_DEFAULT_BASE_URL,
      ...credentials,
      timeoutMs: options.timeoutMs,
      fetch: options.fetch,
      now,
    });
    clients.set(account, client);
    return client;
  }

  /**
   * What a redirect or notice for this record must have been signed over: our context, checked
   * against the record it came with (a context naming another order or amount is not this link's).
   */
  function storedOrder(
    record: LinkRecord | undefined,
  ):
    | { ok: true; order: TiloPayStoredOrder; credentials: TiloPayCredentials }
    | { ok: false; reason: string } {
    if (!record) return { ok: false, reason: 'no record of the order it names' };
    const credentials = credentialsOf(record.merchantAccount);
    if (!credentials) return { ok: false, reason: `no credentials for account ${record.merchantAccount}` };
    const context = orderContextOf(record.context);
    if (!context) return { ok: false, reason: 'the order has no readable context' };
    let sent: number;
    try {
      sent = parseDecimalToMinor(context.amount, record.amount.decimals);
    } catch {
      return { ok: false, reason: 'the order context has an unreadable amount' };
    }
    if (
      context.orderNumber !== record.linkId ||
      context.currency !== record.amount.currency ||
      sent !== record.amount.minor
    ) {
      return { ok: false, reason: 'the order context does not describe this link' };
    }
    return {
      ok: true,
      credentials,
      order: {
        orderNumber: context.orderNumber,
        amount: money(parseDecimalToMinor(context.amount, WIRE_DECIMALS), context.currency, WIRE_DECIMALS),
        email: context.email,
      },
    };
  }

  const returns: GatewayWebhooks = {
    identify(delivery): LinkPointer | undefined {
      const orders = queryOf(delivery).getAll('order');
      return orders.length === 1 && orders[0] ? { linkId: orders[0] } : undefined;
    },
    verify(delivery, record): WebhookVerdict {
      const stored = storedOrder(record);
      if (!stored.ok) return stored;
      const query = queryOf(delivery);
      const check = verifyTiloPayRedirect(query, stored.credentials, stored.order);
      if (!check.ok) return { ok: false, reason: `${check.reason}: ${check.detail}` };
      if (check.hashChecked) return { ok: true };
      // The plugin checks the hash of approvals only. A non-approval can only mean "not paid", so
      // one without a hash is taken; but a hash that is there must verify (TiloPay signs every
      // code alike, as its notices show), or the return was altered.
      const { redirect } = check;
      if (!redirect.orderHash) return { ok: true };
      const valid = verifyOrderHash(redirect.orderHash, stored.credentials, {
        tpt: redirect.tpt,
        orderNumber: stored.order.orderNumber,
        amount: stored.order.amount,
        currency: stored.order.amount.currency,
        responseCode: redirect.code,
        auth: redirect.auth,
        email: stored.order.email,
      });
      return valid ? { ok: true } : { ok: false, reason: 'bad_hash: OrderHash does not match' };
    },
    parse(delivery) {
      const query = queryOf(delivery);
      const order = query.get('order');
      const code = query.get('code');
      if (!order || code === null) return { ok: false, error: 'the redirect has no order or code' };
      const tpt = query.get('tpt') ?? query.get('tilopay-transaction') ?? '';
      const event: GatewayEvent = {
        id: `redirect:${webhookNoticeId({ orderNumber: order, tpt, code })}`,
        type: 'redirect',
        linkId: order,
        ...(tpt ? { transactionId: tpt } : {}),
        concernsPayment: true,
        customerOutcome: outcomeFromRedirect({ code, wpCancel: query.get('wp_cancel') }),
      };
      return { ok: true, event };
    },
  };

  const webhooks: GatewayWebhooks = {
    identify(delivery): LinkPointer | undefined {
      const parsed = parseTiloPayWebhook(delivery.rawBody);
      return parsed.ok ? { linkId: parsed.notice.orderNumber } : undefined;
    },
    verify(delivery, record): WebhookVerdict {
      const stored = storedOrder(record);
      if (!stored.ok) return stored;
      const parsed = parseTiloPayWebhook(delivery.rawBody);
      if (!parsed.ok) return { ok: false, reason: `unreadable notice: ${parsed.error}` };
      const check = verifyTiloPayWebhook(parsed.notice, stored.credentials, stored.order);
      return check.ok ? { ok: true } : { ok: false, reason: check.reason };
    },
    parse(delivery) {
      const parsed = parseTiloPayWebhook(delivery.rawBody);
      if (!parsed.ok) return parsed;
      const { notice } = parsed;
      const event: GatewayEvent = {
        id: `notice:${webhookNoticeId(notice)}`,
        type: 'notice',
        linkId: notice.orderNumber,
        transactionId: notice.tpt,
        concernsPayment: true,
      };
      return { ok: true, event };
    },
  };

  return {
    id: TILOPAY_GATEWAY_ID,
    displayName: 'TiloPay',
    currencies,
    memoPrefix: 'TiloPay',
    renewal: 'on_visit',
    linkLifetimeMs: orderTtlMs,
    // TiloPay signs with the API credentials; there is no separate webhook secret to configure.
    webhooks,
    returns,

    async createLink(request: LinkRequest): Promise<GatewayLink> {
      if (!currencies.includes(request.amount.currency))
        throw fail('validation', `TiloPay is not set up to charge ${request.amount.currency}`);
      if (request.amount.minor <= 0)
        throw fail('validation', `TiloPay cannot charge ${describeMoney(request.amount)}`);
      const client = clientFor(request.merchantAccount);
      if (!request.callbacks)
        throw fail('validation', 'TiloPay needs a return address: configure http.publicUrl');
      const email = request.invoice.partnerEmail?.trim() ?? '';
      // billToEmail is required and signed by the OrderHash (spec §3, §6): no placeholder.
      if (!/^[^\s@]+@[^\s@]+$/.test(email))
        throw fail(
          'validation',
          `TiloPay needs the customer's email, and ${request.invoice.partnerName || 'the customer'} of invoice ${request.invoice.name} has ${email ? 'an invalid one' : 'none'} in Odoo`,
        );
      let amountText: string;
      try {
        amountText = tiloPayAmountText(request.amount);
      } catch (error) {
        if (!(error instanceof TiloPayAmountError)) throw error;
        throw fail('validation', `TiloPay cannot charge ${error.message}`);
      }
      const orderNumber = orderNumberOf(request);
      const billTo: TiloPayBillTo = { ...splitName(request.invoice.partnerName), email };
      const lang = tiloPayLang(request.invoice.partnerLang);
      const page = await client.processPayment({
        orderNumber,
        amount: request.amount,
        redirect: request.callbacks.returnUrl,
        billTo,
        returnData: Buffer.from(request.reference, 'utf8').toString('base64'),
        ...(lang ? { lang } : {}),
      });
      return {
        id: orderNumber,
        url: page.url,
        reference: request.reference,
        amount: request.amount,
        context: orderContextText({
          orderNumber,
          email,
          amount: amountText,
          currency: request.amount.currency,
          url: page.url,
        }),
      };
    },

    /**
     * The order of this attempt, if TiloPay shows an attempt on it for the request's amount. An
     * order nobody tried is not findable (/consult lists attempts only): undefined, which is
     * harmless, as a page whose answer was lost was never shown to anyone.
     */
    async findLink(request: LinkRequest): Promise<GatewayLink | undefined> {
      const orderNumber = orderNumberOf(request);
      const { attempts } = await clientFor(request.merchantAccount).consult(orderNumber);
      if (attempts.length === 0) return undefined;
      const amounts = attempts.map((attempt) => reportedMoney(attempt, request.amount));
      const all = amounts.every((amount) => amount !== undefined && sameMoneyValue(amount, request.amount));
      const link: GatewayLink = {
        id: orderNumber,
        // /consult does not give the page's address.
        url: '',
        reference: request.reference,
        amount: all
          ? request.amount
          : (amounts.find((amount) => amount !== undefined) ??
            money(0, request.amount.currency, request.amount.decimals)),
      };
      return linkMatchesRequest(link, request) === undefined ? link : undefined;
    },

    async getLink(linkId, amountCurrency, context: LinkContext): Promise<LinkSnapshot> {
      const { record } = context;
      const consult = await clientFor(context.merchantAccount).consult(linkId);
      const zero = money(0, amountCurrency.currency, amountCurrency.decimals);
      const expected = record?.amount;
      // Without a record nothing can match: every approval reads as unchecked.
      const order = orderStatusFromAttempts(consult.attempts, expected ?? zero);
      const ttlOver = record !== undefined && now() - record.createdAt >= orderTtlMs;
      const payments = consult.attempts.map((attempt, index) =>
        paymentOf(attempt, index, linkId, expected, zero),
      );
      const latest = consult.attempts.at(-1);
      const link: GatewayLink = {
        id: linkId,
        url: orderContextOf(record?.context)?.url ?? '',
        reference: record?.reference ?? referenceOfOrderNumber(linkId),
        amount: expected ?? (latest ? reportedMoney(latest, zero) : undefined) ?? zero,
      };
      return { link, status: linkStatusOf(order, record !== undefined, ttlOver), payments };
    },

    /** TiloPay cannot cancel an unused hosted page (spec §8): it is left to our TTL. */
    async closeLink(linkId, context): Promise<CloseOutcome> {
      const { attempts } = await clientFor(context.merchantAccount).consult(linkId);
      const approved = attempts.some((attempt) => outcomeFromTiloPayCode(attempt.code) === 'paid');
      return approved ? 'already_closed' : 'left_to_expire';
    },
  };
}
