// pgbench, PostgreSQL's own benchmark, on the server the central row measures the engine against:
// `pgbench -i` (its four tables at a scale), then its built-in TPC-B-like script with C clients for
// S seconds, each transaction's latency written to a log (`-l`) from which p50/p99 are taken.
// pgbench is a client: it runs as whoever runs the bench, over TCP, like the engines.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pgBin } from '../test/fixtures/postgres-server.ts';
import { percentile } from './setup.ts';

const run = promisify(execFile);

/** What one pgbench transaction log holds: each transaction's latency, and how many did not complete. */
export interface PgbenchLog {
  latenciesUs: number[];
  /** Lines whose time is `failed` (serialization or deadlock errors) or `skipped` (behind a --rate). */
  notCompleted: number;
}

/**
 * Parses a per-transaction log written by `pgbench -l` (PostgreSQL 15 format: "client_id
 * transaction_no time script_no time_epoch time_us [schedule_lag] [retries]", time in µs or the
 * words failed/skipped). A line in another shape is an error naming its number: a figure from a
 * misread log would be worse than none.
 */
export function parsePgbenchLog(text: string): PgbenchLog {
  const latenciesUs: number[] = [];
  let notCompleted = 0;
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line === '' && i === lines.length - 1) return;
    const fields = line.split(' ');
    const [, , time] = fields;
    const numeric = fields.filter((_, f) => f !== 2);
    if (fields.length < 6 || fields.length > 8 || !numeric.every((f) => /^\d+$/.test(f))) {
      throw new Error(
        `pgbench log line ${i + 1} is not "client transaction time script epoch us": "${line}"`,
      );
    }
    if (time === 'failed' || time === 'skipped') notCompleted++;
    else if (time !== undefined && /^\d+$/.test(time)) latenciesUs.push(Number(time));
    else throw new Error(`pgbench log line ${i + 1}: the time is neither µs nor failed/skipped: "${line}"`);
  });
  return { latenciesUs, notCompleted };
}

/** The `tps = N (without initial connection time)` line of pgbench's summary. */
export function parsePgbenchTps(summary: string): number {
  const match = /^tps = (\d+(?:\.\d+)?) \(without initial connection time\)$/m.exec(summary);
  if (!match?.[1])
    throw new Error(`pgbench printed no "tps = ... (without initial connection time)":\n${summary}`);
  return Number(match[1]);
}

export interface PgbenchResult {
  tps: number;
  transactions: number;
  notCompleted: number;
  p50Ms: number;
  p99Ms: number;
  /** Seconds `pgbench -i` took (load, vacuum, primary keys). */
  initSeconds: number;
  /** CPU seconds the server used during the timed run, when the caller can read them. */
  serverCpuSeconds: number | undefined;
}

async function pgbench(args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(join(pgBin(), 'pgbench'), args, {
      timeout: 600_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return `${stdout}\n${stderr}`;
  } catch (error) {
    const e = error as { stderr?: string; message: string };
    throw new Error(`pgbench ${args[0] ?? ''} failed: ${e.stderr || e.message}`, { cause: error });
  }
}

/** `pgbench -i -s scale`, then the TPC-B-like script with `clients` for `seconds` on database `url`. */
export async function runPgbench(opts: {
  url: string;
  scale: number;
  clients: number;
  /** pgbench's own threads driving the clients. */
  jobs: number;
  seconds: number;
  /** Where the transaction logs go (a directory made and removed inside it). */
  dir: string;
  /** The server's CPU seconds so far (bench/postgres-cpu.ts), read around the timed run. */
  serverCpu?: () => number | undefined;
}): Promise<PgbenchResult> {
  const t0 = performance.now();
  await pgbench(['-i', '-q', '-s', String(opts.scale), opts.url]);
  const initSeconds = (performance.now() - t0) / 1000;
  const logs = mkdtempSync(join(opts.dir, 'pgbench-log-'));
  try {
    const cpu0 = opts.serverCpu?.();
    const summary = await pgbench([
      '-c',
      String(opts.clients),
      '-j',
      String(opts.jobs),
      '-T',
      String(opts.seconds),
      '-l',
      `--log-prefix=${join(logs, 'tx')}`,
      opts.url,
    ]);
    const cpu1 = opts.serverCpu?.();
    const tps = parsePgbenchTps(summary);
    // One log per pgbench thread.
    const parts = readdirSync(logs).map((file) => parsePgbenchLog(readFileSync(join(logs, file), 'utf8')));
    const latencies = parts.flatMap((part) => part.latenciesUs);
    const notCompleted = parts.reduce((n, part) => n + part.notCompleted, 0);
    if (latencies.length === 0) throw new Error(`pgbench wrote no transaction log in ${logs}`);
    return {
      tps,
      transactions: latencies.length,
      notCompleted,
      p50Ms: percentile(latencies, 50) / 1000,
      p99Ms: percentile(latencies, 99) / 1000,
      initSeconds,
      serverCpuSeconds: cpu0 === undefined || cpu1 === undefined ? undefined : cpu1 - cpu0,
    };
  } finally {
    rmSync(logs, { recursive: true, force: true });
  }
}
