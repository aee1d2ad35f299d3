// Payouts of submitted claims, the database half of the payout worker (payouts/worker.ts does the
// calls). A payout row and its id are committed, with the claim moved to processing, BEFORE the
// provider is called; the outcome is recorded afterwards in its own transaction. A crash in between
// leaves a processing payout that the next start asks the provider about under the same id.
import { randomUUID } from 'node:crypto';
import type { PayoutMethod, PayoutOutcome, PayoutRequest } from '../payouts/provider.ts';
import type { Tx } from '../store/store.ts';
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

/** Moves up to `limit` submitted claims to processing, each with its payout row. */
export async function startPayouts(tx: Tx, provider: string, now: number, limit = 100): Promise<number> {
  const submitted = await tx.all<ClaimRow>(
    "SELECT * FROM claims WHERE state = 'submitted' ORDER BY updated_at LIMIT ?",
    [limit],
  );
  for (const row of submitted) {
    await moveClaim(tx, row, 'start_payout', now);
    await tx.run(
      `INSERT INTO payouts (id, claim_id, provider, state, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, 'processing', ?, ?, ?)`,
      [`po_${randomUUID()}`, row.id, provider, now, now, now],
    );
  }
  return submitted.length;
}

export interface DuePayout {
  payout: PayoutRow;
  /** What to send (submit) or ask about (status): the method is opened from its sealed form here. */
  request: PayoutRequest;
}

/** Processing payouts whose next attempt is due, with the requests to make for them. */
export async function duePayouts(ctx: DomainContext, tx: Tx, now: number, limit = 50): Promise<DuePayout[]> {
  const rows = await tx.all<
    PayoutRow & { amount: number; currency: string; store_name: string; sealed: string | null }
  >(
    `SELECT p.*, c.amount, c.currency, c.store_name, c.method_sealed AS sealed FROM payouts p JOIN claims c ON c.id = p.claim_id
      WHERE p.state = 'processing' AND p.next_attempt_at <= ? ORDER BY p.next_attempt_at LIMIT ?`,
    [now, limit],
  );
  return rows.map(({ amount, currency, store_name, sealed, ...payout }) => ({
    payout,
    request: {
      payoutId: payout.id,
      amount,
      currency,
      method: unseal<PayoutMethod>(sealed ?? '', ctx.settings.credentialsKey, `claim:${payout.claim_id}`),
      note: `Cashout from ${store_name}`,
    },
  }));
}

const RETURNED = {
  code: 'returned',
  message: 'The provider returned the money: the recipient did not accept it in time',
};

/**
 * Records what the provider said. Paid and failed (and PayPal's returned) settle the claim;
 * processing and unclaimed leave it processing, asked about again after `pollMs`.
 */
export async function recordPayoutOutcome(
  tx: Tx,
  payoutId: string,
  outcome: PayoutOutcome,
  now: number,
  pollMs: number,
): Promise<PayoutRow['state']> {
  const payout = await tx.one<PayoutRow>(`SELECT * FROM payouts WHERE id = ?${tx.forUpdate}`, [payoutId]);
  // Settled meanwhile (another engine on the same database got there first): nothing to do.
  if (!payout || payout.state !== 'processing') return payout?.state ?? 'failed';
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
