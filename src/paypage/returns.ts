import type {
  Gateway,
  GatewayEvent,
  GatewayWebhooks,
  LinkRecord,
  WebhookDelivery,
} from '../gateways/gateway.js';
import type { Logger } from '../log.js';
import type { CompanyRoute } from '../pipeline/deps.js';
import type { CompanyContact, InvoiceLedger } from '../pipeline/ports.js';
import type { LinkSteps } from '../pipeline/steps.js';
import type { EventRepository } from '../store/events.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { PayPage, PayPageRenderer } from './render.js';
import type { PayPageAnswer } from './service.js';

/** A delivery checked and read: what it says, and the link it is about when we know it. */
export type CheckedDelivery =
  | { readonly ok: true; readonly event: GatewayEvent; readonly row: LinkRow | undefined }
  | { readonly ok: false; readonly status: 400 | 401; readonly reason: string };

/**
 * Verifies and parses a webhook or a customer's return. Where the gateway's signature covers what
 * only our record of the link holds (TiloPay's OrderHash: amount and email), the link it names is
 * looked up first and its record handed to verify; a delivery naming a link we do not know is
 * refused, as a forged one would be.
 */
export function checkDelivery(
  hooks: GatewayWebhooks,
  gateway: Gateway,
  delivery: WebhookDelivery,
  lookup: { links: LinkRepository; recordOf: (row: LinkRow, linkId: string) => LinkRecord | undefined },
): CheckedDelivery {
  let record: LinkRecord | undefined;
  let row: LinkRow | undefined;
  if (hooks.identify) {
    const pointer = hooks.identify(delivery);
    row = pointer && findRow(lookup.links, gateway.id, pointer);
    if (!row?.linkId) return { ok: false, status: 401, reason: 'it names no link of ours' };
    record = lookup.recordOf(row, row.linkId);
  }
  const verdict = hooks.verify(delivery, record);
  if (!verdict.ok) return { ok: false, status: 401, reason: verdict.reason };
  const parsed = hooks.parse(delivery);
  if (!parsed.ok) return { ok: false, status: 400, reason: parsed.error };
  return { ok: true, event: parsed.event, row: row ?? findRow(lookup.links, gateway.id, parsed.event) };
}

function findRow(
  links: LinkRepository,
  gateway: string,
  pointer: {
    linkId?: string | undefined;
    linkReference?: string | undefined;
    reference?: string | undefined;
  },
): LinkRow | undefined {
  const reference = pointer.linkReference ?? pointer.reference;
  return (
    (pointer.linkId ? links.byLinkId(gateway, pointer.linkId) : undefined) ??
    (reference ? links.byReference(gateway, reference) : undefined)
  );
}

export interface ReturnDeps {
  readonly gateways: ReadonlyMap<string, Gateway>;
  readonly companies: readonly CompanyRoute[];
  readonly links: LinkRepository;
  readonly events: EventRepository;
  readonly steps: LinkSteps;
  readonly ledger: InvoiceLedger;
  readonly renderer: PayPageRenderer;
  readonly payAddress: (invoiceId: number) => string;
  readonly logoUrl: (companyId: number) => string | null;
  readonly log: Logger;
  readonly now: () => number;
  /** How long the customer's page waits for the gateway to confirm before saying "being confirmed". */
  readonly confirmWithinMs?: number;
}

/**
 * `/return/<gateway>`: the customer's browser back from a gateway's hosted page. The signed result
 * is stored like a webhook and the link confirmed with the gateway at once (its word alone never
 * moves money); the customer sees what is true after that, in their language, and never the raw
 * parameters.
 */
export class ReturnService {
  constructor(private readonly deps: ReturnDeps) {}

  handles(gatewayId: string): boolean {
    return this.deps.gateways.get(gatewayId)?.returns !== undefined;
  }

  async receive(
    gatewayId: string,
    delivery: WebhookDelivery,
    context: { ip: string; acceptLanguage: string | undefined },
  ): Promise<PayPageAnswer> {
    const { log, events, now } = this.deps;
    const gateway = this.deps.gateways.get(gatewayId);
    const returns = gateway?.returns;
    if (!gateway || !returns) return { kind: 'not_found' };
    const lang = browserLanguage(context.acceptLanguage);
    const checked = checkDelivery(returns, gateway, delivery, {
      links: this.deps.links,
      recordOf: (row, linkId) => this.recordOf(row, linkId),
    });
    if (!checked.ok) {
      log.warn(
        `SECURITY: refused a customer's return from ${gateway.displayName} (${checked.reason}); nothing was stored`,
        { ip: context.ip, reason: checked.reason },
      );
      return this.page(undefined, { kind: 'unconfirmed' }, lang);
    }
    const { event, row } = checked;
    events.record(gateway.id, event, delivery.rawBody.toString('utf8'), now());
    if (!row) {
      log.warn(`a customer came back from ${gateway.displayName} for a link we do not know`, {
        event: event.id,
        link: event.linkId,
      });
      return this.page(undefined, { kind: 'unconfirmed' }, lang);
    }
    const confirmed = await this.confirm(row, event);
    const current = this.deps.links.byId(row.id) ?? row;
    return this.page(current, this.pageFor(current, confirmed ? event.customerOutcome : 'pending'), lang);
  }

  /** Looks at the link now, so the customer's page says what the gateway says. */
  private async confirm(row: LinkRow, event: GatewayEvent): Promise<boolean> {
    const { steps, log } = this.deps;
    const work = steps.advance(row, { recheck: true }).then(
      (outcomes) => !outcomes.includes('busy'),
      (error: unknown) => {
        log.warn(
          `could not confirm invoice ${row.invoiceName} on the customer's return: ${(error as Error).message}`,
        );
        return false;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), this.deps.confirmWithinMs ?? 8_000);
    });
    const done = await Promise.race([work, late]).finally(() => clearTimeout(timer));
    // Handled here: the event worker need not read the link again.
    if (done) this.deps.events.finishByEventId(row.gateway, event.id, this.deps.now());
    return done;
  }

  private pageFor(row: LinkRow, outcome: GatewayEvent['customerOutcome']): PageKind {
    switch (row.state) {
      case 'paid':
      case 'registered':
        return { kind: 'paid', paidOn: row.paidAt ? new Date(row.paidAt).toISOString().slice(0, 10) : null };
      case 'mismatch':
      case 'refund_needed':
        // Money moved and a person at the merchant looks at it: nothing for the customer to redo.
        return { kind: 'confirming' };
      case 'open':
      case 'writing_back':
      case 'creating':
        return outcome === 'failed' || outcome === 'cancelled'
          ? { kind: 'not_completed', retryUrl: this.deps.payAddress(row.invoiceId) }
          : { kind: 'confirming' };
      case 'expired':
      case 'closed':
      case 'closing':
      case 'failed':
        return outcome === 'paid' || outcome === 'pending'
          ? { kind: 'confirming' }
          : { kind: 'not_completed', retryUrl: this.deps.payAddress(row.invoiceId) };
    }
  }

  private recordOf(row: LinkRow, linkId: string): LinkRecord | undefined {
    const route = this.deps.companies.find((company) => company.companyId === row.companyId);
    return route ? this.deps.steps.linkContext(route, row, linkId).record : undefined;
  }

  private async page(row: LinkRow | undefined, page: PageKind, lang: string | null): Promise<PayPageAnswer> {
    let company: CompanyContact | undefined;
    if (row) {
      try {
        company = await this.deps.ledger.companyContact(row.companyId);
      } catch {
        // The page still says what it must, without the company's details.
      }
    }
    const rendered = this.deps.renderer.render({
      ...page,
      invoiceName: row?.invoiceName ?? '',
      company: {
        name: company?.name ?? '',
        email: company?.email ?? null,
        website: company?.website ?? null,
        logoUrl: row ? this.deps.logoUrl(row.companyId) : null,
      },
      lang,
      ...(row ? { amount: row.amount } : {}),
    } as PayPage);
    return { kind: 'page', status: rendered.status, html: rendered.html };
  }
}

type PageKind =
  | { kind: 'paid'; paidOn: string | null }
  | { kind: 'confirming' }
  | { kind: 'not_completed'; retryUrl: string | null }
  | { kind: 'unconfirmed' };

/** The browser's first language ('fr-CA' → 'fr_CA'), which the templates map to theirs. */
function browserLanguage(header: string | undefined): string | null {
  const first = header?.split(',')[0]?.split(';')[0]?.trim();
  return first && /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(first) ? first.replace('-', '_') : null;
}
