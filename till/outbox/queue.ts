// The outbox's domain functions, each on one transaction of the till's store: enqueue an operation
// (its history row and its outbox row together, before any network call), the sender's outcomes, a
// manager's retry or void, and the queue's state. The state machine of an operation:
//   queued -> delivered (the engine accepted it) | failed (the engine refused it) | queued (retry later)
//   failed -> queued (a manager retries it after a fix) | voided (a manager gives it up, with a reason)
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Tx } from '../../engine/store/store.ts';
import type { OfflineLimits } from './config.ts';
import { OutboxError } from './errors.ts';

export const OPERATION_TYPES = ['earn', 'refund', 'redeem', 'cashout'] as const;
export type OperationType = (typeof OPERATION_TYPES)[number];
export type OperationState = 'queued' | 'delivered' | 'failed' | 'voided';

/** Redeems and cashouts spend money the engine must check first (balance, PIN, claim): never queued. */
export function requireOnline(type: OperationType): boolean {
  return type === 'redeem' || type === 'cashout';
}

// A queued member is named by what the cashier typed or scanned: an id, an email, a phone, a member
// card's number (`externalId`), or a payment card by its keyed hash (HMAC-SHA256 of the PAN under the
// tokenization key the engine shares) with the masked number to show. Never a PAN: it would be
// written to the till's file.
export const CARD_HASH = /^[0-9a-f]{64}$/;
const member = z.union([
  z.object({ id: z.number().int().positive() }).strict(),
  z.object({ email: z.email().max(254) }).strict(),
  z.object({ phone: z.string().min(3).max(32) }).strict(),
  z.object({ externalId: z.string().min(1).max(64) }).strict(),
  z
    .object({
      card: z
        .object({
          hash: z.string().regex(CARD_HASH, 'must be the 64 hex digits of the keyed card hash'),
          masked: z.string().regex(/^\d{6}\*{2,9}\d{4}$/, 'must be first 6, stars, last 4'),
        })
        .strict(),
    })
    .strict(),
]);
export type QueuedMember = z.infer<typeof member>;
const minor = z.number().int('must be an integer number of minor units').positive('must be positive');
const common = {
  cashier: z.string().min(1).max(64),
  programId: z.number().int().positive(),
  /** The program's currency, which the till knows: offline limits are per currency. */
  currency: z.string().regex(/^[A-Z][A-Z0-9]{2,7}$/, 'must be an ISO 4217 code'),
  member,
  reference: z.string().min(1).max(128).optional(),
};
export const QueuedOperationSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('earn'),
      purchaseAmount: minor,
      memberName: z.string().min(1).max(200).optional(),
      ...common,
    })
    .strict(),
  z
    .object({
      type: z.literal('refund'),
      refundAmount: minor,
      originalReference: z.string().min(1).max(128).optional(),
      ...common,
    })
    .strict(),
]);
export type QueuedOperation = z.infer<typeof QueuedOperationSchema>;

/** The engine's native member reference for a queued member. */
export function nativeMember(m: QueuedMember): Record<string, unknown> {
  if ('card' in m) return { card: { hash: m.card.hash } };
  if ('externalId' in m) return { external_id: m.externalId };
  return m;
}

/** The engine's native request for an operation: its path and body. */
function nativeRequest(op: QueuedOperation): { path: string; amount: number; body: Record<string, unknown> } {
  const shared = { program_id: op.programId, member: nativeMember(op.member), reference: op.reference };
  return op.type === 'earn'
    ? {
        path: '/v1/earn',
        amount: op.purchaseAmount,
        body: { ...shared, purchase_amount: op.purchaseAmount, member_name: op.memberName },
      }
    : {
        path: '/v1/refund',
        amount: op.refundAmount,
        body: { ...shared, refund_amount: op.refundAmount, original_reference: op.originalReference },
      };
}

/** How the history names a member: what the cashier can read back and filter by. */
export function memberRef(m: QueuedMember): string {
  if ('id' in m) return `id:${m.id}`;
  if ('email' in m) return `email:${m.email}`;
  if ('phone' in m) return `phone:${m.phone}`;
  if ('externalId' in m) return `member:${m.externalId}`;
  return `card:${m.card.masked}`;
}

/** Parses an operation for the queue, or throws the reason it cannot be queued. */
export function parseOperation(input: unknown): QueuedOperation {
  const type = (input as { type?: unknown } | null)?.type;
  if (
    typeof type === 'string' &&
    (OPERATION_TYPES as readonly string[]).includes(type) &&
    requireOnline(type as OperationType)
  ) {
    throw new OutboxError('online_required', `a ${type} needs the engine and cannot be queued offline`);
  }
  const parsed = QueuedOperationSchema.safeParse(input);
  if (!parsed.success) throw new OutboxError('validation_error', z.prettifyError(parsed.error));
  return parsed.data;
}

const HOUR_MS = 3_600_000;

/** Operations waiting, and their amount in `currency`: kept by triggers (migration 006), not counted. */
async function waitingTotals(tx: Tx, currency?: string): Promise<{ count: number; amount: number }> {
  return tx.row<{ count: number; amount: number }>(
    `SELECT COALESCE(SUM(count), 0) AS count, COALESCE(SUM(CASE WHEN currency = ? THEN amount END), 0) AS amount
       FROM queue_totals WHERE state = 'queued'`,
    [currency ?? null],
  );
}

/** When the oldest waiting operation was confirmed (an index lookup), null when none waits. */
async function oldestWaiting(tx: Tx): Promise<number | null> {
  const r = await tx.row<{ oldest: number | null }>(
    "SELECT MIN(created_at) AS oldest FROM operations WHERE state = 'queued'",
  );
  return r.oldest;
}

async function checkLimits(
  tx: Tx,
  limits: OfflineLimits,
  currency: string,
  amount: number,
  now: number,
): Promise<void> {
  const waiting = await waitingTotals(tx, currency);
  if (waiting.count >= limits.maxCount) {
    throw new OutboxError(
      'offline_limit',
      `${waiting.count} operations are waiting for the engine, the most this till may queue`,
      'max_count',
    );
  }
  const oldest = await oldestWaiting(tx);
  if (oldest !== null && now - oldest > limits.maxAgeHours * HOUR_MS) {
    throw new OutboxError(
      'offline_limit',
      `the oldest waiting operation is more than ${limits.maxAgeHours} hours old`,
      'max_age',
    );
  }
  const cap = limits.maxAmount[currency];
  if (cap === undefined) return;
  if (waiting.amount + amount > cap) {
    throw new OutboxError(
      'offline_limit',
      `queued ${currency} amounts would pass the offline limit of ${cap} minor units`,
      'max_amount',
    );
  }
}

/** Writes the history row and the outbox row of a parsed operation, or refuses it past a limit. */
export async function enqueue(
  tx: Tx,
  op: QueuedOperation,
  limits: OfflineLimits,
  now: number,
): Promise<string> {
  const request = nativeRequest(op);
  await checkLimits(tx, limits, op.currency, request.amount, now);
  const id = randomUUID();
  await tx.run(
    `INSERT INTO operations (id, type, amount, currency, member_ref, member, program_id, reference, cashier,
                             state, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
    [
      id,
      op.type,
      request.amount,
      op.currency,
      memberRef(op.member),
      JSON.stringify(op.member),
      op.programId,
      op.reference ?? null,
      op.cashier,
      now,
      now,
    ],
  );
  await tx.run('INSERT INTO outbox (operation_id, path, payload, next_attempt_at) VALUES (?, ?, ?, ?)', [
    id,
    request.path,
    JSON.stringify(request.body),
    now,
  ]);
  return id;
}

export interface OutboxItem {
  operationId: string;
  path: string;
  payload: string;
  attempts: number;
  nextAttemptAt: number;
}

/**
 * The first `limit` queued items in confirmation order: the sender sends them (or the first alone)
 * and nothing behind them until the engine has answered.
 */
export async function headOfQueue(tx: Tx, limit: number): Promise<OutboxItem[]> {
  // CROSS JOIN keeps SQLite walking the outbox in seq order and stopping after `limit` rows; left to
  // itself it read every queued operation by the state index and sorted them (270 ms at 100,000).
  return tx.all<OutboxItem>(
    `SELECT x.operation_id AS operationId, x.path, x.payload, x.attempts, x.next_attempt_at AS nextAttemptAt
       FROM outbox x CROSS JOIN operations o ON o.id = x.operation_id
      WHERE o.state = 'queued' ORDER BY x.seq LIMIT ?`,
    [limit],
  );
}

/** The engine accepted the operation: `answer` is its response body. */
export async function recordDelivered(tx: Tx, id: string, answer: string, now: number): Promise<void> {
  await tx.run(
    "UPDATE operations SET state = 'delivered', result = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
    [answer, now, id],
  );
  await tx.run('DELETE FROM outbox WHERE operation_id = ?', [id]);
}

/** The engine refused the operation (a 4xx): a manager resolves it; the queue moves on. */
export async function recordRefused(tx: Tx, id: string, message: string, now: number): Promise<void> {
  await tx.run(
    "UPDATE operations SET state = 'failed', result = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
    [message, now, id],
  );
  await tx.run('UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE operation_id = ?', [
    message,
    id,
  ]);
}

/** The engine could not be reached or answered 5xx/429/408: try again at `nextAttemptAt`. */
export async function recordRetry(tx: Tx, id: string, error: string, nextAttemptAt: number): Promise<void> {
  await tx.run(
    'UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE operation_id = ?',
    [error, nextAttemptAt, id],
  );
}

async function failedOperation(tx: Tx, id: string, action: string): Promise<void> {
  const row = await tx.one<{ state: OperationState }>('SELECT state FROM operations WHERE id = ?', [id]);
  if (!row) throw new OutboxError('not_found', `no operation ${id}`);
  if (row.state !== 'failed')
    throw new OutboxError('invalid_state', `only a failed operation can be ${action}; ${id} is ${row.state}`);
}

/** A manager sends a failed operation again (after fixing what the engine refused), first in line. */
export async function retry(tx: Tx, id: string, now: number): Promise<void> {
  await failedOperation(tx, id, 'retried');
  await tx.run("UPDATE operations SET state = 'queued', updated_at = ? WHERE id = ?", [now, id]);
  await tx.run('UPDATE outbox SET attempts = 0, next_attempt_at = ? WHERE operation_id = ?', [now, id]);
}

/** A manager gives a failed operation up; the reason is mandatory and kept in the history. */
export async function voidOperation(tx: Tx, id: string, reason: string, now: number): Promise<void> {
  const why = reason.trim();
  if (why.length === 0 || why.length > 500)
    throw new OutboxError('validation_error', 'a void needs a reason of 1 to 500 characters');
  await failedOperation(tx, id, 'voided');
  await tx.run("UPDATE operations SET state = 'voided', void_reason = ?, updated_at = ? WHERE id = ?", [
    why,
    now,
    id,
  ]);
  await tx.run('DELETE FROM outbox WHERE operation_id = ?', [id]);
}

export interface OperationRow {
  id: string;
  type: OperationType;
  amount: number;
  currency: string;
  memberRef: string;
  cashier: string;
  state: OperationState;
  result: string | null;
  voidReason: string | null;
  createdAt: number;
  updatedAt: number;
  attempts: number | null;
  lastError: string | null;
}

export async function getOperation(tx: Tx, id: string): Promise<OperationRow | undefined> {
  return tx.one<OperationRow>(
    `SELECT o.id, o.type, o.amount, o.currency, o.member_ref AS memberRef, o.cashier, o.state, o.result,
            o.void_reason AS voidReason, o.created_at AS createdAt, o.updated_at AS updatedAt,
            x.attempts, x.last_error AS lastError
       FROM operations o LEFT JOIN outbox x ON x.operation_id = o.id WHERE o.id = ?`,
    [id],
  );
}

export interface QueueCounts {
  waiting: number;
  /** Age of the oldest waiting operation, null when none waits. */
  oldestAgeMs: number | null;
  failed: number;
}

export async function queueCounts(tx: Tx, now: number): Promise<QueueCounts> {
  const { count } = await waitingTotals(tx);
  const failed = await tx.row<{ count: number }>(
    "SELECT COALESCE(SUM(count), 0) AS count FROM queue_totals WHERE state = 'failed'",
  );
  const oldest = await oldestWaiting(tx);
  return {
    waiting: count,
    oldestAgeMs: oldest === null ? null : Math.max(0, now - oldest),
    failed: failed.count,
  };
}
