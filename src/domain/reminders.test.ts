import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  isDaytime,
  nextDaytime,
  nextReminderAt,
  type ReminderPolicy,
  reminderPolicySchema,
  zonedDay,
  zonedInstant,
} from './reminders.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ALGIERS = 'Africa/Algiers';
const PARIS = 'Europe/Paris';

/** Instants are written with their offset, so the tests do not rely on the module's own zone arithmetic. */
const at = (iso: string): number => Date.parse(iso);

/** Wall-clock time of an instant in a zone, read through Intl directly: 'YYYY-MM-DD HH:MM'. */
function local(instant: number, timezone: string): string {
  return new Intl.DateTimeFormat('sv-SE', {
    timeZone: timezone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
}

const policy = (overrides: Record<string, unknown> = {}): ReminderPolicy =>
  reminderPolicySchema.parse(overrides);

interface Invoice {
  readonly policy: ReminderPolicy;
  readonly timezone: string;
  readonly dueDate: string | null;
  readonly firstEmailAt: number;
}

/**
 * The daemon as a loop: a clock advancing an hour at a time from `from` sends a reminder whenever
 * it is at or past nextReminderAt. Returns when each reminder went.
 */
function simulate(invoice: Invoice, days: number, from = invoice.firstEmailAt): number[] {
  const sent: number[] = [];
  let lastEmailAt = invoice.firstEmailAt;
  for (let now = from; now <= invoice.firstEmailAt + days * DAY; now += HOUR) {
    const next = nextReminderAt({ ...invoice, remindersSent: sent.length, lastEmailAt });
    if (next !== undefined && now >= next) {
      sent.push(now);
      lastEmailAt = now;
    }
  }
  return sent;
}

function expectOnePerDay(sent: readonly number[], timezone: string): void {
  const days = sent.map((instant) => local(instant, timezone).slice(0, 10));
  expect(new Set(days).size).toBe(days.length);
}

describe('nextReminderAt over the life of an invoice', () => {
  it('sends a 30-day invoice 4 reminders with the default policy: due-3, due, due+7, due+14 at 09:00', () => {
    const invoice = {
      policy: policy(),
      timezone: ALGIERS,
      dueDate: '2026-04-01',
      firstEmailAt: at('2026-03-02T14:00:00+01:00'),
    };
    const sent = simulate(invoice, 60);
    expect(sent).toEqual([
      at('2026-03-29T09:00:00+01:00'),
      at('2026-04-01T09:00:00+01:00'),
      at('2026-04-08T09:00:00+01:00'),
      at('2026-04-15T09:00:00+01:00'),
    ]);
    expect(sent.map((instant) => local(instant, ALGIERS).slice(11))).toEqual(Array(4).fill('09:00'));
    expectOnePerDay(sent, ALGIERS);
    // The cap, not the lack of slots, ended it: due+21 is a slot.
    expect(
      nextReminderAt({ ...invoice, remindersSent: 3, lastEmailAt: at('2026-04-15T09:00:00+01:00') }),
    ).toBe(at('2026-04-22T09:00:00+01:00'));
    expect(
      nextReminderAt({ ...invoice, remindersSent: 4, lastEmailAt: at('2026-04-15T09:00:00+01:00') }),
    ).toBeUndefined();
  });

  it('keeps 09:00 wall time in Paris across the March change (last Sunday, 2026-03-29)', () => {
    const sent = simulate(
      {
        policy: policy(),
        timezone: PARIS,
        dueDate: '2026-03-31',
        firstEmailAt: at('2026-03-01T10:00:00+01:00'),
      },
      60,
    );
    expect(sent).toEqual([
      at('2026-03-28T09:00:00+01:00'),
      at('2026-03-31T09:00:00+02:00'),
      at('2026-04-07T09:00:00+02:00'),
      at('2026-04-14T09:00:00+02:00'),
    ]);
    expectOnePerDay(sent, PARIS);
  });

  it('keeps 09:00 wall time in Paris across the October change (last Sunday, 2026-10-25)', () => {
    const sent = simulate(
      {
        policy: policy(),
        timezone: PARIS,
        dueDate: '2026-10-26',
        firstEmailAt: at('2026-09-26T10:00:00+02:00'),
      },
      60,
    );
    expect(sent).toEqual([
      at('2026-10-23T09:00:00+02:00'),
      at('2026-10-26T09:00:00+01:00'),
      at('2026-11-02T09:00:00+01:00'),
      at('2026-11-09T09:00:00+01:00'),
    ]);
    expect(sent.map((instant) => local(instant, PARIS).slice(11))).toEqual(Array(4).fill('09:00'));
  });

  it('sends nothing when max is 0 or the policy is disabled', () => {
    const base = {
      timezone: ALGIERS,
      dueDate: '2026-04-01',
      firstEmailAt: at('2026-03-02T14:00:00+01:00'),
      remindersSent: 0,
      lastEmailAt: at('2026-03-02T14:00:00+01:00'),
    };
    expect(nextReminderAt({ ...base, policy: policy() })).toBe(at('2026-03-29T09:00:00+01:00'));
    expect(nextReminderAt({ ...base, policy: policy({ max: 0 }) })).toBeUndefined();
    expect(nextReminderAt({ ...base, policy: policy({ enabled: false }) })).toBeUndefined();
    expect(simulate({ ...base, policy: policy({ enabled: false }) }, 60)).toEqual([]);
  });

  it('reminds an invoice without a due date every 7 days from the day of the first email', () => {
    const invoice = {
      policy: policy(),
      timezone: ALGIERS,
      dueDate: null,
      firstEmailAt: at('2026-05-05T15:00:00+01:00'),
    };
    expect(simulate(invoice, 60)).toEqual([
      at('2026-05-12T09:00:00+01:00'),
      at('2026-05-19T09:00:00+01:00'),
      at('2026-05-26T09:00:00+01:00'),
      at('2026-06-02T09:00:00+01:00'),
    ]);
    // Counted from the first email's day in the zone: 23:30 UTC on May 4th is May 5th in Algiers.
    expect(
      nextReminderAt({
        ...invoice,
        firstEmailAt: at('2026-05-04T23:30:00Z'),
        remindersSent: 0,
        lastEmailAt: at('2026-05-04T23:30:00Z'),
      }),
    ).toBe(at('2026-05-12T09:00:00+01:00'));
    expect(simulate({ ...invoice, policy: policy({ everyDaysAfterDue: 0 }) }, 60)).toEqual([]);
  });

  it('skips the on-due slot when the first email went on the due date: the next is due+7', () => {
    const firstEmailAt = at('2026-04-01T08:00:00+01:00');
    const input = { policy: policy(), timezone: ALGIERS, dueDate: '2026-04-01', firstEmailAt };
    expect(nextReminderAt({ ...input, remindersSent: 0, lastEmailAt: firstEmailAt })).toBe(
      at('2026-04-08T09:00:00+01:00'),
    );
    expectOnePerDay([firstEmailAt, ...simulate(input, 30)], ALGIERS);
  });

  it('skips slots missed while nothing was sent instead of sending them in a burst', () => {
    const invoice = {
      policy: policy(),
      timezone: ALGIERS,
      dueDate: '2026-04-01',
      firstEmailAt: at('2026-03-02T14:00:00+01:00'),
    };
    // The daemon comes back on April 10th: due-3, due and due+7 are gone; one reminder goes that day.
    const sent = simulate(invoice, 60, at('2026-04-10T11:00:00+01:00'));
    expect(sent).toEqual([
      at('2026-04-10T11:00:00+01:00'),
      at('2026-04-15T09:00:00+01:00'),
      at('2026-04-22T09:00:00+01:00'),
      at('2026-04-29T09:00:00+01:00'),
    ]);
  });

  it('never sends a reminder on the day of another email', () => {
    const lastEmailAt = at('2026-04-01T07:00:00+01:00'); // e.g. a new link emailed before 09:00
    const input = {
      policy: policy(),
      timezone: ALGIERS,
      dueDate: '2026-04-01',
      firstEmailAt: at('2026-03-02T14:00:00+01:00'),
      remindersSent: 1,
      lastEmailAt,
    };
    expect(nextReminderAt(input)).toBe(at('2026-04-08T09:00:00+01:00'));
    // Nor on the first email's day when the last email is given as earlier (e.g. 0 for unknown).
    expect(
      nextReminderAt({
        ...input,
        firstEmailAt: at('2026-03-29T10:00:00+01:00'),
        remindersSent: 0,
        lastEmailAt: 0,
      }),
    ).toBe(at('2026-04-01T09:00:00+01:00'));
  });

  it('takes before-due days in any order and once each', () => {
    const invoice = {
      policy: policy({ beforeDueDays: [3, 7, 3], max: 10, everyDaysAfterDue: 0 }),
      timezone: ALGIERS,
      dueDate: '2026-04-01',
      firstEmailAt: at('2026-03-02T14:00:00+01:00'),
    };
    expect(simulate(invoice, 60)).toEqual([
      at('2026-03-25T09:00:00+01:00'),
      at('2026-03-29T09:00:00+01:00'),
      at('2026-04-01T09:00:00+01:00'),
    ]);
  });
});

describe('weekdaysOnly', () => {
  // Due Tuesday 2026-04-07: due-3 is Saturday 2026-04-04.
  const invoice = {
    timezone: ALGIERS,
    dueDate: '2026-04-07',
    firstEmailAt: at('2026-03-09T10:00:00+01:00'),
    remindersSent: 0,
    lastEmailAt: at('2026-03-09T10:00:00+01:00'),
  };

  it('moves a Saturday slot to the Monday after', () => {
    expect(nextReminderAt({ ...invoice, policy: policy() })).toBe(at('2026-04-04T09:00:00+01:00'));
    expect(nextReminderAt({ ...invoice, policy: policy({ weekdaysOnly: true }) })).toBe(
      at('2026-04-06T09:00:00+01:00'),
    );
    expect(
      simulate({ ...invoice, policy: policy({ weekdaysOnly: true }) }, 60).map((sent) =>
        local(sent, ALGIERS),
      ),
    ).toEqual(['2026-04-06 09:00', '2026-04-07 09:00', '2026-04-14 09:00', '2026-04-21 09:00']);
  });

  it('sends one reminder on a Monday two weekend slots moved to', () => {
    // Every day after a Friday due date: Saturday and Sunday both move to Monday, which gets one.
    const sent = simulate(
      {
        policy: policy({ weekdaysOnly: true, everyDaysAfterDue: 1, beforeDueDays: [], onDueDate: false }),
        timezone: ALGIERS,
        dueDate: '2026-04-03',
        firstEmailAt: at('2026-03-09T10:00:00+01:00'),
      },
      60,
    );
    expect(sent.map((instant) => local(instant, ALGIERS))).toEqual([
      '2026-04-06 09:00',
      '2026-04-07 09:00',
      '2026-04-08 09:00',
      '2026-04-09 09:00',
    ]);
  });

  it('keeps weekends out of the sending hours', () => {
    const hours = policy({ weekdaysOnly: true });
    const saturdayMorning = at('2026-04-04T10:00:00+01:00');
    expect(isDaytime(saturdayMorning, ALGIERS, hours)).toBe(false);
    expect(isDaytime(saturdayMorning, ALGIERS, policy())).toBe(true);
    expect(nextDaytime(saturdayMorning, ALGIERS, hours)).toBe(at('2026-04-06T09:00:00+01:00'));
    expect(nextDaytime(at('2026-04-03T20:00:00+01:00'), ALGIERS, hours)).toBe(
      at('2026-04-06T09:00:00+01:00'),
    );
  });
});

describe('sending hours', () => {
  const hours = policy();

  it('are 09:00 to 18:00 wall time in Algiers (UTC+1, no DST)', () => {
    expect(isDaytime(at('2026-01-15T03:00:00+01:00'), ALGIERS, hours)).toBe(false);
    expect(isDaytime(at('2026-01-15T20:00:00+01:00'), ALGIERS, hours)).toBe(false);
    expect(isDaytime(at('2026-01-15T08:59:00+01:00'), ALGIERS, hours)).toBe(false);
    expect(isDaytime(at('2026-01-15T09:00:00+01:00'), ALGIERS, hours)).toBe(true);
    expect(isDaytime(at('2026-01-15T17:59:00+01:00'), ALGIERS, hours)).toBe(true);
    expect(isDaytime(at('2026-01-15T18:00:00+01:00'), ALGIERS, hours)).toBe(false);
    // 08:30 UTC is 09:30 in Algiers: daytime there, not in UTC's own reading.
    expect(
      isDaytime(
        at('2026-07-15T08:30:00Z'),
        ALGIERS,
        policy({ sendBetween: { from: '09:00', until: '09:45' } }),
      ),
    ).toBe(true);
  });

  it('start again at the next 09:00', () => {
    expect(nextDaytime(at('2026-01-15T20:00:00+01:00'), ALGIERS, hours)).toBe(
      at('2026-01-16T09:00:00+01:00'),
    );
    expect(nextDaytime(at('2026-01-15T03:00:00+01:00'), ALGIERS, hours)).toBe(
      at('2026-01-15T09:00:00+01:00'),
    );
    expect(nextDaytime(at('2026-01-15T23:59:00+01:00'), ALGIERS, hours)).toBe(
      at('2026-01-16T09:00:00+01:00'),
    );
    const noon = at('2026-01-15T12:00:00+01:00');
    expect(nextDaytime(noon, ALGIERS, hours)).toBe(noon);
  });

  it('follow the wall clock in Paris over both 2026 changes', () => {
    // March 29th: 02:00 CET jumps to 03:00 CEST.
    expect(isDaytime(at('2026-03-29T03:00:00+02:00'), PARIS, hours)).toBe(false);
    expect(isDaytime(at('2026-03-29T20:00:00+02:00'), PARIS, hours)).toBe(false);
    expect(isDaytime(at('2026-03-29T09:00:00+02:00'), PARIS, hours)).toBe(true);
    expect(isDaytime(at('2026-03-29T08:30:00+01:00'), PARIS, hours)).toBe(true); // 09:30 CEST
    expect(nextDaytime(at('2026-03-28T20:00:00+01:00'), PARIS, hours)).toBe(at('2026-03-29T09:00:00+02:00'));
    expect(nextDaytime(at('2026-03-29T03:00:00+02:00'), PARIS, hours)).toBe(at('2026-03-29T09:00:00+02:00'));
    // October 25th: 03:00 CEST goes back to 02:00 CET.
    expect(isDaytime(at('2026-10-25T03:00:00+01:00'), PARIS, hours)).toBe(false);
    expect(isDaytime(at('2026-10-24T20:00:00+02:00'), PARIS, hours)).toBe(false);
    expect(isDaytime(at('2026-10-25T08:30:00+02:00'), PARIS, hours)).toBe(false); // 07:30 CET
    expect(nextDaytime(at('2026-10-24T20:00:00+02:00'), PARIS, hours)).toBe(at('2026-10-25T09:00:00+01:00'));
  });
});

describe('zonedInstant and zonedDay', () => {
  it('give the UTC instant of a wall-clock time, whatever offset the day has', () => {
    expect(zonedInstant('2026-03-28', '09:00', PARIS)).toBe(at('2026-03-28T08:00:00Z'));
    expect(zonedInstant('2026-03-29', '09:00', PARIS)).toBe(at('2026-03-29T07:00:00Z'));
    expect(zonedInstant('2026-10-24', '09:00', PARIS)).toBe(at('2026-10-24T07:00:00Z'));
    expect(zonedInstant('2026-10-25', '09:00', PARIS)).toBe(at('2026-10-25T08:00:00Z'));
    expect(zonedInstant('2026-07-01', '09:00', ALGIERS)).toBe(at('2026-07-01T08:00:00Z'));
    expect(zonedInstant('2026-07-01', '00:00', 'UTC')).toBe(at('2026-07-01T00:00:00Z'));
    expect(zonedInstant('2026-07-01', '09:00', 'America/New_York')).toBe(at('2026-07-01T13:00:00Z'));
    expect(zonedInstant('2026-07-01', '09:00', 'Asia/Kolkata')).toBe(at('2026-07-01T03:30:00Z'));
  });

  it('take the first of a time that happens twice and move a time that never happens past the gap', () => {
    expect(zonedInstant('2026-10-25', '02:30', PARIS)).toBe(at('2026-10-25T02:30:00+02:00'));
    expect(zonedInstant('2026-03-29', '02:30', PARIS)).toBe(at('2026-03-29T03:30:00+02:00'));
  });

  it('read the calendar day in the zone', () => {
    expect(zonedDay(at('2026-12-01T23:30:00Z'), ALGIERS)).toBe('2026-12-02');
    expect(zonedDay(at('2026-12-01T23:30:00Z'), 'America/Costa_Rica')).toBe('2026-12-01');
    expect(zonedDay(at('2026-03-29T22:30:00Z'), PARIS)).toBe('2026-03-30');
  });

  it('refuse what is not a day, a time or a zone', () => {
    expect(() => zonedInstant('2026-02-30', '09:00', PARIS)).toThrow(/calendar day/);
    expect(() => zonedInstant('2026-03-01', '9:00', PARIS)).toThrow(/HH:MM/);
    expect(() => zonedDay(0, 'Mars/Olympus')).toThrow(RangeError);
    expect(() =>
      nextReminderAt({
        policy: policy(),
        timezone: ALGIERS,
        dueDate: '01/04/2026',
        firstEmailAt: 0,
        remindersSent: 0,
        lastEmailAt: 0,
      }),
    ).toThrow(/calendar day/);
  });
});

describe('reminderPolicySchema', () => {
  it('defaults to 3 days before, on the due date, weekly after, 4 at most, 09:00 to 18:00', () => {
    expect(reminderPolicySchema.parse({})).toEqual({
      enabled: true,
      beforeDueDays: [3],
      onDueDate: true,
      everyDaysAfterDue: 7,
      max: 4,
      sendBetween: { from: '09:00', until: '18:00' },
      weekdaysOnly: false,
    });
    // Each parse gets its own default list.
    reminderPolicySchema.parse({}).beforeDueDays.push(10);
    expect(reminderPolicySchema.parse({}).beforeDueDays).toEqual([3]);
  });

  function messages(input: unknown): string {
    const result = reminderPolicySchema.safeParse(input);
    expect(result.success).toBe(false);
    return result.success ? '' : z.prettifyError(result.error);
  }

  it('refuses times that are not HH:MM, saying where and why', () => {
    const text = messages({ sendBetween: { from: '25:00', until: '18:00' } });
    expect(text).toContain('sendBetween.from');
    expect(text).toContain('must be a time of day as HH:MM');
    // The malformed time alone is reported, not also a from/until order it cannot have.
    expect(text).not.toContain('later than from');
    expect(messages({ sendBetween: { from: '09:00', until: '9:60' } })).toContain('sendBetween.until');
  });

  it('refuses a window whose from is not before its until', () => {
    for (const sendBetween of [
      { from: '18:00', until: '09:00' },
      { from: '09:00', until: '09:00' },
    ]) {
      const text = messages({ sendBetween });
      expect(text).toContain('sendBetween.until');
      expect(text).toContain('must be later than from');
    }
    expect(
      reminderPolicySchema.parse({ sendBetween: { from: '08:30', until: '19:15' } }).sendBetween,
    ).toEqual({
      from: '08:30',
      until: '19:15',
    });
  });

  it('refuses out-of-range counts', () => {
    expect(messages({ beforeDueDays: [0] })).toContain('must be a whole number of days from 1 to 90');
    expect(messages({ beforeDueDays: [91] })).toContain('beforeDueDays[0]');
    expect(messages({ beforeDueDays: [1.5] })).toContain('must be a whole number of days from 1 to 90');
    expect(messages({ everyDaysAfterDue: -1 })).toContain('everyDaysAfterDue');
    expect(messages({ everyDaysAfterDue: 91 })).toContain('everyDaysAfterDue');
    expect(messages({ max: 51 })).toContain('max');
    expect(messages({ max: 2.5 })).toContain('max');
  });
});
