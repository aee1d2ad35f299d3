// Diagnostics for the engine process (`--trace`): wraps better-sqlite3's statement and exec calls to
// time every SQL text, and counts write batches (SAVEPOINTs per COMMIT), so a profile's "time in
// SQLite" can be split by statement. Costs a few microseconds per call: trace runs are not figures.
import Database from 'better-sqlite3';

interface Stat {
  calls: number;
  ms: number;
}

export interface TraceReport {
  /** Wall time since the trace was installed or last reported, and the part of it spent in SQLite calls. */
  wallMs: number;
  sqlMs: number;
  commits: number;
  jobsPerCommit: { mean: number; max: number };
  commitMs: { mean: number; p99: number };
  statements: { sql: string; calls: number; ms: number; usPerCall: number }[];
}

export function installSqlTrace(): () => TraceReport {
  let stats = new Map<string, Stat>();
  let commitTimes: number[] = [];
  let batchSizes: number[] = [];
  let jobs = 0;
  let since = performance.now();
  const record = (sql: string, ms: number) => {
    const s = stats.get(sql) ?? { calls: 0, ms: 0 };
    s.calls++;
    s.ms += ms;
    stats.set(sql, s);
  };
  const probe = new Database(':memory:');
  const statementProto = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['get', 'all', 'run']) {
    const original = statementProto[method] as (...args: unknown[]) => unknown;
    statementProto[method] = function (this: { source: string }, ...args: unknown[]) {
      const t0 = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        record(this.source, performance.now() - t0);
        if (this.source === 'SAVEPOINT job') jobs++;
      }
    };
  }
  const dbProto = Database.prototype as unknown as Record<string, unknown>;
  const exec = dbProto['exec'] as (sql: string) => unknown;
  dbProto['exec'] = function (this: Database.Database, sql: string) {
    const t0 = performance.now();
    try {
      return exec.call(this, sql);
    } finally {
      const ms = performance.now() - t0;
      record(`exec ${sql.length > 60 ? `${sql.slice(0, 60)}...` : sql}`, ms);
      if (sql === 'COMMIT' && !this.readonly) {
        commitTimes.push(ms);
        batchSizes.push(jobs);
        jobs = 0;
      }
    }
  };
  /** The figures since the last call; resets them. */
  return () => {
    const sorted = [...commitTimes].sort((a, b) => a - b);
    const report: TraceReport = {
      wallMs: performance.now() - since,
      sqlMs: [...stats.values()].reduce((a, s) => a + s.ms, 0),
      commits: commitTimes.length,
      jobsPerCommit: {
        mean: batchSizes.reduce((a, b) => a + b, 0) / Math.max(1, batchSizes.length),
        max: Math.max(0, ...batchSizes),
      },
      commitMs: {
        mean: commitTimes.reduce((a, b) => a + b, 0) / Math.max(1, commitTimes.length),
        p99: sorted[Math.max(0, Math.ceil(sorted.length * 0.99) - 1)] ?? 0,
      },
      statements: [...stats]
        .map(([sql, s]) => ({
          sql: sql.replace(/\s+/g, ' '),
          calls: s.calls,
          ms: s.ms,
          usPerCall: (s.ms * 1000) / s.calls,
        }))
        .sort((a, b) => b.ms - a.ms),
    };
    stats = new Map();
    commitTimes = [];
    batchSizes = [];
    since = performance.now();
    return report;
  };
}
