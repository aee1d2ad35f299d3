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
import pg from 'pg';
import { applyMigrations } from './migrations.ts';
import { numberPlaceholders } from './placeholders.ts';
import type { RunResult, SqlValue, Store, Tx } from './store.ts';

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

/** Numbered once per statement text: the domain's statements are a fixed set (a few built per filter). */
const numbered = new Map<string, string>();
function toPostgres(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    text = numberPlaceholders(sql);
    numbered.set(sql, text);
  }
  return text;
}

function makeTx(
  client: pg.PoolClient,
  forUpdate: string,
  beforeCommit?: (fn: () => Promise<void>) => void,
): Tx {
  const query = <T>(sql: string, params: readonly SqlValue[]) =>
    client.query<T & pg.QueryResultRow>(toPostgres(sql), params as SqlValue[]);
  return {
    forUpdate,
    ...(beforeCommit && { beforeCommit }),
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
  };
}

const sqlState = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;

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
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types,
    application_name: 'tillback-engine',
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
  let closed = false;
  const readOnly = options.readOnly ? ' READ ONLY' : '';

  /** Runs `work` between `begin` and COMMIT on one connection; a throw rolls back. */
  async function inTransaction<T>(
    begin: string,
    forUpdate: string,
    work: (tx: Tx) => Promise<T>,
  ): Promise<T> {
    if (closed) throw new Error('store is closed');
    const client = await pool.connect();
    let broken: Error | undefined;
    // A checked-out connection the server closes (a restart, an administrator's terminate) emits
    // 'error' on the client, not the pool: without a listener that would end the process. Noted
    // here, the error also reaches the query in flight, and the connection is dropped at release.
    const onError = (error: Error) => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      try {
        const atCommit: (() => Promise<void>)[] = [];
        const value = await work(makeTx(client, forUpdate, (fn) => atCommit.push(fn)));
        for (const fn of atCommit) await fn();
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } finally {
      client.off('error', onError);
      // A connection that broke or could not roll back is closed rather than handed to the next caller.
      client.release(broken);
    }
  }

  return {
    dialect: 'postgres',
    async transact(work) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await inTransaction(`BEGIN ISOLATION LEVEL READ COMMITTED${readOnly}`, ' FOR UPDATE', work);
        } catch (error) {
          const state = sqlState(error);
          if (attempt >= MAX_ATTEMPTS || state === undefined || !RETRYABLE.has(state)) throw error;
          // The other transaction is committing: a short random pause keeps the two from meeting again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * attempt));
        }
      }
    },
    // A snapshot of one moment across every statement; no locks to take in it.
    read: (work) => inTransaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', '', work),
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
