// The sandbox payout provider, the default: no money moves, outcomes are chosen by test amounts and
// test card numbers (the table below and in engine/README.md), after a configurable latency. It keeps
// what it was asked in its own table (sandbox_payouts, standing for a real provider's books), so a
// resubmission under the same payout id, after a crash or a timeout, answers with the first outcome.
import { randomUUID } from 'node:crypto';
import { maskPan } from '../../contract/card.ts';
import type { Store } from '../store/store.ts';
import {
  PayoutUnavailable,
  type PayoutOutcome,
  type PayoutProvider,
  type PayoutRequest,
  type PayoutStatus,
} from './provider.ts';

type Scripted = { status: PayoutStatus; failure?: { code: string; message: string } } | 'unavailable_once';

/** Test amounts in minor units, whatever the currency. Every other amount is paid. */
export const SANDBOX_AMOUNTS: Readonly<Record<number, Scripted>> = {
  9001: {
    status: 'failed',
    failure: { code: 'insufficient_funds', message: 'The payer account lacks funds' },
  },
  9002: {
    status: 'failed',
    failure: { code: 'invalid_account', message: 'The receiving account does not exist' },
  },
  9003: { status: 'unclaimed' },
  9004: { status: 'returned' },
  /** Answers processing; the first status query after that finds it paid. */
  9005: { status: 'processing' },
  /** The first submission under a payout id finds the provider unreachable; the next one is paid. */
  9006: 'unavailable_once',
};

/**
 * Test cards by their masked number (first 6 and last 4, as `maskPan` gives it; the numbers to type
 * are in engine/README.md). Matching the masked form keeps full card numbers out of the product's
 * source. Every other card is paid.
 */
const SANDBOX_CARDS: Readonly<Record<string, Scripted>> = {
  '400000******0002': {
    status: 'failed',
    failure: { code: 'card_declined', message: 'The card was declined' },
  },
  '400000******9995': {
    status: 'failed',
    failure: { code: 'card_not_eligible', message: 'The card cannot receive transfers' },
  },
};

interface SandboxRow {
  status: PayoutStatus;
  reference: string;
  failure_code: string | null;
  failure_message: string | null;
}

const outcomeOf = (r: SandboxRow): PayoutOutcome => ({
  status: r.status,
  providerReference: r.reference,
  ...(r.failure_code ? { failure: { code: r.failure_code, message: r.failure_message ?? '' } } : {}),
});

export interface SandboxOptions {
  store: Store;
  now?: () => number;
  latencyMs?: number;
}

export function createSandboxProvider(options: SandboxOptions): PayoutProvider {
  const { store, latencyMs = 0 } = options;
  const now = options.now ?? Date.now;
  const refusedOnce = new Set<string>();
  const wait = () => (latencyMs > 0 ? new Promise((r) => setTimeout(r, latencyMs)) : Promise.resolve());

  return {
    name: 'sandbox',
    methods: ['card', 'au_bank', 'payid', 'paypal'],

    async submit(request: PayoutRequest): Promise<PayoutOutcome> {
      await wait();
      const scripted =
        (request.method.kind === 'card' ? SANDBOX_CARDS[maskPan(request.method.pan)] : undefined) ??
        SANDBOX_AMOUNTS[request.amount];
      if (scripted === 'unavailable_once' && !refusedOnce.has(request.payoutId)) {
        refusedOnce.add(request.payoutId);
        throw new PayoutUnavailable('sandbox', 'sandbox: scripted outage (test amount 9006)');
      }
      const decided = scripted && scripted !== 'unavailable_once' ? scripted : { status: 'paid' as const };
      return store.transact(async (tx) => {
        const first = await tx.one<SandboxRow>(
          'SELECT status, reference, failure_code, failure_message FROM sandbox_payouts WHERE payout_id = ?',
          [request.payoutId],
        );
        if (first) {
          await tx.run('UPDATE sandbox_payouts SET submissions = submissions + 1 WHERE payout_id = ?', [
            request.payoutId,
          ]);
          return outcomeOf(first);
        }
        const row = await tx.row<SandboxRow>(
          `INSERT INTO sandbox_payouts (payout_id, amount, currency, method_kind, status, reference, failure_code,
             failure_message, submissions, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING status, reference, failure_code, failure_message`,
          [
            request.payoutId,
            request.amount,
            request.currency,
            request.method.kind,
            decided.status,
            `sbx_${randomUUID()}`,
            decided.failure?.code ?? null,
            decided.failure?.message ?? null,
            now(),
          ],
        );
        return outcomeOf(row);
      });
    },

    async status(payoutId: string): Promise<PayoutOutcome> {
      await wait();
      return store.transact(async (tx) => {
        // A payout that answered "processing" has been paid by the time anyone asks again.
        await tx.run(
          "UPDATE sandbox_payouts SET status = 'paid' WHERE payout_id = ? AND status = 'processing'",
          [payoutId],
        );
        const row = await tx.one<SandboxRow>(
          'SELECT status, reference, failure_code, failure_message FROM sandbox_payouts WHERE payout_id = ?',
          [payoutId],
        );
        if (!row) {
          return { status: 'failed', failure: { code: 'unknown_payout', message: `No payout ${payoutId}` } };
        }
        return outcomeOf(row);
      });
    },
  };
}
