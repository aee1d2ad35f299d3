// The cashback operations: earn, redeem, refund, manager adjustment, balance and history.
// Every seed API and the native API call these; no business rule lives anywhere else.
import { parse as parseLossless } from 'lossless-json';
import { cashbackFor, cumulativeClawback } from '../../contract/money.ts';
import type { Tx } from '../store/store.ts';
import { chart } from './accounts.ts';
import { amountOf, describeAmount, type AmountInput } from './amounts.ts';
import { DAY_MS, type DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { idempotent, storedResult, type IdempotencyKey, type Replayable } from './idempotency.ts';
import { balanceOf, findAccount, rowAfter, transfer, type AccountRow } from './ledger.ts';
import { addLot, consumeLots, processDueLots } from './lots.ts';
import { checkPin } from './member-auth.ts';
import { findMember, findOrCreateMember, getMember, type MemberSelector } from './members.ts';
import { pinFromBlock, useBlockCounter, type PinBlockInput } from './pin-blocks.ts';
import { getProgram, programReader, type Program } from './programs.ts';
import { recordTransaction, type TransactionRow, type TransactionType } from './transactions.ts';

export interface MemberBalance {
  currency: string;
  /** Spendable now (may be negative after a refund clawback). */
  available: number;
  /** Earned, not yet matured. */
  maturing: number;
  /** Held by pending cashouts. */
  held: number;
}

interface Common {
  appId: string;
  programId: number;
  reference?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
  idempotency?: IdempotencyKey | undefined;
}

/**
 * The member's balance in a program. `current` holds account rows the caller already has as they
 * stand now (a transfer returns them), so they are not read again. A program that does not mature
 * never credits a maturing account (programs never change), so its maturing balance is 0 unread.
 */
async function memberBalance(
  tx: Tx,
  memberId: number,
  program: Program,
  current: readonly AccountRow[] = [],
): Promise<MemberBalance> {
  const account = (code: string) => current.find((a) => a.code === code) ?? findAccount(tx, code);
  const available = await account(chart.memberAvailable(memberId, program.id, program.currency).code);
  const maturing =
    program.maturationDays > 0
      ? await account(chart.memberMaturing(memberId, program.id, program.currency).code)
      : undefined;
  const a = available ? balanceOf(available) : { available: 0, held: 0 };
  return {
    currency: program.currency,
    available: a.available,
    maturing: maturing ? balanceOf(maturing).posted : 0,
    held: a.held,
  };
}

/** The request as hashed for idempotency: everything but the key itself. */
const withoutKey = <T extends { idempotency?: unknown }>(input: T) => ({ ...input, idempotency: undefined });

// ---------------------------------------------------------------------------------------------- earn

export interface EarnInput extends Common {
  member: MemberSelector;
  /** Creates the member (by email or phone) when none exists. */
  memberName?: string | undefined;
  purchaseAmount: AmountInput;
}

export interface EarnResult {
  transactionId: number;
  memberId: number;
  memberCreated: boolean;
  programId: number;
  currency: string;
  purchaseAmount: number;
  cashbackBps: number;
  cashbackEarned: number;
  /** 'maturing' until maturesAt, 'available' at once, 'none' when nothing was earned. */
  status: 'available' | 'maturing' | 'none';
  maturesAt: number | null;
  balance: MemberBalance;
  earnedAt: number;
}

export async function earn(ctx: DomainContext, input: EarnInput): Promise<Replayable<EarnResult>> {
  const programs = programReader(ctx.store);
  // Together: on PostgreSQL earns arriving at once share a transaction (Store.transact).
  const result = await ctx.store.transact((tx) => earnIn(ctx, tx, input, programs), { together: true });
  programs.committed();
  return result;
}

/**
 * An earn inside the caller's transaction (several operations applied in order in one, as a till's
 * batch is). `programs` keeps what it read once the caller's transaction has committed.
 */
export async function earnIn(
  ctx: DomainContext,
  tx: Tx,
  input: EarnInput,
  programs: ReturnType<typeof programReader>,
): Promise<Replayable<EarnResult>> {
  const now = ctx.now();
  // Sent before the idempotency key's insert, so on PostgreSQL both go with BEGIN in one round trip.
  // A key already taken answers with its stored result and this lookup is not used.
  const lookup = findMember(tx, input.member);
  lookup.catch(() => undefined);
  return idempotent(tx, input.idempotency, withoutKey(input), now, async () => {
    const program = await programs.get(tx, input.programId);
    const purchase = amountOf(input.purchaseAmount, program.currency, 'purchase_amount');
    const { member, created } = await findOrCreateMember(tx, input.member, input.memberName, now, lookup);
    // Before its lots are read to be settled and its balance changed (Tx.claim).
    tx.claim?.(`member ${member.id}`);
    await processDueLots(tx, now, { memberId: member.id, program });

    let cashback = purchase >= program.minPurchase ? cashbackFor(purchase, program.cashbackBps) : 0;
    if (program.maxCashback !== null) cashback = Math.min(cashback, program.maxCashback);
    // Not awaited: on PostgreSQL the transaction's insert and the transfer's update travel together.
    const pendingTxId = recordTransaction(
      tx,
      {
        type: 'earn',
        currency: program.currency,
        amount: cashback,
        programId: program.id,
        memberId: member.id,
        purchaseAmount: purchase,
        reference: input.reference,
        metadata: input.metadata,
        appId: input.appId,
      },
      now,
    );
    const maturing = program.maturationDays > 0;
    const maturesAt = now + program.maturationDays * DAY_MS;
    const credited: AccountRow[] = [];
    if (cashback > 0) {
      const state = maturing ? 'maturing' : 'available';
      const to = chart[maturing ? 'memberMaturing' : 'memberAvailable'](
        member.id,
        program.id,
        program.currency,
      );
      const from = chart.programFunding(program.id, program.currency);
      const moved = await transfer(tx, {
        transactionId: pendingTxId,
        debit: from,
        credit: to,
        amount: cashback,
        currency: program.currency,
        now,
      });
      const credit = rowAfter(moved, 'credit');
      credited.push(credit);
      await addLot(
        tx,
        program,
        {
          transactionId: await pendingTxId,
          memberId: member.id,
          programId: program.id,
          amount: cashback,
          state,
          maturesAt: maturing ? maturesAt : now,
          expiresAt: program.expiryDays === null ? null : now + program.expiryDays * DAY_MS,
          availableAfter: balanceOf(credit).available,
        },
        now,
      );
    }
    return {
      transactionId: await pendingTxId,
      memberId: member.id,
      memberCreated: created,
      programId: program.id,
      currency: program.currency,
      purchaseAmount: purchase,
      cashbackBps: program.cashbackBps,
      cashbackEarned: cashback,
      status: cashback === 0 ? 'none' : maturing ? 'maturing' : 'available',
      maturesAt: cashback > 0 && maturing ? maturesAt : null,
      balance: await memberBalance(tx, member.id, program, credited),
      earnedAt: now,
    } satisfies EarnResult;
  });
}

// -------------------------------------------------------------------------------------------- redeem

export interface RedeemInput extends Common {
  /** The member; may be omitted when a member token names them. */
  member?: MemberSelector | undefined;
  amount: AmountInput;
  /** Member id proven by a verified member token. */
  tokenMemberId?: number | undefined;
  pin?: string | undefined;
  /** The PIN as a PIN pad encrypted it: verified exactly as `pin` (at most one of the two). */
  pinBlock?: PinBlockInput | undefined;
}

export interface RedeemResult {
  transactionId: number;
  memberId: number;
  programId: number;
  currency: string;
  amountRedeemed: number;
  balance: MemberBalance;
  redeemedAt: number;
}

export async function redeem(ctx: DomainContext, input: RedeemInput): Promise<Replayable<RedeemResult>> {
  if (input.pin !== undefined && input.pinBlock !== undefined) {
    throw new DomainError('validation_error', 'pin_block: send the PIN as pin or as pin_block, not both', {
      field: 'pin_block',
    });
  }
  if (input.tokenMemberId === undefined && input.pin === undefined && input.pinBlock === undefined) {
    throw new DomainError(
      'member_token_required',
      'Redemption needs the member: send a member token (X-Member-Token) or the member PIN',
    );
  }
  // The PIN (clear or in its block, with the PAN) is not part of the request identity: a repeat with
  // the same key gets the first result, and nothing stored is derived from it.
  const request = withoutKey({ ...input, pin: undefined, pinBlock: undefined });
  const replay = await ctx.store.read((tx) => storedResult<RedeemResult>(tx, input.idempotency, request));
  if (replay) return replay;
  const { program, memberId } = await ctx.store.read(async (tx) => {
    const p = await getProgram(tx, input.programId);
    const selector =
      input.member ?? (input.tokenMemberId !== undefined ? { id: input.tokenMemberId } : undefined);
    if (!selector)
      throw new DomainError('validation_error', 'Name the member: member_id, email, phone or card');
    const m = await getMember(tx, selector);
    if (input.tokenMemberId !== undefined && m.id !== input.tokenMemberId) {
      throw new DomainError('member_token_invalid', 'The member token belongs to another member');
    }
    return { program: p, memberId: m.id };
  });
  if (input.tokenMemberId === undefined && !program.allowsPinRedemption) {
    throw new DomainError(
      'pin_redemption_disabled',
      `Card ${program.id} does not allow redemption by PIN alone; send a member token`,
    );
  }
  // A block is opened only now, after the replay check; one that is not a valid block for this card
  // throws before checkPin, so it changes nothing and is no PIN attempt.
  const pin = input.pinBlock === undefined ? input.pin : pinFromBlock(ctx.settings.pinBdks, input.pinBlock);
  const block = input.pinBlock;
  if (block) await ctx.store.transact((tx) => useBlockCounter(tx, block, ctx.now()));
  const pinOk = pin === undefined ? undefined : await checkPin(ctx, memberId, pin, input.appId);

  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, input.idempotency, request, now, async () => {
      const amount = amountOf(input.amount, program.currency, 'amount');
      if (pinOk) await pinOk(tx);
      await processDueLots(tx, now, { memberId, program });
      const from = chart.memberAvailable(memberId, program.id, program.currency);
      const to = chart.programRedeemed(program.id, program.currency);
      const txId = await recordTransaction(
        tx,
        {
          type: 'redeem',
          currency: program.currency,
          amount: -amount,
          programId: program.id,
          memberId,
          reference: input.reference,
          metadata: input.metadata,
          appId: input.appId,
        },
        now,
      );
      const moved = await transfer(tx, {
        transactionId: txId,
        debit: from,
        credit: to,
        amount,
        currency: program.currency,
        now,
        insufficient: (_account, available) =>
          new DomainError(
            'insufficient_balance',
            `Insufficient cashback: ${describeAmount(Math.max(0, available), program.currency)} available, ${describeAmount(amount, program.currency)} requested`,
            { available },
          ),
      });
      await consumeLots(tx, program, memberId, 'available', amount);
      return {
        transactionId: txId,
        memberId,
        programId: program.id,
        currency: program.currency,
        amountRedeemed: amount,
        balance: await memberBalance(tx, memberId, program, [rowAfter(moved, 'debit')]),
        redeemedAt: now,
      } satisfies RedeemResult;
    });
  });
}

// -------------------------------------------------------------------------------------------- refund

export interface RefundInput extends Common {
  member: MemberSelector;
  refundAmount: AmountInput;
  /** The original purchase, by its earn transaction id or its reference: enables the cumulative rule. */
  original?: { transactionId: number } | { reference: string } | undefined;
  /** An explicit clawback instead of the computed one. */
  cashbackToDeduct?: AmountInput | undefined;
}

export interface RefundResult {
  transactionId: number;
  memberId: number;
  programId: number;
  currency: string;
  refundAmount: number;
  cashbackDeducted: number;
  originalTransactionId: number | null;
  previousBalance: number;
  balance: MemberBalance;
  /** Set when the clawback took the available balance below zero. */
  balanceWarning: string | null;
  refundedAt: number;
}

export async function refund(ctx: DomainContext, input: RefundInput): Promise<Replayable<RefundResult>> {
  return ctx.store.transact((tx) => refundIn(ctx, tx, input));
}

/** A refund inside the caller's transaction (several operations applied in order in one). */
export async function refundIn(
  ctx: DomainContext,
  tx: Tx,
  input: RefundInput,
): Promise<Replayable<RefundResult>> {
  const now = ctx.now();
  return idempotent(tx, input.idempotency, withoutKey(input), now, async () => {
    const program = await getProgram(tx, input.programId);
    const member = await getMember(tx, input.member);
    const refundAmount = amountOf(input.refundAmount, program.currency, 'refund_amount');
    await processDueLots(tx, now, { memberId: member.id, program });

    let original: TransactionRow | undefined;
    if (input.original) {
      // Locked: concurrent refunds of one purchase take turns, each summing the ones before it.
      original = await tx.one<TransactionRow>(
        'transactionId' in input.original
          ? `SELECT * FROM transactions WHERE id = ? AND type = 'earn' AND member_id = ? AND program_id = ?${tx.forUpdate}`
          : `SELECT * FROM transactions WHERE reference = ? AND type = 'earn' AND member_id = ? AND program_id = ? ORDER BY id LIMIT 1${tx.forUpdate}`,
        [
          'transactionId' in input.original ? input.original.transactionId : input.original.reference,
          member.id,
          program.id,
        ],
      );
      if (!original) {
        throw new DomainError(
          'transaction_not_found',
          'The original purchase was not found for this member and card',
        );
      }
    }

    // With the original purchase: refunds may not exceed it, and the clawback is cumulative.
    let computed: number;
    let leftToClaw = Number.MAX_SAFE_INTEGER;
    if (original) {
      const purchase = original.purchase_amount ?? 0;
      const prior = await tx.row<{ refunded: number | null; clawed: number | null }>(
        `SELECT SUM(purchase_amount) AS refunded, -SUM(amount) AS clawed FROM transactions WHERE type = 'refund' AND related_id = ?`,
        [original.id],
      );
      const refundedBefore = Number(prior.refunded ?? 0);
      if (refundedBefore + refundAmount > purchase) {
        throw new DomainError(
          'refund_exceeds_purchase',
          `Refunds would total ${describeAmount(refundedBefore + refundAmount, program.currency)}, more than the purchase of ${describeAmount(purchase, program.currency)}`,
          { refunded_before: refundedBefore, purchase_amount: purchase },
        );
      }
      leftToClaw = original.amount - Number(prior.clawed ?? 0);
      computed =
        cumulativeClawback(original.amount, purchase, refundedBefore + refundAmount) -
        cumulativeClawback(original.amount, purchase, refundedBefore);
    } else {
      computed = cashbackFor(refundAmount, program.cashbackBps);
      if (program.maxCashback !== null) computed = Math.min(computed, program.maxCashback);
    }
    let clawback = computed;
    if (input.cashbackToDeduct) {
      clawback = amountOf(input.cashbackToDeduct, program.currency, 'cashback_to_deduct', {
        allowZero: true,
      });
      const limit = Math.min(refundAmount, leftToClaw);
      if (clawback > limit) {
        throw new DomainError(
          'validation_error',
          `cashback_to_deduct: ${describeAmount(clawback, program.currency)} is more than ${
            limit === refundAmount ? 'the refund amount' : 'the cashback the purchase has left'
          } (${describeAmount(limit, program.currency)})`,
          { field: 'cashback_to_deduct', limit },
        );
      }
    }

    const before = await memberBalance(tx, member.id, program);
    const txId = await recordTransaction(
      tx,
      {
        type: 'refund',
        currency: program.currency,
        amount: -clawback,
        programId: program.id,
        memberId: member.id,
        purchaseAmount: refundAmount,
        relatedId: original?.id ?? null,
        reference: input.reference,
        metadata: input.metadata,
        appId: input.appId,
      },
      now,
    );
    // Pending (maturing) cashback is taken back before available cashback.
    const fromMaturing = Math.min(clawback, Math.max(0, before.maturing));
    const fromAvailable = clawback - fromMaturing;
    const funding = chart.programFunding(program.id, program.currency);
    if (fromMaturing > 0) {
      const maturingAccount = chart.memberMaturing(member.id, program.id, program.currency);
      await transfer(tx, {
        transactionId: txId,
        debit: maturingAccount,
        credit: funding,
        amount: fromMaturing,
        currency: program.currency,
        now,
      });
      await consumeLots(tx, program, member.id, 'maturing', fromMaturing, original?.id);
    }
    if (fromAvailable > 0) {
      const availableAccount = chart.memberAvailable(member.id, program.id, program.currency);
      await transfer(tx, {
        transactionId: txId,
        debit: availableAccount,
        credit: funding,
        amount: fromAvailable,
        currency: program.currency,
        now,
        allowNegative: true,
      });
      await consumeLots(
        tx,
        program,
        member.id,
        'available',
        Math.min(fromAvailable, Math.max(0, before.available)),
      );
    }
    const after = await memberBalance(tx, member.id, program);
    return {
      transactionId: txId,
      memberId: member.id,
      programId: program.id,
      currency: program.currency,
      refundAmount,
      cashbackDeducted: clawback,
      originalTransactionId: original?.id ?? null,
      previousBalance: before.available,
      balance: after,
      balanceWarning:
        after.available < 0
          ? `The clawback left the member's balance at ${describeAmount(after.available, program.currency)}; it is repaid from future cashback`
          : null,
      refundedAt: now,
    } satisfies RefundResult;
  });
}

// ---------------------------------------------------------------------------------------- adjustment

export interface AdjustInput extends Common {
  member: MemberSelector;
  /** Signed: positive credits the member, negative debits. */
  amount: AmountInput;
  reason: string;
}

export interface AdjustResult {
  transactionId: number;
  memberId: number;
  programId: number;
  currency: string;
  amount: number;
  reason: string;
  balance: MemberBalance;
  adjustedAt: number;
}

export async function adjust(ctx: DomainContext, input: AdjustInput): Promise<Replayable<AdjustResult>> {
  if (!input.reason || input.reason.trim().length < 3) {
    throw new DomainError('validation_error', 'reason: an adjustment needs a reason (at least 3 characters)');
  }
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    return idempotent(tx, input.idempotency, withoutKey(input), now, async () => {
      const program = await getProgram(tx, input.programId);
      const member = await getMember(tx, input.member);
      const amount = amountOf(input.amount, program.currency, 'amount', { allowNegative: true });
      await processDueLots(tx, now, { memberId: member.id, program });
      const available = chart.memberAvailable(member.id, program.id, program.currency);
      const funding = chart.programFunding(program.id, program.currency);
      const txId = await recordTransaction(
        tx,
        {
          type: 'adjust',
          currency: program.currency,
          amount,
          programId: program.id,
          memberId: member.id,
          reason: input.reason.trim(),
          reference: input.reference,
          metadata: input.metadata,
          appId: input.appId,
        },
        now,
      );
      if (amount > 0) {
        const moved = await transfer(tx, {
          transactionId: txId,
          debit: funding,
          credit: available,
          amount,
          currency: program.currency,
          now,
        });
        await addLot(
          tx,
          program,
          {
            transactionId: txId,
            memberId: member.id,
            programId: program.id,
            amount,
            state: 'available',
            maturesAt: now,
            expiresAt: program.expiryDays === null ? null : now + program.expiryDays * DAY_MS,
            availableAfter: balanceOf(rowAfter(moved, 'credit')).available,
          },
          now,
        );
      } else {
        await transfer(tx, {
          transactionId: txId,
          debit: available,
          credit: funding,
          amount: -amount,
          currency: program.currency,
          now,
        });
        await consumeLots(tx, program, member.id, 'available', -amount);
      }
      return {
        transactionId: txId,
        memberId: member.id,
        programId: program.id,
        currency: program.currency,
        amount,
        reason: input.reason.trim(),
        balance: await memberBalance(tx, member.id, program),
        adjustedAt: now,
      } satisfies AdjustResult;
    });
  });
}

// ---------------------------------------------------------------------------------- balance, history

export async function balance(
  ctx: DomainContext,
  programId: number,
  selector: MemberSelector,
): Promise<{ program: Program; memberId: number; balance: MemberBalance }> {
  const now = ctx.now();
  const first = await ctx.store.read(async (tx) => {
    const program = await getProgram(tx, programId);
    const member = await getMember(tx, selector);
    const due = await tx.one(
      `SELECT id FROM earn_lots WHERE member_id = ? AND program_id = ?
        AND ((state = 'maturing' AND matures_at <= ?) OR (state = 'available' AND expires_at <= ?)) LIMIT 1`,
      [member.id, program.id, now, now],
    );
    return {
      program,
      memberId: member.id,
      due: due !== undefined,
      balance: await memberBalance(tx, member.id, program),
    };
  });
  if (!first.due) return first;
  // Lots matured or expired since the last operation: settle them first so the balance is true.
  return ctx.store.transact(async (tx) => {
    await processDueLots(tx, now, { memberId: first.memberId, program: first.program });
    return {
      program: first.program,
      memberId: first.memberId,
      balance: await memberBalance(tx, first.memberId, first.program),
    };
  });
}

export interface HistoryEntry {
  id: number;
  type: TransactionType;
  /** Signed effect on the member's cashback. */
  amount: number;
  purchaseAmount: number | null;
  reference: string | null;
  reason: string | null;
  relatedId: number | null;
  metadata: Record<string, unknown>;
  createdAt: number;
}

export interface HistoryPage {
  programId: number;
  memberId: number;
  currency: string;
  entries: HistoryEntry[];
  total: number;
  limit: number;
  offset: number;
  hasMore: boolean;
  /** Pass as `before` for the next page (stable under concurrent inserts, unlike offset). */
  nextCursor: number | null;
}

export async function history(
  ctx: DomainContext,
  q: {
    programId: number;
    member: MemberSelector;
    limit: number;
    offset?: number;
    before?: number;
    types?: TransactionType[];
  },
): Promise<HistoryPage> {
  return ctx.store.read(async (tx) => {
    const program = await getProgram(tx, q.programId);
    const member = await getMember(tx, q.member);
    const types = q.types ?? ['earn', 'redeem', 'refund', 'expire', 'adjust', 'cashout', 'cashout_return'];
    const typeList = types.map(() => '?').join(', ');
    const base = `FROM transactions WHERE member_id = ? AND program_id = ? AND type IN (${typeList})`;
    const args = [member.id, program.id, ...types];
    const total = Number((await tx.row<{ n: number }>(`SELECT COUNT(*) AS n ${base}`, args)).n);
    const offset = q.before !== undefined ? 0 : (q.offset ?? 0);
    const rows = await tx.all<TransactionRow>(
      `SELECT * ${base}${q.before !== undefined ? ' AND id < ?' : ''} ORDER BY id DESC LIMIT ? OFFSET ?`,
      q.before !== undefined ? [...args, q.before, q.limit + 1, offset] : [...args, q.limit + 1, offset],
    );
    const hasMore = rows.length > q.limit;
    const page = rows.slice(0, q.limit);
    return {
      programId: program.id,
      memberId: member.id,
      currency: program.currency,
      entries: page.map((r) => ({
        id: r.id,
        type: r.type,
        amount: r.amount,
        purchaseAmount: r.purchase_amount,
        reference: r.reference,
        reason: r.reason,
        relatedId: r.related_id,
        metadata: parseLossless(r.metadata) as Record<string, unknown>,
        createdAt: r.created_at,
      })),
      total,
      limit: q.limit,
      offset,
      hasMore,
      nextCursor: hasMore ? (page.at(-1)?.id ?? null) : null,
    };
  });
}
