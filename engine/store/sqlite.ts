// SQLite backend (better-sqlite3, WAL). Writes are group-committed: every transaction queued while
// the previous commit ran shares the next one (each inside its own SAVEPOINT, so one failure rolls
// back only itself), which turns one fsync per request into one fsync per batch.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { QueuedWork, RunResult, SqlValue, Store, Tx } from './store.ts';
import { applyMigrations } from './migrations.ts';

export interface SqliteOptions {
  /** File path, or ':memory:' (only for throwaway tools; tests use real files). */
  path: string;
  /** FULL (default) fsyncs every commit; NORMAL may lose the last commits on power loss. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Most transactions per commit. */
  maxBatch?: number;
  /** Another database's migrations directory (the till's file); the engine's own by default. */
  migrationsDir?: string;
}

type Statement = Database.Statement<SqlValue[]>;

function makeTx(db: Database.Database, cache: Map<string, Statement>): Tx {
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare<SqlValue[]>(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  return {
    forUpdate: '',
    one: async <T>(sql: string, params: readonly SqlValue[] = []) =>
      prepare(sql).get(...params) as T | undefined,
    row: async <T>(sql: string, params: readonly SqlValue[] = []) => {
      const row = prepare(sql).get(...params) as T | undefined;
      if (row === undefined) throw new Error(`statement returned no row: ${sql.slice(0, 80)}`);
      return row;
    },
    all: async <T>(sql: string, params: readonly SqlValue[] = []) => prepare(sql).all(...params) as T[],
    run: async (sql: string, params: readonly SqlValue[] = []): Promise<RunResult> => ({
      changes: prepare(sql).run(...params).changes,
    }),
    defer: (sql: string, params: readonly SqlValue[] = []) => {
      prepare(sql).run(...params);
    },
  };
}

function open(path: string, synchronous: 'FULL' | 'NORMAL', readonly: boolean): Database.Database {
  const db = new Database(path, { readonly });
  db.pragma('busy_timeout = 5000');
  if (!readonly) db.pragma('journal_mode = WAL');
  // better-sqlite3 reopens WAL databases with synchronous=NORMAL: set it on every open.
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma('foreign_keys = ON');
  db.pragma('cache_size = -65536');
  // Each job's SAVEPOINT journals the pages it touches: keep that in memory, not in a temp file.
  db.pragma('temp_store = MEMORY');
  db.defaultSafeIntegers(false);
  return db;
}

// Checkpoints (copying the WAL back into the database file, and syncing it) run on a worker thread
// with its own connection, so a commit does not wait for one: the writer's automatic checkpoint is off.
// A checkpoint alone never shortens the WAL: SQLite starts writing it from the beginning again only
// when a write transaction begins with every frame copied, which under steady writes never happens
// while another thread copies. So once a worker pass has caught up with a WAL of RESTART_FRAMES or
// more, the writer checkpoints the few frames committed since (between two batches) and the next
// batch restarts the log. A short WAL keeps page lookups cheap and the checkpoints small. If the
// worker falls behind past WAL_LIMIT_FRAMES, the writer checkpoints itself so the log stays bounded.
const CHECKPOINT_EVERY_MS = 1000;
const RESTART_FRAMES = 4_096;
const WAL_LIMIT_FRAMES = 50_000;
const checkpointerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage({ log: r.log, checkpointed: r.checkpointed });
  } catch (e) { parentPort.postMessage({ error: String(e && e.message) }); }
}, workerData.everyMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

interface Checkpointer {
  /** True when the writer should checkpoint now (see above); each report of the worker says so once. */
  writerShouldCheckpoint(): boolean;
  stop(): Promise<void>;
}

/** Starts the checkpoint worker; `onFailure` runs if it dies, so the caller can checkpoint itself. */
function startCheckpointer(path: string, onFailure: (error: Error) => void): Checkpointer {
  const worker = new Worker(checkpointerSource, {
    eval: true,
    workerData: {
      path,
      everyMs: CHECKPOINT_EVERY_MS,
      module: fileURLToPath(import.meta.resolve('better-sqlite3')),
    },
  });
  worker.unref();
  worker.on('error', onFailure);
  let due = false;
  worker.on('message', (m: { log?: number; checkpointed?: number }) => {
    if (m.log === undefined || m.checkpointed === undefined) return;
    due = (m.log >= RESTART_FRAMES && m.checkpointed === m.log) || m.log >= WAL_LIMIT_FRAMES;
  });
  return {
    writerShouldCheckpoint() {
      const now = due;
      due = false;
      return now;
    },
    async stop() {
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      // Unref'd so an idle store does not keep a process alive; waiting for the exit must.
      worker.ref();
      worker.postMessage('stop');
      await exited;
    },
  };
}

export async function openSqliteStore(options: SqliteOptions): Promise<Store & { readonly path: string }> {
  const synchronous = options.synchronous ?? 'FULL';
  const maxBatch = options.maxBatch ?? 256;
  const writer = open(options.path, synchronous, false);
  const writeTx = makeTx(writer, new Map());
  await applyMigrations(
    'sqlite',
    writeTx,
    (sql) => {
      writer.exec(sql);
    },
    options.migrationsDir,
  );
  // Reads use their own connection: in WAL mode it sees the last commit, never a batch in progress.
  const reader = options.path === ':memory:' ? writer : open(options.path, synchronous, true);
  const checkpointer =
    options.path === ':memory:'
      ? undefined
      : startCheckpointer(options.path, () => {
          // Without the worker, fall back to SQLite's own checkpoints at commit time.
          if (writer.open) writer.pragma('wal_autocheckpoint = 1000');
        });
  if (checkpointer) writer.pragma('wal_autocheckpoint = 0');
  // SAVEPOINT and RELEASE run once per job: prepared once, not parsed each time.
  const savepoint = writer.prepare('SAVEPOINT job');
  const release = writer.prepare('RELEASE job');
  const rollbackTo = writer.prepare('ROLLBACK TO job');
  const readTx = makeTx(reader, new Map());

  const writes: QueuedWork[] = [];
  const reads: QueuedWork[] = [];
  let writing = false;
  let reading = false;
  let closed = false;

  // A commit answers its callers together and, under load, they send their next requests together.
  // A batch that starts before they are back pays a whole fsync for part of them (at 64 clients,
  // batches alternated around 38 and 26). So while fewer jobs wait than the last batch held, the next
  // batch waits for more, GATHER_MS at most; a lone caller (last batch 1) never waits.
  const GATHER_MS = 1;
  let lastBatch = 0;
  let gathering: NodeJS.Timeout | undefined;
  let startScheduled = false;
  function startWrites(): void {
    if (gathering) clearTimeout(gathering);
    gathering = undefined;
    if (startScheduled || writing) return;
    startScheduled = true;
    // setImmediate lets every request already read from the network join this batch.
    setImmediate(() => {
      startScheduled = false;
      void drainWrites();
    });
  }
  function scheduleWrites(): void {
    if (writing || startScheduled) return;
    if (writes.length >= lastBatch) startWrites();
    else gathering ??= setTimeout(startWrites, GATHER_MS);
  }

  async function drainWrites(): Promise<void> {
    if (writing) return;
    writing = true;
    while (writes.length > 0) {
      const batch = writes.splice(0, maxBatch);
      lastBatch = batch.length;
      const outcomes: { ok: boolean; value: unknown }[] = [];
      writer.exec('BEGIN IMMEDIATE');
      for (const job of batch) {
        savepoint.run();
        try {
          const value = await job.work(writeTx);
          release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          rollbackTo.run();
          release.run();
          outcomes.push({ ok: false, value: error });
        }
      }
      let commitError: unknown;
      try {
        writer.exec('COMMIT');
      } catch (error) {
        commitError = error;
        if (writer.inTransaction) writer.exec('ROLLBACK');
      }
      if (checkpointer?.writerShouldCheckpoint()) writer.pragma('wal_checkpoint(PASSIVE)');
      batch.forEach((job, i) => {
        const outcome = outcomes[i] ?? { ok: false, value: new Error('transaction outcome missing') };
        if (commitError !== undefined) job.reject(commitError);
        else if (outcome.ok) job.resolve(outcome.value);
        else job.reject(outcome.value);
      });
    }
    writing = false;
  }

  async function drainReads(): Promise<void> {
    reading = true;
    while (reads.length > 0) {
      const job = reads.shift();
      if (!job) break;
      reader.exec('BEGIN');
      try {
        job.resolve(await job.work(readTx));
      } catch (error) {
        job.reject(error);
      } finally {
        reader.exec('COMMIT');
      }
    }
    reading = false;
  }

  function enqueue<T>(queue: QueuedWork[], work: (tx: Tx) => Promise<T>, schedule: () => void) {
    if (closed) return Promise.reject(new Error('store is closed'));
    return new Promise<T>((resolve, reject) => {
      queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
      schedule();
    });
  }

  return {
    dialect: 'sqlite',
    path: options.path,
    transact: (work) => enqueue(writes, work, scheduleWrites),
    read: (work) =>
      enqueue(reads, work, () => {
        if (!reading && reads.length === 1) setImmediate(() => void drainReads());
      }),
    // One engine process per file: the caller's in-process sharing of a run per key is the whole lock.
    withKeyLock: (_key, work) => work(),
    async close() {
      closed = true;
      while (writing || reading || writes.length > 0 || reads.length > 0) {
        await new Promise((r) => setImmediate(r));
      }
      await checkpointer?.stop();
      if (reader !== writer) reader.close();
      writer.close();
    },
  };
}
