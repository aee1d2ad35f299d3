// What every flow machine shares: a flow is a pure function from (state, event) to (state, effects).
// The runner (runner.ts) performs the effects with the devices, the outbox and the engine, and turns
// their outcomes back into events; the machine alone decides what happens, so its rules (a final
// state never changes, a cancel starts nothing new) are checked by property tests without any I/O.
import type { QueuedMember, QueuedOperation } from '../outbox/queue.ts';

import { OUTCOMES, type FlowKind, type Outcome } from '../../contract/till-events.ts';

// Defined with the FlowEvent in contract/ (the screens read them too).
export { FLOW_KINDS, OUTCOMES, type FlowKind, type Outcome } from '../../contract/till-events.ts';

export const isFinal = (step: string): step is Outcome => (OUTCOMES as readonly string[]).includes(step);

/** How a member was named: a swiped card (keyed hash, masked number), a scanned member code, or typed. */
export type MemberSource = 'card' | 'scan' | 'typed';

/** What a step of any flow may receive from the cashier, the timers or the devices. */
export type CommonEvent =
  | { type: 'cancel' }
  /** No swipe, PIN or typed input within the configured time. */
  | { type: 'timeout'; message: string }
  /** The device the step waits on was unplugged or lost its link. */
  | { type: 'device_lost'; message: string }
  | { type: 'member'; member: QueuedMember; via: MemberSource };

/** What the runner does for a machine. Effects that start an operation are listed in STARTING_EFFECTS. */
export type Effect =
  /** Show the amount on the PIN pad, if one is connected. */
  | { type: 'show_amount' }
  /** Take a swipe, a scan or typed member input, within the identify timeout. */
  | { type: 'await_member' }
  /** Wait for the cashier's typed input (an OTP code), within the input timeout. */
  | { type: 'await_input' }
  /** Stop waiting on devices and timers; cancel a PIN entry in progress. */
  | { type: 'release' }
  | { type: 'enqueue'; operation: QueuedOperation }
  | { type: 'await_delivery'; operationId: string }
  | { type: 'find_original'; original: OriginalRef }
  | { type: 'enter_pin' }
  | { type: 'send_otp'; member: QueuedMember }
  | { type: 'verify_otp'; challengeId: number; code: string }
  | { type: 'redeem'; auth: { pinBlock: { ksn: string; block: string } } | { memberToken: string } }
  | { type: 'create_claim' }
  | { type: 'follow_claim'; claimId: string }
  | { type: 'cancel_claim'; claimId: string }
  /** The history row of an online operation (redeem, cashout), once it completed or failed. */
  | { type: 'record'; state: 'delivered' | 'failed'; result: string };

/** Effects that start something the engine or the outbox would keep: never emitted after a cancel. */
export const STARTING_EFFECTS: readonly Effect['type'][] = [
  'enqueue',
  'enter_pin',
  'send_otp',
  'verify_otp',
  'redeem',
  'create_claim',
];

/** A refund names its purchase by the till's operation id or by the purchase reference. */
export type OriginalRef = { operationId: string } | { reference: string };

export interface BaseState<Step extends string> {
  kind: FlowKind;
  step: Step | Outcome;
  cashier: string;
  programId: number;
  currency: string;
  /** Minor units. */
  amount: number;
  reference: string | null;
  /** The member, as the history keeps them: never a PAN. */
  member: QueuedMember | null;
  /** The last problem, in plain words, for both screens. */
  error: string | null;
  /** A cancel arrived while a call that cannot be taken back was in flight: settle it, then stop. */
  cancelRequested: boolean;
}

export interface Transition<S> {
  state: S;
  effects: Effect[];
}

export const stay = <S>(state: S): Transition<S> => ({ state, effects: [] });

export interface Machine<S extends BaseState<string>, E, I> {
  start(input: I): Transition<S>;
  /** Any event in any state: events a state does not expect leave it as it is. */
  step(state: S, event: E | CommonEvent): Transition<S>;
  /** The machine's own invariants, for the property tests. */
  valid(state: S): boolean;
}

/** Wraps a machine's step so that a final state never changes, whatever comes. */
export function finalStays<S extends BaseState<string>, E>(
  step: (state: S, event: E | CommonEvent) => Transition<S>,
): (state: S, event: E | CommonEvent) => Transition<S> {
  return (state, event) => (isFinal(state.step) ? stay(state) : step(state, event));
}

/** Ends the flow; `release` frees whatever device or timer the step held. */
export function end<S extends BaseState<string>>(
  state: S,
  outcome: Outcome,
  error: string | null,
  effects: Effect[] = [],
): Transition<S> {
  return { state: { ...state, step: outcome, error }, effects: [{ type: 'release' }, ...effects] };
}

/**
 * The identify step every flow may have: the first member named wins; a cancel, a timeout or the
 * reader going away ends the flow with nothing done. `next` continues with the member.
 */
export function identify<S extends BaseState<string>>(
  state: S,
  event: CommonEvent | { type: string },
  next: (state: S, via: MemberSource) => Transition<S>,
): Transition<S> {
  const e = event as CommonEvent;
  switch (e.type) {
    case 'member': {
      const t = next({ ...state, member: e.member, error: null }, e.via);
      return { state: t.state, effects: [{ type: 'release' }, ...t.effects] };
    }
    case 'cancel':
      return end(state, 'cancelled', null);
    case 'timeout':
    case 'device_lost':
      return end(state, 'cancelled', e.message);
    default:
      return stay(state);
  }
}

/** The common fields of a flow's first state. */
export function initial<Step extends string>(
  kind: FlowKind,
  step: Step,
  input: {
    cashier: string;
    programId: number;
    currency: string;
    amount: number;
    reference?: string | undefined;
    member?: QueuedMember | undefined;
  },
): BaseState<Step> {
  return {
    kind,
    step,
    cashier: input.cashier,
    programId: input.programId,
    currency: input.currency,
    amount: input.amount,
    reference: input.reference ?? null,
    member: input.member ?? null,
    error: null,
    cancelRequested: false,
  };
}

/** Whether the base fields hold: a positive integer amount, a member once past identify. */
export function validBase(state: BaseState<string>, needsMember: readonly string[]): boolean {
  if (!Number.isSafeInteger(state.amount) || state.amount <= 0) return false;
  if (needsMember.includes(state.step) && state.member === null) return false;
  return true;
}
