import { randomBytes, randomUUID } from 'node:crypto';

/**
 * In-memory MP Merchant API (spec shared/gateways/mpchat.md): keys, orders, idempotency,
 * webhook endpoints. Amounts are held as bigint micro-USDT (USDT has 6 decimals on-chain); the
 * tolerance rule is computed here independently of the client's status.ts on purpose.
 */

export type SandboxOrderStatus =
  | 'PENDING'
  | 'OPEN'
  | 'CONFIRMING'
  | 'PAID'
  | 'EXPIRED'
  | 'EXPIRED_PAID'
  | 'UNDERPAID'
  | 'FROZEN';

const TERMINAL: readonly SandboxOrderStatus[] = ['PAID', 'EXPIRED', 'EXPIRED_PAID', 'UNDERPAID', 'FROZEN'];
const MICRO = 1_000_000n;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export interface SandboxKey {
  readonly keyId: string;
  readonly secret: string;
  readonly merchantId: string;
  active: boolean;
}

export interface SandboxOrder {
  readonly id: string;
  readonly merchantId: string;
  readonly orderNumber: string;
  status: SandboxOrderStatus;
  readonly orderMicro: bigint;
  receivedMicro: bigint;
  readonly network: 'TRC20' | 'ERC20';
  readonly description: string | null;
  readonly metadata: Record<string, unknown>;
  readonly returnUrl: string | null;
  readonly webhookUrl: string | null;
  /** Fraction in millionths: 0.01 → 10 000. */
  readonly toleranceMicro: bigint;
  readonly idempotencyKey: string | null;
  readonly depositAddress: string;
  readonly createdAt: Date;
  readonly expireAt: Date;
  paidAt: Date | null;
  /** Hash of the first transfer received (shown only with the `txHashes` option). */
  txHash: string | null;
}

export interface SandboxWebhookEndpoint {
  readonly id: string;
  readonly merchantId: string;
  readonly url: string;
  readonly events: readonly string[];
  isActive: boolean;
  readonly createdAt: Date;
  updatedAt: Date;
}

/** "99.99" → 99 990 000n; undefined when not a plain decimal of at most 6 digits after the point. */
export function microFromText(text: string): bigint | undefined {
  const match = /^(\d{1,15})(?:\.(\d{1,6}))?$/.exec(text);
  if (!match?.[1]) return undefined;
  return BigInt(match[1]) * MICRO + BigInt((match[2] ?? '').padEnd(6, '0'));
}

/** 99 990 000n → "99.99": trailing zeros dropped, at least two decimals, as the docs print amounts. */
export function textFromMicro(micro: bigint): string {
  const whole = micro / MICRO;
  const fraction = (micro % MICRO).toString().padStart(6, '0').replace(/0+$/, '').padEnd(2, '0');
  return `${whole}.${fraction}`;
}

function isLoopback(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(url.hostname);
}

/** HTTPS only (§3.1, §5); plain HTTP to loopback so tests can receive. */
export function acceptableUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url));
  } catch {
    return false;
  }
}

export type EmitOrderEvent = (order: SandboxOrder, event: string) => void;

export class SandboxState {
  readonly keys = new Map<string, SandboxKey>();
  readonly orders = new Map<string, SandboxOrder>();
  readonly endpoints = new Map<string, SandboxWebhookEndpoint>();
  /** `${merchantId}\u0000${key}` → order id and the parameters it was created with. */
  private readonly idempotency = new Map<string, { orderId: string; fingerprint: string }>();

  constructor(
    private readonly options: {
      readonly now: () => Date;
      readonly orderTtlMs: number;
      readonly publicUrl: () => string;
      readonly emit: EmitOrderEvent;
      /** Show `tx_hash` on orders that received money (a field name the docs do not show). */
      readonly txHashes?: boolean | undefined;
    },
  ) {}

  now(): Date {
    return this.options.now();
  }

  /** Time-based transition, evaluated on every read: unpaid orders expire at expire_at. */
  refresh(order: SandboxOrder): SandboxOrder {
    if ((order.status === 'PENDING' || order.status === 'OPEN') && this.now() >= order.expireAt) {
      order.status = 'EXPIRED';
      this.options.emit(order, 'payment.expired');
    }
    return order;
  }

  orderFor(merchantId: string, id: string): SandboxOrder {
    const order = this.orders.get(id);
    if (!order) throw new ApiError(404, 'order not found');
    if (order.merchantId !== merchantId) throw new ApiError(403, 'forbidden');
    return this.refresh(order);
  }

  find(id: string): SandboxOrder | undefined {
    const order = this.orders.get(id);
    return order ? this.refresh(order) : undefined;
  }

  paymentUrl(order: SandboxOrder): string {
    return `${this.options.publicUrl()}/pay/${encodeURIComponent(order.id)}`;
  }

  orderJson(order: SandboxOrder): Record<string, unknown> {
    return {
      id: order.id,
      order_number: order.orderNumber,
      status: order.status,
      order_amount: textFromMicro(order.orderMicro),
      received_amount: textFromMicro(order.receivedMicro),
      // The sandbox charges no fee: credited = received once PAID.
      credited_amount: textFromMicro(order.status === 'PAID' ? order.receivedMicro : 0n),
      currency: 'USDT',
      network: order.network,
      payment_url: this.paymentUrl(order),
      // Field name invented: the docs show an address exists but not what it is called.
      deposit_address: order.depositAddress,
      description: order.description,
      expire_at: order.expireAt.toISOString(),
      paid_at: order.paidAt?.toISOString() ?? null,
      metadata: order.metadata,
      created_at: order.createdAt.toISOString(),
      ...(this.options.txHashes && order.txHash ? { tx_hash: order.txHash } : {}),
    };
  }

  /** The `data` of a payment.* webhook, as in the docs' example. */
  webhookData(order: SandboxOrder): Record<string, unknown> {
    return {
      order_id: order.id,
      order_number: order.orderNumber,
      status: order.status,
      order_amount: textFromMicro(order.orderMicro),
      received_amount: textFromMicro(order.receivedMicro),
      currency: 'USDT',
      network: order.network,
      paid_at: order.paidAt?.toISOString() ?? null,
      metadata: order.metadata,
      ...(this.options.txHashes && order.txHash ? { tx_hash: order.txHash } : {}),
    };
  }

  /** POST /v1/orders (§3.1, §7). `replayed` when the idempotency_key found an earlier order. */
  createOrder(merchantId: string, body: Record<string, unknown>): { order: SandboxOrder; replayed: boolean } {
    const amount = typeof body.amount === 'string' ? microFromText(body.amount.trim()) : undefined;
    if (amount === undefined || amount <= 0n) throw new ApiError(400, 'invalid amount');
    if (body.currency !== 'USDT') throw new ApiError(400, 'unsupported currency');
    if (body.network !== 'TRC20' && body.network !== 'ERC20') throw new ApiError(400, 'unsupported network');
    // The messages below are not in the docs' table; they follow its style.
    if (body.description !== undefined && typeof body.description !== 'string') {
      throw new ApiError(400, 'invalid description');
    }
    if (
      body.metadata !== undefined &&
      (typeof body.metadata !== 'object' || body.metadata === null || Array.isArray(body.metadata))
    ) {
      throw new ApiError(400, 'invalid metadata');
    }
    if (body.return_url !== undefined && !acceptableUrl(body.return_url))
      throw new ApiError(400, 'invalid return_url');
    if (body.webhook_url !== undefined && !acceptableUrl(body.webhook_url)) {
      throw new ApiError(400, 'invalid webhook_url');
    }
    let toleranceMicro = 10_000n;
    if (body.tolerance_percent !== undefined) {
      const value = body.tolerance_percent;
      const micro =
        typeof value === 'number' && Number.isFinite(value) ? microFromText(String(value)) : undefined;
      if (micro === undefined || micro >= MICRO) throw new ApiError(400, 'invalid tolerance_percent');
      toleranceMicro = micro;
    }
    if (
      body.idempotency_key !== undefined &&
      (typeof body.idempotency_key !== 'string' || body.idempotency_key === '')
    ) {
      throw new ApiError(400, 'invalid idempotency_key');
    }
    const key = typeof body.idempotency_key === 'string' ? body.idempotency_key : null;
    // Every request parameter except the key itself; a reused key must carry the same ones.
    const fingerprint = JSON.stringify(
      {
        amount,
        network: body.network,
        description: body.description ?? null,
        metadata: body.metadata ?? null,
        return_url: body.return_url ?? null,
        webhook_url: body.webhook_url ?? null,
        tolerance: toleranceMicro.toString(),
      },
      (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value),
    );
    if (key !== null) {
      const earlier = this.idempotency.get(`${merchantId}\u0000${key}`);
      if (earlier) {
        if (earlier.fingerprint !== fingerprint) throw new ApiError(409, 'duplicate idempotency key');
        const order = this.orders.get(earlier.orderId);
        if (order) return { order: this.refresh(order), replayed: true };
      }
    }
    const at = this.now();
    const order: SandboxOrder = {
      id: randomUUID(),
      merchantId,
      orderNumber: `ord_${randomBytes(4).toString('hex')}`,
      status: 'OPEN',
      orderMicro: amount,
      receivedMicro: 0n,
      network: body.network,
      description: typeof body.description === 'string' ? body.description : null,
      metadata: (body.metadata as Record<string, unknown> | undefined) ?? {},
      returnUrl: typeof body.return_url === 'string' ? body.return_url : null,
      webhookUrl: typeof body.webhook_url === 'string' ? body.webhook_url : null,
      toleranceMicro,
      idempotencyKey: key,
      depositAddress:
        body.network === 'TRC20'
          ? `T${randomBytes(16).toString('hex')}`
          : `0x${randomBytes(20).toString('hex')}`,
      createdAt: at,
      expireAt: new Date(at.getTime() + this.options.orderTtlMs),
      paidAt: null,
      txHash: null,
    };
    this.orders.set(order.id, order);
    if (key !== null) this.idempotency.set(`${merchantId}\u0000${key}`, { orderId: order.id, fingerprint });
    return { order, replayed: false };
  }

  listOrders(merchantId: string): SandboxOrder[] {
    return [...this.orders.values()]
      .filter((order) => order.merchantId === merchantId)
      .map((order) => this.refresh(order))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  /**
   * A transfer of `amount` (decimal text) arrives. `confirm: false` leaves the order CONFIRMING
   * until confirm(). Arriving after expiry makes EXPIRED_PAID (no webhook: none is documented).
   */
  pay(order: SandboxOrder, amount: string, options: { confirm?: boolean } = {}): SandboxOrder {
    this.refresh(order);
    const micro = microFromText(amount);
    if (micro === undefined || micro <= 0n) throw new ApiError(400, 'invalid amount');
    const hash =
      order.network === 'TRC20' ? randomBytes(32).toString('hex') : `0x${randomBytes(32).toString('hex')}`;
    if (order.status === 'EXPIRED') {
      order.receivedMicro += micro;
      order.txHash ??= hash;
      order.status = 'EXPIRED_PAID';
      return order;
    }
    if (order.status !== 'OPEN' && order.status !== 'PENDING' && order.status !== 'CONFIRMING') {
      throw new ApiError(409, `order is ${order.status}`);
    }
    order.receivedMicro += micro;
    // The first transfer names the order's payment; a top-up does not rename it.
    order.txHash ??= hash;
    order.status = 'CONFIRMING';
    if (options.confirm !== false) this.confirm(order);
    return order;
  }

  /** Confirmations reached: PAID when within tolerance (overpayment included), else UNDERPAID. */
  confirm(order: SandboxOrder): SandboxOrder {
    if (order.status !== 'CONFIRMING') throw new ApiError(409, `order is ${order.status}`);
    // received ≥ order × (1 − tolerance), in millionths on both sides.
    const paid = order.receivedMicro * MICRO >= order.orderMicro * (MICRO - order.toleranceMicro);
    order.status = paid ? 'PAID' : 'UNDERPAID';
    if (paid) order.paidAt = this.now();
    this.options.emit(order, paid ? 'payment.confirmed' : 'payment.underpaid');
    return order;
  }

  expire(order: SandboxOrder): SandboxOrder {
    this.refresh(order);
    if (order.status !== 'OPEN' && order.status !== 'PENDING')
      throw new ApiError(409, `order is ${order.status}`);
    order.status = 'EXPIRED';
    this.options.emit(order, 'payment.expired');
    return order;
  }

  /** Forces a status (FROZEN, PENDING…); emits the documented event when there is one. */
  setStatus(order: SandboxOrder, status: SandboxOrderStatus): SandboxOrder {
    order.status = status;
    const event =
      status === 'PAID'
        ? 'payment.confirmed'
        : status === 'EXPIRED'
          ? 'payment.expired'
          : status === 'UNDERPAID'
            ? 'payment.underpaid'
            : status === 'FROZEN'
              ? 'payment.frozen'
              : undefined;
    if (status === 'PAID' && order.paidAt === null) order.paidAt = this.now();
    if (event) this.options.emit(order, event);
    return order;
  }

  isTerminal(order: SandboxOrder): boolean {
    return TERMINAL.includes(order.status);
  }

  addEndpoint(merchantId: string, body: Record<string, unknown>): SandboxWebhookEndpoint {
    if (!acceptableUrl(body.url)) throw new ApiError(400, 'invalid url');
    const events = body.events;
    if (
      !Array.isArray(events) ||
      events.length === 0 ||
      !events.every((event) => typeof event === 'string')
    ) {
      throw new ApiError(400, 'invalid events');
    }
    const at = this.now();
    const endpoint: SandboxWebhookEndpoint = {
      id: `wh_${randomBytes(8).toString('hex')}`,
      merchantId,
      url: String(body.url),
      events: events as string[],
      isActive: true,
      createdAt: at,
      updatedAt: at,
    };
    this.endpoints.set(endpoint.id, endpoint);
    return endpoint;
  }

  endpointJson(endpoint: SandboxWebhookEndpoint): Record<string, unknown> {
    return {
      id: endpoint.id,
      merchant_id: endpoint.merchantId,
      url: endpoint.url,
      events: endpoint.events,
      is_active: endpoint.isActive,
      created_at: endpoint.createdAt.toISOString(),
      updated_at: endpoint.updatedAt.toISOString(),
    };
  }
}
