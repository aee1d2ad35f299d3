// The earn flow: the amount comes with the start (typed by the cashier or sent by a POS), the member
// is named by a swipe (keyed card hash), a scanned member code or typed phone/email, then the earn
// goes into the outbox and the flow waits briefly for the engine's cashback.
//   identify -> enqueueing -> delivering -> done (cashback, or queued offline) | failed (refused)
import type { QueuedMember } from '../outbox/queue.ts';
import {
  finalStays,
  identify,
  initial,
  validBase,
  type BaseState,
  type Machine,
  type Transition,
} from './machine.ts';
import {
  outboxStep,
  toOutbox,
  type OutboxEvent,
  type OutboxFields,
  type OutboxStep,
} from './outbox-steps.ts';

export interface EarnInput {
  cashier: string;
  programId: number;
  currency: string;
  /** The purchase, in minor units. */
  amount: number;
  reference?: string | undefined;
  /** Already named (typed, or sent by a POS): the flow skips identify. */
  member?: QueuedMember | undefined;
  memberName?: string | undefined;
}

export type EarnStep = 'identify' | OutboxStep;
export interface EarnState extends BaseState<EarnStep>, OutboxFields {
  memberName: string | null;
}

function enqueue(state: EarnState): Transition<EarnState> {
  const { member } = state;
  if (member === null) return { state, effects: [] }; // unreachable: identify names one first
  return toOutbox(state, {
    type: 'enqueue',
    operation: {
      type: 'earn',
      cashier: state.cashier,
      programId: state.programId,
      currency: state.currency,
      member,
      purchaseAmount: state.amount,
      ...(state.reference === null ? {} : { reference: state.reference }),
      ...(state.memberName === null ? {} : { memberName: state.memberName }),
    },
  });
}

export const earnMachine: Machine<EarnState, OutboxEvent, EarnInput> = {
  start(input) {
    const state: EarnState = {
      ...initial<EarnStep>('earn', 'identify', input),
      memberName: input.memberName ?? null,
      operationId: null,
      result: null,
    };
    if (state.member !== null) {
      const t = enqueue(state);
      return { state: t.state, effects: [{ type: 'show_amount' }, ...t.effects] };
    }
    return { state, effects: [{ type: 'show_amount' }, { type: 'await_member' }] };
  },
  step: finalStays<EarnState, OutboxEvent>((state, event) =>
    state.step === 'identify' ? identify(state, event, enqueue) : outboxStep(state, event, 'earn'),
  ),
  valid(state) {
    if (!validBase(state, ['enqueueing', 'delivering', 'done', 'failed'])) return false;
    if (state.step === 'delivering' && state.operationId === null) return false;
    if (state.step === 'done' && state.result === null) return false;
    return true;
  },
};
