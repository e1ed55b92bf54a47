import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { payToken, verifyPayToken } from './token.js';

const SECRET = 'b3f1c0e2a9d84e6f8a1b2c3d4e5f60718293a4b5c6d7e8f9';
const PREFIX = 'atlas-3f2a9c1b7d4e';
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('payToken / verifyPayToken', () => {
  it.each([1, 42, 255, 256, 65_535, 2_147_483_647, Number.MAX_SAFE_INTEGER])(
    'round-trips invoice %i',
    (id) => {
      const token = payToken(SECRET, PREFIX, id);
      expect(token).toMatch(/^[A-Za-z0-9_-]{23,31}$/);
      expect(verifyPayToken(SECRET, PREFIX, token)).toBe(id);
    },
  );

  it('is the same for the same invoice and differs between invoices', () => {
    expect(payToken(SECRET, PREFIX, 42)).toBe(payToken(SECRET, PREFIX, 42));
    expect(payToken(SECRET, PREFIX, 42)).not.toBe(payToken(SECRET, PREFIX, 43));
  });

  it('is never the bare id: a token without its MAC is refused', () => {
    const idOnly = Buffer.from([42]).toString('base64url');
    expect(verifyPayToken(SECRET, PREFIX, idOnly)).toBeUndefined();
    expect(verifyPayToken(SECRET, PREFIX, '42')).toBeUndefined();
  });

  it('refuses a token made with another secret or for another database prefix', () => {
    const token = payToken(SECRET, PREFIX, 42);
    expect(verifyPayToken(`${SECRET}x`, PREFIX, token)).toBeUndefined();
    expect(verifyPayToken('', PREFIX, token)).toBeUndefined();
    expect(verifyPayToken(SECRET, 'staging-3f2a9c1b7d4e', token)).toBeUndefined();
    expect(verifyPayToken(SECRET, `${PREFIX}:4`, payToken(SECRET, PREFIX, 2))).toBeUndefined();
  });

  it.each([7, 300, 2_147_483_647])('refuses every single-character change of the token of %i', (id) => {
    const token = payToken(SECRET, PREFIX, id);
    let tried = 0;
    for (let i = 0; i < token.length; i++) {
      for (const c of ALPHABET) {
        if (c === token[i]) continue;
        const changed = token.slice(0, i) + c + token.slice(i + 1);
        expect(verifyPayToken(SECRET, PREFIX, changed), changed).toBeUndefined();
        tried++;
      }
    }
    expect(tried).toBe(token.length * 63);
  });

  it('refuses every truncation, and the token with anything added', () => {
    const token = payToken(SECRET, PREFIX, 123_456);
    for (let n = 0; n < token.length; n++) {
      expect(verifyPayToken(SECRET, PREFIX, token.slice(0, n))).toBeUndefined();
      expect(verifyPayToken(SECRET, PREFIX, token.slice(token.length - n))).toBeUndefined();
    }
    for (const extra of ['A', '=', '==', ' ', '\n', '%00', '/x']) {
      expect(verifyPayToken(SECRET, PREFIX, token + extra), extra).toBeUndefined();
      expect(verifyPayToken(SECRET, PREFIX, extra + token), extra).toBeUndefined();
    }
  });

  it('refuses a standard base64 spelling or a leading zero byte for the same bytes', () => {
    const token = payToken(SECRET, PREFIX, 1_000);
    const bytes = Buffer.from(token, 'base64url');
    expect(verifyPayToken(SECRET, PREFIX, bytes.toString('base64'))).toBeUndefined();
    const padded = Buffer.concat([Buffer.from([0]), bytes]).toString('base64url');
    expect(verifyPayToken(SECRET, PREFIX, padded)).toBeUndefined();
  });

  it('refuses random garbage and hostile input without throwing', () => {
    for (let i = 0; i < 2_000; i++) {
      const size = 1 + (i % 40);
      const garbage = randomBytes(size).toString(i % 2 ? 'base64url' : 'latin1');
      expect(verifyPayToken(SECRET, PREFIX, garbage)).toBeUndefined();
    }
    for (const odd of [
      '',
      ' ',
      '../../etc/passwd',
      '%2e%2e',
      '\u0000'.repeat(24),
      'é'.repeat(24),
      '🙂'.repeat(12),
    ]) {
      expect(verifyPayToken(SECRET, PREFIX, odd)).toBeUndefined();
    }
    expect(verifyPayToken(SECRET, PREFIX, null as unknown as string)).toBeUndefined();
    expect(verifyPayToken(SECRET, PREFIX, 42 as unknown as string)).toBeUndefined();
  });

  it('refuses very long input quickly', () => {
    const token = payToken(SECRET, PREFIX, 42);
    const started = performance.now();
    expect(verifyPayToken(SECRET, PREFIX, token.repeat(400_000))).toBeUndefined();
    expect(verifyPayToken(SECRET, PREFIX, 'A'.repeat(10_000_000))).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(50);
  });

  it('will not make a token without a secret or for an id that is not one', () => {
    expect(() => payToken('', PREFIX, 42)).toThrow('secret');
    for (const id of [0, -1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1]) {
      expect(() => payToken(SECRET, PREFIX, id), String(id)).toThrow(RangeError);
    }
  });
});
