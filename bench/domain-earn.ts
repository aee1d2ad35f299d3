// Row 3: earns through the domain function itself, `earn(ctx, ...)`, with 64 in flight (each a
// promise awaiting its own earn, so the store's group commit batches them), on a fresh database with
// synchronous=FULL (every commit fsync'd) and NORMAL (WAL without a sync per commit: survives a
// process crash, may lose the last commits on power loss). No HTTP: this is the engine's ceiling.
import { verifyLedger } from '../engine/domain/ledger.ts';
import { closedLoop, cpuWindow, domainEarn, log, openBenchEngine, pct, type Synchronous } from './setup.ts';
import type { Row } from './table.ts';

export async function benchDomainEarn(opts: {
  seconds: number;
  warmupSeconds: number;
  inFlight: number;
  modes: Synchronous[];
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const rows: Row[] = [];
  for (const synchronous of opts.modes) {
    const b = await openBenchEngine({ synchronous, baseDir: opts.baseDir });
    try {
      await closedLoop(opts.inFlight, { seconds: opts.warmupSeconds }, (i) => domainEarn(b, i, 'warm'));
      const cpu = cpuWindow();
      const r = await closedLoop(opts.inFlight, { seconds: opts.seconds }, (i) => domainEarn(b, i, 'earn'));
      const used = cpu();
      const ledger = await b.store.read((tx) => verifyLedger(tx));
      log(
        `domain ${synchronous}: ${r.perSecond.toFixed(0)} earns/s, ledger ${ledger.problems.length ? 'PROBLEMS' : 'ok'}`,
      );
      rows.push({
        id: `domain-${synchronous.toLowerCase()}`,
        group: 3,
        name: 'earn(ctx) direct domain call',
        setting: `${opts.inFlight} in flight, sync=${synchronous}`,
        figure: r.perSecond,
        unit: 'earns/s',
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        against: `${
          synchronous === 'FULL'
            ? 'fsync ceiling (row 1): group commit should pass it'
            : 'FULL above: the cost of the fsync per batch'
        }; CPU: bench ${pct(used.own)}, others ${pct(used.others)}`,
        samples: r.ops,
        errors: r.errors,
        ...(ledger.problems.length ? { verdict: `LEDGER: ${ledger.problems.length} problems` } : {}),
        details: { transfers: ledger.transfers, cpu: used.own, othersCpu: used.others },
      });
    } finally {
      await b.close();
    }
  }
  return rows;
}
