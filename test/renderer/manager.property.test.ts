// The manager screen's pure logic: the history filters turned into the till's query string (fast-check
// against a model of URLSearchParams), the date checks and day arithmetic, the chart's value axis (round
// steps covering every value), the chart's days (every day of the range, zero when nothing), the
// refusals said in words, and a terminal log entry's details.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { barHeight, niceScale } from '../../renderer/src/manager/chart-scale.ts';
import { dispositionFilename } from '../../renderer/src/manager/csv-download.ts';
import {
  addDays,
  daysBetween,
  filtersProblem,
  historyParams,
  isIsoDate,
  NO_FILTERS,
  OPERATION_STATES,
  OPERATION_TYPES,
  type HistoryFilters,
} from '../../renderer/src/manager/query.ts';
import { problemText } from '../../renderer/src/manager/context.ts';
import { summaryText } from '../../renderer/src/manager/terminals.tsx';
import { chartDays } from '../../renderer/src/manager/totals.tsx';
import { ApiError, UNREACHABLE } from '../../renderer/src/shared/api.ts';
import { textsFor } from '../../renderer/src/shared/i18n.ts';

const day = fc
  .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const filters: fc.Arbitrary<HistoryFilters> = fc.record({
  from: fc.oneof(fc.constant(''), day),
  to: fc.oneof(fc.constant(''), day),
  cashier: fc.string({ maxLength: 12 }),
  member: fc.string({ maxLength: 20 }),
  type: fc.constantFrom('' as const, ...OPERATION_TYPES),
  state: fc.constantFrom('' as const, ...OPERATION_STATES),
});

describe('history filters as the query string', () => {
  it('carries exactly the non-empty fields, trimmed, and reads back to them', () => {
    fc.assert(
      fc.property(filters, (f) => {
        const back = new URLSearchParams(historyParams(f));
        const expected = Object.entries({ ...f, cashier: f.cashier.trim(), member: f.member.trim() }).filter(
          ([, v]) => v !== '',
        );
        expect([...back.entries()].sort()).toEqual(expected.sort());
      }),
    );
  });

  it('adds paging parameters after the filters, leaving out undefined ones', () => {
    const q = historyParams({ ...NO_FILTERS, type: 'earn' }, { limit: '50', cursor: undefined });
    expect(q).toBe('type=earn&limit=50');
    expect(historyParams(NO_FILTERS)).toBe('');
  });

  it('says a reversed range or a day that does not exist, and nothing else', () => {
    fc.assert(
      fc.property(filters, (f) => {
        const p = filtersProblem(f);
        if (f.from && f.to && f.from > f.to) expect(p).toBe('range_reversed');
        else expect(p).toBeUndefined();
      }),
    );
    expect(filtersProblem({ ...NO_FILTERS, from: '2026-02-30' })).toBe('bad_date');
    expect(filtersProblem({ ...NO_FILTERS, to: '26-1-1' })).toBe('bad_date');
  });
});

describe('calendar days', () => {
  it('knows real days from look-alikes', () => {
    fc.assert(
      fc.property(day, (d) => {
        expect(isIsoDate(d)).toBe(true);
      }),
    );
    for (const bad of ['2026-02-29', '2026-13-01', '2026-00-10', '2026-1-01', 'tomorrow', ''])
      expect(isIsoDate(bad), bad).toBe(false);
    expect(isIsoDate('2028-02-29')).toBe(true);
  });

  it('moves by whole days and lists a range with both ends', () => {
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 400 }), (from, n) => {
        const to = addDays(from, n);
        expect(addDays(to, -n)).toBe(from);
        const all = daysBetween(from, to);
        expect(all).toHaveLength(n + 1);
        expect(all[0]).toBe(from);
        expect(all.at(-1)).toBe(to);
        all.slice(1).forEach((d, i) => expect(d > all[i]!).toBe(true));
      }),
    );
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(daysBetween('2026-03-02', '2026-03-01')).toEqual([]);
  });
});

describe('the chart’s value axis', () => {
  it('tops every value at a round step, in at most the ticks asked for', () => {
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 50 }), fc.integer({ min: 1, max: 10 }), (max, n) => {
        const s = niceScale(max, n);
        expect(s.top).toBeGreaterThanOrEqual(max);
        expect(s.top - max).toBeLessThan(s.step + (max === 0 ? 1 : 0));
        expect(s.ticks.length - 1).toBeLessThanOrEqual(n);
        expect(s.ticks[0]).toBe(0);
        expect(s.ticks.at(-1)).toBe(s.top);
        s.ticks.forEach((t, i) => expect(t).toBe(i * s.step));
        // 1, 2 or 5 times a power of ten, and no bigger than needed: the next smaller round step
        // would need more ticks.
        const power = 10 ** Math.floor(Math.log10(s.step) + 1e-9);
        expect([1, 2, 5]).toContain(Math.round(s.step / power));
        const smaller = [1, 2, 5, 10].map((k) => (k * power) / 10).filter((c) => c < s.step && c >= 1);
        for (const c of smaller) expect(Math.ceil(max / c)).toBeGreaterThan(n);
      }),
    );
  });

  it('reads small amounts in whole minor units and refuses what is not a count', () => {
    expect(niceScale(0)).toEqual({ top: 1, step: 1, ticks: [0, 1] });
    expect(niceScale(3)).toEqual({ top: 3, step: 1, ticks: [0, 1, 2, 3] });
    expect(niceScale(2_450)).toEqual({ top: 3_000, step: 1_000, ticks: [0, 1_000, 2_000, 3_000] });
    expect(niceScale(2_450, 5)).toEqual({
      top: 2_500,
      step: 500,
      ticks: [0, 500, 1_000, 1_500, 2_000, 2_500],
    });
    for (const bad of [-1, 1.5, Number.NaN, Infinity]) expect(() => niceScale(bad)).toThrow(RangeError);
  });

  it('draws bars in proportion, never past the axis', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 2_000 }), (value, max, height) => {
        const { top } = niceScale(max);
        const h = barHeight(value, top, height);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(height);
        if (value <= top) expect(h).toBeCloseTo((value / top) * height, 6);
      }),
    );
  });
});

describe('the chart’s days', () => {
  it('has every day of the range, oldest first, in the chosen currency, zero when nothing', () => {
    const days = chartDays(
      {
        timeZone: 'UTC',
        from: '2026-11-27',
        to: '2026-11-30',
        days: [
          {
            date: '2026-11-30',
            currency: 'AUD',
            operations: [],
            cashback: { earned: 250, redeemed: 100, clawedBack: 0 },
          },
          {
            date: '2026-11-28',
            currency: 'TND',
            operations: [],
            cashback: { earned: 999, redeemed: 0, clawedBack: 0 },
          },
          {
            date: '2026-11-28',
            currency: 'AUD',
            operations: [],
            cashback: { earned: 40, redeemed: 0, clawedBack: 0 },
          },
        ],
      },
      'AUD',
    );
    expect(days).toEqual([
      { date: '2026-11-27', earned: 0, redeemed: 0 },
      { date: '2026-11-28', earned: 40, redeemed: 0 },
      { date: '2026-11-29', earned: 0, redeemed: 0 },
      { date: '2026-11-30', earned: 250, redeemed: 100 },
    ]);
  });
});

describe('the CSV file’s name', () => {
  it('comes from Content-Disposition, or the fallback', () => {
    expect(dispositionFilename('attachment; filename="history-2026-11-30.csv"', 'x.csv')).toBe(
      'history-2026-11-30.csv',
    );
    expect(dispositionFilename(null, 'x.csv')).toBe('x.csv');
    expect(dispositionFilename('attachment', 'x.csv')).toBe('x.csv');
  });
});

describe('refusals in words', () => {
  it('says the till’s and the engine’s refusals in the screen’s language, else the till’s message', () => {
    for (const lang of ['en-AU', 'ar-SD']) {
      const texts = textsFor(lang);
      const m = texts.messages.manager;
      const words = (code: string, message = 'the till said so') =>
        problemText(texts, new ApiError(409, code, message)).replace(/[\u2068\u2069]/g, '');
      expect(words('last_manager')).toBe(m.lastManager);
      expect(words('operator_exists')).toBe(m.operatorExists);
      expect(problemText(texts, new ApiError(0, UNREACHABLE, 'x'))).toBe(m.unreachable);
      expect(words('engine_unreachable', 'ECONNREFUSED')).toContain('ECONNREFUSED');
      expect(words('engine_unreachable', 'ECONNREFUSED')).not.toBe(words('engine_forbidden', 'ECONNREFUSED'));
      expect(words('invalid_state', 'Only a failed operation can be voided')).toContain(
        'Only a failed operation can be voided',
      );
    }
  });
});

describe('a terminal log entry', () => {
  it('reads as its recorded fields, leaving out empty ones', () => {
    expect(summaryText({ masked: '411111******1111', track: 2, error: null, note: '' })).toBe(
      'masked: 411111******1111, track: 2',
    );
    expect(summaryText({ source: { kind: 'hid' } })).toBe('source: {"kind":"hid"}');
  });
});
