// A cashout a signed-in member asks for (seed 003's /cashout/process): a member-funded claim for
// the member's own cashback, so the balance is checked and held at once and the member says where
// the money goes on the claim page. The program is the one the member has cashback in, or named.
import type { PayoutMethodKind } from '../payouts/provider.ts';
import type { Tx } from '../store/store.ts';
import { createClaim, type Claim } from './claims.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import type { IdempotencyKey, Replayable } from './idempotency.ts';

export async function memberCashout(
  ctx: DomainContext,
  input: {
    appId: string;
    storeName: string;
    memberId: number;
    programId?: number | undefined;
    amount: number;
    method: PayoutMethodKind;
  },
  key: IdempotencyKey | undefined,
): Promise<Replayable<Claim>> {
  const programId = input.programId ?? (await ctx.store.read((tx) => soleProgramOf(tx, input.memberId)));
  return createClaim(
    ctx,
    {
      appId: input.appId,
      funding: { kind: 'member', programId, member: { id: input.memberId } },
      amount: input.amount,
      storeName: input.storeName,
      methods: [input.method],
    },
    key,
  );
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
