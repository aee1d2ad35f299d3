// The till's outbox: enqueue latency (one operation and its history row per fsync'd transaction, the
// way a cashier confirms them, one after another) while the queue grows to N waiting items, then the
// rate at which the sender drains them, in order and one at a time, into a live engine over HTTP on
// loopback (in this same process, so the two share the CPU as an embedded engine would).
//   npx tsx bench/outbox.ts [--items 10000]
import { join } from 'node:path';
import { openOutbox } from '../till/outbox/outbox.ts';
import { benchTempDir, log, openBenchEngine, percentile, PROGRAM_CURRENCY, removeDir } from './setup.ts';

const i = process.argv.indexOf('--items');
const items = i >= 0 ? Number(process.argv[i + 1]) : 10_000;

const bench = await openBenchEngine({ synchronous: 'FULL' });
const url = await bench.engine.listen();
const dir = benchTempDir(undefined, 'outbox');
const outbox = await openOutbox({
  path: join(dir, 'till.sqlite'),
  engine: { url, appId: bench.appId, apiKey: bench.secret },
  limits: { maxCount: items + 1 },
});
try {
  log(`enqueueing ${items} earns with the sender stopped`);
  const micros: number[] = [];
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
    micros.push((performance.now() - t) * 1000);
  }
  const enqueueSeconds = (performance.now() - started) / 1000;
  const last = micros.slice(-Math.min(1000, items));
  log('draining into the engine');
  const drainStart = performance.now();
  outbox.start();
  while ((await outbox.state()).waiting > 0) await new Promise((r) => setTimeout(r, 20));
  const drainSeconds = (performance.now() - drainStart) / 1000;
  console.table([
    { figure: `enqueue p50 (µs), 0 to ${items} queued`, value: Math.round(percentile([...micros], 50)) },
    { figure: `enqueue p99 (µs), 0 to ${items} queued`, value: Math.round(percentile([...micros], 99)) },
    { figure: `enqueue p99 (µs), last 1,000 (at ~${items} queued)`, value: Math.round(percentile(last, 99)) },
    { figure: 'enqueues/s (one after another)', value: Math.round(items / enqueueSeconds) },
    {
      figure: 'drained/s into the live engine (FIFO, one at a time)',
      value: Math.round(items / drainSeconds),
    },
  ]);
} finally {
  await outbox.close();
  await bench.close();
  removeDir(dir);
}
