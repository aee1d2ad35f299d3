// The flow runner: one flow at a time per till. It feeds a flow's machine the events of the world
// (swipes and scans from the device manager, PIN entries, the outbox's operation events, the engine's
// answers, the cashier's input, timers, unplugs) and performs the effects the machine asks for. Every
// change of state is a FlowEvent for the screens.
//
// A swiped card's PAN stays in memory, in the CardRead the device manager gave, only while the flow
// needs it (a redeem's PIN block and its engine call); it is never in a state, an event or a log line.
// An earn or refund names a card by its keyed hash (contract's cardHash, under the tokenization key
// the engine shares).
import { randomUUID } from 'node:crypto';
import { cardHash } from '../../contract/card-hash.ts';
import type { CardRead } from '../../drivers/cards/magstripe.ts';
import type { DeviceManager } from '../../drivers/devices/manager.ts';
import type { ManagerEvent } from '../../drivers/devices/events.ts';
import { PinPadError } from '../../drivers/pinpad/driver.ts';
import { createEngineClient, type EngineClient } from '../engine-client.ts';
import type { Outbox, OperationEvent } from '../outbox/outbox.ts';
import type { QueuedMember } from '../outbox/queue.ts';
import { cashoutMachine, type CashoutEvent, type CashoutInput } from './cashout.ts';
import { followClaim } from './claims.ts';
import { engineCalls } from './engine-calls.ts';
import { FlowsConfigSchema, type FlowsConfig, type FlowsConfigInput } from './config.ts';
import { earnMachine, type EarnInput } from './earn.ts';
import { toFlowEvent, type AnyFlowState, type FlowEvent } from './events.ts';
import { findOriginal, recordOnline } from './history.ts';
import { isFinal, type CommonEvent, type Effect, type FlowKind, type Machine } from './machine.ts';
import { redeemMachine, type RedeemEvent, type RedeemInput } from './redeem.ts';
import { refundMachine, type RefundEvent, type RefundInput } from './refund.ts';
import type { OutboxEvent } from './outbox-steps.ts';

export type FlowErrorCode = 'flow_busy' | 'no_flow' | 'not_waiting';

/** A flow request that cannot be served now; nothing changed. */
export class FlowError extends Error {
  readonly code: FlowErrorCode;
  constructor(code: FlowErrorCode, message: string) {
    super(message);
    this.name = 'FlowError';
    this.code = code;
  }
}

/** A flow's input: the kind's own fields; the cashier is the signed-in operator. */
export type FlowStart =
  | { kind: 'earn'; input: EarnInput }
  | { kind: 'redeem'; input: RedeemInput }
  | { kind: 'refund'; input: RefundInput }
  | { kind: 'cashout'; input: CashoutInput };

/** What the cashier types while a flow waits for it: the member, or a one-time code. */
export type FlowInput = { member: QueuedMember } | { code: string };

export interface Flows {
  /** The till's program, for flows started without one (config `program`). */
  readonly program: FlowsConfig['program'];
  /** Starts a flow; throws FlowError('flow_busy') while another one runs. */
  start(request: FlowStart): FlowEvent;
  /** The running flow, or the last one (finished), or undefined before the first. */
  current(): FlowEvent | undefined;
  cancel(): FlowEvent;
  input(value: FlowInput): FlowEvent;
  /** Every FlowEvent; returns the unsubscribe function. */
  onEvent(listener: (event: FlowEvent) => void): () => void;
  /** Cancels a running flow and stops listening to the devices and the outbox. */
  close(): Promise<void>;
}

export interface FlowsOptions {
  devices: DeviceManager;
  outbox: Outbox;
  config: FlowsConfigInput;
  /** Default: a client of the outbox's engine with `engineTimeoutMs`. */
  engine?: EngineClient;
  now?: () => number;
}

// Every event any machine takes: a machine leaves alone those that are not its own.
type AnyEvent = CommonEvent | OutboxEvent | RefundEvent | RedeemEvent | CashoutEvent;

const seconds = (ms: number) => `${Math.round(ms / 1000)} seconds`;

export function createFlows(options: FlowsOptions): Flows {
  const config: FlowsConfig = FlowsConfigSchema.parse(options.config);
  const { devices, outbox } = options;
  const now = options.now ?? Date.now;
  const engine =
    options.engine ?? createEngineClient(outbox.config.engine, { timeoutMs: config.engineTimeoutMs });
  const calls = engineCalls(engine, config.storeName);
  const listeners = new Set<(event: FlowEvent) => void>();
  let active: Active | undefined;
  let last: FlowEvent | undefined;

  /** One flow's life: its state, what it holds (a card, a timer, a PIN entry) and its dispatcher. */
  interface Active {
    state: AnyFlowState;
    dispatch(event: AnyEvent): void;
    /** Lets go of everything the flow holds, final or not (the till is stopping). */
    stop(): void;
  }

  function publish(event: FlowEvent): void {
    last = event;
    for (const listener of listeners) listener(event);
  }

  function connectedPinpad(): string | undefined {
    return devices.list().find((d) => d.kind === 'pinpad' && d.state === 'connected')?.id;
  }

  function begin(kind: FlowKind, machine: Machine<AnyFlowState, AnyEvent, unknown>, input: unknown): void {
    const id = randomUUID();
    let card: CardRead | undefined;
    let acceptingMember = false;
    let timer: NodeJS.Timeout | undefined;
    let pinpad: string | undefined;
    let display: Promise<void> = Promise.resolve();
    let operationId: string | null = null;
    let following: string | undefined;
    let stopFollowing: (() => void) | undefined;
    /** Outbox events of operations this flow enqueued, kept until the flow looks at them. */
    const outboxEvents = new Map<string, OperationEvent>();
    let waitingFor: string | undefined;

    let stopped = false;
    const first = machine.start(input);
    const self: Active = {
      state: first.state,
      stop: () => finish(),
      dispatch(event) {
        if (stopped || isFinal(self.state.step)) return;
        const t = machine.step(self.state, event);
        apply(t.state, t.effects);
      },
    };

    function apply(state: AnyFlowState, effects: Effect[]): void {
      const changed = state !== self.state;
      self.state = state;
      if (changed) publish(toFlowEvent(id, state, operationId, now()));
      for (const effect of effects) perform(effect);
      if (isFinal(state.step)) finish();
    }

    function arm(ms: number, message: string): void {
      clearTimeout(timer);
      timer = setTimeout(() => self.dispatch({ type: 'timeout', message }), ms);
    }

    function release(): void {
      clearTimeout(timer);
      timer = undefined;
      acceptingMember = false;
      if (pinpad !== undefined) {
        const pad = devices.driver(pinpad, 'pinpad');
        pinpad = undefined;
        pad?.cancel().catch(() => undefined); // the pad may be gone already: nothing left to stop
      }
    }

    function finish(): void {
      stopped = true;
      release();
      stopFollowing?.();
      card = undefined; // the PAN leaves memory with the flow
      offSwipe();
      offDevice();
      offOutbox();
      if (active === self) active = undefined;
    }

    const onSwipe = ({ card: read }: { deviceId: string; card: CardRead }) => {
      if (!acceptingMember) return;
      const hash = read.withPan((pan) => cardHash(pan, config.tokenizationKey));
      if (kind === 'redeem') card = read; // the PIN block and the engine call need the number
      self.dispatch({ type: 'member', member: { card: { hash, masked: read.panMasked } }, via: 'card' });
    };
    const onDevice = (event: ManagerEvent) => {
      if (event.type === 'scan' && acceptingMember && event.scan.kind === 'member') {
        self.dispatch({
          type: 'member',
          member: { externalId: `TB-M-${event.scan.memberNumber}` },
          via: 'scan',
        });
        return;
      }
      if (event.type !== 'state' || (event.state !== 'disconnected' && event.state !== 'unplugged')) return;
      const kindOf = devices.get(event.deviceId)?.kind;
      if (event.deviceId === pinpad) {
        self.dispatch({
          type: 'device_lost',
          message: 'The PIN pad was unplugged during PIN entry: nothing was spent',
        });
      } else if (acceptingMember && (kindOf === 'card_reader' || kindOf === 'scanner')) {
        self.dispatch({
          type: 'device_lost',
          message: `The ${kindOf === 'scanner' ? 'scanner' : 'card reader'} was unplugged: start again once it is back`,
        });
      }
    };
    const onOutbox = (event: OperationEvent) => {
      outboxEvents.set(event.id, event);
      if (event.id === waitingFor) settleDelivery(event);
    };
    devices.on('swipe', onSwipe);
    const offSwipe = () => devices.off('swipe', onSwipe);
    const offDevice = devices.subscribe('*', onDevice);
    const offOutbox = outbox.onOperation(onOutbox);

    function settleDelivery(event: OperationEvent | undefined): void {
      if (event === undefined || event.kind === 'queued' || event.kind === 'retried') return;
      waitingFor = undefined;
      clearTimeout(timer);
      if (event.kind === 'delivered') {
        self.dispatch({ type: 'delivered', answer: JSON.parse(event.answer) as Record<string, unknown> });
      } else if (event.kind === 'refused') {
        self.dispatch({ type: 'refused', message: `The engine refused it: ${event.message}` });
      } else {
        self.dispatch({ type: 'still_queued' }); // not reached now: it stays in the outbox
      }
    }

    /** The Idempotency-Key of the last redeem or claim write: its history row's id. */
    let historyId = randomUUID();

    function follow(claimId: string): void {
      if (following === claimId) return; // already followed (a cancel that came too late)
      following = claimId;
      stopFollowing = followClaim(engine, claimId, config.claimPoll, (status, failure) =>
        self.dispatch({ type: 'claim_status', status, failure }),
      );
    }

    function perform(effect: Effect): void {
      const s = self.state;
      switch (effect.type) {
        case 'show_amount': {
          const id = connectedPinpad();
          const pad = id === undefined ? undefined : devices.driver(id, 'pinpad');
          // Best effort: a pad that cannot show it does not stop the sale.
          if (pad) display = pad.displayAmount(s.amount).catch(() => undefined);
          return;
        }
        case 'await_member':
          acceptingMember = true;
          arm(config.identifyTimeoutMs, `No card or member code within ${seconds(config.identifyTimeoutMs)}`);
          return;
        case 'await_input':
          arm(config.inputTimeoutMs, `No code was typed within ${seconds(config.inputTimeoutMs)}`);
          return;
        case 'release':
          release();
          return;
        case 'enqueue':
          outbox.enqueue(effect.operation).then(
            (opId) => {
              operationId = opId;
              self.dispatch({ type: 'enqueued', operationId: opId });
            },
            (error: unknown) => self.dispatch({ type: 'enqueue_failed', message: (error as Error).message }),
          );
          return;
        case 'await_delivery':
          waitingFor = effect.operationId;
          clearTimeout(timer);
          timer = setTimeout(() => {
            waitingFor = undefined;
            self.dispatch({ type: 'still_queued' }); // no answer yet: it stays in the outbox
          }, config.deliveryWaitMs);
          settleDelivery(outboxEvents.get(effect.operationId));
          return;
        case 'find_original':
          outbox.store
            .read((tx) => findOriginal(tx, effect.original))
            .then(self.dispatch, (error: unknown) =>
              self.dispatch({
                type: 'not_refundable',
                message: `The history could not be read: ${(error as Error).message}`,
              }),
            );
          return;
        case 'enter_pin':
          enterPin();
          return;
        case 'send_otp':
          void calls.sendOtp(effect.member).then(self.dispatch);
          return;
        case 'verify_otp':
          void calls.verifyOtp(effect.challengeId, effect.code).then(self.dispatch);
          return;
        case 'redeem': {
          historyId = randomUUID(); // each attempt (a PIN retry) is its own write
          const { auth } = effect;
          if ('memberToken' in auth) {
            void calls.redeemWithToken(s, auth.memberToken, historyId).then(self.dispatch);
          } else if (card === undefined) {
            self.dispatch({
              type: 'engine_failed',
              code: 'no_card',
              message: 'Swipe the card again',
              unreachable: false,
            });
          } else {
            void calls.redeemWithPin(s, card, auth.pinBlock, historyId).then(self.dispatch);
          }
          return;
        }
        case 'create_claim': {
          historyId = randomUUID();
          const key = historyId;
          if (s.member === null) return; // unreachable: the machine names the member first
          void calls.createClaim(s, s.member, key).then((event) => {
            if (event.type === 'claim_created') operationId = key;
            self.dispatch(event);
          });
          return;
        }
        case 'follow_claim':
          follow(effect.claimId);
          return;
        case 'cancel_claim':
          void calls.cancelClaim(effect.claimId).then(self.dispatch);
          return;
        case 'record': {
          const member = s.member;
          if (member === null || (s.kind !== 'redeem' && s.kind !== 'cashout')) return;
          operationId = historyId;
          const row = {
            id: historyId,
            type: s.kind,
            amount: s.amount,
            currency: s.currency,
            programId: s.programId,
            member,
            reference: s.reference,
            cashier: s.cashier,
            state: effect.state,
            result: effect.result,
          };
          recordOnline(outbox.store, row, now()).then(
            // The screens learn the row's id, unless a newer flow has the screens already.
            () => {
              if (last?.flowId === id) publish(toFlowEvent(id, self.state, operationId, now()));
            },
            // The operation happened at the engine either way; its own history has it.
            () => undefined,
          );
          return;
        }
      }
    }

    function enterPin(): void {
      const pad = connectedPinpad();
      const read = card;
      if (pad === undefined || read === undefined) {
        self.dispatch({
          type: 'device_lost',
          message: 'No PIN pad is connected: connect one, or sign the member in by code',
        });
        return;
      }
      pinpad = pad;
      void display
        .then(() => devices.enterPin(read, { pinpadId: pad, timeoutMs: config.pinTimeoutMs }))
        .then(
          (r) => {
            pinpad = undefined;
            self.dispatch({ type: 'pin_entered', ksn: r.ksn, block: r.pinBlock });
          },
          (error: unknown) => {
            if (pinpad !== pad) return; // released by this flow (a cancel): nothing to report
            pinpad = undefined;
            const code = error instanceof PinPadError ? error.code : undefined;
            if (code === 'timeout') {
              self.dispatch({
                type: 'timeout',
                message: `No PIN was entered within ${seconds(config.pinTimeoutMs)}: nothing was spent`,
              });
            } else if (
              code === 'disconnected' ||
              code === 'closed' ||
              code === 'not_open' ||
              code === 'no_ack'
            ) {
              self.dispatch({
                type: 'device_lost',
                message: 'The PIN pad stopped answering during PIN entry: nothing was spent',
              });
            } else if (code === 'cancelled') {
              self.dispatch({ type: 'cancel' }); // the customer pressed cancel on the pad
            } else {
              self.dispatch({
                type: 'pin_failed',
                message: `The PIN pad could not take the PIN (${(error as Error).message})`,
              });
            }
          },
        );
    }

    active = self;
    publish(toFlowEvent(id, first.state, operationId, now()));
    for (const effect of first.effects) perform(effect);
    if (isFinal(first.state.step)) finish();
  }

  const machines: Record<FlowKind, Machine<AnyFlowState, AnyEvent, unknown>> = {
    earn: earnMachine as unknown as Machine<AnyFlowState, AnyEvent, unknown>,
    redeem: redeemMachine(config.maxTries) as unknown as Machine<AnyFlowState, AnyEvent, unknown>,
    refund: refundMachine as unknown as Machine<AnyFlowState, AnyEvent, unknown>,
    cashout: cashoutMachine as unknown as Machine<AnyFlowState, AnyEvent, unknown>,
  };

  function running(): Active {
    if (!active) throw new FlowError('no_flow', 'No flow is running');
    return active;
  }
  const currentEvent = (): FlowEvent => {
    if (!last) throw new FlowError('no_flow', 'No flow is running');
    return last;
  };

  return {
    program: config.program,
    start(request) {
      if (active)
        throw new FlowError('flow_busy', `A ${active.state.kind} is in progress: finish or cancel it first`);
      let input: unknown = request.input;
      // An earn names its purchase so that a refund can name it later.
      if (request.kind === 'earn')
        input = { ...request.input, reference: request.input.reference ?? `till-${randomUUID()}` };
      begin(request.kind, machines[request.kind], input);
      return currentEvent();
    },
    current: () => last,
    cancel() {
      running().dispatch({ type: 'cancel' });
      return currentEvent();
    },
    input(value) {
      const flow = running();
      const step = flow.state.step;
      if ('member' in value && step === 'identify') {
        flow.dispatch({ type: 'member', member: value.member, via: 'typed' });
      } else if ('code' in value && step === 'otp') {
        flow.dispatch({ type: 'input', code: value.code });
      } else {
        throw new FlowError(
          'not_waiting',
          `The ${flow.state.kind} is not waiting for ${'member' in value ? 'a member' : 'a code'} (it is at ${step})`,
        );
      }
      return currentEvent();
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      const flow = active;
      flow?.dispatch({ type: 'cancel' });
      // Whatever the cancel left in flight (a claim being cancelled, a redeem's answer) is let go: the
      // engine keeps its own record, and nothing of this flow runs after the till stops.
      flow?.stop();
      listeners.clear();
    },
  };
}
