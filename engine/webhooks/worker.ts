// The delivery worker: leases due deliveries (at most `concurrency` in flight), signs and POSTs each,
// and records the attempt. It looks for work when an event is recorded in this process, when a
// delivery finishes, and every `pollIntervalMs` (retries that came due, events written by another
// process, leases that ran out). Started by createEngine; `close` stops it after what is in flight.
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
  /** Delivers everything due now and waits for it (tests, and a CLI that wants to flush). */
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
  /** Jitter source (tests pass their own). */
  random?: () => number;
  onError(error: unknown): void;
}

/**
 * Blanks out every secret the receiver could have echoed back: the signing secrets and the values of
 * the delivery's own headers (and the token part of "Bearer <token>"), then truncates.
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
  const random = options.random ?? Math.random;
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

  async function deliver(d: ClaimedDelivery): Promise<void> {
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
    await store.transact((tx) =>
      recordAttempt(tx, d, { ...outcome, excerpt, startedAt }, now(), policy, random),
    );
  }

  let running = true;
  const inFlight = new Set<Promise<void>>();
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
        const free = settings.concurrency - inFlight.size;
        if (!running || free <= 0) break;
        const due = await store.transact((tx) => claimDue(tx, now(), free, leaseMs));
        for (const d of due) {
          const job: Promise<void> = deliver(d)
            .catch(options.onError)
            .finally(() => {
              inFlight.delete(job);
              if (running) void poll();
            });
          inFlight.add(job);
        }
        // A full batch: there may be more due as soon as a slot frees (the finally above polls then).
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
        if (inFlight.size === 0) return;
        await Promise.allSettled([...inFlight]);
      }
    },
    async close() {
      running = false;
      clearInterval(timer);
      outboxSignal.off('recorded', wake);
      await polling;
      await Promise.allSettled([...inFlight]);
      poster.close();
    },
  };
}
