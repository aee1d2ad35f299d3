// The history's calendar days in a time zone (till/history/days.ts) against Intl's own calendar, in
// zones with daylight saving, half-hour offsets, a midnight that is skipped, and none.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  dayStart,
  daysBetween,
  isIsoDate,
  isTimeZone,
  localDate,
  localTime,
} from '../../till/history/days.ts';

const ZONES = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'America/Santiago', // DST starts at midnight: some days begin at 01:00
  'America/St_Johns', // -03:30 / -02:30
  'Asia/Kolkata', // +05:30, no DST
  'Australia/Lord_Howe', // a 30-minute DST shift
  'Asia/Tehran',
  'Pacific/Auckland',
];

const oracleDate = (ms: number, zone: string) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);

const instant = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) });
const zone = fc.constantFrom(...ZONES);

describe('days in a time zone', () => {
  it('localDate is the date Intl shows for the instant, or the next where the clock went back across midnight', () => {
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const shown = oracleDate(ms, z);
        const d = localDate(ms, z);
        if (z === 'America/St_Johns') expect([shown, addDays(shown, 1)]).toContain(d);
        else expect(d).toBe(shown);
      }),
      { numRuns: 2_000 },
    );
  });

  it('days never go backwards as time goes forwards', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 1, max: 3 * 3_600_000 }), zone, (ms, step, z) => {
        expect(localDate(ms, z) <= localDate(ms + step, z)).toBe(true);
      }),
      { numRuns: 2_000 },
    );
  });

  it("St. John's 1993-10-31: 00:01 went back to 23:01, and that hour is the 31st's", () => {
    const z = 'America/St_Johns';
    const wentBack = Date.parse('1993-10-31T02:31:00Z'); // 00:01 NDT, shown as 23:01 NST on the 30th
    expect(oracleDate(wentBack, z)).toBe('1993-10-30');
    expect(localDate(wentBack, z)).toBe('1993-10-31');
    expect(localDate(wentBack - 60_001, z)).toBe('1993-10-30');
    expect(new Date(dayStart('1993-10-31', z)).toISOString()).toBe('1993-10-31T02:30:00.000Z');
    expect(dayStart('1993-11-01', z) - dayStart('1993-10-31', z)).toBe(25 * 3_600_000);
  });

  it("an instant lies in [its day's start, the next day's start), and a day starts on that date", () => {
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const d = localDate(ms, z);
        const start = dayStart(d, z);
        const next = dayStart(addDays(d, 1), z);
        expect(start).toBeLessThanOrEqual(ms);
        expect(ms).toBeLessThan(next);
        // The first instant of the day, not later: one millisecond before is the day before.
        expect(oracleDate(start, z)).toBe(d);
        expect(oracleDate(start - 1, z)).toBe(addDays(d, -1));
        // 23 to 25 hours, whatever the zone did that day.
        expect(next - start).toBeGreaterThanOrEqual(23 * 3_600_000);
        expect(next - start).toBeLessThanOrEqual(25 * 3_600_000);
      }),
      { numRuns: 2_000 },
    );
  });

  it('a skipped midnight: Santiago on 2022-09-11 starts at 01:00 local (04:00 UTC)', () => {
    expect(new Date(dayStart('2022-09-11', 'America/Santiago')).toISOString()).toBe(
      '2022-09-11T04:00:00.000Z',
    );
    expect(dayStart('2026-03-30', 'Europe/Berlin') - dayStart('2026-03-29', 'Europe/Berlin')).toBe(
      23 * 3_600_000,
    );
  });

  it('localTime is ISO 8601 with the offset, naming the same instant', () => {
    fc.assert(
      fc.property(instant, zone, (ms, z) => {
        const text = localTime(ms, z);
        expect(text).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{2}:\d{2}$/);
        expect(Date.parse(text)).toBe(ms);
        expect(text.slice(0, 10)).toBe(oracleDate(ms, z));
      }),
      { numRuns: 1_000 },
    );
  });

  it('isIsoDate accepts exactly the real dates written YYYY-MM-DD', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (y, m, d) => {
          const text = `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          const t = new Date(Date.UTC(2000, 0, 1));
          t.setUTCFullYear(y, m - 1, d);
          const real = m >= 1 && m <= 12 && d >= 1 && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
          expect(isIsoDate(text)).toBe(real);
        },
      ),
      { numRuns: 3_000 },
    );
    for (const bad of [
      '2026-1-01',
      '2026-01-1',
      '26-01-01',
      '2026/01/01',
      '2026-01-01T00:00',
      ' 2026-01-01',
      '',
    ])
      expect(isIsoDate(bad)).toBe(false);
  });

  it('addDays steps whole calendar days; daysBetween lists each once, in order', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: -800, max: 800 }), (ms, n) => {
        const d = new Date(ms).toISOString().slice(0, 10);
        const e = addDays(d, n);
        expect(Date.parse(e) - Date.parse(d)).toBe(n * 86_400_000);
        expect(addDays(e, -n)).toBe(d);
        if (n >= 0) {
          const days = daysBetween(d, e);
          expect(days).toHaveLength(n + 1);
          expect(days[0]).toBe(d);
          expect(days.at(-1)).toBe(e);
          for (let i = 1; i < days.length; i++) expect(days[i]).toBe(addDays(days[i - 1]!, 1));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('knows IANA zones and refuses other names', () => {
    for (const z of ZONES) expect(isTimeZone(z)).toBe(true);
    for (const z of ['Mars/Olympus', 'Europe/Berlin ', '', '+01:00x']) expect(isTimeZone(z)).toBe(false);
  });
});
