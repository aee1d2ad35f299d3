// The payout worker: pays submitted claims through the configured provider, one payout per claim.
//  1. In one transaction: submitted claims move to processing, each with a payout row and its id.
//  2. Outside any transaction: the provider is called with that id (submit until it has answered
//     once, then status while it says processing or unclaimed).
//  3. In another transaction: the answer is recorded; paid or failed settles the claim.
// A crash between 2 and 3 leaves the payout processing and due: the next start calls the provider
// again with the same id, which the provider contract makes answer with the first outcome.
// PayoutUnavailable (and any other throw) is retried with exponential backoff and jitter.
// Each payout goes to the provider that pays its method (payouts/providers.ts), recorded when it starts;
// a webhook's outcome is recorded through `record`, the same domain function as the calls' answers.
import {
  NO_PROVIDER,
  startPayouts,
  duePayouts,
  recordPayoutOutcome,
  recordPayoutRetry,
  type DuePayout,
  type PayoutRow,
} from '../domain/payouts.ts';
import type { DomainContext } from '../domain/context.ts';
import { PayoutUnavailable, type PayoutOutcome } from './provider.ts';
import type { PayoutProviders } from './providers.ts';

export interface PayoutWorkerOptions {
  ctx: DomainContext;
  providers: PayoutProviders;
  retryBaseMs: number;
  retryMaxMs: number;
  pollIntervalMs: number;
  /** On PostgreSQL, how long a payout taken stays invisible to other engines (`payouts.leaseSeconds`). */
  leaseMs: number;
  /** How often due retries and polls are looked for, besides every `kick`. */
  tickMs?: number;
  onError?: (error: unknown, payoutId?: string) => void;
}

export interface PayoutWorker {
  /** Looks for work now (after a submission); runs are never concurrent, a kick during one reruns it. */
  kick(): void;
  /**
   * Records an outcome a provider reported by itself (a verified webhook) for a payout it was sent;
   * `unknown` when no payout of that provider has the id (nothing changes).
   */
  record(payoutId: string, provider: string, outcome: PayoutOutcome): Promise<PayoutRow['state'] | 'unknown'>;
  /** Resolves when no run is in progress or pending. */
  idle(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Delay before retry `attempt` (1-based): base * 2^(attempt-1), capped, with up to 20% jitter off. */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 40));
  return Math.max(1, Math.round(exponential * (1 - 0.2 * random())));
}

export function createPayoutWorker(options: PayoutWorkerOptions): PayoutWorker {
  const { ctx, providers } = options;
  const { store } = ctx;
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  // Retries that could not be written (the database was unreachable). On PostgreSQL the payout stays
  // leased for `leaseMs` meanwhile; writing its retry as soon as the database is back lets it
  // go again after its backoff rather than after the lease.
  const unrecorded = new Map<string, { message: string; retryAt: number }>();

  async function recordRetry(payoutId: string, retry: { message: string; retryAt: number }): Promise<void> {
    try {
      await store.transact((tx) => recordPayoutRetry(tx, payoutId, retry.message, retry.retryAt, ctx.now()));
      unrecorded.delete(payoutId);
    } catch (error) {
      unrecorded.set(payoutId, retry);
      options.onError?.(error, payoutId);
    }
  }

  async function attempt({ payout, request }: DuePayout): Promise<void> {
    const provider = providers.byName(payout.provider);
    try {
      if (payout.provider === NO_PROVIDER) {
        // Never sent anywhere (no provider pays the method since the configuration changed): it fails.
        const failure = {
          code: 'no_provider',
          message: `No configured payout provider pays by ${request.method.kind}`,
        };
        await store.transact((tx) =>
          recordPayoutOutcome(tx, payout.id, { status: 'failed', failure }, ctx.now(), 0),
        );
        return;
      }
      // A payout sent to a provider no longer configured may have been paid: it waits, never fails.
      if (provider === undefined) {
        throw new PayoutUnavailable(payout.provider, `the ${payout.provider} provider is not configured`);
      }
      const outcome =
        payout.submitted_at === null
          ? await provider.submit(request)
          : await provider.status(payout.id, payout.provider_reference ?? undefined);
      await store.transact((tx) =>
        recordPayoutOutcome(tx, payout.id, outcome, ctx.now(), options.pollIntervalMs),
      );
    } catch (error) {
      if (!(error instanceof PayoutUnavailable)) options.onError?.(error, payout.id);
      const retryAt = ctx.now() + retryDelay(payout.attempts + 1, options.retryBaseMs, options.retryMaxMs);
      await recordRetry(payout.id, {
        message: error instanceof Error ? error.message : String(error),
        retryAt,
      });
    }
  }

  async function run(): Promise<void> {
    do {
      again = false;
      for (const [payoutId, retry] of unrecorded) await recordRetry(payoutId, retry);
      await store.transact((tx) => startPayouts(tx, providers.nameFor, ctx.now()));
      const due = await store.transact((tx) => duePayouts(ctx, tx, ctx.now(), options.leaseMs));
      await Promise.all(due.map(attempt));
    } while (again && !stopped);
  }

  function kick(): void {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = run()
      .catch((error: unknown) => options.onError?.(error))
      .finally(() => {
        running = undefined;
      });
  }

  return {
    kick,
    record: (payoutId, provider, outcome) =>
      store.transact((tx) =>
        recordPayoutOutcome(tx, payoutId, outcome, ctx.now(), options.pollIntervalMs, provider),
      ),
    async idle() {
      while (running) await running;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      timer = setInterval(kick, options.tickMs ?? 1_000);
      timer.unref();
      kick();
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      while (running) await running;
    },
  };
}
