// Seed 000 cashout providers: a merchant backend registers a named profile with the card that funds
// its customers' cashouts and the endpoint that hears every outcome, then generates claims by name.
// A profile belongs to the app that registered it: only that app may change it or generate claims
// with it (noebs let anyone re-point a provider's card). The card is sealed at rest and never shown
// but as first 6 / last 4.
import { isExpiryCurrent } from '../../contract/card.ts';
import type { FundingCard } from '../payouts/provider.ts';
import type { Tx } from '../store/store.ts';
import { createClaim, type Claim } from './claims.ts';
import type { DomainContext } from './context.ts';
import { knownCurrency } from './amounts.ts';
import { DomainError } from './errors.ts';
import type { Replayable } from './idempotency.ts';
import { seal } from './sealing.ts';

/** The registered card: the funding card of the provider's claims when noebs pays them. */
export type ProviderCard = FundingCard;

export interface CashoutProvider {
  name: string;
  cardFirst6: string;
  cardLast4: string;
  endpoint: string;
  currency: string;
  createdAt: number;
  updatedAt: number;
}

interface ProviderRow {
  id: number;
  name: string;
  app_id: string;
  card_first6: string;
  card_last4: string;
  endpoint: string;
  currency: string;
  created_at: number;
  updated_at: number;
}

const fromRow = (r: ProviderRow): CashoutProvider => ({
  name: r.name,
  cardFirst6: r.card_first6,
  cardLast4: r.card_last4,
  endpoint: r.endpoint,
  currency: r.currency,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** What a sealed provider card is bound to: opened under any other row's name it fails. */
export const providerCardBinding = (name: string) => `cashout_provider:${name}`;

function checkCard(card: ProviderCard, consent: boolean | undefined, now: number): void {
  if (!isExpiryCurrent(card.expDate, now)) {
    throw new DomainError('validation_error', 'expDate: the card has expired (or is not YYmm)', {
      field: 'expDate',
    });
  }
  if (consent !== true) {
    throw new DomainError('validation_error', 'consent: must be true to let us use the card on your behalf', {
      field: 'consent',
    });
  }
}

/** The profile by name, owned by `appId`; another app's profile is "not found". */
async function ownedProvider(tx: Tx, name: string, appId: string, lock = false): Promise<ProviderRow> {
  const row = await tx.one<ProviderRow>(
    `SELECT * FROM cashout_providers WHERE name = ?${lock ? tx.forUpdate : ''}`,
    [name],
  );
  if (!row || row.app_id !== appId) {
    throw new DomainError('not_found', `No cashout provider named "${name.slice(0, 64)}"`);
  }
  return row;
}

export async function registerProvider(
  ctx: DomainContext,
  input: {
    appId: string;
    name: string;
    card: ProviderCard;
    consent: boolean;
    endpoint: string;
    currency: string;
  },
): Promise<CashoutProvider> {
  const now = ctx.now();
  checkCard(input.card, input.consent, now);
  const currency = knownCurrency(input.currency, 'currency');
  return ctx.store.transact(async (tx) => {
    if (await tx.one('SELECT id FROM cashout_providers WHERE name = ?', [input.name])) {
      throw new DomainError('conflict', `The name "${input.name}" is taken; choose another`, {
        field: 'name',
      });
    }
    const row = await tx.row<ProviderRow>(
      `INSERT INTO cashout_providers (name, app_id, card_sealed, card_first6, card_last4, endpoint, currency,
         consent_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      [
        input.name,
        input.appId,
        seal(input.card, ctx.settings.credentialsKey, providerCardBinding(input.name)),
        input.card.pan.slice(0, 6),
        input.card.pan.slice(-4),
        input.endpoint,
        currency,
        now,
        now,
        now,
      ],
    );
    return fromRow(row);
  });
}

/** Changes the card (all three credentials, with consent again) and/or the endpoint. */
export async function updateProvider(
  ctx: DomainContext,
  input: { appId: string; name: string; card?: ProviderCard; consent?: boolean; endpoint?: string },
): Promise<CashoutProvider> {
  const now = ctx.now();
  if (input.card) checkCard(input.card, input.consent, now);
  if (!input.card && input.endpoint === undefined) {
    throw new DomainError('validation_error', 'Send a new card (pan, expDate, ipin, consent) or endpoint');
  }
  return ctx.store.transact(async (tx) => {
    const row = await ownedProvider(tx, input.name, input.appId, true);
    const card = input.card;
    const updated = await tx.row<ProviderRow>(
      `UPDATE cashout_providers SET card_sealed = COALESCE(?, card_sealed), card_first6 = COALESCE(?, card_first6),
         card_last4 = COALESCE(?, card_last4), consent_at = COALESCE(?, consent_at),
         endpoint = COALESCE(?, endpoint), updated_at = ? WHERE id = ? RETURNING *`,
      [
        card ? seal(card, ctx.settings.credentialsKey, providerCardBinding(row.name)) : null,
        card ? card.pan.slice(0, 6) : null,
        card ? card.pan.slice(-4) : null,
        card ? now : null,
        input.endpoint ?? null,
        now,
        row.id,
      ],
    );
    return fromRow(updated);
  });
}

export async function getProvider(ctx: DomainContext, appId: string, name: string): Promise<CashoutProvider> {
  return ctx.store.read(async (tx) => fromRow(await ownedProvider(tx, name, appId)));
}

/**
 * Generates a claim funded by the provider's card. `id` is the provider's own transaction id and the
 * idempotency key: the same id again returns the same claim; with another amount it is a conflict.
 */
export async function generateClaim(
  ctx: DomainContext,
  input: { appId: string; name: string; amount: number; id: string },
): Promise<Replayable<Claim>> {
  const provider = await ctx.store.read((tx) => ownedProvider(tx, input.name, input.appId));
  return createClaim(
    ctx,
    {
      appId: input.appId,
      funding: { kind: 'provider', providerId: provider.id, currency: provider.currency },
      amount: input.amount,
      storeName: provider.name,
      reference: input.id,
      // The noebs flow: the customer enters the card the money goes to.
      methods: ['card'],
    },
    { appId: input.appId, scope: `seed000:generate:${provider.name}`, key: input.id },
  );
}
