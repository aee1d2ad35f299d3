// The delivery worker: leases due deliveries (at most `concurrency` in flight), signs and POSTs each,
// and records the attempt. It looks for work when an event is recorded in this process, after each
// delivery (in the transaction that records it), and every `pollIntervalMs` (retries that came due,
// events written by another process, leases that ran out). Started by createEngine; `close` stops it
// after what is in flight. The hint from `recordEvent` comes before its commit: on SQLite the claim it
// triggers is queued behind that commit; on PostgreSQL it may run first and find nothing, and the
// next poll sends the event.
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from '../../contract/webhook-signature.ts';
import type { EngineConfig } from '../config.ts';
import { outboxSignal } from '../domain/outbox.ts';
import {
  claimDue,
  recordAttempt,
  type ClaimedDelivery,
  type RetryPolicy,
} from '../domain/webhook-deliveries.ts';
import type { Store } from '../store/store.ts';
import { addressPolicy, systemResolve, type Resolve } from './address-policy.ts';
import { webhookPoster } from './post.ts';

/** Characters of a response kept in the attempt log (after secrets are blanked out). */
const EXCERPT_CHARS = 256;
/** A lease outlives the attempt's timeout by this much, the time to record the outcome. */
const LEASE_MARGIN_MS = 30_000;

export interface WebhookWorker {
  /** Delivers everything due now and waits for it (tests move their clock, then call this). */
  drain(): Promise<void>;
  /** Stops looking for work and waits for the deliveries in flight. */
  close(): Promise<void>;
}

export interface WorkerOptions {
  store: Store;
  settings: EngineConfig['webhooks'];
  /** Signs deliveries whose URL is not a configured subscriber's: [current, previous?]. */
  targetSecrets: readonly string[];
  now: () => number;
  /** DNS resolution (tests pass their own). */
  resolve?: Resolve | undefined;
  onError(error: unknown): void;
}

/**
 * Blanks out every secret the receiver could have echoed back: the signing secrets and the values of
 * the delivery's own headers (and the token part of "Bearer <token>"), then truncates. Values under 8
 * characters are left alone: they are no credential, and blanking "json" or "1" would garble the text.
 */
export function cleanExcerpt(text: string, secrets: readonly string[]): string {
  let clean = text;
  for (const secret of secrets) {
    for (const part of [secret, secret.split(/\s+/).at(-1) ?? '']) {
      if (part.length >= 8) clean = clean.split(part).join('[redacted]');
    }
  }
  return clean.slice(0, EXCERPT_CHARS);
}

export function webhookWorker(options: WorkerOptions): WebhookWorker {
  const { store, settings, now } = options;
  const policy: RetryPolicy = {
    baseMs: settings.retryBaseSeconds * 1000,
    maxMs: settings.retryMaxSeconds * 1000,
    windowMs: settings.retryWindowHours * 3_600_000,
  };
  const leaseMs = settings.timeoutMs + LEASE_MARGIN_MS;
  const poster = webhookPoster({
    policy: addressPolicy(settings.allowPrivateNetworks),
    resolve: options.resolve ?? systemResolve,
    timeoutMs: settings.timeoutMs,
    maxSockets: settings.concurrency,
  });
  const subscriberSecrets = new Map(settings.subscribers.map((s) => [s.url, s.secrets]));

  let running = true;

  /**
   * Sends `d`, then records the attempt and leases the next due delivery in one transaction (one
   * commit per delivery, not two). Returns that next delivery, if any.
   */
  async function deliver(d: ClaimedDelivery): Promise<ClaimedDelivery | undefined> {
    const secrets = subscriberSecrets.get(d.url) ?? options.targetSecrets;
    const startedAt = now();
    const outcome = await poster.post(d.url, d.body, {
      ...d.headers,
      'user-agent': 'Tillback-Webhooks/1',
      [SIGNATURE_HEADER]: signWebhook(d.body, secrets, Math.floor(startedAt / 1000)),
      [EVENT_ID_HEADER]: d.eventId,
    });
    const excerpt =
      outcome.excerpt === undefined
        ? undefined
        : cleanExcerpt(outcome.excerpt, [...secrets, ...Object.values(d.headers)]);
    return store.transact(async (tx) => {
      const at = now();
      await recordAttempt(tx, d, { ...outcome, excerpt, startedAt }, at, policy, Math.random);
      return running ? (await claimDue(tx, at, 1, leaseMs))[0] : undefined;
    });
  }

  /** Each slot delivers one at a time and ends when nothing is due; at most `concurrency` slots. */
  const slots = new Set<Promise<void>>();
  function startSlot(first: ClaimedDelivery): void {
    const slot: Promise<void> = (async () => {
      for (let d: ClaimedDelivery | undefined = first; d;) d = await deliver(d);
    })()
      .catch(options.onError)
      .finally(() => slots.delete(slot));
    slots.add(slot);
  }

  let polling: Promise<void> | undefined;
  let again = false;

  /** Leases what is due into the free slots; one poll at a time, re-run if asked for meanwhile. */
  function poll(): Promise<void> {
    if (polling) {
      again = true;
      return polling;
    }
    polling = (async () => {
      do {
        again = false;
        const free = settings.concurrency - slots.size;
        if (!running || free <= 0) break;
        const due = await store.transact((tx) => claimDue(tx, now(), free, leaseMs));
        due.forEach(startSlot);
      } while (again);
    })()
      .catch(options.onError)
      .finally(() => {
        polling = undefined;
      });
    return polling;
  }

  const wake = () => void poll();
  outboxSignal.on('recorded', wake);
  const timer = setInterval(wake, settings.pollIntervalMs);
  timer.unref();
  setImmediate(wake);

  return {
    async drain() {
      for (;;) {
        await poll();
        if (slots.size === 0) return;
        await Promise.allSettled([...slots]);
      }
    },
    async close() {
      running = false;
      clearInterval(timer);
      outboxSignal.off('recorded', wake);
      await polling;
      await Promise.allSettled([...slots]);
      poster.close();
    },
  };
}
