// Shared pieces of the benchmarks: a fresh engine on a temporary SQLite file with one till app and
// one cashback program, the members earns are spread over, timing helpers and percentiles.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngineConfig, type EngineConfigInput } from '../engine/config.ts';
import { createApp } from '../engine/domain/apps.ts';
import { earn } from '../engine/domain/cashback.ts';
import type { DomainContext } from '../engine/domain/context.ts';
import { createProgram } from '../engine/domain/programs.ts';
import { createEngine, type Engine } from '../engine/server.ts';
import { openSqliteStore } from '../engine/store/sqlite.ts';
import type { Store } from '../engine/store/store.ts';

export type Synchronous = 'FULL' | 'NORMAL';

/** Where temporary files go: the same disk for the fsync, lowdb and SQLite figures. */
export function benchTempDir(base: string | undefined, prefix: string): string {
  return mkdtempSync(join(base ?? tmpdir(), `tillback-bench-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** How many distinct members the earns are spread over (created by email + member_name on first earn). */
export const MEMBERS = 1_000;
export const PROGRAM_CURRENCY = 'USD';

export const memberEmail = (i: number) => `member${i % MEMBERS}@bench.example`;
export const memberName = (i: number) => `Member ${i % MEMBERS}`;
/** Purchase amounts from 5.00 to 104.99, as decimal text the seed API receives. */
export const purchaseDecimal = (i: number) =>
  `${5 + ((i * 7919) % 100)}.${String((i * 31) % 100).padStart(2, '0')}`;

export interface BenchEngine {
  dir: string;
  store: Store & { path: string };
  engine: Engine;
  ctx: DomainContext;
  appId: string;
  secret: string;
  programId: number;
  close(opts?: { keepFiles?: boolean }): Promise<void>;
}

/**
 * Opens the store on `<dir>/engine.sqlite` (a fresh temp dir unless given), builds the engine the
 * way `npm run engine` does (config validated by loadEngineConfig) and creates a till app with a
 * rate limit high enough not to interfere, plus a 5% program, unless they exist already.
 */
export async function openBenchEngine(opts: {
  synchronous: Synchronous;
  dir?: string;
  baseDir?: string | undefined;
  maxBatch?: number;
  port?: number;
  existing?: { appId: string; secret: string; programId: number };
  /** Settings on top of the bench's own (e.g. webhook subscribers). */
  config?: EngineConfigInput;
}): Promise<BenchEngine> {
  const dir = opts.dir ?? benchTempDir(opts.baseDir, 'engine');
  try {
    return await open(dir, opts);
  } catch (error) {
    if (!opts.dir) removeDir(dir);
    throw error;
  }
}

async function open(dir: string, opts: Parameters<typeof openBenchEngine>[0]): Promise<BenchEngine> {
  const path = join(dir, 'engine.sqlite');
  const store = await openSqliteStore({
    path,
    synchronous: opts.synchronous,
    ...(opts.maxBatch !== undefined ? { maxBatch: opts.maxBatch } : {}),
  });
  const config = loadEngineConfig({
    environment: {},
    overrides: {
      host: '127.0.0.1',
      port: opts.port ?? 0,
      db: { path, synchronous: opts.synchronous },
      secretsFile: join(dir, 'secrets.json'),
      logLevel: 'warn',
      ...opts.config,
    },
  });
  const engine = await createEngine({ store, config, logger: false });
  const { appId, secret, programId } = opts.existing ?? (await createBenchTill(store));
  return {
    dir,
    store,
    engine,
    ctx: engine.ctx,
    appId,
    secret,
    programId,
    async close(closeOpts = {}) {
      await engine.close();
      await store.close();
      if (!closeOpts.keepFiles) removeDir(dir);
    },
  };
}

/**
 * The till app the earns come from (a rate limit high enough not to interfere) and the 5% program
 * they earn on, in any store: a SQLite file here, the PostgreSQL database of the central row.
 */
export async function createBenchTill(
  store: Store,
): Promise<{ appId: string; secret: string; programId: number }> {
  const now = Date.now();
  return store.transact(async (tx) => {
    const { app, secret } = await createApp(
      tx,
      { name: 'bench till', scopes: ['cashback_read', 'cashback_write'], rateLimitPerMinute: 1_000_000_000 },
      now,
    );
    const program = await createProgram(
      tx,
      { uniqueIdentifier: 'BENCH-5', name: 'Bench 5% card', currency: PROGRAM_CURRENCY, cashbackBps: 500 },
      now,
    );
    return { appId: app.appId, secret, programId: program.id };
  });
}

/** One earn through the domain function, as seed 002's route calls it (email + member_name, reference). */
export function domainEarn(
  b: Pick<BenchEngine, 'ctx' | 'appId' | 'programId'>,
  i: number,
  refPrefix: string,
) {
  return earn(b.ctx, {
    appId: b.appId,
    programId: b.programId,
    member: { email: memberEmail(i) },
    memberName: memberName(i),
    purchaseAmount: { decimal: purchaseDecimal(i) },
    reference: `${refPrefix}-${i}`,
    idempotency: { appId: b.appId, scope: 'seed002:earn', key: `${refPrefix}-${i}` },
  });
}

export interface LoadResult {
  ops: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Keeps `inFlight` operations running until `seconds` have passed (or `total` operations have
 * been started), each a fresh call of `op(i)` with a distinct i. Counts successes and latencies.
 */
export async function closedLoop(
  inFlight: number,
  limit: { seconds?: number; total?: number },
  op: (i: number) => Promise<unknown>,
  startAt = 0,
): Promise<LoadResult> {
  let next = startAt;
  let ok = 0;
  let errors = 0;
  let firstError: unknown;
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = limit.seconds !== undefined ? start + limit.seconds * 1000 : Infinity;
  const end = limit.total !== undefined ? startAt + limit.total : Infinity;
  async function worker() {
    while (performance.now() < deadline && next < end) {
      const i = next++;
      const t0 = performance.now();
      try {
        await op(i);
        ok++;
        latencies.push(performance.now() - t0);
      } catch (error) {
        errors++;
        firstError ??= error;
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  if (errors > 0 && ok === 0) throw firstError;
  return {
    ops: ok,
    seconds,
    perSecond: ok / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors,
  };
}

/** Nearest-rank percentile (sorts `values` in place). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank] ?? NaN;
}

/** Busy CPU seconds of the whole machine (all cores, from /proc/stat), or undefined off Linux. */
export function machineBusySeconds(): number | undefined {
  try {
    const cpu =
      readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = cpu;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return undefined;
  }
}

/**
 * Starts a CPU measurement of this process and of the rest of the machine. The result is in cores:
 * 1 = one core busy for the whole window. `others` is every other process (other work skews figures).
 */
export function cpuWindow(): () => { own: number; others: number | undefined } {
  const start = performance.now();
  const own0 = process.cpuUsage();
  const machine0 = machineBusySeconds();
  return () => {
    const seconds = (performance.now() - start) / 1000;
    const ownUsage = process.cpuUsage(own0);
    const own = (ownUsage.user + ownUsage.system) / 1e6;
    const machine1 = machineBusySeconds();
    const others =
      machine0 === undefined || machine1 === undefined
        ? undefined
        : Math.max(0, (machine1 - machine0 - own) / seconds);
    return { own: own / seconds, others };
  };
}

export const pct = (x: number | undefined) => (x === undefined ? '?' : `${Math.round(x * 100)}%`);

export const log = (message: string) => process.stderr.write(`[bench] ${message}\n`);
