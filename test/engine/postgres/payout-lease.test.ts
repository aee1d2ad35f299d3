// The payout lease (`payouts.leaseSeconds`) on a shared PostgreSQL database: a payout one engine took
// and then died holding stays with it until the lease ends, and then another engine's worker takes it
// and pays it under the same payout id. The dead engine is the worker's own first step (the due
// payouts taken in a transaction) with nothing after it; the clock is the test's, the rest is real:
// two stores (two pools, as two engines) on one database, the sandbox provider and its books.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadEngineConfig } from '../../../engine/config.ts';
import { createApp } from '../../../engine/domain/apps.ts';
import { createClaim, submitClaim } from '../../../engine/domain/claims.ts';
import { duePayouts, startPayouts } from '../../../engine/domain/payouts.ts';
import { domainContext } from '../../../engine/domain-context.ts';
import { createPayoutProviders } from '../../../engine/payouts/providers.ts';
import { createPayoutWorker } from '../../../engine/payouts/worker.ts';
import { openTestStore, type TestStore } from '../fixtures/test-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'tillback-payout-lease-'));
const stores: TestStore[] = [];
afterEach(async () => {
  // The first store drops the database: it closes last.
  for (const s of stores.reverse()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

it('a payout whose engine died holding it is paid by another once the configured lease is over', async () => {
  const dead = await openTestStore(dir);
  stores.push(dead);
  const alive = await openTestStore(dir, { shared: dead.location });
  stores.push(alive);
  const clock = { now: Date.UTC(2026, 0, 15, 10, 30) };
  const now = () => clock.now;
  const config = loadEngineConfig({
    environment: {},
    overrides: { secretsFile: join(dir, 'secrets.json'), payouts: { leaseSeconds: 2 } },
  });
  const leaseMs = config.payouts.leaseSeconds * 1000;
  const deadCtx = domainContext(dead, config, { now });
  const aliveCtx = domainContext(alive, config, { now });

  const appId = (await dead.transact((tx) => createApp(tx, { name: 'till', scopes: [] }, now()))).app.appId;
  const claim = await createClaim(
    deadCtx,
    {
      appId,
      funding: { kind: 'store', currency: 'AUD' },
      amount: 1500,
      storeName: 'Corner Store',
      methods: ['au_bank'],
    },
    undefined,
  );
  await submitClaim(deadCtx, claim.id, {
    method: { kind: 'au_bank', bsb: '062000', account: '12345678' },
    consent: true,
  });
  // What the dead engine's worker did before it died: started the payout and took it, leased.
  await dead.transact((tx) => startPayouts(tx, () => 'sandbox', now()));
  const taken = await dead.transact((tx) => duePayouts(deadCtx, tx, now(), leaseMs));
  expect(taken.map((t) => t.payout.claim_id)).toEqual([claim.id]);
  const payoutId = taken[0]?.payout.id;

  const worker = createPayoutWorker({
    ctx: aliveCtx,
    providers: createPayoutProviders(
      { provider: { au_bank: 'sandbox' }, sandboxLatencyMs: 0 },
      { store: alive, now },
    ),
    retryBaseMs: 60_000,
    retryMaxMs: 60_000,
    pollIntervalMs: 60_000,
    leaseMs,
    // Driven by kicks alone.
    tickMs: 3_600_000,
  });
  const runOnce = async () => {
    worker.kick();
    await worker.idle();
  };
  const state = () =>
    alive.read(async (tx) => ({
      payout: await tx.row<{ id: string; state: string }>(
        'SELECT id, state FROM payouts WHERE claim_id = ?',
        [claim.id],
      ),
      sent: await tx.row<{ n: number }>('SELECT COUNT(*) AS n FROM sandbox_payouts'),
    }));
  worker.start();
  try {
    await worker.idle();
    // Within the lease the payout is the dead engine's: not sent, however often the worker looks.
    clock.now += leaseMs - 1;
    await runOnce();
    expect(await state()).toEqual({ payout: { id: payoutId, state: 'processing' }, sent: { n: 0 } });
    // The lease is over: the other engine sends it, under the same payout id, once.
    clock.now += 1;
    await runOnce();
    expect(await state()).toEqual({ payout: { id: payoutId, state: 'paid' }, sent: { n: 1 } });
  } finally {
    await worker.stop();
  }
});
