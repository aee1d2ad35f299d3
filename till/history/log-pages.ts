// Reading the event logs: newest first, one device's or one operation's events or all of them, in
// pages continued by seq (the cursor is the seq of the last row shown: the next page is older).
import type { Tx } from '../../engine/store/store.ts';

export interface DeviceLogEntry {
  seq: number;
  /** null for a notice (a source that cannot be read is about no one device). */
  deviceId: string | null;
  type: string;
  summary: Record<string, unknown>;
  at: number;
}

export interface QueueLogEntry {
  seq: number;
  operationId: string;
  kind: string;
  message: string | null;
  at: number;
}

export interface LogPage<T> {
  events: T[];
  /** Pass as `before` for the next (older) page; null when this page holds the oldest. */
  next: number | null;
}

interface PageRequest {
  limit: number;
  before?: number | undefined;
}

async function logPage<T extends { seq: number }>(
  tx: Tx,
  select: string,
  key: { column: string; value: string | undefined },
  page: PageRequest,
): Promise<LogPage<T>> {
  const conditions: string[] = [];
  const params: (string | number)[] = [];
  if (key.value !== undefined) {
    conditions.push(`${key.column} = ?`);
    params.push(key.value);
  }
  if (page.before !== undefined) {
    conditions.push('seq < ?');
    params.push(page.before);
  }
  const where = conditions.length ? `WHERE ${conditions.join(' AND ')}` : '';
  const rows = await tx.all<T>(`${select} ${where} ORDER BY seq DESC LIMIT ?`, [...params, page.limit + 1]);
  const more = rows.length > page.limit;
  if (more) rows.pop();
  return { events: rows, next: more ? (rows.at(-1)?.seq ?? null) : null };
}

export async function deviceLog(
  tx: Tx,
  deviceId: string | undefined,
  page: PageRequest,
): Promise<LogPage<DeviceLogEntry>> {
  const r = await logPage<Omit<DeviceLogEntry, 'summary'> & { summary: string }>(
    tx,
    'SELECT seq, device_id AS deviceId, type, summary, at FROM device_events',
    { column: 'device_id', value: deviceId },
    page,
  );
  return {
    events: r.events.map((e) => ({ ...e, summary: JSON.parse(e.summary) as Record<string, unknown> })),
    next: r.next,
  };
}

export function queueLog(
  tx: Tx,
  operationId: string | undefined,
  page: PageRequest,
): Promise<LogPage<QueueLogEntry>> {
  return logPage<QueueLogEntry>(
    tx,
    'SELECT seq, operation_id AS operationId, kind, message, at FROM queue_events',
    { column: 'operation_id', value: operationId },
    page,
  );
}
