// Seed 003's linked cashout accounts: a signed-in member links a PayPal or Payoneer account (the
// answer is a link URL to follow), creates a Tipalti payee (from the fields the document lists), or
// unlinks Payoneer. One link per member and provider; personal fields sealed at rest.
// - PayPal is real: the link URL is "Log in with PayPal" (payouts/paypal-connect.ts) with an OAuth2
//   `state` bound to the member's pending link (random, single use, expiring); PayPal's callback gives a
//   code, exchanged for the account's confirmed email, and the link becomes `linked` with that email
//   sealed. Seed 003's PayPal cashouts are paid to it (member-cashouts.ts).
// - Payoneer: the link URL is Payoneer's registration link for a payee id made here (payouts/payoneer.ts);
//   Payoneer returns the member to this engine's page for the link, which asks Payoneer for the payee's
//   status and marks the link `linked` once it is active. Nothing is paid to Payoneer (no payout client).
// - Tipalti: with a Tipalti client configured the payee is created at Tipalti under our idap for the
//   member (payouts/tipalti.ts) before it is stored; without one its payee id is made here.
import { randomBytes } from 'node:crypto';
import type { PayoneerPayees } from '../payouts/payoneer.ts';
import { PayPalLinkRefused, type PayPalConnect } from '../payouts/paypal-connect.ts';
import { PayoutUnavailable } from '../payouts/provider.ts';
import { TipaltiRefused, type TipaltiPayees } from '../payouts/tipalti.ts';
import type { Tx } from '../store/store.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { seal, unseal } from './sealing.ts';

/** How long a PayPal sign-in may take from our link to PayPal's callback. */
export const PAYPAL_STATE_TTL_MS = 15 * 60_000;

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
  oauth_state: string | null;
  oauth_state_expires_at: number | null;
}

/** What a link's sealed details are bound to: the member and the provider. */
const sealedTo = (memberId: number, provider: string) => `linked:${memberId}:${provider}`;

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
    `SELECT id, provider, state, link_token, payee_id, oauth_state, oauth_state_expires_at
     FROM linked_payout_accounts WHERE member_id = ? AND provider = ?`,
    [row.memberId, row.provider],
  );
  return { link, created: inserted !== undefined };
}

async function requireMember(tx: Tx, memberId: number): Promise<void> {
  if (!(await tx.one('SELECT id FROM members WHERE id = ?', [memberId]))) {
    throw new DomainError('member_not_found', 'User not authenticated');
  }
}

/** A provider's client, or the error that says which setting it needs. */
function configured<T>(client: T | undefined, name: string, setting: string): T {
  if (client === undefined) {
    throw new DomainError(
      'method_unavailable',
      `${name} account linking is not configured here (${setting})`,
    );
  }
  return client;
}

const newToken = () => randomBytes(24).toString('base64url');

/** The member's PayPal or Payoneer link, made pending unless one exists. */
const pendingLink = (
  tx: Tx,
  input: { appId: string; memberId: number; provider: 'paypal' | 'payoneer'; payeeId?: string },
  now: number,
) =>
  insertOnce(
    tx,
    { ...input, state: 'pending', token: newToken(), payeeId: input.payeeId ?? null, sealed: null },
    now,
  );

/**
 * Payoneer: Payoneer's registration link for the member's payee id (made with the link, kept), asked
 * for afresh on every call; Payoneer sends the member back to this link's page (`payoneerReturn`).
 */
export async function linkPayoneer(
  ctx: DomainContext,
  payoneer: PayoneerPayees | undefined,
  input: { appId: string; memberId: number },
): Promise<{ link: string }> {
  const client = configured(payoneer, 'Payoneer', 'payouts.payoneer');
  const link = await ctx.store.transact(async (tx) => {
    await requireMember(tx, input.memberId);
    const payeeId = `tb_${randomBytes(12).toString('hex')}`;
    return (await pendingLink(tx, { ...input, provider: 'payoneer', payeeId }, ctx.now())).link;
  });
  try {
    const registration = await client.registrationLink({
      payeeId: link.payee_id ?? '',
      redirectUrl: linkUrl(ctx, link.link_token ?? ''),
    });
    return { link: registration };
  } catch (error) {
    if (error instanceof PayoutUnavailable) {
      throw new DomainError('link_failed', `Payoneer gave no registration link: ${error.message}`);
    }
    throw error;
  }
}

/**
 * The page Payoneer returns the member to: Payoneer is asked whether the payee is active, and a pending
 * link becomes `linked` when it is. Undefined for a token that is no Payoneer link.
 */
export async function payoneerReturn(
  ctx: DomainContext,
  payoneer: PayoneerPayees | undefined,
  token: string,
): Promise<{ state: 'pending' | 'linked' } | undefined> {
  const link = await ctx.store.read((tx) =>
    tx.one<{ id: number; state: 'pending' | 'linked'; payee_id: string }>(
      "SELECT id, state, payee_id FROM linked_payout_accounts WHERE provider = 'payoneer' AND link_token = ?",
      [token],
    ),
  );
  if (!link || link.state === 'linked') return link && { state: link.state };
  let active: boolean;
  try {
    active = await configured(payoneer, 'Payoneer', 'payouts.payoneer').isActive(link.payee_id);
  } catch (error) {
    if (error instanceof PayoutUnavailable) {
      throw new DomainError(
        'link_failed',
        `Payoneer could not say whether you are registered: ${error.message}`,
      );
    }
    throw error;
  }
  if (!active) return { state: 'pending' };
  await ctx.store.transact((tx) =>
    tx.run(
      "UPDATE linked_payout_accounts SET state = 'linked', updated_at = ? WHERE id = ? AND state = 'pending'",
      [ctx.now(), link.id],
    ),
  );
  return { state: 'linked' };
}

/** Where PayPal sends the member's browser back after they sign in (the return URL set for the app). */
export const paypalRedirectUri = (ctx: DomainContext) =>
  `${ctx.settings.publicUrl}/cashout/link/paypal/callback`;

/**
 * PayPal: the "Log in with PayPal" URL, its `state` bound to the member's link. A repeat answers the same
 * URL while that state is unused and unexpired, else a new state. A linked account stays linked (and
 * paid) until a new sign-in replaces its email.
 */
export async function startPayPalLink(
  ctx: DomainContext,
  connect: PayPalConnect | undefined,
  input: { appId: string; memberId: number },
): Promise<{ link: string }> {
  const paypal = configured(connect, 'PayPal', 'payouts.paypal');
  return ctx.store.transact(async (tx) => {
    await requireMember(tx, input.memberId);
    const now = ctx.now();
    const { link } = await pendingLink(tx, { ...input, provider: 'paypal' }, now);
    let state = link.oauth_state;
    if (state === null || (link.oauth_state_expires_at ?? 0) <= now) {
      state = newToken();
      await tx.run(
        'UPDATE linked_payout_accounts SET oauth_state = ?, oauth_state_expires_at = ?, updated_at = ? WHERE id = ?',
        [state, now + PAYPAL_STATE_TTL_MS, now, link.id],
      );
    }
    return { link: paypal.authorizeUrl({ state, redirectUri: paypalRedirectUri(ctx) }) };
  });
}

/**
 * PayPal's callback: the state is taken (once: it is cleared before PayPal is asked, so a replay finds
 * nothing), the code exchanged for the account's confirmed email, and the link becomes `linked` with it.
 * An unknown, used or expired state changes nothing; a failed exchange leaves the link as it was.
 */
export async function completePayPalLink(
  ctx: DomainContext,
  connect: PayPalConnect | undefined,
  input: { state: string; code: string },
): Promise<void> {
  const paypal = configured(connect, 'PayPal', 'payouts.paypal');
  const link = await ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const row = await tx.one<{ id: number; member_id: number; oauth_state_expires_at: number }>(
      `SELECT id, member_id, oauth_state_expires_at FROM linked_payout_accounts
       WHERE provider = 'paypal' AND oauth_state = ?`,
      [input.state],
    );
    if (!row || row.oauth_state_expires_at <= now) {
      throw new DomainError(
        'validation_error',
        'This PayPal sign-in link has expired or was already used; ask for a new link',
      );
    }
    await tx.run(
      'UPDATE linked_payout_accounts SET oauth_state = NULL, oauth_state_expires_at = NULL, updated_at = ? WHERE id = ?',
      [now, row.id],
    );
    return row;
  });
  let email: string;
  try {
    email = await paypal.verifiedEmail({ code: input.code, redirectUri: paypalRedirectUri(ctx) });
  } catch (error) {
    if (error instanceof PayPalLinkRefused || error instanceof PayoutUnavailable) {
      throw new DomainError('link_failed', `Your PayPal account is not linked: ${error.message}`);
    }
    throw error;
  }
  await ctx.store.transact(async (tx) => {
    await tx.run(
      "UPDATE linked_payout_accounts SET state = 'linked', details_sealed = ?, updated_at = ? WHERE id = ?",
      [seal({ email }, ctx.settings.credentialsKey, sealedTo(link.member_id, 'paypal')), ctx.now(), link.id],
    );
  });
}

/** The email of the member's linked PayPal account, or undefined when none is linked. */
export async function linkedPayPalEmail(
  ctx: DomainContext,
  tx: Tx,
  memberId: number,
): Promise<string | undefined> {
  const row = await tx.one<{ details_sealed: string }>(
    `SELECT details_sealed FROM linked_payout_accounts
     WHERE member_id = ? AND provider = 'paypal' AND state = 'linked'`,
    [memberId],
  );
  if (!row) return undefined;
  return unseal<{ email: string }>(
    row.details_sealed,
    ctx.settings.credentialsKey,
    sealedTo(memberId, 'paypal'),
  ).email;
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
        sealed: seal(input.payee, ctx.settings.credentialsKey, sealedTo(input.memberId, 'tipalti')),
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
