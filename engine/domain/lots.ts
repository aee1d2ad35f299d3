// Earn lots track where each earn's cashback stands, for maturation and oldest-first expiry. A
// program with neither keeps no lots: nothing about its cashback changes with time.
// Invariant per member and program: the remaining amounts of 'maturing' lots sum to the maturing
// balance, and those of 'available' lots to the available balance when it is positive (a negative
// balance left by a clawback is repaid by the next cashback before any of it is spendable).
import type { Tx } from '../store/store.ts';
import { chart } from './accounts.ts';
import { balanceOf, rowAfter, transfer } from './ledger.ts';
import type { Program } from './programs.ts';
import { recordTransaction } from './transactions.ts';

/** Whether a program's cashback changes with time, and so needs lots. */
export const tracksLots = (p: Pick<Program, 'maturationDays' | 'expiryDays'>) =>
  p.maturationDays > 0 || p.expiryDays !== null;

export type LotState = 'maturing' | 'available';

interface LotRow {
  id: number;
  transaction_id: number;
  member_id: number;
  program_id: number;
  remaining: number;
  state: LotState;
  expires_at: number | null;
}

/** Records a lot for cashback just credited to the maturing or available account. */
export async function addLot(
  tx: Tx,
  program: Program,
  lot: {
    transactionId: number;
    memberId: number;
    programId: number;
    amount: number;
    state: LotState;
    maturesAt: number;
    expiresAt: number | null;
    /** For an available lot: the available balance after the credit, to repay a negative balance. */
    availableAfter?: number;
  },
  now: number,
): Promise<void> {
  if (!tracksLots(program)) return;
  const remaining =
    lot.state === 'available'
      ? Math.min(lot.amount, Math.max(0, lot.availableAfter ?? lot.amount))
      : lot.amount;
  await tx.run(
    `INSERT INTO earn_lots (transaction_id, member_id, program_id, amount, remaining, state, matures_at, expires_at, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    [
      lot.transactionId,
      lot.memberId,
      lot.programId,
      lot.amount,
      remaining,
      remaining > 0 ? lot.state : 'closed',
      lot.maturesAt,
      lot.expiresAt,
      now,
    ],
  );
}

/** Takes `amount` out of the lots in `state`, oldest first (the lot of `preferTransactionId` first). */
export async function consumeLots(
  tx: Tx,
  program: Program,
  memberId: number,
  state: LotState,
  amount: number,
  preferTransactionId?: number,
): Promise<void> {
  if (!tracksLots(program)) return;
  const programId = program.id;
  let left = amount;
  // Locked (PostgreSQL): each lot's new `remaining` is computed from this read, so a concurrent redeem
  // or sweep of the same lots waits for this transaction and then reads what it wrote.
  const lots = await tx.all<LotRow>(
    `SELECT id, transaction_id, remaining FROM earn_lots
      WHERE member_id = ? AND program_id = ? AND state = ?
      ORDER BY CASE WHEN transaction_id = ? THEN 0 ELSE 1 END, id${tx.forUpdate}`,
    [memberId, programId, state, preferTransactionId ?? -1],
  );
  for (const lot of lots) {
    if (left === 0) break;
    const take = Math.min(left, lot.remaining);
    left -= take;
    const remaining = lot.remaining - take;
    await tx.run('UPDATE earn_lots SET remaining = ?, state = ? WHERE id = ?', [
      remaining,
      remaining > 0 ? state : 'closed',
      lot.id,
    ]);
  }
}

/**
 * Matures lots whose time has come and expires available lots past their expiry, as ledger
 * transfers. Scoped to one member and program when given (done before every operation on them),
 * or everything (the periodic sweep).
 */
export async function processDueLots(
  tx: Tx,
  now: number,
  scope?: { memberId: number; program: Program },
): Promise<{ matured: number; expired: number }> {
  if (scope && !tracksLots(scope.program)) return { matured: 0, expired: 0 };
  const where = scope ? ' AND member_id = ? AND program_id = ?' : '';
  const args = scope ? [scope.memberId, scope.program.id] : [];
  const currencyOf = new Map<number, string>();
  const programCurrency = async (programId: number) => {
    let c = currencyOf.get(programId);
    if (!c) {
      c = (await tx.row<{ currency: string }>('SELECT currency FROM programs WHERE id = ?', [programId]))
        .currency;
      currencyOf.set(programId, c);
    }
    return c;
  };

  // Locked like consumeLots' read; a lot another engine's sweep settled meanwhile no longer matches.
  const maturing = await tx.all<LotRow>(
    `SELECT id, transaction_id, member_id, program_id, remaining, state, expires_at FROM earn_lots
      WHERE state = 'maturing' AND matures_at <= ?${where} ORDER BY id${tx.forUpdate}`,
    [now, ...args],
  );
  for (const lot of maturing) {
    const currency = await programCurrency(lot.program_id);
    const from = chart.memberMaturing(lot.member_id, lot.program_id, currency);
    const to = chart.memberAvailable(lot.member_id, lot.program_id, currency);
    const txId = await recordTransaction(
      tx,
      {
        type: 'mature',
        currency,
        amount: lot.remaining,
        programId: lot.program_id,
        memberId: lot.member_id,
        relatedId: lot.transaction_id,
      },
      now,
    );
    const moved = await transfer(tx, {
      transactionId: txId,
      debit: from,
      credit: to,
      amount: lot.remaining,
      currency,
      now,
    });
    const availableAfter = balanceOf(rowAfter(moved, 'credit')).available;
    const remaining = Math.min(lot.remaining, Math.max(0, availableAfter));
    await tx.run('UPDATE earn_lots SET remaining = ?, state = ? WHERE id = ?', [
      remaining,
      remaining > 0 ? 'available' : 'closed',
      lot.id,
    ]);
  }

  const expiring = await tx.all<LotRow>(
    `SELECT id, transaction_id, member_id, program_id, remaining, state, expires_at FROM earn_lots
      WHERE state = 'available' AND expires_at IS NOT NULL AND expires_at <= ?${where} ORDER BY id${tx.forUpdate}`,
    [now, ...args],
  );
  for (const lot of expiring) {
    const currency = await programCurrency(lot.program_id);
    const from = chart.memberAvailable(lot.member_id, lot.program_id, currency);
    const to = chart.programExpired(lot.program_id, currency);
    const txId = await recordTransaction(
      tx,
      {
        type: 'expire',
        currency,
        amount: -lot.remaining,
        programId: lot.program_id,
        memberId: lot.member_id,
        relatedId: lot.transaction_id,
      },
      now,
    );
    await transfer(tx, {
      transactionId: txId,
      debit: from,
      credit: to,
      amount: lot.remaining,
      currency,
      now,
    });
    await tx.run("UPDATE earn_lots SET remaining = 0, state = 'closed' WHERE id = ?", [lot.id]);
  }
  return { matured: maturing.length, expired: expiring.length };
}
