import { describe, expect, it } from 'vitest';
import { isReferencePrefix, linkReference, parseLinkReference, referencePrefixFor } from './reference.js';

describe('reference prefix', () => {
  it('names the database and 12 hex digits of its uuid', () => {
    expect(referencePrefixFor('odoo', '3f2a9c1b-7d4e-4a10-9b1c-0123456789ab')).toBe('odoo-3f2a9c1b7d4e');
    expect(referencePrefixFor('Prod DB_2026', 'ABCDEF01-2345-6789-abcd-ef0123456789')).toBe(
      'prod-db-2026-abcdef012345',
    );
  });

  it('gives two databases of the same name different prefixes', () => {
    const a = referencePrefixFor('odoo', '11111111-1111-4111-8111-111111111111');
    const b = referencePrefixFor('odoo', '22222222-2222-4222-8222-222222222222');
    expect(a).not.toBe(b);
    expect(linkReference(a, 42, 1)).not.toBe(linkReference(b, 42, 1));
  });

  it('keeps long names within the bound, and is always a valid prefix', () => {
    const prefix = referencePrefixFor('a'.repeat(80), '3f2a9c1b-7d4e-4a10-9b1c-0123456789ab');
    expect(prefix.length).toBeLessThanOrEqual(40);
    expect(isReferencePrefix(prefix)).toBe(true);
  });

  it('refuses a uuid that is not one', () => {
    expect(() => referencePrefixFor('odoo', 'nope')).toThrow(/not a uuid/);
  });

  it('accepts only slug-like configured prefixes', () => {
    expect(isReferencePrefix('shop-prod-1')).toBe(true);
    for (const bad of ['', 'Shop', 'a--b', '-a', 'a-', 'a_b', 'a'.repeat(41)])
      expect(isReferencePrefix(bad)).toBe(false);
  });
});

describe('parseLinkReference', () => {
  it('reads back invoice and sequence of our own references only', () => {
    expect(parseLinkReference('odoo-3f2a9c1b7d4e', 'odoo-3f2a9c1b7d4e-inv-42-3')).toEqual({
      invoiceId: 42,
      sequence: 3,
    });
    expect(parseLinkReference('odoo-3f2a9c1b7d4e', 'odoo-999999999999-inv-42-3')).toBeUndefined();
    expect(parseLinkReference('odoo', 'odoo-3f2a9c1b7d4e-inv-42-3')).toBeUndefined();
    expect(parseLinkReference('odoo-3f2a9c1b7d4e', 'odoo-3f2a9c1b7d4e-inv-42-0')).toBeUndefined();
    expect(parseLinkReference('odoo-3f2a9c1b7d4e', 'wc_order_42')).toBeUndefined();
  });
});
