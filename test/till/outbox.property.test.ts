// Properties: the retry schedule the sender uses, and the queue's state machine on a real SQLite file
// against a model (FIFO head, states, counts, offline limits, manager actions refused in wrong states).
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../engine/domain/webhook-deliveries.ts';
import { openSqliteStore } from '../../engine/store/sqlite.ts';
import { recordOnline } from '../../till/flows/history.ts';
import { OfflineLimitsSchema } from '../../till/outbox/config.ts';
import { OutboxError } from '../../till/outbox/errors.ts';
import {
  enqueue,
  getOperation,
  headOfQueue,
  parseOperation,
  queueCounts,
  recordDelivered,
  recordRefused,
  recordRetry,
  retry,
  voidOperation,
  type OperationState,
} from '../../till/outbox/queue.ts';

const dir = mkdtempSync(join(tmpdir(), 'tillback-till-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the retry schedule (as the sender calls it: no window)', () => {
  const policy = fc
    .tuple(fc.integer({ min: 1, max: 60_000 }), fc.integer({ min: 0, max: 3_600_000 }))
    .map(([baseMs, extra]) => ({ baseMs, maxMs: baseMs + extra, windowMs: Infinity }));

  it('stays within [cap/2, cap] and never above maxMs', () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 10_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (p, failures, r) => {
          const delay = retryDelayMs(failures, p, () => r);
          const cap = Math.min(p.maxMs, p.baseMs * 2 ** (failures - 1));
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(cap / 2));
          expect(delay).toBeLessThanOrEqual(cap);
          expect(delay).toBeLessThanOrEqual(p.maxMs);
        },
      ),
    );
  });

  it('has a cap that never decreases with more failures', () => {
    fc.assert(
      fc.property(
        policy,
        fc.integer({ min: 1, max: 200 }),
        fc.integer({ min: 0, max: 200 }),
        (p, f, more) => {
          for (const r of [0, 0.999999]) {
            expect(retryDelayMs(f, p, () => r)).toBeLessThanOrEqual(retryDelayMs(f + more, p, () => r));
          }
        },
      ),
    );
  });
});

describe('parseOperation', () => {
  const valid = fc.record({
    type: fc.constantFrom('earn', 'refund'),
    cashier: fc.string({ minLength: 1, maxLength: 64 }),
    programId: fc.integer({ min: 1 }),
    currency: fc.constantFrom('TND', 'USD', 'JPY'),
    member: fc.oneof(
      fc.record({ id: fc.integer({ min: 1 }) }),
      fc.record({ phone: fc.string({ minLength: 3, maxLength: 32 }) }),
    ),
    amount: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  });

  it('accepts every well-formed earn and refund as given', () => {
    fc.assert(
      fc.property(valid, ({ amount, ...v }) => {
        const input = {
          ...v,
          ...(v.type === 'earn' ? { purchaseAmount: amount } : { refundAmount: amount }),
        };
        expect(parseOperation(input)).toEqual(input);
      }),
    );
  });

  it('answers anything else with an OutboxError, never another throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          valid.chain((v) =>
            fc.record({
              ...Object.fromEntries(
                Object.entries(v).map(([k, x]) => [k, fc.oneof(fc.constant(x), fc.anything())]),
              ),
            }),
          ),
        ),
        (input) => {
          try {
            parseOperation(input);
          } catch (error) {
            expect(error).toBeInstanceOf(OutboxError);
            expect(['validation_error', 'online_required']).toContain((error as OutboxError).code);
          }
        },
      ),
    );
  });
});

/** A queued earn of `purchaseAmount` for member 1. */
const earnOf = (purchaseAmount: number) =>
  parseOperation({
    type: 'earn',
    cashier: 'c',
    programId: 1,
    currency: 'TND',
    member: { id: 1 },
    purchaseAmount,
  });

type Action =
  | { kind: 'enqueue'; amount: number }
  | { kind: 'online'; type: 'redeem' | 'cashout'; state: 'delivered' | 'failed'; amount: number }
  | { kind: 'attempt'; outcome: 'delivered' | 'refused' | 'retry' }
  | { kind: 'retry' | 'void'; pick: number; reason: string };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), amount: fc.integer({ min: 1, max: 3_000 }) }),
  // A redeem's or cashout's history row: never queued, so never waiting nor failed in the queue.
  fc.record({
    kind: fc.constant('online' as const),
    type: fc.constantFrom('redeem' as const, 'cashout' as const),
    state: fc.constantFrom('delivered' as const, 'failed' as const),
    amount: fc.integer({ min: 1, max: 3_000 }),
  }),
  fc.record({
    kind: fc.constant('attempt' as const),
    outcome: fc.constantFrom('delivered' as const, 'refused' as const, 'retry' as const),
  }),
  fc.record({
    kind: fc.constantFrom('retry' as const, 'void' as const),
    pick: fc.nat(),
    reason: fc.constantFrom('', ' ', 'wrong member, re-entered'),
  }),
);

describe('the queue state machine', () => {
  it('matches a model through any sequence of enqueues, attempts and manager actions', async () => {
    const limits = OfflineLimitsSchema.parse({ maxCount: 5, maxAmount: { TND: 5_000 } });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(action, { maxLength: 40 }), async (actions) => {
        const store = await openSqliteStore({
          path: join(dir, `q${run++}.sqlite`),
          migrationsDir: fileURLToPath(new URL('../../till/migrations/', import.meta.url)),
        });
        try {
          const model: { id: string; amount: number; state: OperationState }[] = [];
          const now = 1_000;
          for (const a of actions) {
            const queued = model.filter((o) => o.state === 'queued');
            if (a.kind === 'enqueue') {
              const op = earnOf(a.amount);
              const refuse =
                queued.length >= limits.maxCount ||
                queued.reduce((s, o) => s + o.amount, 0) + a.amount > 5_000;
              const result = store.transact((tx) => enqueue(tx, op, limits, now));
              if (refuse) await expect(result).rejects.toMatchObject({ code: 'offline_limit' });
              else model.push({ id: await result, amount: a.amount, state: 'queued' });
            } else if (a.kind === 'online') {
              await recordOnline(
                store,
                {
                  id: randomUUID(),
                  type: a.type,
                  amount: a.amount,
                  currency: 'TND',
                  programId: 1,
                  member: { id: 1 },
                  reference: null,
                  cashier: 'c',
                  state: a.state,
                  result: a.state === 'failed' ? 'Wrong PIN' : '{}',
                },
                now,
              );
            } else if (a.kind === 'attempt') {
              const [head] = await store.read((tx) => headOfQueue(tx, 1));
              expect(head?.operationId).toBe(queued[0]?.id);
              if (!head || !queued[0]) continue;
              await store.transact((tx) =>
                a.outcome === 'delivered'
                  ? recordDelivered(tx, head.operationId, '{}', now)
                  : a.outcome === 'refused'
                    ? recordRefused(tx, head.operationId, '422 x: no', now)
                    : recordRetry(tx, head.operationId, 'ECONNREFUSED', now),
              );
              if (a.outcome !== 'retry') queued[0].state = a.outcome === 'delivered' ? 'delivered' : 'failed';
            } else {
              const target = model[a.pick % Math.max(1, model.length)];
              if (!target) continue;
              const result = store.transact((tx) =>
                a.kind === 'retry' ? retry(tx, target.id, now) : voidOperation(tx, target.id, a.reason, now),
              );
              if (a.kind === 'void' && a.reason.trim() === '')
                await expect(result).rejects.toMatchObject({ code: 'validation_error' });
              else if (target.state !== 'failed')
                await expect(result).rejects.toMatchObject({ code: 'invalid_state' });
              else {
                await result;
                target.state = a.kind === 'retry' ? 'queued' : 'voided';
              }
            }
            // The totals the triggers keep (migrations 006, 007) are the totals of the queued types' rows.
            const [kept, counted] = await store.read(async (tx) => [
              await tx.all(
                'SELECT state, currency, count, amount FROM queue_totals WHERE count > 0 ORDER BY state, currency',
              ),
              await tx.all(
                `SELECT state, currency, COUNT(*) AS count, SUM(amount) AS amount FROM operations
                  WHERE type IN ('earn', 'refund') GROUP BY state, currency ORDER BY state, currency`,
              ),
            ]);
            expect(kept).toEqual(counted);
            const counts = await store.read((tx) => queueCounts(tx, now));
            expect(counts).toEqual({
              waiting: model.filter((o) => o.state === 'queued').length,
              failed: model.filter((o) => o.state === 'failed').length,
              oldestAgeMs: model.some((o) => o.state === 'queued') ? 0 : null,
            });
          }
          for (const o of model)
            expect((await store.read((tx) => getOperation(tx, o.id)))?.state).toBe(o.state);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});

describe('migration 007', () => {
  it("takes a till file's failed redeems and cashouts out of the queue's failed count", async () => {
    const all = fileURLToPath(new URL('../../till/migrations/', import.meta.url));
    const before = join(dir, 'migrations-006');
    mkdirSync(before);
    for (const file of readdirSync(all).filter((f) => f < '007'))
      copyFileSync(join(all, file), join(before, file));
    const path = join(dir, 'upgraded.sqlite');
    const limits = OfflineLimitsSchema.parse({ maxCount: 5, maxAmount: { TND: 5_000 } });
    const old = await openSqliteStore({ path, migrationsDir: before });
    try {
      const earn = earnOf(1_000);
      const id = await old.transact((tx) => enqueue(tx, earn, limits, 1_000));
      await old.transact((tx) => recordRefused(tx, id, '422 x: no', 1_000));
      for (const type of ['redeem', 'cashout'] as const) {
        await recordOnline(
          old,
          {
            id: randomUUID(),
            type,
            amount: 100,
            currency: 'TND',
            programId: 1,
            member: { id: 1 },
            reference: null,
            cashier: 'c',
            state: 'failed',
            result: 'Wrong PIN',
          },
          1_000,
        );
      }
      expect((await old.read((tx) => queueCounts(tx, 1_000))).failed).toBe(3);
    } finally {
      await old.close();
    }
    const upgraded = await openSqliteStore({ path, migrationsDir: all });
    try {
      expect(await upgraded.read((tx) => queueCounts(tx, 1_000))).toEqual({
        waiting: 0,
        failed: 1,
        oldestAgeMs: null,
      });
    } finally {
      await upgraded.close();
    }
  });
});
