import { describe, expect, it } from 'vitest';
import { pollDelay } from './steps.js';

describe('pollDelay', () => {
  it('polls new links every pass and old ones every half hour at most', () => {
    expect(pollDelay(60_000)).toBe(0);
    expect(pollDelay(30 * 60_000)).toBe(120_000);
    expect(pollDelay(5 * 3_600_000)).toBe(600_000);
    expect(pollDelay(3 * 86_400_000)).toBe(1_800_000);
  });
});
