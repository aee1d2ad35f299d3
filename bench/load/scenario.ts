// One load or fault scenario from start to verdicts: a fresh database, the webhook receiver, E engine
// processes, the tills' apps and the member pool, the load for D seconds (with the chaos loop in
// `kill`), then a bounded wait for payouts and webhooks and the checks. The run's files (database,
// engine config, engine logs) are in a temporary directory, removed unless kept or something failed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChaos, type ChaosStats } from './chaos.ts';
import { runChecks, waitForPayouts, waitForWebhooks, type Verdict } from './checks.ts';
import { tillClient } from './client.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { startReceiver } from './receiver.ts';
import { createLoadApps, createMembers, openLoadStore, writeEngineConfig } from './setup.ts';
import { runLoad, type LoadRecord } from './workload.ts';

export const SCENARIOS = ['steady', 'kill'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  scenario: Scenario;
  seconds: number;
  engines: number;
  tills: number;
  /** Requests in flight per till. */
  inFlight: number;
  members: number;
  /** `kill`: the gap between two kills is drawn from this range. */
  killGapMs: [number, number];
  /** How long to wait for payouts, then for webhooks, after the load. */
  settleSeconds: number;
  /** Where the run's directory goes (default the OS temp dir). */
  baseDir?: string | undefined;
  /** Where the engines' logs go (default the run's directory). */
  logDir?: string | undefined;
  keep?: boolean;
  progress?: (line: string) => void;
}

export const DEFAULT_OPTIONS: Omit<ScenarioOptions, 'scenario'> = {
  seconds: 60,
  engines: 1,
  tills: 8,
  inFlight: 4,
  members: 12,
  killGapMs: [2_000, 6_000],
  settleSeconds: 90,
};

export interface ScenarioReport {
  options: ScenarioOptions;
  store: string;
  record: LoadRecord;
  chaos: ChaosStats | undefined;
  /** Seconds waited after the load for payouts and for webhooks; false when the wait ran out. */
  settled: { payouts: boolean; webhooks: boolean; seconds: number };
  verdicts: Verdict[];
  ok: boolean;
  /** The run's directory when kept (by --keep, or because a check failed). */
  keptDir: string | undefined;
}

export async function runScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const progress = options.progress ?? (() => {});
  const runDir = mkdtempSync(join(options.baseDir ?? tmpdir(), 'tillback-load-'));
  const runId = randomBytes(4).toString('hex');
  const db = join(runDir, 'engine.sqlite');
  const configFile = join(runDir, 'engine.json');
  const receiver = await startReceiver();
  let cluster: Cluster | undefined;
  let ok = false;
  try {
    writeEngineConfig(configFile, receiver, runDir);
    const setupStore = await openLoadStore(db, configFile);
    const setup = await createLoadApps(setupStore, options.tills).finally(() => setupStore.close());
    progress(`starting ${options.engines} engine(s) on ${db}`);
    cluster = await startCluster({
      db,
      configFile,
      engines: options.engines,
      logDir: options.logDir ?? runDir,
    });
    const admin = tillClient({ urls: cluster.urls, credentials: setup.admin });
    const members = await createMembers(admin, options.members, runId);

    progress(
      `${options.scenario}: ${options.tills} tills x ${options.inFlight} in flight, ${options.members} members, ${options.seconds} s`,
    );
    const chaos =
      options.scenario === 'kill'
        ? startChaos(cluster, { minGapMs: options.killGapMs[0], maxGapMs: options.killGapMs[1] })
        : undefined;
    const record = await runLoad({
      urls: cluster.urls,
      tills: setup.tills,
      programId: setup.programId,
      members,
      inFlight: options.inFlight,
      seconds: options.seconds,
      runId,
    });
    const chaosStats = await chaos?.stop();
    // Every engine up again for the checks (the chaos loop restarts the one it killed).
    for (let n = 0; n < cluster.urls.length; n++) if (!cluster.isRunning(n)) await cluster.start(n);

    progress(`load done (${record.acked.length} acknowledged); waiting for payouts and webhooks`);
    const store = await openLoadStore(db, configFile);
    try {
      const t0 = Date.now();
      const payouts = await waitForPayouts(store, record, runId, options.settleSeconds * 1000);
      const webhooks = await waitForWebhooks(store, receiver, options.settleSeconds * 1000);
      const settled = { payouts, webhooks, seconds: (Date.now() - t0) / 1000 };
      const verdicts = await runChecks({
        store,
        admin,
        members,
        programId: setup.programId,
        record,
        runId,
        receiver,
      });
      if (chaosStats) {
        verdicts.push({
          check: 'every killed engine restarted',
          ok: chaosStats.error === undefined && chaosStats.kills > 0,
          detail: `${chaosStats.kills} kills${chaosStats.error ? `; ${chaosStats.error}` : ''}`,
        });
      }
      ok = verdicts.every((v) => v.ok);
      return {
        options,
        store: `SQLite (${db})`,
        record,
        chaos: chaosStats,
        settled,
        verdicts,
        ok,
        keptDir: options.keep || !ok ? runDir : undefined,
      };
    } finally {
      await store.close();
    }
  } finally {
    await cluster?.stop();
    await receiver.close();
    if (!options.keep && ok) rmSync(runDir, { recursive: true, force: true });
  }
}
