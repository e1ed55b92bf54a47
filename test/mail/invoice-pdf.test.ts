/**
 * fetchInvoicePdf against a small fake of Odoo's two routes (the Odoo sandbox was not serving
 * them yet when this was written). The fake behaves like Odoo: a failed login is a JSON-RPC
 * error, and a report request without a valid session is redirected to /web/login.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchInvoicePdf, InvoicePdfError, invoicePdfFetcher } from '../../src/mail/invoice-pdf.js';
import { FAKE_PDF } from './helpers.js';

const PASSWORD = 'odoo-Secret-pw';
const SESSION = 'a1b2c3d4e5';
let server: Server;
let odooUrl: string;
const seen: { method?: string; url?: string; cookie?: string; body?: string }[] = [];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => resolve(body));
  });
}

async function handle(req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  seen.push({ method: req.method, url: req.url, cookie: req.headers.cookie, body });
  if (req.method === 'POST' && req.url === '/web/session/authenticate') {
    const { params } = JSON.parse(body) as { params: { db: string; login: string; password: string } };
    // Odoo hands out a session cookie on every response, even a refused login.
    const granted = params.password === PASSWORD && params.login !== 'stale-session';
    res.setHeader('Set-Cookie', [`session_id=${granted ? SESSION : 'anon'}; Path=/; HttpOnly`]);
    res.setHeader('Content-Type', 'application/json');
    if (params.db !== 'paylink' || params.password !== PASSWORD) {
      res.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: null,
          error: {
            code: 200,
            message: 'Odoo Server Error',
            data: { name: 'odoo.exceptions.AccessDenied', message: 'Access Denied' },
          },
        }),
      );
      return;
    }
    res.end(JSON.stringify({ jsonrpc: '2.0', id: null, result: { uid: 2, db: params.db } }));
    return;
  }
  const match = /^\/report\/pdf\/account\.report_invoice\/(\d+)$/.exec(req.url ?? '');
  if (req.method === 'GET' && match) {
    if (req.headers.cookie !== `session_id=${SESSION}`) {
      res.writeHead(303, { Location: `/web/login?redirect=${encodeURIComponent(req.url ?? '')}` }).end();
      return;
    }
    const id = Number(match[1]);
    if (id === 404) {
      res.writeHead(404, { 'Content-Type': 'text/html' }).end('<h1>Not Found</h1>');
    } else if (id === 500) {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html>Odoo traceback</html>');
    } else if (id === 999) {
      setTimeout(() => res.writeHead(200, { 'Content-Type': 'application/pdf' }).end(FAKE_PDF), 2000);
    } else {
      res.writeHead(200, { 'Content-Type': 'application/pdf' }).end(FAKE_PDF);
    }
    return;
  }
  res.writeHead(404).end();
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  odooUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const base = () => ({ odooUrl, db: 'paylink', login: 'paylink-bot', password: PASSWORD, timeoutMs: 5000 });

async function failure(promise: Promise<unknown>): Promise<InvoicePdfError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvoicePdfError);
  expect((error as Error).message).not.toContain(PASSWORD);
  return error as InvoicePdfError;
}

describe('fetchInvoicePdf', () => {
  it('logs in, sends the session cookie and returns the PDF', async () => {
    seen.length = 0;
    const pdf = await fetchInvoicePdf({ ...base(), odooUrl: `${odooUrl}/`, invoiceId: 42 });
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /web/session/authenticate',
      'GET /report/pdf/account.report_invoice/42',
    ]);
    expect(JSON.parse(seen[0]?.body ?? '')).toEqual({
      jsonrpc: '2.0',
      method: 'call',
      params: { db: 'paylink', login: 'paylink-bot', password: PASSWORD },
    });
    expect(seen[1]?.cookie).toBe(`session_id=${SESSION}`);
  });

  it('works as the worker’s fetchPdf(invoiceId)', async () => {
    const fetchPdf = invoicePdfFetcher(base());
    expect((await fetchPdf(7)).equals(FAKE_PDF)).toBe(true);
  });

  it('reports a refused login', async () => {
    const error = await failure(fetchInvoicePdf({ ...base(), password: 'wrong', invoiceId: 42 }));
    expect(error.kind).toBe('login_refused');
    expect(error.message).toContain('Access Denied');
  });

  it('reports a session Odoo does not accept (redirect to /web/login)', async () => {
    const error = await failure(fetchInvoicePdf({ ...base(), login: 'stale-session', invoiceId: 42 }));
    expect(error.kind).toBe('login_refused');
    expect(error.message).toContain('session was refused');
  });

  it('reports an HTTP error and an HTML page instead of a PDF', async () => {
    expect(await failure(fetchInvoicePdf({ ...base(), invoiceId: 404 }))).toMatchObject({
      kind: 'http',
      status: 404,
    });
    const notPdf = await failure(fetchInvoicePdf({ ...base(), invoiceId: 500 }));
    expect(notPdf.kind).toBe('not_pdf');
    expect(notPdf.message).toContain('text/html');
  });

  it('gives up after the timeout', async () => {
    const error = await failure(fetchInvoicePdf({ ...base(), invoiceId: 999, timeoutMs: 300 }));
    expect(error.kind).toBe('timeout');
  });

  it('reports an unreachable Odoo as a network error', async () => {
    const error = await failure(fetchInvoicePdf({ ...base(), odooUrl: 'http://127.0.0.1:1', invoiceId: 1 }));
    expect(error.kind).toBe('network');
  });
});
