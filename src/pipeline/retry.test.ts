import { describe, expect, it } from 'vitest';
import { GatewayError } from '../gateways/gateway.js';
import { OdooError } from '../odoo/errors.js';
import { backoffDelay, classifyFailure } from './retry.js';

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with jitter below the ceiling', () => {
    expect(backoffDelay(1, 1000, 60_000, () => 0.999)).toBe(1998);
    expect(backoffDelay(3, 1000, 60_000, () => 0.5)).toBe(4000);
    expect(backoffDelay(20, 1000, 60_000, () => 0.999)).toBe(59_940);
  });

  it('never waits less than the base', () => {
    expect(backoffDelay(5, 1000, 60_000, () => 0)).toBe(1000);
  });
});

describe('classifyFailure', () => {
  it('halts on rejected Odoo credentials', () => {
    expect(classifyFailure(new OdooError('access_denied', 'no')).kind).toBe('halt');
  });

  it('retries transient failures and honours Retry-After', () => {
    expect(classifyFailure(new OdooError('timeout', 'slow'))).toMatchObject({ kind: 'transient' });
    expect(
      classifyFailure(new GatewayError('mytpe', 'rate_limited', 'slow down', { retryAfterMs: 7000 })),
    ).toEqual({
      kind: 'transient',
      message: 'slow down',
      retryAfterMs: 7000,
    });
  });

  it('treats refusals of the request itself as permanent', () => {
    expect(classifyFailure(new GatewayError('mytpe', 'validation', 'bad amount')).kind).toBe('permanent');
    expect(classifyFailure(new OdooError('user', 'nothing left to pay')).kind).toBe('permanent');
  });
});
