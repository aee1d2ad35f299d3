// Payouts of submitted claims, the database half of the payout worker (payouts/worker.ts does the
// calls). A payout row and its id are committed, with the claim moved to processing, BEFORE the
// provider is called; the outcome is recorded afterwards in its own transaction. A crash in between
// leaves a processing payout that the next start asks the provider about under the same id.
import { randomUUID } from 'node:crypto';
import type { FundingCard, PayoutMethod, PayoutOutcome, PayoutRequest } from '../payouts/provider.ts';
import { skipLocked, type Tx } from '../store/store.ts';
import { providerCardBinding } from './cashout-providers.ts';
import { loadClaim, moveClaim, type ClaimRow } from './claims.ts';
import type { DomainContext } from './context.ts';
import { unseal } from './sealing.ts';

export interface PayoutRow {
  id: string;
  claim_id: string;
  provider: string;
  state: 'processing' | 'paid' | 'failed';
  provider_status: string | null;
  provider_reference: string | null;
  submitted_at: number | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

/** The provider name of a payout whose method no configured provider pays: it fails unsent. */
export const NO_PROVIDER = 'none';

/**
 * Moves up to `limit` submitted claims to processing, each with its payout row and the name of the
 * provider that pays its method (`providerFor`), kept so later calls go to the same provider.
 */
export async function startPayouts(
  tx: Tx,
  providerFor: (methodKind: string) => string | undefined,
  now: number,
  limit = 100,
): Promise<number> {
  // Engines sharing a PostgreSQL database each start other claims (the unique claim_id stays the guard).
  const submitted = await tx.all<ClaimRow>(
    `SELECT * FROM claims WHERE state = 'submitted' ORDER BY updated_at LIMIT ?${skipLocked(tx)}`,
    [limit],
  );
  for (const row of submitted) {
    await moveClaim(tx, row, 'start_payout', now);
    await tx.run(
      `INSERT INTO payouts (id, claim_id, provider, state, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, 'processing', ?, ?, ?)`,
      [`po_${randomUUID()}`, row.id, providerFor(row.method_kind ?? '') ?? NO_PROVIDER, now, now, now],
    );
  }
  return submitted.length;
}

export interface DuePayout {
  payout: PayoutRow;
  /** What to send (submit) or ask about (status): the method is opened from its sealed form here. */
  request: PayoutRequest;
}

/**
 * Processing payouts whose next attempt is due, with the requests to make for them. A claim a seed 000
 * cashout provider generated carries that provider's registered card as the funding `source`. On
 * PostgreSQL the rows are taken with SKIP LOCKED and leased for `leaseMs` (`payouts.leaseSeconds`:
 * their next attempt is moved that far on, long enough for one provider call, after which a payout
 * whose engine died is due again for any engine, under the same payout id), so two engines never call
 * a provider for one payout at once; on SQLite one engine is the only writer, and a restart finds its
 * processing payouts due at once, as before.
 */
export async function duePayouts(
  ctx: DomainContext,
  tx: Tx,
  now: number,
  leaseMs: number,
  limit = 50,
): Promise<DuePayout[]> {
  const rows = await tx.all<
    PayoutRow & {
      amount: number;
      currency: string;
      store_name: string;
      sealed: string | null;
      funder: string | null;
      funder_card: string | null;
    }
  >(
    `SELECT p.*, c.amount, c.currency, c.store_name, c.method_sealed AS sealed,
            cp.name AS funder, cp.card_sealed AS funder_card
       FROM payouts p JOIN claims c ON c.id = p.claim_id
       LEFT JOIN cashout_providers cp ON cp.id = c.provider_id
      WHERE p.state = 'processing' AND p.next_attempt_at <= ? ORDER BY p.next_attempt_at LIMIT ?${skipLocked(tx, 'p')}`,
    [now, limit],
  );
  if (tx.forUpdate) {
    for (const row of rows) {
      await tx.run('UPDATE payouts SET next_attempt_at = ? WHERE id = ?', [now + leaseMs, row.id]);
    }
  }
  const key = ctx.settings.credentialsKey;
  return rows.map(({ amount, currency, store_name, sealed, funder, funder_card, ...payout }) => ({
    payout,
    request: {
      payoutId: payout.id,
      amount,
      currency,
      method: unseal<PayoutMethod>(sealed ?? '', key, `claim:${payout.claim_id}`),
      note: `Cashout from ${store_name}`,
      ...(funder !== null && funder_card !== null
        ? { source: unseal<FundingCard>(funder_card, key, providerCardBinding(funder)) }
        : {}),
    },
  }));
}

const RETURNED = {
  code: 'returned',
  message: 'The provider returned the money: the recipient did not accept it in time',
};

/**
 * Records what the provider said, whether it answered the worker's call or sent a webhook. Paid and
 * failed (and PayPal's returned) settle the claim; processing and unclaimed leave it processing, asked
 * about again after `pollMs`. `from` (a webhook's provider) must be the provider the payout went to:
 * otherwise, or for an unknown id, nothing changes and the answer is `unknown`.
 */
export async function recordPayoutOutcome(
  tx: Tx,
  payoutId: string,
  outcome: PayoutOutcome,
  now: number,
  pollMs: number,
  from?: string,
): Promise<PayoutRow['state'] | 'unknown'> {
  const payout = await tx.one<PayoutRow>(`SELECT * FROM payouts WHERE id = ?${tx.forUpdate}`, [payoutId]);
  if (!payout || (from !== undefined && payout.provider !== from)) return 'unknown';
  // Settled meanwhile (a webhook, or another engine on the same database, got there first).
  if (payout.state !== 'processing') return payout.state;
  const settled =
    outcome.status === 'paid'
      ? 'paid'
      : outcome.status === 'failed' || outcome.status === 'returned'
        ? 'failed'
        : undefined;
  await tx.run(
    `UPDATE payouts SET state = ?, provider_status = ?, provider_reference = COALESCE(?, provider_reference),
       submitted_at = COALESCE(submitted_at, ?), attempts = 0, next_attempt_at = ?, last_error = NULL,
       updated_at = ? WHERE id = ?`,
    [
      settled ?? 'processing',
      outcome.status,
      outcome.providerReference ?? null,
      now,
      now + pollMs,
      now,
      payoutId,
    ],
  );
  if (settled) {
    const claim = await loadClaim(tx, payout.claim_id, true);
    await moveClaim(tx, claim, settled === 'paid' ? 'paid' : 'fail', now, {
      ...(settled === 'failed'
        ? {
            failure:
              outcome.status === 'returned'
                ? RETURNED
                : (outcome.failure ?? { code: 'payout_failed', message: 'The provider refused the payout' }),
          }
        : {}),
    });
  }
  return settled ?? 'processing';
}

/** The provider could not be reached: try again at `retryAt`, nothing decided. */
export async function recordPayoutRetry(
  tx: Tx,
  payoutId: string,
  error: string,
  retryAt: number,
  now: number,
) {
  await tx.run(
    `UPDATE payouts SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?, updated_at = ?
      WHERE id = ? AND state = 'processing'`,
    [retryAt, error.slice(0, 500), now, payoutId],
  );
}
