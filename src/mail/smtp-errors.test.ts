import { describe, expect, it } from 'vitest';
import { classifySmtpError, retryDelayMs } from './smtp-errors.js';

function smtpError(fields: { code?: string; responseCode?: number; response?: string }, message = 'failed') {
  return Object.assign(new Error(message), fields);
}

describe('classifySmtpError', () => {
  it.each([
    [{ code: 'ECONNECTION' }, 'transient'],
    [{ code: 'ETIMEDOUT' }, 'transient'],
    [{ code: 'ESOCKET' }, 'transient'],
    [{ code: 'EDNS' }, 'transient'],
    [{ code: 'ECONNREFUSED' }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 451, response: '451 4.7.1 Greylisted' }, 'transient'],
    [{ code: 'EMESSAGE', responseCode: 452, response: '452 4.3.1 Insufficient storage' }, 'transient'],
    [{ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 User unknown' }, 'permanent'],
    [{ code: 'EMESSAGE', responseCode: 554, response: '554 5.7.1 Spam' }, 'permanent'],
    [{ code: 'EENVELOPE' }, 'permanent'],
    [{ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Authentication failed' }, 'config'],
    [{ code: 'ETLS' }, 'config'],
    [{ code: 'EREQUIRETLS' }, 'config'],
    [{ code: 'ECONFIG' }, 'config'],
    [{}, 'transient'],
  ] as const)('%o is %s', (fields, kind) => {
    expect(classifySmtpError(smtpError(fields)).kind).toBe(kind);
  });

  it('keeps the server reply as the reason', () => {
    const failure = classifySmtpError(
      smtpError({ code: 'EENVELOPE', responseCode: 550, response: '550 5.1.1 User unknown' }),
    );
    expect(failure).toMatchObject({ reason: '550 5.1.1 User unknown', code: 'EENVELOPE', responseCode: 550 });
  });

  it('copes with things that are not errors', () => {
    expect(classifySmtpError('boom')).toMatchObject({ kind: 'transient', reason: 'boom' });
  });
});

describe('retryDelayMs', () => {
  const policy = { baseMs: 30_000, maxMs: 3_600_000, jitter: 0.2 };

  it('doubles from the base and stops at the cap', () => {
    const noJitter = () => 0;
    expect([1, 2, 3, 4, 8, 20].map((n) => retryDelayMs(n, policy, noJitter))).toEqual([
      30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000,
    ]);
  });

  it('takes the jitter off the delay, never above the cap', () => {
    expect(retryDelayMs(1, policy, () => 1)).toBe(24_000);
    expect(retryDelayMs(30, policy, () => 0.5)).toBe(3_240_000);
  });
});
