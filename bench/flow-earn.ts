// Swipe-to-result latency of an earn through the whole chain: the simulated reader on a socat
// pseudo-terminal, the serial driver and the device manager, the earn flow, the outbox (one fsync'd
// transaction), the sender, the embedded engine over HTTP, back to the flow and out as a `flow` event
// on the local API's WebSocket. One earn at a time, as a till does: each flow is started over the
// local API, then the card is swiped, and the clock runs from the swipe to the `done` event.
//   npx tsx bench/flow-earn.ts [--earns 200]
import WebSocket from 'ws';
import { VISA_TEST_PAN } from '../drivers/simulate/cards.ts';
import { startTill } from '../till/core.ts';
import { readTillState } from '../till/secrets.ts';
import { benchTempDir, log, percentile, removeDir } from './setup.ts';

const i = process.argv.indexOf('--earns');
const EARNS = i >= 0 ? Number(process.argv[i + 1]) : 200;

const dir = benchTempDir(undefined, 'flow-earn');
const till = await startTill(
  { dataDir: dir, logDir: `${dir}/logs` },
  { simulate: 'always', simulatorOut: () => undefined, handleSignals: false },
);
const sim = till.simulation;
if (!sim) throw new Error('the simulated terminals did not start');

// A member at the engine with the simulator's card linked, so that a swipe names them.
const { appId, apiKey } = readTillState(till.paths.secrets);
if (!appId || !apiKey) throw new Error('the till has no app credentials');
const engine = async (path: string, body: unknown, key: string) => {
  const res = await fetch(`${till.engineUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-app-id': appId,
      'x-api-key': apiKey,
      'idempotency-key': key,
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};
const member = await engine('/v1/members', { email: 'bench@example.com', name: 'Bench' }, 'bench-member');
await engine(`/v1/members/${String(member['member_id'])}/cards`, { pan: VISA_TEST_PAN }, 'bench-card');

const api = async (path: string, body: unknown, session?: string) => {
  const res = await fetch(`${till.apiUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${till.token}`,
      'content-type': 'application/json',
      ...(session ? { 'x-operator-session': session } : {}),
    },
    body: JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
};
const manager = till.firstManager!;
const { session } = (await api('/api/operators/sign-in', {
  name: manager.name,
  pin: manager.generatedPin,
})) as {
  session: string;
};

// Each `done` flow event, by flow id, as the screens get it.
const done = new Map<string, (result: unknown) => void>();
const ws = new WebSocket(`${till.apiUrl.replace('http', 'ws')}/api/events`);
await new Promise((resolve) => ws.once('open', resolve));
ws.send(JSON.stringify({ type: 'auth', token: till.token }));
ws.on('message', (data: Buffer) => {
  const m = JSON.parse(data.toString('utf8')) as {
    type: string;
    flow?: { flowId: string; outcome: string | null };
  };
  if (m.type === 'flow' && m.flow?.outcome) done.get(m.flow.flowId)?.(m.flow);
});

const latencies: number[] = [];
const started = performance.now();
for (let n = 0; n < EARNS; n++) {
  const { flowId } = (await api('/api/flows/earn', { amount: 1_000 + n }, session)) as { flowId: string };
  const finished = new Promise<{ outcome: string; result: { queued: boolean } | null }>((resolve) =>
    done.set(flowId, resolve as (r: unknown) => void),
  );
  const t0 = performance.now();
  await sim.swipe('visa');
  const flow = await finished;
  latencies.push(performance.now() - t0);
  if (flow.outcome !== 'done' || flow.result?.queued !== false)
    throw new Error(`earn ${n} ended ${flow.outcome}: ${JSON.stringify(flow)}`);
  if ((n + 1) % 50 === 0) log(`${n + 1} earns`);
}
const seconds = (performance.now() - started) / 1000;

const ms = (x: number) => `${x.toFixed(1)} ms`;
const rows: [string, string][] = [
  ['earns by swipe, one at a time', String(EARNS)],
  ['swipe to `done` flow event, p50', ms(percentile(latencies, 50))],
  ['  p99', ms(percentile(latencies, 99))],
  ['  max', ms(Math.max(...latencies))],
  ['earns/s (start, swipe, result)', (EARNS / seconds).toFixed(1)],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

ws.close();
await till.close();
removeDir(dir);
