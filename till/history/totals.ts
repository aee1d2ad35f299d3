// Totals per day of the till's time zone and per currency: count and amount of each type in each
// state (a queued earn is not yet a delivered one, and a voided one never will be), and the cashback
// the engine reported for the delivered ones (earned, redeemed, clawed back). One SQL statement: the
// days are a VALUES table of [first instant, next day's first instant) joined on the created_at
// index, so the zone's daylight-saving days are 23 or 25 hours long as they should be.
import type { SqlValue, Tx } from '../../engine/store/store.ts';
import type { OperationState, OperationType } from '../outbox/queue.ts';
import { addDays, dayStart, daysBetween, type IsoDate } from './days.ts';
import { CASHBACK_SQL, filterConditions, whereSql, type HistoryFilter } from './filters.ts';

/** The most days one totals request may span. */
export const MAX_TOTAL_DAYS = 366;
/** Days shown when the request names no range: the last 31, today included. */
export const DEFAULT_TOTAL_DAYS = 31;

export interface DayTotals {
  date: IsoDate;
  currency: string;
  operations: { type: OperationType; state: OperationState; count: number; amount: number }[];
  /** From the engine's answers to delivered operations, in minor units. */
  cashback: { earned: number; redeemed: number; clawedBack: number };
}

export interface TotalsAnswer {
  timeZone: string;
  from: IsoDate;
  to: IsoDate;
  /** Newest day first; a day with no operation is left out. */
  days: DayTotals[];
}

export class TotalsRangeError extends Error {}

/** The range a totals request covers: the one asked, completed from today, at most MAX_TOTAL_DAYS. */
export function totalsRange(filter: HistoryFilter, today: IsoDate): { from: IsoDate; to: IsoDate } {
  const to = filter.to ?? (filter.from !== undefined && filter.from > today ? filter.from : today);
  const from = filter.from ?? addDays(to, -(DEFAULT_TOTAL_DAYS - 1));
  if (addDays(from, MAX_TOTAL_DAYS - 1) < to)
    throw new TotalsRangeError(`totals span at most ${MAX_TOTAL_DAYS} days; ask for a shorter range`);
  return { from, to };
}

interface GroupRow {
  day: IsoDate;
  currency: string;
  type: OperationType;
  state: OperationState;
  count: number;
  amount: number;
  earned: number | null;
  redeemed: number | null;
  clawedBack: number | null;
}

/** An integer SQLite summed past 2^53 would come back rounded: refuse it rather than show it. */
function exact(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError('a total is too large to be shown exactly');
  return n;
}

export async function dayTotals(
  tx: Tx,
  filter: HistoryFilter,
  zone: string,
  range: { from: IsoDate; to: IsoDate },
): Promise<TotalsAnswer> {
  const days = daysBetween(range.from, range.to);
  const bounds: SqlValue[] = days.flatMap((d) => [d, dayStart(d, zone), dayStart(addDays(d, 1), zone)]);
  const where = whereSql(filterConditions(filter, zone, false));
  const rows = await tx.all<GroupRow>(
    `WITH days (day, lo, hi) AS (VALUES ${days.map(() => '(?, ?, ?)').join(', ')})
     SELECT d.day, o.currency, o.type, o.state, COUNT(*) AS count, SUM(o.amount) AS amount,
            SUM(CASE WHEN o.type = 'earn' THEN cashback END) AS earned,
            SUM(CASE WHEN o.type = 'redeem' THEN cashback END) AS redeemed,
            SUM(CASE WHEN o.type = 'refund' THEN cashback END) AS clawedBack
       FROM days d
       JOIN (SELECT o.*, ${CASHBACK_SQL} AS cashback FROM operations o ${where.sql}) o
         ON o.created_at >= d.lo AND o.created_at < d.hi
      GROUP BY d.day, o.currency, o.type, o.state
      ORDER BY d.day DESC, o.currency, o.type, o.state`,
    [...bounds, ...where.params],
  );
  const out: DayTotals[] = [];
  for (const r of rows) {
    let day = out.at(-1);
    if (!day || day.date !== r.day || day.currency !== r.currency) {
      day = {
        date: r.day,
        currency: r.currency,
        operations: [],
        cashback: { earned: 0, redeemed: 0, clawedBack: 0 },
      };
      out.push(day);
    }
    day.operations.push({ type: r.type, state: r.state, count: r.count, amount: exact(r.amount) });
    day.cashback.earned = exact(day.cashback.earned + (r.earned ?? 0));
    day.cashback.redeemed = exact(day.cashback.redeemed + (r.redeemed ?? 0));
    day.cashback.clawedBack = exact(day.cashback.clawedBack + (r.clawedBack ?? 0));
  }
  return { timeZone: zone, from: range.from, to: range.to, days: out };
}
