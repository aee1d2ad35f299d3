// CPU cost of one earn, the figure to judge an engine change by on a shared machine (throughput
// moves with whatever else runs; CPU time per operation barely does). Prints, for the direct domain
// call and for seed 002's earn over HTTP (engine in its own process, 64 clients, sync=FULL):
// microseconds of engine CPU per earn, and SQL statements per earn (a separate, traced run).
//   npx tsx bench/cpu-cost.ts [--earns 20000] [--http-seconds 5] [--only domain,http]
import { loadHttpEarns, startEngineProcess } from './http-earn.ts';
import { closedLoop, domainEarn, log, openBenchEngine } from './setup.ts';
import { installSqlTrace, type TraceReport } from './sql-trace.ts';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const earns = Number(arg('earns', '20000'));
const httpSeconds = Number(arg('http-seconds', '5'));
const only = arg('only', 'domain,http').split(',');
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

if (only.includes('domain')) await domainCost();
if (only.includes('http')) await httpCost();
log('done');
