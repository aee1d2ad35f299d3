// A cashout a signed-in member asks for (seed 003's /cashout/process): a member-funded claim for
// the member's own cashback, so the balance is checked and held at once. Seed 003's PayPal cashout is
// paid to the PayPal account the member linked (linked-accounts.ts): the claim is created already
// submitted with that email, in one transaction, like a seed 001 withdrawal, and the payout worker pays
// it. The program is the one the member has cashback in, or named.
import type { Tx } from '../store/store.ts';
import { claimOf, insertClaim, loadClaim, submitMethod, type Claim } from './claims.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { idempotent, type IdempotencyKey, type Replayable } from './idempotency.ts';
import { linkedPayPalEmail } from './linked-accounts.ts';

export const NOT_LINKED = 'PayPal account not linked: link one with POST /cashout/link first';

export async function memberCashout(
  ctx: DomainContext,
  input: {
    appId: string;
    storeName: string;
    memberId: number;
    programId?: number | undefined;
    amount: number;
  },
  key: IdempotencyKey | undefined,
): Promise<Replayable<Claim>> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const done = await idempotent(tx, key, { op: 'member_cashout', ...input }, now, async () => {
      const email = await linkedPayPalEmail(ctx, tx, input.memberId);
      if (email === undefined) throw new DomainError('method_unavailable', NOT_LINKED);
      const programId = input.programId ?? (await soleProgramOf(tx, input.memberId));
      const created = await insertClaim(
        ctx,
        tx,
        {
          appId: input.appId,
          funding: { kind: 'member', programId, member: { id: input.memberId } },
          amount: input.amount,
          storeName: input.storeName,
          methods: ['paypal'],
        },
        now,
      );
      return { id: (await submitMethod(ctx, tx, created, { kind: 'paypal', email }, now)).id };
    });
    return { ...claimOf(ctx, await loadClaim(tx, done.id), now), replayed: done.replayed };
  });
}

/**
 * The program a member cashes out from when the caller names none: the one they have cashback in.
 * None is an insufficient balance; several need the caller to say which (`program_id`).
 */
export async function soleProgramOf(tx: Tx, memberId: number): Promise<number> {
  const programs = await tx.all<{ program_id: number }>(
    'SELECT DISTINCT program_id FROM transactions WHERE member_id = ? AND program_id IS NOT NULL',
    [memberId],
  );
  const [only, ...others] = programs;
  if (!only) throw new DomainError('insufficient_balance', 'Insufficient balance');
  if (others.length > 0) {
    throw new DomainError(
      'validation_error',
      'program_id: the member has cashback in several programs; name the one to cash out from',
    );
  }
  return only.program_id;
}
