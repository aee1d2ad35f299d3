// The screens' message client: whatever text arrives on the event stream, parseServerMessage returns a
// message the contract's schema accepts or nothing, and never throws; every message the till can send
// comes through unchanged.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLAIM_STATUSES,
  FLOW_KINDS,
  OUTCOMES,
  ServerMessageSchema,
  type FlowEvent,
  type ServerMessage,
} from '../../contract/till-events.ts';
import { parseServerMessage } from '../../renderer/src/shared/messages.ts';

const queue = fc.record({
  online: fc.option(fc.boolean(), { nil: null }),
  waiting: fc.nat(),
  oldestAgeMs: fc.option(fc.nat(), { nil: null }),
  failed: fc.nat(),
});
const minor = fc.integer({ min: -1e12, max: 1e12 });
const flow: fc.Arbitrary<FlowEvent> = fc.record({
  flowId: fc.uuid(),
  kind: fc.constantFrom(...FLOW_KINDS),
  step: fc.string(),
  outcome: fc.option(fc.constantFrom(...OUTCOMES), { nil: null }),
  prompt: fc.record({ cashier: fc.string(), customer: fc.string() }),
  amount: fc.record({ minor, currency: fc.constantFrom('AUD', 'JPY', 'TND') }),
  member: fc.option(fc.string(), { nil: null }),
  operationId: fc.option(fc.uuid(), { nil: null }),
  result: fc.option(
    fc.record(
      { queued: fc.boolean(), cashback: minor, available: minor, note: fc.string() },
      { requiredKeys: ['queued'] },
    ),
    { nil: null },
  ),
  claim: fc.option(
    fc.record({
      id: fc.uuid(),
      url: fc.webUrl(),
      expiresAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      status: fc.constantFrom(...CLAIM_STATUSES),
    }),
    { nil: null },
  ),
  codeSentTo: fc.option(fc.string(), { nil: null }),
  error: fc.option(fc.string(), { nil: null }),
  at: fc.nat(),
});
const message: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ type: fc.constant('ready' as const), queue }),
  fc.record({ type: fc.constant('queue_state' as const), queue }),
  fc.record({
    type: fc.constant('error' as const),
    error: fc.record({ code: fc.string(), message: fc.string() }),
  }),
  fc.record({
    type: fc.constant('history_changed' as const),
    operationId: fc.uuid(),
    kind: fc.constantFrom('queued', 'delivered', 'refused', 'attempt_failed', 'retried', 'voided'),
    at: fc.integer(),
  }),
  fc.record({ type: fc.constant('flow' as const), flow }),
);

/** What may arrive instead of a message: any text, any JSON, a valid message with a key too many. */
const noise = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.json(),
  message.map((m) => JSON.stringify({ ...m, extra: 1 })),
  message.map((m) => JSON.stringify(m).slice(0, -1)),
);

describe('parseServerMessage', () => {
  it('returns every message the till can send, unchanged', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(parseServerMessage(JSON.stringify(m))).toEqual(ServerMessageSchema.parse(m));
      }),
      { numRuns: 300 },
    );
  });

  it('given any text, returns a valid message or nothing, and never throws', () => {
    fc.assert(
      fc.property(noise, (text) => {
        const parsed = parseServerMessage(text);
        if (parsed !== undefined) expect(ServerMessageSchema.safeParse(parsed).success).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('ignores a message with an unknown key, a cut-off one, and frames that are not text', () => {
    const ready = { type: 'ready', queue: { online: true, waiting: 0, oldestAgeMs: null, failed: 0 } };
    expect(parseServerMessage(JSON.stringify(ready))).toEqual(ready);
    expect(parseServerMessage(JSON.stringify({ ...ready, extra: 1 }))).toBeUndefined();
    expect(parseServerMessage(JSON.stringify(ready).slice(0, -1))).toBeUndefined();
    expect(parseServerMessage(new ArrayBuffer(8))).toBeUndefined();
    expect(parseServerMessage(undefined)).toBeUndefined();
  });
});
