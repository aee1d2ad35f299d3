// Row 8: cashout claims created per second through the domain, `createClaim(ctx, ...)`, 64 in flight,
// synchronous=FULL, each with its own idempotency key and outbox event: store-funded (no ledger
// entry) and member-funded (a pending hold on the member's cashback, lots consumed). The members
// first earn their cashback; each claim is 1 cent, so none runs out. Ledger verified after.
import { createClaim } from '../engine/domain/claims.ts';
import { verifyLedger } from '../engine/domain/ledger.ts';
import {
  closedLoop,
  cpuWindow,
  domainEarn,
  log,
  MEMBERS,
  memberEmail,
  openBenchEngine,
  pct,
  PROGRAM_CURRENCY,
} from './setup.ts';
import type { Row } from './table.ts';

export async function benchClaims(opts: {
  seconds: number;
  warmupSeconds: number;
  inFlight: number;
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const b = await openBenchEngine({ synchronous: 'FULL', baseDir: opts.baseDir });
  const rows: Row[] = [];
  try {
    await closedLoop(opts.inFlight, { total: MEMBERS }, (i) => domainEarn(b, i, 'fund'));
    for (const funding of ['store', 'member'] as const) {
      const create = (i: number, prefix: string) =>
        createClaim(
          b.ctx,
          {
            appId: b.appId,
            funding:
              funding === 'store'
                ? { kind: 'store', currency: PROGRAM_CURRENCY }
                : { kind: 'member', programId: b.programId, member: { email: memberEmail(i) } },
            amount: 1,
            storeName: 'Bench Store',
            methods: ['card', 'au_bank', 'payid', 'paypal'],
          },
          { appId: b.appId, scope: 'native:create_claim', key: `${prefix}-${funding}-${i}` },
        );
      await closedLoop(opts.inFlight, { seconds: opts.warmupSeconds }, (i) => create(i, 'warm'));
      const cpu = cpuWindow();
      const r = await closedLoop(opts.inFlight, { seconds: opts.seconds }, (i) => create(i, 'claim'));
      const used = cpu();
      const ledger = await b.store.read((tx) => verifyLedger(tx));
      log(
        `claims ${funding}: ${r.perSecond.toFixed(0)} claims/s, ledger ${ledger.problems.length ? 'PROBLEMS' : 'ok'}`,
      );
      rows.push({
        id: `claims-${funding}`,
        group: 8,
        name: 'createClaim(ctx) claims',
        setting: `${funding}-funded, ${opts.inFlight} in flight, sync=FULL`,
        figure: r.perSecond,
        unit: 'claims/s',
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        against: `${
          funding === 'store'
            ? 'earns/s (row 3 FULL): a claim is one insert, an event and a key'
            : 'store-funded above: the cost of the hold'
        }; CPU: bench ${pct(used.own)}, others ${pct(used.others)}`,
        samples: r.ops,
        errors: r.errors,
        ...(ledger.problems.length ? { verdict: `LEDGER: ${ledger.problems.length} problems` } : {}),
        details: { cpu: used.own, othersCpu: used.others },
      });
    }
  } finally {
    await b.close();
  }
  return rows;
}
