// The PostgreSQL store itself (engine/store/postgres.ts), on the run's server: numbers as SQLite's
// come back, migrations applied once by engines starting together, deadlocked and raced transactions
// run again without doubling anything, reads on one snapshot, close ending every connection, and work
// run together: one transaction, each work run again alone when one fails, none when the outcome of
// the COMMIT is unknown.
import net from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { chart } from '../../../engine/domain/accounts.ts';
import { ensureAccount } from '../../../engine/domain/ledger.ts';
import { loadMigrations } from '../../../engine/store/migrations.ts';
import { openPostgresStore } from '../../../engine/store/postgres.ts';
import type { Store, Tx } from '../../../engine/store/store.ts';
import { createPostgresDatabase } from '../fixtures/test-store.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A fresh database (the migrated template's copy) and `count` stores on it. */
async function stores(count = 1, poolSize = 4): Promise<{ url: string; stores: Store[] }> {
  const database = await createPostgresDatabase();
  cleanups.push(database.drop);
  const opened: Store[] = [];
  for (let i = 0; i < count; i++) {
    const store = await openPostgresStore({ url: database.url, poolSize });
    cleanups.push(() => store.close());
    opened.push(store);
  }
  return { url: database.url, stores: opened };
}

/** A database with nothing in it, to migrate from scratch. */
async function emptyDatabase(): Promise<string> {
  const { url } = await stores(0);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  await client.end();
  return url;
}

describe('PostgreSQL store', () => {
  it('returns BIGINT, COUNT and SUM as numbers, and refuses one a number cannot hold exactly', async () => {
    const {
      stores: [store],
    } = await stores();
    const max = Number.MAX_SAFE_INTEGER;
    const row = await store!.read((tx) =>
      tx.row<{ big: unknown; n: unknown; total: unknown; negative: unknown }>(
        `SELECT CAST(? AS BIGINT) AS big, COUNT(*) AS n, SUM(x) AS total, CAST(? AS BIGINT) AS negative
           FROM (VALUES (CAST(1 AS BIGINT)), (CAST(2 AS BIGINT))) AS v(x)`,
        [max, -max],
      ),
    );
    expect(row).toEqual({ big: max, n: 2, total: 3, negative: -max });
    await expect(store!.read((tx) => tx.row('SELECT CAST(? AS BIGINT) + 1 AS over', [max]))).rejects.toThrow(
      /9007199254740992, which is not an integer a number holds exactly/,
    );
    await expect(
      store!.read((tx) => tx.row('SELECT SUM(x) AS s FROM (VALUES (0.5)) AS v(x)')),
    ).rejects.toThrow(/0\.5, which is not an integer/);
  });

  it('numbers ? placeholders, leaving a ? inside a literal alone', async () => {
    const {
      stores: [store],
    } = await stores();
    const row = await store!.read((tx) =>
      tx.row<{ a: string; b: string; c: string }>("SELECT ? AS a, 'what?' AS b, ? AS c", ['x', 'y']),
    );
    expect(row).toEqual({ a: 'x', b: 'what?', c: 'y' });
  });

  it('applies each migration once when four engines start on an empty database at the same time', async () => {
    const url = await emptyDatabase();
    const opened = await Promise.all(
      Array.from({ length: 4 }, () => openPostgresStore({ url, poolSize: 2 })),
    );
    for (const store of opened) cleanups.push(() => store.close());
    const applied = await opened[0]!.read((tx) =>
      tx.all<{ version: number; name: string }>(
        'SELECT version, name FROM schema_migrations ORDER BY version',
      ),
    );
    expect(applied).toEqual(loadMigrations('postgres').map((m) => ({ version: m.version, name: m.name })));
    expect(applied.map((m) => m.version)).toEqual(loadMigrations('sqlite').map((m) => m.version));
  });

  it('runs a deadlocked transaction again, so both commit and each change is made once', async () => {
    const {
      stores: [a, b],
    } = await stores(2);
    await a!.transact((tx) => tx.run('CREATE TABLE pair (id BIGINT PRIMARY KEY, n BIGINT NOT NULL)'));
    await a!.transact((tx) => tx.run('INSERT INTO pair VALUES (1, 0), (2, 0)'));
    // Each locks one row, then waits (outside the contract, to force the meeting) until the other has
    // its first lock too, then asks for the other's row: PostgreSQL breaks the cycle by failing one.
    let arrived = 0;
    let bothLocked!: () => void;
    const meeting = new Promise<void>((resolve) => (bothLocked = resolve));
    const runs = { a: 0, b: 0 };
    const cross = (store: Store, first: number, second: number, name: 'a' | 'b') =>
      store.transact(async (tx) => {
        runs[name] += 1;
        await tx.run('UPDATE pair SET n = n + 1 WHERE id = ?', [first]);
        if (runs[name] === 1 && ++arrived === 2) bothLocked();
        if (runs[name] === 1) await meeting;
        await tx.run('UPDATE pair SET n = n + 1 WHERE id = ?', [second]);
      });
    await Promise.all([cross(a!, 1, 2, 'a'), cross(b!, 2, 1, 'b')]);
    expect(runs.a + runs.b).toBe(3);
    expect(await a!.read((tx) => tx.all('SELECT id, n FROM pair ORDER BY id'))).toEqual([
      { id: 1, n: 2 },
      { id: 2, n: 2 },
    ]);
  });

  it('runs again a transaction that lost a unique-key race, and then finds the winner', async () => {
    const {
      stores: [a, b],
    } = await stores(2);
    await a!.transact((tx) => tx.run('CREATE TABLE names (name TEXT PRIMARY KEY, owner TEXT NOT NULL)'));
    // Find or create: both look, find nothing, insert. The loser's insert waits for the winner's
    // commit, fails with 23505, and the second run finds the winner's row.
    let looked = 0;
    let bothLooked!: () => void;
    const meeting = new Promise<void>((resolve) => (bothLooked = resolve));
    const findOrCreate = (store: Store, owner: string) =>
      store.transact(async (tx) => {
        const found = await tx.one<{ owner: string }>('SELECT owner FROM names WHERE name = ?', ['kim']);
        if (found) return found.owner;
        if (++looked <= 2) {
          if (looked === 2) bothLooked();
          await meeting;
        }
        await tx.run('INSERT INTO names (name, owner) VALUES (?, ?)', ['kim', owner]);
        return owner;
      });
    const [first, second] = await Promise.all([findOrCreate(a!, 'a'), findOrCreate(b!, 'b')]);
    expect(first).toBe(second);
    expect(await a!.read((tx) => tx.all('SELECT name, owner FROM names'))).toEqual([
      { name: 'kim', owner: first },
    ]);
  });

  it('rolls back and does not run again work that failed for any other reason', async () => {
    const {
      stores: [store],
    } = await stores();
    await store!.transact((tx) => tx.run('CREATE TABLE notes (text TEXT NOT NULL)'));
    let runs = 0;
    await expect(
      store!.transact(async (tx) => {
        runs += 1;
        await tx.run('INSERT INTO notes VALUES (?)', ['kept?']);
        await tx.run('INSERT INTO notes VALUES (NULL)');
      }),
    ).rejects.toThrow(/null value/);
    expect(runs).toBe(1);
    expect(await store!.read((tx) => tx.all('SELECT text FROM notes'))).toEqual([]);
  });

  it('reads on one snapshot: a commit made during a read is not seen by it', async () => {
    const {
      stores: [store],
    } = await stores();
    await store!.transact((tx) => tx.run('CREATE TABLE counter (n BIGINT NOT NULL)'));
    await store!.transact((tx) => tx.run('INSERT INTO counter VALUES (1)'));
    const seen = await store!.read(async (tx) => {
      const before = await tx.row<{ n: number }>('SELECT n FROM counter');
      await store!.transact((w) => w.run('UPDATE counter SET n = 2'));
      const after = await tx.row<{ n: number }>('SELECT n FROM counter');
      return [before.n, after.n];
    });
    expect(seen).toEqual([1, 1]);
    await expect(store!.read((tx) => tx.run('UPDATE counter SET n = 3'))).rejects.toThrow(/read-only/);
    expect(await store!.read((tx) => tx.row('SELECT n FROM counter'))).toEqual({ n: 2 });
  });

  it('ends its connections on close and refuses work after it', async () => {
    const { url } = await stores(0);
    const store = await openPostgresStore({ url, poolSize: 3 });
    await Promise.all(Array.from({ length: 3 }, () => store.read((tx) => tx.one('SELECT pg_sleep(0.05)'))));
    const connections = async () => {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const r = await client.query(
        "SELECT COUNT(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tillback-engine'",
      );
      await client.end();
      return (r.rows[0] as { n: number }).n;
    };
    expect(await connections()).toBe(3);
    await store.close();
    await expect.poll(connections, { timeout: 10_000 }).toBe(0);
    await expect(store.transact((tx) => tx.one('SELECT 1'))).rejects.toThrow(/store is closed/);
  });
  it('remembers only committed accounts: one a rolled-back transaction created and found is made again', async () => {
    const {
      url,
      stores: [store],
    } = await stores();
    const spec = chart.programFunding(77, 'AUD');
    // Created, then found by the same transaction (so not yet committed by anyone), then rolled back.
    await expect(
      store!.transact(async (tx) => {
        expect(await ensureAccount(tx, spec, 1)).toBe(await ensureAccount(tx, spec, 1));
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const id = await store!.transact((tx) => ensureAccount(tx, spec, 2));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM accounts WHERE code = $1', [
        spec.code,
      ]);
      expect(rows.map((r) => Number(r.id))).toEqual([id]);
      // Committed and found, it is remembered: the row's currency is still checked against the spec.
      expect(await store!.transact((tx) => ensureAccount(tx, spec, 3))).toBe(id);
      await expect(
        store!.transact((tx) => ensureAccount(tx, chart.programFunding(77, 'NZD'), 4)),
      ).rejects.toThrow(/is in AUD, not NZD/);
    } finally {
      await client.end();
    }
  });

  it('runs a statement again after its table changed under a prepared plan (an upgrade migrating)', async () => {
    const {
      url,
      stores: [store],
    } = await stores(1, 12);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE upgrade_probe (a BIGINT)');
      await client.query('INSERT INTO upgrade_probe VALUES (1)');
      // Every pooled connection prepares the statement with the table's one column; after the change
      // more connections hold a stale plan than a transaction has attempts.
      await Promise.all(
        Array.from({ length: 12 }, () => store!.transact((tx) => tx.all('SELECT * FROM upgrade_probe'))),
      );
      await client.query('ALTER TABLE upgrade_probe ADD COLUMN b BIGINT DEFAULT 2');
      // One at a time, so each checkout is offered the idle, stale connections first.
      for (let i = 0; i < 12; i++) {
        expect(await store!.transact((tx) => tx.all('SELECT * FROM upgrade_probe'))).toEqual([
          { a: 1, b: 2 },
        ]);
      }
      expect(await store!.read((tx) => tx.all('SELECT * FROM upgrade_probe'))).toEqual([{ a: 1, b: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('runs more distinct statements than it names, the rest unnamed', async () => {
    const {
      stores: [store],
    } = await stores();
    const answers = await store!.transact(async (tx) => {
      const out: number[] = [];
      for (let i = 0; i < 1_050; i++)
        out.push((await tx.row<{ n: number }>(`SELECT CAST(? AS BIGINT) + ${i} AS n`, [1])).n);
      return out;
    });
    expect(answers).toEqual(Array.from({ length: 1_050 }, (_, i) => i + 1));
  });
  describe('deferred writes (sent with the next statement)', () => {
    async function probe() {
      const {
        url,
        stores: [store],
      } = await stores();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      cleanups.push(() => client.end());
      await client.query('CREATE TABLE deferred_probe (n BIGINT PRIMARY KEY CHECK (n > 0))');
      const committed = async () =>
        (await client.query<{ n: string }>('SELECT n FROM deferred_probe ORDER BY n')).rows.map((r) =>
          Number(r.n),
        );
      return { store: store!, committed };
    }

    it('are seen by the statements after them, in order, and commit with the rest', async () => {
      const { store, committed } = await probe();
      const seen = await store.transact(async (tx) => {
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [1]);
        tx.defer('UPDATE deferred_probe SET n = n + ? WHERE n = ?', [1, 1]);
        const row = await tx.row<{ n: number }>('SELECT n FROM deferred_probe');
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [7]);
        return row.n;
      });
      expect(seen).toBe(2);
      expect(await committed()).toEqual([2, 7]);
    });

    it('leave with the COMMIT in one socket write, however many promise turns lie between them', async () => {
      const { store, committed } = await probe();
      // Counts real writes on every socket of this process: each write to a loopback socket wakes the
      // server, and was the engine's largest single cost (bench/README.md, row 12).
      const writes = { counting: false, count: 0 };
      const proto = net.Socket.prototype as unknown as Record<
        '_write' | '_writev',
        (...a: unknown[]) => void
      >;
      const original = { _write: proto._write, _writev: proto._writev };
      for (const name of ['_write', '_writev'] as const) {
        proto[name] = function (this: net.Socket, ...args: unknown[]) {
          if (writes.counting) writes.count++;
          return original[name].apply(this, args);
        };
      }
      cleanups.push(async () => {
        Object.assign(proto, original);
      });
      const turns = async (n: number) => {
        for (let i = 0; i < n; i++) await Promise.resolve();
      };
      await store.transact(async (tx) => {
        await tx.one('SELECT 1 AS one');
        writes.counting = true;
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [1]);
        await turns(3);
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [2]);
        await turns(5);
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [3]);
      });
      writes.counting = false;
      expect(writes.count).toBe(1);
      expect(await committed()).toEqual([1, 2, 3]);
    });

    it('throw their own error at the next statement, and the whole transaction rolls back', async () => {
      const { store, committed } = await probe();
      let after = 0;
      await expect(
        store.transact(async (tx) => {
          await tx.run('INSERT INTO deferred_probe (n) VALUES (?)', [3]);
          tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [-1]);
          tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [4]);
          await tx.one('SELECT 1 AS one');
          after++;
        }),
      ).rejects.toMatchObject({ code: '23514' });
      expect(after).toBe(0);
      expect(await committed()).toEqual([]);
    });

    it("answer a statement sent behind a failed one with the failed one's error, not 'transaction aborted'", async () => {
      const { store, committed } = await probe();
      await expect(
        store.transact(async (tx) => {
          const first = tx.run('INSERT INTO deferred_probe (n) VALUES (?)', [-3]);
          first.catch(() => undefined);
          // Written with the insert, answered after it: PostgreSQL refuses it as the transaction is aborted.
          await tx.one('SELECT 1 AS one');
        }),
      ).rejects.toMatchObject({ code: '23514' });
      expect(await committed()).toEqual([]);
    });

    it('that fail at the COMMIT roll it back and throw, and one of a rolled-back savepoint is undone', async () => {
      const { store, committed } = await probe();
      await expect(
        store.transact(async (tx) => {
          await tx.run('INSERT INTO deferred_probe (n) VALUES (?)', [5]);
          tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [-2]);
        }),
      ).rejects.toMatchObject({ code: '23514' });
      expect(await committed()).toEqual([]);
      await store.transact(async (tx) => {
        await tx.run('SAVEPOINT s');
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [6]);
        await tx.run('ROLLBACK TO s');
        tx.defer('INSERT INTO deferred_probe (n) VALUES (?)', [8]);
      });
      expect(await committed()).toEqual([8]);
    });
  });

  describe('work run together (transact with together)', () => {
    /** A store with a table of rows whose `n` may not be negative, and each work's runs counted. */
    async function together() {
      const {
        stores: [store],
      } = await stores(1, 4);
      await store!.transact((tx) => tx.run('CREATE TABLE rows_together (n BIGINT NOT NULL CHECK (n >= 0))'));
      const runs = new Map<number, number>();
      /** Inserts `n` and answers the transaction's id, after `then` (given the tx) has run. */
      const work = (n: number, then: (tx: Tx) => unknown = () => undefined) =>
        store!.transact(
          async (tx) => {
            runs.set(n, (runs.get(n) ?? 0) + 1);
            await tx.run('INSERT INTO rows_together (n) VALUES (?)', [n]);
            await then(tx);
            return (await tx.row<{ id: string }>('SELECT txid_current()::text AS id')).id;
          },
          { together: true },
        );
      const committed = async () =>
        (await store!.read((tx) => tx.all<{ n: number }>('SELECT n FROM rows_together ORDER BY n'))).map(
          (r) => r.n,
        );
      return { store: store!, work, runs, committed };
    }

    it('share one transaction when they arrive at once, and each has its own result', async () => {
      const { work, runs, committed } = await together();
      const ids = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => work(n)));
      expect(new Set(ids).size).toBe(1);
      expect(await committed()).toEqual([1, 2, 3, 4, 5, 6]);
      expect([...runs.values()]).toEqual([1, 1, 1, 1, 1, 1]);
      // One arriving alone runs in a transaction of its own, without waiting for company.
      expect(await work(7)).not.toBe(ids[0]);
    });

    it('run again alone when one of them fails, so the failure is its own and the others commit', async () => {
      const { work, runs, committed } = await together();
      const outcomes = await Promise.allSettled([
        work(1),
        work(2, () => {
          throw new Error('refused by the domain');
        }),
        work(3),
        // Refused by the server: the shared transaction aborts, so its other works' statements fail too.
        work(4, (tx) => tx.run('INSERT INTO rows_together (n) VALUES (?)', [-4])),
        work(5),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual([
        'fulfilled',
        'rejected',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
        message: 'refused by the domain',
      });
      expect((outcomes[3] as PromiseRejectedResult).reason).toMatchObject({ code: '23514' });
      const ids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      expect(new Set(ids).size).toBe(3);
      expect(await committed()).toEqual([1, 3, 5]);
      expect(Object.fromEntries(runs)).toEqual({ 1: 2, 2: 2, 3: 2, 4: 2, 5: 2 });
    });

    it('run again alone when two claim one key; alone, a work has nothing to claim', async () => {
      const { work, runs, committed } = await together();
      const claims: boolean[] = [];
      const claiming = (tx: Tx) => {
        claims.push(tx.claim !== undefined);
        tx.claim?.('member 7');
      };
      const ids = await Promise.all([work(1, claiming), work(2), work(3, claiming)]);
      expect(new Set(ids).size).toBe(3);
      expect(await committed()).toEqual([1, 2, 3]);
      expect(Object.fromEntries(runs)).toEqual({ 1: 2, 2: 2, 3: 2 });
      expect(claims).toEqual([true, true, false, false]);
    });

    it('do not run again when the connection ends after the COMMIT was sent: the outcome is unknown', async () => {
      const { work, runs, committed } = await together();
      // Written with the COMMIT, after the works: the server ends the session before the COMMIT runs,
      // but the engine cannot tell that from a session ended just after it.
      const endSession = (tx: Tx) =>
        tx.beforeCommit?.(() => tx.defer('SELECT pg_terminate_backend(pg_backend_pid())'));
      const outcomes = await Promise.allSettled([work(1, endSession), work(2), work(3)]);
      for (const o of outcomes) expect(o).toMatchObject({ status: 'rejected', reason: { code: '57P01' } });
      expect(Object.fromEntries(runs)).toEqual({ 1: 1, 2: 1, 3: 1 });
      expect(await committed()).toEqual([]);
      // The pool replaced the ended connection.
      expect(await Promise.all([work(4), work(5)])).toHaveLength(2);
      expect(await committed()).toEqual([4, 5]);
    });
  });
});
