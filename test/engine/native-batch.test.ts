// POST /v1/batch over real SQLite files: a batch answers exactly what the same operations sent one by
// one to POST /v1/earn and /v1/refund answer (fast-check, two engines in lockstep), in the order given;
// an operation is one operation whichever route carried it; a refused one changes nothing and the
// others still apply; `inOrder` rolls back a refused operation's own writes, and a failure that is not
// a refusal rolls back the whole batch.
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { chart } from '../../engine/domain/accounts.ts';
import { DomainError } from '../../engine/domain/errors.ts';
import { inOrder } from '../../engine/domain/in-order.ts';
import { findAccount, transfer } from '../../engine/domain/ledger.ts';
import type { Tx } from '../../engine/store/store.ts';
import { INSERTION_ORDER } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';

interface Op {
  type: 'earn' | 'refund';
  idempotency_key: string;
  body: Record<string, unknown>;
}

async function engineWithTill() {
  const h = await startHarness();
  const till = (await h.app(['cashback_read', 'cashback_write'])).headers;
  const program = await h.program({ currency: 'TND', cashbackBps: 500 });
  return { h, till, program };
}
type Engine = Awaited<ReturnType<typeof engineWithTill>>;

const batch = (e: Engine, operations: unknown[]) =>
  e.h.request({ method: 'POST', url: '/v1/batch', headers: e.till, body: { operations } });
const single = (e: Engine, op: Op) =>
  e.h.request({
    method: 'POST',
    url: `/v1/${op.type}`,
    headers: { ...e.till, 'idempotency-key': op.idempotency_key },
    body: op.body,
  });
const applied = (e: Engine) =>
  e.h.store.read((tx) =>
    tx.all<{ type: string; reference: string | null; amount: number }>(
      "SELECT type, reference, amount FROM transactions WHERE type IN ('earn', 'refund') ORDER BY id",
    ),
  );

describe('a batch answers what the single routes answer, in order', () => {
  let batched: Engine;
  let oneByOne: Engine;
  beforeAll(async () => {
    batched = await engineWithTill();
    oneByOne = await engineWithTill();
    expect(oneByOne.program).toBe(batched.program);
  });
  afterAll(async () => {
    await batched.h.close();
    await oneByOne.h.close();
  });

  let run = 0;
  /** Random earns and refunds on a few members: repeats of earlier keys, refunds of earlier purchases, bad ones. */
  const operations = (program: number) =>
    fc
      .array(
        fc.record({
          kind: fc.constantFrom('earn', 'earn', 'refund', 'repeat', 'bad'),
          member: fc.integer({ min: 0, max: 3 }),
          amount: fc.integer({ min: 1, max: 200_000 }),
          pick: fc.nat(),
        }),
        { minLength: 1, maxLength: 40 },
      )
      .map((draws) => {
        run += 1;
        const ops: Op[] = [];
        draws.forEach((d, i) => {
          const member = { email: `m${d.member}@batch.example` };
          const earlier = ops.length ? ops[d.pick % ops.length] : undefined;
          const key = `run${run}-op${i}`;
          if (d.kind === 'repeat' && earlier) return void ops.push(earlier);
          if (d.kind === 'refund' && earlier?.type === 'earn') {
            return void ops.push({
              type: 'refund',
              idempotency_key: key,
              body: {
                program_id: program,
                member: earlier.body['member'],
                refund_amount: d.amount,
                original_reference: earlier.body['reference'],
              },
            });
          }
          const body: Record<string, unknown> = {
            program_id: program,
            member,
            member_name: `Member ${d.member}`,
            purchase_amount: d.amount,
            reference: `${key}-sale`,
          };
          if (d.kind === 'bad') {
            // A program that does not exist, a float amount, an unknown field, or a key reused for another body.
            const flaw = d.pick % 4;
            if (flaw === 0) body['program_id'] = program + 1_000;
            if (flaw === 1) body['purchase_amount'] = d.amount + 0.5;
            if (flaw === 2) body['colour'] = 'blue';
            if (flaw === 3 && earlier)
              return void ops.push({ ...earlier, body: { ...earlier.body, purchase_amount: d.amount } });
          }
          ops.push({ type: 'earn', idempotency_key: key, body });
        });
        return ops;
      });

  it('gives each operation the status and body POST /v1/earn or /v1/refund gives it', async () => {
    await fc.assert(
      fc.asyncProperty(operations(batched.program), fc.integer({ min: 1, max: 100 }), async (ops, size) => {
        const expected: unknown[] = [];
        for (const op of ops) {
          const r = await single(oneByOne, op);
          expected.push({ status: r.status, body: r.body });
        }
        const got: unknown[] = [];
        for (let i = 0; i < ops.length; i += size) {
          const r = await batch(batched, ops.slice(i, i + size));
          expect(r.status, r.text).toBe(200);
          got.push(...(r.body as { results: unknown[] }).results);
        }
        expect(got).toEqual(expected);
        expect(await applied(batched)).toEqual(await applied(oneByOne));
      }),
      { numRuns: 25 },
    );
    expect(await batched.h.ledgerProblems()).toEqual([]);
    // The runs did refund what they earned, and refused some: the property was not vacuous.
    const types = new Set((await applied(batched)).map((t) => t.type));
    expect(types).toEqual(new Set(['earn', 'refund']));
  });
});

describe('exactly once, whichever route', () => {
  let e: Engine;
  beforeEach(async () => {
    e = await engineWithTill();
  });
  afterEach(() => e.h.close());

  const earnOp = (key: string, purchase = 10_000): Op => ({
    type: 'earn',
    idempotency_key: key,
    body: {
      program_id: e.program,
      member: { email: 'jane@batch.example' },
      member_name: 'Jane',
      purchase_amount: purchase,
      reference: key,
    },
  });

  it('replays in a batch what the single route applied, and the other way round', async () => {
    const first = await single(e, earnOp('a'));
    expect(first.status).toBe(200);
    const second = await batch(e, [earnOp('a'), earnOp('b')]);
    expect(second.status).toBe(200);
    const [a, b] = second.body.results as { status: number; body: Record<string, unknown> }[];
    expect(a).toEqual({ status: 200, body: { ...first.body, replayed: true } });
    expect(b).toMatchObject({ status: 200, body: { replayed: false } });
    const again = await single(e, earnOp('b'));
    expect(again.body).toEqual({ ...b!.body, replayed: true });
    // The same batch again (an answer lost on the way back): every answer stored, nothing new applied.
    const resent = await batch(e, [earnOp('a'), earnOp('b')]);
    expect(resent.body.results.map((r: { body: { replayed: boolean } }) => r.body.replayed)).toEqual([
      true,
      true,
    ]);
    expect((await applied(e)).map((t) => t.reference)).toEqual(['a', 'b']);
  });

  it('answers a refused operation in its place and applies the others, in order', async () => {
    const r = await batch(e, [
      earnOp('p1'),
      { ...earnOp('p2'), body: { ...earnOp('p2').body, program_id: e.program + 1 } },
      earnOp('p1', 99), // the key of p1 with another body
      {
        type: 'refund',
        idempotency_key: 'r1',
        body: {
          program_id: e.program,
          member: { email: 'jane@batch.example' },
          refund_amount: 10_000,
          original_reference: 'p1',
        },
      },
      { ...earnOp('p3'), body: { ...earnOp('p3').body, purchase_amount: -5 } },
      earnOp('p4'),
    ]);
    expect(r.status).toBe(200);
    const results = r.body.results as {
      status: number;
      body: { error?: { code: string; message: string } };
    }[];
    expect(results.map((x) => x.status)).toEqual([200, 404, 409, 200, 400, 200]);
    expect(results[1]!.body.error).toMatchObject({ code: 'program_not_found' });
    expect(results[2]!.body.error).toMatchObject({ code: 'idempotency_conflict' });
    expect(results[4]!.body.error?.message).toMatch(/purchase_amount/);
    // The refund found the earn just before it in the same batch and took all of its cashback back.
    expect(results[3]!.body).toMatchObject({
      cashback_deducted: 500,
      original_transaction_id: expect.any(Number),
    });
    expect((await applied(e)).map((t) => [t.type, t.reference, t.amount])).toEqual([
      ['earn', 'p1', 500],
      ['refund', null, -500], // a clawback is stored as a negative amount
      ['earn', 'p4', 500],
    ]);
    expect(await e.h.ledgerProblems()).toEqual([]);
  });
});

describe('inOrder', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    await h.store.transact((tx) => tx.run('CREATE TABLE marks (n INTEGER NOT NULL)'));
  });
  afterEach(() => h.close());
  const marks = () =>
    h.store.read((tx) => tx.all<{ n: number }>(`SELECT n FROM marks ORDER BY ${INSERTION_ORDER}`));

  it("rolls back a refused operation's own writes and runs the next one", async () => {
    const settled = await h.store.transact((tx) =>
      inOrder(tx, [
        async (t) => (await t.run('INSERT INTO marks VALUES (1)')).changes,
        async (t) => {
          await t.run('INSERT INTO marks VALUES (2)');
          throw new DomainError('insufficient_balance', 'refused after a write');
        },
        async (t) => (await t.run('INSERT INTO marks VALUES (3)')).changes,
      ]),
    );
    expect(settled.map((s) => s.ok)).toEqual([true, false, true]);
    expect(settled[1]).toMatchObject({ ok: false, error: { code: 'insufficient_balance' } });
    expect(await marks()).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it("rolls back a refused operation's transfers on shared accounts too (applied at commit on PostgreSQL)", async () => {
    const programId = await h.program();
    const now = h.clock.now;
    const move = (t: Tx, amount: number) =>
      t
        .row<{ id: number }>(
          `INSERT INTO transactions (type, program_id, currency, amount, created_at) VALUES ('adjust', ?, 'TND', ?, ?) RETURNING id`,
          [programId, amount, now],
        )
        .then(({ id }) =>
          transfer(t, {
            transactionId: id,
            debit: chart.programFunding(programId, 'TND'),
            credit: chart.programRedeemed(programId, 'TND'),
            amount,
            currency: 'TND',
            now,
          }),
        );
    const settled = await h.store.transact((tx) =>
      inOrder(tx, [
        async (t) => (await move(t, 300)).debit,
        async (t) => {
          await move(t, 5_000);
          throw new DomainError('conflict', 'refused after a transfer');
        },
        async (t) => (await move(t, 200)).debit,
      ]),
    );
    expect(settled.map((s) => s.ok)).toEqual([true, false, true]);
    const funding = await h.store.read((tx) => findAccount(tx, chart.programFunding(programId, 'TND').code));
    expect(funding?.debits_posted).toBe(500);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('rolls back the whole batch on a failure that is not a refusal', async () => {
    const failing = h.store.transact((tx) =>
      inOrder(tx, [
        async (t) => (await t.run('INSERT INTO marks VALUES (1)')).changes,
        async (t) => (await t.run('INSERT INTO no_such_table VALUES (2)')).changes,
      ]),
    );
    await expect(failing).rejects.toThrow(/no_such_table/);
    expect(await marks()).toEqual([]);
  });
});
