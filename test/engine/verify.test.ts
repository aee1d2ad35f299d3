// verifyLedger's rule for member balances below zero: allowed only on an account a refund clawback
// moved money on. Checked on a real ledger: one made negative by a clawback, one by a forged transfer.
// And the rule that stands in for PostgreSQL's dropped foreign keys (migration 012): accounts are
// never deleted, and a transfer naming an account that does not exist is named.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { accountId } from '../../engine/domain/accounts.ts';
import { earn, redeem, refund } from '../../engine/domain/cashback.ts';
import { chart } from '../../engine/domain/accounts.ts';
import { findAccount, transfer, verifyLedger } from '../../engine/domain/ledger.ts';
import { startHarness, type Harness } from './harness.ts';

describe('verifyLedger: balances below zero', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  /** Earns 5.000 TND of cashback on a 100.000 purchase, then spends all of it. */
  async function spentMember(email: string, programId: number) {
    const ctx = h.engine.ctx;
    const e = await earn(ctx, {
      appId: 'test',
      programId,
      member: { email },
      memberName: 'M',
      purchaseAmount: { minor: 100_000 },
    });
    await redeem(ctx, {
      appId: 'test',
      programId,
      member: { email },
      tokenMemberId: e.memberId,
      amount: { minor: e.cashbackEarned },
    });
    return e;
  }

  it('accepts a balance a refund clawback took below zero', async () => {
    const programId = await h.program();
    const e = await spentMember('clawed@example.com', programId);
    const r = await refund(h.engine.ctx, {
      appId: 'test',
      programId,
      member: { email: 'clawed@example.com' },
      refundAmount: { minor: 100_000 },
      original: { transactionId: e.transactionId },
    });
    expect(r.balance.available).toBe(-e.cashbackEarned);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('names a member account below zero that no clawback explains', async () => {
    const programId = await h.program();
    const clawedEarn = await spentMember('clawed@example.com', programId);
    await refund(h.engine.ctx, {
      appId: 'test',
      programId,
      member: { email: 'clawed@example.com' },
      refundAmount: { minor: 100_000 },
      original: { transactionId: clawedEarn.transactionId },
    });
    const forged = await spentMember('forged@example.com', programId);
    // A transfer out of the member's empty balance, written around the domain (as a bug would).
    await h.store.transact(async (tx) => {
      const now = h.clock.now;
      const from = await accountId(tx, now, 'memberAvailable', forged.memberId, programId, 'TND');
      const to = await accountId(tx, now, 'programFunding', programId, 'TND');
      const t = await tx.row<{ id: number }>(
        `INSERT INTO transactions (type, program_id, member_id, currency, amount, created_at)
         VALUES ('adjust', ?, ?, 'TND', -700, ?) RETURNING id`,
        [programId, forged.memberId, now],
      );
      await tx.run(
        `INSERT INTO transfers (transaction_id, debit_account_id, credit_account_id, amount, currency, phase, created_at)
         VALUES (?, ?, ?, 700, 'TND', 'posted', ?)`,
        [t.id, from, to, now],
      );
      await tx.run('UPDATE accounts SET debits_posted = debits_posted + 700 WHERE id = ?', [from]);
      await tx.run('UPDATE accounts SET credits_posted = credits_posted + 700 WHERE id = ?', [to]);
    });
    const report = await h.store.read((tx) => verifyLedger(tx));
    expect(report.problems).toEqual([
      {
        kind: 'negative_balance',
        message: `member:${forged.memberId}:program:${programId}:available is below zero with no refund clawback`,
      },
    ]);
  });
});

describe('accounts a transfer names', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => h.close());

  it('are never deleted', async () => {
    const programId = await h.program();
    await earn(h.engine.ctx, {
      appId: 'test',
      programId,
      member: { email: 'kept@example.com' },
      memberName: 'M',
      purchaseAmount: { minor: 100_000 },
    });
    await expect(h.store.transact((tx) => tx.run('DELETE FROM accounts'))).rejects.toThrow(
      /accounts are never deleted/,
    );
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it("are not moved when the transaction's insert sent with the transfer fails", async () => {
    const programId = await h.program();
    const member = await earn(h.engine.ctx, {
      appId: 'test',
      programId,
      member: { email: 'failed@example.com' },
      memberName: 'M',
      purchaseAmount: { minor: 100_000 },
    });
    const balance = () =>
      h.store.read((tx) => findAccount(tx, chart.memberAvailable(member.memberId, programId, 'TND').code));
    const before = await balance();
    const failing = h.store.transact(async (tx) => {
      // A transaction row that cannot be written (type is NOT NULL), its id awaited by the transfer.
      const id = tx
        .row<{ id: number }>(
          'INSERT INTO transactions (type, currency, amount, created_at) VALUES (NULL, ?, 1, 1) RETURNING id',
          ['TND'],
        )
        .then((r) => r.id);
      return transfer(tx, {
        transactionId: id,
        debit: chart.programFunding(programId, 'TND'),
        credit: chart.memberAvailable(member.memberId, programId, 'TND'),
        amount: 700,
        currency: 'TND',
        now: h.clock.now,
      });
    });
    await expect(failing).rejects.toThrow(/null/i);
    expect(await balance()).toEqual(before);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('are checked by verify where no foreign key checks them (PostgreSQL)', async () => {
    const programId = await h.program();
    const e = await earn(h.engine.ctx, {
      appId: 'test',
      programId,
      member: { email: 'orphan@example.com' },
      memberName: 'M',
      purchaseAmount: { minor: 100_000 },
    });
    const missing = 9_000_000;
    const forge = h.store.transact(async (tx) => {
      const to = await accountId(tx, h.clock.now, 'programFunding', programId, 'TND');
      await tx.run(
        `INSERT INTO transfers (transaction_id, debit_account_id, credit_account_id, amount, currency, phase, created_at)
         VALUES (?, ?, ?, 700, 'TND', 'posted', ?)`,
        [e.transactionId, missing, to, h.clock.now],
      );
      await tx.run('UPDATE accounts SET credits_posted = credits_posted + 700 WHERE id = ?', [to]);
    });
    if (h.store.dialect === 'sqlite') {
      // SQLite keeps the foreign key: the forged transfer never lands.
      await expect(forge).rejects.toThrow(/FOREIGN KEY constraint failed/);
      expect(await h.ledgerProblems()).toEqual([]);
      return;
    }
    await forge;
    const report = await h.store.read((tx) => verifyLedger(tx));
    expect(report.problems).toContainEqual({
      kind: 'unknown_account',
      message: `transfers name account ${missing}, which does not exist`,
    });
  });
});
