// What only a shared PostgreSQL database can show: two engines, each with its own pool, on one
// database at once. Concurrent redeems of one member through both never take the balance below zero
// nor leave the earn lots out of step with it; earns creating one new member make one member; two
// sweeps at once mature each lot and expire each claim once (row locks); two payout workers call the
// provider once per payout, and two webhook workers send each event once (SKIP LOCKED and leases).
// A program's shared accounts (its funding, where every earn comes from) are locked only at commit, and
// earns, redeems and refunds of many members of one program through both engines at once all succeed
// with every balance the sum of its transfers. Earns arriving at once share a transaction, and those
// of one member among them run alone (its claim), so its due lot matures once.
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineConfigInput } from '../../../engine/config.ts';
import { loadEngineConfig } from '../../../engine/config.ts';
import { chart } from '../../../engine/domain/accounts.ts';
import { earn } from '../../../engine/domain/cashback.ts';
import { domainContext } from '../../../engine/domain-context.ts';
import { balanceOf, findAccount, transfer } from '../../../engine/domain/ledger.ts';
import { recordEvent } from '../../../engine/domain/outbox.ts';
import { recordTransaction } from '../../../engine/domain/transactions.ts';
import { startHarness, type Harness } from '../harness.ts';
import { startReceiver, type Receiver } from '../webhook-receiver.ts';

const PIN = '4321';
const SUBSCRIBER_SECRET = 'whsec_subscriber_current_0123456789abcdef';

let engines: Harness[] = [];
let receiver: Receiver | undefined;
afterEach(async () => {
  // The first engine's store drops the database: it closes last.
  for (const h of engines.reverse()) await h.close();
  await receiver?.close();
  engines = [];
  receiver = undefined;
});

/** Two engines on one database, sharing secrets (as a chain's engines must). */
async function twoEngines(config: EngineConfigInput = {}): Promise<[Harness, Harness]> {
  const a = await startHarness(config);
  engines.push(a);
  const b = await startHarness(
    { ...config, secretsFile: `${a.dir}/secrets.json` },
    { shared: a.store.location },
  );
  engines.push(b);
  return [a, b];
}

/** Engine `h`'s domain, on its store and clock: called as a route calls it. */
const domainOf = (h: Harness) =>
  domainContext(
    h.store,
    loadEngineConfig({ environment: {}, overrides: { secretsFile: `${h.dir}/secrets.json` } }),
    { now: () => h.clock.now },
  );

describe('two engines on one PostgreSQL database', () => {
  it('redeem one member concurrently: never below zero, each redeem whole or refused, lots in step', async () => {
    const [a, b] = await twoEngines();
    const admin = await a.app(['admin']);
    // Expiring cashback keeps earn lots, which each redeem consumes: the rows a lost update would spoil.
    const programId = await a.program({ cashbackBps: 500, expiryDays: 365, allowsPinRedemption: true });
    const earned = await a.request({
      method: 'POST',
      url: '/v1/earn',
      headers: { ...admin.headers, 'idempotency-key': 'earn-1' },
      body: {
        program_id: programId,
        member: { email: 'kim@example.com' },
        member_name: 'Kim',
        purchase_amount: 20_000,
      },
    });
    expect(earned.status, earned.text).toBe(200);
    const memberId = earned.body.member_id as number;
    expect(earned.body.balance.available).toBe(1_000);
    const pin = await b.request({
      method: 'PUT',
      url: `/v1/members/${memberId}/pin`,
      headers: { ...admin.headers, 'idempotency-key': 'pin-1' },
      body: { pin: PIN },
    });
    expect(pin.status, pin.text).toBe(200);

    // 24 redeems of 100 against 1,000, alternating between the engines, all in flight together.
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? b : a).request({
          method: 'POST',
          url: '/v1/redeem',
          headers: { ...admin.headers, 'idempotency-key': `redeem-${i}` },
          body: { program_id: programId, member: { id: memberId }, amount: 100, pin: PIN },
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(10);
    for (const r of refused) expect([r.status, r.body.error.code]).toEqual([422, 'insufficient_balance']);
    // Every answer's balance is one a serial order of the redeems passes through.
    expect(new Set(ok.map((r) => r.body.balance.available))).toEqual(
      new Set(Array.from({ length: 10 }, (_, i) => i * 100)),
    );

    const balance = await b.request({
      method: 'GET',
      url: `/v1/members/${memberId}/balance?program_id=${programId}`,
      headers: admin.headers,
    });
    expect(balance.body.balance.available, balance.text).toBe(0);
    const lots = await a.store.read((tx) =>
      tx.row<{ remaining: number | null }>(
        "SELECT SUM(remaining) AS remaining FROM earn_lots WHERE member_id = ? AND state = 'available'",
        [memberId],
      ),
    );
    expect(lots.remaining ?? 0).toBe(0);
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it('earn for one new member under different keys at once: one member, every earn on it', async () => {
    const [a, b] = await twoEngines();
    const till = await a.app(['cashback_write']);
    const programId = await a.program({ cashbackBps: 500 });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? b : a).request({
          method: 'POST',
          url: '/v1/earn',
          headers: { ...till.headers, 'idempotency-key': `earn-${i}` },
          body: {
            program_id: programId,
            member: { email: 'lee@example.com' },
            member_name: 'Lee',
            purchase_amount: 1_000,
          },
        }),
      ),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.member_id)).size).toBe(1);
    expect(results.filter((r) => r.body.member_created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.body.transaction_id)).size).toBe(20);
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it('earns arriving at once share a transaction; one member or one key twice among them runs alone, applied once', async () => {
    const [a] = await twoEngines();
    const ctx = domainOf(a);
    const { appId } = await a.app(['cashback_write']);
    const programId = await a.program({ cashbackBps: 500 });
    // Called in one turn of the event loop, as requests read together from the network reach it.
    const earns = (list: [key: string, email: string][]) =>
      Promise.all(
        list.map(([key, email]) =>
          earn(ctx, {
            appId,
            programId,
            member: { email },
            memberName: 'M',
            purchaseAmount: { minor: 1_000 },
            idempotency: { appId, scope: 'earn', key },
          }),
        ),
      );
    /** The PostgreSQL transaction that inserted each earn (rows one transaction wrote share its xmin). */
    const writers = async (earned: { transactionId: number }[]) =>
      new Set(
        await a.store.read(async (tx) =>
          (
            await tx.all<{ writer: string }>(
              `SELECT xmin::text AS writer FROM transactions WHERE id IN (${earned.map(() => '?').join(', ')})`,
              earned.map((e) => e.transactionId),
            )
          ).map((r) => r.writer),
        ),
      ).size;

    // The program's first earn creates its funding account: two doing so together would collide
    // on it (a unique key), and each would run again alone.
    await earns([['warm', 'warm@example.com']]);
    // Eight new members at once: one transaction for all.
    const first = await earns(Array.from({ length: 8 }, (_, i) => [`first-${i}`, `m${i}@example.com`]));
    expect(first.map((e) => e.memberCreated)).toEqual(Array(8).fill(true));
    expect(await writers(first)).toBe(1);

    // Member 0 twice (claimed twice) and key first-1 again among others: each runs in its own.
    const second = await earns([
      ['second-0', 'm0@example.com'],
      ['second-0b', 'm0@example.com'],
      ['first-1', 'm1@example.com'],
      ['second-2', 'm2@example.com'],
    ]);
    expect(second[2]).toMatchObject({ transactionId: first[1]!.transactionId, replayed: true });
    expect(second.map((e) => e.replayed)).toEqual([false, false, true, false]);
    expect(await writers([second[0]!, second[1]!, second[3]!])).toBe(3);
    expect(second[1]!.balance.available).toBe(3 * 50);
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it("two earns of one member arriving at once mature the member's due lot once", async () => {
    const [a] = await twoEngines();
    const ctx = domainOf(a);
    const { appId } = await a.app(['cashback_write']);
    const programId = await a.program({ cashbackBps: 500, maturationDays: 1, expiryDays: 365 });
    const earnOf = (key: string) =>
      earn(ctx, {
        appId,
        programId,
        member: { email: 'kim@example.com' },
        memberName: 'Kim',
        purchaseAmount: { minor: 10_000 },
        idempotency: { appId, scope: 'earn', key },
      });
    // Lots of 500 a day apart: the first matures (alone) at the second's earn, so the member's
    // available account exists. Then at the two earns the second lot is due and the third is not:
    // the second matured twice would leave the maturing balance at zero, not below it, and no
    // balance check would refuse it.
    await earnOf('first');
    a.clock.advanceDays(1.1);
    await earnOf('second');
    a.clock.advanceDays(0.5);
    await earnOf('third');
    a.clock.advanceDays(0.6);
    // Each earn settles the member's due lots first: read, then written from what was read.
    const [x, y] = await Promise.all([earnOf('x'), earnOf('y')]);
    expect([x.status, y.status]).toEqual(['maturing', 'maturing']);
    // The one that committed second saw both.
    expect([x.balance, y.balance]).toContainEqual(
      expect.objectContaining({ available: 1_000, maturing: 1_500 }),
    );
    const matured = await a.store.read((tx) =>
      tx.row<{ n: number }>("SELECT COUNT(*) AS n FROM transactions WHERE type = 'mature'"),
    );
    expect(matured.n).toBe(2);
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it('sweep at the same time: each lot matures once and each claim expires once, across both', async () => {
    const [a, b] = await twoEngines();
    const till = await a.app(['cashback_write']);
    const programId = await a.program({ cashbackBps: 500, maturationDays: 7 });
    const members = 20;
    for (let i = 0; i < members; i++) {
      const earned = await (i % 2 ? b : a).request({
        method: 'POST',
        url: '/v1/earn',
        headers: { ...till.headers, 'idempotency-key': `earn-${i}` },
        body: {
          program_id: programId,
          member: { email: `m${i}@example.com` },
          member_name: 'M',
          purchase_amount: 2_000,
        },
      });
      expect(earned.body.status, earned.text).toBe('maturing');
      const claim = await a.request({
        method: 'POST',
        url: '/v1/claims',
        headers: { ...till.headers, 'idempotency-key': `claim-${i}` },
        body: { amount: 500, currency: 'AUD', store_name: 'Corner Store', expires_in_seconds: 60 },
      });
      expect(claim.status, claim.text).toBe(201);
    }
    for (const h of [a, b]) h.clock.advanceDays(8);
    const [first, second] = await Promise.all([a.engine.sweep(), b.engine.sweep()]);
    expect(first.matured + second.matured).toBe(members);
    expect(first.claimsExpired + second.claimsExpired).toBe(members);
    const counts = await a.store.read((tx) =>
      tx.row<{ matured: number; expired: number; available: number }>(
        `SELECT (SELECT COUNT(*) FROM transactions WHERE type = 'mature') AS matured,
                (SELECT COUNT(*) FROM claims WHERE state = 'expired') AS expired,
                (SELECT COUNT(*) FROM earn_lots WHERE state = 'available' AND remaining = 100) AS available`,
      ),
    );
    expect(counts).toEqual({ matured: members, expired: members, available: members });
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it('pay each submitted claim once between two payout workers (SKIP LOCKED, payouts leased)', async () => {
    // The sandbox takes a while to answer, so each worker has calls in flight when the other looks.
    const [a, b] = await twoEngines({ payouts: { sandboxLatencyMs: 50 } });
    const till = await a.app(['cashback_write']);
    const claims = 16;
    const ids: string[] = [];
    for (let i = 0; i < claims; i++) {
      const engine = i % 2 ? b : a;
      const created = await engine.request({
        method: 'POST',
        url: '/v1/claims',
        headers: { ...till.headers, 'idempotency-key': `claim-${i}` },
        body: { amount: 1_000 + i, currency: 'AUD', store_name: 'Corner Store' },
      });
      expect(created.status, created.text).toBe(201);
      const submitted = await engine.request({
        method: 'POST',
        url: `/v1/public/claims/${created.body.claim_id}/submit`,
        body: {
          consent: true,
          method: { kind: 'au_bank', bsb: '062-000', account: `1234567${i % 10}`, account_name: 'J Citizen' },
        },
      });
      expect(submitted.status, submitted.text).toBe(202);
      ids.push(created.body.claim_id as string);
    }
    const paid = () =>
      a.store
        .read((tx) => tx.row<{ n: number }>("SELECT COUNT(*) AS n FROM claims WHERE state = 'paid'"))
        .then((r) => r.n);
    await expect
      .poll(
        async () => {
          a.engine.payouts.kick();
          b.engine.payouts.kick();
          return paid();
        },
        { timeout: 60_000, interval: 50 },
      )
      .toBe(claims);
    await Promise.all([a.engine.payouts.idle(), b.engine.payouts.idle()]);
    const calls = await a.store.read((tx) =>
      tx.all<{ claim_id: string; submissions: number }>(
        'SELECT p.claim_id, s.submissions FROM payouts p JOIN sandbox_payouts s ON s.payout_id = p.id',
      ),
    );
    expect(calls.map((c) => c.claim_id).sort()).toEqual([...ids].sort());
    for (const c of calls) expect(c.submissions).toBe(1);
  });

  it('deliver each webhook once between two workers leasing from one table', async () => {
    receiver = await startReceiver({
      secrets: [SUBSCRIBER_SECRET],
      nowSeconds: () => Math.floor((engines[0]?.clock.now ?? 0) / 1000),
    });
    // Each delivery takes a while, so both workers have some in flight when they look for more.
    receiver.answer = () => ({ delayMs: 20 });
    const rx = receiver;
    const [a, b] = await twoEngines({
      webhooks: {
        subscribers: [{ url: rx.url, secrets: [SUBSCRIBER_SECRET] }],
        allowPrivateNetworks: ['127.0.0.1/32'],
        concurrency: 4,
      },
    });
    const events = 60;
    const ids: string[] = [];
    for (let i = 0; i < events; i++) {
      const writer = i % 2 ? b : a;
      ids.push(
        await writer.store.transact((tx) =>
          recordEvent(
            tx,
            {
              type: 'claim.paid',
              subject: { kind: 'claim', id: `clm_${i}` },
              data: { status: 'paid', amount: 100 + i, currency: 'AUD' },
            },
            writer.clock.now,
          ),
        ),
      );
    }
    await rx.waitFor(events, 60_000);
    await Promise.all([a.engine.webhooks.drain(), b.engine.webhooks.drain()]);
    const delivered = rx.received.map((r) => r.headers['tillback-event-id']);
    expect(delivered).toHaveLength(events);
    expect(new Set(delivered)).toEqual(new Set(ids));
    for (const r of rx.received) expect(r.verified.ok).toBe(true);
    const rows = await a.store.read((tx) =>
      tx.all<{ status: string; attempts: number }>('SELECT status, attempts FROM webhook_deliveries'),
    );
    expect(rows).toHaveLength(events);
    for (const row of rows) expect(row).toEqual({ status: 'delivered', attempts: 1 });
  });
  it("locks a program's funding row only at commit, and applies nothing of a transaction rolled back", async () => {
    const [a, b] = await twoEngines();
    const till = await a.app(['cashback_write']);
    const programId = await a.program({ cashbackBps: 500 });
    const earned = await a.request({
      method: 'POST',
      url: '/v1/earn',
      headers: { ...till.headers, 'idempotency-key': 'earn-1' },
      body: {
        program_id: programId,
        member: { email: 'ana@example.com' },
        member_name: 'Ana',
        purchase_amount: 2_000,
      },
    });
    expect(earned.status, earned.text).toBe(200);
    const memberId = earned.body.member_id as number;
    const currency = earned.body.currency as string;
    const funding = chart.programFunding(programId, currency);
    const member = chart.memberAvailable(memberId, programId, currency);
    const balances = () =>
      a.store.read(async (tx) => ({
        funding: balanceOf((await findAccount(tx, funding.code))!).posted,
        member: balanceOf((await findAccount(tx, member.code))!).posted,
      }));
    expect(await balances()).toEqual({ funding: 100, member: 100 });
    // What an earn does, from the funding account to the member's; the other engine meanwhile tries
    // to take, without waiting, the lock a balance UPDATE takes (55P03: the row is locked). Not FOR
    // UPDATE: that one also waits for the KEY SHARE lock the transfer's foreign key takes, which no
    // balance update does.
    const lockNow = (code: string) =>
      b.store.transact((tx) =>
        tx.row('SELECT id FROM accounts WHERE code = ? FOR NO KEY UPDATE NOWAIT', [code]),
      );
    const moveSeven = async (work: () => Promise<void>) =>
      a.store.transact(async (tx) => {
        const now = a.clock.now;
        const transactionId = await recordTransaction(
          tx,
          { type: 'adjust', currency, amount: 7, programId, memberId },
          now,
        );
        await transfer(tx, { transactionId, debit: funding, credit: member, amount: 7, currency, now });
        await work();
      });
    await moveSeven(async () => {
      await expect(lockNow(funding.code)).resolves.toMatchObject({ id: expect.any(Number) });
      await expect(lockNow(member.code)).rejects.toMatchObject({ code: '55P03' });
    });
    expect(await balances()).toEqual({ funding: 107, member: 107 });
    await expect(
      moveSeven(async () => {
        throw new Error('after the transfer');
      }),
    ).rejects.toThrow('after the transfer');
    expect(await balances()).toEqual({ funding: 107, member: 107 });
    expect(await a.ledgerProblems()).toEqual([]);
  });

  it('earn, redeem and refund many members of one program at once: every balance the sum of its transfers', async () => {
    const [a, b] = await twoEngines();
    const admin = await a.app(['admin']);
    const programId = await a.program({ cashbackBps: 500, expiryDays: 365, allowsPinRedemption: true });
    const post = (i: number, url: string, key: string, body: Record<string, unknown>) =>
      (i % 2 ? b : a).request({
        method: 'POST',
        url,
        headers: { ...admin.headers, 'idempotency-key': key },
        body: { program_id: programId, ...body },
      });
    // Each member first earns 1,000 on a purchase of 20,000 and sets a PIN.
    const members: { id: number; firstEarn: number }[] = [];
    for (let m = 0; m < 4; m++) {
      const first = await post(m, '/v1/earn', `first-${m}`, {
        member: { email: `m${m}@example.com` },
        member_name: 'M',
        purchase_amount: 20_000,
      });
      expect(first.body.cashback_earned, first.text).toBe(1_000);
      const id = first.body.member_id as number;
      const pin = await a.request({
        method: 'PUT',
        url: `/v1/members/${id}/pin`,
        headers: { ...admin.headers, 'idempotency-key': `pin-${m}` },
        body: { pin: PIN },
      });
      expect(pin.status, pin.text).toBe(200);
      members.push({ id, firstEarn: first.body.transaction_id as number });
    }
    // Then, all in flight together on both engines: per member 10 earns of 50, 5 redeems of 30 and 3
    // refunds of 1,000 of the first purchase (50 clawed back each).
    const requests = members.flatMap(({ id, firstEarn }, m) => [
      ...Array.from({ length: 10 }, (_, i) =>
        post(i, '/v1/earn', `earn-${m}-${i}`, { member: { id }, purchase_amount: 1_000 }),
      ),
      ...Array.from({ length: 5 }, (_, i) =>
        post(i + 1, '/v1/redeem', `redeem-${m}-${i}`, { member: { id }, amount: 30, pin: PIN }),
      ),
      ...Array.from({ length: 3 }, (_, i) =>
        post(i, '/v1/refund', `refund-${m}-${i}`, {
          member: { id },
          refund_amount: 1_000,
          original_transaction_id: firstEarn,
        }),
      ),
    ]);
    const results = await Promise.all(requests);
    for (const r of results) expect(r.status, r.text).toBe(200);

    for (const { id } of members) {
      const balance = await b.request({
        method: 'GET',
        url: `/v1/members/${id}/balance?program_id=${programId}`,
        headers: admin.headers,
      });
      expect(balance.body.balance.available, balance.text).toBe(1_000 + 10 * 50 - 5 * 30 - 3 * 50);
    }
    const currency = results[0]!.body.currency as string;
    const posted = (code: string) =>
      a.store.read(async (tx) => balanceOf((await findAccount(tx, code))!).posted);
    // The funding account paid every earn and took every clawback back; redeemed took every redeem.
    expect(await posted(chart.programFunding(programId, currency).code)).toBe(4 * (1_000 + 500 - 150));
    expect(await posted(chart.programRedeemed(programId, currency).code)).toBe(4 * 150);
    expect(await a.ledgerProblems()).toEqual([]);
  });
});
