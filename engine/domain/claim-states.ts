// The claim lifecycle as a pure state machine: which event moves a claim from which state to which.
// Every state change of a claim goes through `nextState`; nothing else decides a transition.
//
//   created ──open──> opened ──submit──> submitted ──start_payout──> processing ──paid──> paid
//      │                 │                   │                           └──fail──> failed
//      └──── expire / cancel (either) ───────┴──fail (refused before any payout)──> failed
//
// A submitted claim no longer expires or cancels: the customer has acted and the payout is under way.

// The list lives in contract/ because the till's screens follow a claim's state too.
import { CLAIM_STATUSES } from '../../contract/till-events.ts';
export const CLAIM_STATES = CLAIM_STATUSES;
export type ClaimState = (typeof CLAIM_STATES)[number];

export const CLAIM_EVENTS = ['open', 'submit', 'start_payout', 'paid', 'fail', 'expire', 'cancel'] as const;
export type ClaimEvent = (typeof CLAIM_EVENTS)[number];

export const FINAL_STATES: readonly ClaimState[] = ['paid', 'failed', 'expired', 'cancelled'];

const transitions: Record<ClaimState, Partial<Record<ClaimEvent, ClaimState>>> = {
  created: { open: 'opened', submit: 'submitted', expire: 'expired', cancel: 'cancelled' },
  opened: { submit: 'submitted', expire: 'expired', cancel: 'cancelled' },
  submitted: { start_payout: 'processing', fail: 'failed' },
  processing: { paid: 'paid', fail: 'failed' },
  paid: {},
  failed: {},
  expired: {},
  cancelled: {},
};

/** The state `event` leads to from `state`, or undefined when the event is not allowed there. */
export function nextState(state: ClaimState, event: ClaimEvent): ClaimState | undefined {
  return transitions[state][event];
}

export const isFinal = (state: ClaimState) => FINAL_STATES.includes(state);

/** States in which the customer may still act on the claim (open it, submit it). */
export const isOpenForCustomer = (state: ClaimState) => state === 'created' || state === 'opened';
