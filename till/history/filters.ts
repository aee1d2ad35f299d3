// The history's filters, as the manager's routes take them (query strings, checked by zod) and as SQL
// over `operations o`. Dates are calendar days (YYYY-MM-DD, both ends included) in the till's time
// zone; the member filter is a case-sensitive substring of the history's member reference
// (`email:jane@example.com`, `phone:…`, `id:42`, `member:…`, `card:411111******1111`), so "jane",
// "email:" or the last 4 digits of a card all find what a manager expects.
import { z } from 'zod';
import type { SqlValue } from '../../engine/store/store.ts';
import { OPERATION_TYPES, type OperationState, type OperationType } from '../outbox/queue.ts';
import { addDays, dayStart, isIsoDate, type IsoDate } from './days.ts';

export const OPERATION_STATES = [
  'queued',
  'delivered',
  'failed',
  'voided',
] as const satisfies readonly OperationState[];

export interface HistoryFilter {
  from?: IsoDate | undefined;
  to?: IsoDate | undefined;
  cashier?: string | undefined;
  member?: string | undefined;
  type?: OperationType | undefined;
  state?: OperationState | undefined;
}

const isoDate = z
  .string()
  .refine(isIsoDate, 'must be a calendar date written YYYY-MM-DD')
  // A till's history lies well inside these years, and day arithmetic near them stays in 4 digits.
  .refine((d) => d >= '1970-01-01' && d <= '2999-12-31', 'must be between 1970-01-01 and 2999-12-31');

/** The filters' query parameters (each at most once: a repeated one is an array, refused). */
export const filterQuery = {
  from: isoDate.optional(),
  to: isoDate.optional(),
  cashier: z.string().min(1).max(64).optional(),
  member: z.string().min(1).max(300).optional(),
  type: z.enum(OPERATION_TYPES).optional(),
  state: z.enum(OPERATION_STATES).optional(),
};

/** Refuses a range that ends before it starts. */
export const orderedRange = (f: { from?: string | undefined; to?: string | undefined }): boolean =>
  f.from === undefined || f.to === undefined || f.from <= f.to;
export const ORDERED_RANGE_MESSAGE = { error: '"from" must not be after "to"', path: ['to'] };

/** A whole number in a query string, within [min, max]. */
export const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export interface SqlCondition {
  sql: string;
  params: SqlValue[];
}

/** The filter as SQL conditions over `operations o` (no date condition when `dates` is false). */
export function filterConditions(f: HistoryFilter, zone: string, dates = true): SqlCondition[] {
  const c: SqlCondition[] = [];
  if (dates && f.from !== undefined) c.push({ sql: 'o.created_at >= ?', params: [dayStart(f.from, zone)] });
  if (dates && f.to !== undefined)
    c.push({ sql: 'o.created_at < ?', params: [dayStart(addDays(f.to, 1), zone)] });
  if (f.cashier !== undefined) c.push({ sql: 'o.cashier = ?', params: [f.cashier] });
  // instr, not LIKE: nothing in the member text is a wildcard, so nothing needs escaping.
  if (f.member !== undefined) c.push({ sql: 'instr(o.member_ref, ?) > 0', params: [f.member] });
  if (f.type !== undefined) c.push({ sql: 'o.type = ?', params: [f.type] });
  if (f.state !== undefined) c.push({ sql: 'o.state = ?', params: [f.state] });
  return c;
}

/** `WHERE a AND b ...` (or nothing) with its parameters in order. */
export function whereSql(conditions: readonly SqlCondition[]): SqlCondition {
  if (conditions.length === 0) return { sql: '', params: [] };
  return {
    sql: `WHERE ${conditions.map((c) => c.sql).join(' AND ')}`,
    params: conditions.flatMap((c) => c.params),
  };
}

/**
 * The cashback figure of a delivered operation, read from the engine's stored answer (native API):
 * an earn's `cashback_earned`, a redeem's `amount_redeemed`, a refund's `cashback_deducted`. NULL
 * when the operation was not delivered, the answer is not JSON or the field is not an integer, so a
 * malformed answer is left out of the totals rather than breaking them or turning into a float.
 */
const integerField = (path: string) =>
  `CASE WHEN json_type(o.result, '${path}') = 'integer' THEN json_extract(o.result, '${path}') END`;
export const CASHBACK_SQL = `CASE WHEN o.state = 'delivered' AND json_valid(o.result) THEN CASE o.type
  WHEN 'earn' THEN ${integerField('$.cashback_earned')}
  WHEN 'redeem' THEN ${integerField('$.amount_redeemed')}
  WHEN 'refund' THEN ${integerField('$.cashback_deducted')} END END`;
