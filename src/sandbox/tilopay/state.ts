import { randomBytes } from 'node:crypto';
import { formatMinorAsDecimal, money, parseDecimalToMinor } from '../../domain/money.js';
import { computeOrderHash, type TiloPayCredentials } from '../../gateways/tilopay/signature.js';

/**
 * In-memory TiloPay: bearer tokens, orders created by processPayment, and the attempts the hosted
 * page records on them (spec §2–§5). An order is keyed by the merchant's orderNumber; a second
 * processPayment with the same number adds a page to the same order, as TiloPay has no idempotency.
 */

/** A buyer's choice on the hosted page, or a test's. */
export type PayOutcome = 'approved' | 'declined' | 'insufficient_funds' | 'cancelled' | 'pending';

/**
 * An attempt ending with a code of the test's choosing: TiloPay answers many codes the page's
 * buttons do not offer (43, 51, 82, 98 [3p], and undocumented ones).
 */
export interface OtherCode {
  readonly code: string;
  readonly description?: string | undefined;
}

export interface SandboxAttempt {
  /** TiloPay transaction id (`tpt`). */
  readonly tpt: string;
  code: string;
  description: string;
  auth: string;
  readonly amount: string;
  readonly currency: string;
  readonly selectedMethod: string;
  readonly at: Date;
}

export interface SandboxOrder {
  readonly orderNumber: string;
  /** Two-decimal text as received ("15000.00"). */
  amount: string;
  currency: string;
  email: string;
  redirect: string;
  returnData: string | undefined;
  capture: string;
  hashVersion: string;
  /** Hosted page ids made for this order; each stays payable until it is used. */
  readonly pages: string[];
  readonly attempts: SandboxAttempt[];
  readonly createdAt: Date;
}

export interface SandboxPage {
  readonly id: string;
  readonly orderNumber: string;
  used: boolean;
}

/** What the sandbox sends back to the browser and, when set, to the webhook. */
export interface AttemptResult {
  readonly order: SandboxOrder;
  readonly attempt: SandboxAttempt;
  /** The return URL with TiloPay's query parameters and OrderHash. */
  readonly redirectUrl: string;
  readonly orderHash: string;
}

/** An API error with TiloPay's body shape; `httpStatus` 200 when TiloPay answers errors that way. */
export class TiloPayApiError extends Error {
  constructor(
    readonly httpStatus: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${httpStatus}`);
  }
}

const OUTCOMES: Record<PayOutcome, { code: string; description: string }> = {
  approved: { code: '1', description: 'Transaction is approved.' },
  declined: { code: '2', description: 'Transaction declined.' },
  insufficient_funds: { code: '3', description: 'Insufficient funds.' },
  cancelled: { code: '8', description: 'Transaction cancelled by the customer.' },
  pending: { code: 'Pending', description: 'Transaction pending.' },
};

export function isPayOutcome(value: unknown): value is PayOutcome {
  return typeof value === 'string' && Object.hasOwn(OUTCOMES, value);
}

/** Fields processPayment requires (spec §3); the billTo* ones are "Requerido" too. */
export const REQUIRED_PAYMENT_FIELDS = [
  'redirect',
  'key',
  'amount',
  'currency',
  'orderNumber',
  'capture',
  'subscription',
  'billToFirstName',
  'billToLastName',
  'billToEmail',
] as const;

const AMOUNT_TEXT = /^\d+(?:\.\d{1,2})?$/;

export class TiloPayState {
  readonly orders = new Map<string, SandboxOrder>();
  readonly pages = new Map<string, SandboxPage>();
  private readonly tokens = new Map<string, number>();
  private nextTpt = 4300;
  private nextAuth = 123456;

  constructor(
    private readonly options: {
      readonly credentials: TiloPayCredentials;
      readonly now: () => Date;
      readonly tokenTtlSeconds: number;
      readonly publicUrl: () => string;
    },
  ) {}

  issueToken(): { access_token: string; token_type: 'bearer'; expires_in: number } {
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, this.options.now().getTime() + this.options.tokenTtlSeconds * 1000);
    return { access_token: token, token_type: 'bearer', expires_in: this.options.tokenTtlSeconds };
  }

  tokenValid(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    return expiresAt !== undefined && this.options.now().getTime() < expiresAt;
  }

  /** Every token issued so far stops working, as if they had expired. */
  expireTokens(): void {
    this.tokens.clear();
  }

  private requireKey(input: Record<string, unknown>): void {
    if (input.key !== this.options.credentials.apiKey) {
      throw new TiloPayApiError(200, { type: '403', message: 'Key not found or integration inactive.' });
    }
  }

  private static missing(input: Record<string, unknown>, fields: readonly string[]): string[] {
    return fields.filter((field) => {
      const value = input[field];
      return !(typeof value === 'string' || typeof value === 'number') || String(value).trim() === '';
    });
  }

  processPayment(input: Record<string, unknown>): { order: SandboxOrder; page: SandboxPage } {
    // The key is checked first: without a valid integration nothing else is looked at.
    if (typeof input.key === 'string' && input.key !== '') this.requireKey(input);
    const missing = TiloPayState.missing(input, REQUIRED_PAYMENT_FIELDS);
    if (missing.length > 0) {
      throw new TiloPayApiError(200, {
        type: '400',
        message: `Missing required fields: ${missing.join(', ')}`,
      });
    }
    const text = (field: string) => String(input[field]).trim();
    const amount = text('amount');
    if (!AMOUNT_TEXT.test(amount) || parseDecimalToMinor(amount, 2) <= 0) {
      throw new TiloPayApiError(200, { type: '400', message: 'Invalid amount.' });
    }
    if (!/^[A-Z]{3}$/.test(text('currency'))) {
      throw new TiloPayApiError(200, { type: '400', message: 'Invalid currency.' });
    }
    const orderNumber = text('orderNumber');
    if (!/^[A-Za-z0-9_-]{1,80}$/.test(orderNumber)) {
      throw new TiloPayApiError(200, { type: '400', message: 'Invalid orderNumber.' });
    }
    let redirect: URL;
    try {
      redirect = new URL(text('redirect'));
    } catch {
      throw new TiloPayApiError(200, { type: '400', message: 'Invalid redirect.' });
    }
    if (!['0', '1'].includes(text('capture'))) {
      throw new TiloPayApiError(200, { type: '400', message: 'Invalid capture.' });
    }
    const now = this.options.now();
    const fields = {
      amount: formatMinorAsDecimal(parseDecimalToMinor(amount, 2), 2),
      currency: text('currency'),
      email: text('billToEmail'),
      redirect: redirect.toString(),
      returnData: typeof input.returnData === 'string' ? input.returnData : undefined,
      capture: text('capture'),
      hashVersion: typeof input.hashVersion === 'string' ? input.hashVersion : 'V1',
    };
    let order = this.orders.get(orderNumber);
    if (order) Object.assign(order, fields);
    else {
      order = { orderNumber, ...fields, pages: [], attempts: [], createdAt: now };
      this.orders.set(orderNumber, order);
    }
    const page: SandboxPage = { id: randomBytes(12).toString('hex'), orderNumber, used: false };
    this.pages.set(page.id, page);
    order.pages.push(page.id);
    return { order, page };
  }

  pageUrl(page: SandboxPage): string {
    return `${this.options.publicUrl()}/pay/${page.id}`;
  }

  /** /consult: an unknown order is an empty list, as for an order nobody has tried to pay yet. */
  consult(input: Record<string, unknown>, prefix: string): Record<string, string>[] {
    this.requireKey(input);
    const missing = TiloPayState.missing(input, ['key', 'orderNumber']);
    if (missing.length > 0) {
      throw new TiloPayApiError(200, {
        type: '400',
        message: `Missing required fields: ${missing.join(', ')}`,
      });
    }
    const order = this.orders.get(String(input.orderNumber).trim());
    if (!order) return [];
    return order.attempts.map((attempt) => ({
      orderNumber: `${prefix}${order.orderNumber}`,
      amount: attempt.amount,
      currency: attempt.currency,
      code: attempt.code,
      response: attempt.description,
      auth: attempt.auth,
      id_tilopay: attempt.tpt,
      tpt: attempt.tpt,
    }));
  }

  hashFor(order: SandboxOrder, attempt: SandboxAttempt): string {
    return computeOrderHash(this.options.credentials, {
      tpt: attempt.tpt,
      orderNumber: order.orderNumber,
      amount: money(parseDecimalToMinor(order.amount, 2), order.currency, 2),
      currency: order.currency,
      responseCode: attempt.code,
      auth: attempt.auth,
      email: order.email,
    });
  }

  private redirectUrl(order: SandboxOrder, attempt: SandboxAttempt, cancelled: boolean): string {
    const orderHash = this.hashFor(order, attempt);
    const url = new URL(order.redirect);
    const params: [string, string][] = [
      ['code', attempt.code],
      ['description', attempt.description],
      ['auth', attempt.auth],
      ['order', order.orderNumber],
      ['tpt', attempt.tpt],
      ['crd', ''],
      ['tilopay-transaction', attempt.tpt],
      ['OrderHash', orderHash],
      ['returnData', order.returnData ?? ''],
      ['selected_method', attempt.selectedMethod],
      ['form_update', 'ok'],
    ];
    if (cancelled) params.push(['wp_cancel', 'yes']);
    for (const [key, value] of params) url.searchParams.append(key, value);
    return url.toString();
  }

  /** The buyer finishes a hosted page with this outcome. Each page takes one attempt. */
  payPage(page: SandboxPage, outcome: PayOutcome | OtherCode): AttemptResult {
    const order = this.orders.get(page.orderNumber);
    if (!order) throw new Error(`no order ${page.orderNumber}`);
    if (page.used) throw new TiloPayApiError(410, { message: 'This payment page was already used.' });
    page.used = true;
    const { code, description } =
      typeof outcome === 'string'
        ? OUTCOMES[outcome]
        : { code: outcome.code, description: outcome.description ?? `Code ${outcome.code}.` };
    const approved = outcome === 'approved';
    const attempt: SandboxAttempt = {
      tpt: String(this.nextTpt++),
      code,
      description,
      auth: approved ? String(this.nextAuth++) : '',
      amount: order.amount,
      currency: order.currency,
      selectedMethod: outcome === 'pending' ? 'SINPEMOVIL' : 'CARD',
      at: this.options.now(),
    };
    order.attempts.push(attempt);
    return {
      order,
      attempt,
      redirectUrl: this.redirectUrl(order, attempt, outcome === 'cancelled'),
      orderHash: this.hashFor(order, attempt),
    };
  }

  /** A pending SINPE attempt settles (approved or declined); the same entry changes in place. */
  settle(orderNumber: string, approved: boolean): AttemptResult {
    const order = this.orders.get(orderNumber);
    const attempt = order?.attempts.find((candidate) => candidate.code === 'Pending');
    if (!order || !attempt) throw new Error(`no pending attempt on ${orderNumber}`);
    const outcome = OUTCOMES[approved ? 'approved' : 'declined'];
    attempt.code = outcome.code;
    attempt.description = outcome.description;
    attempt.auth = approved ? String(this.nextAuth++) : '';
    return {
      order,
      attempt,
      redirectUrl: this.redirectUrl(order, attempt, false),
      orderHash: this.hashFor(order, attempt),
    };
  }
}
