// Property test of the ledger under the cashback operations: 10,000 random earns, redeems, refunds,
// adjustments, clock moves and sweeps on a real SQLite file, with the invariants checked after each.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cumulativeClawback } from '../../contract/money.ts';
import { adjust, balance, earn, redeem, refund } from '../../engine/domain/cashback.ts';
import { DomainError } from '../../engine/domain/errors.ts';
import { verifyLedger } from '../../engine/domain/ledger.ts';
import { setPin } from '../../engine/domain/member-auth.ts';
import { createMember } from '../../engine/domain/members.ts';
import { startHarness, type Harness } from './harness.ts';

type Op =
  | { kind: 'earn'; member: number; program: number; amount: number }
  | { kind: 'redeem'; member: number; program: number; amount: number }
  | { kind: 'refund'; pick: number; fraction: number }
  | { kind: 'adjust'; member: number; program: number; amount: number }
  | { kind: 'advance'; days: number }
  | { kind: 'sweep' };

const MEMBERS = 6;
const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('earn' as const),
      member: fc.nat(MEMBERS - 1),
      program: fc.nat(1),
      amount: fc.integer({ min: 1, max: 500_000 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('redeem' as const),
      member: fc.nat(MEMBERS - 1),
      program: fc.nat(1),
      amount: fc.integer({ min: 1, max: 20_000 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('refund' as const),
      pick: fc.nat(),
      fraction: fc.integer({ min: 1, max: 100 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('adjust' as const),
      member: fc.nat(MEMBERS - 1),
      program: fc.nat(1),
      amount: fc.integer({ min: -5_000, max: 5_000 }).filter((n) => n !== 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), days: fc.integer({ min: 1, max: 6 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'sweep' as const }) },
);

interface Balances {
  available: number;
  maturing: number;
  lotsAvailable: number;
  lotsMaturing: number;
}

describe('ledger invariants under random operations', () => {
  let h: Harness;
  beforeAll(async () => {
    // Durability is not under test here; NORMAL spares 10,000 fsyncs.
    h = await startHarness({}, { synchronous: 'NORMAL' });
  });
  afterAll(() => h.close());

  it('hold after each of 10,000 operations', async () => {
    const ctx = h.engine.ctx;
    let total = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 2_000, maxLength: 2_000 }), async (ops) => {
        // A fresh set of programs and members per run: one instant, one maturing with expiry.
        const programs = [
          await h.program({ currency: 'USD', cashbackBps: 537, maxCashback: 2_000 }),
          await h.program({
            currency: 'TND',
            cashbackBps: 250,
            maturationDays: 3,
            expiryDays: 10,
            allowsPinRedemption: true,
          }),
        ];
        const members: number[] = [];
        for (let i = 0; i < MEMBERS; i++) {
          members.push(
            (
              await h.store.transact((tx) =>
                createMember(tx, { email: `m${total + i}-${Math.random()}@example.com` }, h.clock.now),
              )
            ).id,
          );
        }
        await setPin(ctx, members[0]!, '4321');
        const earns: {
          id: number;
          member: number;
          program: number;
          purchase: number;
          earned: number;
          refunded: number;
          clawed: number;
        }[] = [];

        const balances = (member: number, program: number) =>
          h.store.read(async (tx) => {
            const acct = async (suffix: string) =>
              (await tx.one<{ c: number; d: number; dp: number }>(
                'SELECT credits_posted AS c, debits_posted AS d, debits_pending AS dp FROM accounts WHERE code = ?',
                [`member:${member}:program:${program}:${suffix}`],
              )) ?? { c: 0, d: 0, dp: 0 };
            const lots = async (state: string) =>
              Number(
                (await tx.one<{ s: number | null }>(
                  'SELECT SUM(remaining) AS s FROM earn_lots WHERE member_id = ? AND program_id = ? AND state = ?',
                  [member, program, state],
                ))!.s ?? 0,
              );
            const a = await acct('available');
            const m = await acct('maturing');
            return {
              available: a.c - a.d - a.dp,
              maturing: m.c - m.d,
              lotsAvailable: await lots('available'),
              lotsMaturing: await lots('maturing'),
            } satisfies Balances;
          });

        for (const o of ops) {
          total++;
          const appId = 'property';
          if (o.kind === 'earn') {
            const r = await earn(ctx, {
              appId,
              programId: programs[o.program]!,
              member: { id: members[o.member]! },
              purchaseAmount: { minor: o.amount },
            });
            earns.push({
              id: r.transactionId,
              member: members[o.member]!,
              program: programs[o.program]!,
              purchase: o.amount,
              earned: r.cashbackEarned,
              refunded: 0,
              clawed: 0,
            });
          } else if (o.kind === 'redeem') {
            const member = members[o.member]!;
            const program = programs[o.program]!;
            await balance(ctx, program, { id: member }); // settles matured lots, as redeem does
            const before = await balances(member, program);
            const pin = o.program === 1 && o.member === 0;
            try {
              await redeem(ctx, {
                appId,
                programId: program,
                member: { id: member },
                amount: { minor: o.amount },
                ...(pin ? { pin: '4321' } : { tokenMemberId: member }),
              });
              expect(o.amount).toBeLessThanOrEqual(before.available);
            } catch (error) {
              expect(error).toBeInstanceOf(DomainError);
              expect((error as DomainError).code).toBe('insufficient_balance');
              expect(o.amount).toBeGreaterThan(before.available);
            }
            const after = await balances(member, program);
            expect(after.available).toBeGreaterThanOrEqual(Math.min(0, before.available));
          } else if (o.kind === 'refund') {
            if (earns.length === 0) continue;
            const e = earns[o.pick % earns.length]!;
            const amount = Math.floor(((e.purchase - e.refunded) * o.fraction) / 100);
            if (amount === 0) continue;
            const r = await refund(ctx, {
              appId,
              programId: e.program,
              member: { id: e.member },
              refundAmount: { minor: amount },
              original: { transactionId: e.id },
            });
            e.refunded += amount;
            e.clawed += r.cashbackDeducted;
            expect(e.clawed).toBe(cumulativeClawback(e.earned, e.purchase, e.refunded));
            if (e.refunded === e.purchase) expect(e.clawed).toBe(e.earned);
          } else if (o.kind === 'adjust') {
            const member = members[o.member]!;
            const program = programs[o.program]!;
            await balance(ctx, program, { id: member });
            const before = await balances(member, program);
            try {
              await adjust(ctx, {
                appId,
                programId: program,
                member: { id: member },
                amount: { minor: o.amount },
                reason: 'property test',
              });
              if (o.amount < 0) expect(-o.amount).toBeLessThanOrEqual(before.available);
            } catch (error) {
              expect((error as DomainError).code).toBe('insufficient_balance');
              expect(-o.amount).toBeGreaterThan(before.available);
            }
          } else if (o.kind === 'advance') {
            h.clock.advanceDays(o.days);
          } else {
            await h.engine.sweep();
          }

          // After every operation: debits equal credits per currency, and lots match balances. The
          // cached balances are the accounts' rows plus, on PostgreSQL, shared accounts' shard rows.
          const imbalance = await h.store.read((tx) =>
            tx.all<{ currency: string; d: number; c: number }>(
              `SELECT currency, SUM(d) AS d, SUM(c) AS c FROM (
                 SELECT currency, debits_posted AS d, credits_posted AS c FROM accounts
                 UNION ALL
                 SELECT a.currency, s.debits_posted, s.credits_posted FROM account_shards s JOIN accounts a ON a.id = s.account_id
               ) AS cached GROUP BY currency HAVING SUM(d) <> SUM(c)`,
            ),
          );
          expect(imbalance).toEqual([]);
          // Program 1 matures and expires, so it keeps lots; program 0 needs none and keeps none.
          if ('member' in o && 'program' in o && o.program === 1) {
            const b = await balances(members[o.member]!, programs[o.program]!);
            expect(b.lotsMaturing).toBe(b.maturing);
            expect(b.lotsAvailable).toBe(Math.max(0, b.available));
          }
          if (total % 500 === 0) expect((await h.store.read((tx) => verifyLedger(tx))).problems).toEqual([]);
        }
        const report = await h.store.read((tx) => verifyLedger(tx));
        expect(report.problems).toEqual([]);
        const untracked = await h.store.read((tx) =>
          tx.row<{ n: number }>('SELECT COUNT(*) AS n FROM earn_lots WHERE program_id = ?', [programs[0]!]),
        );
        expect(untracked.n).toBe(0);
      }),
      // A failure reports its seed and stops: shrinking 2,000 steps through a database takes too long.
      { numRuns: 5, endOnFailure: true },
    );
    expect(total).toBeGreaterThanOrEqual(10_000);
  }, 300_000);
});
