import type { LinkStatus, PaymentStatus } from '../domain/gateway-status.js';
import { type Money, sameMoney } from '../domain/money.js';

/**
 * The only view the pipeline has of a payment gateway. Each adapter (src/gateways/<name>/) maps
 * its wire format to these types; nothing gateway-specific crosses this line.
 */

/** What the pipeline asks for: one payment link for one invoice. */
export interface LinkRequest {
  /**
   * Deterministic, unique across the gateway, derived from the Odoo database and invoice
   * (`<prefix>-inv-<invoiceId>-<n>`). Sent as the gateway's slug/reference so a retry finds the
   * link created by an earlier attempt instead of creating a second one.
   */
  readonly reference: string;
  /** Gateway account scope for the invoice's company (MyTPE: instance uuid). */
  readonly merchantAccount: string;
  readonly amount: Money;
  readonly invoice: {
    readonly odooId: number;
    readonly name: string;
    readonly companyName: string;
    readonly partnerName: string;
    readonly partnerEmail?: string | undefined;
    /** The customer's language in Odoo (`fr_FR`), for gateways whose hosted page takes one. */
    readonly partnerLang?: string | undefined;
    /** 'YYYY-MM-DD'. */
    readonly invoiceDate?: string | undefined;
  };
  /**
   * Where the daemon takes the customer back after the hosted page (`<publicUrl>/return/<id>`)
   * and takes the gateway's server-to-server notices (`<publicUrl>/webhooks/<id>`). Redirect-style
   * gateways need them; absent when the daemon has no public address.
   */
  readonly callbacks?: { readonly returnUrl: string; readonly notifyUrl: string } | undefined;
  /**
   * Odoo's rate from the invoice currency to the gateway's `pricingCurrency` at the invoice date,
   * when the gateway has one (MPChat prices USDT from USD).
   */
  readonly rate?: ExchangeRate | undefined;
  /**
   * 1 for the first try at creating this link, 2 after one failed or lost answer… Gateways that
   * cannot find an order again by our reference (TiloPay, TendoPay) make each try its own order
   * id from it, so a retry never collides with an order whose answer was lost.
   */
  readonly attempt: number;
  /**
   * Sent with the link and echoed back by gateways that support it; names the database (its
   * reference prefix), the invoice and the amount, so a link is only ever taken for ours.
   */
  readonly metadata: Readonly<Record<string, string>>;
}

/** 1 `from` = `rate` `to`, as exact decimal text (never a float in arithmetic). */
export interface ExchangeRate {
  readonly from: string;
  readonly to: string;
  readonly rate: string;
  /** The day of the Odoo rate used ('YYYY-MM-DD'), or null when from and to are the same currency. */
  readonly date: string | null;
}

export interface GatewayLink {
  readonly id: string;
  readonly url: string;
  readonly reference: string;
  readonly amount: Money;
  /** The gateway account the link lives in, when the gateway says (MyTPE: instance uuid). */
  readonly merchantAccount?: string | undefined;
  /** The metadata the gateway echoes back, when it does. */
  readonly metadata?: Readonly<Record<string, string>> | undefined;
  /**
   * True when createLink did not create it but found it under the reference: made by an earlier
   * attempt whose answer was lost, or by another process.
   */
  readonly adopted?: boolean | undefined;
  /**
   * What the gateway must be told again later and cannot look up (TiloPay: the email and amount
   * its OrderHash covers; MPChat: the rate and USDT amount). Opaque text the store keeps with the
   * link and hands back in LinkRecord.
   */
  readonly context?: string | undefined;
  /**
   * When the customer is charged something other than the invoice amount, in words for the
   * chatter (MPChat: "101.25 USDT at 1 USD = 1.0000 USDT, Odoo's rate of 2026-12-01").
   */
  readonly charge?: string | undefined;
}

/** What the store remembers of a link, for the gateway calls that need more than its id. */
export interface LinkRecord {
  readonly linkId: string;
  /** The account the link was made in (LinkRequest.merchantAccount): picks the credentials. */
  readonly merchantAccount: string;
  readonly reference: string;
  /** The invoice amount the link was made for. */
  readonly amount: Money;
  /** When we recorded the intent to make it (ms since the epoch). */
  readonly createdAt: number;
  /** GatewayLink.context as the gateway gave it. */
  readonly context?: string | undefined;
  /** Transactions the gateway named for this link in notices or redirects, oldest first. */
  readonly transactionIds: readonly string[];
}

/**
 * Whether a link found at the gateway is the one `request` asks for: same reference, amount and
 * account, and, when the gateway echoes metadata, every key we sent with the same value. A link
 * that fails this belongs to someone else and is never adopted, closed or deleted.
 */
export function linkMatchesRequest(
  link: GatewayLink,
  request: Pick<LinkRequest, 'reference' | 'merchantAccount' | 'amount' | 'metadata'>,
): string | undefined {
  if (link.reference !== request.reference) return `its reference is ${link.reference}`;
  if (link.merchantAccount !== undefined && link.merchantAccount !== request.merchantAccount)
    return `it belongs to account ${link.merchantAccount}`;
  if (!sameMoney(link.amount, request.amount)) return 'its amount differs';
  if (link.metadata) {
    for (const [key, value] of Object.entries(request.metadata)) {
      if (link.metadata[key] !== value)
        return `its metadata says ${key}=${JSON.stringify(link.metadata[key] ?? null)}`;
    }
  }
  return undefined;
}

export interface GatewayPayment {
  /** The gateway's transaction id; becomes the memo of the account.payment in Odoo. */
  readonly transactionId: string;
  readonly status: PaymentStatus;
  readonly amount: Money;
  /** ISO 8601 timestamp of the payment at the gateway, when known. */
  readonly occurredAt?: string | undefined;
  /**
   * The gateway settled the link with less than asked, within a tolerance the merchant set
   * (MPChat `tolerance_percent`): `amount` is what to register, as a partial payment.
   */
  readonly settlesShort?: boolean | undefined;
  /**
   * The gateway says money moved but a person must decide (MPChat UNDERPAID, EXPIRED_PAID,
   * FROZEN): never registered; the reason goes to the chatter.
   */
  readonly needsPerson?: string | undefined;
}

/** A link as the gateway sees it now, with every payment made on it. */
export interface LinkSnapshot {
  readonly link: GatewayLink;
  readonly status: LinkStatus;
  readonly payments: readonly GatewayPayment[];
}

export type CloseOutcome = 'deleted' | 'deactivated' | 'already_closed' | 'left_to_expire';

/** Which account a link lives in and, when the store has it, what we remember of it. */
export interface LinkContext {
  readonly merchantAccount: string;
  /** Absent when adopting a link found on an invoice. */
  readonly record?: LinkRecord | undefined;
}

export interface PaymentWindow {
  readonly since: Date;
  readonly until: Date;
}

/** A webhook request exactly as received: the raw bytes, never re-serialised. */
export interface WebhookDelivery {
  readonly rawBody: Buffer;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly receivedAt: Date;
}

export type WebhookVerdict = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** What a webhook says, reduced to what the pipeline needs to find the link and re-read it. */
export interface GatewayEvent {
  /** Unique per event: the gateway's delivery/event id, or a hash of the body when it has none. */
  readonly id: string;
  readonly type: string;
  readonly linkId?: string | undefined;
  /** The link's reference (slug) when the event carries it. */
  readonly linkReference?: string | undefined;
  readonly transactionId?: string | undefined;
  /** False for events that cannot change a payment (link created, updated…): stored, not acted on. */
  readonly concernsPayment: boolean;
  /**
   * On a customer's return, what the gateway's page told them, only to word our result page while
   * the link is confirmed; it never moves money.
   */
  readonly customerOutcome?: 'paid' | 'pending' | 'failed' | 'cancelled' | 'unknown' | undefined;
}

/** The link a delivery names, read before it is verified (see GatewayWebhooks.identify). */
export interface LinkPointer {
  readonly linkId?: string | undefined;
  readonly reference?: string | undefined;
}

export interface GatewayWebhooks {
  /**
   * Present when the signature covers what only our record of the link holds (TiloPay's OrderHash
   * covers the amount and email): names the link so its record can be passed to verify.
   */
  identify?(delivery: WebhookDelivery): LinkPointer | undefined;
  /**
   * Signature and freshness check on the raw delivery. `record` is given when identify named a
   * link we know; a gateway that needs it refuses a delivery without it.
   */
  verify(delivery: WebhookDelivery, record?: LinkRecord): WebhookVerdict;
  /** Parses a verified delivery. */
  parse(
    delivery: WebhookDelivery,
  ): { readonly ok: true; readonly event: GatewayEvent } | { readonly ok: false; readonly error: string };
}

export interface Gateway {
  /** Stable identifier used in config, the store and URLs (`mytpe`). */
  readonly id: string;
  /** Human name for logs and chatter (`MyTPE Pay`). */
  readonly displayName: string;
  /** Currencies the gateway can charge in; an invoice in another currency gets no link. */
  readonly currencies: readonly string[];
  /** Starts the memo of every payment registered in Odoo (`MyTPE <transaction id>`). */
  readonly memoPrefix: string;
  /**
   * How long an unpaid link stays payable after it is made, when the gateway closes links by
   * itself (MyTPE: one_shot links, 48 h): past it, the pay page checks the link before sending
   * the customer there.
   */
  readonly linkLifetimeMs?: number;

  /**
   * Creates the link, or returns the one an earlier attempt created under the same reference
   * (`adopted`), but only when linkMatchesRequest accepts it.
   */
  createLink(request: LinkRequest): Promise<GatewayLink>;
  /** The link made under this reference, if it exists and matches the request; never creates one. */
  findLink(request: LinkRequest): Promise<GatewayLink | undefined>;
  /**
   * The currency a gateway prices links in when it is not the invoice's (MPChat: USD, charged as
   * USDT): the pipeline reads Odoo's rate into LinkRequest.rate.
   */
  readonly pricingCurrency?: string | undefined;
  /**
   * 'on_expiry' (MyTPE): a link lives for days and an expired one is replaced at once.
   * 'on_visit' (TiloPay, TendoPay, MPChat): a link is a checkout order that lives minutes to hours;
   * the customer always goes through the pay page, which makes a fresh order when they come, and
   * an order that expired unvisited is not replaced (nor reported) until then.
   */
  readonly renewal: 'on_expiry' | 'on_visit';

  /** Current status and payments of a link. */
  getLink(
    linkId: string,
    amountCurrency: { currency: string; decimals: number },
    context: LinkContext,
  ): Promise<LinkSnapshot>;
  /**
   * Makes the link unpayable: deleted when it has no transaction, otherwise deactivated;
   * 'left_to_expire' when the gateway has no way to close an order (it expires by itself).
   */
  closeLink(linkId: string, context: LinkContext): Promise<CloseOutcome>;
  /**
   * Every payment made in a window on links of these merchant accounts (other accounts of the
   * same gateway login are left out), each once, for reconciliation. Absent when the gateway's
   * API cannot list payments: reconcile then reads each link of the window instead.
   */
  listPayments?(
    window: PaymentWindow,
    amountCurrency: { currency: string; decimals: number },
    merchantAccounts: readonly string[],
  ): Promise<GatewayPaymentRecord[]>;
  /**
   * What reconciliation cannot see on this gateway beyond "no listing", in one sentence for its
   * report (TendoPay: a payment is found only by the transaction id its return or notice carries).
   */
  readonly reconcileBlindSpot?: string | undefined;
  /** Present when the gateway pushes events and a webhook secret is configured. */
  readonly webhooks?: GatewayWebhooks | undefined;
  /**
   * Present for gateways that send the customer back to `/return/<id>` with a signed result
   * (TiloPay, TendoPay). The delivery's rawBody is the query string of a GET, or the form body of
   * a POST; a verified return is stored and handled like a webhook event.
   */
  readonly returns?: GatewayWebhooks | undefined;
  /** Present when the gateway's API can point an account's webhooks at us (setup-gateway). */
  readonly webhookSetup?: WebhookSetup | undefined;
}

export interface WebhookSetup {
  /** Whether `regenerate` can get a new secret through the API (MyTPE yes; MPChat's is set in its dashboard). */
  readonly regenerates: boolean;
  /** Where in the config the secret goes when the gateway does not show it again. */
  secretKey(merchantAccount: string): string;
  /**
   * Points the account's webhooks at `url`. The secret comes back when the gateway shows it (the
   * first time, or after `regenerate`); undefined when the account already had one it masks.
   */
  register(
    merchantAccount: string,
    url: string,
    options: { regenerate: boolean },
  ): Promise<{ secret: string | undefined }>;
}

/** A payment as listed for reconciliation, with the link it was made on. */
export interface GatewayPaymentRecord extends GatewayPayment {
  readonly linkId: string;
  readonly linkReference?: string | undefined;
}

/** Typed gateway failures; `retryable` splits transient from permanent. */
export type GatewayErrorKind =
  | 'auth'
  | 'validation'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  /** The merchant account cannot take payments now (MyTPE: instance not active); may pass. */
  | 'unavailable'
  | 'server'
  | 'timeout'
  | 'network'
  | 'protocol';

export class GatewayError extends Error {
  override name = 'GatewayError';
  readonly retryable: boolean;

  constructor(
    readonly gateway: string,
    readonly kind: GatewayErrorKind,
    message: string,
    readonly details: {
      readonly status?: number;
      readonly fieldErrors?: Readonly<Record<string, readonly string[]>>;
      readonly retryAfterMs?: number;
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable =
      kind === 'rate_limited' ||
      kind === 'unavailable' ||
      kind === 'server' ||
      kind === 'timeout' ||
      kind === 'network';
  }
}
