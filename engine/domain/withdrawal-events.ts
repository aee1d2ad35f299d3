// Seed 001 withdrawals as their caller sees them, and their outbox events. A withdrawal is paid by a
// member-funded claim (withdrawals.ts creates both); its status is that claim's, in the document's
// words: processing until the claim is paid (settled) or failed (failed). Every change records a
// `withdrawal.<status>` event; the outcomes also go to the caller's endpoint_url in seed 001's
// callback body, with the caller's authorization header. This module reads the withdrawals table
// only, so claims.ts can call it without importing the module that creates withdrawals.
import type { Tx } from '../store/store.ts';
import type { ClaimState } from './claim-states.ts';
import { recordEvent } from './outbox.ts';

export const WITHDRAWAL_METHODS = ['au_bank_npp_aud', 'au_payid_npp_aud'] as const;
export type WithdrawalMethodName = (typeof WITHDRAWAL_METHODS)[number];

export type WithdrawalStatus = 'processing' | 'settled' | 'failed';

/** A withdrawal's claim is submitted when created, so it never expires or is cancelled. */
export const withdrawalStatus = (state: ClaimState): WithdrawalStatus =>
  state === 'paid' ? 'settled' : state === 'failed' ? 'failed' : 'processing';

export interface WithdrawalRow {
  id: string;
  app_id: string;
  client_transaction_id: string;
  claim_id: string;
  customer_id: string;
  merchant_name: string;
  site_name: string;
  payment_description: string | null;
  method_name: WithdrawalMethodName;
  method_params: string;
  endpoint_url: string;
  authorization_header: string;
  created_at: number;
}

/** The claim fields a withdrawal's view and events read. */
export interface PayingClaim {
  id: string;
  state: ClaimState;
  amount: number;
  currency: string;
  member_id: number | null;
  failure_code: string | null;
  failure_message: string | null;
  updated_at: number;
}

export interface Withdrawal {
  id: string;
  clientTransactionId: string;
  merchantName: string;
  siteName: string;
  /** The caller's user_id, as sent. */
  customerId: string;
  memberId: number | null;
  claimId: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  methodName: WithdrawalMethodName;
  methodParams: Record<string, string>;
  status: WithdrawalStatus;
  failure: { code: string; message: string } | null;
  paymentDescription: string | null;
  endpointUrl: string;
  authorization: string;
  createdAt: number;
  updatedAt: number;
}

export function withdrawalOf(row: WithdrawalRow, claim: PayingClaim): Withdrawal {
  return {
    id: row.id,
    clientTransactionId: row.client_transaction_id,
    merchantName: row.merchant_name,
    siteName: row.site_name,
    customerId: row.customer_id,
    memberId: claim.member_id,
    claimId: claim.id,
    amount: claim.amount,
    currency: claim.currency,
    methodName: row.method_name,
    methodParams: JSON.parse(row.method_params) as Record<string, string>,
    status: withdrawalStatus(claim.state),
    failure: claim.failure_code ? { code: claim.failure_code, message: claim.failure_message ?? '' } : null,
    paymentDescription: row.payment_description,
    endpointUrl: row.endpoint_url,
    authorization: row.authorization_header,
    createdAt: row.created_at,
    updatedAt: claim.updated_at,
  };
}

/**
 * Records `withdrawal.<status>`. Native subscribers get every one; the caller's endpoint gets the
 * outcomes (the document's callback reports settled or failed only), signed, with its header.
 */
export async function recordWithdrawalEvent(tx: Tx, w: Withdrawal, now: number): Promise<void> {
  const outcome = w.status !== 'processing';
  await recordEvent(
    tx,
    {
      type: `withdrawal.${w.status}`,
      subject: { kind: 'withdrawal', id: w.id },
      data: {
        // The seed 001 body's fields (engine/webhooks/bodies.ts, Seed001Data).
        withdrawal_id: w.id,
        client_transaction_id: w.clientTransactionId,
        merchant_name: w.merchantName,
        site_name: w.siteName,
        customer_id: w.customerId,
        amount: w.amount,
        currency: w.currency,
        withdrawal_method: w.methodName,
        status: w.status,
        created_at: w.createdAt,
        updated_at: w.updatedAt,
        payout_method_params: w.methodParams,
        // Ours, for native subscribers.
        member_id: w.memberId,
        claim_id: w.claimId,
        failure: w.failure,
      },
      targets: outcome
        ? [{ url: w.endpointUrl, headers: { Authorization: w.authorization }, format: 'seed001' }]
        : [],
    },
    now,
  );
}

/** Called with every state change of a claim: a withdrawal's claim that ended reports the outcome. */
export async function withdrawalOutcome(tx: Tx, claim: PayingClaim, now: number): Promise<void> {
  if (withdrawalStatus(claim.state) === 'processing') return;
  const row = await tx.one<WithdrawalRow>('SELECT * FROM withdrawals WHERE claim_id = ?', [claim.id]);
  if (row) await recordWithdrawalEvent(tx, withdrawalOf(row, claim), now);
}
