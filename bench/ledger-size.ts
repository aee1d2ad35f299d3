// Row 5: does the ledger slow down as it grows? Earns/s through the domain (64 in flight,
// synchronous=FULL) on a ledger of 10k transfers, then again after growing it to 1M.
//
// The first 10k transfers are real domain earns. Growing to 1M through the domain would take longer
// than the whole bench may (earn costs ~0.3 ms of CPU here), so the ledger is grown by copying that
// block of domain-made earns in bulk SQL: transactions, transfers, earn lots and idempotency keys
// with new ids, references and keys, and every account's cached balance raised by the sums of the
// copied transfers, so `verifyLedger` holds (it is run at 1M, and its time is reported). Same
// members (1,000), same accounts: each member ends with ~1,000 earns and lots, as a regular would.
import Database from 'better-sqlite3';
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { verifyLedger } from '../engine/domain/ledger.ts';
import {
  benchTempDir,
  closedLoop,
  cpuWindow,
  domainEarn,
  log,
  openBenchEngine,
  pct,
  removeDir,
  type LoadResult,
} from './setup.ts';
import type { Row } from './table.ts';

const count = (db: Database.Database, table: string) =>
  (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

/**
 * Copies the block of earns with transaction ids in [lo, hi] until the ledger holds `target`
 * transfers. Each copy gets new ids, references and idempotency keys prefixed by its round (so every
 * index takes a round's rows in one place, as it takes new earns) and times an hour earlier per round
 * (history before the block). Foreign keys are consistent by construction and not re-checked here.
 */
export function growByCopy(
  path: string,
  block: { lo: number; hi: number },
  target: number,
): { seconds: number; transfers: number } {
  const started = performance.now();
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -524288');
  db.pragma('foreign_keys = OFF');
  const blockSize = block.hi - block.lo + 1;
  let transfers = count(db, 'transfers');
  let round = 0;
  const copy = db.transaction((n: number, round: number) => {
    const maxTx = (db.prepare('SELECT MAX(id) AS m FROM transactions').get() as { m: number }).m;
    const lastTransfer = (db.prepare('SELECT MAX(id) AS m FROM transfers').get() as { m: number }).m;
    const offset = maxTx + 1 - block.lo;
    const hi = block.lo + n - 1;
    const prefix = `c${String(round).padStart(4, '0')}-`;
    const earlier = (round + 1) * 3_600_000;
    db.prepare(
      `INSERT INTO transactions (id, type, program_id, member_id, currency, amount, purchase_amount, related_id, reference,
         reason, metadata, app_id, created_at)
       SELECT id + ?, type, program_id, member_id, currency, amount, purchase_amount, related_id, ? || reference, reason,
         metadata, app_id, created_at - ? FROM transactions WHERE id BETWEEN ? AND ? AND type = 'earn' ORDER BY id`,
    ).run(offset, prefix, earlier, block.lo, hi);
    db.prepare(
      `INSERT INTO transfers (transaction_id, debit_account_id, credit_account_id, amount, currency, phase, created_at)
       SELECT transaction_id + ?, debit_account_id, credit_account_id, amount, currency, phase, created_at - ?
         FROM transfers WHERE transaction_id BETWEEN ? AND ? AND phase = 'posted' ORDER BY id`,
    ).run(offset, earlier, block.lo, hi);
    db.prepare(
      `INSERT INTO earn_lots (transaction_id, member_id, program_id, amount, remaining, state, matures_at, expires_at, created_at)
       SELECT transaction_id + ?, member_id, program_id, amount, remaining, state, matures_at - ?, expires_at, created_at - ?
         FROM earn_lots WHERE transaction_id BETWEEN ? AND ? ORDER BY id`,
    ).run(offset, earlier, earlier, block.lo, hi);
    db.prepare(
      `INSERT INTO idempotency_keys (app_id, scope, key, request_hash, result, created_at)
       SELECT k.app_id, k.scope, ? || k.key, k.request_hash, k.result, k.created_at - ?
         FROM transactions t JOIN idempotency_keys k
           ON k.app_id = t.app_id AND k.scope = 'seed002:earn' AND k.key = t.reference
        WHERE t.id BETWEEN ? AND ? ORDER BY k.key`,
    ).run(prefix, earlier, block.lo, hi);
    for (const [side, column] of [
      ['debit', 'debits_posted'],
      ['credit', 'credits_posted'],
    ] as const) {
      db.prepare(
        `UPDATE accounts SET ${column} = ${column} + s.total
           FROM (SELECT ${side}_account_id AS account, SUM(amount) AS total FROM transfers WHERE id > ?
                  GROUP BY ${side}_account_id) AS s
          WHERE accounts.id = s.account`,
      ).run(lastTransfer);
    }
  });
  try {
    while (transfers < target) {
      const n = Math.min(blockSize, target - transfers);
      copy(n, round++);
      const now = count(db, 'transfers');
      if (now === transfers) throw new Error('growing the ledger copied nothing');
      transfers = now;
      if (round % 10 === 0) log(`ledger: ${transfers.toLocaleString('en-US')} transfers`);
    }
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
  // Grown with synchronous=OFF: hundreds of MB sit in the page cache, and the kernel would write them
  // back during the 1M measurement, slowing its fsyncs. Flush them now, as part of growing.
  const fd = openSync(path, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return { seconds: (performance.now() - started) / 1000, transfers };
}

export async function benchLedgerSize(opts: {
  seconds: number;
  warmupSeconds: number;
  inFlight: number;
  small: number;
  large: number;
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const dir = benchTempDir(opts.baseDir, 'ledger');
  const path = join(dir, 'engine.sqlite');
  try {
    // 1. The first `small` transfers: real domain earns, in large batches.
    const seeding = await openBenchEngine({ synchronous: 'NORMAL', dir, maxBatch: 1024 });
    const ids = { appId: seeding.appId, secret: seeding.secret, programId: seeding.programId };
    await closedLoop(1024, { total: opts.small }, (i) => domainEarn(seeding, i, 'seed'));
    const block = await seeding.store.read(async (tx) => {
      const r = await tx.one<{ lo: number; hi: number }>(
        "SELECT MIN(id) AS lo, MAX(id) AS hi FROM transactions WHERE type = 'earn'",
      );
      if (!r) throw new Error('the seeding earns left no transactions');
      return r;
    });
    await seeding.close({ keepFiles: true });

    // 2. Measure at `small`, reopened as the engine runs (synchronous=FULL, default batching).
    type Measured = { r: LoadResult; before: number; cpu: { own: number; others: number | undefined } };
    const measure = async (label: string): Promise<Measured> => {
      const b = await openBenchEngine({ synchronous: 'FULL', dir, existing: ids });
      try {
        const before = await b.store.read(
          async (tx) => (await tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM transfers'))?.n ?? 0,
        );
        await closedLoop(opts.inFlight, { seconds: opts.warmupSeconds }, (i) =>
          domainEarn(b, i, `${label}-warm`),
        );
        const window = cpuWindow();
        const r = await closedLoop(opts.inFlight, { seconds: opts.seconds }, (i) => domainEarn(b, i, label));
        const cpu = window();
        log(`ledger ${before.toLocaleString('en-US')} transfers: ${r.perSecond.toFixed(0)} earns/s`);
        return { r, before, cpu };
      } finally {
        await b.close({ keepFiles: true });
      }
    };
    const small = await measure('small');

    // 3. Grow to `large` by copying the domain-made block, check the ledger, measure again.
    const grown = growByCopy(path, block, opts.large);
    log(
      `ledger grown to ${grown.transfers.toLocaleString('en-US')} transfers in ${grown.seconds.toFixed(1)} s`,
    );
    const verifyStarted = performance.now();
    const checker = await openBenchEngine({ synchronous: 'FULL', dir, existing: ids });
    const report = await checker.store.read((tx) => verifyLedger(tx));
    await checker.close({ keepFiles: true });
    const verifySeconds = (performance.now() - verifyStarted) / 1000;
    log(
      `verifyLedger at ${report.transfers.toLocaleString('en-US')}: ${report.problems.length} problems, ${verifySeconds.toFixed(1)} s`,
    );
    const large = await measure('large');

    const ratio = large.r.perSecond / small.r.perSecond;
    const fmt = (n: number) =>
      n >= 1_000_000 ? `${(n / 1_000_000).toFixed(n % 1_000_000 ? 2 : 0)}M` : `${Math.round(n / 1000)}k`;
    const row = (which: 'small' | 'large', m: Measured): Row => ({
      id: `ledger-${which}`,
      group: 5,
      name: 'earn(ctx) vs ledger size',
      setting: `${fmt(m.before)} transfers, ${opts.inFlight} in flight, FULL`,
      figure: m.r.perSecond,
      unit: 'earns/s',
      p50Ms: m.r.p50Ms,
      p99Ms: m.r.p99Ms,
      against: `${
        which === 'small'
          ? `the same at ${fmt(opts.large)} below`
          : `${fmt(small.before)} above: ${(ratio * 100).toFixed(0)}% of it; ledger verified in ${verifySeconds.toFixed(1)} s`
      }; CPU: bench ${pct(m.cpu.own)}, others ${pct(m.cpu.others)}`,
      samples: m.r.ops,
      errors: m.r.errors,
      ...(which === 'large'
        ? {
            verdict: report.problems.length
              ? `LEDGER: ${report.problems.length} problems`
              : ratio >= 0.9
                ? 'flat'
                : `SLOWDOWN ${((1 - ratio) * 100).toFixed(0)}%`,
          }
        : {}),
      details: {
        transfersAtStart: m.before,
        cpu: m.cpu.own,
        othersCpu: m.cpu.others,
        ...(which === 'large'
          ? { growSeconds: grown.seconds, verifySeconds, verifyProblems: report.problems.slice(0, 5) }
          : {}),
      },
    });
    return [row('small', small), row('large', large)];
  } finally {
    removeDir(dir);
  }
}
