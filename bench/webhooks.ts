// Row 6: webhook deliveries. Events are recorded through `recordEvent` (each in its own transaction,
// as a claim's state change would be, sync=FULL) for one native subscriber: a node:http receiver on
// 127.0.0.1 that checks every signature and answers 200. Two runs:
// - burst: `burst` events recorded 64 at a time as fast as the store takes them; deliveries/s is the
//   number delivered over the time from the first commit to the last delivery. The delay column
//   includes the backlog.
// - steady: events at half the burst rate (at most 500/s), so the worker keeps up; the delay from each
//   event's commit to its arrival at the receiver is what a merchant waits for a webhook.
// The receiver shares the engine's process and event loop (its cost is in the figures).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyWebhook } from '../contract/webhook-signature.ts';
import { recordEvent } from '../engine/domain/outbox.ts';
import { closedLoop, cpuWindow, log, openBenchEngine, pct, percentile, type BenchEngine } from './setup.ts';
import type { Row } from './table.ts';

const SECRET = 'whsec_bench_0123456789abcdef0123456789abcdef';
const IN_FLIGHT = 64;
/** Deliveries in flight at once (the engine's default). */
const CONCURRENCY = 16;
const STEADY_MAX_PER_SECOND = 500;

interface Receiver {
  url: string;
  /** performance.now() at arrival, by event id. */
  arrivals: Map<string, number>;
  badSignatures: number;
  waitFor(count: number, timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const arrivals = new Map<string, number>();
  let badSignatures = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const verified = verifyWebhook({
        header: req.headers['tillback-signature'] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        secrets: [SECRET],
        nowSeconds: Math.floor(Date.now() / 1000),
      });
      if (!verified.ok) badSignatures++;
      const id = req.headers['tillback-event-id'];
      if (typeof id === 'string' && !arrivals.has(id)) arrivals.set(id, at);
      res.writeHead(verified.ok ? 200 : 401).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    arrivals,
    get badSignatures() {
      return badSignatures;
    },
    async waitFor(count, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (arrivals.size < count && performance.now() < deadline) await sleep(5);
      return arrivals.size >= count;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Records one event and returns its id and commit time. */
async function stateChange(b: BenchEngine, i: number): Promise<[string, number]> {
  const id = await b.store.transact((tx) =>
    recordEvent(
      tx,
      {
        type: 'claim.paid',
        subject: { kind: 'claim', id: `clm_bench_${i}` },
        data: { status: 'paid', amount: 1000 + (i % 100), currency: 'AUD' },
      },
      Date.now(),
    ),
  );
  return [id, performance.now()];
}

function delays(committed: Map<string, number>, rx: Receiver): number[] {
  return [...committed].flatMap(([id, at]) => {
    const arrived = rx.arrivals.get(id);
    return arrived === undefined ? [] : [arrived - at];
  });
}

export async function benchWebhooks(opts: {
  burst: number;
  steadySeconds: number;
  baseDir?: string | undefined;
}): Promise<Row[]> {
  const rx = await startReceiver();
  const b = await openBenchEngine({
    synchronous: 'FULL',
    baseDir: opts.baseDir,
    config: {
      webhooks: {
        subscribers: [{ url: rx.url, secrets: [SECRET] }],
        allowPrivateNetworks: ['127.0.0.1/32'],
        concurrency: CONCURRENCY,
      },
    },
  });
  const rows: Row[] = [];
  try {
    // Burst.
    const committed = new Map<string, number>();
    let cpu = cpuWindow();
    const started = performance.now();
    await closedLoop(IN_FLIGHT, { total: opts.burst }, async (i) => {
      const [id, at] = await stateChange(b, i);
      committed.set(id, at);
    });
    const allArrived = await rx.waitFor(opts.burst, 60_000);
    const lastArrival = Math.max(...rx.arrivals.values());
    let used = cpu();
    const burstRate = rx.arrivals.size / ((lastArrival - started) / 1000);
    const burstDelays = delays(committed, rx);
    log(`webhooks burst: ${burstRate.toFixed(0)} deliveries/s, ${rx.arrivals.size}/${opts.burst} arrived`);
    rows.push({
      id: 'webhooks-burst',
      group: 6,
      name: 'webhook deliveries, local receiver',
      setting: `burst of ${opts.burst.toLocaleString('en-US')}, ${IN_FLIGHT} recording, ${CONCURRENCY} in flight`,
      figure: burstRate,
      unit: 'deliveries/s',
      p50Ms: percentile(burstDelays, 50),
      p99Ms: percentile(burstDelays, 99),
      against: `commit -> receipt delay, backlog included; every event signed and checked; CPU: engine+receiver ${pct(used.own)}, others ${pct(used.others)}`,
      samples: rx.arrivals.size,
      errors: opts.burst - rx.arrivals.size + rx.badSignatures,
      ...(allArrived && rx.badSignatures === 0
        ? {}
        : { verdict: `LOST ${opts.burst - rx.arrivals.size}, BAD SIG ${rx.badSignatures}` }),
      details: { cpu: used.own, othersCpu: used.others },
    });

    // Steady.
    const rate = Math.max(1, Math.min(STEADY_MAX_PER_SECOND, Math.floor(burstRate / 2)));
    const count = Math.max(1, Math.round(rate * opts.steadySeconds));
    const steady = new Map<string, number>();
    const before = rx.arrivals.size;
    cpu = cpuWindow();
    const t0 = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      pending.push(stateChange(b, opts.burst + i).then(([id, at]) => void steady.set(id, at)));
    }
    await Promise.all(pending);
    const steadyArrived = await rx.waitFor(before + count, 60_000);
    used = cpu();
    const steadyDelays = delays(steady, rx);
    log(
      `webhooks steady: ${rate}/s, p99 ${percentile([...steadyDelays], 99).toFixed(1)} ms, ${steadyDelays.length}/${count} arrived`,
    );
    rows.push({
      id: 'webhooks-steady',
      group: 6,
      name: 'webhook deliveries, local receiver',
      setting: `steady ${rate}/s (half the burst rate, at most ${STEADY_MAX_PER_SECOND})`,
      figure: steadyDelays.length / ((performance.now() - t0) / 1000),
      unit: 'deliveries/s',
      p50Ms: percentile(steadyDelays, 50),
      p99Ms: percentile(steadyDelays, 99),
      against: `p99 ms = commit -> receipt delay a merchant sees; CPU: engine+receiver ${pct(used.own)}, others ${pct(used.others)}`,
      samples: steadyDelays.length,
      errors: count - steadyDelays.length,
      ...(steadyArrived ? {} : { verdict: `LOST ${count - steadyDelays.length}` }),
      details: { offeredPerSecond: rate, cpu: used.own, othersCpu: used.others },
    });
  } finally {
    await b.close();
    await rx.close();
  }
  return rows;
}
