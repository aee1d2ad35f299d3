// A scenario's figures and verdicts as plain text: ops/s and latency by kind, errors by code,
// retries, the chaos loop's kills, the wait for payouts and webhooks, then PASS/FAIL per check.
import { table } from '../../engine/cli/common.ts';
import { percentile } from '../setup.ts';
import type { ScenarioReport } from './scenario.ts';
import { errorsByCode, OP_KINDS } from './workload.ts';

const ms = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '-');

export function renderReport(r: ScenarioReport): string {
  const o = r.options;
  const { record } = r;
  const lines: string[] = [];
  lines.push(
    `Load scenario "${o.scenario}": ${r.store}, ${o.engines} engine process(es), ${o.tills} tills x ${o.inFlight} in flight, ` +
      `${o.members} shared members, ${o.seconds} s (ran ${record.seconds.toFixed(1)} s)`,
  );
  lines.push('');
  let total = 0;
  const rows = OP_KINDS.map((kind) => {
    const latencies = [...(record.latencies.get(kind) ?? [])];
    total += latencies.length;
    return [
      kind,
      String(latencies.length),
      (latencies.length / record.seconds).toFixed(1),
      ms(percentile(latencies, 50)),
      ms(percentile(latencies, 99)),
    ];
  });
  rows.push(['all', String(total), (total / record.seconds).toFixed(1), '', '']);
  const right = (header: string) => ({ header, align: 'right' as const });
  lines.push(table(['acknowledged', right('count'), right('ops/s'), right('p50 ms'), right('p99 ms')], rows));
  lines.push('');
  const errors = [...errorsByCode(record)].sort((a, b) => b[1] - a[1]);
  lines.push(
    errors.length === 0
      ? 'errors: none'
      : table(
          ['errors by code', right('count')],
          errors.map(([code, n]) => [code, String(n)]),
        ),
  );
  const replayed = record.acked.filter((a) => a.replayed).length;
  lines.push(
    `retries (same Idempotency-Key, next engine): ${record.stats.retries}; ` +
      `${replayed} acknowledged by a stored answer (applied by an attempt whose answer was lost)`,
  );
  if (r.chaos) {
    const down = [...r.chaos.downtimesMs];
    lines.push(
      `chaos: ${r.chaos.kills} engine processes killed with SIGKILL and restarted; ` +
        `down from kill to /health p50 ${ms(percentile(down, 50))} ms, max ${ms(Math.max(0, ...down))} ms`,
    );
  }
  if (r.restart) {
    const x = r.restart;
    lines.push(
      `PostgreSQL restart (pg_ctl restart -m fast): ${x.restartMs} ms; every engine answering /health ` +
        `${x.reconnectMs === undefined ? 'NOT within 60 s' : `${x.reconnectMs} ms later`}; till outbox: ` +
        `${x.outbox.queued} earns queued (${x.outbox.duringOutage} during the outage), ${x.outbox.delivered.length} delivered` +
        `${x.outboxDrained ? '' : ' (NOT drained)'}`,
    );
  }
  lines.push(
    `after the load: payouts ${r.settled.payouts ? 'settled' : 'NOT settled'}, webhooks ${r.settled.webhooks ? 'all delivered' : 'NOT all delivered'}, ` +
      `in ${r.settled.seconds.toFixed(1)} s`,
  );
  lines.push('');
  lines.push(
    table(
      ['verdict', 'check', 'figures'],
      r.verdicts.map((v) => [v.ok ? 'PASS' : 'FAIL', v.check, v.detail]),
    ),
  );
  if (r.keptDir) lines.push('', `run directory kept: ${r.keptDir} (engine logs, database, config)`);
  return lines.join('\n');
}
