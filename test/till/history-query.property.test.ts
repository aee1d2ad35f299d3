// The history's query parsers: the cursor round-trips and refuses what it did not make, and random
// query strings on every GET route of the history get 200 or a 400 in the API's shape, never a 500.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, daysBetween } from '../../till/history/days.ts';
import { cursorQuery, encodeCursor } from '../../till/history/list.ts';
import {
  DEFAULT_TOTAL_DAYS,
  MAX_TOTAL_DAYS,
  totalsRange,
  TotalsRangeError,
} from '../../till/history/totals.ts';
import { startHistoryTill, type HistoryTill } from './history-fixture.ts';

describe('the cursor', () => {
  it('parses back to the position it was made from', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8_640_000_000_000_000 / 1000 }),
        fc.string({ minLength: 1, maxLength: 64, unit: 'grapheme-ascii' }),
        (createdAt, id) => {
          expect(cursorQuery.parse(encodeCursor({ createdAt, id }))).toEqual({ createdAt, id });
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('refuses any text that is not exactly a cursor it made', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 120 }), (text) => {
        const r = cursorQuery.safeParse(text);
        if (r.success) expect(encodeCursor(r.data)).toBe(text);
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('the totals range', () => {
  it('is the range asked, completed from today, and refused past 366 days', () => {
    const day = fc.integer({ min: -1_000, max: 1_000 }).map((n) => addDays('2026-06-15', n));
    fc.assert(
      fc.property(
        fc.option(day, { nil: undefined }),
        fc.option(day, { nil: undefined }),
        day,
        (from, to, today) => {
          let range;
          try {
            range = totalsRange({ from, to }, today);
          } catch (e) {
            expect(e).toBeInstanceOf(TotalsRangeError);
            // Only a range from a given day to one (given, or today) more than 366 days on.
            expect(from).toBeDefined();
            expect(daysBetween(from!, to ?? today).length).toBeGreaterThan(MAX_TOTAL_DAYS);
            return;
          }
          if (from !== undefined) expect(range.from).toBe(from);
          if (to !== undefined) expect(range.to).toBe(to);
          if (to === undefined) expect(range.to).toBe(from !== undefined && from > today ? from : today);
          if (from === undefined) expect(daysBetween(range.from, range.to)).toHaveLength(DEFAULT_TOTAL_DAYS);
          if (from === undefined || to === undefined || from <= to)
            expect(daysBetween(range.from, range.to).length).toBeLessThanOrEqual(MAX_TOTAL_DAYS);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('random queries over HTTP', () => {
  let till: HistoryTill;
  beforeAll(async () => {
    till = await startHistoryTill({ timeZone: 'America/New_York' });
  });
  afterAll(async () => {
    await till.close();
  });

  const KEYS = [
    'from',
    'to',
    'cashier',
    'member',
    'type',
    'state',
    'limit',
    'cursor',
    'device',
    'operation',
    'x',
  ];
  const junk = fc.oneof(fc.string({ maxLength: 20 }), fc.integer().map(String));
  // Each parameter mostly gets values near its edges: the first and last accepted dates and just
  // past them, a DST change, the limits around 1 and 500.
  const edges: Record<string, fc.Arbitrary<string>> = {
    from: fc.constantFrom('1970-01-01', '1969-12-31', '2999-12-31', '3000-01-01', '9999-12-31', '2026-03-08'),
    to: fc.constantFrom('1970-01-01', '1969-12-31', '2999-12-31', '3000-01-01', '9999-12-31', '2026-11-01'),
    limit: fc.constantFrom('0', '1', '500', '501', '-1', '1e2'),
    cursor: fc.constantFrom('1', '0', String(Number.MAX_SAFE_INTEGER), '9007199254740993'),
    type: fc.constantFrom('earn', 'cashout', 'EARN'),
    state: fc.constantFrom('failed', 'voided', 'done'),
  };
  const pair = fc
    .constantFrom(...KEYS)
    .chain((k) => fc.tuple(fc.constant(k), edges[k] ? fc.oneof(edges[k], junk) : junk));
  const ROUTES = [
    '/api/history',
    '/api/history/totals',
    '/api/history.csv',
    '/api/logs/devices',
    '/api/logs/queue',
  ];

  it('answer 200 or 400 validation_error, nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...ROUTES), fc.array(pair, { maxLength: 3 }), async (route, pairs) => {
        const r = await till.call('GET', `${route}?${new URLSearchParams(pairs)}`);
        expect([200, 400]).toContain(r.status);
        if (r.status === 400)
          expect(await r.json()).toEqual({
            error: { code: 'validation_error', message: expect.any(String) },
          });
        else await r.arrayBuffer();
      }),
      { numRuns: 600 },
    );
  });
});
