import type { LinkStatus, PaymentStatus } from '../domain/gateway-status.js';
import type { Money } from '../domain/money.js';

/**
 * The only view the pipeline has of a payment gateway. Each adapter (src/gateways/<name>/) maps
 * its wire format to these types; nothing gateway-specific crosses this line.
 */

/** What the pipeline asks for: one payment link for one invoice. */
export interface LinkRequest {
  /**
   * Deterministic, unique across the gateway, derived from the Odoo database and invoice
   * (`<db>-inv-<invoiceId>-<n>`). Sent as the gateway's slug/reference so a retry finds the
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
  };
  /** Free-form metadata echoed back by gateways that support it. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface GatewayLink {
  readonly id: string;
  readonly url: string;
  readonly reference: string;
  readonly amount: Money;
}

export interface GatewayPayment {
  /** The gateway's transaction id; becomes the memo of the account.payment in Odoo. */
  readonly transactionId: string;
  readonly status: PaymentStatus;
  readonly amount: Money;
  /** ISO 8601 timestamp of the payment at the gateway, when known. */
  readonly occurredAt?: string | undefined;
}

/** A link as the gateway sees it now, with every payment made on it. */
export interface LinkSnapshot {
  readonly link: GatewayLink;
  readonly status: LinkStatus;
  readonly payments: readonly GatewayPayment[];
}

export type CloseOutcome = 'deleted' | 'deactivated' | 'already_closed';

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
}

export interface GatewayWebhooks {
  /** Signature and freshness check on the raw delivery. */
  verify(delivery: WebhookDelivery): WebhookVerdict;
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

  /** Creates the link, or returns the one an earlier attempt created under the same reference. */
  createLink(request: LinkRequest): Promise<GatewayLink>;
  /** Current status and payments of a link. */
  getLink(linkId: string, amountCurrency: { currency: string; decimals: number }): Promise<LinkSnapshot>;
  /** Makes the link unpayable: deleted when it has no transaction, otherwise deactivated. */
  closeLink(linkId: string): Promise<CloseOutcome>;
  /** Every payment made at the gateway in a window, for reconciliation. */
  listPayments(
    window: PaymentWindow,
    amountCurrency: { currency: string; decimals: number },
  ): Promise<GatewayPaymentRecord[]>;
  /** Present when the gateway pushes events and a webhook secret is configured. */
  readonly webhooks?: GatewayWebhooks | undefined;
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
    this.retryable = kind === 'rate_limited' || kind === 'server' || kind === 'timeout' || kind === 'network';
  }
}
