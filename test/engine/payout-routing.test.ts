// The payout worker with providers per method kind, on a real SQLite file and the real sandbox: a payout
// goes to the provider of its method and keeps it; a method no provider pays fails before anything is
// sent (the hold given back); a payout whose provider is no longer configured waits, never fails.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadEngineConfig } from '../../engine/config.ts';
import { createApp } from '../../engine/domain/apps.ts';
import { createClaim, getClaim, submitClaim } from '../../engine/domain/claims.ts';
import type { DomainContext } from '../../engine/domain/context.ts';
import { startPayouts } from '../../engine/domain/payouts.ts';
import { domainContext } from '../../engine/domain-context.ts';
import { createPayoutProviders, type ProviderChoice } from '../../engine/payouts/providers.ts';
import type { PayoutMethod, PayoutMethodKind } from '../../engine/payouts/provider.ts';
import { createPayoutWorker } from '../../engine/payouts/worker.ts';
import { openTestStore } from './fixtures/test-store.ts';
import type { Store } from '../../engine/store/store.ts';

let dir: string;
let store: Store;
let ctx: DomainContext;
let appId: string;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-routing-'));
  store = await openTestStore(dir);
  const config = loadEngineConfig({ environment: {}, overrides: { secretsFile: join(dir, 'secrets.json') } });
  ctx = domainContext(store, config);
  appId = (await store.transact((tx) => createApp(tx, { name: 'till', scopes: [] }, ctx.now()))).app.appId;
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function worker(provider: ProviderChoice) {
  return createPayoutWorker({
    ctx,
    providers: createPayoutProviders({ provider, sandboxLatencyMs: 0 }, { store, now: ctx.now }),
    retryBaseMs: 60_000,
    retryMaxMs: 60_000,
    pollIntervalMs: 60_000,
    leaseMs: 60_000,
  });
}

async function submitted(methods: PayoutMethodKind[], method: PayoutMethod) {
  const claim = await createClaim(
    ctx,
    {
      appId,
      funding: { kind: 'store', currency: 'AUD' },
      amount: 2500,
      storeName: 'Corner Store',
      methods,
    },
    undefined,
  );
  await submitClaim(ctx, claim.id, { method, consent: true });
  return claim.id;
}
const payout = (claimId: string) =>
  store.read((tx) =>
    tx.row<{ provider: string; state: string; last_error: string | null; submitted_at: number | null }>(
      'SELECT provider, state, last_error, submitted_at FROM payouts WHERE claim_id = ?',
      [claimId],
    ),
  );
const bank: PayoutMethod = { kind: 'au_bank', bsb: '062000', account: '12345678' };
const paypal: PayoutMethod = { kind: 'paypal', email: 'jane@example.com' };

describe('payouts routed by method kind', () => {
  it('pays each method through the provider chosen for it, recorded on the payout', async () => {
    const id = await submitted(['au_bank'], bank);
    const w = worker({ au_bank: 'sandbox' });
    w.start();
    await w.idle();
    await w.stop();
    expect(await payout(id)).toMatchObject({ provider: 'sandbox', state: 'paid' });
    expect((await getClaim(ctx, id)).state).toBe('paid');
  });

  it('fails a payout whose method no provider pays, before anything is sent', async () => {
    const id = await submitted(['paypal'], paypal);
    const w = worker({ au_bank: 'sandbox' });
    w.start();
    await w.idle();
    await w.stop();
    expect(await payout(id)).toMatchObject({ provider: 'none', state: 'failed' });
    const claim = await getClaim(ctx, id);
    expect(claim.state).toBe('failed');
    expect(claim.failure).toEqual({
      code: 'no_provider',
      message: 'No configured payout provider pays by paypal',
    });
    const sent = await store.read((tx) => tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM sandbox_payouts'));
    expect(sent?.n).toBe(0);
  });

  it('keeps a payout started with a provider no longer configured waiting, never failed', async () => {
    const id = await submitted(['paypal'], paypal);
    // Started while PayPal paid PayPal accounts; the configuration has since dropped PayPal.
    await store.transact((tx) => startPayouts(tx, () => 'paypal', ctx.now()));
    const w = worker('sandbox');
    w.start();
    await w.idle();
    await w.stop();
    expect(await payout(id)).toMatchObject({
      provider: 'paypal',
      state: 'processing',
      last_error: 'the paypal provider is not configured',
    });
    expect((await getClaim(ctx, id)).state).toBe('processing');
  });
});
