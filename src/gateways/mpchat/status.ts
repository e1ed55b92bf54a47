import { assertUnreachable } from '../../domain/gateway-status.js';
import type { Money } from '../../domain/money.js';
import {
  compareDecimal,
  type Decimal,
  decimalFromMoney,
  formatDecimal,
  multiplyDecimal,
  ONE,
  parseDecimal,
  subtractDecimal,
  truncateToMinor,
} from './amount.js';

/** Order statuses of spec §4, all of them. */
export const MPCHAT_ORDER_STATUSES = [
  'PENDING',
  'OPEN',
  'CONFIRMING',
  'PAID',
  'EXPIRED',
  'EXPIRED_PAID',
  'UNDERPAID',
  'FROZEN',
] as const;
export type MpChatOrderStatus = (typeof MPCHAT_ORDER_STATUSES)[number];

/** Statuses after which the order never changes (§4; EXPIRED_PAID assumed terminal). */
export const MPCHAT_TERMINAL_STATUSES: readonly MpChatOrderStatus[] = [
  'PAID',
  'EXPIRED',
  'EXPIRED_PAID',
  'UNDERPAID',
  'FROZEN',
];

/**
 * What an order means for the invoice:
 * - `paid`: settles it in full;
 * - `partial_within_tolerance`: MPChat said PAID, the shortfall is inside the tolerance we sent;
 * - `needs_person`: money may have arrived but nothing is booked automatically;
 * - `pending`: wait; `expired`: nothing arrived, issue a new order;
 * - `unknown`: a status we do not know; never counted as paid.
 */
export type MpChatOrderOutcome =
  | 'paid'
  | 'partial_within_tolerance'
  | 'needs_person'
  | 'pending'
  | 'expired'
  | 'unknown';

export function isMpChatOrderStatus(status: string): status is MpChatOrderStatus {
  return (MPCHAT_ORDER_STATUSES as readonly string[]).includes(status);
}

export function isTerminalMpChatStatus(status: string): boolean {
  return isMpChatOrderStatus(status) && MPCHAT_TERMINAL_STATUSES.includes(status);
}

/**
 * The status alone. `PAID` gives `settle`: only the amounts (decideSettlement) can tell full from
 * partial, and a PAID order whose amounts do not add up goes to a person.
 */
export function outcomeOfStatus(
  status: string,
): 'settle' | 'needs_person' | 'pending' | 'expired' | 'unknown' {
  if (!isMpChatOrderStatus(status)) return 'unknown';
  switch (status) {
    case 'PENDING':
    case 'OPEN':
    // Seen on-chain, not confirmed: a reorg can still undo it.
    case 'CONFIRMING':
      return 'pending';
    case 'PAID':
      return 'settle';
    case 'EXPIRED':
      return 'expired';
    // Below tolerance: the docs say "manual review may be needed".
    case 'UNDERPAID':
    // Arrived after expiry: the merchant decides whether to accept it.
    case 'EXPIRED_PAID':
    // KYT flag: "do not fulfill until cleared".
    case 'FROZEN':
      return 'needs_person';
    default:
      return assertUnreachable(status);
  }
}

/** What to do with money received above the invoice amount on a PAID order. */
export type OverpaymentPolicy = 'settle' | 'needs_person';

export interface SettlementInput {
  /** What the invoice asks for, in USDT (the connector converted it before creating the order). */
  readonly invoiceAmount: Money;
  /** `order_amount` of the order, decimal text. */
  readonly orderAmount: string;
  /** `received_amount` of the order, decimal text. */
  readonly receivedAmount: string;
  /**
   * The `tolerance_percent` we sent, a fraction (0.01 = 1 %). The order object does not echo it,
   * so the caller's own value is the rule, whatever MPChat applied.
   */
  readonly tolerancePercent: number | string;
  /** Default `settle`. */
  readonly overpayment?: OverpaymentPolicy | undefined;
}

interface SettlementAmounts {
  /** received_amount truncated to the invoice's decimals; never more than what arrived. */
  readonly receivedMinor: number;
  /** False when received_amount had more digits than the invoice currency keeps. */
  readonly receivedExact: boolean;
}

export type Settlement =
  | (SettlementAmounts & { readonly kind: 'full'; readonly excessMinor: number })
  | (SettlementAmounts & { readonly kind: 'partial_within_tolerance'; readonly shortfallMinor: number })
  | { readonly kind: 'needs_person'; readonly reason: string };

/** Parses a tolerance fraction; 0 ≤ t < 1, else a configuration error. */
export function parseTolerance(value: number | string): Decimal {
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  const parsed = parseDecimal(text);
  if (!parsed || compareDecimal(parsed, ONE) >= 0) {
    throw new RangeError(`tolerance_percent must be a fraction from 0 to below 1, got ${String(value)}`);
  }
  return parsed;
}

/**
 * Whether a PAID order settles the invoice, exactly, in decimal:
 * - received ≥ invoice → `full` (above it, `overpayment` decides);
 * - invoice × (1 − tolerance) ≤ received < invoice → `partial_within_tolerance` (bound inclusive);
 * - below that, nothing received, or order_amount ≠ invoice amount → `needs_person`.
 */
export function decideSettlement(input: SettlementInput): Settlement {
  const tolerance = parseTolerance(input.tolerancePercent);
  if (input.invoiceAmount.currency !== 'USDT') {
    return {
      kind: 'needs_person',
      reason: `the invoice amount is in ${input.invoiceAmount.currency}, not USDT`,
    };
  }
  const invoice = decimalFromMoney(input.invoiceAmount);
  const ordered = parseDecimal(input.orderAmount);
  const received = parseDecimal(input.receivedAmount);
  if (!ordered)
    return {
      kind: 'needs_person',
      reason: `order_amount ${JSON.stringify(input.orderAmount)} is unreadable`,
    };
  if (!received) {
    return {
      kind: 'needs_person',
      reason: `received_amount ${JSON.stringify(input.receivedAmount)} is unreadable`,
    };
  }
  // Tolerance is applied to what the invoice asks, so an order for another amount is not ours to judge.
  if (compareDecimal(ordered, invoice) !== 0) {
    return {
      kind: 'needs_person',
      reason: `order_amount ${input.orderAmount} is not the invoice amount ${formatDecimal(invoice)}`,
    };
  }
  if (received.units === 0n)
    return { kind: 'needs_person', reason: 'the order is PAID but received_amount is 0' };
  const receivedMinor = truncateToMinor(received, input.invoiceAmount.decimals);
  const amounts = { receivedMinor: receivedMinor.minor, receivedExact: receivedMinor.exact };
  const versusInvoice = compareDecimal(received, invoice);
  if (versusInvoice >= 0) {
    if (versusInvoice > 0 && (input.overpayment ?? 'settle') === 'needs_person') {
      return {
        kind: 'needs_person',
        reason: `received ${input.receivedAmount} USDT, more than the invoice's ${formatDecimal(invoice)}`,
      };
    }
    return {
      kind: 'full',
      ...amounts,
      excessMinor: Math.max(0, receivedMinor.minor - input.invoiceAmount.minor),
    };
  }
  const threshold = multiplyDecimal(invoice, subtractDecimal(ONE, tolerance));
  if (compareDecimal(received, threshold) >= 0) {
    return {
      kind: 'partial_within_tolerance',
      ...amounts,
      shortfallMinor: input.invoiceAmount.minor - receivedMinor.minor,
    };
  }
  return {
    kind: 'needs_person',
    reason: `the order is PAID but received ${input.receivedAmount} USDT is below the invoice's ${formatDecimal(invoice)} minus a tolerance of ${formatDecimal(tolerance)}`,
  };
}

export interface MpChatOrderClassification {
  readonly outcome: MpChatOrderOutcome;
  /** Present on PAID orders. */
  readonly settlement?: Settlement | undefined;
  /** Why a person is needed. */
  readonly reason?: string | undefined;
}

/** Status and amounts together: the one answer the pipeline acts on. */
export function classifyMpChatOrder(
  order: { readonly status: string; readonly order_amount: string; readonly received_amount: string },
  expectation: Omit<SettlementInput, 'orderAmount' | 'receivedAmount'>,
): MpChatOrderClassification {
  const byStatus = outcomeOfStatus(order.status);
  switch (byStatus) {
    case 'settle': {
      const settlement = decideSettlement({
        ...expectation,
        orderAmount: order.order_amount,
        receivedAmount: order.received_amount,
      });
      if (settlement.kind === 'needs_person')
        return { outcome: 'needs_person', settlement, reason: settlement.reason };
      return { outcome: settlement.kind === 'full' ? 'paid' : 'partial_within_tolerance', settlement };
    }
    case 'expired': {
      // EXPIRED with money on it contradicts "no payment before expire_at": not ours to close.
      const received = parseDecimal(order.received_amount);
      if (received?.units !== 0n) {
        return {
          outcome: 'needs_person',
          reason: `EXPIRED order shows received_amount ${order.received_amount}`,
        };
      }
      return { outcome: 'expired' };
    }
    case 'needs_person':
      return { outcome: 'needs_person', reason: `MPChat status ${order.status}` };
    case 'pending':
      return { outcome: 'pending' };
    case 'unknown':
      return { outcome: 'unknown', reason: `unknown MPChat status ${JSON.stringify(order.status)}` };
    default:
      return assertUnreachable(byStatus);
  }
}
