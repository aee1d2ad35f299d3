// Row 2: the store we chose not to use. lowdb 7 with its JSONFile adapter keeps the whole database
// in memory and rewrites the whole file (write to a temp file, rename; no fsync) on every write, so
// an append costs in proportion to the records already there. The file is held at N records (the
// oldest dropped as each new one is pushed) so the figure is the rate at that size.
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { benchTempDir, memberEmail, memberName, percentile, PROGRAM_CURRENCY, removeDir } from './setup.ts';
import type { Row } from './table.ts';

/** One earn as the engine records it: the transaction, its transfer and its reference. */
interface EarnRecord {
  id: number;
  type: 'earn';
  appId: string;
  programId: number;
  member: { email: string; name: string };
  currency: string;
  purchaseAmount: number;
  cashbackEarned: number;
  reference: string;
  metadata: Record<string, unknown>;
  transfer: { debit: string; credit: string; amount: number; phase: 'posted' };
  createdAt: number;
}

const record = (i: number): EarnRecord => {
  const purchase = 500 + ((i * 7919) % 10_000);
  return {
    id: i,
    type: 'earn',
    appId: 'app_bench',
    programId: 1,
    member: { email: memberEmail(i), name: memberName(i) },
    currency: PROGRAM_CURRENCY,
    purchaseAmount: purchase,
    cashbackEarned: Math.floor((purchase * 500) / 10_000),
    reference: `lowdb-${i}`,
    metadata: {},
    transfer: {
      debit: 'program:1:funding',
      credit: `member:${i % 1000}:program:1:available`,
      amount: 1,
      phase: 'posted',
    },
    createdAt: Date.now(),
  };
};

export async function benchLowdb(opts: {
  sizes: number[];
  seconds: number;
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of opts.sizes) {
    const dir = benchTempDir(opts.baseDir, 'lowdb');
    try {
      const db = new Low<{ earns: EarnRecord[] }>(new JSONFile(join(dir, 'db.json')), { earns: [] });
      await db.read();
      for (let i = 0; i < size; i++) db.data.earns.push(record(i));
      await db.write();
      const latencies: number[] = [];
      const start = performance.now();
      const deadline = start + opts.seconds * 1000;
      let i = size;
      // At least a few appends, so a slow size still gives a figure.
      while (performance.now() < deadline || latencies.length < 5) {
        const t0 = performance.now();
        db.data.earns.shift();
        db.data.earns.push(record(i++));
        await db.write();
        latencies.push(performance.now() - t0);
      }
      const seconds = (performance.now() - start) / 1000;
      rows.push({
        id: `lowdb-${size}`,
        group: 2,
        name: 'lowdb 7 append (JSONFile)',
        setting: `${size.toLocaleString('en-US')} records`,
        figure: latencies.length / seconds,
        unit: 'appends/s',
        p50Ms: percentile(latencies, 50),
        p99Ms: percentile(latencies, 99),
        against: `rewrites the whole file, no fsync; DESIGN.md: ${size >= 10_000 ? '140/s at 10k' : '950/s at 1k'}`,
        samples: latencies.length,
      });
    } finally {
      removeDir(dir);
    }
  }
  return rows;
}
