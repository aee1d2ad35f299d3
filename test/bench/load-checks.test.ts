// The load scenarios' checks can fail: after a short real load on one engine (SQLite), the same checks
// pass on what happened, and each fails on a record that lies about it (an acknowledgement the engine
// never gave; a wrong amount, in a balance and in the chain report; a refusal that was in fact
// applied), on a reference the database holds twice, and on a receiver that missed the events.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks, type CheckInput, type Verdict } from '../../bench/load/checks.ts';
import { tillClient } from '../../bench/load/client.ts';
import { startReceiver } from '../../bench/load/receiver.ts';
import { startRun, type Run } from '../../bench/load/scenario.ts';
import { runLoad, type LoadRecord } from '../../bench/load/workload.ts';
import type { Store } from '../../engine/store/store.ts';
import { testLogDir } from '../fixtures/test-log.ts';

const TIMEOUT_MS = 180_000;

let run: Run;
let store: Store;
let record: LoadRecord;

beforeAll(async () => {
  run = await startRun({
    store: 'sqlite',
    engines: 1,
    tills: 2,
    members: 3,
    logDir: join(testLogDir(), `load-checks-${process.pid}`),
  });
  record = await runLoad({
    urls: run.cluster.urls,
    tills: run.setup.tills,
    programId: run.setup.programId,
    members: run.members,
    inFlight: 2,
    seconds: 2,
    runId: run.runId,
    // Leave claims created: no payouts to wait for.
    completeShare: 0,
  });
  store = await run.openStore();
  // Every event the load recorded has reached the receiver before the checks read them.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const events = await store.read((tx) => tx.all<{ id: string }>('SELECT id FROM events'));
    if (events.every((e) => run.receiver.received.has(e.id)) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, TIMEOUT_MS);

afterAll(async () => {
  await store?.close();
  await run?.close(false);
});

function checks(overrides: Partial<CheckInput> = {}): Promise<Verdict[]> {
  return runChecks({
    store,
    admin: run.admin,
    members: run.members,
    programId: run.setup.programId,
    record,
    runId: run.runId,
    receiver: run.receiver,
    enginesDied: false,
    ...overrides,
  });
}

const verdict = (verdicts: Verdict[], check: string) => {
  const v = verdicts.find((x) => x.check === check);
  if (!v) throw new Error(`no verdict "${check}"`);
  return v;
};

const ONCE = 'every acknowledged operation present exactly once';
const BALANCES = 'balances equal the acknowledged operations';

describe('load checks', () => {
  it('pass on what the engine really did', async () => {
    expect(record.acked.length).toBeGreaterThan(0);
    const verdicts = await checks();
    expect(verdicts.filter((v) => !v.ok)).toEqual([]);
  });

  it('find an acknowledged operation missing from the database', async () => {
    const earn = record.acked.find((a) => a.kind === 'earn')!;
    const lying = { ...record, acked: [...record.acked, { ...earn, key: `${run.runId}-never-sent` }] };
    const v = verdict(await checks({ record: lying }), ONCE);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain('1 missing');
  });

  it('find a balance and a till in the chain report that differ from the acknowledged operations', async () => {
    const [first, ...rest] = record.acked;
    const lying = { ...record, acked: [{ ...first!, amount: first!.amount + 1 }, ...rest] };
    const verdicts = await checks({ record: lying });
    const v = verdict(verdicts, BALANCES);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain('1 differ');
    const report = verdict(verdicts, 'the chain report per till equals the acknowledged operations');
    expect(report.ok).toBe(false);
    expect(report.detail).toContain('1 differ');
  });

  it('find a refusal that was applied', async () => {
    const [first, ...rest] = record.acked;
    const lying = {
      ...record,
      acked: rest,
      refused: [
        ...record.refused,
        { kind: first!.kind, key: first!.key, status: 422, code: 'insufficient_balance' },
      ],
    };
    const v = verdict(await checks({ record: lying }), ONCE);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain('1 refused yet applied');
  });

  it('find a reference the database holds twice', async () => {
    // Two earns, two Idempotency-Keys, one reference: what a double delivery without the key would leave.
    const till = tillClient({ urls: run.cluster.urls, credentials: run.setup.tills[0]! });
    const reference = `${run.runId}-twice`;
    const body = {
      program_id: run.setup.programId,
      member: { id: run.members[0]!.id },
      purchase_amount: 2_000,
      reference,
    };
    const answers = await Promise.all(
      ['a', 'b'].map((k) => till.send('POST', '/v1/earn', { body, idempotencyKey: `${reference}-${k}` })),
    );
    for (const a of answers) expect(a.kind === 'answered' && a.answer.status).toBe(200);
    const v = verdict(await checks(), ONCE);
    expect(v.ok).toBe(false);
    expect(v.detail).toContain('1 twice');
  });

  it('find events the receiver never got', async () => {
    const deaf = await startReceiver();
    try {
      const v = verdict(
        await checks({ receiver: deaf }),
        'every webhook event received (deduplicated by id)',
      );
      expect(v.ok).toBe(false);
      expect(v.detail).toMatch(/[1-9]\d* missing/);
    } finally {
      await deaf.close();
    }
  });
});
