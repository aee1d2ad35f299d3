// The FlowEvent (its schema in contract/till-events.ts): what the till's screens show of a flow, sent
// after every change of its state (as a `flow` message on /api/events). Each carries, for the cashier's screen and the customer display, the
// step, a prompt key per screen (the screens own the words, in their language), the amount, the member
// as a masked label, the result, the claim to show as a QR code, and any problem in plain words.
// Never a PAN, a PIN, a PIN block or a member token: they are not in a flow's state to begin with.
import type { FlowEvent } from '../../contract/till-events.ts';
import type { QueuedMember } from '../outbox/queue.ts';
import type { CashoutState } from './cashout.ts';
import type { EarnState } from './earn.ts';
import { isFinal } from './machine.ts';
import type { RedeemState } from './redeem.ts';
import type { RefundState } from './refund.ts';

// The schema is shared with the renderer (contract/till-events.ts).
export { FlowEventSchema, type FlowEvent } from '../../contract/till-events.ts';

export type AnyFlowState = EarnState | RedeemState | RefundState | CashoutState;

/** [cashier screen, customer display] prompt keys of each step. */
const PROMPTS: Record<string, readonly [string, string]> = {
  identify: ['present_card_or_code', 'swipe_card'],
  finding: ['finding_purchase', 'please_wait'],
  enqueueing: ['waiting_engine', 'please_wait'],
  delivering: ['waiting_engine', 'please_wait'],
  pin: ['customer_enters_pin', 'enter_pin'],
  otp_sending: ['sending_code', 'please_wait'],
  otp: ['enter_code', 'tell_code'],
  otp_verifying: ['waiting_engine', 'please_wait'],
  redeeming: ['waiting_engine', 'please_wait'],
  creating: ['waiting_engine', 'please_wait'],
  following: ['claim_shown', 'scan_qr'],
  cancelling: ['cancelling_claim', 'please_wait'],
  done: ['done', 'thank_you'],
  failed: ['failed', 'see_cashier'],
  cancelled: ['cancelled', 'cancelled'],
};

/**
 * The member as a screen may show them: a card's masked number, a member code, a phone's last 3 digits,
 * an email's first character and domain (the customer display faces the queue).
 */
export function memberLabel(m: QueuedMember): string {
  if ('card' in m) return m.card.masked;
  if ('externalId' in m) return `member ${m.externalId}`;
  if ('id' in m) return `member #${m.id}`;
  if ('phone' in m) {
    const digits = m.phone.replace(/\D/g, '');
    return `phone ***${digits.slice(-3)}`;
  }
  const [local = '', domain = ''] = m.email.split('@');
  return `${local.slice(0, 1)}***@${domain}`;
}

export function toFlowEvent(
  flowId: string,
  state: AnyFlowState,
  operationId: string | null,
  at: number,
): FlowEvent {
  const [cashier, customer] = PROMPTS[state.step] ?? ['waiting', 'please_wait'];
  return {
    flowId,
    kind: state.kind,
    step: state.step,
    outcome: isFinal(state.step) ? state.step : null,
    prompt: { cashier, customer },
    amount: { minor: state.amount, currency: state.currency },
    member: state.member === null ? null : memberLabel(state.member),
    operationId,
    result: 'result' in state ? state.result : null,
    claim: 'claim' in state ? state.claim : null,
    codeSentTo: 'challenge' in state ? (state.challenge?.sentTo ?? null) : null,
    error: state.error,
    at,
  };
}
