// The sandbox payout provider on a real SQLite file, and the worker's retry schedule: outcomes by
// test amount and card, the first outcome again for a resubmitted payout id (also from a second
// provider instance on the same file, as after a restart), latency, and the backoff's bounds.
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PayoutUnavailable, type PayoutRequest } from '../../engine/payouts/provider.ts';
import { createSandboxProvider } from '../../engine/payouts/sandbox.ts';
import { retryDelay } from '../../engine/payouts/worker.ts';
import { openTestStore } from './fixtures/test-store.ts';
import type { Store } from '../../engine/store/store.ts';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-sandbox-'));
  store = await openTestStore(dir);
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
const request = (
  amount: number,
  method: PayoutRequest['method'] = { kind: 'paypal', email: 'a@example.com' },
) => ({
  payoutId: `po_test_${++n}`,
  amount,
  currency: 'AUD',
  method,
});

describe('sandbox provider', () => {
  it('answers each payout id with its first outcome, also from another instance on the same file', async () => {
    const sandbox = createSandboxProvider({ store });
    for (const [amount, status] of [
      [1000, 'paid'],
      [9001, 'failed'],
      [9003, 'unclaimed'],
      [9004, 'returned'],
    ] as const) {
      const r = request(amount);
      const first = await sandbox.submit(r);
      expect(first.status).toBe(status);
      expect(await sandbox.submit(r)).toEqual(first);
      expect(await createSandboxProvider({ store }).submit(r)).toEqual(first);
    }
    const declined = await sandbox.submit(
      request(1000, { kind: 'card', pan: '4000000000000002', expiry: '3012' }),
    );
    expect(declined).toMatchObject({ status: 'failed', failure: { code: 'card_declined' } });
    const notEligible = await sandbox.submit(
      request(1000, { kind: 'card', pan: '4000000000009995', expiry: '3012' }),
    );
    expect(notEligible).toMatchObject({ status: 'failed', failure: { code: 'card_not_eligible' } });
    const rows = await store.read((tx) =>
      tx.all<{ submissions: number }>('SELECT submissions FROM sandbox_payouts'),
    );
    expect(rows.map((r) => r.submissions)).toEqual([3, 3, 3, 3, 1, 1]);
  });

  it('pays a processing payout at the next status query, and is unreachable once for 9006', async () => {
    const sandbox = createSandboxProvider({ store });
    const slow = request(9005);
    expect((await sandbox.submit(slow)).status).toBe('processing');
    expect((await sandbox.status(slow.payoutId)).status).toBe('paid');
    expect((await sandbox.submit(slow)).status).toBe('paid');
    const flaky = request(9006);
    await expect(sandbox.submit(flaky)).rejects.toBeInstanceOf(PayoutUnavailable);
    expect((await sandbox.submit(flaky)).status).toBe('paid');
    expect((await sandbox.status('po_never_sent')).status).toBe('failed');
  });

  it('waits its configured latency before answering', async () => {
    const sandbox = createSandboxProvider({ store, latencyMs: 150 });
    const started = performance.now();
    await sandbox.submit(request(1000));
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('retry schedule', () => {
  it('doubles from the base to the cap, taking off at most 20% jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, base, max, random) => {
          const full = Math.min(max, base * 2 ** (attempt - 1));
          const delay = retryDelay(attempt, base, max, () => random);
          expect(delay).toBeLessThanOrEqual(Math.ceil(full));
          expect(delay).toBeGreaterThanOrEqual(Math.max(1, Math.floor(full * 0.8)));
        },
      ),
    );
    expect(retryDelay(1, 1_000, 60_000, () => 0)).toBe(1_000);
    expect(retryDelay(4, 1_000, 60_000, () => 0)).toBe(8_000);
    expect(retryDelay(30, 1_000, 60_000, () => 0)).toBe(60_000);
  });
});
