import { createHash } from 'node:crypto';

/** Longest slug we send; MyTPE does not document a limit below Laravel's usual 255. */
export const MAX_SLUG_LENGTH = 120;

const VALID_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * The MyTPE slug for a pipeline reference. The slug is global across MyTPE and is our only
 * idempotency key, so the mapping must be deterministic and must not merge two references:
 * a reference that already is a clean slug (`mydb-inv-42-1`) is sent unchanged; any other one is
 * cleaned up and suffixed with a hash of the original text.
 */
export function slugFromReference(reference: string): string {
  if (reference.length <= MAX_SLUG_LENGTH && VALID_SLUG.test(reference)) return reference;
  const hash = createHash('sha256').update(reference, 'utf8').digest('hex').slice(0, 10);
  const cleaned = reference
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_SLUG_LENGTH - hash.length - 1)
    .replace(/-+$/, '');
  return cleaned === '' ? `ref-${hash}` : `${cleaned}-${hash}`;
}
