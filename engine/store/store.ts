// The store interface every backend implements (SQLite embedded, PostgreSQL for a chain).
// Domain code talks only to `Tx`, with portable SQL: `?` placeholders (the PostgreSQL backend numbers
// them), `INSERT ... RETURNING`, `ON CONFLICT`, integers for money and epoch milliseconds for time.
export type SqlValue = string | number | bigint | null;

export interface RunResult {
  changes: number;
}

export interface Tx {
  /** ' FOR UPDATE' where the backend needs row locks before a balance check; '' where writers are serialized. */
  readonly forUpdate: string;
  one<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Like `one`, for statements that always yield a row (INSERT ... RETURNING, COUNT). */
  row<T>(sql: string, params?: readonly SqlValue[]): Promise<T>;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
  /**
   * A write whose outcome the work does not need (a stored response, a posted transfer's row, a
   * shard's sum). PostgreSQL writes it with the next statement (or the COMMIT) and never waits for it
   * alone, so it costs no round trip of its own; its failure is thrown by the next statement and rolls
   * the transaction back as any other would. SQLite runs it at once. Statements the work does await
   * may also travel together on PostgreSQL: those sent before awaiting any of them share a round trip.
   */
  defer(sql: string, params?: readonly SqlValue[]): void;
  /**
   * PostgreSQL only (concurrent writers): runs `fn` once the work has returned, in the order
   * registered, for it to `defer` the transaction's last statements. The ledger applies the balances
   * of rows every transaction of a program changes there, so their locks are held for one statement
   * and the commit (ledger.ts). Absent on SQLite, whose one writer takes no row locks to shorten.
   */
  readonly beforeCommit?: (fn: () => void) => void;
  /**
   * PostgreSQL only: committed accounts' ids and currencies by code, shared by every transaction of
   * the store, so a transfer on a program's account need not look its id up each time. An account
   * is never deleted and its code and currency never change, so an entry never goes stale; only rows
   * another transaction committed are put here (ledger.ts). Absent on SQLite, where a lookup is an
   * in-process call and a shared commit could still fail after a row was seen.
   */
  readonly knownAccounts?: Map<string, { id: number; currency: string }>;
  /**
   * PostgreSQL, in a transaction that works run together share (`transact`'s `together`): takes `key`
   * for this work, and throws if another work of the transaction took it already, which runs every
   * work of it again in a transaction of its own. Works in one transaction see each other's writes
   * and take no locks against each other, so a work run together claims the owner of every row it
   * reads and then writes from what it read (a member, an idempotency key) before reading it, and
   * claims each key once. Absent in any other transaction.
   */
  readonly claim?: (key: string) => void;
}

/** A transaction's work waiting in a backend's queue, with its caller's promise to settle. */
export interface QueuedWork {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface TransactOptions {
  /**
   * The work may share its transaction with others of this process that run at the same time
   * (PostgreSQL): their statements travel together and one commit answers for all, which under load
   * costs the engine and the server a third to two thirds less per operation (bench/README.md, row 12). It
   * must `tx.claim` what it reads to write back. If any work of the transaction fails, the
   * transaction rolls back and each work runs again in a transaction of its own, so the failure is
   * its own work's. SQLite shares every commit already and ignores this.
   */
  together?: boolean;
}

/**
 * For a worker's SELECT of rows to work on: on PostgreSQL, where several engine processes share the
 * tables, ' FOR UPDATE [OF alias] SKIP LOCKED' so each takes rows no other is working on (`of` names
 * the table to lock when the query joins others); '' on SQLite, whose single writer needs no lock.
 * The only SQL that differs by backend besides `forUpdate` itself.
 */
export function skipLocked(tx: Tx, of?: string): string {
  return tx.forUpdate ? `${tx.forUpdate}${of ? ` OF ${of}` : ''} SKIP LOCKED` : '';
}

export interface Store {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `work` in a write transaction and resolves once it is durable. A throw rolls back this work
   * only. Work must not await anything but its own `tx` calls: it may share a commit with others. It
   * may also run more than once (PostgreSQL runs it again after a deadlock, a serialization failure or
   * a unique key a concurrent transaction took first), so it has no effect outside `tx`.
   */
  transact<T>(work: (tx: Tx) => Promise<T>, options?: TransactOptions): Promise<T>;
  /** Runs `work` on a consistent read snapshot. */
  read<T>(work: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Runs `work` while holding a lock named by `key`, so no other engine process on this database runs
   * work under the same key meanwhile (the key's holders take turns, in no set order). For work that
   * opens its own transactions and must run once per idempotency key (domain/keyed-writes.ts).
   * PostgreSQL: a session advisory lock on a connection of its own, held until `work` settles (a
   * connection lost meanwhile drops the lock with it). SQLite: `work` runs at once, since one engine
   * process owns the file and callers share a run per key within the process. A read-only store (a
   * replica) refuses it.
   */
  withKeyLock<T>(key: string, work: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A read replica (store/replica.ts) could not be reached or could not serve the read just now; nothing
 * was read. Here, not beside the replica, so the HTTP layer maps it (a 503) without loading `pg`.
 */
export class ReplicaUnavailableError extends Error {
  override name = 'ReplicaUnavailableError';
}
