import { z } from 'zod';
import { assertUnreachable, type LinkStatus, type PaymentStatus } from '../../domain/gateway-status.js';
import { type Money, money, parseDecimalToMinor } from '../../domain/money.js';
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
  type WebhookVerdict,
} from '../gateway.js';
import { createTendoPayClient, type TendoPayClient, type TendoPayTransaction } from './client.js';
import { TENDOPAY_GATEWAY_ID } from './errors.js';
import {
  type CentavosPolicy,
  DEFAULT_ORDER_TTL_MS,
  merchantOrderIdFor,
  parseMerchantOrderId,
  TENDOPAY_CURRENCY,
  tendoPayDescription,
} from './order.js';
import {
  type CallbackRead,
  notificationDedupeKey,
  type TendoPayCallback,
  verifyTendoPayNotification,
  verifyTendoPayRedirect,
} from './signature.js';
import { cancellationMeaning, type TendoPayOutcome, tendoPayOutcome } from './status.js';

export { DEFAULT_ORDER_TTL_MS } from './order.js';

/**
 * The TendoPay (Philippines, BNPL) adapter (shared/gateways/tendopay.md). One link is one order,
 * made per attempt (`<reference>-tp<n>`), paid at `authorize_url`; TendoPay can look up neither an
 * order nor a transaction by our id, so a link is read through the transactions its verified
 * redirects and notifications named (LinkRecord.transactionIds), each confirmed by showTransaction.
 */

export interface TendoPayGatewayOptions {
  readonly baseUrl: string;
  readonly timeoutMs?: number | undefined;
  /** Credentials by merchant account name (LinkRequest.merchantAccount / LinkContext.merchantAccount). */
  readonly accounts: Readonly<Record<string, { readonly clientId: string; readonly clientSecret: string }>>;
  /** How long an unused authorize_url is offered before the link counts as expired. Default DEFAULT_ORDER_TTL_MS (24 h). */
  readonly orderTtlMs?: number | undefined;
  /** An invoice with centavos: sent as a 2-decimal string (spec §8 recommendation, default) or refused. */
  readonly centavos?: 'decimal_string' | 'refuse' | undefined;
  readonly fetch?: typeof fetch | undefined;
  readonly now?: (() => number) | undefined;
}

/** Bounds the memory of transactions seen PAID (see `paidSeen`). */
const PAID_MEMORY_MAX = 10_000;

function fail(kind: GatewayError['kind'], message: string): GatewayError {
  return new GatewayError(TENDOPAY_GATEWAY_ID, kind, message);
}

/**
 * What the store keeps with a link (GatewayLink.context): the order token, which the spec says to
 * keep with the id (§9), and the authorize_url, which no call gives back later.
 */
const orderContextSchema = z.object({
  v: z.literal(1),
  orderToken: z.string().min(1),
  authorizeUrl: z.string().min(1),
  amount: z.string(),
});
type OrderContext = z.infer<typeof orderContextSchema>;

function orderContextFrom(text: string | undefined): OrderContext | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = orderContextSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function isoTimestamp(text: string | undefined): string | undefined {
  if (!text) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : new Date(at).toISOString();
}

/**
 * TendoPay's amount text in the invoice currency's minor units, only when it converts exactly: a
 * rounded amount could pass for the invoice's.
 */
function exactAmount(text: string, currency: string, decimals: number): Money | undefined {
  try {
    const minor = parseDecimalToMinor(text, decimals);
    const fine = parseDecimalToMinor(text, 6);
    return fine === minor * 10 ** (6 - decimals) ? money(minor, currency, decimals) : undefined;
  } catch {
    return undefined;
  }
}

function customerOutcome(outcome: TendoPayOutcome): NonNullable<GatewayEvent['customerOutcome']> {
  switch (outcome) {
    case 'paid':
      return 'paid';
    case 'pending':
      return 'pending';
    case 'failed':
      return 'failed';
    case 'cancelled':
      return 'cancelled';
    case 'unknown':
      return 'unknown';
    default:
      return assertUnreachable(outcome);
  }
}

function headerText(value: string | readonly string[] | undefined): string | undefined {
  return typeof value === 'string' ? value : value?.[0];
}

/** One transaction of a link as the pipeline sees it. */
interface TransactionReading {
  readonly payment: GatewayPayment;
  readonly outcome: TendoPayOutcome | 'refunded';
}

export function createTendoPayGateway(options: TendoPayGatewayOptions): Gateway {
  const now = options.now ?? Date.now;
  const orderTtlMs = options.orderTtlMs ?? DEFAULT_ORDER_TTL_MS;
  const centavos: CentavosPolicy = options.centavos ?? 'decimal_string';
  if (!Number.isSafeInteger(orderTtlMs) || orderTtlMs <= 0)
    throw new RangeError(`orderTtlMs must be a positive number of milliseconds, got ${orderTtlMs}`);

  const clients = new Map<string, TendoPayClient>();
  function clientFor(account: string): TendoPayClient {
    const credentials = options.accounts[account];
    if (!credentials)
      throw fail(
        'validation',
        `no TendoPay credentials for account "${account}" (gateways.tendopay.accounts)`,
      );
    let client = clients.get(account);
    if (!client) {
      // One client per account: it caches that account's token for its ~7 days.
      client = createTendoPayClient({
        baseUrl: options.baseUrl,
        clientId: credentials.clientId,
        clientSecret: credentials.clientSecret,
        timeoutMs: options.timeoutMs,
        fetch: options.fetch,
        now,
      });
      clients.set(account, client);
    }
    return client;
  }

  /** Every client secret we hold, once: any of them may have signed a notification. */
  function allSecrets(): string[] {
    return [...new Set(Object.values(options.accounts).map((account) => account.clientSecret))];
  }

  /**
   * Transactions this process saw PAID, from showTransaction or a verified redirect/notification.
   * A CANCELED transaction is a buyer's cancel or the merchant's void of a PAID purchase (spec §7),
   * and only this history tells them apart; the store keeps no statuses, so after a restart a void
   * reads as a cancel. Either way nothing is registered; only the words differ.
   */
  const paidSeen = new Set<string>();
  function rememberPaid(transactionId: string): void {
    if (paidSeen.size >= PAID_MEMORY_MAX) {
      const oldest = paidSeen.values().next().value;
      if (oldest !== undefined) paidSeen.delete(oldest);
    }
    paidSeen.add(transactionId);
  }

  function assertPeso(currency: string): void {
    if (currency !== TENDOPAY_CURRENCY)
      throw fail('validation', `TendoPay charges in PHP only; this amount is in ${currency}`);
  }

  function readTransaction(
    transaction: TendoPayTransaction,
    amountCurrency: { currency: string; decimals: number },
  ): TransactionReading {
    const amount = exactAmount(transaction.amountText, transaction.currency, amountCurrency.decimals);
    const occurredAt = isoTimestamp(transaction.updatedAt ?? transaction.createdAt);
    const payment = (status: PaymentStatus, extra: Pick<GatewayPayment, 'needsPerson'> = {}) => ({
      transactionId: transaction.transactionId,
      status,
      amount: amount ?? money(0, transaction.currency, amountCurrency.decimals),
      ...(occurredAt === undefined ? {} : { occurredAt }),
      ...extra,
    });
    const { outcome } = transaction;
    switch (outcome) {
      case 'paid':
        rememberPaid(transaction.transactionId);
        // The approved amount as TendoPay reports it (it may differ from the order's, spec §5):
        // the pipeline compares it with the invoice and refuses a mismatch.
        if (!amount)
          return {
            outcome,
            payment: payment('completed', {
              needsPerson: `TendoPay transaction ${transaction.transactionId} is PAID for ${transaction.amountText} ${transaction.currency}, which the invoice currency's precision cannot hold`,
            }),
          };
        return { outcome, payment: payment('completed') };
      case 'cancelled': {
        const meaning = cancellationMeaning(paidSeen.has(transaction.transactionId));
        return meaning === 'refunded'
          ? { outcome: 'refunded', payment: payment('refunded') }
          : { outcome, payment: payment('failed') };
      }
      case 'failed':
        return { outcome, payment: payment('failed') };
      case 'pending':
        // A transaction always has a status; kept for the exhaustive mapping.
        return { outcome, payment: payment('pending') };
      case 'unknown':
        // Never completed: an undocumented status may mean anything.
        return { outcome, payment: payment('unknown') };
      default:
        return assertUnreachable(outcome);
    }
  }

  /** The link's own transactions, newest last; those of another order are not this link's. */
  async function transactionsOf(
    linkId: string,
    record: LinkRecord,
    account: string,
    amountCurrency: { currency: string; decimals: number },
  ): Promise<TransactionReading[]> {
    const client = clientFor(account);
    const readings: TransactionReading[] = [];
    for (const transactionId of new Set(record.transactionIds)) {
      let transaction: TendoPayTransaction;
      try {
        transaction = await client.showTransaction(transactionId);
      } catch (error) {
        // TendoPay signed a notice naming it, so not finding it is TendoPay's fault, not a sign that
        // the link is gone (which not_found would tell the pipeline).
        if (error instanceof GatewayError && error.kind === 'not_found')
          throw new GatewayError(
            TENDOPAY_GATEWAY_ID,
            'protocol',
            `TendoPay does not show transaction ${transactionId}, which it named for order ${linkId}`,
            { cause: error },
          );
        throw error;
      }
      if (transaction.merchantOrderId !== linkId) continue;
      readings.push(readTransaction(transaction, amountCurrency));
    }
    return readings;
  }

  /** What the link's transactions mean together; an order is single-use, so usually one. */
  function linkStatus(readings: readonly TransactionReading[], record: LinkRecord): LinkStatus {
    const completed = readings.filter((reading) => reading.payment.status === 'completed');
    if (completed.length > 0) {
      // Less than asked is partly paid (spec §7); the pipeline refuses any mismatch either way.
      const covered = completed.some(
        (reading) =>
          reading.payment.amount.currency !== record.amount.currency ||
          reading.payment.amount.minor >= record.amount.minor,
      );
      return covered ? 'paid' : 'partially_paid';
    }
    const has = (outcome: TransactionReading['outcome']) => readings.some((r) => r.outcome === outcome);
    if (has('unknown')) return 'unknown';
    if (has('pending')) return 'pending';
    // The merchant voided a purchase at TendoPay: the link was closed there.
    if (has('refunded')) return 'cancelled';
    // Declined or given up: this order token is spent; the pay page makes a new order.
    if (has('failed') || has('cancelled')) return 'expired';
    // TendoPay gives an unused authorize_url no expiry (spec §7): ours.
    return now() - record.createdAt >= orderTtlMs ? 'expired' : 'open';
  }

  function referenceOf(linkId: string): string {
    return parseMerchantOrderId(linkId)?.reference ?? linkId;
  }

  /** The verified callback in a delivery, whichever of our secrets signed it (parse has no record). */
  function verifiedCallback(read: (secret: string) => CallbackRead): TendoPayCallback | undefined {
    for (const secret of allSecrets()) {
      const result = read(secret);
      if (result.ok) return result.callback;
    }
    return undefined;
  }

  function eventOf(callback: TendoPayCallback, type: 'redirect' | 'notification'): GatewayEvent {
    const outcome = tendoPayOutcome(callback.status);
    if (outcome === 'paid') rememberPaid(callback.transactionId);
    const linkId = callback.merchantOrderId;
    const parsed = linkId ? parseMerchantOrderId(linkId) : undefined;
    return {
      // Neither carries an id; a transaction reaches each status once (spec §5, §6).
      id: notificationDedupeKey(callback),
      type,
      ...(linkId ? { linkId } : {}),
      ...(parsed ? { linkReference: parsed.reference } : {}),
      transactionId: callback.transactionId,
      concernsPayment: true,
      ...(type === 'redirect' ? { customerOutcome: customerOutcome(outcome) } : {}),
    };
  }

  function refusal(read: CallbackRead): WebhookVerdict {
    if (read.ok) return { ok: true };
    return { ok: false, reason: read.detail ? `${read.reason} (${read.detail})` : read.reason };
  }

  /**
   * The buyer's return to /return/tendopay (spec §5). The signature is the client secret's of the
   * account the order was made in, which only our record names: a return without one is refused.
   */
  const returns: GatewayWebhooks = {
    identify(delivery): LinkPointer | undefined {
      // Read before any check, only to find our record; verify decides.
      const linkId = new URLSearchParams(delivery.rawBody.toString('utf8'))
        .get('tp_merchant_order_id')
        ?.trim();
      return linkId ? { linkId } : undefined;
    },
    verify(delivery, record): WebhookVerdict {
      if (!record) return { ok: false, reason: 'no record of the order it names' };
      const secret = options.accounts[record.merchantAccount]?.clientSecret;
      if (!secret) return { ok: false, reason: `no credentials for account ${record.merchantAccount}` };
      const read = verifyTendoPayRedirect(new URLSearchParams(delivery.rawBody.toString('utf8')), secret);
      if (read.ok && read.callback.merchantOrderId !== record.linkId)
        return { ok: false, reason: 'it names another order than the link it was checked for' };
      return refusal(read);
    },
    parse(delivery) {
      const params = delivery.rawBody.toString('utf8');
      const callback = verifiedCallback((secret) =>
        verifyTendoPayRedirect(new URLSearchParams(params), secret),
      );
      if (!callback) return { ok: false, error: 'not a verified TendoPay redirect' };
      if (!callback.merchantOrderId)
        return { ok: false, error: 'the redirect names no tp_merchant_order_id' };
      return { ok: true, event: eventOf(callback, 'redirect') };
    },
  };

  /**
   * Notifications to the notification_url set on the Managed Apps page (spec §6): one URL per app,
   * so one may concern an order this database did not make. Verified with any of our secrets, since
   * a refusal (not HTTP 200) would only be resent ten times.
   */
  const webhooks: GatewayWebhooks = {
    verify(delivery, record): WebhookVerdict {
      const contentType = headerText(delivery.headers['content-type']);
      const secrets = record
        ? [options.accounts[record.merchantAccount]?.clientSecret].filter((s) => s !== undefined)
        : allSecrets();
      if (secrets.length === 0) return { ok: false, reason: 'no TendoPay credentials to check it with' };
      let last: WebhookVerdict = { ok: false, reason: 'bad_signature' };
      for (const secret of secrets) {
        const read = verifyTendoPayNotification(delivery.rawBody, contentType, secret);
        if (read.ok) return { ok: true };
        // Anything but a wrong signature fails the same with every secret.
        last = refusal(read);
        if (read.reason !== 'bad_signature') return last;
      }
      return last;
    },
    parse(delivery) {
      const contentType = headerText(delivery.headers['content-type']);
      const callback = verifiedCallback((secret) =>
        verifyTendoPayNotification(delivery.rawBody, contentType, secret),
      );
      // One without tp_merchant_order_id is still stored (and answered 200): it names its transaction.
      if (!callback) return { ok: false, error: 'not a verified TendoPay notification' };
      return { ok: true, event: eventOf(callback, 'notification') };
    },
  };

  return {
    id: TENDOPAY_GATEWAY_ID,
    displayName: 'TendoPay',
    currencies: [TENDOPAY_CURRENCY],
    memoPrefix: 'TendoPay',
    renewal: 'on_visit',
    linkLifetimeMs: orderTtlMs,
    reconcileBlindSpot:
      "and TendoPay answers about a payment only by the transaction id its return or notification carries, so one whose customer never came back while the notification URL (TendoPay's Managed Apps page) was unset cannot be seen",
    webhooks,
    returns,

    async createLink(request: LinkRequest): Promise<GatewayLink> {
      assertPeso(request.amount.currency);
      if (!request.callbacks)
        throw fail(
          'validation',
          'TendoPay sends the buyer back to our /return/tendopay address: configure http.publicUrl',
        );
      const client = clientFor(request.merchantAccount);
      const merchantOrderId = merchantOrderIdFor(request.reference, request.attempt);
      const description = tendoPayDescription(`Invoice ${request.invoice.name}`);
      // No notification URL per order: it is set on the Managed Apps page (spec §6).
      const order = await client.createOrder({
        merchantOrderId,
        amount: request.amount,
        centavos,
        redirectUrl: request.callbacks.returnUrl,
        ...(description === '' ? {} : { description }),
        meta: { ...request.metadata, reference: request.reference },
      });
      return {
        id: merchantOrderId,
        url: order.authorizeUrl,
        reference: request.reference,
        amount: request.amount,
        merchantAccount: request.merchantAccount,
        context: JSON.stringify({
          v: 1,
          orderToken: order.orderToken,
          authorizeUrl: order.authorizeUrl,
          amount: order.amountText,
        } satisfies OrderContext),
      };
    },

    /** TendoPay looks orders up by neither our id nor its token (spec §3): never found. */
    async findLink(): Promise<GatewayLink | undefined> {
      return undefined;
    },

    async getLink(linkId, amountCurrency, context: LinkContext): Promise<LinkSnapshot> {
      assertPeso(amountCurrency.currency);
      const { record } = context;
      if (!record) {
        // Adoption: without our record there is no transaction to read and no amount to trust.
        clientFor(context.merchantAccount);
        return {
          link: {
            id: linkId,
            url: '',
            reference: referenceOf(linkId),
            amount: money(0, amountCurrency.currency, amountCurrency.decimals),
            merchantAccount: context.merchantAccount,
          },
          status: 'unknown',
          payments: [],
        };
      }
      const readings = await transactionsOf(linkId, record, context.merchantAccount, amountCurrency);
      return {
        link: {
          id: linkId,
          url: orderContextFrom(record.context)?.authorizeUrl ?? '',
          reference: record.reference,
          amount: record.amount,
          merchantAccount: record.merchantAccount,
          ...(record.context === undefined ? {} : { context: record.context }),
        },
        status: linkStatus(readings, record),
        payments: readings.map((reading) => reading.payment),
      };
    },

    /**
     * TendoPay cannot cancel an unused order (cancelPayment voids a PAID purchase, a refund): an
     * order without a transaction is left to our TTL; one with a transaction is spent.
     */
    async closeLink(linkId, context): Promise<CloseOutcome> {
      const { record } = context;
      if (!record) return 'left_to_expire';
      const readings = await transactionsOf(linkId, record, context.merchantAccount, {
        currency: record.amount.currency,
        decimals: record.amount.decimals,
      });
      return readings.length > 0 ? 'already_closed' : 'left_to_expire';
    },
  };
}
