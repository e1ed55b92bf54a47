/**
 * Downloads the invoice PDF the way a browser would: log in to Odoo's web session, then ask
 * the report route for account.report_invoice. Used to attach the PDF to the invoice email.
 */

export interface FetchInvoicePdfOptions {
  /** Base URL of Odoo, e.g. https://erp.example.dz (a trailing slash is fine). */
  odooUrl: string;
  db: string;
  login: string;
  password: string;
  invoiceId: number;
  /** The invoice's company, sent as the web client's `cids` cookie so a multi-company user may read it. */
  companyId?: number | undefined;
  /** Budget for the whole exchange (login + download). */
  timeoutMs: number;
}

export type InvoicePdfFailure =
  | 'login_refused' // wrong credentials or database, or the session was not accepted
  | 'http' // Odoo answered with an unexpected status
  | 'not_pdf' // the answer was not a PDF (an HTML error page, usually)
  | 'timeout'
  | 'network';

export class InvoicePdfError extends Error {
  override name = 'InvoicePdfError';
  constructor(
    message: string,
    readonly kind: InvoicePdfFailure,
    readonly status?: number,
  ) {
    super(message);
  }
}

const PDF_MAGIC = Buffer.from('%PDF');

function endpoint(odooUrl: string, path: string): string {
  return new URL(path, odooUrl.endsWith('/') ? odooUrl : `${odooUrl}/`).toString();
}

function sessionIdFrom(response: Response): string | null {
  for (const cookie of response.headers.getSetCookie()) {
    const match = /^\s*session_id=([^;]*)/.exec(cookie);
    if (match?.[1]) return match[1];
  }
  return null;
}

function rpcErrorMessage(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('error' in body)) return null;
  const error = (body as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return 'unknown error';
  const { message, data } = error as { message?: unknown; data?: { message?: unknown } };
  const detail =
    typeof data?.message === 'string' ? data.message : typeof message === 'string' ? message : '';
  return detail || 'unknown error';
}

async function request(url: string, init: RequestInit, what: string, signal: AbortSignal): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal, redirect: 'manual' });
  } catch (error) {
    if (signal.aborted) throw new InvoicePdfError(`${what} timed out`, 'timeout');
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new InvoicePdfError(`${what} failed${cause}`, 'network');
  }
}

/** The invoice PDF bytes, or an InvoicePdfError saying why not (never containing the password). */
export async function fetchInvoicePdf(options: FetchInvoicePdfOptions): Promise<Buffer> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const sessionId = await openWebSession(options, signal);
  return downloadInvoicePdf(options, sessionId, signal);
}

/** Logs in to Odoo's web client; returns the session id. */
async function openWebSession(
  options: Pick<FetchInvoicePdfOptions, 'odooUrl' | 'db' | 'login' | 'password'>,
  signal: AbortSignal,
): Promise<string> {
  const { odooUrl, db, login, password } = options;
  const auth = await request(
    endpoint(odooUrl, 'web/session/authenticate'),
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'call', params: { db, login, password } }),
    },
    'logging in to Odoo',
    signal,
  );
  if (!auth.ok) {
    throw new InvoicePdfError(`Odoo login answered HTTP ${auth.status}`, 'http', auth.status);
  }
  let body: unknown = null;
  try {
    body = await auth.json();
  } catch {
    throw new InvoicePdfError('Odoo login did not answer JSON', 'http', auth.status);
  }
  const rpcError = rpcErrorMessage(body);
  if (rpcError) throw new InvoicePdfError(`Odoo refused the login of ${login}: ${rpcError}`, 'login_refused');
  const uid = (body as { result?: { uid?: unknown } } | null)?.result?.uid;
  const sessionId = sessionIdFrom(auth);
  if (!uid || !sessionId) {
    throw new InvoicePdfError(`Odoo refused the login of ${login} on database ${db}`, 'login_refused');
  }

  return sessionId;
}

/** Downloads the report with an open session. */
async function downloadInvoicePdf(
  options: Pick<FetchInvoicePdfOptions, 'odooUrl' | 'invoiceId' | 'companyId'>,
  sessionId: string,
  signal: AbortSignal,
): Promise<Buffer> {
  const { odooUrl, invoiceId } = options;
  const report = await request(
    endpoint(odooUrl, `report/pdf/account.report_invoice/${invoiceId}`),
    {
      method: 'GET',
      headers: {
        cookie: `session_id=${sessionId}${options.companyId === undefined ? '' : `; cids=${options.companyId}`}`,
        accept: 'application/pdf',
      },
    },
    `downloading the PDF of invoice ${invoiceId}`,
    signal,
  );
  if (report.status >= 300 && report.status < 400) {
    const location = report.headers.get('location') ?? '';
    await report.body?.cancel();
    if (location.includes('/web/login')) {
      throw new InvoicePdfError(
        `Odoo sent the PDF request for invoice ${invoiceId} to the login page: the session was refused`,
        'login_refused',
        report.status,
      );
    }
    throw new InvoicePdfError(
      `Odoo redirected the PDF request for invoice ${invoiceId} (HTTP ${report.status})`,
      'http',
      report.status,
    );
  }
  if (!report.ok) {
    await report.body?.cancel();
    throw new InvoicePdfError(
      `Odoo answered HTTP ${report.status} for the PDF of invoice ${invoiceId}`,
      'http',
      report.status,
    );
  }
  const contentType = report.headers.get('content-type') ?? '';
  let bytes: Buffer;
  try {
    bytes = Buffer.from(await report.arrayBuffer());
  } catch {
    if (signal.aborted)
      throw new InvoicePdfError(`downloading the PDF of invoice ${invoiceId} timed out`, 'timeout');
    throw new InvoicePdfError(`the PDF of invoice ${invoiceId} was cut off`, 'network');
  }
  if (!contentType.toLowerCase().startsWith('application/pdf') || !bytes.subarray(0, 4).equals(PDF_MAGIC)) {
    throw new InvoicePdfError(
      `Odoo did not return a PDF for invoice ${invoiceId} (content-type ${contentType || 'none'})`,
      'not_pdf',
    );
  }
  return bytes;
}

/**
 * The `fetchPdf(invoiceId, companyId)` the mail worker wants, bound to one Odoo connection. It
 * keeps one web session for all emails (logging in again only when Odoo ends it), and after Odoo
 * refuses the login once it stops trying: every failed login counts towards Odoo's per-IP
 * lockout, and an API key, which works for RPC, is refused by the web login every time.
 */
export function invoicePdfFetcher(
  settings: Omit<FetchInvoicePdfOptions, 'invoiceId' | 'companyId'>,
): (invoiceId: number, companyId?: number) => Promise<Buffer> {
  let session: Promise<string> | undefined;
  let refused: InvoicePdfError | undefined;
  const login = (signal: AbortSignal): Promise<string> => {
    session ??= openWebSession(settings, signal).catch((error: unknown) => {
      session = undefined;
      if (error instanceof InvoicePdfError && error.kind === 'login_refused') refused = error;
      throw error;
    });
    return session;
  };
  return async (invoiceId, companyId) => {
    if (refused) {
      throw new InvoicePdfError(`PDF downloads are off until restart: ${refused.message}`, 'login_refused');
    }
    const signal = AbortSignal.timeout(settings.timeoutMs);
    const target = { odooUrl: settings.odooUrl, invoiceId, companyId };
    try {
      return await downloadInvoicePdf(target, await login(signal), signal);
    } catch (error) {
      // Our session ended (expired or rotated): log in once more and try again.
      if (!(error instanceof InvoicePdfError) || error.kind !== 'login_refused' || refused) throw error;
      session = undefined;
      return downloadInvoicePdf(target, await login(signal), signal);
    }
  };
}
