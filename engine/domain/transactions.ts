// Business transaction rows: the ids the APIs return, with reference and metadata kept.
// `amount` is the signed effect on the member's total cashback (maturing + available); for
// 'mature' it is the amount moved from maturing to available (no effect on the total).
import { stringify } from 'lossless-json';
import type { Tx } from '../store/store.ts';

export type TransactionType =
  | 'earn'
  | 'redeem'
  | 'refund'
  | 'mature'
  | 'expire'
  | 'adjust'
  | 'cashout'
  | 'cashout_return'
  | 'partner_cashback'
  | 'partner_deposit'
  | 'textcoin_claim'
  | 'textcoin_return';

export interface NewTransaction {
  type: TransactionType;
  currency: string;
  amount: number;
  programId?: number | null;
  memberId?: number | null;
  purchaseAmount?: number | null;
  relatedId?: number | null;
  reference?: string | null;
  reason?: string | null;
  metadata?: Record<string, unknown>;
  appId?: string | null;
}

export async function recordTransaction(tx: Tx, t: NewTransaction, now: number): Promise<number> {
  const row = await tx.row<{ id: number }>(
    `INSERT INTO transactions (type, program_id, member_id, currency, amount, purchase_amount, related_id, reference,
       reason, metadata, app_id, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
    [
      t.type,
      t.programId ?? null,
      t.memberId ?? null,
      t.currency,
      t.amount,
      t.purchaseAmount ?? null,
      t.relatedId ?? null,
      t.reference ?? null,
      t.reason ?? null,
      // Metadata numbers keep their exact digits (they may be LosslessNumbers from the request).
      stringify(t.metadata ?? {}) ?? '{}',
      t.appId ?? null,
      now,
    ],
  );
  return row.id;
}

export interface TransactionRow {
  id: number;
  type: TransactionType;
  program_id: number | null;
  member_id: number | null;
  currency: string;
  amount: number;
  purchase_amount: number | null;
  related_id: number | null;
  reference: string | null;
  reason: string | null;
  metadata: string;
  app_id: string | null;
  created_at: number;
}
