// The history as CSV, streamed: keyset pages of PAGE_SIZE rows are read from SQLite only as the
// stringifier (csv-stringify) asks for more, so a million-row export holds one page in memory and a
// slow client slows the reads instead of filling the heap. Each page is its own read snapshot: an
// operation settled during a long export shows the state its page saw. Money is the integer minor
// units and the same amount as exact decimal text with the currency's exponent (contract/money.ts).
import { Readable, pipeline } from 'node:stream';
import { stringify } from 'csv-stringify';
import { formatAmount, isCurrency } from '../../contract/money.ts';
import type { Store } from '../../engine/store/store.ts';
import { localTime } from './days.ts';
import type { HistoryFilter } from './filters.ts';
import { historyPage, refusal, type Cursor, type HistoryRow } from './list.ts';

export const CSV_PAGE_SIZE = 1_000;

export const CSV_COLUMNS = [
  'id',
  'created_at',
  'date',
  'type',
  'state',
  'currency',
  'amount_minor',
  'amount',
  'cashback_minor',
  'cashback',
  'member',
  'cashier',
  'program_id',
  'reference',
  'attempts',
  'error',
  'void_reason',
] as const;
export type CsvRecord = Record<(typeof CSV_COLUMNS)[number], string | number | null>;

/** Exact decimal text of `minor` units, or empty for a currency contract/money.ts does not know. */
const decimal = (minor: number | null, currency: string): string =>
  minor === null || !isCurrency(currency) ? '' : formatAmount(minor, currency);

export function csvRecord(r: HistoryRow, zone: string): CsvRecord {
  // One zone lookup per row (the costliest step of a row): the local date is the local time's start.
  const createdAt = localTime(r.createdAt, zone);
  return {
    id: r.id,
    created_at: createdAt,
    date: createdAt.slice(0, 10),
    type: r.type,
    state: r.state,
    currency: r.currency,
    amount_minor: r.amount,
    amount: decimal(r.amount, r.currency),
    cashback_minor: r.cashback,
    cashback: decimal(r.cashback, r.currency),
    member: r.memberRef,
    cashier: r.cashier,
    program_id: r.programId,
    reference: r.reference,
    attempts: r.attempts,
    // The engine's refusal, else the last network error of a queued one.
    error: refusal(r) ?? r.lastError,
    void_reason: r.voidReason,
  };
}

/** Every page of matching rows, newest first, read one page at a time as the consumer pulls. */
export async function* historyRecords(
  store: Store,
  filter: HistoryFilter,
  zone: string,
  pageSize = CSV_PAGE_SIZE,
): AsyncGenerator<CsvRecord> {
  let after: Cursor | undefined;
  do {
    const page = await store.read((tx) => historyPage(tx, filter, zone, { limit: pageSize, after }));
    for (const row of page.rows) yield csvRecord(row, zone);
    after = page.next ?? undefined;
  } while (after);
}

/** The export's file name, dated with the till's day it was made. */
export const csvFilename = (today: string): string => `tillback-history-${today}.csv`;

/**
 * The CSV text stream: a header row, then one row per operation. Cells that a spreadsheet would run
 * as a formula (starting with = + - @ tab or CR) get a leading ' (csv-stringify's escape_formulas).
 */
export function historyCsv(store: Store, filter: HistoryFilter, zone: string, pageSize?: number): Readable {
  const stringifier = stringify({ header: true, columns: [...CSV_COLUMNS], escape_formulas: true });
  // pipeline: a client that goes away destroys the stringifier, which ends the page reads with it.
  pipeline(Readable.from(historyRecords(store, filter, zone, pageSize)), stringifier, () => {});
  return stringifier;
}
