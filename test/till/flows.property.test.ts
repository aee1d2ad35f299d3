// fast-check on the four flow machines, fed random sequences of every event any machine takes (each
// machine must leave the others' alone): every state keeps its invariants and renders as a valid
// FlowEvent with no PIN block or member token in it; a final state never changes; a cancel starts
// nothing afterwards and ends the flow cancelled unless the operation was already made (then it is
// reported as what it is); refunds never pass what is left of the purchase.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLAIM_STATUSES } from '../../contract/till-events.ts';
import { cashoutMachine, type CashoutState } from '../../till/flows/cashout.ts';
import { earnMachine } from '../../till/flows/earn.ts';
import { FlowEventSchema, toFlowEvent, type AnyFlowState } from '../../till/flows/events.ts';
import {
  isFinal,
  STARTING_EFFECTS,
  type BaseState,
  type Effect,
  type Machine,
  type Transition,
} from '../../till/flows/machine.ts';
import { redeemMachine, type RedeemState } from '../../till/flows/redeem.ts';
import { refundMachine, type RefundState } from '../../till/flows/refund.ts';
import type { QueuedMember } from '../../till/outbox/queue.ts';

type AnyMachine = Machine<AnyFlowState, { type: string }, unknown>;
const as = (m: unknown) => m as AnyMachine;

const hex = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-f]{${n}}$`));
const member: fc.Arbitrary<QueuedMember> = fc.oneof(
  fc.record({ card: fc.record({ hash: hex(64), masked: fc.constant('476173******0119') }) }),
  fc.record({ externalId: fc.constant('TB-M-1234567') }),
  fc.record({ phone: fc.constant('+21612345678') }),
  fc.record({ email: fc.constant('jane@example.com') }),
);
const amount = fc.integer({ min: 1, max: 10_000_000 });
const message = fc.constantFrom('nope', 'the engine said no');
// Secrets that must never reach a FlowEvent: the PIN block and the member token.
const BLOCK = 'c0ffee00c0ffee00';
const TOKEN = 'member-token-must-not-leak';

const event: fc.Arbitrary<{ type: string }> = fc.oneof(
  fc.constant({ type: 'cancel' }),
  fc.record({ type: fc.constant('timeout'), message }),
  fc.record({ type: fc.constant('device_lost'), message }),
  fc.record({ type: fc.constant('member'), member, via: fc.constantFrom('card', 'scan', 'typed') }),
  fc.record({ type: fc.constant('enqueued'), operationId: fc.uuid() }),
  fc.record({ type: fc.constant('enqueue_failed'), message }),
  fc.record({
    type: fc.constant('delivered'),
    answer: fc.record({
      cashback_earned: fc.nat(),
      cashback_deducted: fc.nat(),
      balance: fc.record({ available: fc.integer() }),
    }),
  }),
  fc.record({ type: fc.constant('refused'), message }),
  fc.constant({ type: 'still_queued' }),
  fc.record({
    type: fc.constant('found'),
    original: fc.record({
      operationId: fc.uuid(),
      reference: fc.option(fc.constant('ORDER-1'), { nil: null }),
      programId: fc.integer({ min: 1, max: 9 }),
      currency: fc.constant('TND'),
      member,
      amount,
      refunded: fc.nat({ max: 10_000_000 }),
    }),
  }),
  fc.constant({ type: 'not_found' }),
  fc.record({ type: fc.constant('not_refundable'), message }),
  fc.record({ type: fc.constant('pin_entered'), ksn: hex(20), block: fc.constant(BLOCK) }),
  fc.record({ type: fc.constant('pin_failed'), message }),
  fc.record({ type: fc.constant('otp_sent'), challengeId: fc.nat(), sentTo: fc.constant('+216*****678') }),
  fc.record({ type: fc.constant('input'), code: fc.constant('123456') }),
  fc.constant({ type: 'otp_verified', memberToken: TOKEN }),
  fc.record({
    type: fc.constant('redeemed'),
    answer: fc.record({ amount_redeemed: fc.nat(), balance: fc.record({ available: fc.integer() }) }),
  }),
  fc.record({
    type: fc.constant('engine_failed'),
    code: fc.constantFrom(
      'pin_invalid',
      'insufficient_balance',
      'claim_not_cancellable',
      'engine_unreachable',
      'engine_timeout',
    ),
    message,
    unreachable: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('claim_created'),
    claim: fc.record({
      id: fc.uuid(),
      url: fc.constant('http://127.0.0.1:8080/c/x'),
      expiresAt: fc.constant('2026-01-22T10:30:00.000Z'),
      status: fc.constant('created'),
    }),
  }),
  fc.record({
    type: fc.constant('claim_status'),
    status: fc.constantFrom(...CLAIM_STATUSES),
    failure: fc.option(message, { nil: null }),
  }),
  fc.constant({ type: 'claim_cancelled' }),
);

const sale = fc.record({
  cashier: fc.constant('carl'),
  programId: fc.integer({ min: 1, max: 9 }),
  currency: fc.constant('TND'),
  amount,
  reference: fc.option(fc.constant('ORDER-1'), { nil: undefined }),
  member: fc.option(member, { nil: undefined }),
});
const refundInput = fc.record({
  cashier: fc.constant('carl'),
  original: fc.oneof(fc.record({ operationId: fc.uuid() }), fc.record({ reference: fc.constant('ORDER-1') })),
  amount: fc.option(amount, { nil: undefined }),
  member: fc.option(member, { nil: undefined }),
  programId: fc.option(fc.integer({ min: 1, max: 9 }), { nil: undefined }),
  currency: fc.option(fc.constant('TND'), { nil: undefined }),
});

const MACHINES: { name: string; machine: AnyMachine; input: fc.Arbitrary<unknown> }[] = [
  { name: 'earn', machine: as(earnMachine), input: sale },
  { name: 'redeem', machine: as(redeemMachine(3)), input: sale },
  { name: 'refund', machine: as(refundMachine), input: refundInput },
  { name: 'cashout', machine: as(cashoutMachine), input: sale },
];

/** Whether the operation the flow makes was already made when its last state was reached. */
function operationMade(state: AnyFlowState): boolean {
  if ('operationId' in state && state.operationId !== null) return true; // enqueued: confirmed
  if (state.kind === 'redeem') return (state as RedeemState).result !== null; // the engine answered yes
  if (state.kind === 'cashout') return (state as CashoutState).claim !== null; // a claim follows its own course
  return false;
}

function checkState(machine: AnyMachine, state: AnyFlowState): void {
  expect(machine.valid(state), JSON.stringify(state)).toBe(true);
  const rendered = JSON.stringify(FlowEventSchema.parse(toFlowEvent('f', state, null, 1)));
  expect(rendered).not.toContain(BLOCK);
  expect(rendered).not.toContain(TOKEN);
}

describe.each(MACHINES)('the $name machine', ({ machine, input }) => {
  it('keeps its invariants, and a final state never changes, under any events', () => {
    fc.assert(
      fc.property(input, fc.array(event, { maxLength: 40 }), (i, events) => {
        let { state } = machine.start(i);
        checkState(machine, state);
        for (const e of events) {
          const t: Transition<AnyFlowState> = machine.step(state, e);
          if (isFinal(state.step)) {
            expect(t.state).toBe(state);
            expect(t.effects).toEqual([]);
          }
          state = t.state;
          checkState(machine, state);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('after a cancel starts nothing, and ends cancelled unless the operation was already made', () => {
    fc.assert(
      fc.property(
        input,
        fc.array(event, { maxLength: 20 }),
        fc.array(event, { maxLength: 20 }),
        (i, before, after) => {
          let { state } = machine.start(i);
          for (const e of before) state = machine.step(state, e).state;
          fc.pre(!isFinal(state.step));
          const madeAtCancel = operationMade(state);
          let t = machine.step(state, { type: 'cancel' });
          const effects: Effect[] = [...t.effects];
          if (!madeAtCancel && !(state as BaseState<string>).cancelRequested) {
            // Nothing in flight that the engine could keep: the cancel ends it at once...
            const inFlight = ['enqueueing', 'redeeming', 'creating'].includes(state.step);
            if (!inFlight) expect(t.state.step).toBe('cancelled');
          }
          for (const e of after) {
            t = machine.step(t.state, e);
            effects.push(...t.effects);
          }
          // ...and nothing new is started after it, whatever comes.
          expect(effects.map((x) => x.type).filter((x) => STARTING_EFFECTS.includes(x))).toEqual([]);
          const end = t.state;
          if (isFinal(end.step) && end.step !== 'cancelled') {
            // Only what was already made (or in flight and then confirmed) is reported as made.
            expect(operationMade(end)).toBe(true);
            expect(effects.some((x) => x.type === 'record' && x.state === 'delivered')).toBe(
              end.kind === 'redeem' || end.kind === 'cashout' ? end.step === 'done' : false,
            );
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('the refund machine and the purchase it names', () => {
  it('refunds exactly the amount asked (or all that is left), never more than what is left', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.oneof(fc.constant(0), fc.nat({ max: 1_000_000 })),
        // All that is left, an amount at the edge of what is left (where mistakes hide), or any amount.
        fc.oneof(
          fc.constant(undefined),
          fc.integer({ min: -2, max: 2 }),
          fc.integer({ min: 1, max: 1_000_000 }),
        ),
        (purchase, refunded, pick) => {
          const edge = pick !== undefined && pick <= 2 ? purchase - refunded + pick : pick;
          const asked = edge !== undefined && edge < 1 ? 1 : edge;
          const start = refundMachine.start({
            cashier: 'carl',
            original: { reference: 'ORDER-1' },
            amount: asked,
          });
          const t = refundMachine.step(start.state, {
            type: 'found',
            original: {
              operationId: '00000000-0000-4000-8000-000000000000',
              reference: 'ORDER-1',
              programId: 1,
              currency: 'TND',
              member: { email: 'jane@example.com' },
              amount: purchase,
              refunded,
            },
          });
          const left = purchase - refunded;
          const want = asked ?? left;
          const state = t.state as RefundState;
          if (left > 0 && want <= left) {
            expect(state.step).toBe('enqueueing');
            expect(t.effects).toEqual([
              {
                type: 'enqueue',
                operation: expect.objectContaining({
                  type: 'refund',
                  refundAmount: want,
                  originalReference: 'ORDER-1',
                  member: { email: 'jane@example.com' },
                }),
              },
            ]);
          } else {
            expect(state.step).toBe('failed');
            expect(t.effects.some((e) => e.type === 'enqueue')).toBe(false);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('the redeem machine and wrong PINs', () => {
  it('asks for the PIN again after a wrong one, up to the allowed tries, then fails with the message', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), (tries) => {
        const m = redeemMachine(tries);
        let { state } = m.start({ cashier: 'carl', programId: 1, currency: 'TND', amount: 500 });
        state = m.step(state, {
          type: 'member',
          member: { card: { hash: 'a'.repeat(64), masked: '476173******0119' } },
          via: 'card',
        }).state;
        let pins = 0;
        for (;;) {
          expect(state.step).toBe('pin');
          pins += 1;
          state = m.step(state, { type: 'pin_entered', ksn: 'f'.repeat(20), block: BLOCK }).state;
          const t = m.step(state, {
            type: 'engine_failed',
            code: 'pin_invalid',
            message: 'Wrong PIN',
            unreachable: false,
          });
          state = t.state;
          if (state.step !== 'pin') {
            expect(state.step).toBe('failed');
            expect(state.error).toBe('Wrong PIN');
            expect(t.effects).toContainEqual({ type: 'record', state: 'failed', result: 'Wrong PIN' });
            break;
          }
          expect(t.effects).toEqual([{ type: 'enter_pin' }]);
        }
        expect(pins).toBe(tries);
      }),
    );
  });
});
