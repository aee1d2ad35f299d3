// The redeem flow: the member proves it is them, then the engine spends their cashback online (a
// redeem never queues). A swiped card is followed by the PIN on the PIN pad: the encrypted block goes
// to the engine with the card, the till never sees the PIN. A member code, phone or email is followed
// by a one-time code the engine sends the member, which the cashier types in.
//   identify -> pin -> redeeming -> done | failed          (a wrong PIN goes back to pin, a few times)
//   identify -> otp_sending -> otp -> otp_verifying -> redeeming -> done | failed
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
  type Machine,
  type MemberSource,
  type Transition,
} from './machine.ts';
import { redeemedResult, type FlowResult } from './result.ts';

export interface RedeemInput {
  cashier: string;
  programId: number;
  currency: string;
  amount: number;
  reference?: string | undefined;
  /** Typed or sent: the member then signs in by one-time code. */
  member?: QueuedMember | undefined;
}

export type RedeemEvent =
  | { type: 'pin_entered'; ksn: string; block: string }
  /** The PIN pad failed otherwise (refused, garbled): plain words. */
  | { type: 'pin_failed'; message: string }
  | { type: 'otp_sent'; challengeId: number; sentTo: string }
  | { type: 'input'; code: string }
  | { type: 'otp_verified'; memberToken: string }
  | { type: 'redeemed'; answer: Record<string, unknown> }
  /** The engine answered no (`code`, its message), or was not reached (`unreachable`). */
  | { type: 'engine_failed'; code: string; message: string; unreachable: boolean };

export type RedeemStep = 'identify' | 'pin' | 'otp_sending' | 'otp' | 'otp_verifying' | 'redeeming';
export interface RedeemState extends BaseState<RedeemStep> {
  auth: 'pin' | 'otp' | null;
  /** PIN entries made so far; OTP codes tried so far. */
  pinTries: number;
  otpTries: number;
  maxTries: number;
  challenge: { id: number; sentTo: string } | null;
  result: FlowResult | null;
}

export const NEEDS_ENGINE = 'A redeem needs the engine, which cannot be reached now: nothing was spent';
export const NO_ANSWER =
  "The engine did not answer in time: the redeem may have gone through; check the member's balance before trying again";

function authenticate(state: RedeemState, via: MemberSource): Transition<RedeemState> {
  if (via === 'card') {
    return { state: { ...state, step: 'pin', auth: 'pin', pinTries: 1 }, effects: [{ type: 'enter_pin' }] };
  }
  if (state.member === null) return stay(state); // unreachable: identify names one first
  return {
    state: { ...state, step: 'otp_sending', auth: 'otp' },
    effects: [{ type: 'send_otp', member: state.member }],
  };
}

function engineFailed(
  state: RedeemState,
  e: Extract<RedeemEvent, { type: 'engine_failed' }>,
): Transition<RedeemState> {
  const message = e.code === 'engine_timeout' ? NO_ANSWER : e.unreachable ? NEEDS_ENGINE : e.message;
  if (state.step === 'redeeming') {
    const retryPin = e.code === 'pin_invalid' && state.auth === 'pin' && state.pinTries < state.maxTries;
    if (retryPin && !state.cancelRequested) {
      return {
        state: { ...state, step: 'pin', pinTries: state.pinTries + 1, error: message },
        effects: [{ type: 'enter_pin' }],
      };
    }
    // The engine said no: nothing was spent, and the history keeps the attempt.
    const record = { type: 'record' as const, state: 'failed' as const, result: message };
    return end(state, state.cancelRequested ? 'cancelled' : 'failed', message, [record]);
  }
  if (state.step === 'otp_verifying' && !e.unreachable && state.otpTries < state.maxTries) {
    return { state: { ...state, step: 'otp', error: message }, effects: [{ type: 'await_input' }] };
  }
  return end(state, 'failed', message);
}

const step = finalStays<RedeemState, RedeemEvent>((state, event) => {
  const e = event as RedeemEvent | CommonEvent;
  if (state.step === 'identify') return identify(state, event, authenticate);
  if (e.type === 'engine_failed') return engineFailed(state, e);
  if (state.step === 'redeeming') {
    if (e.type === 'redeemed') {
      const result = redeemedResult(e.answer);
      const note = state.cancelRequested
        ? { note: 'The cancel came after the redeem was sent: it went through' }
        : {};
      return end({ ...state, result: { ...result, ...note } }, 'done', null, [
        { type: 'record', state: 'delivered', result: JSON.stringify(e.answer) },
      ]);
    }
    // The call is in flight and may be applied: its answer decides what the cancel means.
    if (e.type === 'cancel') return stay({ ...state, cancelRequested: true });
    return stay(state);
  }
  // Every other step holds nothing the engine kept: a cancel, a timeout or a lost PIN pad ends it.
  if (e.type === 'cancel') return end(state, 'cancelled', null);
  if (e.type === 'timeout' || e.type === 'device_lost') return end(state, 'cancelled', e.message);
  switch (state.step) {
    case 'pin':
      if (e.type === 'pin_entered') {
        return {
          state: { ...state, step: 'redeeming', error: null },
          effects: [{ type: 'redeem', auth: { pinBlock: { ksn: e.ksn, block: e.block } } }],
        };
      }
      if (e.type === 'pin_failed') return end(state, 'failed', e.message);
      return stay(state);
    case 'otp_sending':
      if (e.type !== 'otp_sent') return stay(state);
      return {
        state: { ...state, step: 'otp', challenge: { id: e.challengeId, sentTo: e.sentTo } },
        effects: [{ type: 'await_input' }],
      };
    case 'otp':
      if (e.type !== 'input' || state.challenge === null) return stay(state);
      return {
        state: { ...state, step: 'otp_verifying', otpTries: state.otpTries + 1, error: null },
        effects: [{ type: 'verify_otp', challengeId: state.challenge.id, code: e.code }],
      };
    case 'otp_verifying':
      if (e.type !== 'otp_verified') return stay(state);
      return {
        state: { ...state, step: 'redeeming' },
        effects: [{ type: 'redeem', auth: { memberToken: e.memberToken } }],
      };
    default:
      return stay(state);
  }
});

export function redeemMachine(maxTries: number): Machine<RedeemState, RedeemEvent, RedeemInput> {
  return {
    start(input) {
      const state: RedeemState = {
        ...initial<RedeemStep>('redeem', 'identify', input),
        auth: null,
        pinTries: 0,
        otpTries: 0,
        maxTries,
        challenge: null,
        result: null,
      };
      if (state.member !== null) {
        const t = authenticate(state, 'typed');
        return { state: t.state, effects: [{ type: 'show_amount' }, ...t.effects] };
      }
      return { state, effects: [{ type: 'show_amount' }, { type: 'await_member' }] };
    },
    step,
    valid(state) {
      if (!validBase(state, ['pin', 'otp_sending', 'otp', 'otp_verifying', 'redeeming', 'done']))
        return false;
      if (state.pinTries > state.maxTries || state.otpTries > state.maxTries) return false;
      if (state.step === 'pin' && state.auth !== 'pin') return false;
      if (['otp', 'otp_verifying'].includes(state.step) && state.challenge === null) return false;
      if (state.step === 'done' && state.result === null) return false;
      return true;
    },
  };
}
