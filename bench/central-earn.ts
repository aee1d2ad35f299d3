// Row 12: the central engine on PostgreSQL, read against PostgreSQL's own ceiling. One server started
// for the run with fsync and synchronous_commit on (a commit is on disk, as SQLite FULL's is; the test
// fixture turns both off), and on it, in this order: pgbench's TPC-B-like load (bench/pgbench.ts),
// then row 4's earns (seed 002 with real credentials, autocannon, the clients split evenly between the
// engines) against 1, 2 and 4 `engine serve` processes (bench/load/cluster.ts, what a chain runs),
// each count on a fresh database with freshly started engines, the ledger verified after over
// GET /v1/ledger/verify. Then the server is stopped and the same load runs against one engine on a
// SQLite file (FULL), so the two stores are compared by one driver in one run.
import { join } from 'node:path';
import pg from 'pg';
import { createApp } from '../engine/domain/apps.ts';
import { startPostgresServer, type PostgresServer } from '../test/fixtures/postgres-server.ts';
import { checkOneEarn, loadHttpEarns, type EarnTarget } from './http-earn.ts';
import { tillClient } from './load/client.ts';
import { startCluster } from './load/cluster.ts';
import { createPostgresDatabase } from './load/database.ts';
import { openLoadStore, writeEngineConfig } from './load/setup.ts';
import { runPgbench, type PgbenchResult } from './pgbench.ts';
import { postgresCpuSeconds, processCpuSeconds } from './proc-cpu.ts';
import { benchTempDir, createBenchTill, log, pct, removeDir } from './setup.ts';
import type { Row } from './table.ts';

/** Issue 7, point 4: at 4 engine processes, at least half of pgbench's tps as earns/s. */
export const CENTRAL_TARGET = { engines: 4, ratio: 0.5 } as const;
export const ENGINE_COUNTS = [1, 2, CENTRAL_TARGET.engines] as const;
/** Row 4's target load: 64 tills' requests in flight in all. */
const CLIENTS = 64;
/** pgbench's clients, and its scale at a full run (scale >= clients, as pgbench's manual advises). */
const PGBENCH_CLIENTS = 8;
/**
 * PostgreSQL connections of all the engines together, split evenly between them, so each engine count
 * puts the same concurrency on the database and only the number of processes changes. A pool of 10
 * per engine (the default) gave 40 backends at 4 engines on a 2-core server, and PostgreSQL's CPU per
 * earn rose by about 15% over 16 of them (measured: 577 against 672 µs, 1,407 against 1,272 earns/s).
 */
const DB_CONNECTIONS = 16;
/**
 * Warm-up per engine process, in multiples of the run's warm-up (1 s in a full run). Row 12 measures
 * engines as a chain runs them, for days: V8 goes on optimising for a while, and after 8 s of warm-up
 * at 4 engines three 10 s windows in a row read 713, 677 and 645 µs of engine CPU per earn.
 */
const WARMUP_PER_ENGINE = 5;

/** How long a measurement of engines runs, and at what rate (bench/cpu-cost.ts caps it). */
export interface LoadOptions {
  seconds: number;
  warmupSeconds: number;
  /** Earns per second over all engines; unset: as fast as 64 clients go. */
  rate?: number;
}

export interface CentralOptions extends LoadOptions {
  /** 8 in a full run (one branch row per client); 1 with --quick (a faster `pgbench -i`). */
  pgbenchScale: number;
  baseDir?: string | undefined;
}

export interface EnginesOutcome {
  load: Awaited<ReturnType<typeof loadHttpEarns>>;
  /** CPU seconds PostgreSQL used during the load (undefined on SQLite, or without /proc). */
  postgresCpuSeconds: number | undefined;
  ledger: { ok: boolean; transfers: number; problems: string[] };
  /** PostgreSQL: what the engines' connections were doing during the load. */
  waits: ConnectionWaits | undefined;
}

/** The engines' connections running a statement (state active), sampled from pg_stat_activity every 100 ms. */
interface ConnectionWaits {
  samples: number;
  /** Mean connections running a statement or waiting inside PostgreSQL. */
  active: number;
  /** Mean of those waiting for a row lock another transaction holds (wait_event_type Lock). */
  onLock: number;
  /** Mean of those waiting for the WAL to be written or flushed (wait events named WAL...). */
  onWal: number;
  /** The statement most often seen waiting on a lock (its text: PostgreSQL shows no parameters). */
  topLockWait: string | undefined;
  /**
   * Write transactions begun on the server meanwhile (transaction ids taken): earns run together
   * share one (engine/store/postgres.ts), so earns over this says how many shared one on average.
   */
  writeTransactions: number;
}

/**
 * Samples pg_stat_activity while the load runs, to tell a database at its hardware's limit (commits
 * waiting on the WAL's fsync) from transactions queued behind one row (waiting on a lock).
 */
function sampleWaits(url: string): { stop(): Promise<ConnectionWaits> } {
  const client = new pg.Client({ connectionString: url });
  let stopped = false;
  const totals = { samples: 0, active: 0, onLock: 0, onWal: 0 };
  const lockWaits = new Map<string, number>();
  // Kept until stop(): a sampler that failed must not end the bench before the load has finished.
  let failure: unknown;
  // Taking an id makes this transaction a writer too: one more than the engines', negligible.
  const transactionId = async () =>
    Number((await client.query<{ id: string }>('SELECT pg_current_xact_id()::text AS id')).rows[0]!.id);
  let firstId: number | undefined;
  let lastId: number | undefined;
  const loop = (async () => {
    await client.connect();
    firstId = await transactionId();
    while (!stopped) {
      const { rows } = await client.query<{
        wait_event_type: string | null;
        wait_event: string | null;
        query: string;
      }>(
        `SELECT wait_event_type, wait_event, query FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'active'`,
      );
      totals.samples++;
      totals.active += rows.length;
      for (const row of rows) {
        if (row.wait_event?.startsWith('WAL')) totals.onWal++;
        if (row.wait_event_type !== 'Lock') continue;
        totals.onLock++;
        lockWaits.set(row.query, (lockWaits.get(row.query) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    lastId = await transactionId();
    await client.end();
  })().catch((error: unknown) => {
    failure = error;
    void client.end().catch(() => {});
  });
  return {
    async stop() {
      stopped = true;
      await loop;
      if (failure) throw new Error('sampling pg_stat_activity failed', { cause: failure });
      const mean = (x: number) => (totals.samples ? x / totals.samples : NaN);
      return {
        samples: totals.samples,
        active: mean(totals.active),
        onLock: mean(totals.onLock),
        onWal: mean(totals.onWal),
        topLockWait: [...lockWaits].sort((a, b) => b[1] - a[1])[0]?.[0],
        writeTransactions: (lastId ?? NaN) - (firstId ?? NaN) - 1,
      };
    },
  };
}

/**
 * Starts `engines` engine processes on database `db` (a fresh one), creates the bench till and an
 * admin app there, warms up, measures, verifies the ledger over HTTP and stops the engines.
 */
export async function measureEngines(
  db: string,
  engines: number,
  configFile: string,
  logDir: string,
  opts: LoadOptions,
  serverCpu?: () => number | undefined,
): Promise<EnginesOutcome> {
  const store = await openLoadStore(db, configFile);
  const { till, admin } = await (async () => {
    try {
      const created = await createBenchTill(store);
      const { app, secret } = await store.transact((tx) =>
        createApp(tx, { name: 'bench admin', scopes: ['admin'] }, Date.now()),
      );
      return { till: created, admin: { appId: app.appId, secret } };
    } finally {
      await store.close();
    }
  })();
  const cluster = await startCluster({
    db,
    configFile,
    engines,
    logDir,
    poolSize: Math.ceil(DB_CONNECTIONS / engines),
  });
  try {
    const targets: EarnTarget[] = cluster.urls.map((url) => ({ url, ...till }));
    for (const [n, target] of targets.entries()) await checkOneEarn(target, n);
    const engineCpu = () => {
      const each = targets.map((_, n) => processCpuSeconds(cluster.pid(n)));
      return each.every((s) => s !== undefined) ? each.reduce((a, b) => a + b, 0) : undefined;
    };
    // Each process compiles its own hot code (V8's JIT is per process): with four engines sharing the
    // warm-up each got a quarter of one, and the first seconds measured compiling (row 12 read 30% low).
    await loadHttpEarns(
      targets,
      engineCpu,
      CLIENTS,
      opts.warmupSeconds * WARMUP_PER_ENGINE * engines,
      'warm',
      opts.rate,
    );
    const sampler = db.startsWith('postgres://') ? sampleWaits(db) : undefined;
    let waits: ConnectionWaits | undefined;
    let load: EnginesOutcome['load'];
    const cpu0 = serverCpu?.();
    let cpu1: number | undefined;
    try {
      load = await loadHttpEarns(targets, engineCpu, CLIENTS, opts.seconds, 'central', opts.rate);
      cpu1 = serverCpu?.();
    } finally {
      waits = await sampler?.stop();
    }
    const verify = await tillClient({ urls: cluster.urls, credentials: admin }).send(
      'GET',
      '/v1/ledger/verify',
    );
    if (verify.kind !== 'answered' || verify.answer.status !== 200) {
      throw new Error(
        `GET /v1/ledger/verify: ${verify.kind === 'answered' ? JSON.stringify(verify.answer) : verify.lastError}`,
      );
    }
    const report = verify.answer.body as { ok: boolean; transfers: number; problems: { message: string }[] };
    return {
      load,
      postgresCpuSeconds: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
      waits,
      ledger: { ok: report.ok, transfers: report.transfers, problems: report.problems.map((p) => p.message) },
    };
  } finally {
    await cluster.stop();
  }
}

const microseconds = (seconds: number | undefined, count: number) =>
  seconds === undefined || count === 0 ? undefined : Math.round((seconds * 1e6) / count);

/** CPU microseconds per earn the engines and (on PostgreSQL) the server used during the load. */
export function cpuPerEarn(outcome: EnginesOutcome): { engineUs?: number; postgresUs?: number } {
  const { load, postgresCpuSeconds } = outcome;
  return {
    engineUs: microseconds(load.engineCpu === undefined ? undefined : load.engineCpu * load.seconds, load.ok),
    postgresUs: microseconds(postgresCpuSeconds, load.ok),
  };
}

/**
 * CPU per operation, which a shared machine skews far less than throughput: the engines' per earn,
 * PostgreSQL's per earn and per pgbench transaction, and what their ratio says PostgreSQL's CPU
 * alone would allow, as a multiple of pgbench's tps, once the engines run on cores of their own
 * (as a chain's would): on 2 cores the engines take half the machine from the database.
 */
function operationCosts(outcome: EnginesOutcome, pgbench: PgbenchResult) {
  const { engineUs, postgresUs } = cpuPerEarn(outcome);
  const pgbenchUs = microseconds(pgbench.serverCpuSeconds, pgbench.transactions);
  return {
    engineUs,
    postgresUs,
    pgbenchUs,
    postgresCeiling: postgresUs && pgbenchUs ? pgbenchUs / postgresUs : undefined,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`;

function engineRow(
  store: 'PostgreSQL' | 'SQLite',
  engines: number,
  outcome: EnginesOutcome,
  pgbench: PgbenchResult,
): Row {
  const { load, ledger, waits } = outcome;
  const ratio = load.perSecond / pgbench.tps;
  const cost = operationCosts(outcome, pgbench);
  const failed = load.non2xx + load.errors;
  const isTarget = store === 'PostgreSQL' && engines === CENTRAL_TARGET.engines;
  const verdicts = [
    ...(isTarget ? [ratio >= CENTRAL_TARGET.ratio && failed === 0 ? 'PASS' : 'MISS'] : []),
    ...(ledger.ok ? [] : [`LEDGER: ${ledger.problems.length} problems`]),
  ];
  const others = store === 'PostgreSQL' ? 'others (PostgreSQL among them)' : 'others';
  const cpu = `CPU: engines ${pct(load.engineCpu)}, load generator ${pct(load.loadgenCpu)}, ${others} ${pct(load.othersCpu)}`;
  log(
    `central ${store} ${plural(engines, 'engine')}: ${load.perSecond.toFixed(0)} earns/s p50 ${load.p50Ms.toFixed(1)} ms ` +
      `p99 ${load.p99Ms.toFixed(1)} ms, ${ratio.toFixed(2)}x pgbench, ledger ${ledger.ok ? 'ok' : 'PROBLEMS'} ` +
      `(${ledger.transfers} transfers), ${cpu}${failed ? ` (failed ${failed}: ${load.firstFailure ?? ''})` : ''}`,
  );
  return {
    id: store === 'SQLite' ? 'central-sqlite' : `central-pg-${engines}`,
    group: 12,
    name: `central seed 002 earn on ${store}`,
    setting: `${plural(engines, 'engine')}, ${CLIENTS} clients${store === 'SQLite' ? ', sync=FULL' : `, ${DB_CONNECTIONS} connections`}`,
    figure: load.perSecond,
    unit: 'earns/s',
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    against:
      `${ratio.toFixed(2)}x pgbench's ${Math.round(pgbench.tps).toLocaleString('en-US')} tps` +
      (isTarget ? ` (target >= ${CENTRAL_TARGET.ratio}x at ${CENTRAL_TARGET.engines} engines)` : '') +
      (store === 'PostgreSQL' ? `; ${Math.round(load.perSecond / engines)}/s per engine` : '') +
      (cost.engineUs !== undefined ? `; CPU per earn: engines ${cost.engineUs} µs` : '') +
      (cost.postgresUs !== undefined
        ? `, PostgreSQL ${cost.postgresUs} µs` +
          (cost.pgbenchUs !== undefined && cost.postgresCeiling !== undefined
            ? ` (${cost.pgbenchUs} µs a pgbench transaction: with the engines on cores of their own, ` +
              `PostgreSQL's CPU would allow ${cost.postgresCeiling.toFixed(2)}x pgbench)`
            : '')
        : '') +
      (waits
        ? `; busy connections ${waits.active.toFixed(1)}: ${waits.onLock.toFixed(1)} waiting on a row lock` +
          (waits.topLockWait ? ` (mostly at "${waits.topLockWait.slice(0, 40)}")` : '') +
          `, ${waits.onWal.toFixed(1)} on the WAL` +
          (waits.writeTransactions > 0
            ? `; ${(load.ok / waits.writeTransactions).toFixed(1)} earns a transaction`
            : '')
        : '') +
      `; ${cpu}`,
    ...(verdicts.length ? { verdict: verdicts.join(' ') } : {}),
    samples: load.ok,
    errors: failed,
    details: {
      non2xx: load.non2xx,
      errors: load.errors,
      timeouts: load.timeouts,
      firstFailure: load.firstFailure,
      engineCpu: load.engineCpu,
      loadgenCpu: load.loadgenCpu,
      othersCpu: load.othersCpu,
      ratioToPgbench: ratio,
      cpuPerEarnUs: cost,
      waits,
      ledgerTransfers: ledger.transfers,
      ledgerProblems: ledger.problems.slice(0, 10),
    },
  };
}

export async function benchCentralEarn(opts: CentralOptions): Promise<Row[]> {
  const dir = benchTempDir(opts.baseDir, 'central');
  const configFile = join(dir, 'engine.json');
  // Every secret given, so engines starting together never race to generate a secrets file.
  writeEngineConfig(configFile, undefined, dir);
  let server: PostgresServer | undefined;
  try {
    server = await startPostgresServer({ durable: true });
    const dataDir = join(server.dir, 'data');
    const serverCpu = () => postgresCpuSeconds(dataDir);
    log(`central: pgbench -i -s ${opts.pgbenchScale}, then ${PGBENCH_CLIENTS} clients for ${opts.seconds} s`);
    const pgbench = await runPgbench({
      url: await createPostgresDatabase(server, 'pgbench'),
      scale: opts.pgbenchScale,
      clients: PGBENCH_CLIENTS,
      jobs: 2,
      seconds: opts.seconds,
      dir,
      serverCpu,
    });
    log(
      `central pgbench: ${pgbench.tps.toFixed(0)} tps p50 ${pgbench.p50Ms.toFixed(2)} ms p99 ${pgbench.p99Ms.toFixed(2)} ms ` +
        `(init ${pgbench.initSeconds.toFixed(1)} s)`,
    );
    const rows: Row[] = [
      {
        id: 'central-pgbench',
        group: 12,
        name: 'pgbench TPC-B-like on PostgreSQL',
        setting: `${PGBENCH_CLIENTS} clients, scale ${opts.pgbenchScale}`,
        figure: pgbench.tps,
        unit: 'tps',
        p50Ms: pgbench.p50Ms,
        p99Ms: pgbench.p99Ms,
        against: `the server's own ceiling: fsync and synchronous_commit on, the engines' server; DESIGN.md measured about 4,000 tps`,
        ...(pgbench.notCompleted ? { verdict: `${pgbench.notCompleted} not completed` } : {}),
        samples: pgbench.transactions,
        errors: pgbench.notCompleted,
        details: { initSeconds: pgbench.initSeconds, scale: opts.pgbenchScale, clients: PGBENCH_CLIENTS },
      },
    ];
    for (const engines of ENGINE_COUNTS) {
      log(
        `central: ${plural(engines, 'engine process')} on PostgreSQL, ${CLIENTS} clients, ${opts.seconds} s`,
      );
      const db = await createPostgresDatabase(server, `central_${engines}`);
      rows.push(
        engineRow(
          'PostgreSQL',
          engines,
          await measureEngines(db, engines, configFile, dir, opts, serverCpu),
          pgbench,
        ),
      );
    }
    // The SQLite engine gets the machine without a PostgreSQL server (checkpoints, autovacuum) beside it.
    await server.stop();
    server = undefined;
    log(`central: 1 engine process on SQLite (FULL), ${CLIENTS} clients, ${opts.seconds} s`);
    const sqlite = await measureEngines(join(dir, 'central.sqlite'), 1, configFile, dir, opts);
    rows.push(engineRow('SQLite', 1, sqlite, pgbench));
    return rows;
  } finally {
    await server?.stop();
    removeDir(dir);
  }
}
