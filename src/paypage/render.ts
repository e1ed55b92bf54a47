/**
 * The page `GET /pay/<token>` shows when it cannot send the customer on to a live payment link:
 * the invoice is paid, cancelled or not payable online, or payment is briefly down. Same template
 * folders, languages and look as the invoice email (templates/page.html.hbs, templates/README.md).
 */
import type { Money } from '../domain/money.js';
import { formatAmount, formatDate } from '../mail/format.js';
import {
  compileIn,
  languageView,
  type RendererOptions,
  TemplateError,
  TemplateFolders,
} from '../mail/render.js';

export type PayPageKind =
  | 'paid'
  | 'cancelled'
  | 'not_payable'
  | 'unavailable'
  /** Back from a gateway's page: the payment is being confirmed. */
  | 'confirming'
  /** Back from a gateway's page without paying: a new try through the pay page. */
  | 'not_completed'
  /** A return we could not verify: nothing of what it says is shown. */
  | 'unconfirmed';

export type PayPage = {
  /** Odoo's invoice number, e.g. INV/2025/00042. */
  invoiceName: string;
  company: { name: string; email?: string | null; website?: string | null; logoUrl?: string | null };
  /** The partner's Odoo `lang` (fr_FR, ar_001…); English when absent or unknown. */
  lang?: string | null;
  amount?: Money;
} & (
  | { kind: 'paid' /** Odoo date 'YYYY-MM-DD' of the payment, when known. */; paidOn: string | null }
  | { kind: 'cancelled' }
  | { kind: 'not_payable' }
  | { kind: 'unavailable' }
  | { kind: 'confirming' }
  | { kind: 'not_completed'; retryUrl: string | null }
  | { kind: 'unconfirmed' }
);

export interface RenderedPayPage {
  /** HTTP status to answer with: 503 while payment is down, so nothing caches it as the answer. */
  status: number;
  html: string;
  /** Template folder used, e.g. 'fr'. */
  language: string;
}

const STATUS: Record<PayPageKind, number> = {
  paid: 200,
  cancelled: 200,
  not_payable: 200,
  unavailable: 503,
  confirming: 200,
  not_completed: 200,
  unconfirmed: 400,
};
const KINDS = Object.keys(STATUS) as PayPageKind[];
const PARTIALS = ['header', 'page-contact', 'page-footer'] as const;

/**
 * Only http(s) logos: the email model refuses anything else when it is queued, but a page is built
 * straight from Odoo data, and `data:` or `javascript:` in a src is not ours to pass on.
 */
function webUrl(value: string | null | undefined): string | null {
  if (!value) return null;
  try {
    const { protocol } = new URL(value);
    return protocol === 'https:' || protocol === 'http:' ? value : null;
  } catch {
    return null;
  }
}

/** A broken amount drops the amount line, never the page. */
function amountText(amount: Money | undefined, locale: string): string | null {
  if (!amount) return null;
  try {
    return formatAmount(amount, locale);
  } catch {
    return null;
  }
}

export class PayPageRenderer {
  private readonly folders: TemplateFolders;
  private readonly pages = new Map<string, HandlebarsTemplateDelegate>();

  constructor(options: RendererOptions = {}) {
    this.folders = new TemplateFolders(options);
  }

  /** The language used for a partner's Odoo `lang`. */
  languageFor(odooLang: string | null | undefined): string {
    return this.folders.languageFor(odooLang);
  }

  render(page: PayPage): RenderedPayPage {
    const language = this.languageFor(page.lang);
    const strings = this.folders.stringsFor(language);
    const { locale } = strings;
    const view = {
      lang: languageView(language, strings),
      strings,
      company: {
        name: page.company.name,
        email: page.company.email || null,
        website: page.company.website || null,
        logoUrl: webUrl(page.company.logoUrl),
      },
      invoice: { name: page.invoiceName, amount: amountText(page.amount, locale) },
      page: {
        kind: page.kind,
        paid: page.kind === 'paid',
        cancelled: page.kind === 'cancelled',
        notPayable: page.kind === 'not_payable',
        unavailable: page.kind === 'unavailable',
        paidOn: page.kind === 'paid' ? formatDate(page.paidOn, locale) : null,
        confirming: page.kind === 'confirming',
        notCompleted: page.kind === 'not_completed',
        unconfirmed: page.kind === 'unconfirmed',
        retryUrl: page.kind === 'not_completed' ? webUrl(page.retryUrl) : null,
      },
    };
    try {
      return { status: STATUS[page.kind], html: this.template(language)(view), language };
    } catch (error) {
      throw new TemplateError(
        `the ${language} pay page template failed to render: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** Renders every kind in every language, so a broken override shows at startup. */
  selfCheck(): void {
    for (const language of this.folders.languages()) {
      for (const kind of KINDS) this.render({ ...samplePayPage(kind), lang: language });
    }
  }

  private template(language: string): HandlebarsTemplateDelegate {
    const cached = this.pages.get(language);
    if (cached) return cached;
    const env = this.folders.environment(language, 'html', PARTIALS);
    const template = compileIn(env, 'html', this.folders.read(language, 'page.html.hbs'));
    this.pages.set(language, template);
    return template;
  }
}

/** A realistic page of each kind, for tests and the self check. */
export function samplePayPage(kind: PayPageKind, lang: string | null = null): PayPage {
  const common = {
    invoiceName: 'INV/2025/00042',
    company: {
      name: 'Atlas Distribution SARL',
      email: 'facturation@atlas-distribution.dz',
      website: 'www.atlas-distribution.dz',
      logoUrl: null,
    },
    lang,
    amount: { minor: 12_345_000, currency: 'DZD', decimals: 2 },
  };
  if (kind === 'paid') return { ...common, kind, paidOn: '2025-03-18' };
  if (kind === 'not_completed') return { ...common, kind, retryUrl: 'https://pay.example.com/pay/token' };
  return { ...common, kind };
}
