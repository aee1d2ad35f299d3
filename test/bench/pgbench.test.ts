// bench/pgbench.ts: the parsers of pgbench's transaction log and summary (properties over generated
// logs, and the malformed lines they must refuse), then a real pgbench against a real server started
// durable, as row 12 starts it.
import fc from 'fast-check';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPostgresDatabase } from '../../bench/load/database.ts';
import { parsePgbenchLog, parsePgbenchTps, runPgbench } from '../../bench/pgbench.ts';
import { postgresCpuSeconds } from '../../bench/proc-cpu.ts';
import { startPostgresServer } from '../fixtures/postgres-server.ts';

const uint = fc.nat({ max: 2 ** 40 });
/** One transaction as pgbench 15 logs it: the time in µs, or failed/skipped; lag and retries optional. */
const entry = fc.record({
  client: fc.nat({ max: 1_000 }),
  tx: uint,
  time: fc.oneof(uint, fc.constantFrom('failed' as const, 'skipped' as const)),
  script: fc.nat({ max: 9 }),
  epoch: uint,
  us: fc.nat({ max: 999_999 }),
  extra: fc.array(uint, { maxLength: 2 }),
});
type Entry = typeof entry extends fc.Arbitrary<infer T> ? T : never;
const line = (e: Entry) => [e.client, e.tx, e.time, e.script, e.epoch, e.us, ...e.extra].join(' ');

describe('parsePgbenchLog', () => {
  it('gives back every logged time in order and counts the transactions that did not complete', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 200 }), fc.boolean(), (entries, finalNewline) => {
        const text = entries.map(line).join('\n') + (finalNewline && entries.length ? '\n' : '');
        const parsed = parsePgbenchLog(text);
        expect(parsed.latenciesUs).toEqual(
          entries.flatMap((e) => (typeof e.time === 'number' ? [e.time] : [])),
        );
        expect(parsed.notCompleted).toBe(entries.filter((e) => typeof e.time === 'string').length);
      }),
    );
  });

  /** Ways a line can be wrong: each must be refused with its line number, never read as a figure. */
  const corruptions: [string, (fields: string[]) => string][] = [
    ['a field missing', (f) => f.slice(0, 5).join(' ')],
    ['a field too many', (f) => [...f.slice(0, 6), '1', '2', '3'].join(' ')],
    ['a fractional time', (f) => [f[0], f[1], '12.5', ...f.slice(3)].join(' ')],
    ['a negative client', (f) => [`-${f[0]}`, ...f.slice(1)].join(' ')],
    ['a word for the time', (f) => [f[0], f[1], 'late', ...f.slice(3)].join(' ')],
    ['a word in a numeric field', (f) => [...f.slice(0, 4), 'x', ...f.slice(5)].join(' ')],
    ['tabs between fields', (f) => f.join('\t')],
    ['an empty line', () => ''],
  ];
  it.each(corruptions)('refuses a log with %s, naming the line', (_name, corrupt) => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 20 }), fc.nat(), (entries, at) => {
        const lines = entries.map(line);
        const bad = at % lines.length;
        lines[bad] = corrupt(lines[bad]!.split(' '));
        // A good line after it: the empty line is not the file's last newline.
        const text = `${lines.join('\n')}\n${line(entries[0]!)}`;
        expect(() => parsePgbenchLog(text)).toThrow(new RegExp(`line ${bad + 1}\\b`));
      }),
    );
  });
});

describe('parsePgbenchTps', () => {
  const summary = (tps: string) =>
    [
      'transaction type: <builtin: TPC-B (sort of)>',
      'scaling factor: 8',
      'number of clients: 8',
      'number of failed transactions: 0 (0.000%)',
      'latency average = 2.041 ms',
      'initial connection time = 12.345 ms',
      `tps = ${tps} (without initial connection time)`,
    ].join('\n');

  it('reads the tps of the summary', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10_000_000 }), fc.nat({ max: 999_999 }), (whole, fraction) => {
        const text = `${whole}.${String(fraction).padStart(6, '0')}`;
        expect(parsePgbenchTps(summary(text))).toBe(Number(text));
      }),
    );
  });

  it('refuses a summary without that line rather than guess', () => {
    expect(() => parsePgbenchTps(summary('NaN'))).toThrow(/printed no "tps/);
    expect(() => parsePgbenchTps('pgbench: error: connection failed')).toThrow(/printed no "tps/);
  });
});

describe('runPgbench on a durable server', () => {
  it('loads the tables and reports tps and latencies from the transaction log', async () => {
    const server = await startPostgresServer({ durable: true });
    const dir = mkdtempSync(join(tmpdir(), 'tillback-pgbench-test-'));
    try {
      const url = await createPostgresDatabase(server, 'pgbench_test');
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const settings = await client.query<{ name: string; setting: string }>(
        `SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes') ORDER BY name`,
      );
      await client.end();
      expect(settings.rows).toEqual([
        { name: 'fsync', setting: 'on' },
        { name: 'full_page_writes', setting: 'on' },
        { name: 'synchronous_commit', setting: 'on' },
      ]);

      const serverCpu = () => postgresCpuSeconds(join(server.dir, 'data'));
      const before = serverCpu();
      const r = await runPgbench({ url, scale: 1, clients: 2, jobs: 2, seconds: 1, dir, serverCpu });
      expect(r.transactions).toBeGreaterThan(0);
      // The server's CPU during the run: some, and no more than it used in all since `before` (the
      // backends of pgbench's connections have exited by now: their time is the postmaster's cutime).
      expect(r.serverCpuSeconds).toBeGreaterThan(0);
      expect(r.serverCpuSeconds).toBeLessThanOrEqual(serverCpu()! - before! + 1e-9);
      expect(postgresCpuSeconds(join(dir, 'no-such-data-dir'))).toBeUndefined();
      expect(r.notCompleted).toBe(0);
      expect(r.tps).toBeGreaterThan(0);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
      // pgbench's own count over its run and the log's lines describe the same transactions.
      expect(r.transactions).toBeGreaterThanOrEqual(Math.floor(r.tps * 0.5));
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
