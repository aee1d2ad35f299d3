// Cashout claims. A till (native API) or a seed 000 cashout provider creates a claim for a fixed
// amount; the customer opens its URL, chooses where the money goes and submits; the payout worker
// pays it. Every state change goes through `nextState` (claim-states.ts) and writes an outbox event
// in the same transaction. A member-funded claim holds the member's cashback (a pending transfer)
// from creation: paid posts the hold, failed, expired and cancelled void it and give it back.
import { randomUUID } from 'node:crypto';
import type { PayoutMethod, PayoutMethodKind } from '../payouts/provider.ts';
import type { Tx } from '../store/store.ts';
import { chart } from './accounts.ts';
import { amountOf, describeAmount, knownCurrency } from './amounts.ts';
import { isFinal, isOpenForCustomer, nextState, type ClaimEvent, type ClaimState } from './claim-states.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { idempotent, type IdempotencyKey, type Replayable } from './idempotency.ts';
import { balanceOf, findAccount, postPending, transfer, voidPending } from './ledger.ts';
import { addLot, consumeLots, processDueLots } from './lots.ts';
import { getMember, type MemberSelector } from './members.ts';
import { recordEvent, type EventTarget } from './outbox.ts';
import { checkPayoutMethod, payoutMethodLabel } from './payout-methods.ts';
import { getProgram } from './programs.ts';
import { seal } from './sealing.ts';
import { recordTransaction } from './transactions.ts';
import { withdrawalOutcome } from './withdrawal-events.ts';

export type ClaimFunding =
  | { kind: 'store'; currency: string }
  | { kind: 'member'; programId: number; member: MemberSelector }
  | { kind: 'provider'; providerId: number; currency: string };

export interface NewClaim {
  appId: string;
  funding: ClaimFunding;
  /** Integer minor units; fixed for the life of the claim. */
  amount: number;
  storeName: string;
  reference?: string | undefined;
  methods: readonly PayoutMethodKind[];
  /** Overrides the configured claim lifetime. */
  ttlSeconds?: number | undefined;
}

export interface Claim {
  id: string;
  appId: string;
  funding: 'store' | 'member' | 'provider';
  providerId: number | null;
  memberId: number | null;
  programId: number | null;
  reference: string | null;
  storeName: string;
  amount: number;
  currency: string;
  methods: PayoutMethodKind[];
  /** As of now: a claim past its expiry that the sweep has not reached yet reads as expired. */
  state: ClaimState;
  method: { kind: PayoutMethodKind; label: string } | null;
  failure: { code: string; message: string } | null;
  /** The hold's cashout transaction (member-funded claims). */
  transactionId: number | null;
  expiresAt: number;
  createdAt: number;
  updatedAt: number;
  url: string;
}

export interface ClaimRow {
  id: string;
  app_id: string;
  funding: Claim['funding'];
  provider_id: number | null;
  member_id: number | null;
  program_id: number | null;
  reference: string | null;
  store_name: string;
  amount: number;
  currency: string;
  methods: string;
  state: ClaimState;
  transaction_id: number | null;
  hold_transfer_id: number | null;
  method_kind: PayoutMethodKind | null;
  method_label: string | null;
  method_sealed: string | null;
  failure_code: string | null;
  failure_message: string | null;
  expires_at: number;
  created_at: number;
  updated_at: number;
}

/** The state a customer and a merchant see: expiry counts from its time, not from the sweep. */
export const effectiveState = (row: Pick<ClaimRow, 'state' | 'expires_at'>, now: number): ClaimState =>
  isOpenForCustomer(row.state) && row.expires_at <= now ? 'expired' : row.state;

export const claimUrl = (ctx: DomainContext, id: string) => `${ctx.settings.publicUrl}/c/${id}`;

export function claimOf(ctx: DomainContext, row: ClaimRow, now: number): Claim {
  return {
    id: row.id,
    appId: row.app_id,
    funding: row.funding,
    providerId: row.provider_id,
    memberId: row.member_id,
    programId: row.program_id,
    reference: row.reference,
    storeName: row.store_name,
    amount: row.amount,
    currency: row.currency,
    methods: row.methods.split(',') as PayoutMethodKind[],
    state: effectiveState(row, now),
    method: row.method_kind ? { kind: row.method_kind, label: row.method_label ?? row.method_kind } : null,
    failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? '' } : null,
    transactionId: row.transaction_id,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    url: claimUrl(ctx, row.id),
  };
}

/** Claim ids are UUID v4: 122 random bits, unguessable, and the `uuid` seed 000 returns. */
const CLAIM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

export async function loadClaim(tx: Tx, id: string, lock = false): Promise<ClaimRow> {
  const row = CLAIM_ID.test(id)
    ? await tx.one<ClaimRow>(`SELECT * FROM claims WHERE id = ?${lock ? tx.forUpdate : ''}`, [id])
    : undefined;
  if (!row) throw new DomainError('not_found', 'No such claim');
  return row;
}

// ------------------------------------------------------------------------------------ transitions

/**
 * What a seed 000 provider hears of a final state, noebs-style: code 0 "Approval" when paid, 69
 * (the document's "Generic Error") with the reason otherwise. The document sends only outcomes.
 */
function seed000Outcome(row: ClaimRow): { response: string; code: number } | undefined {
  switch (row.state) {
    case 'paid':
      return { response: 'Approval', code: 0 };
    case 'failed':
      return { response: row.failure_message ?? 'Generic Error', code: 69 };
    case 'expired':
      return { response: 'Claim expired', code: 69 };
    case 'cancelled':
      return { response: 'Claim cancelled', code: 69 };
    default:
      return undefined;
  }
}

/**
 * The outbox event of a claim's state change; a seed 000 provider's endpoint also gets outcomes, and
 * so does a seed 001 withdrawal's caller.
 */
async function claimEvent(tx: Tx, row: ClaimRow, now: number): Promise<void> {
  let provider: { name: string; endpoint: string } | undefined;
  if (row.provider_id !== null) {
    provider = await tx.one<{ name: string; endpoint: string }>(
      'SELECT name, endpoint FROM cashout_providers WHERE id = ?',
      [row.provider_id],
    );
  }
  const outcome = provider && seed000Outcome(row);
  const targets: EventTarget[] = provider && outcome ? [{ url: provider.endpoint, format: 'seed000' }] : [];
  await recordEvent(
    tx,
    {
      type: `claim.${row.state}`,
      subject: { kind: 'claim', id: row.id },
      data: {
        claim_id: row.id,
        status: row.state,
        amount: row.amount,
        currency: row.currency,
        reference: row.reference,
        store_name: row.store_name,
        funding: row.funding,
        provider_name: provider?.name ?? null,
        member_id: row.member_id,
        method: row.method_kind ? { kind: row.method_kind, label: row.method_label } : null,
        failure: row.failure_code ? { code: row.failure_code, message: row.failure_message } : null,
        expires_at: row.expires_at,
        updated_at: now,
        // The seed 000 body's fields (name, details.response, details.code, details.amount).
        ...(provider && outcome ? { name: provider.name, ...outcome } : {}),
      },
      targets,
    },
    now,
  );
  // A seed 001 withdrawal paid by this claim reports its outcome to the caller's endpoint.
  await withdrawalOutcome(tx, row, now);
}

/** Gives a member's held cashback back: voids the hold and returns the amount as spendable lots. */
async function releaseHold(tx: Tx, row: ClaimRow, now: number): Promise<void> {
  if (row.hold_transfer_id === null || row.member_id === null || row.program_id === null) return;
  const program = await getProgram(tx, row.program_id);
  const returned = await recordTransaction(
    tx,
    {
      type: 'cashout_return',
      currency: row.currency,
      amount: row.amount,
      programId: row.program_id,
      memberId: row.member_id,
      relatedId: row.transaction_id,
      reference: row.reference,
      metadata: { claim_id: row.id, status: row.state },
    },
    now,
  );
  await voidPending(tx, row.hold_transfer_id, returned, now);
  const available = await findAccount(
    tx,
    chart.memberAvailable(row.member_id, row.program_id, row.currency).code,
  );
  await addLot(
    tx,
    program,
    {
      transactionId: returned,
      memberId: row.member_id,
      programId: row.program_id,
      amount: row.amount,
      state: 'available',
      maturesAt: now,
      expiresAt: program.expiryDays === null ? null : now + program.expiryDays * 86_400_000,
      availableAfter: available ? balanceOf(available).available : row.amount,
    },
    now,
  );
}

export interface ClaimPatch {
  method?: { kind: PayoutMethodKind; label: string; sealed: string };
  failure?: { code: string; message: string };
}

/**
 * Applies `event` to a claim in the caller's transaction: the state change (refused with a conflict
 * when the state machine does not allow it), its ledger effect, and its outbox event.
 */
export async function moveClaim(
  tx: Tx,
  row: ClaimRow,
  event: ClaimEvent,
  now: number,
  patch: ClaimPatch = {},
): Promise<ClaimRow> {
  const state = effectiveState(row, now) === 'expired' && event !== 'expire' ? 'expired' : row.state;
  const next = nextState(state, event);
  if (!next) {
    throw new DomainError('conflict', `The claim is ${state}: it cannot ${event.replace('_', ' ')}`, {
      status: state,
    });
  }
  const updated: ClaimRow = {
    ...row,
    state: next,
    updated_at: now,
    ...(patch.method
      ? {
          method_kind: patch.method.kind,
          method_label: patch.method.label,
          method_sealed: patch.method.sealed,
        }
      : {}),
    ...(patch.failure ? { failure_code: patch.failure.code, failure_message: patch.failure.message } : {}),
  };
  // Card data is kept only while a payout may still need it.
  if (isFinal(next)) updated.method_sealed = null;
  const changed = await tx.run(
    `UPDATE claims SET state = ?, updated_at = ?, method_kind = ?, method_label = ?, method_sealed = ?,
       failure_code = ?, failure_message = ? WHERE id = ? AND state = ?`,
    [
      next,
      now,
      updated.method_kind,
      updated.method_label,
      updated.method_sealed,
      updated.failure_code,
      updated.failure_message,
      row.id,
      row.state,
    ],
  );
  if (changed.changes !== 1) throw new DomainError('conflict', 'The claim changed meanwhile; try again');
  // A member's hold is posted when the claim is paid and given back when it ends any other way.
  if (next === 'paid') {
    if (row.hold_transfer_id !== null && row.transaction_id !== null) {
      await postPending(tx, row.hold_transfer_id, row.transaction_id, now);
    }
  } else if (isFinal(next)) {
    await releaseHold(tx, updated, now);
  }
  await claimEvent(tx, updated, now);
  return updated;
}

// ------------------------------------------------------------------------------------- operations

/** Creates a claim in the caller's transaction (holding a member's cashback when member-funded). */
export async function insertClaim(
  ctx: DomainContext,
  tx: Tx,
  input: NewClaim,
  now: number,
): Promise<ClaimRow> {
  const f = input.funding;
  const id = randomUUID();
  let currency: string;
  let member: { memberId: number; programId: number; transactionId: number; holdId: number } | undefined;
  if (f.kind === 'member') {
    const program = await getProgram(tx, f.programId);
    currency = program.currency;
    const amount = amountOf({ minor: input.amount }, currency, 'amount');
    const m = await getMember(tx, f.member);
    await processDueLots(tx, now, { memberId: m.id, program });
    const transactionId = await recordTransaction(
      tx,
      {
        type: 'cashout',
        currency,
        amount: -amount,
        programId: program.id,
        memberId: m.id,
        reference: input.reference,
        metadata: { claim_id: id },
        appId: input.appId,
      },
      now,
    );
    const hold = await transfer(tx, {
      transactionId,
      debit: chart.memberAvailable(m.id, program.id, currency),
      credit: chart.programCashouts(program.id, currency),
      amount,
      currency,
      now,
      pending: true,
      insufficient: (_account, available) =>
        new DomainError(
          'insufficient_balance',
          `Insufficient cashback: ${describeAmount(Math.max(0, available), currency)} available, ${describeAmount(amount, currency)} requested`,
          { available },
        ),
    });
    await consumeLots(tx, program, m.id, 'available', amount);
    member = { memberId: m.id, programId: program.id, transactionId, holdId: hold.id };
  } else {
    currency = knownCurrency(f.currency, 'currency');
    amountOf({ minor: input.amount }, currency, 'amount');
  }
  const row = await tx.row<ClaimRow>(
    `INSERT INTO claims (id, app_id, funding, provider_id, member_id, program_id, reference, store_name, amount,
       currency, methods, state, transaction_id, hold_transfer_id, expires_at, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'created', ?, ?, ?, ?, ?) RETURNING *`,
    [
      id,
      input.appId,
      f.kind,
      f.kind === 'provider' ? f.providerId : null,
      member?.memberId ?? null,
      member?.programId ?? null,
      input.reference ?? null,
      input.storeName,
      input.amount,
      currency,
      input.methods.join(','),
      member?.transactionId ?? null,
      member?.holdId ?? null,
      now + (input.ttlSeconds ?? ctx.settings.claimTtlSeconds) * 1000,
      now,
      now,
    ],
  );
  await claimEvent(tx, row, now);
  return row;
}

/** Creates a claim, once per idempotency key. */
export async function createClaim(
  ctx: DomainContext,
  input: NewClaim,
  key: IdempotencyKey | undefined,
): Promise<Replayable<Claim>> {
  if (input.methods.length === 0) {
    throw new DomainError('validation_error', 'methods: offer at least one payout method');
  }
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const created = await idempotent(tx, key, { op: 'create_claim', ...input }, now, async () => ({
      id: (await insertClaim(ctx, tx, input, now)).id,
    }));
    return { ...claimOf(ctx, await loadClaim(tx, created.id), now), replayed: created.replayed };
  });
}

/** Who may see and cancel a claim: the app that created it, or an admin. */
export interface ClaimViewer {
  appId: string;
  admin: boolean;
}

function checkOwner(row: ClaimRow, viewer: ClaimViewer): void {
  // Another app's claim is "not found": its existence is not another app's business.
  if (!viewer.admin && row.app_id !== viewer.appId) throw new DomainError('not_found', 'No such claim');
}

export async function getClaim(ctx: DomainContext, id: string, viewer?: ClaimViewer): Promise<Claim> {
  return ctx.store.read(async (tx) => {
    const row = await loadClaim(tx, id);
    if (viewer) checkOwner(row, viewer);
    return claimOf(ctx, row, ctx.now());
  });
}

export async function cancelClaim(
  ctx: DomainContext,
  id: string,
  viewer: ClaimViewer,
  key: IdempotencyKey | undefined,
): Promise<Replayable<Claim>> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const done = await idempotent(tx, key, { op: 'cancel_claim', id }, now, async () => {
      const row = await loadClaim(tx, id, true);
      checkOwner(row, viewer);
      await moveClaim(tx, row, 'cancel', now);
      return { id };
    });
    return { ...claimOf(ctx, await loadClaim(tx, id), now), replayed: done.replayed };
  });
}

/** The customer opened the claim page: created becomes opened; any other state is left as it is. */
export async function openClaim(ctx: DomainContext, id: string): Promise<Claim> {
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    let row = await loadClaim(tx, id, true);
    if (effectiveState(row, now) === 'created') row = await moveClaim(tx, row, 'open', now);
    return claimOf(ctx, row, now);
  });
}

/**
 * The customer chose where the money goes. Only the first submission of a claim is accepted; the
 * method's card data is sealed to the claim until the payout is final.
 */
export async function submitClaim(
  ctx: DomainContext,
  id: string,
  input: { method: PayoutMethod; consent: boolean },
): Promise<Claim> {
  if (input.consent !== true) {
    throw new DomainError('validation_error', 'consent: the customer must agree to the payout terms', {
      field: 'consent',
    });
  }
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const moved = await submitMethod(ctx, tx, await loadClaim(tx, id, true), input.method, now);
    return claimOf(ctx, moved, now);
  });
}

/**
 * Submits a claim with the payout method, in the caller's transaction: the method must be one the
 * claim offers, and it is sealed to the claim until the payout is final.
 */
export async function submitMethod(
  ctx: DomainContext,
  tx: Tx,
  row: ClaimRow,
  method: PayoutMethod,
  now: number,
): Promise<ClaimRow> {
  checkPayoutMethod(method, row.methods.split(','), now);
  return moveClaim(tx, row, 'submit', now, {
    method: {
      kind: method.kind,
      label: payoutMethodLabel(method),
      sealed: seal(method, ctx.settings.credentialsKey, `claim:${row.id}`),
    },
  });
}

/** The sweep: claims past their expiry that nobody submitted expire (and give back their holds). */
export async function expireDueClaims(tx: Tx, now: number): Promise<number> {
  // Locked: a claim submitted (or expired by another engine) meanwhile is no longer due once its lock is ours.
  const due = await tx.all<ClaimRow>(
    `SELECT * FROM claims WHERE state IN ('created', 'opened') AND expires_at <= ? ORDER BY expires_at${tx.forUpdate}`,
    [now],
  );
  for (const row of due) await moveClaim(tx, row, 'expire', now);
  return due.length;
}
