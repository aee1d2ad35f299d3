// The claim state machine, by property: random event sequences from `created` never leave a final
// state, reach paid only from processing, reach processing only from submitted, and agree with the
// documented path. The machine is pure, so thousands of runs take milliseconds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLAIM_EVENTS,
  CLAIM_STATES,
  FINAL_STATES,
  isFinal,
  nextState,
  type ClaimState,
} from '../../engine/domain/claim-states.ts';

const events = fc.array(fc.constantFrom(...CLAIM_EVENTS), { maxLength: 40 });

/** Runs events from `created`; refused events leave the state as it was (as the domain does: 409). */
function walk(sequence: readonly (typeof CLAIM_EVENTS)[number][]): ClaimState[] {
  const path: ClaimState[] = ['created'];
  for (const event of sequence) {
    const next = nextState(path.at(-1)!, event);
    if (next) path.push(next);
  }
  return path;
}

describe('claim state machine', () => {
  it('never leaves a final state', () => {
    fc.assert(
      fc.property(fc.constantFrom(...FINAL_STATES), events, (final, sequence) => {
        expect(sequence.every((e) => nextState(final, e) === undefined)).toBe(true);
      }),
    );
  });

  it('pays only from processing, processes only from submitted, submits only from created or opened', () => {
    fc.assert(
      fc.property(events, (sequence) => {
        const path = walk(sequence);
        for (let i = 1; i < path.length; i++) {
          const [before, after] = [path[i - 1]!, path[i]!];
          if (after === 'paid') expect(before).toBe('processing');
          if (after === 'processing') expect(before).toBe('submitted');
          if (after === 'submitted') expect(['created', 'opened']).toContain(before);
          if (after === 'expired' || after === 'cancelled') expect(['created', 'opened']).toContain(before);
          expect(isFinal(before)).toBe(false);
        }
        // At most one final state, and only as the last step.
        expect(path.filter(isFinal).length).toBeLessThanOrEqual(1);
        if (path.some(isFinal)) expect(isFinal(path.at(-1)!)).toBe(true);
      }),
    );
  });

  it('has no state unreachable from created, and every non-final state can still end', () => {
    const reachable = new Set<ClaimState>(['created']);
    for (let changed = true; changed;) {
      changed = false;
      for (const s of [...reachable])
        for (const e of CLAIM_EVENTS) {
          const n = nextState(s, e);
          if (n && !reachable.has(n)) {
            reachable.add(n);
            changed = true;
          }
        }
    }
    expect([...reachable].sort()).toEqual([...CLAIM_STATES].sort());
    for (const s of CLAIM_STATES.filter((x) => !isFinal(x))) {
      expect(CLAIM_EVENTS.some((e) => nextState(s, e) !== undefined)).toBe(true);
    }
  });

  it('follows the documented happy path and refuses to pay a claim twice', () => {
    const path = walk(['open', 'submit', 'start_payout', 'paid', 'paid', 'fail', 'cancel']);
    expect(path).toEqual(['created', 'opened', 'submitted', 'processing', 'paid']);
    expect(nextState('submitted', 'submit')).toBeUndefined();
    expect(nextState('submitted', 'cancel')).toBeUndefined();
    expect(nextState('opened', 'open')).toBeUndefined();
  });
});
