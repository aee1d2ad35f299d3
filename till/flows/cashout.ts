// The cashout flow: the member's cashback pays out through a claim the engine creates. The customer
// display shows the claim's URL (as a QR code) and its expiry; the customer completes it on their
// phone while the till follows the claim until it is paid, failed, expired or cancelled. A cancel
// cancels the claim at the engine (its hold goes back to the member), unless the customer already
// submitted it: then it is being paid, and the flow keeps following it.
//   identify -> creating -> following -> done (paid) | failed (failed, expired) | cancelled
//                            following -> cancelling -> cancelled
import type { QueuedMember } from '../outbox/queue.ts';
import {
  end,
  finalStays,
  identify,
  initial,
  stay,
  validBase,
  type BaseState,
  type CommonEvent,
  type Effect,
  type Machine,
  type Transition,
} from './machine.ts';

export interface CashoutInput {
  cashier: string;
  programId: number;
  currency: string;
  amount: number;
  reference?: string | undefined;
  member?: QueuedMember | undefined;
}

// A claim's status is the engine's claim state (GET /v1/claims/:id answers it), listed in contract/
// with the FlowEvent because the customer display follows it too.
import type { ClaimStatus } from '../../contract/till-events.ts';

export interface ClaimView {
  id: string;
  /** The claim page: the customer display shows it as a QR code. */
  url: string;
  /** ISO time. */
  expiresAt: string;
  status: ClaimStatus;
}

export type CashoutEvent =
  | { type: 'claim_created'; claim: ClaimView }
  | { type: 'claim_status'; status: ClaimStatus; failure: string | null }
  /** The engine answered no, or was not reached. */
  | { type: 'engine_failed'; code: string; message: string; unreachable: boolean }
  | { type: 'claim_cancelled' };

export type CashoutStep = 'identify' | 'creating' | 'following' | 'cancelling';
export interface CashoutState extends BaseState<CashoutStep> {
  claim: ClaimView | null;
}

export const CASHOUT_NEEDS_ENGINE =
  'A cashout needs the engine, which cannot be reached now: nothing was paid';
export const CLAIM_UNKNOWN =
  'The engine did not answer in time: a claim may have been made; unused, it expires and the cashback goes back to the member';

const create = (state: CashoutState): Transition<CashoutState> => ({
  state: { ...state, step: 'creating' },
  effects: [{ type: 'create_claim' }],
});

const recordClaim = (state: 'delivered' | 'failed', claim: ClaimView | null, error?: string): Effect => ({
  type: 'record',
  state,
  result: JSON.stringify(claim === null ? { error } : { claim_id: claim.id, status: claim.status, error }),
});

function cancelClaim(state: CashoutState, claim: ClaimView): Transition<CashoutState> {
  return {
    state: { ...state, step: 'cancelling', claim },
    effects: [{ type: 'cancel_claim', claimId: claim.id }],
  };
}

/** A claim's status while following (or cancelling) it: a final one ends the flow. */
function onStatus(
  state: CashoutState,
  claim: ClaimView,
  status: ClaimStatus,
  failure: string | null,
): Transition<CashoutState> {
  const next = { ...state, claim: { ...claim, status } };
  switch (status) {
    case 'paid':
      return end(next, 'done', null, [recordClaim('delivered', next.claim)]);
    case 'failed': {
      const why = `The payout failed${failure ? `: ${failure}` : ''}; the cashback is back on the member's balance`;
      return end(next, 'failed', why, [recordClaim('failed', next.claim, why)]);
    }
    case 'expired': {
      const why = 'The claim expired before the customer completed it; nothing was paid';
      return end(next, 'failed', why, [recordClaim('failed', next.claim, why)]);
    }
    case 'cancelled':
      return end(next, 'cancelled', null, [recordClaim('failed', next.claim, 'cancelled')]);
    default:
      return stay(next);
  }
}

const step = finalStays<CashoutState, CashoutEvent>((state, event) => {
  const e = event as CashoutEvent | CommonEvent;
  switch (state.step) {
    case 'identify':
      return identify(state, event, create);
    case 'creating':
      if (e.type === 'claim_created') {
        if (state.cancelRequested) return cancelClaim(state, e.claim);
        return {
          state: { ...state, step: 'following', claim: e.claim },
          effects: [{ type: 'follow_claim', claimId: e.claim.id }],
        };
      }
      if (e.type === 'engine_failed') {
        const why =
          e.code === 'engine_timeout' ? CLAIM_UNKNOWN : e.unreachable ? CASHOUT_NEEDS_ENGINE : e.message;
        return end(state, state.cancelRequested ? 'cancelled' : 'failed', why, [
          recordClaim('failed', null, why),
        ]);
      }
      // The claim may be created (and money held) already: cancel it once it is known.
      if (e.type === 'cancel') return stay({ ...state, cancelRequested: true });
      return stay(state);
    case 'following':
      if (state.claim === null) return stay(state);
      if (e.type === 'claim_status') return onStatus(state, state.claim, e.status, e.failure);
      if (e.type === 'cancel') return cancelClaim(state, state.claim);
      return stay(state);
    case 'cancelling':
      if (state.claim === null) return stay(state);
      if (e.type === 'claim_cancelled') return onStatus(state, state.claim, 'cancelled', null);
      if (e.type === 'claim_status' && ['paid', 'failed', 'expired', 'cancelled'].includes(e.status)) {
        return onStatus(state, state.claim, e.status, e.failure);
      }
      if (e.type === 'engine_failed') {
        // Too late (the customer submitted it) or no answer: the claim stands, keep following it.
        return {
          state: { ...state, step: 'following', error: `The claim could not be cancelled: ${e.message}` },
          effects: [{ type: 'follow_claim', claimId: state.claim.id }],
        };
      }
      return stay(state);
    default:
      return stay(state);
  }
});

export const cashoutMachine: Machine<CashoutState, CashoutEvent, CashoutInput> = {
  start(input) {
    const state: CashoutState = { ...initial<CashoutStep>('cashout', 'identify', input), claim: null };
    if (state.member !== null) return create(state);
    return { state, effects: [{ type: 'await_member' }] };
  },
  step,
  valid(state) {
    if (!validBase(state, ['creating', 'following', 'cancelling', 'done'])) return false;
    if (['following', 'cancelling', 'done'].includes(state.step) && state.claim === null) return false;
    if (state.step === 'done' && state.claim?.status !== 'paid') return false;
    return true;
  },
};
