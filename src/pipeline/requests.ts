import { exclusionOf, type Invoice, isPayable, isSettled } from '../domain/invoice.js';
import type { CompanyRoute, PipelineDeps } from './deps.js';
import { notes } from './notes.js';
import type { CompanyContact } from './ports.js';
import type { LinkSteps } from './steps.js';

/**
 * What an accountant asks from the invoice's Action menu. The server actions setup installs
 * write one of these words into x_paylink_request (an object_write: no Python in Odoo).
 */
export const INVOICE_REQUESTS = ['resend', 'new_link', 'stop'] as const;
export type InvoiceRequest = (typeof INVOICE_REQUESTS)[number];

const REQUEST_NAME: Readonly<Record<InvoiceRequest, string>> = {
  resend: 'requestResend',
  new_link: 'requestNewLink',
  stop: 'requestStop',
};
const DONE_NOTE: Readonly<Record<InvoiceRequest, string>> = {
  resend: 'noteRequestResend',
  new_link: 'noteRequestNewLink',
  stop: 'noteRequestStop',
};

function isInvoiceRequest(value: string): value is InvoiceRequest {
  return (INVOICE_REQUESTS as readonly string[]).includes(value);
}

/** The strings key of why a request cannot be carried out, or undefined when it can. */
function refusalOf(
  request: InvoiceRequest,
  invoice: Invoice,
  openLink: boolean,
  mailOn: boolean,
): string | undefined {
  if (invoice.state === 'cancel') return 'requestRefusedCancelled';
  if (isSettled(invoice)) return 'requestRefusedPaid';
  if (request === 'stop') return undefined;
  if (exclusionOf(invoice, { since: null, excludedCategoryIds: [] })) return 'requestRefusedExcluded';
  if (!isPayable(invoice)) return 'requestRefusedNotPayable';
  if (!openLink) return 'requestRefusedNoLink';
  if (request === 'resend' && !mailOn) return 'requestRefusedNoEmail';
  return undefined;
}

/**
 * Carries out the requests found on invoices read in a pass. The local effect (an email queued,
 * a link set to close) commits with the record of the request, keyed by the invoice's write_date
 * as read: a crash before Odoo's request field is cleared finds it done and only clears it.
 */
export class InvoiceRequests {
  constructor(
    private readonly deps: PipelineDeps,
    private readonly steps: LinkSteps,
  ) {}

  async answer(company: CompanyRoute, invoice: Invoice): Promise<void> {
    const { requests, links, db, ledger, hooks, log, now } = this.deps;
    const raw = invoice.request?.trim() ?? '';
    if (raw === '') return;
    let outcome = requests.outcomeOf(invoice.id, invoice.writeDate);
    if (outcome === undefined) {
      const request = isInvoiceRequest(raw) ? raw : undefined;
      const current = links.currentForInvoice(invoice.id);
      const openLink = current?.state === 'open';
      const mailOn = hooks?.onResendRequested !== undefined;
      const refusal = request ? refusalOf(request, invoice, openLink, mailOn) : 'requestRefusedUnknown';
      // The company's contact details go into a resent email; read before the transaction.
      const contact: CompanyContact | undefined =
        request === 'resend' && refusal === undefined
          ? await ledger.companyContact(company.companyId)
          : undefined;
      outcome = db
        .transaction((): string => {
          const kind = `request_${invoice.writeDate.replace(/\D/g, '')}`;
          if (
            !requests.record(
              {
                invoiceId: invoice.id,
                seenWriteDate: invoice.writeDate,
                request: raw,
                outcome: refusal ?? 'done',
              },
              now(),
            )
          )
            return requests.outcomeOf(invoice.id, invoice.writeDate) ?? 'done';
          if (refusal || !request) {
            this.steps.enqueueInvoiceNote(
              invoice,
              notes.requestRefused(
                kind,
                request ? REQUEST_NAME[request] : raw,
                refusal ?? 'requestRefusedUnknown',
              ),
            );
            return refusal ?? 'requestRefusedUnknown';
          }
          if (request === 'resend' && current && contact)
            hooks?.onResendRequested?.(current, { invoice, company: contact });
          if (request === 'new_link' && current)
            this.steps.closeOnRequest(current, 'replaced by a new link on request');
          if (request === 'stop' && current)
            this.steps.closeOnRequest(current, 'online payment stopped on request');
          this.steps.enqueueInvoiceNote(invoice, notes.requestDone(kind, DONE_NOTE[request]));
          return 'done';
        })
        .immediate();
      log.info(
        `invoice ${invoice.name}: request "${raw}" ${outcome === 'done' ? 'carried out' : `refused (${outcome})`}`,
        {
          invoice: invoice.name,
        },
      );
    }
    // "stop" also ticks "do not send" in this very write: with its link archived above, the
    // invoice then gets no new one, like any excluded invoice.
    await ledger.clearRequest(invoice, { stop: raw === 'stop' && outcome === 'done' });
  }
}
