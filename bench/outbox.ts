// Row 9: the till's outbox (issue 5). Enqueue latency: one operation and its history row per fsync'd
// transaction, the way a cashier confirms them, one after another, while the queue grows to N waiting
// items; then the rate at which the sender drains them, in order, in batches of up to 100 and one
// request at a time, into a live engine over HTTP on loopback (in this same process, so the two share
// the CPU as an embedded engine would). bench/outbox-drain.ts is the long outage into an engine process.
// Judged against row 2: the same kind of append to a lowdb file at 10k records.
import { join } from 'node:path';
import { verifyLedger } from '../engine/domain/ledger.ts';
import { openOutbox } from '../till/outbox/outbox.ts';
import { benchTempDir, log, openBenchEngine, percentile, PROGRAM_CURRENCY, removeDir } from './setup.ts';
import type { Row } from './table.ts';

export async function benchOutbox(opts: {
  items: number;
  /** The sender's batchSize: 1 sends one operation per request, as before batches. */
  batchSize: number;
  baseDir: string | undefined;
}): Promise<Row[]> {
  const { items } = opts;
  const bench = await openBenchEngine({ synchronous: 'FULL', baseDir: opts.baseDir });
  const url = await bench.engine.listen();
  const dir = benchTempDir(opts.baseDir, 'outbox');
  const outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url, appId: bench.appId, apiKey: bench.secret },
    limits: { maxCount: items + 1 },
    batchSize: opts.batchSize,
  });
  try {
    log(`outbox: enqueueing ${items} earns with the sender stopped`);
    const ms: number[] = [];
    const started = performance.now();
    for (let n = 0; n < items; n++) {
      const t = performance.now();
      await outbox.enqueue({
        type: 'earn',
        cashier: 'bench',
        programId: bench.programId,
        currency: PROGRAM_CURRENCY,
        member: { email: `member${n % 1000}@bench.example` },
        memberName: `Member ${n % 1000}`,
        purchaseAmount: 500 + (n % 10_000),
        reference: `bench-${n}`,
      });
      ms.push(performance.now() - t);
    }
    const enqueueSeconds = (performance.now() - started) / 1000;
    // The last tenth is the latency at (nearly) N queued: the figure lowdb is compared at.
    const last = ms.slice(-Math.max(1, Math.floor(items / 10)));
    log('outbox: draining into the engine');
    const drainStart = performance.now();
    outbox.start();
    while ((await outbox.state()).waiting > 0) await new Promise((r) => setTimeout(r, 20));
    const drainSeconds = (performance.now() - drainStart) / 1000;
    const { problems } = await bench.store.read((tx) => verifyLedger(tx));
    return [
      {
        id: 'outbox-enqueue',
        group: 9,
        name: 'till outbox enqueue (SQLite FULL)',
        setting: `one at a time, at ~${items.toLocaleString('en-US')} queued`,
        figure: items / enqueueSeconds,
        unit: 'enqueues/s',
        p50Ms: percentile(last, 50),
        p99Ms: percentile(last, 99),
        against: `lowdb 7 at 10k records (row 2), the store not chosen: it rewrites the whole file, no fsync`,
        samples: items,
      },
      {
        id: 'outbox-drain',
        group: 9,
        name: 'till outbox drain to the engine',
        setting: `${items.toLocaleString('en-US')} earns, batches of ${opts.batchSize}, one request at a time`,
        figure: items / drainSeconds,
        unit: 'earns/s',
        against: `delivered in order over HTTP on loopback, engine in the same process; ledger ${problems.length ? `PROBLEMS: ${problems.length}` : 'verified'}`,
        verdict: problems.length ? 'LEDGER:' : undefined,
        samples: items,
      },
    ];
  } finally {
    await outbox.close();
    await bench.close();
    removeDir(dir);
  }
}
