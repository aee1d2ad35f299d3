// The till's history at a million operations: the streamed CSV export over the local API (time,
// rows/s, and how far the heap and RSS grew while it ran: it must stay far below the export's size),
// the first page of the list and the day totals over 31 days. Rows are written straight into the
// till's file, one transaction and one prepared statement.
//   npx tsx bench/history-csv.ts [--rows 1000000]
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createLocalApi, SESSION_HEADER } from '../till/api/server.ts';
import { historyRoutes } from '../till/history/routes.ts';
import { openOutbox } from '../till/outbox/outbox.ts';
import { benchTempDir, log, removeDir } from './setup.ts';

const i = process.argv.indexOf('--rows');
const ROWS = i >= 0 ? Number(process.argv[i + 1]) : 1_000_000;
const DAY = 86_400_000;
const MANAGER = { name: 'bench-manager', pin: '40213957' };
const STATES = ['delivered', 'delivered', 'delivered', 'queued', 'failed', 'voided'] as const;

const dir = benchTempDir(undefined, 'history');
const path = join(dir, 'till.sqlite');
const outbox = await openOutbox({
  path,
  engine: { url: 'http://127.0.0.1:9', appId: 'app_unused', apiKey: 'unused' },
});
const now = Date.now();
const start = now - 60 * DAY;

let t = performance.now();
const db = new Database(path);
db.pragma('busy_timeout = 5000');
const insert = db.prepare(
  `INSERT INTO operations (id, type, amount, currency, member_ref, member, program_id, reference, cashier, state,
                           result, created_at, updated_at) VALUES (?, 'earn', ?, 'AUD', ?, '{}', 1, ?, ?, ?, ?, ?, ?)`,
);
db.transaction(() => {
  for (let n = 0; n < ROWS; n++) {
    const state = STATES[n % STATES.length]!;
    const at = start + Math.floor((n * 60 * DAY) / ROWS);
    const amount = 100 + (n % 100_000);
    const result =
      state === 'delivered'
        ? JSON.stringify({ cashback_earned: Math.floor(amount / 20), currency: 'AUD' })
        : state === 'queued'
          ? null
          : 'program closed';
    insert.run(
      `op-${n}`,
      amount,
      `email:m${n % 5_000}@bench.example`,
      `SALE-${n}`,
      `cashier-${n % 12}`,
      state,
      result,
      at,
      at,
    );
  }
})();
db.close();
const seedSeconds = (performance.now() - t) / 1000;
log(`seeded ${ROWS.toLocaleString('en-US')} operations in ${seedSeconds.toFixed(1)} s`);

const api = await createLocalApi({
  outbox,
  config: { firstManager: MANAGER },
  logStream: { write: () => true } as never,
  routes: [historyRoutes({ outbox, timeZone: 'UTC' })],
});
const signIn = await fetch(`${api.url}/api/operators/sign-in`, {
  method: 'POST',
  headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
  body: JSON.stringify(MANAGER),
});
const { session } = (await signIn.json()) as { session: string };
const headers = { authorization: `Bearer ${api.token}`, [SESSION_HEADER]: session };

async function timed(url: string, times: number): Promise<number[]> {
  const ms: number[] = [];
  for (let n = 0; n < times; n++) {
    const t0 = performance.now();
    const r = await fetch(`${api.url}${url}`, { headers });
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}
const median = (xs: number[]) => xs[Math.floor(xs.length / 2)]!;

const firstPage = await timed('/api/history?limit=50', 21);
const filteredPage = await timed('/api/history?limit=50&cashier=cashier-4&state=failed', 21);
const totals = await timed('/api/history/totals', 5);

global.gc?.();
const heap0 = process.memoryUsage().heapUsed;
const rss0 = process.memoryUsage().rss;
let heapPeak = heap0;
let rssPeak = rss0;
const sampler = setInterval(() => {
  const m = process.memoryUsage();
  heapPeak = Math.max(heapPeak, m.heapUsed);
  rssPeak = Math.max(rssPeak, m.rss);
}, 50);
t = performance.now();
const r = await fetch(`${api.url}/api/history.csv`, { headers });
let bytes = 0;
let lines = 0;
for await (const chunk of r.body as unknown as AsyncIterable<Uint8Array>) {
  bytes += chunk.length;
  for (const b of chunk) if (b === 0x0a) lines++;
}
const csvSeconds = (performance.now() - t) / 1000;
clearInterval(sampler);
if (lines !== ROWS + 1) throw new Error(`CSV had ${lines} lines, expected ${ROWS + 1}`);

const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
const rows: [string, string][] = [
  ['operations', ROWS.toLocaleString('en-US')],
  ['seed (one transaction)', `${seedSeconds.toFixed(1)} s`],
  ['GET /api/history?limit=50, p50', `${median(firstPage).toFixed(1)} ms`],
  ['  with cashier and state filters, p50', `${median(filteredPage).toFixed(1)} ms`],
  ['GET /api/history/totals (31 days), p50', `${median(totals).toFixed(0)} ms`],
  [
    'GET /api/history.csv',
    `${csvSeconds.toFixed(1)} s, ${Math.round(ROWS / csvSeconds).toLocaleString('en-US')} rows/s`,
  ],
  ['  CSV size', `${mb(bytes)} MiB`],
  ['  heap growth while streaming (peak)', `${mb(heapPeak - heap0)} MiB`],
  ['  RSS growth while streaming (peak)', `${mb(rssPeak - rss0)} MiB`],
];
const width = Math.max(...rows.map(([k]) => k.length));
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);

await api.close();
await outbox.close();
removeDir(dir);
