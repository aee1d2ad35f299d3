// PostgreSQL backend (node-postgres): the store of a central engine, several engine processes on one
// database. Each `transact` runs on its own pooled connection in a READ COMMITTED transaction.
//
// Why READ COMMITTED with row locks rather than SERIALIZABLE: every earn and redeem of a program
// changes the same few funding accounts, and under SERIALIZABLE (or REPEATABLE READ) two transactions
// that update one row concurrently cannot both commit, so the second fails with 40001 and is run again:
// on a busy program most of the work would be thrown away. Under READ COMMITTED the second one waits
// for the row lock and then updates the row as committed. Correctness then rests on each balance check
// reading the row it changes with a lock: the ledger checks the row its `UPDATE ... RETURNING` gave
// (the update takes the lock), and domain code reads a row it will write back with `tx.forUpdate`
// (' FOR UPDATE' here), so a row is never changed from a stale read.
//
// Some failures mean "another transaction got there first" and say the whole transaction was rolled
// back: 40P01 (deadlock: two transfers locking the same accounts in opposite orders), 40001 (a
// serialization failure) and 23505 (a unique key taken by a concurrent insert after this transaction
// looked for it; PostgreSQL's manual advises retrying it for that reason). Those are run again from
// the start, a few times, on a fresh transaction. Work has no effect outside its `tx` (the Store
// contract), so a retry never doubles anything; any other error, including a lost connection during
// COMMIT (whose outcome is unknown), is never retried.
import type { Writable } from 'node:stream';
import pg from 'pg';
import { applyMigrations } from './migrations.ts';
import { numberPlaceholders } from './placeholders.ts';
import type { QueuedWork, RunResult, SqlValue, Store, Tx } from './store.ts';

export interface PostgresOptions {
  /** A libpq connection string: postgres://user:password@host:port/database (or ?host=/socket/dir). */
  url: string;
  /** Most connections this process holds (pg's Pool `max`). */
  poolSize?: number;
  /** Another schema's migrations directory; the engine's own by default. */
  migrationsDir?: string;
  /**
   * A read replica (a hot standby refuses writes): no migrations are applied (the primary's arrive by
   * replication), and every transaction, `transact`'s too, is begun READ ONLY.
   */
  readOnly?: boolean;
  /** Give up opening a connection after this long (pg's `connectionTimeoutMillis`); default: wait. */
  connectTimeoutMs?: number;
}

const INT8_OID = 20;
const NUMERIC_OID = 1700;
/** SQLSTATEs after which the transaction was rolled back and may be run again (see above). */
const RETRYABLE = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 5;
/** Held while migrating, so engines starting together apply each migration once (any 64-bit key). */
const MIGRATION_LOCK_KEY = '7394410256710021891';
/**
 * Connections for key locks (withKeyLock) per process. Keyed writes that open their own transactions
 * (member sign-up, OTPs, claims) are few at a time; more wait for a connection, not for each other.
 */
const KEY_LOCK_CONNECTIONS = 4;

/**
 * BIGINT (money, epoch ms, ids, COUNT) and NUMERIC (what SUM of BIGINT returns) come back as numbers,
 * as SQLite's do; a value a double cannot hold exactly is refused rather than rounded.
 */
function parseExactInteger(text: string): number {
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) {
    throw new RangeError(`PostgreSQL returned ${text}, which is not an integer a number holds exactly`);
  }
  return value;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID || oid === NUMERIC_OID
      ? parseExactInteger
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Each statement text is numbered once and named, so every connection parses and plans it once and
 * then only binds and executes it (a named prepared statement): PostgreSQL's CPU per statement, not
 * the network, bounds a central engine on a small server (bench/README.md, row 12). The domain's
 * statements are a fixed set, a few built per filter; past NAMED_LIMIT texts (a query built from input
 * it should not have been) the rest go unnamed, so no connection holds an unbounded set of plans.
 */
const NAMED_LIMIT = 1_000;
const prepared = new Map<string, pg.QueryConfig>();
function toPostgres(sql: string): pg.QueryConfig {
  let query = prepared.get(sql);
  if (query === undefined) {
    const text = numberPlaceholders(sql);
    query = prepared.size < NAMED_LIMIT ? { name: `tb${prepared.size}`, text } : { text };
    prepared.set(sql, query);
  }
  return query;
}

/**
 * The transaction's statements on `client`, a connection in pipeline mode. Every statement is
 * written at once, without waiting for the ones before it; a deferred one (`defer`, and the
 * transaction's BEGIN) is not waited for at all: the next statement (or the COMMIT, through
 * `settle`) answers for it. Statements written in one turn of the event loop leave in one socket
 * write: the socket is corked from the first until the COMMIT or the turn's end (setImmediate), since
 * a write to a loopback socket wakes the server each time and was the engine's largest single cost
 * (bench/README.md, row 12). Not until the next microtask: domain code between two deferred
 * statements awaits a few promises, and uncorking after the first of them cost an earn two more
 * writes. pg writes through `connection.stream`, a net.Socket; without one (another transport)
 * statements are written one by one.
 *
 * After a failure the server refuses the rest of the transaction ("current transaction is
 * aborted"), and with statements in flight together that refusal can be the answer a caller awaits
 * first. So the first failure is recorded as answers arrive (in the order sent) and is what every
 * later call throws: the real cause, a deadlock to retry, say.
 */
function makeTx(
  client: pg.PoolClient,
  forUpdate: string,
  writes?: Pick<Tx, 'beforeCommit' | 'knownAccounts'>,
): Tx & { settle(): Promise<void>; end(statement: 'COMMIT' | 'ROLLBACK'): Promise<unknown> } {
  const stream = (client as unknown as { connection?: { stream?: Partial<Writable> } }).connection?.stream;
  let corked = false;
  const release = () => {
    if (!corked) return;
    corked = false;
    stream?.uncork?.();
  };
  let failure: { error: unknown } | undefined;
  const send = <T>(sql: string, params: readonly SqlValue[]) => {
    if (!corked && stream?.cork) {
      stream.cork();
      corked = true;
      setImmediate(release);
    }
    const sent = client.query<T & pg.QueryResultRow>({ ...toPostgres(sql), values: params as SqlValue[] });
    sent.catch((error: unknown) => {
      failure ??= { error };
    });
    return sent;
  };
  let inFlight: Promise<unknown>[] = [];
  const settle = async () => {
    if (inFlight.length > 0) {
      const waiting = inFlight;
      inFlight = [];
      await Promise.allSettled(waiting);
    }
    if (failure) throw failure.error;
  };
  const query = async <T>(sql: string, params: readonly SqlValue[]) => {
    const result = send<T>(sql, params);
    await settle();
    try {
      return await result;
    } catch (error) {
      throw failure?.error ?? error;
    }
  };
  return {
    forUpdate,
    ...writes,
    settle,
    one: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await query<T>(sql, params)).rows[0] as T | undefined,
    row: async <T>(sql: string, params: readonly SqlValue[] = []) => {
      const row = (await query<T>(sql, params)).rows[0];
      if (row === undefined) throw new Error(`statement returned no row: ${sql.slice(0, 80)}`);
      return row as T;
    },
    all: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      (await query<T>(sql, params)).rows as T[],
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> => ({
      changes: (await query(sql, params)).rowCount ?? 0,
    }),
    // COMMIT or ROLLBACK, written at once with whatever is still corked.
    end: (statement) => {
      const ended = client.query(statement);
      release();
      return ended;
    },
    defer: (sql: string, params: readonly SqlValue[] = []) => {
      inFlight.push(send(sql, params));
    },
  };
}

const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

/**
 * Runs `use` on a checked-out connection and gives it back, closed instead if it broke: the server
 * dropped it (a restart, an administrator's terminate; the client then emits 'error', which without
 * a listener would end the process, and the statement in flight fails too), or `use` called
 * `breakOff` (a rollback or unlock that failed, a connection whose plans went stale).
 */
async function holding<T>(
  client: pg.PoolClient,
  use: (client: pg.PoolClient, breakOff: (error: Error) => void) => Promise<T>,
): Promise<T> {
  let broken: Error | undefined;
  const breakOff = (error: Error) => {
    broken = error;
  };
  client.on('error', breakOff);
  try {
    return await use(client, breakOff);
  } finally {
    client.off('error', breakOff);
    client.release(broken);
  }
}

/**
 * A prepared statement whose result columns changed since this connection planned it (another engine
 * migrated the table during a rolling upgrade): PostgreSQL refuses it on that connection for good, so
 * the connection is closed and the transaction run again on another, which prepares it afresh.
 */
const isStalePlan = (error: unknown): error is Error =>
  sqlState(error) === '0A000' &&
  error instanceof Error &&
  /cached plan must not change result type/.test(error.message);

/** Most works that share one transaction (transact's `together`). */
const MAX_TOGETHER = 16;

/** Runs every work on `tx` at once; if any fails, throws its error once all have settled. */
async function allOrNone(works: QueuedWork[], tx: Tx): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(works.map(async (w) => w.work(tx)));
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((o) => (o as PromiseFulfilledResult<unknown>).value);
}

/**
 * An error the server sent about a statement (it has a SQLSTATE), after which the transaction cannot
 * have committed: the statement failed, or the COMMIT did. Not one of a connection (08), of an
 * operator or a crash ending the session (57), of the system (58) or internal (XX), which can come
 * while or after the COMMIT is applied.
 */
const serverRolledBack = (error: unknown): boolean =>
  /^(?!08|57|58|XX)[0-9A-Z]{5}$/.test(sqlState(error) ?? '');

async function migrate(pool: pg.Pool, dir: string | undefined): Promise<void> {
  const client = await pool.connect();
  try {
    // Session-level: other engines wait here until this one has migrated, then find nothing to do.
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await applyMigrations(
        'postgres',
        makeTx(client, ' FOR UPDATE'),
        (sql) => client.query(sql).then(() => undefined),
        dir,
      );
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

export async function openPostgresStore(options: PostgresOptions): Promise<Store> {
  const connections = options.poolSize ?? 10;
  const pool = new pg.Pool({
    connectionString: options.url,
    max: connections,
    types,
    application_name: 'tillback-engine',
    // A transaction's BEGIN and its deferred writes travel with the next statement (makeTx).
    pipeline: true,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 0,
  });
  // An idle connection the server drops (a restart) is removed from the pool and the next checkout
  // opens a new one; without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  try {
    if (!options.readOnly) await migrate(pool, options.migrationsDir);
  } catch (error) {
    await pool.end();
    throw error;
  }
  // A key lock holds its connection while its work runs transactions of its own: taken from `pool`,
  // as many locks as connections would leave that work none, so they have a pool of their own (no
  // prepared statements run there, so no plan goes stale). Connections open on first use.
  const lockPool = options.readOnly
    ? undefined
    : new pg.Pool({
        connectionString: options.url,
        max: KEY_LOCK_CONNECTIONS,
        application_name: 'tillback-engine-locks',
        connectionTimeoutMillis: options.connectTimeoutMs ?? 0,
      });
  lockPool?.on('error', () => undefined);
  let closed = false;
  const readOnly = options.readOnly ? ' READ ONLY' : '';
  const knownAccounts: NonNullable<Tx['knownAccounts']> = new Map();

  // Connections opened before a stale plan was seen are closed at their next checkout (isStalePlan).
  let planGeneration = 0;
  const generationOf = new WeakMap<pg.PoolClient, number>();
  async function checkout(): Promise<pg.PoolClient> {
    for (;;) {
      const client = await pool.connect();
      const generation = generationOf.get(client);
      if (generation === undefined) generationOf.set(client, planGeneration);
      if (generation === undefined || generation === planGeneration) return client;
      client.release(true);
    }
  }

  /** Runs `work` between `begin` and COMMIT on one connection; a throw rolls back. */
  async function inTransaction<T>(
    begin: string,
    forUpdate: string,
    work: (tx: Tx) => Promise<T>,
    claim?: Tx['claim'],
  ): Promise<T> {
    if (closed) throw new Error('store is closed');
    return holding(await checkout(), async (client, breakOff) => {
      const atCommit: (() => void)[] = [];
      const tx = makeTx(
        client,
        forUpdate,
        // Writes only (a read takes no locks): the hooks a write transaction has on PostgreSQL.
        forUpdate ? { beforeCommit: (fn) => atCommit.push(fn), knownAccounts, ...(claim && { claim }) } : {},
      );
      try {
        tx.defer(begin);
        const value = await work(tx);
        for (const fn of atCommit) fn();
        const committed = tx.end('COMMIT');
        committed.catch(() => undefined);
        // A deferred statement that failed turned the COMMIT into a rollback: its error is thrown here.
        await tx.settle();
        await committed;
        return value;
      } catch (error) {
        await tx.end('ROLLBACK').catch(breakOff);
        // This connection's prepared plans are stale, and so may every other's be: closed, each takes
        // its plans with it, so the transaction's next attempt prepares afresh.
        if (isStalePlan(error)) {
          breakOff(error);
          planGeneration++;
        }
        throw error;
      }
    });
  }

  /** Runs the transaction again, on a fresh one, after a failure `retryable` says rolled it back. */
  async function withRetries<T>(run: () => Promise<T>, retryable: (error: unknown) => boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS || !retryable(error)) throw error;
        // The other transaction is committing: a short random pause keeps the two from meeting again.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
      }
    }
  }

  const beginWrite = `BEGIN ISOLATION LEVEL READ COMMITTED${readOnly}`;
  const alone = <T>(work: (tx: Tx) => Promise<T>) =>
    withRetries(
      () => inTransaction(beginWrite, ' FOR UPDATE', work),
      (error) => RETRYABLE.has(sqlState(error) ?? '') || isStalePlan(error),
    );

  // Work run together (transact's `together`) waits in `waiting`. Whenever fewer such transactions
  // run than the pool has connections, every work waiting (MAX_TOGETHER at most) starts in one
  // more. So a lone request starts at once, and under load the works that arrived while the
  // connections were busy share the next transaction: its statements leave in a few socket writes
  // and one commit (one WAL flush) answers for all of them. A transaction of one work is an
  // ordinary one.
  const waiting: QueuedWork[] = [];
  let running = 0;
  let startScheduled = false;
  function startWaiting(): void {
    startScheduled = false;
    while (waiting.length > 0 && running < connections) {
      running++;
      void runTogether(waiting.splice(0, MAX_TOGETHER)).finally(() => {
        running--;
        startWaiting();
      });
    }
  }

  async function runTogether(works: QueuedWork[]): Promise<void> {
    if (works.length === 1) {
      const [only] = works as [QueuedWork];
      return alone(only.work).then(only.resolve, only.reject);
    }
    const claimed = new Set<string>();
    const claim = (key: string) => {
      if (claimed.has(key)) throw new Error(`${key} is claimed by another work of this transaction`);
      claimed.add(key);
    };
    let committing = false;
    const all = async (tx: Tx) => {
      const values = await allOrNone(works, tx);
      committing = true;
      return values;
    };
    try {
      const values = await inTransaction(beginWrite, ' FOR UPDATE', all, claim);
      works.forEach((w, i) => w.resolve(values[i]));
    } catch (error) {
      // Rolled back for certain (a work failed, so no COMMIT was sent, or the server refused a
      // statement): each work runs again alone, so a failure is only its own work's. A lost
      // connection or a server going down once the COMMIT was sent leaves the outcome unknown: every
      // work gets the error, as one alone would (its caller must not assume either way).
      if (committing && !serverRolledBack(error)) {
        for (const w of works) w.reject(error);
        return;
      }
      await Promise.all(works.map((w) => alone(w.work).then(w.resolve, w.reject)));
    }
  }

  return {
    dialect: 'postgres',
    transact: (work, transactOptions) => {
      if (!transactOptions?.together) return alone(work);
      return new Promise((resolve, reject) => {
        waiting.push({ work, resolve: resolve as QueuedWork['resolve'], reject });
        if (startScheduled) return;
        startScheduled = true;
        // setImmediate lets every request already read from the network join.
        setImmediate(startWaiting);
      });
    },
    // A snapshot of one moment across every statement; no locks to take in it.
    read: (work) =>
      withRetries(
        () => inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', '', work),
        isStalePlan,
      ),
    async withKeyLock(key, work) {
      if (!lockPool) throw new Error('A read-only store takes no key locks: keyed writes go to the primary');
      if (closed) throw new Error('store is closed');
      return holding(await lockPool.connect(), async (client, breakOff) => {
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
        try {
          return await work();
        } finally {
          // A connection that cannot unlock is closed instead: its session, and so its lock, ends.
          await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(breakOff);
        }
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([pool.end(), lockPool?.end()]);
    },
  };
}
