import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { formatReconcileDetail, reconcileSummary } from '../output/reconcile.js';
import type { ReconcileReport } from '../pipeline/reconcile.js';
import type { MailTransport, OutgoingEmail, SendResult } from './transport.js';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The email an admin gets when a reconciliation leaves discrepancies for a person: the summary
 * and the table in the body (plain text, read in any client), the CSV attached for a spreadsheet.
 */
export function reconcileReportEmail(report: ReconcileReport, to: string, database: string): OutgoingEmail {
  const summary = reconcileSummary(report);
  const table = formatReconcileDetail(report, 'table');
  const text = `${summary}\n\n${table}\n\nSent by odoo-paylink reconcile on ${hostname()}; rerun with --fix to register what can be registered.\n`;
  const count = report.remaining;
  return {
    to: [{ name: '', address: to }],
    subject: `odoo-paylink: ${count} payment discrepanc${count === 1 ? 'y needs' : 'ies need'} a person (${database}, ${report.since.slice(0, 10)} → ${report.until.slice(0, 10)})`,
    text,
    html: `<pre style="font-family: monospace">${escapeHtml(text)}</pre>`,
    messageId: `<reconcile-${randomUUID()}@odoo-paylink>`,
    attachments: [
      {
        filename: `reconcile-${report.until.slice(0, 10)}.csv`,
        content: Buffer.from(`${formatReconcileDetail(report, 'csv')}\n`),
        contentType: 'text/csv; charset=utf-8',
      },
    ],
  };
}

/** Sends the report and closes the transport; throws SmtpSendError (password scrubbed) when the server refuses. */
export async function mailReconcileReport(
  transport: MailTransport,
  report: ReconcileReport,
  to: string,
  database: string,
): Promise<SendResult> {
  try {
    return await transport.send(reconcileReportEmail(report, to, database));
  } finally {
    transport.close();
  }
}
