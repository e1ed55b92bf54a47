/**
 * Deterministic link references: `<db>-inv-<invoice id>-<n>`. The same invoice and attempt number
 * always give the same reference, so a retry after a crash finds the link an earlier attempt
 * created (gateways keep references unique) instead of creating a second one.
 */
export function linkReference(database: string, invoiceId: number, sequence: number): string {
  const db =
    database
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'odoo';
  return `${db}-inv-${invoiceId}-${sequence}`;
}
