/** The reminder variant: its own subject, preheader and first line; the rest as in the invoice email. */
import { describe, expect, it } from 'vitest';
import type { InvoiceEmail } from './model.js';
import { sampleInvoiceEmail } from './preview.js';
import { EmailRenderer } from './render.js';

const renderer = new EmailRenderer();

function render(lang: string, extra: Pick<InvoiceEmail, 'kind' | 'overdueSince'>) {
  return renderer.render({
    email: { ...sampleInvoiceEmail(lang), ...extra },
    qrSrc: 'cid:qr',
    pdfAttached: true,
  });
}

/** The intro paragraph of the HTML part, and the preheader (the hidden first div). */
function parts(html: string) {
  return {
    intro: /<p style="margin:0;">([^<]*)<\/p>/.exec(html)?.[1],
    preheader: /<div style="display:none;[^"]*">([^<]*)<\/div>/.exec(html)?.[1],
    title: /<title>([^<]*)<\/title>/.exec(html)?.[1],
  };
}

const invoice = 'INV/2025/00042';
const company = 'Atlas Distribution SARL';

describe.each([
  {
    lang: 'en',
    subject: `Reminder: invoice ${invoice} from ${company}`,
    intro: `This is a friendly reminder that invoice ${invoice} from ${company} is still open. You can pay it online, securely, in one tap.`,
    overdue: `Invoice ${invoice} from ${company} has been overdue since April 4, 2025. You can pay it online, securely, in one tap.`,
    preheader: /^Reminder: DZD.123,450\.00 is still due on invoice INV\/2025\/00042\./,
    invoiceSubject: `Invoice ${invoice} from ${company}`,
    button: 'Pay now',
  },
  {
    lang: 'fr',
    subject: `Rappel : facture ${invoice} de ${company}`,
    intro: `Nous nous permettons de vous rappeler que la facture ${invoice} de ${company} n’est pas encore réglée. Vous pouvez la payer en ligne, en toute sécurité, en un clic.`,
    overdue: `La facture ${invoice} de ${company} est échue depuis le 4 avril 2025. Vous pouvez la régler en ligne, en toute sécurité, en un clic.`,
    preheader: /^Rappel : il reste 123.450,00.DZD à régler sur la facture INV\/2025\/00042\./,
    invoiceSubject: `Facture ${invoice} de ${company}`,
    button: 'Payer maintenant',
  },
  {
    lang: 'ar',
    subject: `تذكير: الفاتورة ${invoice} من ${company}`,
    intro: `نودّ تذكيركم بأن الفاتورة ${invoice} الصادرة عن ${company} لم تُسدَّد بعد. يمكنكم دفعها عبر الإنترنت بأمان وبنقرة واحدة.`,
    overdue: `الفاتورة ${invoice} الصادرة عن ${company} متأخرة السداد منذ 4 أفريل 2025. يمكنكم دفعها عبر الإنترنت بأمان وبنقرة واحدة.`,
    preheader: /^تذكير: لا يزال مبلغ .*123\.450,00.* مستحقًا للفاتورة INV\/2025\/00042\./,
    invoiceSubject: `الفاتورة ${invoice} من ${company}`,
    button: 'ادفع الآن',
  },
])('$lang', ({ lang, subject, intro, overdue, preheader, invoiceSubject, button }) => {
  it('a reminder has its own subject, preheader and intro, in both parts', () => {
    const rendered = render(lang, { kind: 'reminder' });
    expect(rendered.language).toBe(lang);
    expect(rendered.subject).toBe(subject);
    const html = parts(rendered.html);
    expect(html.title).toBe(subject);
    expect(html.intro).toBe(intro);
    expect(html.preheader).toMatch(preheader);
    expect(rendered.text).toContain(`\n${intro}\n\n`);
  });

  it('a reminder after the due date says since when, with the date in the language', () => {
    const rendered = render(lang, { kind: 'reminder', overdueSince: '2025-04-04' });
    expect(rendered.subject).toBe(subject);
    expect(parts(rendered.html).intro).toBe(overdue);
    expect(rendered.text).toContain(`\n${overdue}\n\n`);
    expect(rendered.text).not.toContain(intro);
  });

  it('keeps the button, QR code and amount of the invoice email', () => {
    const reminder = render(lang, { kind: 'reminder', overdueSince: '2025-04-04' });
    const original = render(lang, {});
    const tail = (html: string) => html.slice(html.indexOf('<td class="pl-amount"'));
    expect(tail(reminder.html)).toBe(tail(original.html));
    expect(reminder.html).toContain(`>${button}</a>`);
    expect(reminder.html).toContain('src="cid:qr"');
  });

  it("without a kind, or as 'invoice', is the invoice email (overdueSince is ignored)", () => {
    const absent = render(lang, {});
    const explicit = render(lang, { kind: 'invoice', overdueSince: '2025-04-04' });
    expect(absent.subject).toBe(invoiceSubject);
    expect(explicit).toEqual(absent);
    expect(absent.html).not.toContain('2025-04-04');
  });
});

it('shows an unparseable overdue date as Odoo sent it rather than dropping the sentence', () => {
  const email = { ...sampleInvoiceEmail('en'), kind: 'reminder' as const, overdueSince: 'sometime' };
  const { html } = renderer.render({ email, qrSrc: 'cid:qr', pdfAttached: false });
  expect(parts(html).intro).toContain('has been overdue since sometime.');
});

it('self check renders the reminder too', () => {
  expect(() => renderer.selfCheck(sampleInvoiceEmail)).not.toThrow();
});
