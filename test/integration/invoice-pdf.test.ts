import { afterEach, describe, expect, it } from 'vitest';
import { InvoicePdfError, invoicePdfFetcher } from '../../src/mail/invoice-pdf.js';
import { type OdooSandbox, startOdooSandbox } from '../../src/sandbox/odoo/server.js';

let odoo: OdooSandbox;

afterEach(async () => {
  await odoo?.close();
});

async function scene(): Promise<{ companyId: number; invoices: number[] }> {
  odoo = await startOdooSandbox();
  const companyId = odoo.models.createCompany({ name: 'PDF SARL', currency: 'DZD' });
  const partnerId = odoo.models.createPartner({ name: 'Client', email: 'c@example.com' });
  const invoices = [1, 2, 3].map(() => odoo.models.createInvoice({ partnerId, companyId, amount: '100.00' }));
  return { companyId, invoices };
}

const webLogins = () => odoo.calls.filter((call) => call.service === 'web' && call.method === 'authenticate');

describe('invoice PDFs from Odoo', () => {
  it('logs in once for many PDFs, in the invoice company', async () => {
    const { companyId, invoices } = await scene();
    const fetchPdf = invoicePdfFetcher({
      odooUrl: odoo.url,
      db: odoo.db,
      login: odoo.login,
      password: odoo.password,
      timeoutMs: 5_000,
    });
    for (const id of invoices) {
      const pdf = await fetchPdf(id, companyId);
      expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
      expect(pdf.toString('latin1')).toContain(odoo.models.getInvoice(id).name);
    }
    expect(webLogins()).toHaveLength(1);
  });

  it('stops trying after Odoo refuses the login once, so the IP is not locked out', async () => {
    const { companyId, invoices } = await scene();
    // An API key works for RPC, never for the web login.
    odoo.addApiKey('0123456789abcdef0123456789abcdef01234567');
    const fetchPdf = invoicePdfFetcher({
      odooUrl: odoo.url,
      db: odoo.db,
      login: odoo.login,
      password: '0123456789abcdef0123456789abcdef01234567',
      timeoutMs: 5_000,
    });
    for (const id of invoices) {
      const error = await fetchPdf(id, companyId).then(
        () => undefined,
        (failure: unknown) => failure,
      );
      expect(error).toBeInstanceOf(InvoicePdfError);
      expect((error as InvoicePdfError).kind).toBe('login_refused');
      expect((error as Error).message).not.toContain('0123456789abcdef');
    }
    expect(webLogins()).toHaveLength(1);
  });
});
