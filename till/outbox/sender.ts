// The sender: delivers the outbox to the engine's native API in confirmation order, one item at a
// time (an item waits behind every earlier one until that one is delivered or refused). Each attempt
// carries the operation id as Idempotency-Key, so a resend after a lost answer or a crash is
// harmless: the engine answers it with the stored result.
//
// Node's fetch (undici) rather than axios: the sender needs one POST with a timeout and the status
// code; fetch has both built in (AbortSignal.timeout), adds no dependency, and never throws on a
// 4xx/5xx, which is exactly the split the sender makes itself.
import { retryDelayMs } from '../../engine/domain/webhook-deliveries.ts';
import type { Store } from '../../engine/store/store.ts';
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

async function attempt(
  config: Pick<OutboxConfig, 'engine' | 'timeoutMs'>,
  item: OutboxItem,
  stop: AbortSignal,
): Promise<AttemptOutcome> {
  try {
    const res = await fetch(new URL(item.path, config.engine.url), {
      method: 'POST',
      headers: engineHeaders(config.engine, { idempotencyKey: item.operationId }),
      body: item.payload,
      signal: AbortSignal.any([stop, AbortSignal.timeout(config.timeoutMs)]),
    });
    const text = await res.text();
    if (res.ok) return { kind: 'delivered', answer: text };
    if (isRefusal(res.status)) return { kind: 'refused', message: engineMessage(res.status, text) };
    return { kind: 'retry', error: engineMessage(res.status, text), reachable: res.status < 500 };
  } catch (error) {
    return { kind: 'retry', error: networkError(error), reachable: false };
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
  /** After each attempt is recorded: whether the engine answered (below 500), and what became of the item. */
  onAttempt: (reachable: boolean, operationId: string, outcome: AttemptOutcome) => void;
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

  /** One step: send the head of the queue, or wait for it, or check the engine's health when idle. */
  async function step(): Promise<void> {
    woken = false;
    const item = await store.read((tx) => headOfQueue(tx));
    if (!item) {
      // The first check at once, so a till that starts with nothing queued knows soon whether it is online.
      if (probed) await pause(config.healthIntervalMs);
      probed = true;
      if (woken || stopping.signal.aborted) return;
      const reachable = await probe(config, stopping.signal);
      if (!stopping.signal.aborted) deps.onProbe(reachable);
      return;
    }
    const wait = item.nextAttemptAt - now();
    if (wait > 0) return pause(wait);
    const outcome = await attempt(config, item, stopping.signal);
    // Stopped mid-attempt: record nothing, the item is sent again (same key) at the next start.
    if (stopping.signal.aborted) return;
    const at = now();
    await store.transact((tx) => {
      if (outcome.kind === 'delivered') return recordDelivered(tx, item.operationId, outcome.answer, at);
      if (outcome.kind === 'refused') return recordRefused(tx, item.operationId, outcome.message, at);
      // Retried without end: the window is infinite, so only the capped, jittered delay applies.
      const delay = retryDelayMs(item.attempts + 1, { ...config.retry, windowMs: Infinity }, deps.random);
      return recordRetry(tx, item.operationId, outcome.error, at + delay);
    });
    deps.onAttempt(outcome.kind !== 'retry' || outcome.reachable, item.operationId, outcome);
  }

  async function run(): Promise<void> {
    let errors = 0;
    while (!stopping.signal.aborted) {
      try {
        await step();
        errors = 0;
      } catch (error) {
        // The item stays where it was (nothing was recorded), so it is sent again with the same key.
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
