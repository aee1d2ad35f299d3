// The history's filters as the manager types them, and the query string the till's history routes
// take (till/README.md, History): empty fields are left out, text is trimmed, dates are calendar days
// YYYY-MM-DD in the till's zone. The same string serves the list, the totals and the CSV export.

export const OPERATION_TYPES = ['earn', 'refund', 'redeem', 'cashout'] as const;
export const OPERATION_STATES = ['queued', 'delivered', 'failed', 'voided'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];
export type OperationState = (typeof OPERATION_STATES)[number];

export interface HistoryFilters {
  from: string;
  to: string;
  cashier: string;
  member: string;
  type: OperationType | '';
  state: OperationState | '';
}

export const NO_FILTERS: HistoryFilters = { from: '', to: '', cashier: '', member: '', type: '', state: '' };

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Whether `text` is a real calendar day written YYYY-MM-DD (what a date input gives). */
export function isIsoDate(text: string): boolean {
  if (!ISO_DATE.test(text)) return false;
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

/** What is wrong with the filters before asking the till, if anything. */
export function filtersProblem(f: HistoryFilters): 'bad_date' | 'range_reversed' | undefined {
  if ((f.from && !isIsoDate(f.from)) || (f.to && !isIsoDate(f.to))) return 'bad_date';
  if (f.from && f.to && f.from > f.to) return 'range_reversed';
  return undefined;
}

/** The query parameters of the filters (and any paging `extra`), without the empty ones. */
export function historyParams(f: HistoryFilters, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  const fields: [string, string][] = [
    ['from', f.from],
    ['to', f.to],
    ['cashier', f.cashier.trim()],
    ['member', f.member.trim()],
    ['type', f.type],
    ['state', f.state],
    ...Object.entries(extra).map(([k, v]): [string, string] => [k, v ?? '']),
  ];
  for (const [key, value] of fields) if (value !== '') params.set(key, value);
  return params.toString();
}

/** `date` (YYYY-MM-DD) moved by `days` calendar days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** Every calendar day from `from` to `to`, both included (empty when reversed). */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let d = from; d <= to; d = addDays(d, 1)) days.push(d);
  return days;
}
