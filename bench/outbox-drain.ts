// Row 9, the long outage: a till's outbox with 100,000 earns queued while its central engine is
// down drains into it when it comes back, and nothing is applied twice. The engine is
// `engine/cli.ts serve` in its own process on loopback (bench/central-engine.ts), on a SQLite file
// (FULL) and, as a chain runs it, on PostgreSQL (a throwaway server with fsync on, as row 12's);
// the till's outbox runs here, with a queue state listener as the till's local API has. The earns
// are enqueued through `outbox.enqueue`, 32 at a time so they share commits (a till's cashiers
// confirm one at a time; this only fills the queue faster), with the sender already running against
// the stopped engine, as a till's is. Then the engine starts and the clock runs until the queue is
// empty. Checked after: every operation delivered, the engine's earns equal to the till's
// operations in count, purchase total and cashback total (read from the engine's database), no
// reference applied twice, the ledger verified. Then, against the same engine, its own earn rate
// with 64 concurrent clients each sending one earn per request on POST /v1/earn (the way many tills
// load it): what the drain, one batch at a time, is judged against. Bounded: the drain gives up
// after `drainLimitSeconds` (TIMEOUT in the verdict).
import { join } from 'node:path';
import { verifyLedger } from '../engine/domain/ledger.ts';
import { startPostgresServer } from '../test/fixtures/postgres-server.ts';
import { engineHeaders } from '../till/engine-client.ts';
import { openOutbox, type Outbox } from '../till/outbox/outbox.ts';
import { centralEngine, type CentralEngine } from './central-engine.ts';
import { createPostgresDatabase, type StoreKind } from './load/database.ts';
import {
  benchTempDir,
  closedLoop,
  log,
  memberEmail,
  memberName,
  PROGRAM_CURRENCY,
  removeDir,
} from './setup.ts';
import type { Row } from './table.ts';

/** Enqueues in flight while filling the queue. */
const FILLERS = 32;

export interface DrainCheck {
  /** Operations the till holds in each state. */
  states: Record<string, number>;
  /** Rows left in the till's outbox table. */
  outboxRows: number;
  engineEarns: number;
  /** References the engine applied more than once. */
  duplicates: number;
  /** Till purchase total minus the engine's; till cashback total (from the answers) minus the engine's. */
  purchaseGap: number;
  cashbackGap: number;
  ledgerProblems: number;
}

/** Fills the till's queue with `count` earns numbered from `first` (reference `drain-<n>`). */
export async function fillQueue(outbox: Outbox, programId: number, first: number, count: number) {
  let next = first;
  const end = first + count;
  const filler = async () => {
    while (next < end) {
      const n = next++;
      await outbox.enqueue({
        type: 'earn',
        cashier: 'bench',
        programId,
        currency: PROGRAM_CURRENCY,
        member: { email: memberEmail(n) },
        memberName: memberName(n),
        purchaseAmount: 500 + (n % 10_000),
        reference: `drain-${n}`,
      });
    }
  };
  await Promise.all(Array.from({ length: FILLERS }, filler));
}

/**
 * The till's file against the engine's (stopped) database: what a drain must leave. Only the engine's
 * earns whose reference starts with `prefix` count (others may have earned there too).
 */
export async function checkDrain(outbox: Outbox, engine: CentralEngine, prefix: string): Promise<DrainCheck> {
  const till = await outbox.store.read(async (tx) => ({
    states: Object.fromEntries(
      (
        await tx.all<{ state: string; n: number }>(
          'SELECT state, COUNT(*) AS n FROM operations GROUP BY state',
        )
      ).map((r) => [r.state, r.n]),
    ),
    outboxRows: (await tx.row<{ n: number }>('SELECT COUNT(*) AS n FROM outbox')).n,
    totals: await tx.row<{ purchases: number; cashback: number }>(
      `SELECT COALESCE(SUM(amount), 0) AS purchases,
              COALESCE(SUM(json_extract(result, '$.cashback_earned')), 0) AS cashback
         FROM operations WHERE state = 'delivered'`,
    ),
  }));
  const store = await engine.openStore();
  try {
    return await store.read(async (tx) => {
      const earns = await tx.row<{ n: number; purchases: number; cashback: number }>(
        `SELECT COUNT(*) AS n, COALESCE(SUM(purchase_amount), 0) AS purchases, COALESCE(SUM(amount), 0) AS cashback
           FROM transactions WHERE type = 'earn' AND reference LIKE ? || '%'`,
        [prefix],
      );
      const duplicates = await tx.row<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT reference FROM transactions WHERE type = 'earn'
           AND reference LIKE ? || '%' GROUP BY reference HAVING COUNT(*) > 1) AS twice`,
        [prefix],
      );
      return {
        states: till.states,
        outboxRows: till.outboxRows,
        engineEarns: earns.n,
        duplicates: duplicates.n,
        purchaseGap: till.totals.purchases - earns.purchases,
        cashbackGap: till.totals.cashback - earns.cashback,
        ledgerProblems: (await verifyLedger(tx)).problems.length,
      };
    });
  } finally {
    await store.close();
  }
}

/** What is wrong with a drain of `items`, in a few words; empty when nothing is. */
export function drainProblems(check: DrainCheck, items: number): string[] {
  const problems: string[] = [];
  const delivered = check.states['delivered'] ?? 0;
  if (delivered !== items) problems.push(`LOST ${items - delivered}`);
  if (check.outboxRows !== 0) problems.push(`QUEUED ${check.outboxRows}`);
  if (check.engineEarns !== delivered) problems.push(`ENGINE HAS ${check.engineEarns}`);
  if (check.duplicates !== 0) problems.push(`DUPLICATED ${check.duplicates}`);
  if (check.purchaseGap !== 0 || check.cashbackGap !== 0) problems.push('TOTALS DIFFER');
  if (check.ledgerProblems !== 0) problems.push(`LEDGER: ${check.ledgerProblems}`);
  return problems;
}

/** Resolves once the queue state says nothing waits, or rejects after `seconds`. */
function emptied(outbox: Outbox, seconds: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`TIMEOUT: the queue was not empty after ${seconds} s`));
    }, seconds * 1000);
    const off = outbox.onState((s) => {
      if (s.waiting > 0) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

export interface DrainOptions {
  items: number;
  engineSeconds: number;
  drainLimitSeconds: number;
  baseDir: string | undefined;
}

/** Row 9's long outage on each store: the engine process on a SQLite file, then on PostgreSQL. */
export async function benchOutboxDrains(opts: DrainOptions): Promise<Row[]> {
  const rows: Row[] = [];
  for (const store of ['sqlite', 'postgres'] as const) {
    log(`outbox drain (${store}): ${opts.items} earns queued while the engine process is stopped`);
    rows.push(...(await benchOutboxDrain(opts, store)));
  }
  return rows;
}

/** One long outage: the engine's database made, then the drain into it, then everything removed. */
async function benchOutboxDrain(opts: DrainOptions, store: StoreKind): Promise<Row[]> {
  const dir = benchTempDir(opts.baseDir, 'drain');
  // Durable, as the SQLite file is (FULL): fsync and synchronous_commit on.
  const server = store === 'postgres' ? await startPostgresServer({ durable: true }) : undefined;
  try {
    const db = server ? await createPostgresDatabase(server, 'tillback_drain') : undefined;
    return await drainInto(opts, await centralEngine(dir, db), dir, store);
  } finally {
    await server?.stop();
    removeDir(dir);
  }
}

/** Fills the till's queue (its file in `dir`) with the engine stopped, starts it, drains and checks. */
async function drainInto(
  opts: DrainOptions,
  engine: CentralEngine,
  dir: string,
  store: StoreKind,
): Promise<Row[]> {
  const { items } = opts;
  const suffix = store === 'postgres' ? '-postgres' : '';
  const on = store === 'postgres' ? ' on PostgreSQL' : '';
  const outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: engine.url, ...engine.credentials },
    limits: { maxCount: items },
    // Offline, it tries again at least every second: the drain starts within a second of the engine.
    retry: { baseMs: 100, maxMs: 1_000 },
  });
  try {
    outbox.start();
    log(`outbox drain: enqueueing ${items.toLocaleString('en-US')} earns with the engine stopped`);
    const filling = performance.now();
    await fillQueue(outbox, engine.programId, 0, items);
    const fillSeconds = (performance.now() - filling) / 1000;
    log('outbox drain: starting the engine process, draining');
    const done = emptied(outbox, opts.drainLimitSeconds);
    // When each tenth of the queue was delivered: a drain that slows as the files grow shows here.
    const tenths: number[] = [];
    let delivered = 0;
    outbox.onOperation((e) => {
      if (e.kind === 'delivered' && ++delivered % Math.max(1, Math.floor(items / 10)) === 0)
        tenths.push(performance.now());
    });
    await engine.start();
    // From the engine's first answer: the sender's next try comes within its 1 s backoff cap.
    const started = performance.now();
    let drainSeconds = Infinity;
    let timedOut = false;
    try {
      await done;
      drainSeconds = (performance.now() - started) / 1000;
    } catch (error) {
      timedOut = true;
      log(String(error));
    }

    log(`outbox drain: the engine's own earn rate, 64 clients, ${opts.engineSeconds} s`);
    const perRequest = await closedLoop(64, { seconds: opts.engineSeconds }, async (i) => {
      const res = await fetch(`${engine.url}/v1/earn`, {
        method: 'POST',
        headers: engineHeaders(
          { url: engine.url, ...engine.credentials },
          { idempotencyKey: `per-request-${i}` },
        ),
        body: JSON.stringify({
          program_id: engine.programId,
          member: { email: memberEmail(i) },
          member_name: memberName(i),
          purchase_amount: 500 + (i % 10_000),
          reference: `per-request-${i}`,
        }),
      });
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`earn answered ${res.status}`);
    });
    await engine.stop();
    const check = await checkDrain(outbox, engine, 'drain-');
    const problems = drainProblems(check, items);
    if (timedOut) problems.unshift('TIMEOUT');
    const rate = timedOut ? (check.states['delivered'] ?? 0) / opts.drainLimitSeconds : items / drainSeconds;
    return [
      {
        id: `outbox-drain-central${suffix}`,
        group: 9,
        name: 'till outbox drain, long outage',
        setting: `${items.toLocaleString('en-US')} queued, engine process${on}`,
        figure: rate,
        unit: 'earns/s',
        verdict: problems.length ? problems.join(' ') : undefined,
        against: `${(rate / perRequest.perSecond).toFixed(1)}x the engine's rate at 64 clients (next row); drained in ${drainSeconds.toFixed(1)} s from the engine's first answer (queue filled in ${fillSeconds.toFixed(0)} s); ${problems.length ? 'CHECK FAILED' : 'every earn applied once: counts, purchase and cashback totals equal, no reference twice, ledger verified'}`,
        samples: items,
        details: {
          ...check,
          drainSeconds,
          fillSeconds,
          secondsPerTenth: tenths.map((t, i) => +((t - (tenths[i - 1] ?? started)) / 1000).toFixed(2)),
        },
      },
      {
        id: `outbox-drain-engine${suffix}`,
        group: 9,
        name: 'engine earn, same engine process',
        setting: `64 clients, one earn per request${on}`,
        figure: perRequest.perSecond,
        unit: 'earns/s',
        p50Ms: perRequest.p50Ms,
        p99Ms: perRequest.p99Ms,
        against: `what the drain above is judged against: the engine loaded by many clients at once, in no order (POST /v1/earn from this process)${perRequest.errors ? `; ${perRequest.errors} errors` : ''}`,
        samples: perRequest.ops,
      },
    ];
  } finally {
    await outbox.close();
    await engine.stop();
  }
}
