// `npm run bench`: runs every benchmark in turn and prints one table (stdout), with the same rows as
// JSON in bench/results/latest.json. Progress goes to stderr. The bench reports; it never fails
// the build on a figure (PASS/MISS is printed, the exit code is 0 unless a benchmark crashed).
//
//   npm run bench                       full run (about 4 minutes, plus 2 to 5 for the two drains of 100,000)
//   npm run bench -- --quick            short run with small sizes (the smoke test uses it)
//   npm run bench -- --only http,domain --http-seconds 20
//   npm run bench -- --profile          also writes a CPU profile of the HTTP engine process
//   npm run bench -- --only webhooks    webhook deliveries/s and the commit -> delivery delay
//   npm run bench -- --only claims      cashout claims created/s (store- and member-funded)
//   npm run bench -- --only outbox      the till's outbox: enqueue latency at 10k queued, drain rate; 100k drained into an engine process on SQLite, then on PostgreSQL
//   npm run bench -- --only flow        an earn from the swipe to the result: on the event stream, on the display
//   npm run bench -- --only screens     what each screen's page and build files weigh, gzipped
//   npm run bench -- --only central     earns/s on PostgreSQL at 1, 2 and 4 engines beside pgbench, and on SQLite
//
// Options: --quick, --only fsync,lowdb,domain,http,ledger,webhooks,drivers,claims,outbox,flow,screens,central, --seconds N (domain and ledger runs),
// --http-seconds N, --fsync-seconds N, --lowdb-seconds N, --large N (ledger size to grow to),
// --webhook-events N (the webhook burst, default 5,000), --outbox-items N (default 10,000), --outbox-batch N (default 100), --drain-items N (default 100,000),
// --flow-earns N (default 300),
// --central-seconds N (each step of the central row: pgbench and every engine count, default 10),
// --dir DIR (where temporary databases go; default the OS temp dir), --json PATH, --profile,
// --trace (the HTTP engine times every SQL statement and logs the split to stderr; slows it a little),
// --clients 1,16,64 and --sync FULL,NORMAL (narrow the HTTP and domain runs, e.g. for a profile).
import { cpus, loadavg, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdirSync } from 'node:fs';
import { benchCentralEarn } from './central-earn.ts';
import { benchClaims } from './claims.ts';
import { benchOutbox } from './outbox.ts';
import { benchOutboxDrains } from './outbox-drain.ts';
import { benchDomainEarn } from './domain-earn.ts';
import { benchDisplayEarn } from './display-earn.ts';
import { benchDrivers } from './drivers.ts';
import { benchFlowEarn } from './flow-earn.ts';
import { benchFsync } from './fsync.ts';
import { benchScreenBundles } from './screen-bundles.ts';
import { benchHttpEarn, TARGET } from './http-earn.ts';
import { benchLedgerSize } from './ledger-size.ts';
import { benchLowdb } from './lowdb.ts';
import { log } from './setup.ts';
import { renderTable, writeJson, type Row } from './table.ts';
import { benchWebhooks } from './webhooks.ts';

const BENCHES = [
  'fsync',
  'lowdb',
  'domain',
  'http',
  'ledger',
  'webhooks',
  'drivers',
  'claims',
  'outbox',
  'flow',
  'screens',
  'central',
] as const;
type BenchName = (typeof BENCHES)[number];

export interface RunOptions {
  quick: boolean;
  only: BenchName[];
  seconds: number;
  warmupSeconds: number;
  httpSeconds: number;
  fsyncSeconds: number;
  lowdbSeconds: number;
  large: number;
  small: number;
  webhookEvents: number;
  webhookSteadySeconds: number;
  /** Till outbox: items enqueued (and the queue size the latency is read at), then drained. */
  outboxItems: number;
  /** The long outage: earns queued with the engine process stopped, then drained into it. */
  drainItems: number;
  /** Row 9's sender batch size (1: one operation per request, as before batches). */
  outboxBatch: number;
  /** Earns by swipe through the whole till, one at a time. */
  flowEarns: number;
  /** Central row: seconds of pgbench and of each engine count; pgbench's scale. */
  centralSeconds: number;
  pgbenchScale: number;
  /** Drivers: seconds per framer/decoder, and swipes timed through the pty. */
  decoderSeconds: number;
  swipes: number;
  dir: string | undefined;
  json: string;
  profile: boolean;
  trace: boolean;
  clients: number[];
  modes: ('FULL' | 'NORMAL')[];
}

export function parseArgs(argv: string[]): RunOptions {
  const value = (name: string) => {
    const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    if (i < 0) return undefined;
    const a = argv[i] ?? '';
    return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
  };
  const number = (name: string, fallback: number) => {
    const v = value(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, not ${v}`);
    return n;
  };
  const quick = argv.includes('--quick');
  const only = (value('only')
    ?.split(',')
    .map((s) => s.trim()) ?? [...BENCHES]) as BenchName[];
  for (const name of only) {
    if (!BENCHES.includes(name)) throw new Error(`--only takes ${BENCHES.join(', ')}; got "${name}"`);
  }
  return {
    quick,
    only,
    seconds: number('seconds', quick ? 1 : 5),
    warmupSeconds: quick ? 0.3 : 1,
    httpSeconds: number('http-seconds', quick ? 1 : 10),
    fsyncSeconds: number('fsync-seconds', quick ? 0.5 : 3),
    lowdbSeconds: number('lowdb-seconds', quick ? 0.3 : 2),
    large: number('large', quick ? 20_000 : 1_000_000),
    small: quick ? 2_000 : 10_000,
    webhookEvents: number('webhook-events', quick ? 300 : 5_000),
    webhookSteadySeconds: quick ? 1 : 5,
    outboxItems: number('outbox-items', quick ? 500 : 10_000),
    drainItems: number('drain-items', quick ? 2_000 : 100_000),
    outboxBatch: number('outbox-batch', 100),
    flowEarns: number('flow-earns', quick ? 30 : 300),
    centralSeconds: number('central-seconds', quick ? 1 : 10),
    pgbenchScale: quick ? 1 : 8,
    decoderSeconds: quick ? 0.2 : 1,
    swipes: quick ? 30 : 300,
    dir: value('dir'),
    json: value('json') ?? fileURLToPath(new URL('./results/latest.json', import.meta.url)),
    profile: argv.includes('--profile'),
    trace: argv.includes('--trace'),
    clients: (value('clients') ?? '1,16,64').split(',').map((c) => {
      const n = Number(c);
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`--clients takes client counts such as 1,16,64; got "${c}"`);
      return n;
    }),
    modes: (value('sync') ?? 'FULL,NORMAL').split(',').map((m) => {
      const mode = m.trim().toUpperCase();
      if (mode !== 'FULL' && mode !== 'NORMAL')
        throw new Error(`--sync takes FULL and/or NORMAL; got "${m}"`);
      return mode;
    }),
  };
}

/** Adds the cross-row comparisons: FULL against the fsync rate, NORMAL against FULL, lowdb against the engine. */
function compare(rows: Row[]): void {
  const byId = new Map(rows.map((r) => [r.id, r]));
  const fsync = byId.get('fsync');
  const times = (a: number, b: number) => `${(a / b).toFixed(a / b >= 10 ? 0 : 2)}x`;
  /** Adds a comparison before the row's CPU note, which stays last. */
  const add = (r: Row, text: string) => {
    const at = r.against.indexOf('; CPU:');
    r.against = at < 0 ? `${r.against}; ${text}` : `${r.against.slice(0, at)}; ${text}${r.against.slice(at)}`;
  };
  for (const r of rows) {
    if (r.unit !== 'earns/s') continue;
    if (/-full(-|$)/.test(r.id) && fsync) {
      add(r, `${times(r.figure, fsync.figure)} the fsync rate`);
    }
    const full = byId.get(r.id.replace('-normal', '-full'));
    if (r.id.includes('-normal') && full) add(r, `${times(r.figure, full.figure)} FULL`);
  }
  const lowdb10k = byId.get('lowdb-10000');
  const enqueue = byId.get('outbox-enqueue');
  if (enqueue && lowdb10k) add(enqueue, `${times(enqueue.figure, lowdb10k.figure)} lowdb's rate, fsync'd`);
  const swipe = byId.get('swipe-latency');
  const flow = byId.get('swipe-to-result');
  if (flow?.p99Ms !== undefined && swipe?.p99Ms !== undefined)
    add(flow, `the swipe alone (row 7) p99 ${swipe.p99Ms.toFixed(1)} ms`);
  const row4 = byId.get('http-full-64');
  const central = byId.get('central-sqlite');
  if (row4 && central)
    add(central, `row 4 (64 clients, FULL): ${Math.round(row4.figure).toLocaleString('en-US')}/s`);
  const engine = byId.get('domain-full');
  for (const r of rows.filter((x) => x.group === 2)) {
    if (engine) add(r, `engine FULL does ${times(engine.figure, r.figure)} this, fsync'd`);
  }
}

export async function runAll(opts: RunOptions): Promise<{ text: string; rows: Row[] }> {
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  const rows: Row[] = [];
  const baseDir = opts.dir;
  const want = (name: BenchName) => opts.only.includes(name);
  if (want('fsync')) {
    log(`fsync: ${opts.fsyncSeconds} s`);
    rows.push(...(await benchFsync({ seconds: opts.fsyncSeconds, baseDir })));
  }
  if (want('lowdb')) {
    log(`lowdb: 1k and 10k records, ${opts.lowdbSeconds} s each`);
    rows.push(...(await benchLowdb({ sizes: [1_000, 10_000], seconds: opts.lowdbSeconds, baseDir })));
  }
  if (want('domain')) {
    log(`domain earn: ${opts.modes.join(' and ')}, ${opts.seconds} s each`);
    rows.push(
      ...(await benchDomainEarn({
        seconds: opts.seconds,
        warmupSeconds: opts.warmupSeconds,
        inFlight: 64,
        modes: opts.modes,
        baseDir,
      })),
    );
  }
  if (want('http')) {
    log(
      `http earn: ${opts.modes.join(' and ')} at ${opts.clients.join(', ')} clients, ${opts.httpSeconds} s each`,
    );
    let nodeArgs: string[] = [];
    if (opts.profile) {
      const profiles = fileURLToPath(new URL('./results/profiles/', import.meta.url));
      mkdirSync(profiles, { recursive: true });
      nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profiles}`];
      log(
        `profiling the engine process into ${profiles} (summarise with: npx tsx bench/profile-summary.ts <file>)`,
      );
    }
    rows.push(
      ...(await benchHttpEarn({
        seconds: opts.httpSeconds,
        warmupSeconds: opts.quick ? 0.5 : 2,
        clients: opts.clients,
        modes: opts.modes,
        baseDir,
        nodeArgs,
        trace: opts.trace,
      })),
    );
  }
  if (want('ledger')) {
    log(
      `ledger size: ${opts.small.toLocaleString('en-US')} then ${opts.large.toLocaleString('en-US')} transfers`,
    );
    rows.push(
      ...(await benchLedgerSize({
        seconds: opts.seconds,
        warmupSeconds: opts.warmupSeconds,
        inFlight: 64,
        small: opts.small,
        large: opts.large,
        baseDir,
      })),
    );
  }
  if (want('webhooks')) {
    log(`webhooks: a burst of ${opts.webhookEvents} events, then ${opts.webhookSteadySeconds} s steady`);
    rows.push(
      ...(await benchWebhooks({
        burst: opts.webhookEvents,
        steadySeconds: opts.webhookSteadySeconds,
        baseDir,
      })),
    );
  }
  if (want('drivers')) {
    log(
      `drivers: frames/s per framer and decoder, ${opts.decoderSeconds} s each; ${opts.swipes} swipes through a pty`,
    );
    rows.push(
      ...(await benchDrivers({ secondsPerDecoder: opts.decoderSeconds, swipes: opts.swipes, baseDir })),
    );
  }
  if (want('claims')) {
    log('claims: created through the domain, store- then member-funded');
    rows.push(
      ...(await benchClaims({
        seconds: opts.seconds,
        warmupSeconds: opts.warmupSeconds,
        inFlight: 64,
        baseDir,
      })),
    );
  }
  if (want('outbox')) {
    log(`outbox: ${opts.outboxItems} earns enqueued, then drained`);
    rows.push(...(await benchOutbox({ items: opts.outboxItems, batchSize: opts.outboxBatch, baseDir })));
    rows.push(
      ...(await benchOutboxDrains({
        items: opts.drainItems,
        engineSeconds: opts.quick ? 1 : 5,
        drainLimitSeconds: 600,
        baseDir,
      })),
    );
  }
  if (want('flow')) {
    log(`flow: ${opts.flowEarns} earns by swipe through the till core`);
    rows.push(await benchFlowEarn({ earns: opts.flowEarns, baseDir }));
    log(`flow: ${opts.flowEarns} earns by swipe, to the customer display in Chromium`);
    rows.push(await benchDisplayEarn({ earns: opts.flowEarns, baseDir }));
  }
  if (want('screens')) {
    log('screens: the build each screen loads, gzipped');
    rows.push(...(await benchScreenBundles()));
  }
  if (want('central')) {
    rows.push(
      ...(await benchCentralEarn({
        seconds: opts.centralSeconds,
        warmupSeconds: opts.quick ? 0.5 : 2,
        pgbenchScale: opts.pgbenchScale,
        baseDir,
      })),
    );
  }

  compare(rows);
  const seconds = (Date.now() - started) / 1000;
  const title =
    `Tillback engine benchmark${opts.quick ? ' (--quick: short runs, small sizes)' : ''} -- target: >= ` +
    `${TARGET.earnsPerSecond.toLocaleString('en-US')} durable earns/s over HTTP at ${TARGET.clients} clients ` +
    `with p99 < ${TARGET.p99Ms} ms (sync=FULL), no slowdown from 10k to 1M transfers`;
  const others = rows.map((r) => r.details?.['othersCpu']).filter((x): x is number => typeof x === 'number');
  const notes = [
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ` +
      `${loadBefore.toFixed(2)} at start and ${(loadavg()[0] ?? 0).toFixed(2)} at end; other processes on the machine skew figures.`,
    `Files in ${baseDir ?? tmpdir()}; ${seconds.toFixed(0)} s in all. earns/s count 2xx responses (HTTP) or resolved earn() ` +
      `calls; latencies are per operation. JSON: ${opts.json}`,
    ...(others.length
      ? [
          `Other processes used ${Math.round(Math.min(...others) * 100)}-${Math.round(Math.max(...others) * 100)}% of a core ` +
            `during the measurements ("others" per row): on 2 cores that time is taken from the engine and the load generator.`,
        ]
      : []),
  ];
  const report = { title, notes, rows };
  await writeJson(opts.json, {
    ...report,
    options: opts,
    startedAt: new Date(started).toISOString(),
    seconds,
  });
  return { text: renderTable(report), rows };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const opts = parseArgs(process.argv.slice(2));
  const { text } = await runAll(opts);
  process.stdout.write(text);
}
