// Webhook deliveries after `recordEvent` wrote them: leasing the due ones to a worker, recording each
// attempt and deciding the next (exponential backoff with jitter, for the whole retry window, then
// failed), re-sending on demand, and listing them with their attempts.
import { DomainError } from './errors.ts';
import { outboxSignal } from './outbox.ts';
import { skipLocked, type Tx } from '../store/store.ts';
import type { WebhookFormat } from '../webhooks/bodies.ts';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** Retries continue this long after `retryFrom`; the last attempt is made when it ends. */
  windowMs: number;
}

/**
 * The wait after the `failures`-th failed attempt: base x 2^(failures-1), capped, with "equal jitter"
 * (a random point in the upper half) so receivers that failed together are not retried together,
 * while the wait still grows.
 */
export function retryDelayMs(failures: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures - 1, 40));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * After a failed attempt at `now`: the next attempt, never later than the end of the window (so one
 * attempt is always made there), or failed once an attempt at or after the end has failed.
 */
export function nextAfterFailure(
  retryFrom: number,
  failures: number,
  now: number,
  policy: RetryPolicy,
  random: () => number,
): { status: 'failed' } | { status: 'pending'; nextAttemptAt: number } {
  const end = retryFrom + policy.windowMs;
  if (now >= end) return { status: 'failed' };
  return { status: 'pending', nextAttemptAt: Math.min(end, now + retryDelayMs(failures, policy, random)) };
}

export interface ClaimedDelivery {
  id: string;
  eventId: string;
  url: string;
  format: WebhookFormat;
  headers: Record<string, string>;
  body: string;
  attempts: number;
  retryFrom: number;
  /** The lease; recording the attempt checks it is still ours. */
  claimedUntil: number;
}

interface DeliveryRow {
  id: string;
  event_id: string;
  url: string;
  format: WebhookFormat;
  headers: string;
  body: string;
  attempts: number;
  retry_from: number;
  claimed_until: number;
}

/**
 * Leases up to `limit` due deliveries until `now + leaseMs`. A lease that runs out (the worker died
 * mid-delivery) makes the row due again, so it is sent again with the same event id. On PostgreSQL
 * the inner SELECT takes FOR UPDATE SKIP LOCKED, so engines sharing the table each lease other rows.
 */
export async function claimDue(
  tx: Tx,
  now: number,
  limit: number,
  leaseMs: number,
): Promise<ClaimedDelivery[]> {
  const rows = await tx.all<DeliveryRow>(
    `UPDATE webhook_deliveries SET claimed_until = ?
     WHERE id IN (
       SELECT id FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= ? AND (claimed_until IS NULL OR claimed_until <= ?)
       ORDER BY next_attempt_at LIMIT ?${skipLocked(tx)})
     RETURNING id, event_id, url, format, headers, body, attempts, retry_from, claimed_until`,
    [now + leaseMs, now, now, limit],
  );
  return rows.map((r) => ({
    id: r.id,
    eventId: r.event_id,
    url: r.url,
    format: r.format,
    headers: JSON.parse(r.headers) as Record<string, string>,
    body: r.body,
    attempts: r.attempts,
    retryFrom: r.retry_from,
    claimedUntil: r.claimed_until,
  }));
}

export interface AttemptOutcome {
  startedAt: number;
  statusCode?: number | undefined;
  error?: string | undefined;
  latencyMs: number;
  /** Already truncated and cleaned of secrets by the caller. */
  excerpt?: string | undefined;
}

const delivered = (o: AttemptOutcome) =>
  o.statusCode !== undefined && o.statusCode >= 200 && o.statusCode < 300;

/**
 * Logs the attempt and moves the delivery on: delivered on a 2xx, else its next attempt or failed.
 * If the lease is no longer ours (it ran out, or a re-send took the row back) the attempt is logged
 * and the delivery left to whoever holds it now. Returns the delivery's status.
 */
export async function recordAttempt(
  tx: Tx,
  d: ClaimedDelivery,
  outcome: AttemptOutcome,
  now: number,
  policy: RetryPolicy,
  random: () => number,
): Promise<DeliveryStatus | 'lease_lost'> {
  const attempt = d.attempts + 1;
  await tx.run(
    `INSERT INTO webhook_attempts (delivery_id, attempt, started_at, status_code, error, latency_ms, response_excerpt)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [
      d.id,
      attempt,
      outcome.startedAt,
      outcome.statusCode ?? null,
      outcome.error ?? null,
      outcome.latencyMs,
      outcome.excerpt ?? null,
    ],
  );
  const next = delivered(outcome)
    ? ({ status: 'delivered' } as const)
    : nextAfterFailure(d.retryFrom, attempt, now, policy, random);
  const lastError =
    outcome.error ?? (delivered(outcome) ? null : `HTTP ${outcome.statusCode ?? 0} is not a 2xx`);
  const { changes } = await tx.run(
    `UPDATE webhook_deliveries
     SET status = ?, attempts = ?, next_attempt_at = ?, claimed_until = NULL, last_status_code = ?,
         last_error = ?, delivered_at = ?, updated_at = ?
     WHERE id = ? AND claimed_until = ?`,
    [
      next.status,
      attempt,
      next.status === 'pending' ? next.nextAttemptAt : now,
      outcome.statusCode ?? null,
      lastError,
      next.status === 'delivered' ? now : null,
      now,
      d.id,
      d.claimedUntil,
    ],
  );
  return changes === 1 ? next.status : 'lease_lost';
}

export interface DeliverySummary {
  id: string;
  eventId: string;
  eventType: string;
  url: string;
  format: WebhookFormat;
  status: DeliveryStatus;
  attempts: number;
  /** When the next attempt is due; null unless pending. */
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: number | null;
  createdAt: number;
  /** Names only: the values may be a caller's credentials. */
  headerNames: string[];
}

export interface AttemptRecord {
  attempt: number;
  startedAt: number;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  responseExcerpt: string | null;
}

interface SummaryRow {
  id: string;
  event_id: string;
  event_type: string;
  url: string;
  format: WebhookFormat;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  delivered_at: number | null;
  created_at: number;
  headers: string;
}

const SUMMARY = `SELECT d.id, d.event_id, e.type AS event_type, d.url, d.format, d.status, d.attempts,
  d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at, d.headers
  FROM webhook_deliveries d JOIN events e ON e.id = d.event_id`;

const summary = (r: SummaryRow): DeliverySummary => ({
  id: r.id,
  eventId: r.event_id,
  eventType: r.event_type,
  url: r.url,
  format: r.format,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.status === 'pending' ? r.next_attempt_at : null,
  lastStatusCode: r.last_status_code,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
  createdAt: r.created_at,
  headerNames: Object.keys(JSON.parse(r.headers) as Record<string, string>),
});

/** Newest first; narrowed by status or event. */
export async function listDeliveries(
  tx: Tx,
  filter: {
    status?: DeliveryStatus | undefined;
    eventId?: string | undefined;
    limit: number;
    offset?: number;
  },
): Promise<DeliverySummary[]> {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (filter.status !== undefined) {
    where.push('d.status = ?');
    params.push(filter.status);
  }
  if (filter.eventId !== undefined) {
    where.push('d.event_id = ?');
    params.push(filter.eventId);
  }
  const rows = await tx.all<SummaryRow>(
    `${SUMMARY}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?`,
    [...params, filter.limit, filter.offset ?? 0],
  );
  return rows.map(summary);
}

/** One delivery with every attempt, oldest first. */
export async function getDelivery(
  tx: Tx,
  id: string,
): Promise<DeliverySummary & { attemptLog: AttemptRecord[] }> {
  const row = await tx.one<SummaryRow>(`${SUMMARY} WHERE d.id = ?`, [id]);
  if (!row) throw new DomainError('not_found', `No webhook delivery ${id}`);
  const attempts = await tx.all<{
    attempt: number;
    started_at: number;
    status_code: number | null;
    error: string | null;
    latency_ms: number;
    response_excerpt: string | null;
  }>(
    `SELECT attempt, started_at, status_code, error, latency_ms, response_excerpt
     FROM webhook_attempts WHERE delivery_id = ? ORDER BY id`,
    [id],
  );
  return {
    ...summary(row),
    attemptLog: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.started_at,
      statusCode: a.status_code,
      error: a.error,
      latencyMs: a.latency_ms,
      responseExcerpt: a.response_excerpt,
    })),
  };
}

/**
 * Sends again now, whatever the delivery's state (a receiver that lost a delivered event asks for it
 * again): pending, due now, with a fresh retry window. The body and event id are the first ones.
 * `id` names one delivery (dlv_...) or every delivery of an event (evt_...). A delivery in flight
 * loses its lease, so its outcome does not overwrite the re-send.
 */
export async function resendWebhooks(tx: Tx, id: string, now: number): Promise<DeliverySummary[]> {
  const column = id.startsWith('evt_') ? 'event_id' : 'id';
  const { changes } = await tx.run(
    `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?, retry_from = ?,
       claimed_until = NULL, updated_at = ?
     WHERE ${column} = ?`,
    [now, now, now, id],
  );
  if (changes === 0) {
    throw new DomainError('not_found', `No webhook delivery or event ${id} (ids start with dlv_ or evt_)`);
  }
  outboxSignal.emit('recorded');
  const rows = await tx.all<SummaryRow>(`${SUMMARY} WHERE d.${column} = ? ORDER BY d.id`, [id]);
  return rows.map(summary);
}
