// The flows' calls to the engine's native API (one-time codes, redeems, claims). Each resolves with the
// machine event of its outcome and never rejects: a refusal or no answer is an `engine_failed` event
// carrying the engine's code and message. Writes carry the Idempotency-Key they are given (a redeem's
// or claim's key is also its history row's id) or a fresh one.
import { randomUUID } from 'node:crypto';
import type { CardRead } from '../../drivers/cards/magstripe.ts';
import { EngineError, mayCarryCardData, type EngineClient } from '../engine-client.ts';
import { nativeMember, type QueuedMember } from '../outbox/queue.ts';
import type { CashoutEvent } from './cashout.ts';
import { claimView } from './claims.ts';
import type { RedeemEvent } from './redeem.ts';

/** What a redeem or a claim takes from the flow. */
export interface Sale {
  programId: number;
  amount: number;
  reference: string | null;
}

type Failed = Extract<RedeemEvent, { type: 'engine_failed' }>;

function failed(error: unknown): Failed {
  if (error instanceof EngineError) {
    return {
      type: 'engine_failed',
      code: error.code,
      message: error.message,
      unreachable: error.unreachable,
    };
  }
  return {
    type: 'engine_failed',
    code: 'internal',
    message: 'The till could not read the engine answer',
    unreachable: false,
  };
}

const CARD_DATA_NEEDS_TLS: Failed = {
  type: 'engine_failed',
  code: 'card_data_needs_tls',
  message:
    'A PIN redeem sends the card number, which this till sends only over HTTPS: give the engine an https:// URL, or sign the member in by code',
  unreachable: false,
};

const settle = <E>(call: Promise<E>): Promise<E | Failed> => call.catch(failed);

const saleBody = (sale: Sale) => ({
  program_id: sale.programId,
  amount: sale.amount,
  ...(sale.reference === null ? {} : { reference: sale.reference }),
});

export function engineCalls(engine: EngineClient, storeName: string) {
  return {
    sendOtp: (member: QueuedMember) =>
      settle(
        engine
          .post<{ challenge_id: number; sent_to: string }>(
            '/v1/otp',
            { member: nativeMember(member) },
            { idempotencyKey: randomUUID() },
          )
          .then((r): RedeemEvent => ({ type: 'otp_sent', challengeId: r.challenge_id, sentTo: r.sent_to })),
      ),

    verifyOtp: (challengeId: number, code: string) =>
      settle(
        engine
          .post<{ member_token: string }>(
            '/v1/otp/verify',
            { challenge_id: challengeId, code },
            { idempotencyKey: randomUUID() },
          )
          .then((r): RedeemEvent => ({ type: 'otp_verified', memberToken: r.member_token })),
      ),

    redeemWithToken: (sale: Sale, memberToken: string, key: string) =>
      settle(
        engine
          .post<Record<string, unknown>>('/v1/redeem', saleBody(sale), { idempotencyKey: key, memberToken })
          .then((answer): RedeemEvent => ({ type: 'redeemed', answer })),
      ),

    /**
     * The card's PAN goes into this one request, which the PIN block is bound to, and nowhere else;
     * and only over TLS or to an engine on this machine.
     */
    redeemWithPin: (sale: Sale, card: CardRead, pinBlock: { ksn: string; block: string }, key: string) => {
      if (!mayCarryCardData(engine.url)) return Promise.resolve<Failed>(CARD_DATA_NEEDS_TLS);
      return settle(
        card
          .withPan((pan) =>
            engine.post<Record<string, unknown>>(
              '/v1/redeem',
              {
                ...saleBody(sale),
                member: { card: { pan } },
                pin_block: { format: 'iso0-tdes-dukpt', ksn: pinBlock.ksn, block: pinBlock.block },
              },
              { idempotencyKey: key },
            ),
          )
          .then((answer): RedeemEvent => ({ type: 'redeemed', answer })),
      );
    },

    /** A member-funded claim: the member's cashback is held until it is paid, failed, expired or cancelled. */
    createClaim: (sale: Sale, member: QueuedMember, key: string) =>
      settle(
        engine
          .post(
            '/v1/claims',
            {
              amount: sale.amount,
              funding: 'member',
              program_id: sale.programId,
              member: nativeMember(member),
              store_name: storeName,
              ...(sale.reference === null ? {} : { reference: sale.reference }),
            },
            { idempotencyKey: key },
          )
          .then((answer): CashoutEvent => ({ type: 'claim_created', claim: claimView(answer) })),
      ),

    cancelClaim: (claimId: string) =>
      settle(
        engine
          .post(`/v1/claims/${encodeURIComponent(claimId)}/cancel`, {}, { idempotencyKey: randomUUID() })
          .then((): CashoutEvent => ({ type: 'claim_cancelled' })),
      ),
  };
}
