// What only a shared PostgreSQL database can show: two engines, each with its own pool, on one
// database at once. Concurrent redeems of one member through both never take the balance below zero
// nor leave the earn lots out of step with it; earns creating one new member make one member; two
// payout workers call the provider once per payout, and two webhook workers send each event once
// (SKIP LOCKED and leases).
import { afterEach, describe, expect, it } from 'vitest';
import type { EngineConfigInput } from '../../../engine/config.ts';
import { recordEvent } from '../../../engine/domain/outbox.ts';
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
});
