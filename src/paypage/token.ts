/**
 * The token in a pay page URL (`/pay/<token>`): names one invoice of one Odoo database, and only
 * we can make one. A bare id would let anyone walk every invoice's status page; the MAC makes a
 * token unguessable, and covering the reference prefix keeps a token of a staging copy (same
 * ids, same secret copied along) from working on production.
 *
 * Layout, base64url without padding: the invoice id as 1 to 7 big-endian bytes (no leading zero),
 * then the first 16 bytes of HMAC-SHA256(secret, `${prefix}:${invoiceId}`). 23 to 31 characters.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const MAC_BYTES = 16;
const MAX_ID_BYTES = 7; // Number.MAX_SAFE_INTEGER needs 53 bits
const MIN_TOKEN_CHARS = base64urlLength(1 + MAC_BYTES);
const MAX_TOKEN_CHARS = base64urlLength(MAX_ID_BYTES + MAC_BYTES);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function base64urlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

function mac(secret: string, prefix: string, invoiceId: number): Buffer {
  return createHmac('sha256', secret).update(`${prefix}:${invoiceId}`).digest().subarray(0, MAC_BYTES);
}

function idBytes(invoiceId: number): Buffer {
  const bytes: number[] = [];
  // Arithmetic rather than bit operators, which stop at 32 bits.
  for (let rest = invoiceId; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from(bytes);
}

/** The token of an invoice. Throws on an empty secret or an id that is not a positive safe integer. */
export function payToken(secret: string, prefix: string, invoiceId: number): string {
  if (!secret) throw new Error('the pay token secret is empty');
  if (!Number.isSafeInteger(invoiceId) || invoiceId < 1) {
    throw new RangeError(`invoice id must be a positive safe integer, got ${invoiceId}`);
  }
  return Buffer.concat([idBytes(invoiceId), mac(secret, prefix, invoiceId)]).toString('base64url');
}

/**
 * The invoice id a token names, or undefined for anything we did not issue with this secret and
 * prefix. Never throws: the token comes straight from a URL.
 */
export function verifyPayToken(secret: string, prefix: string, token: string): number | undefined {
  try {
    if (!secret || typeof token !== 'string') return undefined;
    if (token.length < MIN_TOKEN_CHARS || token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) {
      return undefined;
    }
    const bytes = Buffer.from(token, 'base64url');
    // Node's decoder ignores the spare low bits of the last character; only the canonical spelling
    // counts, so no two strings name the same invoice and no changed character is accepted.
    if (bytes.toString('base64url') !== token) return undefined;
    const idLength = bytes.length - MAC_BYTES;
    if (idLength < 1 || idLength > MAX_ID_BYTES || bytes[0] === 0) return undefined;
    let invoiceId = 0;
    for (const byte of bytes.subarray(0, idLength)) invoiceId = invoiceId * 256 + byte;
    if (!Number.isSafeInteger(invoiceId)) return undefined;
    const expected = mac(secret, prefix, invoiceId);
    return timingSafeEqual(expected, bytes.subarray(idLength)) ? invoiceId : undefined;
  } catch {
    return undefined;
  }
}
