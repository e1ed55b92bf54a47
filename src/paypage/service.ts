import { exclusionOf, type Invoice, isPayable, isSettled, type PublishScope } from '../domain/invoice.js';
import type { Logger } from '../log.js';
import type { CompanyRoute } from '../pipeline/deps.js';
import type { CompanyContact, InvoiceLedger } from '../pipeline/ports.js';
import type { LinkSteps } from '../pipeline/steps.js';
import type { LinkRepository, LinkRow } from '../store/links.js';
import type { PayPage, PayPageRenderer } from './render.js';
import { payToken, verifyPayToken } from './token.js';

/** What `GET /pay/<token>` answers. */
export type PayPageAnswer =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'page'; readonly status: number; readonly html: string }
  | { readonly kind: 'not_found' };

export interface PayPageDeps {
  /** https address of the daemon behind its reverse proxy, without a trailing slash. */
  readonly publicUrl: string;
  readonly secret: string;
  readonly prefix: () => string;
  readonly companies: readonly CompanyRoute[];
  readonly links: LinkRepository;
  readonly steps: LinkSteps;
  readonly ledger: InvoiceLedger;
  readonly scope: PublishScope;
  readonly renderer: PayPageRenderer;
  /** The company logo URL for a company, as the email shows it. */
  readonly logoUrl: (companyId: number) => string | null;
  readonly log: Logger;
  readonly now: () => number;
}

/** A link this close to the end of its lifetime is checked at the gateway before anyone is sent there. */
const LIFETIME_MARGIN_MS = 10 * 60_000;

/**
 * One address per invoice for the life of the invoice: the customer's email, QR code and the
 * chatter carry `<publicUrl>/pay/<token>`, and opening it sends the customer on to the invoice's
 * live gateway link, making or replacing it on demand under the pipeline's exactly-once rules.
 * A live link is answered from the store alone; an invoice that cannot be paid gets a page.
 */
export class PayPageService {
  /** One look at an invoice at a time: a storm of requests waits for the same answer. */
  private readonly inFlight = new Map<number, Promise<PayPageAnswer>>();

  constructor(private readonly deps: PayPageDeps) {}

  /** The invoice's pay address. */
  addressOf(invoiceId: number): string {
    return `${this.deps.publicUrl}/pay/${payToken(this.deps.secret, this.deps.prefix(), invoiceId)}`;
  }

  /** The invoice a token names, if we issued it. */
  invoiceOf(token: string): number | undefined {
    return verifyPayToken(this.deps.secret, this.deps.prefix(), token);
  }

  async open(token: string): Promise<PayPageAnswer> {
    const invoiceId = this.invoiceOf(token);
    if (invoiceId === undefined) return { kind: 'not_found' };
    const live = this.liveLink(invoiceId);
    if (live) return { kind: 'redirect', location: live };
    let answer = this.inFlight.get(invoiceId);
    if (!answer) {
      answer = this.look(invoiceId).finally(() => this.inFlight.delete(invoiceId));
      this.inFlight.set(invoiceId, answer);
    }
    return answer;
  }

  /** The URL of an open link young enough to still be payable, from the store alone. */
  private liveLink(invoiceId: number): string | undefined {
    const row = this.deps.links.currentForInvoice(invoiceId);
    if (row?.state !== 'open' || !row.linkUrl) return undefined;
    const lifetime = this.route(row.companyId)?.gateway.linkLifetimeMs;
    if (lifetime !== undefined && this.deps.now() - row.createdAt > lifetime - LIFETIME_MARGIN_MS)
      return undefined;
    return row.linkUrl;
  }

  private route(companyId: number): CompanyRoute | undefined {
    return this.deps.companies.find((company) => company.companyId === companyId);
  }

  private async look(invoiceId: number): Promise<PayPageAnswer> {
    const { log } = this.deps;
    let found: { invoice: Invoice; route: CompanyRoute } | undefined;
    try {
      found = await this.findInvoice(invoiceId);
      if (!found) return { kind: 'not_found' };
      const { invoice, route } = found;
      const page = this.pageFor(invoice);
      if (page) return this.render(invoice, page);
      const location = await this.linkFor(route, invoice);
      if (location) return { kind: 'redirect', location };
      return this.render(invoice, { kind: 'unavailable' });
    } catch (error) {
      log.warn(
        `pay page of invoice ${invoiceId}: ${(error as Error).message}; the customer was asked to try again`,
        {
          invoiceId,
        },
      );
      return found ? this.render(found.invoice, { kind: 'unavailable' }) : this.unavailableWithoutInvoice();
    }
  }

  /** The invoice in the company that has it; the store says which when it linked it before. */
  private async findInvoice(
    invoiceId: number,
  ): Promise<{ invoice: Invoice; route: CompanyRoute } | undefined> {
    const known = this.deps.links.ofInvoice(invoiceId).at(-1);
    const routes = known
      ? this.deps.companies.filter((company) => company.companyId === known.companyId)
      : this.deps.companies;
    for (const route of routes) {
      const [invoice] = await this.deps.ledger.invoicesByIds(route.companyId, [invoiceId]);
      if (invoice && invoice.moveType === 'out_invoice') return { invoice, route };
    }
    return undefined;
  }

  private pageFor(invoice: Invoice): DistributivePick | undefined {
    if (isSettled(invoice)) {
      const paid = this.deps.links
        .ofInvoice(invoice.id)
        .filter((row) => row.paidAt !== null)
        .at(-1);
      return { kind: 'paid', paidOn: paid?.paidAt ? new Date(paid.paidAt).toISOString().slice(0, 10) : null };
    }
    if (invoice.state === 'cancel') return { kind: 'cancelled' };
    if (!isPayable(invoice) || exclusionOf(invoice, this.deps.scope)) return { kind: 'not_payable' };
    if (!this.route(invoice.companyId)?.gateway.currencies.includes(invoice.residual.currency))
      return { kind: 'not_payable' };
    return undefined;
  }

  /**
   * The invoice's live link, made or replaced now if needed. Creation goes through the same
   * steps as publishing: the store admits one payable link per invoice, so a second request, a
   * pass running at the same moment or another process finds it instead of making another.
   */
  private async linkFor(route: CompanyRoute, invoice: Invoice): Promise<string | undefined> {
    const { links, steps } = this.deps;
    // Twice at most: a checkout order (on_visit gateways) found expired just now is renewed for
    // the customer who is here, as the pipeline leaves it to the pay page.
    for (let round = 0; round < 2; round++) {
      let row: LinkRow | undefined = links.currentForInvoice(invoice.id);
      if (row && row.state !== 'open' && row.state !== 'creating' && row.state !== 'writing_back')
        row = undefined;
      if (!row) {
        row = steps.newLinkFor(route, invoice) ?? links.currentForInvoice(invoice.id);
        if (!row) return undefined;
      }
      // An open link near its lifetime's end is looked at now (and replaced when it expired); a
      // new one is made and put on the invoice. What is open after that was just checked.
      await steps.advance(row, { invoice });
      const current = links.currentForInvoice(invoice.id);
      if (current?.state === 'open' && current.linkUrl) return current.linkUrl;
      if (current || links.byId(row.id)?.state !== 'expired') return undefined;
    }
    return undefined;
  }

  private async render(invoice: Invoice, page: DistributivePick): Promise<PayPageAnswer> {
    let company: CompanyContact | undefined;
    try {
      company = await this.deps.ledger.companyContact(invoice.companyId);
    } catch {
      // The page still says what it must, with the name Odoo gave on the invoice.
    }
    const rendered = this.deps.renderer.render({
      ...page,
      invoiceName: invoice.name,
      company: {
        name: company?.name ?? invoice.companyName,
        email: company?.email ?? null,
        website: company?.website ?? null,
        logoUrl: this.deps.logoUrl(invoice.companyId),
      },
      lang: invoice.partner?.lang ?? null,
      amount: invoice.residual,
    } as PayPage);
    return { kind: 'page', status: rendered.status, html: rendered.html };
  }

  private unavailableWithoutInvoice(): PayPageAnswer {
    const rendered = this.deps.renderer.render({
      kind: 'unavailable',
      invoiceName: '',
      company: { name: '' },
    });
    return { kind: 'page', status: rendered.status, html: rendered.html };
  }
}

type DistributivePick =
  | { kind: 'paid'; paidOn: string | null }
  | { kind: 'cancelled' }
  | { kind: 'not_payable' }
  | { kind: 'unavailable' };
