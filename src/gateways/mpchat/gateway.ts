import { z } from 'zod';
import { assertUnreachable, type LinkStatus, type PaymentStatus } from '../../domain/gateway-status.js';
import { type Money, money, parseDecimalToMinor } from '../../domain/money.js';
import {
  type CloseOutcome,
  type ExchangeRate,
  type Gateway,
  GatewayError,
  type GatewayEvent,
  type GatewayLink,
  type GatewayPayment,
  type GatewayPaymentRecord,
  type GatewayWebhooks,
  type LinkContext,
  type LinkRecord,
  type LinkRequest,
  type LinkSnapshot,
  linkMatchesRequest,
  type WebhookVerdict,
} from '../gateway.js';
import {
  compareDecimal,
  type Decimal,
  decimalFromMoney,
  divideToMinor,
  formatFixed,
  multiplyDecimal,
  parseDecimal,
  roundUpToScale,
} from './amount.js';
import { createMpChatClient, type MpChatClient, type MpChatNetwork } from './client.js';
import { MPCHAT_GATEWAY_ID } from './errors.js';
import type { MpChatOrder } from './schemas.js';
import type { MpChatWebhookKeyEncoding, MpChatWebhookLayout } from './signature.js';
import { decideSettlement, isMpChatOrderStatus, type OverpaymentPolicy, parseTolerance } from './status.js';
import { parseMpChatWebhook, verifyMpChatWebhook } from './webhook.js';

export type { MpChatWebhookKeyEncoding, MpChatWebhookLayout } from './signature.js';

export interface MpChatGatewayOptions {
  readonly baseUrl: string;
  readonly timeoutMs?: number | undefined;
  /** Credentials by merchant account name; webhookSecret is the one MPChat gave for our endpoint. */
  readonly accounts: Readonly<
    Record<
      string,
      { readonly keyId: string; readonly secret: string; readonly webhookSecret?: string | undefined }
    >
  >;
  /** Default TRC20 (the docs' recommendation: lower fees). */
  readonly network?: 'TRC20' | 'ERC20' | undefined;
  /** Sent as tolerance_percent and used by decideSettlement, as exact decimal text; default MPChat's own default as the spec gives it. */
  readonly tolerancePercent?: string | undefined;
  /** A PAID order above its amount: settles the invoice (default) or goes to a person. */
  readonly overpayment?: 'settle' | 'needs_person' | undefined;
  /** USDT per 1 USD as exact decimal text; default '1' (par). */
  readonly usdtPerUsd?: string | undefined;
  /** Invoice currencies accepted (converted to USD through LinkRequest.rate); default ['USD']. */
  readonly invoiceCurrencies?: readonly string[] | undefined;
  readonly webhookSigning?:
    | { layout?: MpChatWebhookLayout; keyEncoding?: MpChatWebhookKeyEncoding; toleranceSeconds?: number }
    | undefined;
  readonly fetch?: typeof fetch | undefined;
  readonly now?: (() => number) | undefined;
}

/** MPChat's own order expiry (spec §3.1); no request field changes it. */
const ORDER_LIFETIME_MS = 30 * 60_000;
const PRICING_CURRENCY = 'USD';
/** USDT amounts are sent with 2 decimals (spec §9: the precision the API takes is not documented). */
const USDT_DECIMALS = 2;
const DEFAULT_TOLERANCE = '0.01';
const PAYMENT_EVENTS = ['payment.confirmed', 'payment.expired', 'payment.underpaid', 'payment.frozen'];
const DESCRIPTION_MAX = 255;
const PAGE_SIZE = 100;
// findLink looks at this many of the newest orders (the list has no documented filter).
const FIND_MAX_PAGES = 5;
// listPayments: a bound on one reconcile run (60 requests a minute per key, spec §8).
const LIST_MAX_PAGES = 40;
// An order created this long before the window cannot have been paid inside it, except as late
// money (EXPIRED_PAID), which is never registered automatically anyway.
const LIST_LOOKBACK_MS = 24 * 3_600_000;

/** Keys we add to the order's metadata; MPChat echoes metadata on the order and in webhooks. */
const META = {
  reference: 'reference',
  invoiceAmount: 'invoice_amount',
  invoiceCurrency: 'invoice_currency',
  rate: 'usd_rate',
  usdtPerUsd: 'usdt_per_usd',
  tolerance: 'tolerance_percent',
} as const;

function fail(kind: GatewayError['kind'], message: string): GatewayError {
  return new GatewayError(MPCHAT_GATEWAY_ID, kind, message);
}

/**
 * How a link was priced: what the store keeps as GatewayLink.context, so payments convert back at
 * the rate they were charged at, and the tolerance judged is the one sent.
 */
interface Pricing {
  /** order_amount we asked for, USDT with 2 decimals. */
  readonly usdt: string;
  /** Invoice currency; 1 `from` = `rate` USD. */
  readonly from: string;
  readonly rate: string;
  readonly usdtPerUsd: string;
  readonly rateDate: string | null;
  readonly network: MpChatNetwork;
  readonly tolerance: string;
}

const decimalText = z.string().regex(/^\d+(?:\.\d+)?$/);
const pricingSchema = z.object({
  v: z.literal(1),
  usdt: decimalText,
  from: z.string().min(1),
  rate: decimalText,
  usdtPerUsd: decimalText,
  rateDate: z.string().nullable(),
  network: z.enum(['TRC20', 'ERC20']),
  tolerance: decimalText,
});

function pricingContext(pricing: Pricing): string {
  return JSON.stringify({ v: 1, ...pricing });
}

function pricingFromContext(text: string | undefined): Pricing | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = pricingSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return undefined;
    const { v: _version, ...pricing } = parsed.data;
    return pricing;
  } catch {
    return undefined;
  }
}

function decimalOf(text: string, what: string): Decimal {
  const value = parseDecimal(text);
  if (!value)
    throw fail('validation', `${what} must be a decimal like "1.0832", got ${JSON.stringify(text)}`);
  return value;
}

/** USD per invoice unit × USDT per USD. */
function usdtPerInvoiceUnit(pricing: Pick<Pricing, 'rate' | 'usdtPerUsd'>): Decimal {
  return multiplyDecimal(decimalOf(pricing.rate, 'the rate'), decimalOf(pricing.usdtPerUsd, 'usdtPerUsd'));
}

/** The invoice amount in USDT, rounded UP to 2 decimals so the order always covers the invoice. */
function priceInUsdt(amount: Money, pricing: Pick<Pricing, 'rate' | 'usdtPerUsd'>): Decimal {
  return roundUpToScale(
    multiplyDecimal(decimalFromMoney(amount), usdtPerInvoiceUnit(pricing)),
    USDT_DECIMALS,
  );
}

/** USDT received back into the invoice currency at the recorded rate, truncated (never more). */
function toInvoiceCurrency(usdt: string, pricing: Pricing, currency: string, decimals: number): Money {
  const received = parseDecimal(usdt) ?? { units: 0n, scale: 0 };
  return money(divideToMinor(received, usdtPerInvoiceUnit(pricing), decimals), currency, decimals);
}

function usdtMoney(text: string): Money {
  return money(parseDecimalToMinor(text, USDT_DECIMALS), 'USDT', USDT_DECIMALS);
}

/** MPChat metadata as text (we only ever send strings; anything else is not ours). */
function textMetadata(
  metadata: Readonly<Record<string, unknown>> | null | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') out[key] = String(value);
  }
  return out;
}

/** The invoice amount our metadata names, in the asked currency; undefined when it does not. */
function metadataInvoiceAmount(
  metadata: Readonly<Record<string, string>>,
  amountCurrency: { currency: string; decimals: number },
): Money | undefined {
  const text = metadata[META.invoiceAmount];
  if (text === undefined || metadata[META.invoiceCurrency] !== amountCurrency.currency) return undefined;
  try {
    return money(
      parseDecimalToMinor(text, amountCurrency.decimals),
      amountCurrency.currency,
      amountCurrency.decimals,
    );
  } catch {
    return undefined;
  }
}

/**
 * The pricing our metadata carries, only when it agrees with MPChat's own order_amount: the
 * invoice amount priced at that rate gives exactly the USDT the order asks for. Used when the
 * store has no context (a link found again after a lost answer, or adopted).
 */
function pricingFromMetadata(
  order: MpChatOrder,
  metadata: Readonly<Record<string, string>>,
  amountCurrency: { currency: string; decimals: number },
): { pricing: Pricing; invoiceAmount: Money } | undefined {
  const invoiceAmount = metadataInvoiceAmount(metadata, amountCurrency);
  const rate = metadata[META.rate];
  const usdtPerUsd = metadata[META.usdtPerUsd];
  const tolerance = metadata[META.tolerance];
  if (!invoiceAmount || !rate || !usdtPerUsd || !tolerance) return undefined;
  if (!parseDecimal(rate) || !parseDecimal(usdtPerUsd) || !parseDecimal(tolerance)) return undefined;
  if (order.network !== 'TRC20' && order.network !== 'ERC20') return undefined;
  const ordered = parseDecimal(order.order_amount);
  let priced: Decimal;
  try {
    priced = priceInUsdt(invoiceAmount, { rate, usdtPerUsd });
  } catch {
    return undefined;
  }
  if (!ordered || compareDecimal(ordered, priced) !== 0) return undefined;
  return {
    pricing: {
      usdt: formatFixed(priced, USDT_DECIMALS),
      from: amountCurrency.currency,
      rate,
      usdtPerUsd,
      rateDate: null,
      network: order.network,
      tolerance,
    },
    invoiceAmount,
  };
}

function isoTimestamp(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The chatter's sentence about what the customer is charged. */
function chargeSentence(
  usdt: string,
  network: MpChatNetwork,
  rate: ExchangeRate,
  usdtPerUsd: string,
): string {
  const fiat =
    rate.from === PRICING_CURRENCY
      ? ''
      : ` 1 ${rate.from} = ${rate.rate} ${PRICING_CURRENCY}${rate.date ? ` (Odoo rate of ${rate.date})` : ''},`;
  return `Charged as ${usdt} USDT (${network}):${fiat} 1 USD = ${usdtPerUsd} USDT.`;
}

/**
 * What one order means now: the link status and the payments on it. `pricing` is how we priced
 * it (absent when we cannot know, e.g. adopting a link without our record); `invoiceAmount` the
 * amount it was made for.
 */
function readOrder(
  order: MpChatOrder,
  input: {
    readonly amountCurrency: { currency: string; decimals: number };
    readonly invoiceAmount: Money | undefined;
    readonly pricing: Pricing | undefined;
    readonly overpayment: OverpaymentPolicy;
    /** Our own TTL (from record.createdAt) has passed. */
    readonly lifetimeOver: boolean;
    readonly nowMs: number;
  },
): { status: LinkStatus; payments: GatewayPayment[] } {
  const { currency, decimals } = input.amountCurrency;
  const { pricing, invoiceAmount } = input;
  const received = parseDecimal(order.received_amount) ?? { units: 0n, scale: 0 };
  const hasMoney = received.units > 0n;
  const transactionId = order.tx_hash ?? order.id;
  const occurredAt = isoTimestamp(order.paid_at);
  // Without our pricing no amount can be told in the invoice currency: such a payment is never
  // completed (the pipeline would register it), only 'unknown' or 'pending'.
  const priced = pricing !== undefined && invoiceAmount !== undefined;
  const converted = pricing
    ? toInvoiceCurrency(order.received_amount, pricing, currency, decimals)
    : undefined;
  const payment = (
    status: PaymentStatus,
    amount: Money | undefined,
    extra: Pick<GatewayPayment, 'settlesShort' | 'needsPerson'> = {},
  ): GatewayPayment => ({
    transactionId,
    status: priced || status === 'pending' ? status : 'unknown',
    amount: amount ?? money(0, currency, decimals),
    ...(occurredAt === undefined ? {} : { occurredAt }),
    ...(priced ? extra : {}),
  });
  const review = (reason: string) => payment('completed', converted, { needsPerson: reason });
  const usdt = `${order.received_amount} USDT`;
  const status = order.status;
  if (!isMpChatOrderStatus(status)) {
    // Never 'completed': an unknown status may mean anything.
    return {
      status: 'unknown',
      payments: hasMoney ? [payment('unknown', converted)] : [],
    };
  }
  switch (status) {
    case 'PENDING':
    case 'OPEN': {
      // Money seen on an order MPChat has not moved on yet: wait for it, never expire it.
      if (hasMoney) return { status: 'pending', payments: [payment('pending', converted)] };
      const expireAt = order.expire_at ? Date.parse(order.expire_at) : Number.NaN;
      const over = input.lifetimeOver || (!Number.isNaN(expireAt) && input.nowMs >= expireAt);
      return { status: over ? 'expired' : 'open', payments: [] };
    }
    case 'CONFIRMING':
      // Seen on-chain, not confirmed: a reorg can still undo it.
      return { status: 'pending', payments: hasMoney ? [payment('pending', converted)] : [] };
    case 'PAID': {
      if (!pricing || !invoiceAmount) return { status: 'paid', payments: [payment('unknown', converted)] };
      const settlement = decideSettlement({
        invoiceAmount: usdtMoney(pricing.usdt),
        orderAmount: order.order_amount,
        receivedAmount: order.received_amount,
        tolerancePercent: pricing.tolerance,
        overpayment: input.overpayment,
      });
      switch (settlement.kind) {
        case 'full':
          // Covered (the order was priced rounded up): the invoice amount itself is what was paid.
          return { status: 'paid', payments: [payment('completed', invoiceAmount)] };
        case 'partial_within_tolerance': {
          const back = converted ?? money(0, currency, decimals);
          // Rounding the price up can leave a "short" payment still worth the whole invoice.
          if (back.minor >= invoiceAmount.minor)
            return { status: 'paid', payments: [payment('completed', invoiceAmount)] };
          return { status: 'paid', payments: [payment('completed', back, { settlesShort: true })] };
        }
        case 'needs_person':
          return {
            status: 'paid',
            payments: [review(`MPChat marked order ${order.id} PAID, but ${settlement.reason}`)],
          };
        default:
          return assertUnreachable(settlement);
      }
    }
    case 'EXPIRED':
      if (!hasMoney) return { status: 'expired', payments: [] };
      return {
        status: 'partially_paid',
        payments: [review(`MPChat order ${order.id} is EXPIRED yet shows ${usdt} received`)],
      };
    case 'EXPIRED_PAID': {
      const ordered = parseDecimal(order.order_amount);
      const covered = ordered !== undefined && compareDecimal(received, ordered) >= 0;
      return {
        status: covered ? 'paid' : 'partially_paid',
        payments: [
          review(
            `${usdt} arrived on MPChat order ${order.id} after it had expired (EXPIRED_PAID): accept it or refund it by hand`,
          ),
        ],
      };
    }
    case 'UNDERPAID':
      return {
        status: 'partially_paid',
        payments: [
          review(
            `MPChat order ${order.id} is UNDERPAID: ${usdt} received of ${order.order_amount} USDT, below the tolerance`,
          ),
        ],
      };
    case 'FROZEN':
      return {
        status: 'unknown',
        payments: [
          review(
            `MPChat froze order ${order.id} (${usdt}) after KYT screening: do not register it until MPChat clears it`,
          ),
        ],
      };
    default:
      return assertUnreachable(status);
  }
}

export function createMpChatGateway(options: MpChatGatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const network: MpChatNetwork = options.network ?? 'TRC20';
  const tolerance = options.tolerancePercent ?? DEFAULT_TOLERANCE;
  const overpayment: OverpaymentPolicy = options.overpayment ?? 'settle';
  const usdtPerUsd = options.usdtPerUsd ?? '1';
  const currencies = [...(options.invoiceCurrencies ?? [PRICING_CURRENCY])];
  const signing = options.webhookSigning ?? {};

  // Configuration errors surface when the gateway is built, not on the first invoice.
  parseTolerance(tolerance);
  // tolerance_percent travels as a JSON number: it must survive that exactly.
  const toleranceNumber = Number(tolerance);
  const asSent = parseDecimal(String(toleranceNumber));
  if (!asSent || compareDecimal(asSent, decimalOf(tolerance, 'tolerancePercent')) !== 0)
    throw new RangeError(`tolerancePercent ${tolerance} cannot be sent exactly as a JSON number`);
  if (decimalOf(usdtPerUsd, 'usdtPerUsd').units <= 0n) throw new RangeError('usdtPerUsd must be above 0');

  const clients = new Map<string, MpChatClient>();
  function clientFor(account: string): MpChatClient {
    const credentials = options.accounts[account];
    if (!credentials) {
      throw fail('validation', `no MPChat credentials for account "${account}" (gateways.mpchat.accounts)`);
    }
    let client = clients.get(account);
    if (!client) {
      client = createMpChatClient({
        baseUrl: options.baseUrl,
        keyId: credentials.keyId,
        secret: credentials.secret,
        timeoutMs: options.timeoutMs,
        fetch: options.fetch,
        now: () => new Date(now()),
      });
      clients.set(account, client);
    }
    return client;
  }

  function assertCurrency(currency: string): void {
    if (!currencies.includes(currency)) {
      throw fail(
        'validation',
        `MPChat is set to take invoices in ${currencies.join(', ')}; this amount is in ${currency}`,
      );
    }
  }

  function assertUsdtOrder(order: MpChatOrder): void {
    if (order.currency !== 'USDT')
      throw fail('protocol', `MPChat order ${order.id} is in ${order.currency}, not USDT`);
  }

  /** Odoo's rate to USD; an invoice in USD needs none. */
  function rateOf(request: LinkRequest): ExchangeRate {
    const { currency } = request.amount;
    if (request.rate) {
      if (request.rate.from !== currency || request.rate.to !== PRICING_CURRENCY) {
        throw fail(
          'validation',
          `MPChat needs a ${currency} to ${PRICING_CURRENCY} rate; it was given ${request.rate.from} to ${request.rate.to}`,
        );
      }
      if (decimalOf(request.rate.rate, 'the rate').units <= 0n)
        throw fail('validation', `the ${currency} to ${PRICING_CURRENCY} rate must be above 0`);
      return request.rate;
    }
    if (currency === PRICING_CURRENCY) return { from: currency, to: currency, rate: '1', date: null };
    throw fail(
      'validation',
      `MPChat prices in ${PRICING_CURRENCY}: the ${currency} invoice came without a rate`,
    );
  }

  function idempotencyKey(reference: string): string {
    // The reference alone: every try at one link sends the same key and gets the same order back.
    return `paylink-${reference}`;
  }

  function linkOfOrder(
    order: MpChatOrder,
    reference: string,
    amount: Money,
    extra: { context?: string; charge?: string; adopted?: boolean } = {},
  ): GatewayLink {
    return {
      id: order.id,
      url: order.payment_url,
      reference,
      amount,
      metadata: textMetadata(order.metadata),
      ...(extra.context === undefined ? {} : { context: extra.context }),
      ...(extra.charge === undefined ? {} : { charge: extra.charge }),
      ...(extra.adopted ? { adopted: true } : {}),
    };
  }

  /** Pricing of a stored link: its context, or else what our metadata on the order says. */
  function pricingFor(
    order: MpChatOrder,
    record: LinkRecord | undefined,
    amountCurrency: { currency: string; decimals: number },
  ): { pricing: Pricing | undefined; invoiceAmount: Money | undefined } {
    const metadata = textMetadata(order.metadata);
    if (!record) {
      // Adoption: nothing of ours vouches for the rate, so nothing is settled on it.
      return { pricing: undefined, invoiceAmount: metadataInvoiceAmount(metadata, amountCurrency) };
    }
    const stored = pricingFromContext(record.context);
    if (stored && stored.from === amountCurrency.currency)
      return { pricing: stored, invoiceAmount: record.amount };
    const fromMetadata = pricingFromMetadata(order, metadata, amountCurrency);
    // The metadata must describe the link we recorded, amount and all.
    if (fromMetadata && fromMetadata.invoiceAmount.minor === record.amount.minor)
      return { pricing: fromMetadata.pricing, invoiceAmount: record.amount };
    return { pricing: undefined, invoiceAmount: record.amount };
  }

  /** Orders of one account, newest first as the API lists them, page by page. */
  async function* ordersOf(account: string, maxPages: number): AsyncGenerator<MpChatOrder[]> {
    const client = clientFor(account);
    let offset = 0;
    for (let page = 0; page < maxPages; page++) {
      const result = await client.listOrders({ limit: PAGE_SIZE, offset });
      if (result.orders.length === 0) return;
      yield result.orders;
      offset += result.orders.length;
      if (offset >= result.total) return;
    }
  }

  function webhooks(): GatewayWebhooks | undefined {
    const byAccount = Object.fromEntries(
      Object.entries(options.accounts).flatMap(([name, account]) =>
        account.webhookSecret ? [[name, account.webhookSecret]] : [],
      ),
    );
    const all = [...new Set(Object.values(byAccount))];
    if (all.length === 0) return undefined;
    return {
      verify(delivery, record): WebhookVerdict {
        // A record names the account whose secret must have signed; else any of ours may have.
        const secrets = record ? [byAccount[record.merchantAccount]].filter((s) => s !== undefined) : all;
        if (secrets.length === 0) return { ok: false, reason: 'no webhook secret for this account' };
        let reason = 'bad_signature';
        for (const secret of secrets) {
          let check: ReturnType<typeof verifyMpChatWebhook>;
          try {
            check = verifyMpChatWebhook({
              rawBody: delivery.rawBody,
              headers: delivery.headers,
              secret,
              now: delivery.receivedAt,
              toleranceSeconds: signing.toleranceSeconds,
              signing: { layout: signing.layout, keyEncoding: signing.keyEncoding },
            });
          } catch {
            // A secret that is not hex under keyEncoding 'hex': it cannot have signed anything.
            continue;
          }
          if (check.ok) return { ok: true };
          // Missing, malformed or stale fails the same with every secret.
          if (check.reason !== 'bad_signature') return { ok: false, reason: check.reason };
          reason = check.reason;
        }
        return { ok: false, reason };
      },
      parse(delivery) {
        const parsed = parseMpChatWebhook(delivery.rawBody, delivery.headers);
        if (!parsed.ok) return parsed;
        const { event } = parsed;
        const reference = event.metadata?.[META.reference];
        const isPayment = event.event.startsWith('payment.');
        const result: GatewayEvent = {
          id: event.dedupeKey,
          type: event.event,
          ...(event.orderId ? { linkId: event.orderId } : {}),
          ...(typeof reference === 'string' ? { linkReference: reference } : {}),
          ...(isPayment && event.orderId ? { transactionId: event.txHash ?? event.orderId } : {}),
          // withdrawal.* moves the merchant's balance, never an invoice's money.
          concernsPayment: isPayment,
        };
        return { ok: true, event: result };
      },
    };
  }

  return {
    id: MPCHAT_GATEWAY_ID,
    displayName: 'MPChat (USDT)',
    currencies,
    pricingCurrency: PRICING_CURRENCY,
    memoPrefix: 'MPChat',
    renewal: 'on_visit',
    linkLifetimeMs: ORDER_LIFETIME_MS,
    webhooks: webhooks(),

    webhookSetup: {
      regenerates: false,
      secretKey: (account) => `gateways.mpchat.accounts.${account}.webhookSecret`,
      async register(account, url) {
        // MPChat sets the signing secret in its dashboard and has no API to regenerate it
        // (spec §5), so `regenerate` changes nothing here.
        const client = clientFor(account);
        const existing = (await client.listWebhooks()).find(
          (endpoint) =>
            endpoint.url === url &&
            endpoint.is_active &&
            PAYMENT_EVENTS.every((e) => endpoint.events.includes(e)),
        );
        const endpoint = existing ?? (await client.createWebhook({ url, events: PAYMENT_EVENTS }));
        return { secret: endpoint.secret ?? undefined };
      },
    },

    async createLink(request: LinkRequest): Promise<GatewayLink> {
      assertCurrency(request.amount.currency);
      const rate = rateOf(request);
      const usdt = priceInUsdt(request.amount, { rate: rate.rate, usdtPerUsd });
      if (usdt.units <= 0n) throw fail('validation', 'the invoice amount is 0 USDT once converted');
      const usdtText = formatFixed(usdt, USDT_DECIMALS);
      const client = clientFor(request.merchantAccount);
      const { invoice } = request;
      const notify = request.callbacks?.notifyUrl;
      const key = idempotencyKey(request.reference);
      const submitted = client.submitOrder({
        amount: usdtText,
        network,
        idempotencyKey: key,
        description: truncate(`Invoice ${invoice.name} from ${invoice.companyName}`, DESCRIPTION_MAX),
        metadata: {
          ...request.metadata,
          [META.reference]: request.reference,
          [META.invoiceAmount]: formatDecimalMoney(request.amount),
          [META.invoiceCurrency]: request.amount.currency,
          [META.rate]: rate.rate,
          [META.usdtPerUsd]: usdtPerUsd,
          [META.tolerance]: tolerance,
        },
        // Our own endpoint for this order's events, when the daemon has a public https address
        // (MPChat takes HTTPS only); otherwise the endpoint setup-gateway registered.
        ...(notify && /^https:\/\//.test(notify) ? { webhookUrl: notify } : {}),
        tolerancePercent: toleranceNumber,
      });
      const { order, httpStatus } = await submitted.catch((error: unknown) => {
        // The key names this link: an earlier try sent other parameters under it (the rate, the
        // tolerance or our public address changed since). That order is not this request's.
        if (error instanceof GatewayError && error.kind === 'conflict') {
          throw new GatewayError(
            MPCHAT_GATEWAY_ID,
            'conflict',
            `MPChat already has an order under idempotency key ${key} made with other parameters (amount, rate, tolerance or webhook URL changed since the first try); it was left alone`,
            error.details,
          );
        }
        throw error;
      });
      assertUsdtOrder(order);
      const answered = parseDecimal(order.order_amount);
      if (!answered || compareDecimal(answered, usdt) !== 0) {
        throw fail(
          'protocol',
          `MPChat created order ${order.id} for ${order.order_amount} USDT instead of ${usdtText} USDT`,
        );
      }
      if (order.network !== network)
        throw fail('protocol', `MPChat created order ${order.id} on ${order.network} instead of ${network}`);
      const echoed = textMetadata(order.metadata)[META.reference];
      if (echoed !== undefined && echoed !== request.reference)
        throw fail(
          'conflict',
          `MPChat answered with order ${order.id} of reference ${echoed}; it was left alone`,
        );
      const pricing: Pricing = {
        usdt: usdtText,
        from: request.amount.currency,
        rate: rate.rate,
        usdtPerUsd,
        rateDate: rate.date,
        network,
        tolerance,
      };
      return linkOfOrder(order, request.reference, request.amount, {
        context: pricingContext(pricing),
        charge: chargeSentence(usdtText, network, rate, usdtPerUsd),
        // The idempotency_key replayed an earlier try's order (200 rather than 201 [inferred]).
        adopted: httpStatus === 200,
      });
    },

    /**
     * The order made under this reference, from the newest orders of the account (GET /v1/orders
     * has no documented filter, so only the FIND_MAX_PAGES × 100 newest are looked at). Its
     * metadata must be ours and match the request, and its amount the price at today's rate.
     */
    async findLink(request: LinkRequest): Promise<GatewayLink | undefined> {
      assertCurrency(request.amount.currency);
      const amountCurrency = { currency: request.amount.currency, decimals: request.amount.decimals };
      for await (const page of ordersOf(request.merchantAccount, FIND_MAX_PAGES)) {
        for (const order of page) {
          const metadata = textMetadata(order.metadata);
          if (metadata[META.reference] !== request.reference || order.currency !== 'USDT') continue;
          const found = pricingFromMetadata(order, metadata, amountCurrency);
          if (!found) return undefined;
          const asked = request.rate ? parseDecimal(request.rate.rate) : undefined;
          if (asked && compareDecimal(asked, decimalOf(found.pricing.rate, 'the rate')) !== 0)
            return undefined;
          const link = linkOfOrder(order, request.reference, found.invoiceAmount, {
            context: pricingContext(found.pricing),
          });
          return linkMatchesRequest(link, request) ? undefined : link;
        }
      }
      return undefined;
    },

    async getLink(linkId, amountCurrency, context: LinkContext): Promise<LinkSnapshot> {
      assertCurrency(amountCurrency.currency);
      const order = await clientFor(context.merchantAccount).getOrder(linkId);
      assertUsdtOrder(order);
      const { record } = context;
      const { pricing, invoiceAmount } = pricingFor(order, record, amountCurrency);
      const read = readOrder(order, {
        amountCurrency,
        invoiceAmount,
        pricing,
        overpayment,
        lifetimeOver: record !== undefined && now() - record.createdAt >= ORDER_LIFETIME_MS,
        nowMs: now(),
      });
      const metadata = textMetadata(order.metadata);
      const link = linkOfOrder(
        order,
        metadata[META.reference] ?? record?.reference ?? order.id,
        invoiceAmount ?? money(0, amountCurrency.currency, amountCurrency.decimals),
        pricing && !record?.context ? { context: pricingContext(pricing) } : {},
      );
      return { link, status: read.status, payments: read.payments };
    },

    /**
     * Payments on orders of these accounts in the window, from GET /v1/orders (newest first;
     * stops LIST_LOOKBACK_MS before the window). Only orders priced by us in this currency
     * convert back; others are not this database's (or currency's) and are left out.
     */
    async listPayments(window, amountCurrency, merchantAccounts): Promise<GatewayPaymentRecord[]> {
      assertCurrency(amountCurrency.currency);
      const since = window.since.getTime();
      const until = window.until.getTime();
      const byId = new Map<string, GatewayPaymentRecord>();
      // Two account names on one key list the same orders: each key is read once.
      const keys = new Set<string>();
      for (const account of merchantAccounts) {
        const credentials = options.accounts[account];
        if (!credentials || keys.has(credentials.keyId)) continue;
        keys.add(credentials.keyId);
        let previous = Number.POSITIVE_INFINITY;
        let newestFirst = true;
        for await (const page of ordersOf(account, LIST_MAX_PAGES)) {
          for (const order of page) {
            const created = order.created_at ? Date.parse(order.created_at) : Number.NaN;
            if (!Number.isNaN(created)) {
              if (created > previous) newestFirst = false;
              previous = created;
            }
            const at = Date.parse(order.paid_at ?? order.created_at ?? '');
            if (byId.has(order.id) || !(at >= since && at < until)) continue;
            const metadata = textMetadata(order.metadata);
            const found = pricingFromMetadata(order, metadata, amountCurrency);
            if (!found || order.currency !== 'USDT') continue;
            const read = readOrder(order, {
              amountCurrency,
              invoiceAmount: found.invoiceAmount,
              pricing: found.pricing,
              overpayment,
              lifetimeOver: false,
              nowMs: now(),
            });
            for (const payment of read.payments) {
              byId.set(order.id, {
                ...payment,
                linkId: order.id,
                ...(metadata[META.reference] ? { linkReference: metadata[META.reference] } : {}),
              });
            }
          }
          // Only a list seen to be newest first may be cut short.
          if (newestFirst && previous < since - LIST_LOOKBACK_MS) break;
        }
      }
      return [...byId.values()];
    },

    /**
     * MPChat has no cancel (spec §3.6): an unpaid order is left to expire by itself (30 min).
     * A terminal order is already closed; one MPChat no longer has cannot be paid.
     */
    async closeLink(linkId, context): Promise<CloseOutcome> {
      let order: MpChatOrder;
      try {
        order = await clientFor(context.merchantAccount).getOrder(linkId);
      } catch (error) {
        if (error instanceof GatewayError && error.kind === 'not_found') return 'deleted';
        throw error;
      }
      switch (order.status) {
        case 'PAID':
        case 'EXPIRED':
        case 'EXPIRED_PAID':
        case 'UNDERPAID':
        case 'FROZEN':
          return 'already_closed';
        default:
          return 'left_to_expire';
      }
    },
  };
}

/** Minor units as plain decimal text, for our metadata ("100.00"). */
function formatDecimalMoney(amount: Money): string {
  return formatFixed(decimalFromMoney(amount), amount.decimals);
}
