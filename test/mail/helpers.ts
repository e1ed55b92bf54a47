/** Shared fixtures for the mail tests: an in-memory outbox, a recording logger, mail parsing. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import jsQRModule from 'jsqr';
import { type ParsedMail, simpleParser } from 'mailparser';
import { PNG } from 'pngjs';
import type { InvoiceEmail } from '../../src/mail/model.js';
import { sampleInvoiceEmail } from '../../src/mail/preview.js';
import type { MailLogger } from '../../src/mail/worker.js';
import { OUTBOX_SCHEMA_SQL, OutboxRepository } from '../../src/store/outbox.js';

export function memoryOutbox(options: { leaseMs?: number } = {}): {
  db: Database.Database;
  outbox: OutboxRepository;
} {
  const db = new Database(':memory:');
  db.exec(OUTBOX_SCHEMA_SQL);
  return { db, outbox: new OutboxRepository(db, options) };
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error' | 'debug';
  message: string;
  meta?: object;
}

export function recordingLogger(): MailLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (message: string, meta?: object): void => {
      entries.push({ level, message, ...(meta ? { meta } : {}) });
    };
  return { entries, info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

export function manualClock(start = Date.UTC(2025, 2, 5, 9, 0, 0)): {
  now: () => number;
  advance(ms: number): void;
} {
  let current = start;
  return {
    now: () => current,
    advance(ms: number) {
      current += ms;
    },
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `paylink-${prefix}-`));
}

/** A port nobody listens on (taken from the OS, then released). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function parseEml(path: string): Promise<ParsedMail> {
  return simpleParser(readFileSync(path), { keepCidLinks: true });
}

// jsqr is CommonJS with an ES-style type declaration; its function is also on `.default`.
const jsQR = jsQRModule.default;

export function decodeQr(png: Buffer): string | null {
  const image = PNG.sync.read(png);
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data ?? null;
}

/** A tiny but well-formed PDF, enough for "%PDF" checks and for mail clients. */
export const FAKE_PDF = Buffer.from(
  '%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n',
);

/** Intl puts no-break spaces in amounts; tests compare on plain spaces. */
export function plainSpaces(text: string | undefined): string {
  return (text ?? '').replace(/[\u00a0\u202f]/g, ' ');
}

/** Odoo values written to break out of HTML or to be evaluated as handlebars. */
export function hostileEmail(lang: string): InvoiceEmail {
  const base = sampleInvoiceEmail(lang);
  return {
    ...base,
    invoice: { ...base.invoice, name: `INV/"><img src=x onerror=alert(1)>/{{constructor}}` },
    company: {
      ...base.company,
      name: `Evil" onmouseover="alert(1)' {{#each this}}{{/each}}`,
      email: 'x@evil.dz"><script>alert(2)</script>',
      website: "javascript:alert('w')",
    },
    partner: { ...base.partner, name: '<script>{{x}}</script> {company} {{constructor.constructor}}' },
    payment: { ...base.payment, url: 'https://pay.example.dz/l/abc?a=1&b="2"' },
  };
}
