// Chain-wide reports: transactions per store, till, type and currency over a time range. A transaction
// names the app that made it, and a till's app names its store and till (apps.ts), so the dimensions
// come from the app; transactions of apps that are no till (a partner, an admin tool) report under
// null store and till.
import type { Store } from '../store/store.ts';
import { DomainError } from './errors.ts';
import type { TransactionType } from './transactions.ts';

export interface TillReportRow {
  store: string | null;
  till: string | null;
  type: TransactionType;
  currency: string;
  count: number;
  /** Sum of the signed effects on members' cashback, in minor units (transactions.ts). */
  amount: number;
  /** Sum of the purchase amounts (earns and refunds), in minor units; 0 where none. */
  purchaseAmount: number;
}

/** A range longer than this is refused: a chain-wide report reads every transaction in it. */
export const MAX_REPORT_DAYS = 366;

/**
 * Transactions created in [from, to) (epoch ms), grouped, ordered by store, till, type and currency
 * (null store and till last, as on both stores), read on `store`: the route passes
 * `ctx.laggingStore`, a read replica when one is configured. A bad range is refused before anything
 * is read, so it is a 400 even while the replica is down.
 */
export async function tillReport(
  store: Store,
  range: { from: number; to: number },
): Promise<TillReportRow[]> {
  if (!(range.from < range.to)) throw new DomainError('validation_error', '`from` must be before `to`');
  if (range.to - range.from > MAX_REPORT_DAYS * 86_400_000) {
    throw new DomainError('validation_error', `A report covers at most ${MAX_REPORT_DAYS} days`);
  }
  // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back, so both stores answer integers.
  const rows = await store.read((tx) =>
    tx.all<{
      store: string | null;
      till: string | null;
      type: TransactionType;
      currency: string;
      count: number;
      amount: number;
      purchase_amount: number;
    }>(
      `SELECT a.store, a.till, t.type, t.currency, COUNT(*) AS count,
            CAST(SUM(t.amount) AS BIGINT) AS amount,
            CAST(COALESCE(SUM(t.purchase_amount), 0) AS BIGINT) AS purchase_amount
       FROM transactions t LEFT JOIN apps a ON a.app_id = t.app_id
      WHERE t.created_at >= ? AND t.created_at < ?
      GROUP BY a.store, a.till, t.type, t.currency
      ORDER BY a.store IS NULL, a.store, a.till IS NULL, a.till, t.type, t.currency`,
      [range.from, range.to],
    ),
  );
  return rows.map(({ purchase_amount, ...r }) => ({ ...r, purchaseAmount: purchase_amount }));
}
