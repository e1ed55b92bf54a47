import { describe, expect, it } from 'vitest';
import { MAX_SLUG_LENGTH, slugFromReference } from './slug.js';

describe('slugFromReference', () => {
  it('keeps a reference that already is a valid slug', () => {
    expect(slugFromReference('mydb-inv-42-1')).toBe('mydb-inv-42-1');
  });

  it('cleans up other references deterministically and keeps them apart', () => {
    const a = slugFromReference('My_DB-inv-42-1');
    expect(a).toMatch(/^my-db-inv-42-1-[0-9a-f]{10}$/);
    expect(slugFromReference('My_DB-inv-42-1')).toBe(a);
    // Same cleaned text, different reference: different slug.
    expect(slugFromReference('my.db-inv-42-1')).not.toBe(a);
    expect(slugFromReference('my-db-inv-42-1')).toBe('my-db-inv-42-1');
  });

  it('handles accents, empty text and long references', () => {
    expect(slugFromReference('Société-inv-7-1')).toMatch(/^societe-inv-7-1-[0-9a-f]{10}$/);
    expect(slugFromReference('///')).toMatch(/^ref-[0-9a-f]{10}$/);
    const long = slugFromReference(`${'a'.repeat(300)}-inv-1-1`);
    expect(long.length).toBeLessThanOrEqual(MAX_SLUG_LENGTH);
    expect(long).toMatch(/^[a-z0-9-]+$/);
    expect(long).not.toBe(slugFromReference(`${'a'.repeat(300)}-inv-1-2`));
  });
});
