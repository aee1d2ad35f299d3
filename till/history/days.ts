// Calendar days in the till's time zone: the history's date filters and day totals name days as
// YYYY-MM-DD, and a day is [its first instant, the next day's first instant) in that zone, so a day
// is 23 or 25 hours long across a daylight-saving change and starts at 01:00 where midnight is
// skipped. The zone arithmetic is @date-fns/tz's (the IANA database that ships with Node's Intl).
import { TZDate } from '@date-fns/tz';

/** YYYY-MM-DD */
export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The process's IANA zone: the default for "day" when the till's config names none. */
export const processTimeZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Whether `zone` is an IANA time zone name Node knows (Intl refuses any other). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function parts(date: IsoDate): [number, number, number] {
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not a YYYY-MM-DD date: ${JSON.stringify(date)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Midnight UTC of y-m-d, days past the month's end rolling over (Date.UTC would read year 1 as 1901). */
function utc(y: number, m: number, d: number): Date {
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d);
  return t;
}

/** Whether `text` is a real calendar date written YYYY-MM-DD (2026-02-30 is not). */
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const [y, m, d] = parts(text);
  const t = utc(y, m, d);
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** The calendar date `days` after `date` (negative: before). */
export function addDays(date: IsoDate, days: number): IsoDate {
  const [y, m, d] = parts(date);
  const t = utc(y, m, d + days);
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}`;
}

/** The first instant (epoch ms) of `date` in `zone`. */
export function dayStart(date: IsoDate, zone: string): number {
  const [y, m, d] = parts(date);
  return new TZDate(y, m - 1, d, zone).getTime();
}

/**
 * The day in `zone` that holds the instant `ms`: the date its clock shows, except where the clock
 * went back across midnight. St. John's turned 00:01 back to 23:01 until 2011, so the new date's
 * first minute came before an hour of the old date again; that hour belongs to the new day, which
 * had already begun, so that days never overlap and an instant's day agrees with dayStart's ranges.
 */
export function localDate(ms: number, zone: string): IsoDate {
  const t = new TZDate(ms, zone);
  const shown = `${pad(t.getFullYear(), 4)}-${pad(t.getMonth() + 1, 2)}-${pad(t.getDate(), 2)}`;
  const next = addDays(shown, 1);
  return dayStart(next, zone) <= ms ? next : shown;
}

/** The instant `ms` as ISO 8601 with the zone's offset there, e.g. 2026-11-30T13:00:00.000+01:00. */
export const localTime = (ms: number, zone: string): string => new TZDate(ms, zone).toISOString();

/** Days from `from` to `to`, both included, oldest first. */
export function daysBetween(from: IsoDate, to: IsoDate): IsoDate[] {
  const days: IsoDate[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}
