import { describe, expect, it } from 'vitest';
import { dateInZone, pollDelay } from './steps.js';

describe('pollDelay', () => {
  it('polls new links every pass and old ones every half hour at most', () => {
    expect(pollDelay(60_000)).toBe(0);
    expect(pollDelay(30 * 60_000)).toBe(120_000);
    expect(pollDelay(5 * 3_600_000)).toBe(600_000);
    expect(pollDelay(3 * 86_400_000)).toBe(1_800_000);
  });
});

describe('dateInZone', () => {
  it('dates a payment in the company time zone, not in UTC', () => {
    const lateEvening = Date.parse('2026-12-01T23:30:00Z');
    expect(dateInZone(lateEvening, 'Africa/Algiers')).toBe('2026-12-02');
    expect(dateInZone(lateEvening, 'America/Costa_Rica')).toBe('2026-12-01');
    expect(dateInZone(lateEvening, null)).toBe('2026-12-01');
  });

  it('falls back to UTC for a zone Odoo knows and Intl does not, and says so', () => {
    const unknown: string[] = [];
    expect(dateInZone(Date.parse('2026-12-01T23:30:00Z'), 'Mars/Olympus', (zone) => unknown.push(zone))).toBe(
      '2026-12-01',
    );
    expect(unknown).toEqual(['Mars/Olympus']);
  });
});
