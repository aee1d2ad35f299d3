// Row 10: swipe-to-result latency of an earn through the whole chain (issue 5): the simulated reader
// on a socat pseudo-terminal, the serial driver and the device manager, the earn flow, the outbox (one
// fsync'd transaction), the sender, the embedded engine over HTTP, back to the flow and out as a
// `flow` event on the local API's WebSocket. One earn at a time, as at a till: each flow is started
// over the local API, then the card is swiped, and the clock runs from the swipe to the `done` event.
// Judged against 100 ms, the limit for a response to feel instantaneous (Nielsen), and against row 7
// (the swipe alone, to the driver's card event): the difference is what the till and engine add.
//   npm run bench -- --only flow [--flow-earns 200]
import WebSocket from 'ws';
import { startBenchTill } from './bench-till.ts';
import { log, percentile } from './setup.ts';
import type { Row } from './table.ts';

/** A result within this feels instantaneous to the cashier and the customer. */
export const SWIPE_TO_RESULT_TARGET_MS = 100;

export async function benchFlowEarn(opts: { earns: number; baseDir: string | undefined }): Promise<Row> {
  const { till, sim, demo, post, close } = await startBenchTill(opts.baseDir, 'flow-earn');
  const ws = new WebSocket(`${till.apiUrl.replace('http', 'ws')}/api/events`);
  const opened = new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  try {
    // Each finished flow event, by flow id, as the screens get it.
    const finished = new Map<string, (flow: unknown) => void>();
    await opened;
    ws.send(JSON.stringify({ type: 'auth', token: till.token }));
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString('utf8')) as {
        type: string;
        flow?: { flowId: string; outcome: string | null };
      };
      if (m.type === 'flow' && m.flow?.outcome) finished.get(m.flow.flowId)?.(m.flow);
    });

    const latencies: number[] = [];
    const started = performance.now();
    for (let n = 0; n < opts.earns; n++) {
      const { flowId } = (await post('/api/flows/earn', { amount: 1_000 + n })) as {
        flowId: string;
      };
      const done = new Promise<{ outcome: string; result: { queued: boolean } | null }>((resolve) =>
        finished.set(flowId, resolve as (flow: unknown) => void),
      );
      const t0 = performance.now();
      await sim.swipe(demo.card);
      const flow = await done;
      // The first few warm the JIT and the connections up.
      if (n >= 5) latencies.push(performance.now() - t0);
      if (flow.outcome !== 'done' || flow.result?.queued !== false)
        throw new Error(`earn ${n} ended ${flow.outcome}: ${JSON.stringify(flow)}`);
      if ((n + 1) % 100 === 0) log(`flow: ${n + 1} earns`);
    }
    const seconds = (performance.now() - started) / 1000;
    const p99 = percentile(latencies, 99);
    return {
      id: 'swipe-to-result',
      group: 10,
      name: 'earn: swipe to result on the screens',
      setting: 'simulator pty, driver, flow, outbox, engine, WebSocket',
      figure: opts.earns / seconds,
      unit: 'earns/s',
      p50Ms: percentile(latencies, 50),
      p99Ms: p99,
      samples: latencies.length,
      verdict: p99 < SWIPE_TO_RESULT_TARGET_MS ? 'PASS' : 'MISS',
      against: `feels instant: p99 < ${SWIPE_TO_RESULT_TARGET_MS} ms; one earn at a time (flow started, card swiped, done event)`,
    };
  } finally {
    ws.close();
    await close();
  }
}
