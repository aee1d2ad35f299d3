// Seed 001 withdrawals: a member cashes out available cashback to an Australian bank account or
// PayID. One transaction makes a member-funded claim (the cashback is held at once by a pending
// transfer), submits it with the payout method (sealed to the claim, as the claim page does), and
// writes the withdrawal row and its `withdrawal.processing` event. From there it is an ordinary
// submitted claim: the payout worker pays it through the provider, paid posts the hold and failed
// voids it (claims.ts), and the outcome reaches the caller's endpoint (withdrawal-events.ts).
// `client_transaction_id` is the idempotency key: a repeat gets the first answer, verbatim.
import { randomBytes } from 'node:crypto';
import { bsbDigits, payIdType } from '../../contract/au-payments.ts';
import type { PayoutMethod } from '../payouts/provider.ts';
import { insertClaim, submitMethod } from './claims.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { idempotent, type Replayable } from './idempotency.ts';
import { soleProgramOf } from './member-cashouts.ts';
import { getMember, type MemberSelector } from './members.ts';
import { getProgram } from './programs.ts';
import {
  recordWithdrawalEvent,
  withdrawalOf,
  type Withdrawal,
  type WithdrawalRow,
} from './withdrawal-events.ts';

export type WithdrawalMethod =
  | { name: 'au_bank_npp_aud'; params: { bsb: string; account_number: string } }
  | { name: 'au_payid_npp_aud'; params: { payid: string } };

export interface NewWithdrawal {
  appId: string;
  /** The app's name: seed 001's merchant_name. */
  merchantName: string;
  userId: string;
  clientTransactionId: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  paymentDescription?: string | undefined;
  /** Our addition: the program to cash out from, when the member has cashback in several. */
  programId?: number | undefined;
  method: WithdrawalMethod;
  endpointUrl: string;
  /** The value the callback carries as its Authorization header. */
  authorization: string;
}

/**
 * Seed 001's user_id names a member by the merchant's own id (`external_id`, e.g. "8GAVZZKTI3") or,
 * when it is all digits, by our member id. External ids are never all digits, so it is never both.
 */
export const memberOfUserId = (userId: string): MemberSelector =>
  /^[1-9]\d{0,15}$/.test(userId) ? { id: Number(userId) } : { externalId: userId };

/** The payout method a provider takes for a withdrawal method's params. */
export function payoutMethodOf(method: WithdrawalMethod): PayoutMethod {
  if (method.name === 'au_bank_npp_aud') {
    return { kind: 'au_bank', bsb: bsbDigits(method.params.bsb), account: method.params.account_number };
  }
  const payidType = payIdType(method.params.payid);
  if (!payidType) {
    throw new DomainError(
      'validation_error',
      'payout_method_params.payid: not an email, an Australian mobile, or an ABN or ACN with a valid checksum',
      { field: 'payout_method_params.payid' },
    );
  }
  return { kind: 'payid', payid: method.params.payid.trim(), payidType };
}

// Base32 letters and digits (RFC 4648: A-Z, 2-7), like the document's "HQ2GGUO7"; 60 random bits.
const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const newWithdrawalId = () => Array.from(randomBytes(12), (b) => ID_ALPHABET[b & 31]).join('');

export async function withdraw(ctx: DomainContext, input: NewWithdrawal): Promise<Replayable<Withdrawal>> {
  const payout = payoutMethodOf(input.method);
  // The request a repeat must match: what the caller sent (not the app's name, which may change).
  const { appId, clientTransactionId, merchantName: _appName, ...request } = input;
  return ctx.store.transact(async (tx) => {
    const now = ctx.now();
    const key = { appId, scope: 'seed001:withdraw', key: clientTransactionId };
    return idempotent(tx, key, request, now, async () => {
      // Its idempotency record is pruned after idempotencyRetentionDays; the withdrawal is not.
      const used = await tx.one<{ id: string }>(
        'SELECT id FROM withdrawals WHERE app_id = ? AND client_transaction_id = ?',
        [appId, clientTransactionId],
      );
      if (used) {
        throw new DomainError(
          'idempotency_conflict',
          `client_transaction_id "${clientTransactionId}" was used for withdrawal ${used.id}; use a new one`,
        );
      }
      const member = await getMember(tx, memberOfUserId(input.userId));
      const program = await getProgram(tx, input.programId ?? (await soleProgramOf(tx, member.id)));
      if (program.currency !== input.currency) {
        throw new DomainError(
          'validation_error',
          `cashback_transaction_detail.currency: the member's cashback in this program is in ${program.currency}`,
          { field: 'cashback_transaction_detail.currency' },
        );
      }
      const created = await insertClaim(
        ctx,
        tx,
        {
          appId,
          funding: { kind: 'member', programId: program.id, member: { id: member.id } },
          amount: input.amount,
          storeName: input.merchantName,
          reference: clientTransactionId,
          methods: [payout.kind],
        },
        now,
      );
      const claim = await submitMethod(ctx, tx, created, payout, now);
      const row = await tx.row<WithdrawalRow>(
        `INSERT INTO withdrawals (id, app_id, client_transaction_id, claim_id, customer_id, merchant_name, site_name,
           payment_description, method_name, method_params, endpoint_url, authorization_header, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [
          newWithdrawalId(),
          appId,
          clientTransactionId,
          claim.id,
          input.userId,
          input.merchantName,
          program.name,
          input.paymentDescription ?? null,
          input.method.name,
          JSON.stringify(input.method.params),
          input.endpointUrl,
          input.authorization,
          now,
        ],
      );
      const withdrawal = withdrawalOf(row, claim);
      await recordWithdrawalEvent(tx, withdrawal, now);
      return withdrawal;
    });
  });
}
