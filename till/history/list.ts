// The history's list: operations newest first, with their outbox attempts and last error, in pages
// continued by keyset (created_at, id) so a page costs the same at the millionth row as at the first
// and rows written meanwhile neither repeat nor shift a page. The cursor is opaque to callers.
import { z } from 'zod';
import type { Tx } from '../../engine/store/store.ts';
import type { OperationState, OperationType } from '../outbox/queue.ts';
import { CASHBACK_SQL, filterConditions, whereSql, type HistoryFilter } from './filters.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

/** Where a page ends: the next page holds the rows strictly older in (createdAt, id) order. */
export interface Cursor {
  createdAt: number;
  id: string;
}

export const encodeCursor = (c: Cursor): string =>
  Buffer.from(`${c.createdAt}.${c.id}`, 'utf8').toString('base64url');

const CURSOR = /^(\d{1,16})\.(.{1,64})$/s;
/** The cursor parameter: exactly what encodeCursor made, else a 400 naming the cursor. */
export const cursorQuery = z
  .string()
  .max(200)
  .transform((text, ctx): Cursor => {
    const m = CURSOR.exec(Buffer.from(text, 'base64url').toString('utf8'));
    const cursor = m?.[1] && m[2] ? { createdAt: Number(m[1]), id: m[2] } : undefined;
    // Only what encodeCursor makes: base64url has more than one spelling of some texts.
    if (!cursor || encodeCursor(cursor) !== text) {
      ctx.addIssue({ code: 'custom', message: 'is not a cursor this API gave' });
      return z.NEVER;
    }
    return cursor;
  });

/** One operation as the history shows it. */
export interface HistoryRow {
  id: string;
  type: OperationType;
  state: OperationState;
  amount: number;
  currency: string;
  /** Earned, redeemed or clawed back, from the engine's answer once delivered; else null. */
  cashback: number | null;
  memberRef: string;
  cashier: string;
  programId: number | null;
  reference: string | null;
  /** The engine's answer (delivered) or its refusal (failed, and voided after it). */
  result: string | null;
  voidReason: string | null;
  createdAt: number;
  updatedAt: number;
  /** Attempts so far while the operation is in the outbox (queued or failed); else null. */
  attempts: number | null;
  lastError: string | null;
}

const SELECT = `SELECT o.id, o.type, o.state, o.amount, o.currency, ${CASHBACK_SQL} AS cashback,
       o.member_ref AS memberRef, o.cashier, o.program_id AS programId, o.reference, o.result,
       o.void_reason AS voidReason, o.created_at AS createdAt, o.updated_at AS updatedAt,
       x.attempts, x.last_error AS lastError
  FROM operations o LEFT JOIN outbox x ON x.operation_id = o.id`;

export interface HistoryPage {
  rows: HistoryRow[];
  /** The cursor of the next page, or null when this page holds the oldest matching row. */
  next: Cursor | null;
}

/** One page of matching operations, newest first, after `after` when given. */
export async function historyPage(
  tx: Tx,
  filter: HistoryFilter,
  zone: string,
  page: { limit: number; after?: Cursor | undefined },
): Promise<HistoryPage> {
  const conditions = filterConditions(filter, zone);
  if (page.after)
    conditions.push({ sql: '(o.created_at, o.id) < (?, ?)', params: [page.after.createdAt, page.after.id] });
  const where = whereSql(conditions);
  // One row more than asked says whether another page follows, without a COUNT.
  const rows = await tx.all<HistoryRow>(
    `${SELECT} ${where.sql} ORDER BY o.created_at DESC, o.id DESC LIMIT ?`,
    [...where.params, page.limit + 1],
  );
  const more = rows.length > page.limit;
  if (more) rows.pop();
  const last = rows.at(-1);
  return { rows, next: more && last ? { createdAt: last.createdAt, id: last.id } : null };
}

/** The engine's refusal of a failed operation (kept when a manager then voids it), else null. */
export const refusal = (r: HistoryRow): string | null =>
  r.state === 'failed' || r.state === 'voided' ? r.result : null;

/** One operation by id, whatever its state. */
export async function historyRow(tx: Tx, id: string): Promise<HistoryRow | undefined> {
  return tx.one<HistoryRow>(`${SELECT} WHERE o.id = ?`, [id]);
}
