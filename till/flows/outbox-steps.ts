// The end shared by the earn and refund flows: the operation goes into the outbox (so it works
// offline), then the flow waits a short while for the engine's answer. Once enqueued the operation is
// confirmed and will reach the engine: a cancel after that point cannot undo it and says so.
import { deliveredResult, type FlowResult } from './result.ts';
import { end, stay, type BaseState, type Effect, type Transition } from './machine.ts';

export type OutboxStep = 'enqueueing' | 'delivering';

export type OutboxEvent =
  | { type: 'enqueued'; operationId: string }
  /** The outbox refused it (an offline limit, bad input): nothing was written. */
  | { type: 'enqueue_failed'; message: string }
  | { type: 'delivered'; answer: Record<string, unknown> }
  | { type: 'refused'; message: string }
  /** The short wait ended (or the engine could not be reached): it stays in the outbox. */
  | { type: 'still_queued' };

export interface OutboxFields {
  /** The outbox operation, once enqueued. */
  operationId: string | null;
  result: FlowResult | null;
}

const CONFIRMED_NOTE = 'The cancel came after the operation was confirmed: it stands';

function queued<S extends BaseState<string> & OutboxFields>(state: S, note?: string): Transition<S> {
  return end({ ...state, result: note ? { queued: true, note } : { queued: true } }, 'done', null);
}

/** Enter the enqueueing step with the operation to write. */
export function toOutbox<S extends BaseState<string> & OutboxFields>(
  state: S,
  effect: Effect,
): Transition<S> {
  return { state: { ...state, step: 'enqueueing' }, effects: [effect] };
}

export function outboxStep<S extends BaseState<string> & OutboxFields>(
  state: S,
  event: { type: string },
  kind: 'earn' | 'refund',
): Transition<S> {
  const e = event as OutboxEvent | { type: 'cancel' };
  if (state.step === 'enqueueing') {
    switch (e.type) {
      case 'enqueued': {
        const next = { ...state, operationId: e.operationId };
        if (state.cancelRequested) return queued(next, CONFIRMED_NOTE);
        return {
          state: { ...next, step: 'delivering' },
          effects: [{ type: 'await_delivery', operationId: e.operationId }],
        };
      }
      case 'enqueue_failed':
        return end(state, state.cancelRequested ? 'cancelled' : 'failed', e.message);
      case 'cancel':
        // The write is in flight: whether it lands decides what the cancel means.
        return stay({ ...state, cancelRequested: true });
      default:
        return stay(state);
    }
  }
  switch (e.type) {
    case 'delivered':
      return end({ ...state, result: deliveredResult(kind, e.answer) }, 'done', null);
    case 'refused':
      return end(state, 'failed', e.message);
    case 'still_queued':
      return queued(state);
    case 'cancel':
      return queued(state, CONFIRMED_NOTE);
    default:
      return stay(state);
  }
}
