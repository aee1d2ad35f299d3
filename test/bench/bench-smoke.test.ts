// Smoke test of `npm run bench`: runs bench/run.ts --quick in a child process and checks that the
// table has every row with a positive figure, and that the JSON file holds the same rows. It checks
// that the bench works, not what the figures are (a short run on a busy machine says little).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// Row 12 starts eight engine processes one after another (tsx compiles each): slow on a starved CPU.
const TIMEOUT_MS = 420_000;

/** [row id, text in the benchmark column, text in the setting column, unit] */
const EXPECTED: [string, string, string, string][] = [
  ['fsync', 'raw fsync', '1 writer', 'fsyncs/s'],
  ['lowdb-1000', 'lowdb 7 append', '1,000 records', 'appends/s'],
  ['lowdb-10000', 'lowdb 7 append', '10,000 records', 'appends/s'],
  ['domain-full', 'direct domain call', 'sync=FULL', 'earns/s'],
  ['domain-normal', 'direct domain call', 'sync=NORMAL', 'earns/s'],
  ['http-full-1', 'HTTP seed 002 earn', '1 client, sync=FULL', 'earns/s'],
  ['http-full-16', 'HTTP seed 002 earn', '16 clients, sync=FULL', 'earns/s'],
  ['http-full-64', 'HTTP seed 002 earn', '64 clients, sync=FULL', 'earns/s'],
  ['http-normal-1', 'HTTP seed 002 earn', '1 client, sync=NORMAL', 'earns/s'],
  ['http-normal-16', 'HTTP seed 002 earn', '16 clients, sync=NORMAL', 'earns/s'],
  ['http-normal-64', 'HTTP seed 002 earn', '64 clients, sync=NORMAL', 'earns/s'],
  ['ledger-small', 'vs ledger size', 'k transfers', 'earns/s'],
  ['ledger-large', 'vs ledger size', 'k transfers', 'earns/s'],
  ['webhooks-burst', 'webhook deliveries', 'burst of 300', 'deliveries/s'],
  ['webhooks-steady', 'webhook deliveries', 'steady', 'deliveries/s'],
  ['frames-zvt-serial', 'ZVT serial frames', '-byte frames', 'frames/s'],
  ['frames-zvt-tcp', 'ZVT TCP APDU stream', '-byte frames', 'frames/s'],
  ['frames-stx-etx', 'STX/ETX/LRC packets', '-byte frames', 'frames/s'],
  ['frames-magstripe', 'magstripe swipe decode', '-byte frames', 'frames/s'],
  ['frames-hid-keyboard', 'HID keyboard reports', '8-byte frames', 'frames/s'],
  ['frames-magtek', 'MagTek HID report decode', '337-byte frames', 'frames/s'],
  ['swipe-latency', 'swipe to card event', 'socat pty, 115200 baud', 'swipes/s'],
  ['claims-store', 'createClaim(ctx) claims', 'store-funded', 'claims/s'],
  ['claims-member', 'createClaim(ctx) claims', 'member-funded', 'claims/s'],
  ['outbox-enqueue', 'till outbox enqueue (SQLite FULL)', 'queued', 'enqueues/s'],
  ['outbox-drain', 'till outbox drain to the engine', 'one request at a time', 'earns/s'],
  ['outbox-drain-central', 'till outbox drain, long outage', '2,000 queued, engine process', 'earns/s'],
  ['outbox-drain-engine', 'engine earn, same engine process', '64 clients, one earn per request', 'earns/s'],
  [
    'outbox-drain-central-postgres',
    'till outbox drain, long outage',
    '2,000 queued, engine process on PostgreSQL',
    'earns/s',
  ],
  [
    'outbox-drain-engine-postgres',
    'engine earn, same engine process',
    '64 clients, one earn per request on PostgreSQL',
    'earns/s',
  ],
  ['swipe-to-result', 'earn: swipe to result on the screens', 'flow, outbox, engine, WebSocket', 'earns/s'],
  ['swipe-to-display', 'earn: swipe to cashback on the display', 'the display page in Chromium', 'earns/s'],
  ['bundle-cashier', 'cashier screen, first load', 'build files, gzip -9', 'KB gzip'],
  ['bundle-display', 'display screen, first load', 'build files, gzip -9', 'KB gzip'],
  ['bundle-manager', 'manager screen, first load', 'build files, gzip -9', 'KB gzip'],
  ['central-pgbench', 'pgbench TPC-B-like on PostgreSQL', '8 clients, scale 1', 'tps'],
  ['central-pg-1', 'central seed 002 earn on PostgreSQL', '1 engine, 64 clients', 'earns/s'],
  ['central-pg-2', 'central seed 002 earn on PostgreSQL', '2 engines, 64 clients', 'earns/s'],
  ['central-pg-4', 'central seed 002 earn on PostgreSQL', '4 engines, 64 clients', 'earns/s'],
  ['central-sqlite', 'central seed 002 earn on SQLite', '1 engine, 64 clients, sync=FULL', 'earns/s'],
];

function runQuickBench(jsonPath: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/run.ts', '--quick', '--json', jsonPath],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench --quick did not finish in ${TIMEOUT_MS / 1000} s\n${stderr}`));
    }, TIMEOUT_MS - 10_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm run bench -- --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'prints one table with every row and a positive figure, and writes the same rows as JSON',
    async () => {
      const jsonPath = join(dir, 'latest.json');
      const { code, stdout, stderr } = await runQuickBench(jsonPath);
      expect(code, stderr).toBe(0);

      const lines = stdout.split('\n');
      expect(lines[0]).toMatch(/target: >= 5,000 durable earns\/s over HTTP at 64 clients with p99 < 25 ms/);
      const header = lines.find((l) => /^\s*#\s/.test(l));
      expect(header).toMatch(/figure\s+unit\s+p50 ms\s+p99 ms\s+verdict\s+judged against/);

      const rowLines = lines.filter((l) => /^\s*\d{1,2}\s/.test(l));
      expect(rowLines).toHaveLength(EXPECTED.length);
      const report = JSON.parse(readFileSync(jsonPath, 'utf8')) as {
        rows: { id: string; figure: number; unit: string; verdict?: string }[];
      };
      expect(report.rows.map((r) => r.id)).toEqual(EXPECTED.map(([id]) => id));

      EXPECTED.forEach(([id, name, setting, unit], i) => {
        const line = rowLines[i] ?? '';
        expect(line, id).toContain(name);
        expect(line, id).toContain(setting);
        const figure = new RegExp(`\\s([\\d,]+(?:\\.\\d+)?)\\s+${unit.replace('/', '\\/')}\\s`).exec(line);
        expect(figure, `${id}: no figure in "${line}"`).not.toBeNull();
        expect(Number(figure?.[1]?.replace(/,/g, '')), `${id}: ${line}`).toBeGreaterThan(0);
        expect(report.rows[i]?.figure, id).toBeGreaterThan(0);
        expect(report.rows[i]?.unit, id).toBe(unit);
      });

      const target = rowLines[EXPECTED.findIndex(([id]) => id === 'http-full-64')] ?? '';
      expect(target).toMatch(/\s(PASS|MISS)\s/);
      expect(rowLines.join('\n')).not.toMatch(/LEDGER:|LOST|BAD SIG|DUPLICATED|TIMEOUT|CHECK FAILED/);
      for (const judged of ['swipe-latency', 'swipe-to-result', 'swipe-to-display', 'central-pg-4']) {
        const row = rowLines[EXPECTED.findIndex(([id]) => id === judged)] ?? '';
        expect(row, judged).toMatch(/\s(PASS|MISS)\s/);
      }
      // How many earns shared a PostgreSQL transaction: from the transaction ids the server gave out.
      for (const id of ['central-pg-1', 'central-pg-2', 'central-pg-4']) {
        const row = rowLines[EXPECTED.findIndex(([expected]) => expected === id)] ?? '';
        const shared = /; (\d+\.\d) earns a transaction;/.exec(row);
        expect(shared, `${id}: ${row}`).not.toBeNull();
        expect(Number(shared?.[1]), id).toBeGreaterThan(0);
      }
    },
    TIMEOUT_MS,
  );
});
