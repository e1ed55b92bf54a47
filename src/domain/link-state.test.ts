import { describe, expect, it } from 'vitest';
import {
  canTransition,
  LINK_STATES,
  type LinkState,
  REPLACEABLE_STATES,
  WORKING_STATES,
} from './link-state.js';

describe('link state machine', () => {
  it('follows the happy path', () => {
    const path: LinkState[] = ['creating', 'writing_back', 'open', 'paid', 'registered'];
    for (let index = 1; index < path.length; index++)
      expect(canTransition(path[index - 1]!, path[index]!)).toBe(true);
  });

  it('never leaves registered for a working state, nor closed or expired except for a late payment', () => {
    for (const target of WORKING_STATES) expect(canTransition('registered', target)).toBe(false);
    for (const terminal of ['closed', 'expired'] as const) {
      for (const target of WORKING_STATES) expect(canTransition(terminal, target)).toBe(target === 'paid');
    }
  });

  it('does not register a link that was never paid', () => {
    expect(canTransition('open', 'registered')).toBe(false);
    expect(canTransition('mismatch', 'registered')).toBe(false);
    expect(canTransition('creating', 'paid')).toBe(false);
  });

  it('records a payment that arrives on a closed or expired link as needing a refund', () => {
    expect(canTransition('closed', 'refund_needed')).toBe(true);
    expect(canTransition('expired', 'refund_needed')).toBe(true);
  });

  it('enters creating only by retrying a failed creation: a new link is a new row', () => {
    for (const state of LINK_STATES) expect(canTransition(state, 'creating')).toBe(state === 'failed');
  });

  it('only lets closed, expired or refunded links be replaced', () => {
    expect([...REPLACEABLE_STATES].sort()).toEqual(['closed', 'expired', 'refund_needed']);
  });
});
