// A streaming read replica of the engine's PostgreSQL database (a hot standby, `db.replicaUrl`), for
// the reads that may lag behind the primary (`ctx.laggingStore`: the chain report). It is the
// PostgreSQL store opened read-only: no migrations (the primary's arrive by replication) and every
// transaction READ ONLY. It takes no key locks (`withKeyLock` is refused): keyed writes go to the
// primary, whose engines the locks coordinate.
//
// A replica that cannot serve a read is said so (ReplicaUnavailableError, a 503 in the API's shape)
// rather than read from the primary instead: the point of the replica is to keep that load off the
// primary, and the caller is better told "try again" than quietly given a heavier answer.
import pg from 'pg';
import { openPostgresStore } from './postgres.ts';
import { ReplicaUnavailableError, type Store } from './store.ts';

/** Opening a connection may take this long before the read is refused: a dropped host is a 503, not a hang. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The messages node-postgres gives a lost or timed-out connection (plain Errors, without a code). */
const LOST_CONNECTION = /^(Connection terminated|timeout exceeded when trying to connect)/;

/**
 * Whether `error` says the replica cannot serve reads now, rather than that the read itself is wrong
 * (a bad statement stays an internal error). SQLSTATE classes 08 (connection exception), 53 (too many
 * connections, out of memory) and 57P (shutting down, starting up, recovering), and 40001, which a
 * standby raises when it cancels a read that holds up the replay of the primary's changes; a socket
 * error (refused, reset, unknown host, no unix socket); a connection lost or not made in time.
 */
export function isReplicaUnavailable(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return /^(08|53|57P)/.test(code) || code === '40001';
  }
  if (!(error instanceof Error)) return false;
  return 'syscall' in error || LOST_CONNECTION.test(error.message);
}

/**
 * Opens the replica. No connection is made yet, so an engine starts (and serves everything else)
 * while its replica is down; reads connect as they need to, and fail with ReplicaUnavailableError
 * until it is back.
 */
export async function openReplicaStore(options: { url: string; poolSize?: number }): Promise<Store> {
  const store = await openPostgresStore({ ...options, readOnly: true, connectTimeoutMs: CONNECT_TIMEOUT_MS });
  const asUnavailable = (error: unknown): never => {
    if (!isReplicaUnavailable(error)) throw error;
    throw new ReplicaUnavailableError(
      'The read replica that serves reports cannot be reached just now; try again shortly',
      { cause: error },
    );
  };
  return {
    ...store,
    read: (work) => store.read(work).catch(asUnavailable),
    transact: (work, options) => store.transact(work, options).catch(asUnavailable),
  };
}
