// A flow's progress as the cashier sees it: a few phases per kind, each done, current or to come,
// read from the FlowEvent's step (till/README.md, Flows: every step of every machine is mapped here).
import type { FlowEvent, FlowKind } from '../../../contract/till-events.ts';

export type Phase = 'find' | 'identify' | 'verify' | 'send' | 'claim' | 'result';
export type PhaseState = 'done' | 'current' | 'todo';

export const PHASES: Record<FlowKind, readonly Phase[]> = {
  earn: ['identify', 'send', 'result'],
  redeem: ['identify', 'verify', 'send', 'result'],
  refund: ['find', 'send', 'result'],
  cashout: ['identify', 'send', 'claim', 'result'],
};

const STEP_PHASE: Record<string, Phase> = {
  finding: 'find',
  identify: 'identify',
  pin: 'verify',
  otp_sending: 'verify',
  otp: 'verify',
  otp_verifying: 'verify',
  enqueueing: 'send',
  delivering: 'send',
  redeeming: 'send',
  creating: 'send',
  following: 'claim',
  cancelling: 'claim',
  done: 'result',
  failed: 'result',
  cancelled: 'result',
};

/** Each phase of the flow's kind with its state; a step this screen does not know shows no progress. */
export function phasesOf(flow: Pick<FlowEvent, 'kind' | 'step'>): { phase: Phase; state: PhaseState }[] {
  const phases = PHASES[flow.kind];
  const phase = STEP_PHASE[flow.step];
  if (phase === undefined) return phases.map((p) => ({ phase: p, state: 'todo' }));
  // A refund of a purchase the till never saw asks for the member: still finding what to refund.
  const at = Math.max(0, phases.indexOf(phase));
  const ended = flow.step === 'done' || flow.step === 'failed' || flow.step === 'cancelled';
  return phases.map((phase, i) => ({
    phase,
    state: i < at || (ended && i === at) ? 'done' : i === at ? 'current' : 'todo',
  }));
}
