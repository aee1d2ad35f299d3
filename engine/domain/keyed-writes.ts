// Writes whose own domain functions take no idempotency key, run once per key for APIs that require
// one on every write (the native API): creating members, programs and partners, linking cards,
// claiming textcoins, OTP exchanges and PIN changes. The rules stay in the functions these call;
// this file adds only "once per key" and the few checks those functions leave to their caller.
import { isValidPan } from '../../contract/card.ts';
import { cardHash } from '../../contract/card-hash.ts';
import type { Store } from '../store/store.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import {
  idempotent,
  requestHash,
  storedResult,
  type IdempotencyKey,
  type Replayable,
} from './idempotency.ts';
import { setPin } from './member-auth.ts';
import {
  createMember,
  getMember,
  linkCard,
  type LinkedCard,
  type Member,
  type NewMember,
} from './members.ts';
import { createPartner, type Partner } from './partners.ts';
import { createProgram, type NewProgram, type Program } from './programs.ts';

// ------------------------------------------------------------------------------ atomic, in one tx

/** Creates a member; an email, a phone or an external id is needed to find them again. */
export async function createMemberOnce(
  ctx: DomainContext,
  m: NewMember,
  key: IdempotencyKey | undefined,
): Promise<Replayable<Member>> {
  if (!m.email && !m.phone && !m.externalId) {
    throw new DomainError('validation_error', 'A member needs an email or a phone, or an external_id');
  }
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, key, { op: 'create_member', ...m }, now, () => createMember(tx, m, now));
  });
}

/**
 * Links a card to an existing member by its keyed hash. The PAN is used here only to compute the
 * hash and first 6 / last 4; the idempotency record holds the hash, never the PAN.
 */
export async function linkCardOnce(
  ctx: DomainContext,
  input: { memberId: number; pan: string },
  key: IdempotencyKey | undefined,
): Promise<Replayable<LinkedCard>> {
  if (!isValidPan(input.pan)) {
    throw new DomainError('validation_error', 'pan: must be 12 to 19 digits with a valid Luhn check digit');
  }
  const card = {
    hash: cardHash(input.pan, ctx.settings.cardHashKey),
    first6: input.pan.slice(0, 6),
    last4: input.pan.slice(-4),
  };
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(
      tx,
      key,
      { op: 'link_card', memberId: input.memberId, cardHash: card.hash },
      now,
      async () => {
        await getMember(tx, { id: input.memberId });
        return linkCard(tx, input.memberId, card, now);
      },
    );
  });
}

export async function createProgramOnce(
  ctx: DomainContext,
  p: NewProgram,
  key: IdempotencyKey | undefined,
): Promise<Replayable<Program>> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, key, { op: 'create_program', ...p }, now, () => createProgram(tx, p, now));
  });
}

export async function createPartnerOnce(
  ctx: DomainContext,
  p: { appId: string; unit?: string; baseBps: number; maxPartnerBps?: number },
  key: IdempotencyKey | undefined,
): Promise<Replayable<Partner>> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, key, { op: 'create_partner', ...p }, now, () => createPartner(tx, p, now));
  });
}

// ---------------------------------------------------- around functions that run their own transactions

interface InFlight {
  hash: string;
  promise: Promise<{ result: object; replayed: boolean }>;
}
const inFlight = new WeakMap<Store, Map<string, InFlight>>();

const conflict = (key: IdempotencyKey) =>
  new DomainError(
    'idempotency_conflict',
    `Key "${key.key}" was already used for a different request; use a new key for a new operation`,
  );

/**
 * Runs `run` once per key for a function that opens its own transaction(s), so the key cannot commit
 * with the effect. Concurrent requests with one key in this process share one run and one answer.
 * With `persist`, the result is stored after the run (never put a secret in it), and a later request
 * with the key gets it again, through this engine process or another on the same database (the run
 * holds the store's lock on the key, `Store.withKeyLock`); a crash between the effect and that store
 * lets a retry run again, so use it only where the function itself refuses a second effect or a second
 * effect is harmless. Without `persist`, nothing is stored: for results that must not rest on disk
 * (member tokens) or requests that must not be hashed onto disk (PINs).
 */
export async function onceWithKey<T extends object>(
  ctx: DomainContext,
  key: IdempotencyKey | undefined,
  request: unknown,
  opts: { persist: boolean },
  run: () => Promise<T>,
): Promise<Replayable<T>> {
  if (!key) return { ...(await run()), replayed: false };
  const hash = requestHash(request);
  let flights = inFlight.get(ctx.store);
  if (!flights) inFlight.set(ctx.store, (flights = new Map()));
  const id = JSON.stringify([key.appId, key.scope, key.key]);
  const current = flights.get(id);
  if (current) {
    if (current.hash !== hash) throw conflict(key);
    return { ...((await current.promise).result as T), replayed: true };
  }
  const promise = opts.persist
    ? // Engine processes sharing a PostgreSQL database take turns on the key, so the second finds the
      // first's result stored and replays it rather than running again.
      ctx.store.withKeyLock(id, async () => {
        const stored = await ctx.store.read((tx) => storedResult<T>(tx, key, request));
        if (stored) return { result: stored as T, replayed: true };
        const result = await run();
        await ctx.store.transact((tx) =>
          tx.run(
            `INSERT INTO idempotency_keys (app_id, scope, key, request_hash, result, created_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (app_id, scope, key) DO NOTHING`,
            [key.appId, key.scope, key.key, hash, JSON.stringify(result), ctx.now()],
          ),
        );
        return { result, replayed: false };
      })
    : // Nothing stored to replay, so no lock: another process's request runs again, which the
      // functions used this way refuse or make harmless (a used OTP code, a PIN set again).
      run().then((result) => ({ result, replayed: false }));
  flights.set(id, { hash, promise });
  try {
    const { result, replayed } = await promise;
    return { ...(result as T), replayed };
  } finally {
    flights.delete(id);
  }
}

/**
 * Sets a member's PIN. The caller proves the member with a member token for that member, or is an
 * app trusted to manage members (admin scope).
 */
export async function changePin(
  ctx: DomainContext,
  input: { memberId: number; pin: string; tokenMemberId?: number | undefined; admin: boolean },
): Promise<{ memberId: number }> {
  if (input.tokenMemberId === undefined && !input.admin) {
    throw new DomainError(
      'member_token_required',
      'Setting a PIN needs the member: send the member token (X-Member-Token) from an OTP exchange',
    );
  }
  if (input.tokenMemberId !== undefined && input.tokenMemberId !== input.memberId) {
    throw new DomainError('member_token_invalid', 'The member token belongs to another member');
  }
  await setPin(ctx, input.memberId, input.pin);
  return { memberId: input.memberId };
}
