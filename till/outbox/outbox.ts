// The till's outbox: its own SQLite file (the engine's store code, the till's migrations), the queue's
// domain functions bound to it, the sender, and the queue's state as a stream of events for the UI.
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { openSqliteStore } from '../../engine/store/sqlite.ts';
import type { Store } from '../../engine/store/store.ts';
import { OutboxConfigSchema, type OutboxConfig, type OutboxConfigInput } from './config.ts';
import { OutboxError } from './errors.ts';
import {
  enqueue,
  getOperation,
  parseOperation,
  queueCounts,
  retry,
  voidOperation,
  type OperationRow,
  type QueueCounts,
} from './queue.ts';
import { startSender, type AttemptOutcome, type Sender } from './sender.ts';

const MIGRATIONS = fileURLToPath(new URL('../migrations/', import.meta.url));

/** What the UI shows of the queue; a new one is emitted after every change. */
export interface QueueState extends QueueCounts {
  /** Whether the engine answered the last attempt or health check; null before either since the start. */
  online: boolean | null;
}

/**
 * One thing that happened to one operation, after it is committed: the flows wait on these for an
 * earn's result, the history keeps them as the queue's event log.
 */
export type OperationEvent = { id: string; at: number } & (
  | { kind: 'queued' } // enqueued
  | { kind: 'delivered'; answer: string } // the engine's response body
  | { kind: 'refused'; message: string } // failed: a manager resolves it
  | { kind: 'attempt_failed'; error: string } // still queued: retried later
  | { kind: 'retried' } // a manager put a failed one back in line
  | { kind: 'voided'; reason: string }
);

export interface Outbox {
  readonly config: OutboxConfig;
  /** The till's store, for the tables other parts of the till keep in the same file (operators). */
  readonly store: Store;
  /**
   * Validates an earn or refund and writes it, with its history row, in one transaction: once this
   * resolves the operation survives a crash and will reach the engine exactly once. Resolves with the
   * operation id (the Idempotency-Key the engine sees). Throws an OutboxError, changing nothing, for
   * bad input, a redeem or cashout (online_required) or past an offline limit (offline_limit).
   */
  enqueue(input: unknown): Promise<string>;
  retry(id: string): Promise<void>;
  void(id: string, reason: string): Promise<void>;
  operation(id: string): Promise<OperationRow | undefined>;
  state(): Promise<QueueState>;
  /** Calls `listener` with each new state; returns the unsubscribe function. */
  onState(listener: (state: QueueState) => void): () => void;
  /** Calls `listener` with each operation event; returns the unsubscribe function. */
  onOperation(listener: (event: OperationEvent) => void): () => void;
  /** Starts delivering (a till that only records, such as a test writer, may never start). */
  start(): void;
  close(): Promise<void>;
}

export interface OutboxDeps {
  now?: () => number;
  random?: () => number;
  /** A failure of the till's own file while delivering (the sender waits and goes on); stderr by default. */
  onError?: (error: unknown) => void;
}

const printError = (error: unknown) =>
  process.stderr.write(`outbox: the till's file failed, retrying: ${String(error)}\n`);

export async function openOutbox(input: OutboxConfigInput, deps: OutboxDeps = {}): Promise<Outbox> {
  const parsed = OutboxConfigSchema.safeParse(input);
  if (!parsed.success)
    throw new OutboxError('validation_error', `outbox config: ${z.prettifyError(parsed.error)}`);
  const config = parsed.data;
  const now = deps.now ?? Date.now;
  const random = deps.random ?? Math.random;
  const store: Store = await openSqliteStore({ path: config.path, migrationsDir: MIGRATIONS });
  const listeners = new Set<(state: QueueState) => void>();
  const operationListeners = new Set<(event: OperationEvent) => void>();
  const emit = (event: OperationEvent) => {
    for (const listener of operationListeners) listener(event);
  };
  const fromOutcome = (id: string, at: number, outcome: AttemptOutcome): OperationEvent => {
    if (outcome.kind === 'delivered') return { id, at, kind: 'delivered', answer: outcome.answer };
    if (outcome.kind === 'refused') return { id, at, kind: 'refused', message: outcome.message };
    return { id, at, kind: 'attempt_failed', error: outcome.error };
  };
  let online: boolean | null = null;
  let sender: Sender | undefined;

  const state = async (): Promise<QueueState> => ({
    online,
    ...(await store.read((tx) => queueCounts(tx, now()))),
  });
  const setOnline = (reachable: boolean) => {
    const was = online;
    online = reachable;
    return was !== reachable;
  };
  async function changed(): Promise<void> {
    if (listeners.size === 0) return;
    const s = await state();
    for (const listener of listeners) listener(s);
  }

  return {
    config,
    store,
    async enqueue(raw) {
      const op = parseOperation(raw);
      const id = await store.transact((tx) => enqueue(tx, op, config.limits, now()));
      emit({ id, at: now(), kind: 'queued' });
      sender?.wake();
      await changed();
      return id;
    },
    async retry(id) {
      await store.transact((tx) => retry(tx, id, now()));
      emit({ id, at: now(), kind: 'retried' });
      sender?.wake();
      await changed();
    },
    async void(id, reason) {
      await store.transact((tx) => voidOperation(tx, id, reason, now()));
      emit({ id, at: now(), kind: 'voided', reason: reason.trim() });
      await changed();
    },
    operation: (id) => store.read((tx) => getOperation(tx, id)),
    state,
    onState(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    onOperation(listener) {
      operationListeners.add(listener);
      return () => operationListeners.delete(listener);
    },
    start() {
      sender ??= startSender({
        store,
        config,
        now,
        random,
        onAttempts(reachable, settled) {
          setOnline(reachable);
          const at = now();
          for (const { operationId, outcome } of settled) emit(fromOutcome(operationId, at, outcome));
          void changed();
        },
        onProbe(reachable) {
          if (setOnline(reachable)) void changed();
        },
        onError: deps.onError ?? printError,
      });
    },
    async close() {
      await sender?.stop();
      await store.close();
    },
  };
}
