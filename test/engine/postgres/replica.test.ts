// The chain report from a real streaming replica: a PostgreSQL server of this file's own and a hot
// standby of it (`pg_basebackup -R`, test/fixtures/postgres-server.ts), an engine writing to the
// primary and reading its report from the standby (`db.replicaUrl`, `ctx.laggingStore`).
//
// The proof that the report reads the standby: with replay paused there, an earn on the primary
// reaches the standby's WAL but not its data, and the report leaves it out while the primary (and the
// member's own balance) has it; replay resumed, the report has it. A stopped standby makes the report
// a 503 in the native error shape while earns, balances and /health go on, and it comes back with it.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tillReport } from '../../../engine/domain/reports.ts';
import { isReplicaUnavailable, openReplicaStore } from '../../../engine/store/replica.ts';
import type { Store } from '../../../engine/store/store.ts';
import { cleanEnv } from '../../fixtures/clean-env.ts';
import { startPostgresServer, type PostgresServer } from '../../fixtures/postgres-server.ts';
import { startHarness, type Harness } from '../harness.ts';

const root = resolve(import.meta.dirname, '../../..');
const DATABASE = 'tillback';
/** Replication, replay and server starts on a loaded 2-core machine: generous. */
const SLOW = 120_000;

let primary: PostgresServer | undefined;
let standby: PostgresServer | undefined;
let replica: Store | undefined;
let h: Harness;
let admin: Record<string, string>;
let till: Record<string, string>;
let programId: number;

/** One statement on one server, on a connection of its own (a server this file stops breaks no client). */
async function sql<T extends pg.QueryResultRow>(
  server: PostgresServer,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.url('postgres') });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  primary = await startPostgresServer();
  await sql(primary, `CREATE DATABASE ${DATABASE}`);
  standby = await primary.startStandby();
  replica = await openReplicaStore({ url: standby.url(DATABASE), poolSize: 2 });
  // The engine's migrations run on the primary (the harness opens it) and reach the standby by replication.
  h = await startHarness({}, { shared: primary.url(DATABASE) }, { laggingStore: replica });
  admin = (await h.app(['admin'])).headers;
  till = (await h.app(['cashback_read', 'cashback_write'], { store: 'Main St', till: 'Till 1' })).headers;
  programId = await h.program();
}, SLOW);

afterAll(async () => {
  await h?.close();
  await replica?.close();
  // The standby first: it streams from the primary.
  await standby?.stop();
  await primary?.stop();
});

const EMAIL = 'jane@example.com';

async function earn(purchase: number) {
  const res = await h.request({
    method: 'POST',
    url: '/v1/earn',
    headers: { ...till, 'idempotency-key': randomUUID() },
    body: { program_id: programId, member: { email: EMAIL }, member_name: 'Jane', purchase_amount: purchase },
  });
  expect(res.status, res.text).toBe(200);
  return res.body as { cashback_earned: number; balance: { available: number } };
}

async function balance(): Promise<number> {
  const res = await h.request({
    method: 'GET',
    url: `/v1/members/lookup?program_id=${programId}&email=${EMAIL}`,
    headers: till,
  });
  expect(res.status, res.text).toBe(200);
  return res.body.balance.available as number;
}

/** Everything the harness clock has seen: the report's range. */
const range = () => ({ from: Date.UTC(2026, 0, 1), to: h.clock.now + 1 });
const iso = (ms: number) => new Date(ms).toISOString();

function report() {
  const { from, to } = range();
  return h.request({
    method: 'GET',
    url: `/v1/reports/tills?from=${iso(from)}&to=${iso(to)}`,
    headers: admin,
  });
}

/** Main St's earns in the report: count and purchases. */
async function reportedEarns(): Promise<{ count: number; purchase_amount: number }> {
  const res = await report();
  expect(res.status, res.text).toBe(200);
  const row = (
    res.body.rows as { till: string | null; type: string; count: number; purchase_amount: number }[]
  )
    .filter((r) => r.till === 'Till 1' && r.type === 'earn')
    .at(0);
  return { count: row?.count ?? 0, purchase_amount: row?.purchase_amount ?? 0 };
}

/** The primary's WAL position now. */
async function primaryLsn(): Promise<string> {
  const [row] = await sql<{ lsn: string }>(primary!, 'SELECT pg_current_wal_lsn()::text AS lsn');
  return row!.lsn;
}

/** Waits until the standby has `what` ('receive': written to its WAL; 'replay': applied) up to `lsn`. */
async function standbyReached(what: 'receive' | 'replay', lsn: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const [row] = await sql<{ reached: boolean | null }>(
          standby!,
          `SELECT pg_last_wal_${what}_lsn() >= $1::pg_lsn AS reached`,
          [lsn],
        );
        return row?.reached;
      },
      { timeout: 60_000, interval: 100 },
    )
    .toBe(true);
}

describe('the chain report on a read replica', () => {
  it(
    'reads the standby: an earn it has received but not replayed is not in it until replay resumes',
    async () => {
      const first = 10_000;
      await earn(first);
      await standbyReached('replay', await primaryLsn());
      expect(await reportedEarns()).toEqual({ count: 1, purchase_amount: first });

      // From here the standby applies no more WAL (a pause takes effect before the next record's replay).
      await sql(standby!, 'SELECT pg_wal_replay_pause()');
      const second = 25_000;
      const answered = await earn(second);
      // The member's own read is on the primary: the earn just made is in the balance at once.
      expect(await balance()).toBe(answered.balance.available);
      // The standby holds the earn in its WAL; only its replay is held back.
      await standbyReached('receive', await primaryLsn());
      const [state] = await sql<{ s: string }>(standby!, 'SELECT pg_get_wal_replay_pause_state() AS s');
      expect(state?.s).toBe('paused');
      expect(await reportedEarns()).toEqual({ count: 1, purchase_amount: first });
      // The same report read from the primary has both: the one above was not read there.
      const onPrimary = await tillReport(h.store, range());
      expect(onPrimary.find((r) => r.till === 'Till 1' && r.type === 'earn')).toMatchObject({
        count: 2,
        purchaseAmount: first + second,
      });

      await sql(standby!, 'SELECT pg_wal_replay_resume()');
      await expect.poll(reportedEarns, { timeout: 60_000, interval: 100 }).toEqual({
        count: 2,
        purchase_amount: first + second,
      });
    },
    SLOW,
  );

  it(
    'answers 503 in the native shape while the standby is down, serves everything else, and recovers',
    async () => {
      const before = await reportedEarns();
      const purchase = 4_000;
      await standby!.halt();
      try {
        const refused = await report();
        expect(refused.status, refused.text).toBe(503);
        expect(refused.body).toEqual({
          error: { code: 'replica_unavailable', message: expect.stringMatching(/read replica.*try again/) },
        });
        // A bad range is refused as such, before the replica is asked.
        const bad = await h.request({
          method: 'GET',
          url: '/v1/reports/tills?from=2026-02-01&to=2026-01-01',
          headers: admin,
        });
        expect(bad.status, bad.text).toBe(400);
        // Everything else is on the primary and goes on.
        const answered = await earn(purchase);
        expect(await balance()).toBe(answered.balance.available);
        const health = await h.request({ method: 'GET', url: '/health' });
        expect(health.status, health.text).toBe(200);
      } finally {
        await standby!.start();
      }
      // Back: the pool connects again and the standby catches up with what was earned meanwhile.
      await expect
        .poll(reportedEarns, { timeout: 60_000, interval: 200 })
        .toEqual({ count: before.count + 1, purchase_amount: before.purchase_amount + purchase });
    },
    SLOW,
  );

  it(
    'opens the replica read-only: no migrations, and writes refused (a statement error, not a 503)',
    async () => {
      await sql(primary!, 'CREATE DATABASE empty_for_replica');
      const readOnly = await openReplicaStore({ url: primary!.url('empty_for_replica'), poolSize: 1 });
      const tables = () =>
        readOnly.read((tx) =>
          tx.row<{ n: number }>(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
          ),
        );
      try {
        expect((await tables()).n).toBe(0);
        // Even on a primary, which would take the write: the transaction itself is READ ONLY.
        const refused: unknown = await readOnly
          .transact((tx) => tx.run('CREATE TABLE t (x BIGINT)'))
          .catch((e) => e);
        expect(refused).toBeInstanceOf(pg.DatabaseError);
        expect(refused).toMatchObject({ code: '25006' }); // read_only_sql_transaction
        expect(isReplicaUnavailable(refused)).toBe(false);
        expect((await tables()).n).toBe(0);
      } finally {
        await readOnly.close();
      }
      // The standby refuses a write whatever the transaction says.
      await expect(replica!.transact((tx) => tx.run('DELETE FROM apps'))).rejects.toThrow(/read-only/);
    },
    SLOW,
  );
});

describe('which failures are the replica being unavailable', () => {
  const databaseError = (code: string) => Object.assign(new pg.DatabaseError('x', 1, 'error'), { code });
  it.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED'), { syscall: 'connect' }), true],
    ['a lost connection', new Error('Connection terminated unexpectedly'), true],
    ['a connection not made in time', new Error('timeout exceeded when trying to connect'), true],
    ['a server shutting down (57P01)', databaseError('57P01'), true],
    ['a server starting up (57P03)', databaseError('57P03'), true],
    ['too many connections (53300)', databaseError('53300'), true],
    ['a read cancelled for replay (40001)', databaseError('40001'), true],
    ['a syntax error (42601)', databaseError('42601'), false],
    ['a read-only refusal (25006)', databaseError('25006'), false],
    ['a bug', new TypeError('x is undefined'), false],
  ])('%s: %s', (_name, error, unavailable) => {
    expect(isReplicaUnavailable(error)).toBe(unavailable);
  });
});

describe('serve --replica-db', () => {
  const PASSWORD = 's3cret-not-for-printing';
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tillback-replica-serve-'));
    writeFileSync(join(dir, 'engine.json'), JSON.stringify({ secretsFile: join(dir, 'secrets.json') }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function start(args: string[]) {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'engine/cli.ts',
        'serve',
        '--port',
        '0',
        ...args,
        '--config',
        join(dir, 'engine.json'),
      ],
      { cwd: root, env: cleanEnv({ TILLBACK_LOG_LEVEL: 'warn' }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    return { child, out, exited };
  }
  // The servers trust loopback: the password is only carried, and must never be printed.
  const withPassword = (url: string) => url.replace('://tillback@', `://tillback:${PASSWORD}@`);

  it(
    'serves the report from the replica it names, never printing its password',
    async () => {
      const serve = start([
        '--db',
        withPassword(primary!.url(DATABASE)),
        '--replica-db',
        withPassword(standby!.url(DATABASE)),
      ]);
      try {
        await expect.poll(() => serve.out.stdout, { timeout: 60_000 }).toContain('Stop with Ctrl+C.');
        expect(serve.out.stdout).toMatch(
          /Replica:\s+postgres:\/\/tillback:\*\*\*@127\.0\.0\.1:\d+\/tillback \(read replica, reports\)/,
        );
        const base = /API:\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\n/.exec(serve.out.stdout)?.[1];
        const { from, to } = range();
        const res = await fetch(`${base}/v1/reports/tills?from=${iso(from)}&to=${iso(to)}`, {
          headers: admin,
        });
        expect(res.status).toBe(200);
        const rows = ((await res.json()) as { rows: { till: string | null; type: string; count: number }[] })
          .rows;
        expect(rows.find((r) => r.till === 'Till 1' && r.type === 'earn')?.count).toBe(
          (await reportedEarns()).count,
        );
      } finally {
        serve.child.kill('SIGTERM');
      }
      expect(await serve.exited).toBe(0);
      expect(serve.out.stdout + serve.out.stderr).not.toContain(PASSWORD);
    },
    SLOW,
  );

  it(
    'refuses a replica without a PostgreSQL primary, or one that is no postgres:// URL: exit 2, naming the setting',
    async () => {
      const sqliteFile = join(dir, 'engine.sqlite');
      const cases = [
        {
          args: ['--db', sqliteFile, '--replica-db', 'postgres://tillback@127.0.0.1:1/tillback'],
          message: /db\.replicaUrl: a read replica is a copy of a PostgreSQL primary: set db\.url/,
        },
        {
          args: [
            '--db',
            'postgres://tillback@127.0.0.1:1/tillback',
            '--replica-db',
            'mysql://tillback@127.0.0.1/x',
          ],
          message: /db\.replicaUrl: a PostgreSQL connection URL/,
        },
      ];
      const runs = cases.map(({ args }) => start(args));
      for (const [i, run] of runs.entries()) {
        expect(await run.exited, run.out.stderr).toBe(2);
        expect(run.out.stderr).toMatch(cases[i]!.message);
      }
      expect(existsSync(sqliteFile)).toBe(false); // refused before anything was opened
    },
    SLOW,
  );
});
