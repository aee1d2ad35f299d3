// CPU cost of one earn, the figure to judge an engine change by on a shared machine (throughput
// moves with whatever else runs; CPU time per operation barely does). Prints, for the direct domain
// call and for seed 002's earn over HTTP (engine in its own process, 64 clients, sync=FULL):
// microseconds of engine CPU per earn, and SQL statements per earn (a separate, traced run). With
// `stores`: one `engine serve` process on a SQLite file and one on PostgreSQL, both held to one rate
// (an engine's CPU per earn falls as its rate rises, more requests sharing each wake-up, so stores
// are compared at the same rate), the engine's CPU per earn on each and the server's on PostgreSQL.
//   npx tsx bench/cpu-cost.ts [--earns 20000] [--http-seconds 5] [--only domain,http,stores] [--rate 1300]
import { join } from 'node:path';
import { startPostgresServer } from '../test/fixtures/postgres-server.ts';
import { cpuPerEarn, measureEngines } from './central-earn.ts';
import { loadHttpEarns, startEngineProcess } from './http-earn.ts';
import { createPostgresDatabase } from './load/database.ts';
import { writeEngineConfig } from './load/setup.ts';
import { postgresCpuSeconds } from './proc-cpu.ts';
import { benchTempDir, closedLoop, domainEarn, log, openBenchEngine, removeDir } from './setup.ts';
import { installSqlTrace, type TraceReport } from './sql-trace.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const earns = Number(arg('earns', '20000'));
const httpSeconds = Number(arg('http-seconds', '5'));
const only = arg('only', 'domain,http').split(',');
/** About row 12's rate at 1 engine on PostgreSQL, so both stores run at what PostgreSQL reaches. */
const rate = Number(arg('rate', '1300'));
const IN_FLIGHT = 64;

/** Statements per earn: every prepared-statement call and exec (SAVEPOINT, COMMIT, ...) counted. */
const statementsPer = (t: TraceReport, n: number) => t.statements.reduce((a, s) => a + s.calls, 0) / n;
const topStatements = (t: TraceReport, n: number) =>
  t.statements
    .sort((a, b) => b.calls - a.calls)
    .map(
      (s) =>
        `  ${(s.calls / n).toFixed(2).padStart(6)} x ${s.usPerCall.toFixed(1).padStart(6)} us  ${s.sql.slice(0, 100)}`,
    )
    .join('\n');

async function domainCost(): Promise<void> {
  const b = await openBenchEngine({ synchronous: 'FULL' });
  try {
    // Warm-up: every member exists afterwards, as in a till's steady state.
    await closedLoop(IN_FLIGHT, { total: 5_000 }, (i) => domainEarn(b, i, 'warm'));
    const cpu0 = process.cpuUsage();
    const r = await closedLoop(IN_FLIGHT, { total: earns }, (i) => domainEarn(b, i, 'cost'));
    const cpu = process.cpuUsage(cpu0);
    const us = (cpu.user + cpu.system) / r.ops;
    process.stdout.write(
      `domain FULL: ${us.toFixed(0)} us CPU/earn (user ${(cpu.user / r.ops).toFixed(0)}, system ${(cpu.system / r.ops).toFixed(0)}), ` +
        `${r.perSecond.toFixed(0)} earns/s, ${r.ops} earns\n`,
    );
    const trace = installSqlTrace();
    const t = await closedLoop(IN_FLIGHT, { total: 2_000 }, (i) => domainEarn(b, i, 'traced'));
    const report = trace();
    process.stdout.write(
      `domain: ${statementsPer(report, t.ops).toFixed(2)} statements/earn, ${report.jobsPerCommit.mean.toFixed(1)} earns/commit\n` +
        `${topStatements(report, t.ops)}\n`,
    );
  } finally {
    await b.close();
  }
}

async function httpCost(): Promise<void> {
  for (const traced of [false, true]) {
    const engine = await startEngineProcess('FULL', { trace: traced });
    try {
      await loadHttpEarns([engine.target], engine.cpuSeconds, 16, 1, 'warm');
      if (traced) await engine.trace();
      const r = await loadHttpEarns(
        [engine.target],
        engine.cpuSeconds,
        IN_FLIGHT,
        traced ? 2 : httpSeconds,
        'cost',
      );
      if (traced) {
        const report = await engine.trace();
        if (report)
          process.stdout.write(
            `http: ${statementsPer(report, r.ok).toFixed(2)} statements/earn, ${report.jobsPerCommit.mean.toFixed(1)} earns/commit, ` +
              `commit ${report.commitMs.mean.toFixed(2)} ms mean ${report.commitMs.p99.toFixed(2)} ms p99, ${r.perSecond.toFixed(0)} earns/s traced\n`,
          );
      } else {
        const engineUs = ((r.engineCpu ?? NaN) * r.seconds * 1e6) / r.ok;
        const loadgenUs = (r.loadgenCpu * r.seconds * 1e6) / r.ok;
        process.stdout.write(
          `http FULL ${IN_FLIGHT} clients: engine ${engineUs.toFixed(0)} us CPU/earn, load generator ${loadgenUs.toFixed(0)} us/earn, ` +
            `${r.perSecond.toFixed(0)} earns/s p99 ${r.p99Ms.toFixed(1)} ms, others ${((r.othersCpu ?? NaN) * 100).toFixed(0)}% of a core\n`,
        );
      }
    } finally {
      await engine.stop();
    }
  }
}

async function storesCost(): Promise<void> {
  const dir = benchTempDir(undefined, 'cost');
  const configFile = join(dir, 'engine.json');
  writeEngineConfig(configFile, undefined, dir);
  // fsync and synchronous_commit on, as in row 12.
  const server = await startPostgresServer({ durable: true });
  try {
    const opts = { seconds: httpSeconds, warmupSeconds: 2, rate };
    const dataDir = join(server.dir, 'data');
    const runs = [
      {
        store: 'PostgreSQL',
        outcome: await measureEngines(
          await createPostgresDatabase(server, 'cost'),
          1,
          configFile,
          dir,
          opts,
          () => postgresCpuSeconds(dataDir),
        ),
      },
      {
        store: 'SQLite FULL',
        outcome: await measureEngines(join(dir, 'cost.sqlite'), 1, configFile, dir, opts),
      },
    ];
    for (const { store, outcome } of runs) {
      const { engineUs, postgresUs } = cpuPerEarn(outcome);
      const { load } = outcome;
      process.stdout.write(
        `stores ${store} at ${rate}/s: engine ${engineUs ?? '?'} us CPU/earn` +
          (postgresUs !== undefined ? `, PostgreSQL ${postgresUs} us CPU/earn` : '') +
          `, ${load.perSecond.toFixed(0)} earns/s p99 ${load.p99Ms.toFixed(1)} ms, failed ${load.non2xx + load.errors}\n`,
      );
    }
  } finally {
    await server.stop();
    removeDir(dir);
  }
}

if (only.includes('domain')) await domainCost();
if (only.includes('http')) await httpCost();
if (only.includes('stores')) await storesCost();
log('done');
