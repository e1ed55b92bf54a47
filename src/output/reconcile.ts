import type { Discrepancy, ReconcileReport } from '../pipeline/reconcile.js';

export type ReportFormat = 'table' | 'json' | 'csv';

const COLUMNS: ReadonlyArray<keyof Discrepancy> = [
  'kind',
  'fixed',
  'invoice',
  'invoiceId',
  'gateway',
  'linkId',
  'transactionId',
  'amount',
  'detail',
];

/** The lines a person reads at a glance, before the detail. */
export function reconcileSummary(report: ReconcileReport): string {
  const counts = new Map<string, number>();
  for (const discrepancy of report.discrepancies) {
    const key = `${discrepancy.kind}${discrepancy.fixed ? ' (fixed)' : ''}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const verdict =
    report.remaining === 0
      ? report.discrepancies.length === 0
        ? 'OK: the gateway and Odoo agree.'
        : 'OK: every discrepancy was fixed.'
      : `ATTENTION: ${report.remaining} discrepanc${report.remaining === 1 ? 'y needs' : 'ies need'} a person.`;
  const lines = [
    `Reconciliation ${report.since} → ${report.until}`,
    `  gateway payments ${report.gatewayPayments}, matched ${report.matched}, discrepancies ${report.discrepancies.length}`,
    ...[...counts].map(([kind, count]) => `  ${kind}: ${count}`),
    ...report.limits.map((limit) => `  not checked: ${limit}`),
    verdict,
  ];
  return lines.join('\n');
}

function csvField(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) || /^[=+\-@]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function formatReconcileDetail(report: ReconcileReport, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(report, null, 2);
    case 'csv':
      return [
        COLUMNS.join(','),
        ...report.discrepancies.map((row) => COLUMNS.map((column) => csvField(row[column])).join(',')),
      ].join('\n');
    case 'table': {
      if (report.discrepancies.length === 0) return '(no discrepancies)';
      const rows = report.discrepancies.map((row) => COLUMNS.map((column) => String(row[column] ?? '')));
      const widths = COLUMNS.map((column, index) =>
        Math.min(60, Math.max(column.length, ...rows.map((row) => row[index]!.length))),
      );
      const line = (cells: readonly string[]) =>
        cells
          .map((cell, index) => cell.slice(0, widths[index]).padEnd(widths[index]!))
          .join('  ')
          .trimEnd();
      return [line(COLUMNS), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
    }
  }
}
