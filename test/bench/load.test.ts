// Short runs of the load and fault scenarios (bench/load): real engine processes on a SQLite file and
// on a throwaway PostgreSQL server, 8 tills on a small shared pool of members over loopback HTTP, the
// webhook receiver checking signatures. Every check must pass: nothing acknowledged lost, nothing
// twice, no balance below zero, the ledger verified, every submitted claim paid, every event received.
// Figures are not asserted (a busy machine); the engines' logs go to the run's log directory, which
// is scanned for test PINs.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OPTIONS,
  runScenario,
  type ScenarioOptions,
  type ScenarioReport,
} from '../../bench/load/scenario.ts';
import { renderReport } from '../../bench/load/report.ts';
import { testLogDir } from '../fixtures/test-log.ts';

/** Engines compile at start (tsx), the load waits for payouts and webhooks: generous on 2 shared cores. */
const TIMEOUT_MS = 300_000;

function short(overrides: Partial<ScenarioOptions> & Pick<ScenarioOptions, 'scenario'>): ScenarioOptions {
  return {
    ...DEFAULT_OPTIONS,
    seconds: 5,
    tills: 8,
    inFlight: 2,
    members: 8,
    settleSeconds: 90,
    logDir: join(testLogDir(), `load-${overrides.scenario}-${overrides.store ?? 'sqlite'}-${process.pid}`),
    ...overrides,
  };
}

/** Every check passed, and the run did what the checks are about (else they would pass vacuously). */
function expectSound(report: ScenarioReport): void {
  const failed = report.verdicts.filter((v) => !v.ok);
  expect(failed, renderReport(report)).toEqual([]);
  const acked = (kind: string) => report.record.acked.filter((a) => a.kind === kind).length;
  expect(acked('earn')).toBeGreaterThan(0);
  expect(acked('redeem')).toBeGreaterThan(0);
  expect(acked('claim')).toBeGreaterThan(0);
  expect(report.record.acked.some((a) => a.submitted)).toBe(true);
  expect(report.verdicts.map((v) => v.check)).toEqual(
    expect.arrayContaining([
      'every acknowledged operation present exactly once',
      'no balance below zero',
      'ledger invariants (GET /v1/ledger/verify)',
      'balances equal the acknowledged operations',
      'the chain report per till equals the acknowledged operations',
      'every webhook event received (deduplicated by id)',
    ]),
  );
}

describe('load scenarios on SQLite (one engine process)', () => {
  it(
    'steady: 8 tills on shared members, every acknowledged operation once, balances and ledger right',
    async () => {
      const report = await runScenario(short({ scenario: 'steady' }));
      expectSound(report);
      expect(report.ok).toBe(true);
    },
    TIMEOUT_MS,
  );

  it(
    'kill: the engine SIGKILLed and restarted during the load loses and doubles nothing',
    async () => {
      const report = await runScenario(short({ scenario: 'kill', seconds: 10, killGapMs: [1_000, 2_500] }));
      expectSound(report);
      expect(report.chaos?.kills).toBeGreaterThan(0);
      // The tills saw the engine go away and retried with the same keys.
      expect(report.record.stats.retries).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );
});

describe('load scenarios on PostgreSQL (two engine processes)', () => {
  it(
    'kill: one of two engines SIGKILLed and restarted, the other keeps serving; nothing lost or doubled',
    async () => {
      const report = await runScenario(
        short({ scenario: 'kill', store: 'postgres', engines: 2, seconds: 10, killGapMs: [1_000, 2_500] }),
      );
      expectSound(report);
      expect(report.chaos?.kills).toBeGreaterThan(0);
    },
    TIMEOUT_MS,
  );

  it(
    "pg-restart: PostgreSQL restarted mid-load; nothing lost or doubled, and a till's outbox drains",
    async () => {
      const report = await runScenario(
        short({ scenario: 'pg-restart', store: 'postgres', engines: 2, seconds: 9 }),
      );
      expectSound(report);
      expect(report.restart?.outbox.duringOutage).toBeGreaterThan(0);
      expect(report.restart?.outbox.undelivered).toEqual([]);
    },
    TIMEOUT_MS,
  );
});
