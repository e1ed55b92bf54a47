import { randomBytes, randomUUID } from 'node:crypto';
import { parseDecimalToMinor } from '../../domain/money.js';

/**
 * In-memory TendoPay v2: OAuth tokens, payment orders and transactions, with the rules the spec
 * documents (shared/gateways/tendopay.md §2–§9). Time-dependent states (token and order expiry)
 * are evaluated lazily with `now()` on every read.
 */

export type TransactionStatus = 'PAID' | 'FAILED' | 'CANCELED';
export type PayOutcome = 'pay' | 'fail' | 'cancel';
export type OrderState = 'open' | 'used' | 'expired';

export interface SandboxOrder {
  readonly orderToken: string;
  readonly merchantOrderId: string;
  /** Canonical amount text ("1500", "1234.5"): what every answer and signature carries. */
  readonly amountText: string;
  readonly currency: string;
  readonly redirectUrl: string;
  readonly merchantUserId: string;
  readonly description: string;
  readonly billing: { city: string; address1: string; postcode: string };
  readonly shipping: { city: string; address1: string; postcode: string };
  readonly meta: string | null;
  readonly createdAt: Date;
  /** Set when the buyer finished (paid, declined or cancelled): the token is single-use. */
  transactionId: number | null;
  /** Forced by a test helper; otherwise the TTL decides. */
  expiredByHand: boolean;
}

export interface SandboxTransaction {
  readonly id: number;
  readonly orderToken: string;
  readonly merchantOrderId: string;
  status: TransactionStatus;
  /** Approved amount, canonical text; may differ from the order's. */
  readonly amountText: string;
  readonly currency: string;
  readonly description: string;
  readonly message: string;
  /** Sum of partial cancellations (seed-only endpoint), centavos. */
  refundedCentavos: number;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface SandboxToken {
  readonly token: string;
  readonly expiresAt: Date;
  revoked: boolean;
}

/** An error the HTTP layer turns into a JSON answer with this status and body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.error === 'string' ? body.error : `HTTP ${status}`);
  }

  /** TendoPay's documented error shape (spec §9). */
  static of(status: number, message: string): ApiError {
    return new ApiError(status, { error: message });
  }
}

const AMOUNT_TEXT = /^\d+(?:\.\d{1,2})?$/;

/**
 * "1500" → "1500", "1234.50" → "1234.5", "1500.00" → "1500": the text a JSON number prints as,
 * computed on the digits, so the signed text equals what a client reads back from the JSON.
 */
export function canonicalAmount(text: string): string {
  const [whole = '0', fraction = ''] = text.split('.');
  const trimmedWhole = whole.replace(/^0+(?=\d)/, '');
  const trimmedFraction = fraction.replace(/0+$/, '');
  return trimmedFraction === '' ? trimmedWhole : `${trimmedWhole}.${trimmedFraction}`;
}

export function isAmountText(value: unknown): value is string {
  return typeof value === 'string' && AMOUNT_TEXT.test(value.trim());
}

export function centavosOf(amountText: string): number {
  return parseDecimalToMinor(amountText, 2);
}

/** `2020-09-04T08:26:25+08:00`: TendoPay prints Manila time with its offset. */
export function manilaTime(date: Date): string {
  const shifted = new Date(date.getTime() + 8 * 60 * 60 * 1000);
  return `${shifted.toISOString().slice(0, 19)}+08:00`;
}

/** Three base64url parts, like the JWT Passport issues; opaque to the client either way. */
function newAccessToken(): string {
  const part = (bytes: number) => randomBytes(bytes).toString('base64url');
  return `${Buffer.from('{"typ":"JWT","alg":"RS256"}').toString('base64url')}.${part(48)}.${part(64)}`;
}

export class SandboxState {
  readonly tokens = new Map<string, SandboxToken>();
  readonly orders = new Map<string, SandboxOrder>();
  readonly transactions = new Map<number, SandboxTransaction>();
  private nextTransactionId = 20_401;

  constructor(
    private readonly options: {
      readonly now: () => Date;
      readonly tokenTtlSeconds: number;
      readonly orderTtlMs: number;
    },
  ) {}

  now(): Date {
    return this.options.now();
  }

  // ---- tokens --------------------------------------------------------------------------------

  issueToken(): SandboxToken {
    const token: SandboxToken = {
      token: newAccessToken(),
      expiresAt: new Date(this.now().getTime() + this.options.tokenTtlSeconds * 1000),
      revoked: false,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  get tokenTtlSeconds(): number {
    return this.options.tokenTtlSeconds;
  }

  tokenValid(token: string): boolean {
    const found = this.tokens.get(token);
    return found !== undefined && !found.revoked && this.now() < found.expiresAt;
  }

  /** Every token issued so far stops working: the "expired token" case. */
  revokeTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
  }

  // ---- orders --------------------------------------------------------------------------------

  addOrder(
    fields: Omit<SandboxOrder, 'orderToken' | 'createdAt' | 'transactionId' | 'expiredByHand'>,
  ): SandboxOrder {
    const order: SandboxOrder = {
      ...fields,
      orderToken: randomUUID(),
      createdAt: this.now(),
      transactionId: null,
      expiredByHand: false,
    };
    this.orders.set(order.orderToken, order);
    return order;
  }

  orderState(order: SandboxOrder): OrderState {
    if (order.transactionId !== null) return 'used';
    if (order.expiredByHand || this.now().getTime() - order.createdAt.getTime() >= this.options.orderTtlMs)
      return 'expired';
    return 'open';
  }

  ordersByMerchantId(merchantOrderId: string): SandboxOrder[] {
    return [...this.orders.values()].filter((order) => order.merchantOrderId === merchantOrderId);
  }

  // ---- transactions --------------------------------------------------------------------------

  /**
   * The buyer finishes at TendoPay: one transaction per order token, whatever the outcome (the
   * seed: "tp_order_token is valid for one time request only").
   */
  finish(
    order: SandboxOrder,
    input: {
      readonly outcome: PayOutcome;
      readonly approvedAmount?: string | undefined;
      readonly message?: string | undefined;
    },
  ): SandboxTransaction {
    const state = this.orderState(order);
    if (state !== 'open')
      throw ApiError.of(
        422,
        state === 'used' ? 'This order has already been used.' : 'This order has expired.',
      );
    const status: TransactionStatus =
      input.outcome === 'pay' ? 'PAID' : input.outcome === 'fail' ? 'FAILED' : 'CANCELED';
    if (input.approvedAmount !== undefined && !isAmountText(input.approvedAmount))
      throw new Error(`approvedAmount must be pesos text, got ${input.approvedAmount}`);
    const at = this.now();
    const transaction: SandboxTransaction = {
      id: this.nextTransactionId++,
      orderToken: order.orderToken,
      merchantOrderId: order.merchantOrderId,
      status,
      amountText: canonicalAmount(input.approvedAmount?.trim() ?? order.amountText),
      currency: order.currency,
      description: order.description,
      message:
        input.message ??
        (status === 'PAID'
          ? 'Payment successful'
          : status === 'FAILED'
            ? 'Your available TendoPay credit is not enough for this purchase.'
            : 'The payment was cancelled.'),
      refundedCentavos: 0,
      createdAt: at,
      updatedAt: at,
    };
    this.transactions.set(transaction.id, transaction);
    order.transactionId = transaction.id;
    return transaction;
  }

  transaction(id: unknown): SandboxTransaction {
    const text = typeof id === 'number' ? String(id) : typeof id === 'string' ? id.trim() : '';
    const found = /^\d+$/.test(text) ? this.transactions.get(Number(text)) : undefined;
    // Not documented (spec §9 lists 401/403/422/500 only); see README.
    if (!found) throw ApiError.of(404, 'Transaction not found.');
    return found;
  }

  /** cancelPayment: only a PAID purchase can be voided. */
  cancel(transaction: SandboxTransaction): SandboxTransaction {
    if (transaction.status !== 'PAID') throw ApiError.of(422, 'This transaction cannot be canceled.');
    transaction.status = 'CANCELED';
    transaction.updatedAt = this.now();
    return transaction;
  }

  /** What showTransaction answers and a notification carries, before x_signature. */
  transactionJson(transaction: SandboxTransaction): Record<string, string | number> {
    return {
      tp_transaction_id: transaction.id,
      tp_transaction_status: transaction.status,
      // A JSON number, as the docs show; the canonical text keeps signature and JSON in step.
      tp_amount: Number(transaction.amountText),
      tp_currency: transaction.currency,
      tp_merchant_order_id: transaction.merchantOrderId,
      tp_merchant_id: 1001,
      tp_description: transaction.description,
      tp_created_at: manilaTime(transaction.createdAt),
      tp_updated_at: manilaTime(transaction.updatedAt),
    };
  }

  /** The parameters added to tp_redirect_url, before x_signature (spec §5). */
  redirectParams(transaction: SandboxTransaction): Record<string, string> {
    return {
      tp_transaction_status: transaction.status,
      tp_transaction_id: String(transaction.id),
      tp_merchant_order_id: transaction.merchantOrderId,
      tp_message: transaction.message,
      // The seed: "If 'PAID'": the approved amount.
      ...(transaction.status === 'PAID' ? { tp_amount: transaction.amountText } : {}),
    };
  }

  /** showOrder (seed-only), with the seed's field names (tp_billing_zip, not _postcode). */
  orderJson(order: SandboxOrder): Record<string, string | number> {
    return {
      tp_order_token: order.orderToken,
      tp_amount: Number(order.amountText),
      tp_currency: order.currency,
      tp_merchant_order_id: order.merchantOrderId,
      tp_merchant_user_id: order.merchantUserId,
      tp_description: order.description,
      tp_billing_city: order.billing.city,
      tp_billing_address1: order.billing.address1,
      tp_billing_zip: order.billing.postcode,
      tp_shipping_city: order.shipping.city,
      tp_shipping_address1: order.shipping.address1,
      tp_shipping_zip: order.shipping.postcode,
      tp_created_at: manilaTime(order.createdAt),
    };
  }
}
