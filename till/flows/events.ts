// The FlowEvent: what the till's screens show of a flow, sent after every change of its state (as a
// `flow` message on /api/events). Each carries, for the cashier's screen and the customer display, the
// step, a prompt key per screen (the screens own the words, in their language), the amount, the member
// as a masked label, the result, the claim to show as a QR code, and any problem in plain words.
// Never a PAN, a PIN, a PIN block or a member token: they are not in a flow's state to begin with.
import { z } from 'zod';
import type { QueuedMember } from '../outbox/queue.ts';
import { CLAIM_STATES } from '../../engine/domain/claim-states.ts';
import type { CashoutState } from './cashout.ts';
import type { EarnState } from './earn.ts';
import { FLOW_KINDS, OUTCOMES, isFinal } from './machine.ts';
import type { RedeemState } from './redeem.ts';
import type { RefundState } from './refund.ts';

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

const minor = z.number().int();
export const FlowEventSchema = z
  .object({
    flowId: z.string(),
    kind: z.enum(FLOW_KINDS),
    step: z.string(),
    /** Set once the flow ended. */
    outcome: z.enum(OUTCOMES).nullable(),
    prompt: z.object({ cashier: z.string(), customer: z.string() }).strict(),
    /** Minor units; 0 while a refund's amount is not known yet. */
    amount: z.object({ minor, currency: z.string() }).strict(),
    /** The member as both screens may show them: a masked card, a member code, a masked phone or email. */
    member: z.string().nullable(),
    /** The outbox operation (earn, refund) or the history row (redeem, cashout), once there is one. */
    operationId: z.string().nullable(),
    result: z
      .object({
        queued: z.boolean(),
        cashback: minor.optional(),
        clawback: minor.optional(),
        redeemed: minor.optional(),
        available: minor.optional(),
        note: z.string().optional(),
      })
      .strict()
      .nullable(),
    /** Cashout: the claim page URL to show as a QR code, its expiry and its status. */
    claim: z
      .object({ id: z.string(), url: z.string(), expiresAt: z.string(), status: z.enum(CLAIM_STATES) })
      .strict()
      .nullable(),
    /** Redeem by one-time code: where the engine sent it (masked by the engine). */
    codeSentTo: z.string().nullable(),
    error: z.string().nullable(),
    at: z.number().int(),
  })
  .strict();
export type FlowEvent = z.infer<typeof FlowEventSchema>;

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
