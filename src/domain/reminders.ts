import { z } from 'zod';

/**
 * When the customer of an unpaid invoice is reminded of it. The first email goes when the link is
 * published; after it, reminders follow the merchant's policy on calendar days of the company's time
 * zone ("slots"), at most `max` of them, never two emails on one day, and only in the day's sending
 * hours. Everything here is a pure function of instants (epoch ms) and IANA zone names, computed with
 * Intl alone, so daylight saving changes move the UTC instant, never the wall-clock time.
 */

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$/;
const CALENDAR_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const timeOfDay = z.string().regex(TIME_OF_DAY, {
  message: 'must be a time of day as HH:MM, from 00:00 to 23:59, e.g. "09:00"',
  // A malformed time makes the from-before-until check below meaningless: report this one only.
  abort: true,
});

const sendBetweenSchema = z
  .object({ from: timeOfDay, until: timeOfDay })
  // Within one day: a window over midnight is the night, which is what it exists to avoid.
  .refine((window) => window.from < window.until, {
    message: 'must be later than from: reminders go between from and until on the same day',
    path: ['until'],
  });

const DAYS_BEFORE = 'must be a whole number of days from 1 to 90';

export const reminderPolicySchema = z.object({
  /** Off: the customer gets the first email only. */
  enabled: z.boolean().default(true),
  /** Days before the due date a reminder is due, in any order, e.g. [7, 3]. */
  beforeDueDays: z
    .array(z.number().int(DAYS_BEFORE).min(1, DAYS_BEFORE).max(90, DAYS_BEFORE))
    .default(() => [3]),
  onDueDate: z.boolean().default(true),
  /**
   * Once overdue, one reminder every this many days after the due date (0: none). An invoice without
   * a due date gets only these, counted from the day of its first email.
   */
  everyDaysAfterDue: z.number().int().min(0).max(90).default(7),
  /** Reminders at most, the first email not counted (0: none), however many slots remain. */
  max: z.number().int().min(0).max(50).default(4),
  /** Wall-clock hours in the company's zone a reminder may go: from included, until excluded. */
  sendBetween: sendBetweenSchema.default(() => ({ from: '09:00', until: '18:00' })),
  /** No reminder on Saturday or Sunday: a slot on a weekend moves to the Monday after. */
  weekdaysOnly: z.boolean().default(false),
});

export type ReminderPolicy = z.infer<typeof reminderPolicySchema>;

/** The part of a policy that says when sending is allowed at all. */
export type SendingHours = Pick<ReminderPolicy, 'sendBetween' | 'weekdaysOnly'>;

export interface ReminderInput {
  readonly policy: ReminderPolicy;
  /** The company's IANA zone, e.g. 'Africa/Algiers'; an unknown one throws Intl's RangeError. */
  readonly timezone: string;
  /** The invoice's due date as Odoo stores it ('YYYY-MM-DD'); null (or '') when it has none. */
  readonly dueDate: string | null;
  /** When the first email (the published link) went. */
  readonly firstEmailAt: number;
  /** Reminders already sent, the first email not counted. */
  readonly remindersSent: number;
  /** When the last email of any kind to this customer about this invoice went. */
  readonly lastEmailAt: number;
}

/**
 * When the next reminder is due, or undefined when none is left (policy disabled, `max` reached,
 * no slot remains). It is the `from` time of the first slot whose day is after both the day of the
 * first email and the day of the last email, so an email never shares its day with another, and slots
 * missed while nothing was sent (the daemon down) are skipped, not sent late in a burst: the result
 * may then lie in the past, meaning "due now", and a caller still waits for `nextDaytime(now)` so a
 * late reminder does not go at night either.
 *
 * Slots, in time order: `dueDate - d` for each d in beforeDueDays, the due date if onDueDate, then
 * `dueDate + k * everyDaysAfterDue` for k = 1, 2, …; without a due date only the last series, counted
 * from the first email's day. With weekdaysOnly a Saturday or Sunday slot is chosen by its own day and
 * then moved to the Monday after. No later slot can be earlier than that Monday (the slots after a
 * weekend day are the rest of that weekend, moved to the same Monday, or days from that Monday on), so
 * the moved slot is always the earliest; a later slot that falls on the same Monday is then skipped,
 * its day being taken, and the customer gets one reminder that Monday, not two.
 */
export function nextReminderAt(input: ReminderInput): number | undefined {
  const { policy, timezone } = input;
  if (!policy.enabled || input.remindersSent >= policy.max) return undefined;
  const firstDay = dayNumber(zonedDay(input.firstEmailAt, timezone));
  const lastDay = dayNumber(zonedDay(input.lastEmailAt, timezone));
  const dueDay = input.dueDate ? dayNumber(input.dueDate) : undefined;
  const slot = firstSlotAfter(policy, dueDay, firstDay, Math.max(firstDay, lastDay));
  if (slot === undefined) return undefined;
  const day = policy.weekdaysOnly ? weekdayFrom(slot) : slot;
  return zonedInstant(dayText(day), policy.sendBetween.from, timezone);
}

/** The earliest slot (a day number) strictly after the day `after`. */
function firstSlotAfter(
  policy: ReminderPolicy,
  dueDay: number | undefined,
  firstDay: number,
  after: number,
): number | undefined {
  if (dueDay !== undefined) {
    // These all fall on or before the due day, so before every slot of the series after it.
    const fixed = policy.beforeDueDays.map((days) => dueDay - days);
    if (policy.onDueDate) fixed.push(dueDay);
    const next = fixed.filter((day) => day > after).sort((a, b) => a - b)[0];
    if (next !== undefined) return next;
  }
  const every = policy.everyDaysAfterDue;
  if (every === 0) return undefined;
  const start = dueDay ?? firstDay;
  // The smallest k >= 1 with start + k * every > after.
  const k = Math.max(1, Math.floor((after - start) / every) + 1);
  return start + k * every;
}

/** Whether an instant lies in the sending hours [from, until) of its day in the zone (and on a weekday when asked). */
export function isDaytime(instant: number, timezone: string, policy: SendingHours): boolean {
  const wall = wallClock(instant, timezone);
  if (policy.weekdaysOnly && isWeekend(wall.day)) return false;
  const minutes = wall.hour * 60 + wall.minute;
  return minutes >= minutesOfDay(policy.sendBetween.from) && minutes < minutesOfDay(policy.sendBetween.until);
}

/** The instant itself when it is in the sending hours, otherwise the next moment they start. */
export function nextDaytime(instant: number, timezone: string, policy: SendingHours): number {
  if (isDaytime(instant, timezone, policy)) return instant;
  const today = dayNumber(zonedDay(instant, timezone));
  // Today (before the hours start) or a later day; a week and a weekend always hold a weekday.
  for (let day = today; day <= today + 8; day++) {
    if (policy.weekdaysOnly && isWeekend(day)) continue;
    const start = zonedInstant(dayText(day), policy.sendBetween.from, timezone);
    if (start > instant) return start;
  }
  throw new Error(`no sending hours found after ${new Date(instant).toISOString()} in ${timezone}`);
}

/** The calendar day ('YYYY-MM-DD') of an instant in a zone. Unknown zones throw Intl's RangeError. */
export function zonedDay(instant: number, timezone: string): string {
  return dayText(wallClock(instant, timezone).day);
}

/**
 * The instant a wall-clock time ('HH:MM') of a day ('YYYY-MM-DD') happens in a zone. A time that
 * happens twice (clocks set back) gives the first of them; a time that never happens (clocks set
 * forward over it) gives the instant as far after the gap's start as the time is, i.e. 02:30 on a
 * night that jumps from 02:00 to 03:00 gives 03:30, as Temporal's 'compatible' choice does.
 */
export function zonedInstant(day: string, time: string, timezone: string): number {
  const wall = dayNumber(day) * DAY_MS + minutesOfDay(time) * MINUTE_MS;
  // The offsets in force a day either side of the wall-clock time: around any one change of the
  // zone's offset, each instant of that day is wall minus one of them.
  const before = offsetAt(wall - DAY_MS, timezone);
  const after = offsetAt(wall + DAY_MS, timezone);
  const matches = [wall - before, wall - after].filter(
    (instant) => instant + offsetAt(instant, timezone) === wall,
  );
  if (matches.length > 0) return Math.min(...matches);
  // In the gap: the offset from before it carries the time past the gap.
  return wall - before;
}

interface WallClock {
  /** Day number: days since 1970-01-01. */
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  /** The wall-clock time read as if it were UTC, in ms, to second precision. */
  readonly asUtc: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, format);
  }
  return format;
}

function wallClock(instant: number, timezone: string): WallClock {
  const parts: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(instant)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const { year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  const asUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  return { day: Math.floor(asUtc / DAY_MS), hour, minute, asUtc };
}

/** How far the zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(instant: number, timezone: string): number {
  const wholeSeconds = instant - (((instant % 1000) + 1000) % 1000);
  return wallClock(instant, timezone).asUtc - wholeSeconds;
}

function dayNumber(day: string): number {
  const match = CALENDAR_DAY.exec(day);
  const ms = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  // Round trip, so 2026-02-30 is refused rather than read as March 2nd.
  if (Number.isNaN(ms) || dayText(ms / DAY_MS) !== day) {
    throw new RangeError(`not a calendar day as YYYY-MM-DD: ${JSON.stringify(day)}`);
  }
  return ms / DAY_MS;
}

function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

function minutesOfDay(time: string): number {
  const match = TIME_OF_DAY.exec(time);
  if (!match) throw new RangeError(`not a time of day as HH:MM: ${JSON.stringify(time)}`);
  return Number(match[1]) * 60 + Number(match[2]);
}

/** 0 is Sunday; day 0, 1970-01-01, was a Thursday. */
function weekday(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

function isWeekend(day: number): boolean {
  const dayOfWeek = weekday(day);
  return dayOfWeek === 0 || dayOfWeek === 6;
}

/** The day itself on a weekday, the Monday after on a weekend. */
function weekdayFrom(day: number): number {
  const dayOfWeek = weekday(day);
  return dayOfWeek === 6 ? day + 2 : dayOfWeek === 0 ? day + 1 : day;
}
