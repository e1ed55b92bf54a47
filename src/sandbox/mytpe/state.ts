import { randomBytes, randomUUID } from 'node:crypto';
import { formatMinorAsDecimal, parseDecimalToMinor } from '../../domain/money.js';
import { isNumeric, parseBoolean, type ValidationFailure, Validator } from './validation.js';
import { rawJsonNumber } from './webhooks.js';

/**
 * In-memory MyTPE Pay v2: instances, links, transactions and the rules the spec documents
 * (§3–§4). Statuses that depend on time are evaluated lazily with `now()` on every read.
 */

export type InstanceStatus = 'pending' | 'processing' | 'active' | 'inactive' | 'refused';
export type LinkState = 'active' | 'inactive' | 'closed';
export type LinkType = 'static' | 'dynamic';
export type PaymentMode = 'reusable' | 'one_shot' | 'limited';
export type TransactionStatus = 'pending' | 'processing' | 'completed' | 'failed' | 'refused';

export interface SandboxInstance {
  readonly id: string;
  name: string;
  description: string | null;
  status: InstanceStatus;
  webhookUrl: string | null;
  webhookSecret: string | null;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface SandboxLink {
  readonly id: string;
  readonly instanceId: string;
  title: string;
  details: string;
  readonly slug: string;
  readonly type: LinkType;
  /** Two-decimal text ("5000.00"), null on static links. */
  amount: string | null;
  status: LinkState;
  readonly paymentMode: PaymentMode;
  maxPayments: number | null;
  successfulPaymentsCount: number;
  collectedMinor: number;
  metadata: Record<string, string>;
  settings: { show_retry_button: boolean; allow_anonymous: boolean };
  /** Why the system closed it; drives payment_status. */
  closedReason: 'paid' | 'quota' | 'expired' | null;
  readonly createdAt: Date;
  updatedAt: Date;
}

export interface SandboxTransaction {
  readonly id: string;
  readonly linkId: string;
  readonly amount: string;
  status: TransactionStatus;
  readonly orderNumber: string;
  readonly orderId: string;
  readonly approvalCode: string | null;
  readonly gatewayMessage: string | null;
  readonly name: string | null;
  readonly email: string | null;
  readonly phone: string | null;
  readonly metadata: Record<string, string>;
  readonly createdAt: Date;
  updatedAt: Date;
}

/** A link as the v2 API prints it (GET /links/{id}). */
export interface LinkJson {
  readonly id: string;
  readonly mytpe_pay_id: string;
  readonly title: string;
  readonly details: string;
  readonly slug: string;
  readonly type: LinkType;
  readonly amount: string | null;
  readonly status: LinkState;
  readonly payment_mode: PaymentMode;
  readonly max_payments: number | null;
  readonly successful_payments_count: number;
  readonly payment_link: string;
  readonly payment_status: string;
  readonly remaining_payments: number | null;
  readonly collected_amount: string;
  readonly logo: null;
  readonly metadata: Readonly<Record<string, string>>;
  readonly settings: Readonly<SandboxLink['settings']>;
  readonly created_at: string;
  readonly updated_at: string;
}

/** A transaction as the v2 API prints it (GET /links/{id}/transactions). */
export interface TransactionJson {
  readonly id: string;
  readonly transactionable_id: string;
  readonly transactionable_type: string;
  readonly amount: string;
  readonly status: TransactionStatus;
  readonly payment_method: 'online';
  readonly payment_category: string;
  readonly environment: 'development';
  readonly metadata: Readonly<Record<string, string>>;
  readonly name: string | null;
  readonly email: string | null;
  readonly phone_number: string | null;
  readonly gateway_message: string | null;
  readonly order_number: string;
  readonly order_id: string;
  readonly approval_code: string | null;
  readonly pay_link_title: string | null;
  readonly created_at: string;
  readonly updated_at: string;
}

/** An error the HTTP layer turns into a JSON answer with this status and body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(typeof body.message === 'string' ? body.message : `HTTP ${status}`);
  }

  static validation(failure: ValidationFailure): ApiError {
    return new ApiError(422, { message: failure.message, errors: failure.errors });
  }
}

export type EmitEvent = (
  instance: SandboxInstance,
  event: string,
  data: (deliveryId: string) => unknown,
) => void;

export interface PayOptions {
  readonly outcome?: 'completed' | 'failed' | undefined;
  /** Decimal text; required on static links, overrides the price on dynamic ones to simulate a wrong amount. */
  readonly amount?: string | undefined;
  readonly name?: string | undefined;
  readonly email?: string | undefined;
  readonly phone?: string | undefined;
}

const AMOUNT_DECIMALS = 2;

/** Laravel's JSON timestamps carry microseconds: `2026-04-09T14:30:00.000000Z`. */
export function laravelTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Stored like a Laravel `decimal:2` cast. PHP's is_numeric accepts ".5"; our parser wants "0.5". */
function normalizeAmount(value: unknown): string {
  const text = String(value)
    .trim()
    .replace(/^([+-]?)\./, '$10.');
  return formatMinorAsDecimal(parseDecimalToMinor(text, AMOUNT_DECIMALS), AMOUNT_DECIMALS);
}

/** A decimal(14,2) column's ceiling; above it the database would refuse the row. */
const MAX_AMOUNT = 999_999_999_999.99;

/** `numeric|min:0|max:…` on an amount. */
function validateAmount(v: Validator, value: unknown): void {
  if (v.numeric('amount', value, 0) && Number(value) > MAX_AMOUNT) {
    v.add('amount', `The amount field must not be greater than ${MAX_AMOUNT}.`);
  }
}

function minorOf(amount: string): number {
  return parseDecimalToMinor(amount, AMOUNT_DECIMALS);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [key, item] of Object.entries(value)) {
    const asText = text(item);
    if (asText !== undefined) out[key] = asText;
  }
  return out;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('hex')}`;
}

export class SandboxState {
  readonly instances = new Map<string, SandboxInstance>();
  readonly linkMap = new Map<string, SandboxLink>();
  readonly transactionList: SandboxTransaction[] = [];
  private orderSeq = 0;

  constructor(
    private readonly options: {
      readonly now: () => Date;
      readonly oneShotTtlMs: number;
      readonly publicUrl: () => string;
      readonly emit: EmitEvent;
    },
  ) {}

  now(): Date {
    return this.options.now();
  }

  // ---- instances ---------------------------------------------------------------------------

  addInstance(input: {
    id?: string | undefined;
    name: string;
    status?: InstanceStatus | undefined;
    webhookUrl?: string | undefined;
    webhookSecret?: string | undefined;
  }): SandboxInstance {
    const at = this.now();
    const instance: SandboxInstance = {
      id: input.id ?? randomUUID(),
      name: input.name,
      description: null,
      status: input.status ?? 'active',
      webhookUrl: input.webhookUrl ?? null,
      webhookSecret: input.webhookSecret ?? (input.webhookUrl ? newWebhookSecret() : null),
      createdAt: at,
      updatedAt: at,
    };
    this.instances.set(instance.id, instance);
    return instance;
  }

  instance(id: string): SandboxInstance {
    const found = this.instances.get(id);
    if (!found) throw new ApiError(404, { success: false, message: 'MyTPE Pay instance not found.' });
    return found;
  }

  instanceJson(instance: SandboxInstance): Record<string, unknown> {
    const collected = [...this.linkMap.values()]
      .filter((link) => link.instanceId === instance.id)
      .reduce((sum, link) => sum + link.collectedMinor, 0);
    return {
      id: instance.id,
      name: instance.name,
      description: instance.description,
      logo: null,
      application_id: null,
      status: instance.status,
      registre_commerce_id: null,
      bank_account_id: null,
      brand_id: null,
      user_id: 1,
      collected_amount: formatMinorAsDecimal(collected, AMOUNT_DECIMALS),
      member_role: 'owner',
      created_at: laravelTime(instance.createdAt),
      updated_at: laravelTime(instance.updatedAt),
    };
  }

  // ---- links -------------------------------------------------------------------------------

  /** Applies time-based transitions: an unpaid active one_shot link closes after the TTL. */
  refresh(link: SandboxLink): SandboxLink {
    if (
      link.paymentMode === 'one_shot' &&
      link.status === 'active' &&
      link.successfulPaymentsCount === 0 &&
      this.now().getTime() - link.createdAt.getTime() >= this.options.oneShotTtlMs
    ) {
      this.closeAsExpired(link);
    }
    return link;
  }

  private closeAsExpired(link: SandboxLink): void {
    link.status = 'closed';
    link.closedReason = 'expired';
    link.updatedAt = this.now();
    this.emitLinkEvent(link, 'pay_link.expired');
  }

  /** Forces expiry now, whatever the clock says (a test knob). */
  expire(link: SandboxLink): void {
    this.refresh(link);
    if (link.status === 'closed') throw new Error(`link ${link.id} is already closed (${link.closedReason})`);
    if (link.successfulPaymentsCount > 0) throw new Error(`link ${link.id} has been paid and cannot expire`);
    this.closeAsExpired(link);
  }

  link(id: string): SandboxLink {
    const found = this.linkMap.get(id);
    // What the real MyTPE answers for a deleted (or someone else's) link.
    if (!found) throw new ApiError(404, { message: 'Not found.' });
    return this.refresh(found);
  }

  findLink(idOrSlug: string): SandboxLink | undefined {
    const found =
      this.linkMap.get(idOrSlug) ??
      [...this.linkMap.values()].find((candidate) => candidate.slug === idOrSlug);
    return found ? this.refresh(found) : undefined;
  }

  allLinks(): SandboxLink[] {
    return [...this.linkMap.values()].map((link) => this.refresh(link));
  }

  paymentStatus(link: SandboxLink): string {
    if (link.paymentMode === 'one_shot') {
      if (link.status === 'closed') return link.closedReason === 'expired' ? 'expired' : 'paid';
      return link.status === 'inactive' ? 'inactive' : 'awaiting_payment';
    }
    if (link.status === 'inactive') return 'inactive';
    // The docs' limited/reusable tables were cut off; these two names are ours.
    if (link.status === 'closed') return 'quota_reached';
    return 'active_receiving_payments';
  }

  paymentUrl(link: SandboxLink): string {
    return `${this.options.publicUrl()}/pay/${encodeURIComponent(link.slug)}`;
  }

  linkJson(link: SandboxLink): LinkJson {
    return {
      id: link.id,
      mytpe_pay_id: link.instanceId,
      title: link.title,
      details: link.details,
      slug: link.slug,
      type: link.type,
      amount: link.amount,
      status: link.status,
      payment_mode: link.paymentMode,
      max_payments: link.maxPayments,
      successful_payments_count: link.successfulPaymentsCount,
      payment_link: this.paymentUrl(link),
      payment_status: this.paymentStatus(link),
      remaining_payments:
        link.paymentMode === 'limited' && link.maxPayments !== null
          ? Math.max(0, link.maxPayments - link.successfulPaymentsCount)
          : null,
      collected_amount: formatMinorAsDecimal(link.collectedMinor, AMOUNT_DECIMALS),
      logo: null,
      metadata: link.metadata,
      settings: link.settings,
      created_at: laravelTime(link.createdAt),
      updated_at: laravelTime(link.updatedAt),
    };
  }

  linkListItemJson(link: SandboxLink): Record<string, unknown> {
    return {
      id: link.id,
      title: link.title,
      slug: link.slug,
      type: link.type,
      amount: link.amount,
      status: link.status,
      payment_mode: link.paymentMode,
      payment_status: this.paymentStatus(link),
      collected_amount: formatMinorAsDecimal(link.collectedMinor, AMOUNT_DECIMALS),
      created_at: laravelTime(link.createdAt),
    };
  }

  /** POST /links/store (spec §4.1). `input` is the form with `metadata[...]`/`settings[...]` nested. */
  createLink(input: Record<string, unknown>): SandboxLink {
    const v = new Validator();
    const instanceId = input.mytpe_pay_id;
    let instance: SandboxInstance | undefined;
    if (v.required('mytpe_pay_id', instanceId) && v.string('mytpe_pay_id', instanceId)) {
      instance = this.instances.get(String(instanceId));
      if (!instance) v.add('mytpe_pay_id', 'The selected mytpe pay id is invalid.');
      else if (instance.status !== 'active')
        v.add('mytpe_pay_id', 'The selected MyTPE Pay instance is not active.');
    }
    if (v.required('title', input.title)) v.string('title', input.title, 255);
    if (v.required('details', input.details)) v.string('details', input.details);
    if (v.required('type', input.type)) v.oneOf('type', input.type, ['static', 'dynamic']);
    if (v.requiredIf('amount', input.amount, 'type', 'dynamic', input.type) && isPresentValue(input.amount)) {
      validateAmount(v, input.amount);
    }
    if (
      v.required('slug', input.slug) &&
      v.string('slug', input.slug, 255) &&
      v.alphaDash('slug', input.slug)
    ) {
      if ([...this.linkMap.values()].some((link) => link.slug === input.slug)) {
        v.add('slug', 'The slug has already been taken.');
      }
    }
    if (isPresentValue(input.payment_mode)) {
      v.oneOf('payment_mode', input.payment_mode, ['reusable', 'one_shot', 'limited']);
    }
    if (
      v.requiredIf('max_payments', input.max_payments, 'payment_mode', 'limited', input.payment_mode) &&
      isPresentValue(input.max_payments)
    ) {
      v.integer('max_payments', input.max_payments, 1);
    }
    if (isPresentValue(input.metadata)) v.array('metadata', input.metadata);
    const settings = validateSettings(v, input.settings);
    validateLogo(v, input.logo);
    const failure = v.failure();
    if (failure || !instance) throw ApiError.validation(failure ?? { message: 'invalid', errors: {} });

    const type = input.type as LinkType;
    // payment_mode and max_payments are honoured only for dynamic links (spec §4.1).
    const paymentMode: PaymentMode =
      type === 'dynamic' && isPresentValue(input.payment_mode)
        ? (input.payment_mode as PaymentMode)
        : 'reusable';
    const at = this.now();
    const link: SandboxLink = {
      id: randomUUID(),
      instanceId: instance.id,
      title: String(input.title),
      details: String(input.details),
      slug: String(input.slug),
      type,
      amount: type === 'dynamic' ? normalizeAmount(input.amount) : null,
      status: 'active',
      paymentMode,
      maxPayments: paymentMode === 'limited' ? Number(input.max_payments) : null,
      successfulPaymentsCount: 0,
      collectedMinor: 0,
      metadata: stringMap(input.metadata),
      settings: { show_retry_button: true, allow_anonymous: false, ...settings },
      closedReason: null,
      createdAt: at,
      updatedAt: at,
    };
    this.linkMap.set(link.id, link);
    this.emitLinkEvent(link, 'pay_link.created');
    return link;
  }

  /** POST /links/update/{id} (spec §4.4). */
  updateLink(link: SandboxLink, input: Record<string, unknown>): SandboxLink {
    if (link.paymentMode === 'one_shot') {
      throw new ApiError(422, {
        message: 'One-shot payment links cannot be modified.',
        errors: { payment_mode: ['One-shot payment links cannot be modified.'] },
      });
    }
    const v = new Validator();
    if (isPresentValue(input.type) && input.type !== link.type) v.add('type', 'The type cannot be changed.');
    if (isPresentValue(input.payment_mode) && input.payment_mode !== link.paymentMode) {
      v.add('payment_mode', 'The payment mode cannot be changed.');
    }
    if (input.title !== undefined) v.string('title', input.title, 255);
    if (input.details !== undefined) v.string('details', input.details);
    if (input.amount !== undefined && link.type === 'dynamic') validateAmount(v, input.amount);
    if (input.max_payments !== undefined && link.paymentMode === 'limited') {
      if (
        v.integer('max_payments', input.max_payments, 1) &&
        Number(input.max_payments) < link.successfulPaymentsCount
      ) {
        v.add('max_payments', `The max payments field must be at least ${link.successfulPaymentsCount}.`);
      }
    }
    if (input.metadata !== undefined) v.array('metadata', input.metadata);
    const settings = validateSettings(v, input.settings);
    validateLogo(v, input.logo);
    const failure = v.failure();
    if (failure) throw ApiError.validation(failure);

    if (typeof input.title === 'string') link.title = input.title;
    if (typeof input.details === 'string') link.details = input.details;
    if (input.amount !== undefined && link.type === 'dynamic') link.amount = normalizeAmount(input.amount);
    if (input.metadata !== undefined) link.metadata = stringMap(input.metadata);
    link.settings = { ...link.settings, ...settings };
    let reopened = false;
    if (input.max_payments !== undefined && link.paymentMode === 'limited') {
      link.maxPayments = Number(input.max_payments);
      // Raising the quota of a closed limited link reopens it.
      if (
        link.status === 'closed' &&
        link.closedReason === 'quota' &&
        link.maxPayments > link.successfulPaymentsCount
      ) {
        link.status = 'active';
        link.closedReason = null;
        reopened = true;
      }
    }
    link.updatedAt = this.now();
    this.emitLinkEvent(link, 'pay_link.updated');
    if (reopened) this.emitLinkEvent(link, 'pay_link.activated');
    return link;
  }

  /** PATCH /links/{id}/toggle-status (spec §4.5). */
  toggleLink(link: SandboxLink): SandboxLink {
    if (link.status === 'closed') {
      throw new ApiError(422, {
        success: false,
        message: 'A closed payment link cannot be activated or deactivated.',
      });
    }
    link.status = link.status === 'active' ? 'inactive' : 'active';
    link.updatedAt = this.now();
    this.emitLinkEvent(link, link.status === 'active' ? 'pay_link.activated' : 'pay_link.deactivated');
    // A one_shot link re-activated after its TTL expires at once.
    return this.refresh(link);
  }

  /** DELETE /links/{id} (spec §4.6): only without any transaction, failed or pending included. */
  deleteLink(link: SandboxLink): void {
    if (this.transactionList.some((transaction) => transaction.linkId === link.id)) {
      throw new ApiError(422, {
        success: false,
        message: 'This payment link has transactions and cannot be deleted. Deactivate it instead.',
      });
    }
    this.linkMap.delete(link.id);
    this.emitLinkEvent(link, 'pay_link.deleted');
  }

  // ---- transactions ------------------------------------------------------------------------

  transactionsOf(linkId: string): SandboxTransaction[] {
    return this.transactionList.filter((transaction) => transaction.linkId === linkId);
  }

  transactionJson(transaction: SandboxTransaction): TransactionJson {
    const link = this.linkMap.get(transaction.linkId);
    return {
      id: transaction.id,
      transactionable_id: transaction.linkId,
      transactionable_type: 'App\\Models\\MytpePayLink',
      amount: transaction.amount,
      status: transaction.status,
      payment_method: 'online',
      payment_category: 'pay_link',
      environment: 'development',
      metadata: transaction.metadata,
      name: transaction.name,
      email: transaction.email,
      phone_number: transaction.phone,
      gateway_message: transaction.gatewayMessage,
      order_number: transaction.orderNumber,
      order_id: transaction.orderId,
      approval_code: transaction.approvalCode,
      pay_link_title: link?.title ?? null,
      created_at: laravelTime(transaction.createdAt),
      updated_at: laravelTime(transaction.updatedAt),
    };
  }

  /** A payer completes (or fails) a payment on the hosted page. */
  pay(link: SandboxLink, options: PayOptions = {}): SandboxTransaction {
    this.refresh(link);
    const instance = this.instance(link.instanceId);
    if (link.status !== 'active') {
      const why = link.status === 'inactive' ? 'paused' : this.paymentStatus(link);
      throw new ApiError(422, { success: false, message: `This payment link is not payable (${why}).` });
    }
    if (instance.status !== 'active') {
      throw new ApiError(422, { success: false, message: 'This MyTPE Pay instance cannot take payments.' });
    }
    const amountInput = options.amount ?? link.amount;
    if (
      amountInput === null ||
      !isNumeric(amountInput) ||
      !(Number(amountInput) > 0 && Number(amountInput) <= MAX_AMOUNT)
    ) {
      throw new ApiError(422, {
        message: 'The amount field must be greater than 0.',
        errors: { amount: ['The amount field must be greater than 0.'] },
      });
    }
    if (!link.settings.allow_anonymous) {
      // Without allow_anonymous the payer must give name, email and phone; the knob fills defaults.
      const v = new Validator();
      if (options.name !== undefined) v.required('name', options.name);
      if (options.email !== undefined) v.required('email', options.email);
      if (options.phone !== undefined) v.required('phone', options.phone);
      const failure = v.failure();
      if (failure) throw ApiError.validation(failure);
    }
    const outcome = options.outcome ?? 'completed';
    const at = this.now();
    this.orderSeq += 1;
    const transaction: SandboxTransaction = {
      id: randomUUID(),
      linkId: link.id,
      amount: normalizeAmount(amountInput),
      status: outcome,
      orderNumber: `MTP${String(this.orderSeq).padStart(10, '0')}`,
      orderId: randomBytes(10).toString('hex'),
      approvalCode: outcome === 'completed' ? randomBytes(3).toString('hex').toUpperCase() : null,
      gatewayMessage: outcome === 'completed' ? 'Votre paiement a été accepté' : 'Carte refusée (sandbox)',
      name: options.name ?? (link.settings.allow_anonymous ? null : 'Sandbox Payer'),
      email: options.email ?? (link.settings.allow_anonymous ? null : 'payer@sandbox.example'),
      phone: options.phone ?? (link.settings.allow_anonymous ? null : '+213555000000'),
      metadata: {
        ...link.metadata,
        original_slug: link.slug,
        payment_link_id: link.id,
        payment_mode: link.paymentMode,
      },
      createdAt: at,
      updatedAt: at,
    };
    this.transactionList.push(transaction);
    let closed = false;
    if (outcome === 'completed') {
      link.successfulPaymentsCount += 1;
      link.collectedMinor += minorOf(transaction.amount);
      if (link.paymentMode === 'one_shot') {
        link.status = 'closed';
        link.closedReason = 'paid';
        closed = true;
      } else if (
        link.paymentMode === 'limited' &&
        link.successfulPaymentsCount >= (link.maxPayments ?? Infinity)
      ) {
        link.status = 'closed';
        link.closedReason = 'quota';
        closed = true;
      }
      link.updatedAt = at;
    }
    this.emitTransactionEvent(link, transaction);
    if (closed) this.emitLinkEvent(link, 'pay_link.closed');
    return transaction;
  }

  // ---- webhook payloads (spec §5) ----------------------------------------------------------

  private payLinkPayload(link: SandboxLink): Record<string, unknown> {
    return {
      id: link.id,
      title: link.title,
      details: link.details,
      slug: link.slug,
      type: link.type,
      amount: link.amount === null ? null : rawJsonNumber(link.amount),
      status: link.status,
      payment_mode: link.paymentMode,
      max_payments: link.maxPayments,
      successful_payments_count: link.successfulPaymentsCount,
      remaining_payments:
        link.paymentMode === 'limited' && link.maxPayments !== null
          ? Math.max(0, link.maxPayments - link.successfulPaymentsCount)
          : null,
    };
  }

  private emitLinkEvent(link: SandboxLink, event: string): void {
    const instance = this.instances.get(link.instanceId);
    if (!instance) return;
    const payLink = this.payLinkPayload(link);
    const timestamp = laravelTime(this.now());
    this.options.emit(instance, event, (deliveryId) => ({
      delivery_id: deliveryId,
      event,
      timestamp,
      data: { pay_link: payLink, instance: { id: instance.id, name: instance.name } },
    }));
  }

  private emitTransactionEvent(link: SandboxLink, transaction: SandboxTransaction): void {
    const instance = this.instances.get(link.instanceId);
    if (!instance) return;
    const event = `transaction.${transaction.status}`;
    const payLink = this.payLinkPayload(link);
    const timestamp = laravelTime(this.now());
    this.options.emit(instance, event, (deliveryId) => ({
      delivery_id: deliveryId,
      event,
      timestamp,
      data: {
        transaction: {
          id: transaction.id,
          order_number: transaction.orderNumber,
          order_id: transaction.orderId,
          status: transaction.status,
          amount: rawJsonNumber(transaction.amount),
          payment_method: 'online',
          environment: 'development',
          approval_code: transaction.approvalCode,
          gateway_message: transaction.gatewayMessage,
          motif: null,
          customer: { name: transaction.name, email: transaction.email, phone: transaction.phone },
          metadata: transaction.metadata,
          created_at: laravelTime(transaction.createdAt),
          updated_at: laravelTime(transaction.updatedAt),
        },
        pay_link: payLink,
        instance: { id: instance.id, name: instance.name },
      },
    }));
  }
}

function isPresentValue(value: unknown): boolean {
  return value !== undefined && value !== null && value !== '';
}

function validateSettings(v: Validator, value: unknown): Partial<SandboxLink['settings']> {
  const out: Partial<SandboxLink['settings']> = {};
  if (value === undefined || value === null) return out;
  if (!v.array('settings', value)) return out;
  for (const key of ['show_retry_button', 'allow_anonymous'] as const) {
    const raw = value[key];
    if (raw === undefined) continue;
    if (v.boolean(`settings.${key}`, raw)) out[key] = parseBoolean(raw) ?? false;
  }
  return out;
}

function validateLogo(v: Validator, value: unknown): void {
  if (value === undefined || value === null || value === '') return;
  if (!(value instanceof Blob)) {
    v.add('logo', 'The logo field must be an image.');
    return;
  }
  if (!['image/jpeg', 'image/png'].includes(value.type))
    v.add('logo', 'The logo field must be a file of type: jpg, png.');
  if (value.size > 2048 * 1024) v.add('logo', 'The logo field must not be greater than 2048 kilobytes.');
}
