// The refund flow: the purchase is found in the till's history (by its operation id or its reference)
// and refunded in full or in part, never past what is left of it after the refunds the till knows;
// a reference the till never saw is refunded for the amount and member the cashier gives. The refund
// goes through the outbox (so it works offline) and shows the engine's clawback once delivered.
//   finding -> [identify] -> enqueueing -> delivering -> done | failed
import type { QueuedMember } from '../outbox/queue.ts';
import {
  end,
  finalStays,
  identify,
  initial,
  stay,
  validBase,
  type BaseState,
  type Machine,
  type OriginalRef,
  type Transition,
} from './machine.ts';
import {
  outboxStep,
  toOutbox,
  type OutboxEvent,
  type OutboxFields,
  type OutboxStep,
} from './outbox-steps.ts';

export interface RefundInput {
  cashier: string;
  original: OriginalRef;
  /** Minor units; absent: all that is left of the purchase. */
  amount?: number | undefined;
  /** This refund's own reference. */
  reference?: string | undefined;
  /** For a purchase the till never saw: whose it was, in which program and currency. */
  member?: QueuedMember | undefined;
  programId?: number | undefined;
  currency?: string | undefined;
}

/** The purchase as the till's history has it. */
export interface Original {
  operationId: string;
  reference: string | null;
  programId: number;
  currency: string;
  member: QueuedMember;
  /** The purchase amount, minor units. */
  amount: number;
  /** What refunds the till made of it already add up to (queued or delivered). */
  refunded: number;
}

export type RefundEvent =
  | OutboxEvent
  | { type: 'found'; original: Original }
  /** No such purchase in the history. */
  | { type: 'not_found' }
  /** Found, but not something to refund (not an earn, or the earn failed or was voided). */
  | { type: 'not_refundable'; message: string };

export type RefundStep = 'finding' | 'identify' | OutboxStep;
export interface RefundState extends BaseState<RefundStep>, OutboxFields {
  original: OriginalRef;
  /** The purchase reference the engine names it by (original_reference). */
  originalReference: string | null;
  /** The most this refund may be (null when the till never saw the purchase). */
  refundable: number | null;
}

function enqueue(state: RefundState): Transition<RefundState> {
  const { member } = state;
  if (member === null) return stay(state); // unreachable: identify names one first
  return toOutbox(state, {
    type: 'enqueue',
    operation: {
      type: 'refund',
      cashier: state.cashier,
      programId: state.programId,
      currency: state.currency,
      member,
      refundAmount: state.amount,
      ...(state.reference === null ? {} : { reference: state.reference }),
      ...(state.originalReference === null ? {} : { originalReference: state.originalReference }),
    },
  });
}

const money = (minor: number, currency: string) => `${minor} ${currency} minor units`;

function found(state: RefundState, original: Original): Transition<RefundState> {
  const left = original.amount - original.refunded;
  const amount = state.amount > 0 ? state.amount : left;
  const next: RefundState = {
    ...state,
    programId: original.programId,
    currency: original.currency,
    member: original.member,
    originalReference: original.reference,
    refundable: left,
  };
  if (left <= 0) return end(next, 'failed', 'This purchase has already been refunded in full');
  if (amount > left) {
    return end(
      next,
      'failed',
      `A refund of ${money(amount, original.currency)} is more than the ${money(left, original.currency)} left of this purchase`,
    );
  }
  if (original.reference === null) {
    return end(next, 'failed', 'This purchase has no reference the engine can name it by');
  }
  return enqueue({ ...next, amount });
}

function notFound(state: RefundState): Transition<RefundState> {
  if (!('reference' in state.original)) {
    return end(state, 'failed', 'No purchase with this operation id in this till');
  }
  // A purchase made elsewhere: the cashier gives the amount, the program and the member.
  if (state.amount <= 0 || state.programId <= 0 || state.currency === '') {
    return end(
      state,
      'failed',
      'This till never saw that purchase: give the refund amount, the program and the currency',
    );
  }
  const next = { ...state, originalReference: state.original.reference };
  if (next.member !== null) return enqueue(next);
  return { state: { ...next, step: 'identify' }, effects: [{ type: 'await_member' }] };
}

const step = finalStays<RefundState, RefundEvent>((state, event) => {
  const e = event as RefundEvent | { type: 'cancel' };
  switch (state.step) {
    case 'finding':
      if (e.type === 'found') return found(state, e.original);
      if (e.type === 'not_found') return notFound(state);
      if (e.type === 'not_refundable') return end(state, 'failed', e.message);
      if (e.type === 'cancel') return end(state, 'cancelled', null);
      return stay(state);
    case 'identify':
      return identify(state, event, enqueue);
    default:
      return outboxStep(state, event, 'refund');
  }
});

export const refundMachine: Machine<RefundState, RefundEvent, RefundInput> = {
  start(input) {
    const state: RefundState = {
      ...initial<RefundStep>('refund', 'finding', {
        ...input,
        // Known once the purchase is found (or given, for one the till never saw).
        amount: input.amount ?? 0,
        programId: input.programId ?? 0,
        currency: input.currency ?? '',
      }),
      original: input.original,
      originalReference: null,
      refundable: null,
      operationId: null,
      result: null,
    };
    return { state, effects: [{ type: 'find_original', original: input.original }] };
  },
  step,
  valid(state) {
    const queuedOrPast = ['enqueueing', 'delivering', 'done'];
    if (queuedOrPast.includes(state.step)) {
      if (!validBase(state, queuedOrPast)) return false;
      // Never more than what is left of a purchase the till knows.
      if (state.refundable !== null && state.amount > state.refundable) return false;
    }
    if (state.step === 'delivering' && state.operationId === null) return false;
    if (state.step === 'done' && state.result === null) return false;
    return true;
  },
};
