// Which b-trees an earn writes, and how many pages, at a small and a large ledger: the mechanism
// behind "earns/s at 10k vs 1M transfers" (bench/ledger-size.ts). Every page a commit changes is
// appended to the write-ahead log as one frame, so the frames per earn, grouped by the table or
// index owning each page (SQLite's dbstat), are the write cost of an earn, and they grow with the
// ledger only for indexes whose inserts land on a different leaf for each member.
//   npx tsx bench/wal-pages.ts [--large 1000000] [--earns 6400]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { growByCopy } from './ledger-size.ts';
import { benchTempDir, closedLoop, domainEarn, log, openBenchEngine, removeDir } from './setup.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const large = arg('large', 1_000_000);
const earns = arg('earns', 6_400);
const SMALL = 10_000;
const FRAME_HEADER = 24;
const WAL_HEADER = 32;

/** Frames per page number in the current generation of the WAL (frames whose salt matches the header's). */
function walFrames(walPath: string, pageSize: number): { salt: number; frames: Map<number, number> } {
  const wal = readFileSync(walPath);
  const salt = wal.readUInt32BE(16);
  const frames = new Map<number, number>();
  for (let at = WAL_HEADER; at + FRAME_HEADER + pageSize <= wal.length; at += FRAME_HEADER + pageSize) {
    if (wal.readUInt32BE(at + 8) !== salt) break;
    const page = wal.readUInt32BE(at);
    frames.set(page, (frames.get(page) ?? 0) + 1);
  }
  return { salt, frames };
}

/** Runs `earns` earns on the ledger in `dir` with no checkpoint (so the WAL keeps every frame) and groups its frames by b-tree. */
async function measure(
  dir: string,
  ids: { appId: string; secret: string; programId: number },
  label: string,
) {
  const path = join(dir, 'engine.sqlite');
  const b = await openBenchEngine({ synchronous: 'FULL', dir, existing: ids });
  await closedLoop(64, { total: 1_000 }, (i) => domainEarn(b, i, `${label}-warm`));
  // The checkpoint worker would copy frames away and start the log over mid-run: a read snapshot
  // held open here keeps every later frame from being checkpointed, so none is lost to the count.
  const pin = new Database(path, { readonly: true });
  pin.exec('BEGIN');
  pin.prepare('SELECT COUNT(*) FROM programs').get();
  try {
    const pageSize = pin.pragma('page_size', { simple: true }) as number;
    const start = walFrames(`${path}-wal`, pageSize);
    await closedLoop(64, { total: earns }, (i) => domainEarn(b, i, label));
    const end = walFrames(`${path}-wal`, pageSize);
    const after = end.frames;
    // The log may have started over once, right after the snapshot was taken (nothing to count before).
    const before = end.salt === start.salt ? start.frames : new Map<number, number>();
    const names = new Map<number, string>();
    const stat = new Database(path, { readonly: true });
    for (const r of stat.prepare('SELECT name, pageno FROM dbstat').iterate() as Iterable<{
      name: string;
      pageno: number;
    }>)
      names.set(r.pageno, r.name);
    stat.close();
    const byTree = new Map<string, number>();
    let total = 0;
    for (const [page, n] of after) {
      const added = n - (before.get(page) ?? 0);
      if (added <= 0) continue;
      total += added;
      const name = names.get(page) ?? '(freed or new)';
      byTree.set(name, (byTree.get(name) ?? 0) + added);
    }
    return { total: total / earns, byTree: new Map([...byTree].map(([k, v]) => [k, v / earns])) };
  } finally {
    pin.exec('COMMIT');
    pin.close();
    await b.close({ keepFiles: true });
  }
}

const dir = benchTempDir(undefined, 'wal-pages');
try {
  const seeding = await openBenchEngine({ synchronous: 'NORMAL', dir, maxBatch: 1024 });
  const ids = { appId: seeding.appId, secret: seeding.secret, programId: seeding.programId };
  await closedLoop(1024, { total: SMALL }, (i) => domainEarn(seeding, i, 'seed'));
  const block = await seeding.store.read(
    async (tx) =>
      (await tx.row<{ lo: number; hi: number }>(
        "SELECT MIN(id) AS lo, MAX(id) AS hi FROM transactions WHERE type = 'earn'",
      ))!,
  );
  await seeding.close({ keepFiles: true });
  const small = await measure(dir, ids, 'small');
  log(`growing the ledger to ${large.toLocaleString('en-US')} transfers`);
  growByCopy(join(dir, 'engine.sqlite'), block, large);
  const big = await measure(dir, ids, 'large');
  const trees = [...new Set([...small.byTree.keys(), ...big.byTree.keys()])].sort(
    (a, b) => (big.byTree.get(b) ?? 0) - (big.byTree.get(a) ?? 0),
  );
  const col = (x: number | undefined) => (x ?? 0).toFixed(2).padStart(8);
  process.stdout.write(`WAL pages written per earn (${earns} earns, 64 in flight, sync=FULL)\n`);
  process.stdout.write(`${'10k'.padStart(8)}${`${Math.round(large / 1000)}k`.padStart(8)}  b-tree\n`);
  for (const t of trees) process.stdout.write(`${col(small.byTree.get(t))}${col(big.byTree.get(t))}  ${t}\n`);
  process.stdout.write(`${col(small.total)}${col(big.total)}  all\n`);
} finally {
  removeDir(dir);
}
