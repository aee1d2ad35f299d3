// The sender: delivers the outbox to the engine's native API in confirmation order. It takes the
// oldest due items, up to `batchSize`, and sends them in one request (`POST /v1/batch`, which applies
// them in that order in one transaction; a lone item goes to its own route, `/v1/earn` or
// `/v1/refund`), then records every answer in one transaction of the till's file, and only then
// sends what follows. One request at a time keeps the engine applying operations in the order the
// cashiers confirmed them (an earn before the refund of that purchase, and every member's balance
// moving in till order); the batch is what makes it fast: one round trip, one engine commit and one
// till commit per batch instead of per operation. Each operation carries its id as its idempotency
// key on every attempt, so a resend after a lost answer or a crash is harmless: the engine answers it
// with the stored result.
//
// Node's fetch (undici) rather than axios: the sender needs one POST with a timeout and the status
// code; fetch has both built in (AbortSignal.timeout), adds no dependency, and never throws on a
// 4xx/5xx, which is exactly the split the sender makes itself.
import { BatchAnswerSchema, type BatchType } from '../../contract/native-batch.ts';
import { retryDelayMs } from '../../engine/domain/webhook-deliveries.ts';
import type { Store, Tx } from '../../engine/store/store.ts';
import { engineErrorBody, engineHeaders, networkError } from '../engine-client.ts';
import type { OutboxConfig } from './config.ts';
import { headOfQueue, recordDelivered, recordRefused, recordRetry, type OutboxItem } from './queue.ts';

export type AttemptOutcome =
  | { kind: 'delivered'; answer: string }
  | { kind: 'refused'; message: string }
  | { kind: 'retry'; error: string; reachable: boolean };

/**
 * Which answers are the engine refusing the operation itself: a 4xx other than 408 (timeout) and 429
 * (throttled). Sending it again would only be refused again. Anything else that is not a success
 * (5xx, or a redirect fetch gave up on) is worth retrying.
 */
function isRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** The engine's message from a native error body `{error: {code, message}}`, else the start of the body. */
function engineMessage(status: number, text: string): string {
  const e = engineErrorBody(text);
  return e ? `${status} ${e.code}: ${e.message}`.slice(0, 1000) : `${status}: ${text.slice(0, 500)}`;
}

/** What an answer means for the operation: delivered, refused for good, or worth another attempt. */
function outcomeOf(status: number, text: string): AttemptOutcome {
  if (status >= 200 && status < 300) return { kind: 'delivered', answer: text };
  if (isRefusal(status)) return { kind: 'refused', message: engineMessage(status, text) };
  return { kind: 'retry', error: engineMessage(status, text), reachable: status < 500 };
}

/** The batch route's operation type for an item's own route; an item of another route goes alone. */
const BATCH_TYPES: Record<string, BatchType> = { '/v1/earn': 'earn', '/v1/refund': 'refund' };

/**
 * Most bytes of operations' bodies in one batch: well under the engine's default body limit (64 KiB),
 * so a batch of large operations is cut short rather than refused.
 */
const BATCH_BODY_BYTES = 32 * 1024;

/** The due items at the head that go in one request: in order, batchable, within the byte budget. */
function takeBatch(items: readonly OutboxItem[], at: number): OutboxItem[] {
  const batch: OutboxItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (item.nextAttemptAt > at) break;
    bytes += Buffer.byteLength(item.payload);
    if (batch.length > 0 && (BATCH_TYPES[item.path] === undefined || bytes > BATCH_BODY_BYTES)) break;
    batch.push(item);
    if (BATCH_TYPES[item.path] === undefined) break;
  }
  return batch;
}

type Send = { url: string; body: string; idempotencyKey?: string };

async function post(
  config: Pick<OutboxConfig, 'engine' | 'timeoutMs'>,
  send: Send,
  stop: AbortSignal,
): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(new URL(send.url, config.engine.url), {
      method: 'POST',
      headers: engineHeaders(config.engine, { idempotencyKey: send.idempotencyKey }),
      body: send.body,
      signal: AbortSignal.any([stop, AbortSignal.timeout(config.timeoutMs)]),
    });
    return { status: res.status, text: await res.text() };
  } catch (error) {
    return { error: networkError(error) };
  }
}

type Settled = { item: OutboxItem; outcome: AttemptOutcome };

/**
 * Sends the items and returns the outcome of each, in order. Fewer outcomes than items when an
 * operation is to be tried again: nothing behind it is recorded, so it is all sent again behind it
 * (the engine answers what it already applied from its stored results). `undefined` when the engine
 * refused the batch itself (an engine without the batch route, a lower body limit): send one at a time.
 */
async function attempt(
  config: Pick<OutboxConfig, 'engine' | 'timeoutMs'>,
  items: readonly OutboxItem[],
  stop: AbortSignal,
): Promise<Settled[] | undefined> {
  const [head] = items;
  if (!head) return [];
  const all = (outcome: AttemptOutcome) => items.map((item) => ({ item, outcome }));
  if (items.length === 1) {
    const res = await post(
      config,
      { url: head.path, body: head.payload, idempotencyKey: head.operationId },
      stop,
    );
    return all('error' in res ? unreachable(res.error) : outcomeOf(res.status, res.text));
  }
  const operations = items.map(
    (i) =>
      `{"type":${JSON.stringify(BATCH_TYPES[i.path])},"idempotency_key":${JSON.stringify(i.operationId)},"body":${i.payload}}`,
  );
  const res = await post(
    config,
    { url: '/v1/batch', body: `{"operations":[${operations.join(',')}]}` },
    stop,
  );
  if ('error' in res) return all(unreachable(res.error));
  if (res.status < 200 || res.status >= 300) {
    return isRefusal(res.status) ? undefined : all(outcomeOf(res.status, res.text));
  }
  const answer = BatchAnswerSchema.safeParse(safeJson(res.text));
  if (!answer.success || answer.data.results.length !== items.length) {
    return all({ kind: 'retry', error: `${res.status}: a batch answer not understood`, reachable: true });
  }
  const settled: Settled[] = [];
  for (const [i, item] of items.entries()) {
    const r = answer.data.results[i];
    const outcome = r ? outcomeOf(r.status, JSON.stringify(r.body)) : unreachable('no answer');
    settled.push({ item, outcome });
    if (outcome.kind === 'retry') break;
  }
  return settled;
}

const unreachable = (error: string): AttemptOutcome => ({ kind: 'retry', error, reachable: false });

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Records what became of each item, in one transaction; retried ones wait `delay` from `at`. */
async function record(tx: Tx, settled: readonly Settled[], at: number, delay: number): Promise<void> {
  for (const { item, outcome } of settled) {
    if (outcome.kind === 'delivered') await recordDelivered(tx, item.operationId, outcome.answer, at);
    else if (outcome.kind === 'refused') await recordRefused(tx, item.operationId, outcome.message, at);
    else await recordRetry(tx, item.operationId, outcome.error, at + delay);
  }
}

/** Whether the engine answers its health check: the queue's `online` while there is nothing to send. */
async function probe(
  config: Pick<OutboxConfig, 'engine' | 'timeoutMs'>,
  stop: AbortSignal,
): Promise<boolean> {
  try {
    const res = await fetch(new URL('/health', config.engine.url), {
      signal: AbortSignal.any([stop, AbortSignal.timeout(config.timeoutMs)]),
    });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface SenderDeps {
  store: Store;
  config: OutboxConfig;
  now: () => number;
  random: () => number;
  /**
   * After each request's answers are recorded: whether the engine answered (below 500), and what
   * became of each item it carried, in order.
   */
  onAttempts: (reachable: boolean, settled: { operationId: string; outcome: AttemptOutcome }[]) => void;
  /** After a health check made while the queue was empty. */
  onProbe: (reachable: boolean) => void;
  /**
   * The till's own file failed (disk full, I/O error): the sender waits and tries again rather than
   * stop delivering for the rest of the run.
   */
  onError: (error: unknown) => void;
}

export interface Sender {
  /** Something was enqueued or retried: look at the queue again now. */
  wake(): void;
  stop(): Promise<void>;
}

export function startSender(deps: SenderDeps): Sender {
  const { store, config, now } = deps;
  const stopping = new AbortController();
  let woken = false;
  let probed = false;
  let wakeUp: (() => void) | undefined;

  /** Waits `ms` (forever if undefined) or until woken or stopped. */
  function pause(ms: number | undefined): Promise<void> {
    if (woken || stopping.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });
  }

  // The engine refused a batch as such (an engine without the batch route, or a lower body limit):
  // every item still gets the engine's own verdict, one request each, for the rest of this run.
  let batchSize = config.batchSize;

  /** One step: send the head of the queue, or wait for it, or check the engine's health when idle. */
  async function step(): Promise<void> {
    woken = false;
    const items = await store.read((tx) => headOfQueue(tx, batchSize));
    const [head] = items;
    if (!head) {
      // The first check at once, so a till that starts with nothing queued knows soon whether it is online.
      if (probed) await pause(config.healthIntervalMs);
      probed = true;
      if (woken || stopping.signal.aborted) return;
      const reachable = await probe(config, stopping.signal);
      if (!stopping.signal.aborted) deps.onProbe(reachable);
      return;
    }
    const wait = head.nextAttemptAt - now();
    if (wait > 0) return pause(wait);
    const batch = takeBatch(items, now());
    const settled = await attempt(config, batch, stopping.signal);
    // Stopped mid-attempt: record nothing, the items are sent again (same keys) at the next start.
    if (stopping.signal.aborted) return;
    if (!settled) {
      batchSize = 1;
      return;
    }
    // Retried without end: the window is infinite, so only the capped, jittered delay applies. The
    // items of one request wait together, so they go together again.
    const delay = retryDelayMs(head.attempts + 1, { ...config.retry, windowMs: Infinity }, deps.random);
    const at = now();
    await store.transact((tx) => record(tx, settled, at, delay));
    deps.onAttempts(
      settled.every(({ outcome: o }) => o.kind !== 'retry' || o.reachable),
      settled.map(({ item, outcome }) => ({ operationId: item.operationId, outcome })),
    );
  }

  async function run(): Promise<void> {
    let errors = 0;
    while (!stopping.signal.aborted) {
      try {
        await step();
        errors = 0;
      } catch (error) {
        // The items stay where they were (nothing was recorded), so they are sent again with the same keys.
        errors += 1;
        deps.onError(error);
        await pause(retryDelayMs(errors, { ...config.retry, windowMs: Infinity }, deps.random));
      }
    }
  }

  const running = run();
  return {
    wake() {
      woken = true;
      wakeUp?.();
    },
    async stop() {
      stopping.abort();
      wakeUp?.();
      await running;
    },
  };
}
