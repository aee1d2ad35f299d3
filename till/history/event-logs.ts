// The device and queue event logs: every event of the device manager (already redacted there: a
// masked PAN, never a PIN or a PIN block) and every operation event of the outbox, written to the
// till's file. Events gathered during one tick share one transaction (one fsync, not one per event),
// and each table keeps only its newest `max` rows, the older ones deleted at most `pruneBatch` at a
// time so no transaction grows with the backlog (a larger backlog takes a few more ticks).
import type { DeviceManager } from '../../drivers/devices/manager.ts';
import type { ManagerEvent } from '../../drivers/devices/events.ts';
import type { Store, Tx } from '../../engine/store/store.ts';
import type { Outbox, OperationEvent } from '../outbox/outbox.ts';

export const DEFAULT_MAX_EVENTS = 100_000;
export const DEFAULT_PRUNE_BATCH = 5_000;

export interface EventLogsOptions {
  store: Store;
  outbox: Pick<Outbox, 'onOperation'>;
  devices?: Pick<DeviceManager, 'subscribe'> | undefined;
  /** Rows kept per table (the newest); default 100,000. */
  maxEvents?: number;
  /** Most rows one transaction deletes; default 5,000. */
  pruneBatch?: number;
  /** Called when a write fails (the events of that tick are lost; the till keeps running). */
  onError?: (error: unknown) => void;
}

export interface EventLogs {
  /** Resolves once every event received so far is written (and the tables are within their cap). */
  flush(): Promise<void>;
  /** Stops listening, then writes what is left. */
  stop(): Promise<void>;
}

type DeviceRow = [deviceId: string | null, type: string, summary: string, at: number];
type QueueRow = [operationId: string, kind: string, message: string | null, at: number];

function deviceRow(event: ManagerEvent): DeviceRow {
  if (event.type === 'notice') {
    const { type, at, ...summary } = event;
    return [null, type, JSON.stringify(summary), at];
  }
  const { deviceId, type, at, ...summary } = event;
  return [deviceId, type, JSON.stringify(summary), at];
}

function queueRow(event: OperationEvent): QueueRow {
  const message =
    event.kind === 'delivered'
      ? event.answer
      : event.kind === 'refused'
        ? event.message
        : event.kind === 'attempt_failed'
          ? event.error
          : event.kind === 'voided'
            ? event.reason
            : null;
  return [event.id, event.kind, message, event.at];
}

/** Deletes the oldest rows beyond the newest `max` of `table`, at most `batch`; true if more remain. */
async function prune(tx: Tx, table: 'device_events' | 'queue_events', max: number, batch: number) {
  const r = await tx.row<{ lo: number | null; hi: number | null }>(
    `SELECT MIN(seq) AS lo, MAX(seq) AS hi FROM ${table}`,
  );
  if (r.lo === null || r.hi === null) return false;
  // seq only grows and rows leave oldest first, so the newest `max` are those above hi - max.
  const keepFrom = r.hi - max + 1;
  if (r.lo >= keepFrom) return false;
  const upTo = Math.min(keepFrom, r.lo + batch);
  await tx.run(`DELETE FROM ${table} WHERE seq < ?`, [upTo]);
  return upTo < keepFrom;
}

export function startEventLogs(options: EventLogsOptions): EventLogs {
  const { store } = options;
  const max = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const batch = options.pruneBatch ?? DEFAULT_PRUNE_BATCH;
  if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxEvents must be a positive integer');
  if (!Number.isSafeInteger(batch) || batch < 1)
    throw new RangeError('pruneBatch must be a positive integer');
  const onError =
    options.onError ??
    ((error: unknown) => process.emitWarning(`event log write failed: ${(error as Error).message}`));

  let devices: DeviceRow[] = [];
  let queue: QueueRow[] = [];
  let morePruning = false;
  let pending: Promise<void> | undefined;

  async function write(): Promise<void> {
    const d = devices;
    const q = queue;
    devices = [];
    queue = [];
    morePruning = await store.transact(async (tx) => {
      for (const row of d)
        await tx.run('INSERT INTO device_events (device_id, type, summary, at) VALUES (?, ?, ?, ?)', row);
      for (const row of q)
        await tx.run('INSERT INTO queue_events (operation_id, kind, message, at) VALUES (?, ?, ?, ?)', row);
      const moreDevices = await prune(tx, 'device_events', max, batch);
      const moreQueue = await prune(tx, 'queue_events', max, batch);
      return moreDevices || moreQueue;
    });
  }

  /** Writes everything gathered, tick after tick, until nothing is left to write or prune. */
  async function drain(): Promise<void> {
    // Let every event of this tick join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    do {
      try {
        await write();
      } catch (error) {
        morePruning = false;
        onError(error);
      }
    } while (devices.length > 0 || queue.length > 0 || morePruning);
  }

  function schedule(): Promise<void> {
    pending ??= drain().finally(() => {
      pending = undefined;
    });
    return pending;
  }

  const offQueue = options.outbox.onOperation((event) => {
    queue.push(queueRow(event));
    void schedule();
  });
  const offDevices = options.devices?.subscribe('*', (event) => {
    devices.push(deviceRow(event));
    void schedule();
  });

  // A cap lowered since the last run applies from the start, not from the next event.
  void schedule();

  const flush = async () => {
    while (pending || devices.length > 0 || queue.length > 0) await schedule();
  };
  return {
    flush,
    async stop() {
      offQueue();
      offDevices?.();
      await flush();
    },
  };
}
