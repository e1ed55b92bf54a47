/**
 * Turns an InvoiceEmail into subject, HTML and plain text with the handlebars templates in
 * templates/ (layout and resolution rules: templates/README.md), letting an admin's override
 * folder replace any file. `TemplateFolders` (that resolution, the strings, the `t` helper) also
 * serves the pay page (src/paypage/render.ts).
 */

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { z } from 'zod';
import { fillPlaceholders } from '../domain/placeholders.js';
import { formatAmount, formatDate } from './format.js';
import { FALLBACK_LANGUAGE, resolveLanguage } from './language.js';
import type { InvoiceEmail } from './model.js';

/** The templates shipped with the package (same relative place from src/mail and dist/mail). */
export const PACKAGE_TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

const PARTIALS = ['layout', 'header', 'summary', 'intro', 'pay-button', 'footer'] as const;
export type Mode = 'html' | 'text';

export interface RendererOptions {
  /** Defaults to the package's templates/. */
  templatesDir?: string;
  /** Admin folder; a file there with the same relative path replaces the packaged one. */
  overrideDir?: string | null;
}

export interface RenderInput {
  email: InvoiceEmail;
  /** Image source of the QR code: 'cid:…' in a mail, a data: URI in a preview. */
  qrSrc: string;
  /** Whether the invoice PDF goes with this email (the text mentions it only then). */
  pdfAttached: boolean;
  /** Forces a template language instead of the partner's. */
  lang?: string;
}

export interface RenderedEmail {
  /** Template folder used, e.g. 'fr'. */
  language: string;
  subject: string;
  html: string;
  text: string;
}

export class TemplateError extends Error {
  override name = 'TemplateError';
}

const stringsSchema = z
  .object({
    locale: z.string().min(2),
    dir: z.enum(['ltr', 'rtl']),
  })
  .catchall(z.string());
export type Strings = z.infer<typeof stringsSchema>;

interface LanguagePack {
  strings: Strings;
  subject: HandlebarsTemplateDelegate;
  html: HandlebarsTemplateDelegate;
  text: HandlebarsTemplateDelegate;
}

/**
 * `{{t "key" name=value}}`: the language's string with `{name}` placeholders filled in one
 * pass, so a value that itself contains `{other}` is left as typed. The result is a plain string,
 * which handlebars escapes in HTML templates like any other value.
 */
function translate(...args: unknown[]): string {
  const options = args[args.length - 1] as Handlebars.HelperOptions;
  const key = String(args[0]);
  const root: unknown = options.data?.root;
  const strings = (root as { strings?: Record<string, unknown> } | undefined)?.strings ?? {};
  const template = strings[key];
  if (typeof template !== 'string') return key;
  const hash = options.hash as Record<string, unknown>;
  return fillPlaceholders(template, (name) => {
    if (!Object.hasOwn(hash, name)) return undefined;
    const value = hash[name];
    return value === null || value === undefined ? '' : String(value);
  });
}

function listDirs(dir: string | null | undefined): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir).filter((name) => {
    try {
      return statSync(join(dir, name)).isDirectory() && name !== 'partials';
    } catch {
      return false;
    }
  });
}

/** What every template gets under `lang`, from a template folder name and its strings. */
export function languageView(language: string, strings: Strings) {
  const { locale, dir } = strings;
  return {
    code: language.replace(/_/g, '-'),
    locale,
    dir,
    // Email clients ignore CSS logical properties, so the sides are spelled out.
    start: dir === 'rtl' ? 'right' : 'left',
    end: dir === 'rtl' ? 'left' : 'right',
  };
}

/**
 * The two template roots (package, admin override) and the languages they hold: the file
 * resolution of templates/README.md, shared by the email and the pay page.
 */
export class TemplateFolders {
  private readonly templatesDir: string;
  private readonly overrideDir: string | null;
  private readonly available: string[];
  private readonly strings = new Map<string, Strings>();

  constructor(options: RendererOptions = {}) {
    this.templatesDir = options.templatesDir ?? PACKAGE_TEMPLATES_DIR;
    this.overrideDir = options.overrideDir ?? null;
    const candidates = new Set([...listDirs(this.templatesDir), ...listDirs(this.overrideDir)]);
    this.available = [...candidates].filter((lang) => this.find(join(lang, 'strings.json')) !== null).sort();
    if (!this.available.includes(FALLBACK_LANGUAGE)) {
      throw new TemplateError(
        `no ${FALLBACK_LANGUAGE}/strings.json in ${this.templatesDir}: the English templates are the fallback and must exist`,
      );
    }
  }

  /** Template languages found (folders with a strings.json). */
  languages(): string[] {
    return [...this.available];
  }

  /** The language used for a partner's Odoo `lang`. */
  languageFor(odooLang: string | null | undefined): string {
    return resolveLanguage(odooLang, this.available);
  }

  /** A language's own file (`fr/html.hbs`) if there is one, else the shared one (`html.hbs`). */
  read(language: string, relative: string): string {
    const path = this.find(join(language, relative)) ?? this.find(relative);
    if (!path) throw new TemplateError(`template ${relative} not found for language ${language}`);
    return readFileSync(path, 'utf8');
  }

  /** A language's strings over English, so a new language can start from a partial translation. */
  stringsFor(language: string): Strings {
    const cached = this.strings.get(language);
    if (cached) return cached;
    const english = this.readStrings(FALLBACK_LANGUAGE);
    const strings = language === FALLBACK_LANGUAGE ? english : { ...english, ...this.readStrings(language) };
    this.strings.set(language, strings);
    return strings;
  }

  /**
   * A handlebars environment with the `t` helper and the named partials: they are registered by
   * name, and a language may bring its own version of any of them.
   */
  environment(language: string, mode: Mode, partials: readonly string[]): typeof Handlebars {
    const env = Handlebars.create();
    env.registerHelper('t', translate);
    for (const name of partials) {
      const source = this.read(language, join('partials', `${name}.${mode}.hbs`));
      // Compiled here rather than registered as text, so partials get the same options as their part.
      env.registerPartial(name, compileIn(env, mode, source));
    }
    return env;
  }

  /** Path of a template file: the override folder first, then the package. */
  private find(relative: string): string | null {
    for (const root of [this.overrideDir, this.templatesDir]) {
      if (!root) continue;
      const path = join(root, relative);
      if (existsSync(path)) return path;
    }
    return null;
  }

  private readStrings(language: string): Strings {
    const path = this.find(join(language, 'strings.json'));
    if (!path) throw new TemplateError(`${language}/strings.json not found`);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (error) {
      throw new TemplateError(`${path} is not valid JSON: ${error instanceof Error ? error.message : error}`);
    }
    const parsed = stringsSchema.safeParse(json);
    if (!parsed.success) {
      throw new TemplateError(`${path} is invalid: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    return parsed.data;
  }
}

export class EmailRenderer {
  private readonly folders: TemplateFolders;
  private readonly packs = new Map<string, LanguagePack>();

  constructor(options: RendererOptions = {}) {
    this.folders = new TemplateFolders(options);
  }

  /** Template languages found (folders with a strings.json). */
  languages(): string[] {
    return this.folders.languages();
  }

  /** The language used for a partner's Odoo `lang`. */
  languageFor(odooLang: string | null | undefined): string {
    return this.folders.languageFor(odooLang);
  }

  render(input: RenderInput): RenderedEmail {
    const { email } = input;
    const language = this.languageFor(input.lang ?? email.partner.lang);
    const pack = this.pack(language);
    const { locale } = pack.strings;
    const reminder = email.kind === 'reminder';
    const view = {
      lang: languageView(language, pack.strings),
      strings: pack.strings,
      reminder,
      company: {
        name: email.company.name,
        email: email.company.email || null,
        website: email.company.website || null,
        logoUrl: email.company.logoUrl || null,
      },
      partner: { name: email.partner.name },
      invoice: {
        name: email.invoice.name,
        invoiceDate: formatDate(email.invoice.invoiceDate, locale),
        dueDate: formatDate(email.invoice.dueDate, locale),
        amount: formatAmount(email.invoice.amount, locale),
        overdueSince: reminder ? formatDate(email.overdueSince, locale) : null,
      },
      payment: { url: email.payment.url, gatewayName: email.payment.gatewayName },
      qr: { src: input.qrSrc },
      pdfAttached: input.pdfAttached,
    };
    try {
      return {
        language,
        // A header: one line, whatever the template or the values contain.
        subject: pack.subject(view).replace(/\s+/g, ' ').trim(),
        html: pack.html(view),
        text: tidyText(pack.text(view)),
      };
    } catch (error) {
      throw new TemplateError(
        `the ${language} email templates failed to render: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  private pack(language: string): LanguagePack {
    const cached = this.packs.get(language);
    if (cached) return cached;
    const html = this.folders.environment(language, 'html', PARTIALS);
    const text = this.folders.environment(language, 'text', PARTIALS);
    const pack: LanguagePack = {
      strings: this.folders.stringsFor(language),
      subject: compileIn(text, 'text', this.folders.read(language, 'subject.hbs')),
      html: compileIn(html, 'html', this.folders.read(language, 'html.hbs')),
      text: compileIn(text, 'text', this.folders.read(language, 'text.hbs')),
    };
    this.packs.set(language, pack);
    return pack;
  }

  /** Renders every language with the sample model, so a broken override shows at startup. */
  selfCheck(sample: (lang: string) => InvoiceEmail): void {
    for (const language of this.languages()) {
      for (const kind of ['invoice', 'reminder'] as const) {
        const email: InvoiceEmail = { ...sample(language), kind };
        this.render({ email, qrSrc: 'cid:check', pdfAttached: true, lang: language });
      }
    }
  }
}

/**
 * Only our template files are ever compiled; values from Odoo are data, never template source.
 * The text part is compiled without HTML escaping: text/plain has no markup to inject into, and
 * "&amp;" would reach the customer as is.
 */
export function compileIn(env: typeof Handlebars, mode: Mode, source: string): HandlebarsTemplateDelegate {
  return env.compile(source, { noEscape: mode === 'text', strict: false });
}

function tidyText(text: string): string {
  return `${text
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}
