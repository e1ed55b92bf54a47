/**
 * A hand-written PDF 1.4 (one page per invoice, Helvetica) standing in for Odoo's invoice report:
 * small, valid (exact xref offsets) and naming each invoice so a client can check what it got.
 */

export interface InvoicePdfLine {
  name: string;
  company: string;
  partner: string;
  amount: string;
  dueDate: string;
  state: string;
}

/** PDF string literal: only Latin-1 survives Helvetica's encoding; other characters become '?'. */
function pdfText(text: string): string {
  const latin1 = [...text].map((char) => (char.charCodeAt(0) <= 0xff ? char : '?')).join('');
  return `(${latin1.replaceAll('\\', '\\\\').replaceAll('(', '\\(').replaceAll(')', '\\)')})`;
}

function pageContent(invoice: InvoicePdfLine): string {
  const lines: [number, string][] = [
    [18, invoice.company],
    [24, `Invoice ${invoice.name}`],
    [12, `Customer: ${invoice.partner}`],
    [12, `Amount due: ${invoice.amount}`],
    [12, `Due date: ${invoice.dueDate}`],
    [12, `Status: ${invoice.state}`],
    [9, 'Odoo sandbox - not a real invoice'],
  ];
  let y = 780;
  const parts = ['BT'];
  for (const [size, text] of lines) {
    parts.push(`/F1 ${size} Tf`, `1 0 0 1 56 ${y} Tm`, `${pdfText(text)} Tj`);
    y -= size + 14;
  }
  parts.push('ET');
  return parts.join('\n');
}

export function renderInvoicePdf(invoices: readonly InvoicePdfLine[]): Buffer {
  const objects: string[] = [];
  const pageIds: number[] = [];
  // Object numbers: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs.
  let next = 5;
  const pageObjects: string[] = [];
  for (const invoice of invoices) {
    const pageId = next;
    const contentId = next + 1;
    next += 2;
    pageIds.push(pageId);
    const stream = pageContent(invoice);
    pageObjects.push(
      `${pageId} 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>\nendobj\n`,
      `${contentId} 0 obj\n<< /Length ${Buffer.byteLength(stream, 'latin1')} >>\nstream\n${stream}\nendstream\nendobj\n`,
    );
  }
  const title = invoices.map((invoice) => invoice.name).join(', ');
  objects.push(
    '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n',
    `2 0 obj\n<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>\nendobj\n`,
    '3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n',
    `4 0 obj\n<< /Title ${pdfText(title)} /Producer (odoo-paylink Odoo sandbox) >>\nendobj\n`,
    ...pageObjects,
  );
  const header = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  let body = header;
  const offsets: number[] = [];
  for (const object of objects) {
    offsets.push(Buffer.byteLength(body, 'latin1'));
    body += object;
  }
  const xrefOffset = Buffer.byteLength(body, 'latin1');
  const xref = [
    'xref',
    `0 ${objects.length + 1}`,
    '0000000000 65535 f ',
    ...offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n `),
  ].join('\n');
  body += `${xref}\ntrailer\n<< /Size ${objects.length + 1} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.from(body, 'latin1');
}
