// What the flows read from and write to the till's history (the `operations` table the outbox keeps):
// the purchase a refund names, with what the till already refunded of it, and the row of an online
// operation (redeem, cashout) once it completed or failed.
import type { Store, Tx } from '../../engine/store/store.ts';
import { memberRef, type QueuedMember } from '../outbox/queue.ts';
import type { OriginalRef } from './machine.ts';
import type { RefundEvent } from './refund.ts';

interface OperationDetails {
  id: string;
  type: string;
  amount: number;
  currency: string;
  programId: number | null;
  member: string | null;
  reference: string | null;
  state: string;
  result: string | null;
}

const DETAILS = `SELECT id, type, amount, currency, program_id AS programId, member, reference, state, result
                   FROM operations`;

/**
 * What the till refunded of a purchase so far: refunds still queued that name its reference, and
 * refunds delivered that the engine applied to its transaction (a refused or voided one refunded nothing).
 */
async function refundedSoFar(tx: Tx, original: OperationDetails): Promise<number> {
  const transactionId =
    original.state === 'delivered' && original.result !== null
      ? ((JSON.parse(original.result) as { transaction_id?: number }).transaction_id ?? null)
      : null;
  const r = await tx.row<{ refunded: number }>(
    `SELECT COALESCE(SUM(o.amount), 0) AS refunded
       FROM operations o LEFT JOIN outbox x ON x.operation_id = o.id
      WHERE o.type = 'refund' AND o.program_id = ?
        AND ((o.state = 'queued' AND json_extract(x.payload, '$.original_reference') = ?)
          OR (CASE WHEN o.state = 'delivered' AND json_valid(o.result)
                   THEN json_extract(o.result, '$.original_transaction_id') END) = ?)`,
    [original.programId, original.reference, transactionId],
  );
  return r.refunded;
}

/** The purchase a refund names, as an event of the refund machine. */
export async function findOriginal(tx: Tx, ref: OriginalRef): Promise<RefundEvent> {
  const row =
    'operationId' in ref
      ? await tx.one<OperationDetails>(`${DETAILS} WHERE id = ?`, [ref.operationId])
      : await tx.one<OperationDetails>(
          `${DETAILS} WHERE reference = ? AND type = 'earn' ORDER BY created_at DESC LIMIT 1`,
          [ref.reference],
        );
  if (!row) return { type: 'not_found' };
  if (row.type !== 'earn')
    return { type: 'not_refundable', message: `That operation is a ${row.type}, not a purchase` };
  if (row.state === 'failed' || row.state === 'voided' || row.programId === null || row.member === null) {
    return {
      type: 'not_refundable',
      message: `That purchase was ${row.state === 'voided' ? 'voided' : 'refused by the engine'}: there is nothing to refund`,
    };
  }
  return {
    type: 'found',
    original: {
      operationId: row.id,
      reference: row.reference,
      programId: row.programId,
      currency: row.currency,
      member: JSON.parse(row.member) as QueuedMember,
      amount: row.amount,
      refunded: await refundedSoFar(tx, row),
    },
  };
}

export interface OnlineOperation {
  /** The Idempotency-Key the engine call carried. */
  id: string;
  type: 'redeem' | 'cashout';
  amount: number;
  currency: string;
  programId: number;
  member: QueuedMember;
  reference: string | null;
  cashier: string;
  state: 'delivered' | 'failed';
  /** The engine's answer (JSON) or what went wrong. */
  result: string;
}

/** The history row of a redeem or cashout that completed or failed: one transaction, nothing queued. */
export async function recordOnline(store: Store, op: OnlineOperation, now: number): Promise<void> {
  await store.transact((tx) =>
    tx.run(
      `INSERT INTO operations (id, type, amount, currency, member_ref, member, program_id, reference, cashier,
                               state, result, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        op.id,
        op.type,
        op.amount,
        op.currency,
        memberRef(op.member),
        JSON.stringify(op.member),
        op.programId,
        op.reference,
        op.cashier,
        op.state,
        op.result,
        now,
        now,
      ],
    ),
  );
}
