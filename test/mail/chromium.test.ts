/**
 * The rendered email in a real browser engine: the Pay button is visible and links to the
 * payment URL, Arabic is laid out right to left, nothing is fetched, and hostile values stay
 * inert. The pay page's status pages get the same checks. Screenshots land in test-output/ for
 * a human look.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPreview, sampleInvoiceEmail } from '../../src/mail/preview.js';
import { EmailRenderer } from '../../src/mail/render.js';
import { PayPageRenderer, samplePayPage } from '../../src/paypage/render.js';
import { hostileEmail } from './helpers.js';

// The project compiles without lib.dom; these are the few page-side shapes the checks use.
interface PageElement {
  tagName: string;
  attributes: Iterable<{ name: string }>;
  parentElement: PageElement | null;
  naturalWidth?: number;
  getBoundingClientRect(): { width: number };
}
declare const document: {
  documentElement: PageElement & { lang: string; scrollWidth: number };
  body: PageElement & { textContent: string | null };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement> & { length: number };
};
declare function getComputedStyle(element: PageElement): {
  direction: string;
  color: string;
  backgroundColor: string;
};

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT_DIR = resolve(import.meta.dirname, '../../test-output');
const missing = !existsSync(CHROMIUM);

if (missing) {
  it.skip("headless Chromium checks: install Debian's chromium (apt-get install chromium) to run this test", () => {});
}

describe.skipIf(missing)('invoice email in headless Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(OUTPUT_DIR, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a page that refuses (and records) every request that is not the file itself or inline data. */
  async function openPage(width: number): Promise<{ page: Page; remote: string[] }> {
    const page = await browser.newPage({ viewport: { width, height: 900 } });
    const remote: string[] = [];
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      remote.push(url);
      return route.abort();
    });
    return { page, remote };
  }

  it.each([
    { lang: 'en', button: 'Pay now', dir: 'ltr' },
    { lang: 'fr', button: 'Payer maintenant', dir: 'ltr' },
    { lang: 'ar', button: 'ادفع الآن', dir: 'rtl' },
  ])(
    '$lang: the Pay button is visible and links to the payment URL ($dir)',
    async ({ lang, button, dir }) => {
      const email = sampleInvoiceEmail(lang);
      const file = await renderPreview({
        sample: true,
        lang,
        outFile: join(OUTPUT_DIR, `email-${lang}.html`),
      });
      const { page, remote } = await openPage(800);
      try {
        await page.goto(pathToFileURL(file).href);

        const pay = page.getByRole('link', { name: button, exact: true });
        expect(await pay.count()).toBe(1);
        expect(await pay.isVisible()).toBe(true);
        expect(await pay.getAttribute('href')).toBe(email.payment.url);
        const box = await pay.boundingBox();
        expect(box?.width).toBeGreaterThan(180);
        expect(box?.height).toBeGreaterThan(40);
        // It looks like a button: white text on the brand colour.
        const colours = await pay.evaluate((a: PageElement) => ({
          text: getComputedStyle(a).color,
          background: getComputedStyle(a.parentElement ?? a).backgroundColor,
        }));
        expect(colours).toEqual({ text: 'rgb(255, 255, 255)', background: 'rgb(11, 92, 171)' });

        expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
        expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe(dir);
        expect(await pay.evaluate((a: PageElement) => getComputedStyle(a).direction)).toBe(dir);

        // The QR code shows (inlined as data: in the preview) and the URL is there as text.
        const qr = page.locator('img[src^="data:image/png"]');
        expect(await qr.evaluate((img: PageElement) => img.naturalWidth ?? 0)).toBeGreaterThan(100);
        expect(await page.getByText(email.payment.url, { exact: true }).isVisible()).toBe(true);

        // The card keeps to ~600 px on a wide screen.
        const cardWidth = await page.evaluate(
          () =>
            document.querySelector('table[style*="max-width:600px"]')?.getBoundingClientRect().width ?? 1e9,
        );
        expect(cardWidth).toBeLessThanOrEqual(602);

        if (lang !== 'fr')
          await page.screenshot({ path: join(OUTPUT_DIR, `email-${lang}.png`), fullPage: true });
        expect(remote).toEqual([]);
      } finally {
        await page.close();
      }
    },
  );

  it('fits a phone screen without sideways scrolling', async () => {
    const file = await renderPreview({
      sample: true,
      lang: 'fr',
      outFile: join(OUTPUT_DIR, 'email-fr-mobile.html'),
    });
    const { page } = await openPage(360);
    try {
      await page.goto(pathToFileURL(file).href);
      await page.screenshot({ path: join(OUTPUT_DIR, 'email-fr-mobile.png'), fullPage: true });
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      expect(await page.getByRole('link', { name: 'Payer maintenant' }).isVisible()).toBe(true);
    } finally {
      await page.close();
    }
  });

  it.each([
    {
      kind: 'paid',
      lang: 'ar',
      dir: 'rtl',
      heading: 'الفاتورة INV/2025/00042 مدفوعة',
      line: 'تم الدفع في 18 مارس 2025. شكرًا لكم!',
    },
    {
      kind: 'cancelled',
      lang: 'fr',
      dir: 'ltr',
      heading: 'Cette facture a été annulée.',
      line: 'Pour toute question, contactez Atlas Distribution SARL à l’adresse facturation@atlas-distribution.dz.',
    },
  ] as const)(
    'pay page $kind in $lang: the message is visible, in the email colours, and fits a phone ($dir)',
    async ({ kind, lang, dir, heading, line }) => {
      const { html } = new PayPageRenderer().render(samplePayPage(kind, lang));
      const file = join(OUTPUT_DIR, `page-${kind}-${lang}.html`);
      writeFileSync(file, html);
      for (const width of [800, 360]) {
        const { page, remote } = await openPage(width);
        try {
          await page.goto(pathToFileURL(file).href);

          const title = page.getByRole('heading', { level: 1, name: heading, exact: true });
          expect(await title.isVisible()).toBe(true);
          expect(await page.getByText(line, { exact: true }).isVisible()).toBe(true);
          expect(await page.getByText('Atlas Distribution SARL', { exact: true }).first().isVisible()).toBe(
            true,
          );

          expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
          expect(await page.evaluate(() => getComputedStyle(document.body).direction)).toBe(dir);
          expect(await title.evaluate((h: PageElement) => getComputedStyle(h).direction)).toBe(dir);

          // The email's look: its brand band on a white card over the grey page.
          const colours = await page.evaluate(() => {
            const band = document.querySelector('.pl-band');
            const card = document.querySelector('.pl-card');
            return {
              band: band ? getComputedStyle(band).backgroundColor : null,
              card: card ? getComputedStyle(card).backgroundColor : null,
            };
          });
          expect(colours).toEqual({ band: 'rgb(11, 92, 171)', card: 'rgb(255, 255, 255)' });

          const cardWidth = await page.evaluate(
            () => document.querySelector('.pl-card')?.getBoundingClientRect().width ?? 1e9,
          );
          expect(cardWidth).toBeLessThanOrEqual(602);
          expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(width);

          const suffix = width === 360 ? '-mobile' : '';
          await page.screenshot({
            path: join(OUTPUT_DIR, `page-${kind}-${lang}${suffix}.png`),
            fullPage: true,
          });
          expect(remote).toEqual([]);
        } finally {
          await page.close();
        }
      }
    },
  );

  it('keeps hostile Odoo values inert', async () => {
    const { html } = new EmailRenderer().render({
      email: hostileEmail('en'),
      qrSrc: 'data:image/png;base64,',
      pdfAttached: true,
    });
    const { page } = await openPage(800);
    try {
      const dialogs: string[] = [];
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
      await page.setContent(html);
      await page.mouse.move(200, 100);
      const found = await page.evaluate(() => ({
        scripts: document.querySelectorAll('script').length,
        handlers: [...document.querySelectorAll('*')].flatMap((el) =>
          [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => `${el.tagName}.${a.name}`),
        ),
        greeting: (document.body.textContent ?? '').includes('<script>{{x}}</script>'),
      }));
      expect(found).toEqual({ scripts: 0, handlers: [], greeting: true });
      expect(dialogs).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
