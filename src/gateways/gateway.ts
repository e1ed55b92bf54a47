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
