// One load or fault scenario from start to verdicts: a fresh database (SQLite file or a throwaway
// PostgreSQL server), the webhook receiver, E engine processes, the tills' apps and the member pool,
// the load for D seconds (with the chaos loop in `kill`, a database restart and a till's outbox in
// `pg-restart`), then a bounded wait for payouts and webhooks and the checks. The run's files
// (database, engine config, engine logs) are in a temporary directory, removed unless kept or a
// check failed.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Store } from '../../engine/store/store.ts';
import { startChaos, type ChaosStats } from './chaos.ts';
import { runChecks, waitFor, waitForPayouts, waitForWebhooks, type Verdict } from './checks.ts';
import { tillClient, type TillClient } from './client.ts';
import { startCluster, type Cluster } from './cluster.ts';
import { createLoadDatabase, type LoadDatabase, type StoreKind } from './database.ts';
import { startOutboxTill, type OutboxOutcome } from './outbox-till.ts';
import { startReceiver, type Receiver } from './receiver.ts';
import {
  createLoadApps,
  createMembers,
  openLoadStore,
  writeEngineConfig,
  type LoadSetup,
  type Member,
} from './setup.ts';
import { runLoad, type LoadRecord } from './workload.ts';

export const SCENARIOS = ['steady', 'kill', 'pg-restart'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface RunOptions {
  store: StoreKind;
  engines: number;
  tills: number;
  members: number;
  /** Where the run's directory goes (default the OS temp dir). */
  baseDir?: string | undefined;
  /** Where the engines' logs go (default the run's directory). */
  logDir?: string | undefined;
  progress?: ((line: string) => void) | undefined;
}

export interface ScenarioOptions extends RunOptions {
  scenario: Scenario;
  seconds: number;
  /** Requests in flight per till. */
  inFlight: number;
  /** `kill`: the gap between two kills is drawn from this range. */
  killGapMs: [number, number];
  /** Longest wait for payouts, then for webhooks (and the outbox), after the load. */
  settleSeconds: number;
  keep?: boolean | undefined;
}

export const DEFAULT_OPTIONS: Omit<ScenarioOptions, 'scenario'> = {
  store: 'sqlite',
  seconds: 60,
  engines: 1,
  tills: 8,
  inFlight: 4,
  members: 12,
  killGapMs: [2_000, 6_000],
  settleSeconds: 90,
};

/** Everything a run has started, for the scenarios and for tests of the checks. */
export interface Run {
  dir: string;
  /** Prefix of every reference and Idempotency-Key of this run. */
  runId: string;
  database: LoadDatabase;
  receiver: Receiver;
  cluster: Cluster;
  setup: LoadSetup;
  admin: TillClient;
  members: Member[];
  /** The database as the CLI opens it (close it after use). */
  openStore(): Promise<Store>;
  /** Stops engines, receiver and database server; removes the directory unless `keep`. */
  close(keep: boolean): Promise<void>;
}

export async function startRun(o: RunOptions): Promise<Run> {
  const progress = o.progress ?? (() => {});
  const dir = mkdtempSync(join(o.baseDir ?? tmpdir(), 'tillback-load-'));
  const logDir = o.logDir ?? dir;
  mkdirSync(logDir, { recursive: true });
  const runId = randomBytes(4).toString('hex');
  const configFile = join(dir, 'engine.json');
  const started: { close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const s of started.reverse()) await s.close();
  };
  try {
    const receiver = await startReceiver();
    started.push(receiver);
    writeEngineConfig(configFile, receiver, dir);
    progress(`creating the ${o.store} database`);
    const database = await createLoadDatabase(o.store, dir);
    started.push(database);
    const openStore = () => openLoadStore(database.location, configFile);
    const setupStore = await openStore();
    const setup = await createLoadApps(setupStore, o.tills).finally(() => setupStore.close());
    progress(`starting ${o.engines} engine process(es) on ${database.label}`);
    const cluster = await startCluster({ db: database.location, configFile, engines: o.engines, logDir });
    started.push({ close: () => cluster.stop() });
    const admin = tillClient({ urls: cluster.urls, credentials: setup.admin });
    const members = await createMembers(admin, o.members, runId);
    return {
      dir,
      runId,
      database,
      receiver,
      cluster,
      setup,
      admin,
      members,
      openStore,
      async close(keep) {
        await closeAll();
        if (!keep) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await closeAll();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface ScenarioReport {
  options: ScenarioOptions;
  store: string;
  record: LoadRecord;
  chaos: ChaosStats | undefined;
  /** pg-restart: the restart, the engines' recovery and the till's outbox. */
  restart: RestartStats | undefined;
  /** Waited after the load for payouts and webhooks; false when the wait ran out. */
  settled: { payouts: boolean; webhooks: boolean; seconds: number };
  verdicts: Verdict[];
  ok: boolean;
  /** The run's directory when kept (by --keep, or because a check failed). */
  keptDir: string | undefined;
}

export interface RestartStats {
  /** How long `pg_ctl restart -m fast` took. */
  restartMs: number;
  /** From the server's return until every engine answered /health. */
  reconnectMs: number | undefined;
  /** Engine processes that exited from the restart until then (started again by the cluster). */
  enginesExited: number;
  outbox: OutboxOutcome;
  outboxDrained: boolean;
}

/** How often the outbox till queues an earn during `pg-restart`, and how many it queues at the outage. */
const OUTBOX_EARN_EVERY_MS = 250;
const OUTBOX_BURST = 10;

export async function runScenario(options: ScenarioOptions): Promise<ScenarioReport> {
  const progress = options.progress ?? (() => {});
  if (options.scenario === 'pg-restart' && options.store !== 'postgres') {
    throw new Error('pg-restart restarts PostgreSQL: run it with --store postgres');
  }
  const run = await startRun(options);
  let ok = false;
  try {
    const { cluster } = run;
    progress(
      `${options.scenario}: ${options.tills} tills x ${options.inFlight} in flight on ${options.engines} engine(s), ` +
        `${options.members} members, ${options.seconds} s`,
    );
    const exitsBefore = cluster.exits();
    const chaos =
      options.scenario === 'kill'
        ? startChaos(cluster, { minGapMs: options.killGapMs[0], maxGapMs: options.killGapMs[1] })
        : undefined;
    const fault = options.scenario === 'pg-restart' ? await startRestartFault(run, options) : undefined;
    const record = await runLoad({
      urls: cluster.urls,
      tills: run.setup.tills,
      programId: run.setup.programId,
      members: run.members,
      inFlight: options.inFlight,
      seconds: options.seconds,
      runId: run.runId,
    });
    const chaosStats = await chaos?.stop();
    const crashed = cluster.exits() - exitsBefore;
    // Every engine up again, as a supervisor would have it, for the outbox and the checks (the chaos
    // loop restarts the one it killed; one that exited by itself is counted above).
    for (let n = 0; n < cluster.urls.length; n++) if (!cluster.isRunning(n)) await cluster.start(n);
    const restart = await fault?.finish(options.settleSeconds * 1000);
    if (restart) record.acked.push(...restart.outbox.delivered);
    // Every acknowledged operation with its key and result, for a look after a failed check.
    writeFileSync(
      join(run.dir, 'acknowledged.jsonl'),
      record.acked.map((a) => JSON.stringify(a)).join('\n') + '\n',
    );

    progress(`load done (${record.acked.length} acknowledged); waiting for payouts and webhooks`);
    const store = await run.openStore();
    try {
      const t0 = Date.now();
      const enginesDied = crashed + (chaosStats?.kills ?? 0) + (restart?.enginesExited ?? 0) > 0;
      const payouts = await waitForPayouts(
        store,
        record,
        run.runId,
        options.settleSeconds * 1000,
        enginesDied,
      );
      const webhooks = await waitForWebhooks(store, run.receiver, options.settleSeconds * 1000);
      const settled = { payouts, webhooks, seconds: (Date.now() - t0) / 1000 };
      const verdicts = await runChecks({
        store,
        admin: run.admin,
        members: run.members,
        programId: run.setup.programId,
        record,
        runId: run.runId,
        receiver: run.receiver,
        enginesDied,
      });
      verdicts.push({
        check: 'no engine process exited by itself',
        ok: crashed === 0 && cluster.restartError === undefined,
        detail:
          `${crashed} exited during the load and were started again (logs: ${options.logDir ?? run.dir})` +
          `${cluster.restartError ? `; a restart failed: ${cluster.restartError}` : ''}`,
      });
      if (chaosStats) {
        verdicts.push({
          check: 'every killed engine restarted',
          ok: chaosStats.error === undefined && chaosStats.kills > 0,
          detail: `${chaosStats.kills} kills${chaosStats.error ? `; ${chaosStats.error}` : ''}`,
        });
      }
      if (restart) verdicts.push(...restartVerdicts(restart));
      ok = verdicts.every((v) => v.ok);
      return {
        options,
        store: run.database.label,
        record,
        chaos: chaosStats,
        restart,
        settled,
        verdicts,
        ok,
        keptDir: options.keep || !ok ? run.dir : undefined,
      };
    } finally {
      await store.close();
    }
  } finally {
    await run.close(Boolean(options.keep) || !ok);
  }
}

/**
 * pg-restart: a till's outbox queues an earn every OUTBOX_EARN_EVERY_MS throughout, and a third of
 * the way into the load PostgreSQL is restarted (`pg_ctl restart -m fast`), with a burst of earns
 * queued as it goes down. Afterwards: how long until every engine answered /health again, how many
 * exited instead (the cluster starts those again), and the outbox drained.
 */
async function startRestartFault(run: Run, options: ScenarioOptions) {
  const restartDatabase = run.database.restart;
  if (!restartDatabase) throw new Error('this database cannot be restarted');
  const outbox = await startOutboxTill({
    runDir: run.dir,
    url: run.cluster.urls[0]!,
    credentials: run.setup.outbox,
    programId: run.setup.programId,
    runId: run.runId,
    till: run.setup.tills.length,
  });
  const member = () => run.members[Math.floor(Math.random() * run.members.length)]!;
  const ticker = setInterval(() => void outbox.earn(member()), OUTBOX_EARN_EVERY_MS);
  const restarted = (async () => {
    await new Promise((resolve) => setTimeout(resolve, (options.seconds * 1000) / 3));
    const exitsBefore = run.cluster.exits();
    const t0 = Date.now();
    const restarting = restartDatabase();
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all(Array.from({ length: OUTBOX_BURST }, () => outbox.earn(member())));
    await restarting;
    const back = Date.now();
    const healthy = await waitFor(60_000, async () => (await allHealthy(run.cluster)) === true);
    return {
      outage: { from: t0, to: back },
      reconnectMs: healthy ? Date.now() - back : undefined,
      enginesExited: run.cluster.exits() - exitsBefore,
    };
  })();
  return {
    async finish(settleMs: number): Promise<RestartStats> {
      clearInterval(ticker);
      const { outage, reconnectMs, enginesExited } = await restarted;
      const outboxDrained = await outbox.drained(settleMs);
      const outcome = await outbox.outcome(outage);
      await outbox.close();
      return {
        restartMs: outage.to - outage.from,
        reconnectMs,
        enginesExited,
        outbox: outcome,
        outboxDrained,
      };
    },
  };
}

async function allHealthy(cluster: Cluster): Promise<boolean> {
  const answers = await Promise.all(
    cluster.urls.map((url) =>
      fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) }).then(
        (res) => res.ok,
        () => false,
      ),
    ),
  );
  return answers.every(Boolean);
}

function restartVerdicts(r: RestartStats): Verdict[] {
  return [
    {
      check: 'engines reconnected to PostgreSQL by themselves',
      ok: r.reconnectMs !== undefined && r.enginesExited === 0,
      detail:
        `restart took ${r.restartMs} ms; every engine answered /health ` +
        `${r.reconnectMs === undefined ? 'NOT within 60 s' : `${r.reconnectMs} ms after`}; ${r.enginesExited} engine processes exited instead (and were started again)`,
    },
    {
      check: "the till's outbox drained, each earn once",
      ok: r.outboxDrained && r.outbox.undelivered.length === 0 && r.outbox.duringOutage > 0,
      detail:
        `${r.outbox.queued} earns queued (${r.outbox.duringOutage} while PostgreSQL was down), ${r.outbox.delivered.length} delivered, ` +
        `${r.outbox.failedAttempts} failed attempts made again` +
        `${r.outbox.undelivered.length ? `; not delivered: ${r.outbox.undelivered.slice(0, 5).join(', ')}` : ''}`,
    },
  ];
}
