/**
 * Deterministic link references: `<prefix>-inv-<invoice id>-<n>`. The prefix is unique to one Odoo
 * database (its `database.uuid`, or one configured): gateway references such as MyTPE slugs are
 * global, so a staging copy or another merchant's database called `odoo` must never produce the
 * same reference. The same invoice and attempt number always give the same reference, so a retry
 * after a crash finds the link an earlier attempt created instead of creating a second one; `n`
 * only grows, so a reference once used is never given to another link of the invoice.
 */

/** What a reference prefix may look like: slug characters, so every gateway takes it unchanged. */
export const REFERENCE_PREFIX_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
export const REFERENCE_PREFIX_MAX = 40;

function slugPart(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * The prefix of a database: its name (for people reading the gateway's dashboard) and 12 hex digits
 * of its uuid (48 random bits: two databases of the same name do not meet in practice).
 */
export function referencePrefixFor(database: string, databaseUuid: string): string {
  const hex = databaseUuid.toLowerCase().replace(/[^0-9a-f]/g, '');
  if (hex.length < 12) throw new Error(`database.uuid ${JSON.stringify(databaseUuid)} is not a uuid`);
  const name =
    slugPart(database)
      .slice(0, REFERENCE_PREFIX_MAX - 13)
      .replace(/-+$/, '') || 'odoo';
  return `${name}-${hex.slice(0, 12)}`;
}

export function isReferencePrefix(text: string): boolean {
  return text.length <= REFERENCE_PREFIX_MAX && REFERENCE_PREFIX_PATTERN.test(text);
}

export function linkReference(prefix: string, invoiceId: number, sequence: number): string {
  return `${prefix}-inv-${invoiceId}-${sequence}`;
}

/** The invoice and sequence of one of our references, or undefined when it is not ours. */
export function parseLinkReference(
  prefix: string,
  reference: string,
): { invoiceId: number; sequence: number } | undefined {
  if (!reference.startsWith(`${prefix}-inv-`)) return undefined;
  const match = /^(\d+)-(\d+)$/.exec(reference.slice(prefix.length + 5));
  if (!match) return undefined;
  const invoiceId = Number(match[1]);
  const sequence = Number(match[2]);
  if (!Number.isSafeInteger(invoiceId) || !Number.isSafeInteger(sequence) || sequence < 1) return undefined;
  return { invoiceId, sequence };
}
