// Seed 003's linked cashout accounts: a signed-in member links a PayPal or Payoneer account (the
// answer is a link URL to follow), creates a Tipalti payee (from the fields the document lists), or
// unlinks Payoneer. What is real: the member, the one link per member and provider, the payee's fields
// sealed at rest, and the documented answers. What is not: there is no PayPal or Payoneer
// account-linking client, so the link URL is this engine's own page saying so (the link stays
// `pending`). Tipalti: with a Tipalti client configured the payee is created at Tipalti under our idap
// for the member (payouts/tipalti.ts) before it is stored; without one its payee id is made here.
import { randomBytes } from 'node:crypto';
import { PayoutUnavailable } from '../payouts/provider.ts';
import { TipaltiRefused, type TipaltiPayees } from '../payouts/tipalti.ts';
import type { Tx } from '../store/store.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { seal } from './sealing.ts';

export type LinkProvider = 'paypal' | 'payoneer';

/** A Tipalti payee as seed 003 documents it (the address fields as Tipalti's payee API names them). */
export interface TipaltiPayee {
  payeeType: 'Individual' | 'Company';
  firstName?: string | undefined;
  lastName?: string | undefined;
  companyName?: string | undefined;
  email: string;
  address: {
    street1: string;
    street2?: string | undefined;
    city: string;
    state?: string | undefined;
    zip?: string | undefined;
    country: string;
  };
  phone?: string | undefined;
  taxDetails?: Record<string, unknown> | undefined;
  paymentMethod?: Record<string, unknown> | undefined;
}

interface LinkRow {
  id: number;
  provider: string;
  state: 'pending' | 'linked';
  link_token: string | null;
  payee_id: string | null;
}

const linkUrl = (ctx: DomainContext, token: string) => `${ctx.settings.publicUrl}/cashout/link/${token}`;

/**
 * Inserts the member's link at `provider` unless one exists (a repeat, or a concurrent twin: the unique
 * (member, provider) decides), then answers the row that stands and whether this call made it.
 */
async function insertOnce(
  tx: Tx,
  row: {
    appId: string;
    memberId: number;
    provider: string;
    state: string;
    token: string | null;
    payeeId: string | null;
    sealed: string | null;
  },
  now: number,
): Promise<{ link: LinkRow; created: boolean }> {
  const inserted = await tx.one<{ id: number }>(
    `INSERT INTO linked_payout_accounts (app_id, member_id, provider, state, link_token, payee_id, details_sealed,
       created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (member_id, provider) DO NOTHING RETURNING id`,
    [row.appId, row.memberId, row.provider, row.state, row.token, row.payeeId, row.sealed, now, now],
  );
  const link = await tx.row<LinkRow>(
    'SELECT id, provider, state, link_token, payee_id FROM linked_payout_accounts WHERE member_id = ? AND provider = ?',
    [row.memberId, row.provider],
  );
  return { link, created: inserted !== undefined };
}

async function requireMember(tx: Tx, memberId: number): Promise<void> {
  if (!(await tx.one('SELECT id FROM members WHERE id = ?', [memberId]))) {
    throw new DomainError('member_not_found', 'User not authenticated');
  }
}

/** PayPal or Payoneer: the URL the member follows to link; the same URL again on a repeat. */
export async function linkAccount(
  ctx: DomainContext,
  input: { appId: string; memberId: number; provider: LinkProvider },
): Promise<{ link: string }> {
  return ctx.store.transact(async (tx) => {
    await requireMember(tx, input.memberId);
    const { link } = await insertOnce(
      tx,
      {
        appId: input.appId,
        memberId: input.memberId,
        provider: input.provider,
        state: 'pending',
        token: randomBytes(24).toString('base64url'),
        payeeId: null,
        sealed: null,
      },
      ctx.now(),
    );
    return { link: linkUrl(ctx, link.link_token ?? '') };
  });
}

/**
 * Tipalti: the member's payee, created once; a repeat answers the first payee id and `alreadyExists`
 * from our store, without asking Tipalti again. With `tipalti` the payee is created there first, its
 * idap being the payee id; when Tipalti refuses or cannot be reached nothing is stored. Two racing
 * first calls both reach Tipalti with the same idap (an upsert there), and one row stands here.
 */
export async function createTipaltiPayee(
  ctx: DomainContext,
  input: { appId: string; memberId: number; payee: TipaltiPayee },
  tipalti?: TipaltiPayees,
): Promise<{ payeeId: string; alreadyExists: boolean }> {
  let payeeId = `payee_${randomBytes(9).toString('hex')}`;
  if (tipalti) {
    const existing = await ctx.store.read(async (tx) => {
      await requireMember(tx, input.memberId);
      return tx.one<{ payee_id: string }>(
        "SELECT payee_id FROM linked_payout_accounts WHERE member_id = ? AND provider = 'tipalti'",
        [input.memberId],
      );
    });
    if (existing) return { payeeId: existing.payee_id, alreadyExists: true };
    payeeId = tipalti.idapFor(input.memberId);
    await createAtTipalti(tipalti, payeeId, input.payee);
  }
  return ctx.store.transact(async (tx) => {
    await requireMember(tx, input.memberId);
    const { link, created } = await insertOnce(
      tx,
      {
        appId: input.appId,
        memberId: input.memberId,
        provider: 'tipalti',
        state: 'linked',
        token: null,
        payeeId,
        sealed: seal(input.payee, ctx.settings.credentialsKey, `linked:${input.memberId}:tipalti`),
      },
      ctx.now(),
    );
    return { payeeId: link.payee_id ?? '', alreadyExists: !created };
  });
}

/** The payee at Tipalti (phone, tax details and payment method are not payee fields there: kept here). */
async function createAtTipalti(tipalti: TipaltiPayees, idap: string, payee: TipaltiPayee): Promise<void> {
  try {
    await tipalti.updateOrCreatePayee(idap, {
      firstName: payee.firstName,
      lastName: payee.lastName,
      company: payee.companyName,
      email: payee.email,
      ...payee.address,
    });
  } catch (error) {
    if (error instanceof TipaltiRefused) {
      throw new DomainError(error.payeeFault ? 'validation_error' : 'provider_refused', error.message);
    }
    if (error instanceof PayoutUnavailable) {
      throw new DomainError('provider_unavailable', 'Tipalti could not be reached; try again shortly');
    }
    throw error;
  }
}

/** Payoneer only (as seed 003 says): removes the member's Payoneer link, or `not_found`. */
export async function unlinkAccount(ctx: DomainContext, input: { memberId: number }): Promise<void> {
  await ctx.store.transact(async (tx) => {
    const removed = await tx.one<{ id: number }>(
      "DELETE FROM linked_payout_accounts WHERE member_id = ? AND provider = 'payoneer' RETURNING id",
      [input.memberId],
    );
    if (!removed) throw new DomainError('not_found', 'No linked Payoneer account');
  });
}

/** What the link page shows: the provider and the link's state, or undefined for an unknown token. */
export async function linkByToken(
  ctx: DomainContext,
  token: string,
): Promise<{ provider: string; state: string } | undefined> {
  return ctx.store.read((tx) =>
    tx.one<{ provider: string; state: string }>(
      'SELECT provider, state FROM linked_payout_accounts WHERE link_token = ?',
      [token],
    ),
  );
}
