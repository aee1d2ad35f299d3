// The engine under HTTP load, in its own process so that the load generator does not share its event
// loop. Opens a fresh SQLite file, creates a till app and a 5% program, listens on 127.0.0.1:<free
// port> and prints one JSON line: {"port", "appId", "secret", "programId", "dir"}. On "stop" (or
// stdin closing, or SIGTERM) it checks the ledger, prints {"stopped": true, "transfers", "problems"}
// and exits, removing its files. With --trace, "trace" prints SQL timings (bench/sql-trace.ts).
//   node --import tsx bench/engine-process.ts --sync FULL|NORMAL [--dir <base dir>]
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { verifyLedger } from '../engine/domain/ledger.ts';
import { openBenchEngine, type Synchronous } from './setup.ts';
import { installSqlTrace } from './sql-trace.ts';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const synchronous = (arg('sync') ?? 'FULL').toUpperCase();
if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
  console.error(`--sync must be FULL or NORMAL, not ${synchronous}`);
  process.exit(2);
}

// --trace: time every SQL statement; the command "trace" prints the figures since the last one.
const trace = process.argv.includes('--trace') ? installSqlTrace() : undefined;
const b = await openBenchEngine({ synchronous: synchronous as Synchronous, baseDir: arg('dir') });
await b.engine.listen();
const { port } = b.engine.app.server.address() as AddressInfo;
process.stdout.write(
  `${JSON.stringify({ port, appId: b.appId, secret: b.secret, programId: b.programId, dir: b.dir })}\n`,
);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const ledger = await b.store.read((tx) => verifyLedger(tx));
  await b.close();
  process.stdout.write(
    `${JSON.stringify({ stopped: true, transfers: ledger.transfers, problems: ledger.problems.map((p) => p.message) })}\n`,
  );
  process.exit(0);
}
createInterface({ input: process.stdin })
  .on('line', (line) => {
    if (line.trim() === 'stop') void stop();
    if (line.trim() === 'trace') process.stdout.write(`${JSON.stringify({ trace: trace?.() ?? null })}\n`);
  })
  .on('close', () => void stop());
process.on('SIGTERM', () => void stop());
