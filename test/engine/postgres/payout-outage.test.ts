// A payout whose retry could not be written (the database went away just then) goes again after its
// backoff, not after its PostgreSQL lease (payouts.leaseSeconds, minutes): the worker keeps the retry and
// writes it as soon as the database answers. The failing write is injected at the store's edge, the
// rest is real: PostgreSQL, the lease, the sandbox provider's scripted outage (amount 9006).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { loadEngineConfig } from '../../../engine/config.ts';
import { createApp } from '../../../engine/domain/apps.ts';
import { createClaim, submitClaim } from '../../../engine/domain/claims.ts';
import { domainContext } from '../../../engine/domain-context.ts';
import { createPayoutProviders } from '../../../engine/payouts/providers.ts';
import { createPayoutWorker } from '../../../engine/payouts/worker.ts';
import type { Store } from '../../../engine/store/store.ts';
import { openTestStore, type TestStore } from '../fixtures/test-store.ts';

let dir: string;
let store: TestStore;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-payout-outage-'));
  store = await openTestStore(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('writes a payout retry the database refused once it answers, and pays within the backoff', async () => {
  // The third transaction of the worker's first run is the retry after the provider's outage.
  let transactions = 0;
  const flaky: Store = {
    ...store,
    transact: (work) =>
      ++transactions === 3
        ? Promise.reject(new Error('Connection terminated unexpectedly'))
        : store.transact(work),
  };
  const config = loadEngineConfig({ environment: {}, overrides: { secretsFile: join(dir, 'secrets.json') } });
  const ctx = domainContext(flaky, config);
  const appId = (await store.transact((tx) => createApp(tx, { name: 'till', scopes: [] }, ctx.now()))).app
    .appId;
  const claim = await createClaim(
    ctx,
    {
      appId,
      funding: { kind: 'store', currency: 'AUD' },
      amount: 9006,
      storeName: 'Corner Store',
      methods: ['au_bank'],
    },
    undefined,
  );
  transactions = 0;
  await submitClaim(ctx, claim.id, {
    method: { kind: 'au_bank', bsb: '062000', account: '12345678' },
    consent: true,
  });
  transactions = 0;

  const errors: string[] = [];
  const worker = createPayoutWorker({
    ctx,
    providers: createPayoutProviders(
      { provider: { au_bank: 'sandbox' }, sandboxLatencyMs: 0 },
      { store, now: ctx.now },
    ),
    retryBaseMs: 50,
    retryMaxMs: 50,
    pollIntervalMs: 50,
    leaseMs: config.payouts.leaseSeconds * 1000,
    tickMs: 50,
    onError: (error) => errors.push((error as Error).message),
  });
  worker.start();
  try {
    await vi.waitFor(
      async () =>
        expect(
          await store.read((tx) =>
            tx.one<{ state: string }>('SELECT state FROM payouts WHERE claim_id = ?', [claim.id]),
          ),
        ).toEqual({ state: 'paid' }),
      { timeout: 15_000, interval: 100 },
    );
  } finally {
    await worker.stop();
  }
  expect(errors).toEqual(['Connection terminated unexpectedly']);
});
