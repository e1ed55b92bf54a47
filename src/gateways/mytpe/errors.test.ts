import { describe, expect, it } from 'vitest';
import { errorFromFetchFailure, errorFromResponse, parseRetryAfter, redact } from './errors.js';

const SECRETS = ['mtk_live_abcdef', 'mts_live_123456'];
const NOW = Date.parse('2026-04-09T14:30:00Z');

function failure(status: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    method: 'POST',
    path: '/links/store',
    status,
    headers: new Headers(headers),
    bodyText: typeof body === 'string' ? body : JSON.stringify(body),
  };
}

describe('errorFromResponse', () => {
  it.each([
    [401, 'auth', false],
    [403, 'auth', false],
    [419, 'auth', false],
    [400, 'validation', false],
    [422, 'validation', false],
    [404, 'not_found', false],
    [409, 'conflict', false],
    [429, 'rate_limited', true],
    [500, 'server', true],
    [502, 'server', true],
    [503, 'server', true],
    [302, 'protocol', false],
    [418, 'protocol', false],
  ] as const)('HTTP %i → %s', (status, kind, retryable) => {
    const error = errorFromResponse(failure(status, { message: 'x' }), SECRETS, NOW);
    expect(error.kind).toBe(kind);
    expect(error.retryable).toBe(retryable);
    expect(error.details.status).toBe(status);
    expect(error.gateway).toBe('mytpe');
  });

  it('keeps the Laravel field errors and message of a 422', () => {
    const error = errorFromResponse(
      failure(422, {
        message: 'The title field is required. (and 1 more error)',
        errors: { title: ['The title field is required.'], slug: ['The slug has already been taken.'] },
      }),
      SECRETS,
      NOW,
    );
    expect(error.kind).toBe('validation');
    expect(error.message).toContain('The title field is required. (and 1 more error)');
    expect(error.details.fieldErrors).toEqual({
      title: ['The title field is required.'],
      slug: ['The slug has already been taken.'],
    });
  });

  it('reads the other documented error shapes', () => {
    expect(errorFromResponse(failure(403, { error: 'Unauthorized' }), SECRETS, NOW).message).toContain(
      'Unauthorized',
    );
    expect(
      errorFromResponse(failure(419, { data: null, message: 'Not yours' }), SECRETS, NOW).message,
    ).toContain('Not yours');
    const html = errorFromResponse(failure(502, '<html>Bad gateway</html>'), SECRETS, NOW);
    expect(html.kind).toBe('server');
    expect(html.message).toBe('MyTPE POST /links/store answered HTTP 502');
  });

  it('honours Retry-After in seconds and as an HTTP date', () => {
    const seconds = errorFromResponse(
      failure(429, { message: 'Too Many Attempts.' }, { 'Retry-After': '7' }),
      SECRETS,
      NOW,
    );
    expect(seconds.details.retryAfterMs).toBe(7000);
    const date = errorFromResponse(
      failure(429, { message: 'Too Many Attempts.' }, { 'Retry-After': 'Thu, 09 Apr 2026 14:30:42 GMT' }),
      SECRETS,
      NOW,
    );
    expect(date.details.retryAfterMs).toBe(42_000);
    const none = errorFromResponse(failure(429, { message: 'Too Many Attempts.' }), SECRETS, NOW);
    expect(none.details.retryAfterMs).toBeUndefined();
  });

  it('never repeats a credential the server echoed', () => {
    const error = errorFromResponse(
      failure(401, { message: 'Key mtk_live_abcdef with secret mts_live_123456 is unknown' }),
      SECRETS,
      NOW,
    );
    expect(error.message).not.toContain('mtk_live_abcdef');
    expect(error.message).not.toContain('mts_live_123456');
    expect(error.message).toContain('[redacted]');
  });
});

describe('parseRetryAfter', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['0', 0],
    ['1.5', 1500],
    ['soon', undefined],
    ['Thu, 09 Apr 2026 14:29:00 GMT', 0],
  ] as const)('%j → %j', (value, expected) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('errorFromFetchFailure', () => {
  const context = { method: 'GET', path: '/links/x', timeoutMs: 250 };

  it('maps timeouts and aborts to timeout', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(errorFromFetchFailure(timeout, context, SECRETS).kind).toBe('timeout');
    const abort = new DOMException('This operation was aborted', 'AbortError');
    expect(errorFromFetchFailure(abort, context, SECRETS).kind).toBe('timeout');
  });

  it('maps socket failures to network and names the code', () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    const error = errorFromFetchFailure(refused, context, SECRETS);
    expect(error.kind).toBe('network');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('redact', () => {
  it('replaces every occurrence', () => {
    expect(redact('a mtk_live_abcdef b mtk_live_abcdef', SECRETS)).toBe('a [redacted] b [redacted]');
  });
});
