// The cashier screen's parts that run without a browser: the amount typed from digits (fast-check
// against a BigInt model: always a bounded safe integer, never a float), the keyboard's keypad keys,
// the flow's progress for every step the machines have, the terminals line, the result's words, the
// sign-in's errors, and the API client against a real HTTP server on 127.0.0.1.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FLOW_KINDS, type FlowEvent } from '../../contract/till-events.ts';
import { amountOf, MAX_DIGITS, pressKey } from '../../renderer/src/cashier/amount.ts';
import { PHASES, phasesOf } from '../../renderer/src/cashier/phases.ts';
import { resultLines } from '../../renderer/src/cashier/result.ts';
import { terminalCounts } from '../../renderer/src/cashier/terminals.ts';
import { ApiError, apiFetch, errorFromAnswer, UNREACHABLE } from '../../renderer/src/shared/api.ts';
import { isNewerFlow } from '../../renderer/src/shared/flows.ts';
import { textsFor } from '../../renderer/src/shared/i18n.ts';
import { keypadKeyOf, type KeypadKey } from '../../renderer/src/shared/keypad.tsx';
import { lockedUntil, signInError } from '../../renderer/src/shared/sign-in.tsx';

const KEYS: KeypadKey[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'back', 'clear'];
const key = fc.constantFrom(...KEYS);

/** The amount a key sequence means, computed independently: BigInt arithmetic on the digits. */
function model(keys: KeypadKey[]): bigint {
  let value = 0n;
  let digits = 0;
  for (const k of keys) {
    if (k === 'clear') [value, digits] = [0n, 0];
    else if (k === 'back') {
      value /= 10n;
      digits = value === 0n ? 0 : digits - 1;
    } else if (digits < MAX_DIGITS && !(value === 0n && k === '0')) {
      value = value * 10n + BigInt(k);
      digits += 1;
    }
  }
  return value;
}

describe('the amount typed from digits', () => {
  it('is the integer the digits spell in minor units, bounded, never a float (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(key, { maxLength: 40 }), (keys) => {
        const digits = keys.reduce(pressKey, '');
        const minor = amountOf(digits);
        expect(Number.isSafeInteger(minor)).toBe(true);
        expect(minor).toBeGreaterThanOrEqual(0);
        expect(minor).toBeLessThan(10 ** MAX_DIGITS);
        expect(digits).toMatch(/^(?:[1-9]\d*)?$/);
        expect(BigInt(minor)).toBe(model(keys));
      }),
      { numRuns: 2_000 },
    );
  });

  it('reads 5 0 0 0 as 5000 minor units, stops at 12 digits, and deletes and clears', () => {
    const typed = (keys: string) => [...keys].reduce((d, k) => pressKey(d, k as KeypadKey), '');
    expect(amountOf(typed('5000'))).toBe(5_000);
    expect(amountOf(typed('0005'))).toBe(5);
    expect(typed('9'.repeat(20))).toBe('9'.repeat(12));
    expect(pressKey('123', 'back')).toBe('12');
    expect(pressKey('', 'back')).toBe('');
    expect(pressKey('123', 'clear')).toBe('');
  });

  it('refuses text that is not an amount', () => {
    for (const bad of ['0', '01', '1.5', '-1', '1e3', ' 1', '1234567890123'])
      expect(() => amountOf(bad), bad).toThrow();
  });

  it('takes digits, Backspace and Delete from the keyboard, and nothing else', () => {
    expect([...'0123456789'].map(keypadKeyOf)).toEqual([...'0123456789']);
    expect(keypadKeyOf('Backspace')).toBe('back');
    expect(keypadKeyOf('Delete')).toBe('clear');
    for (const other of ['a', '.', 'Enter', 'F1', '٥', ' ', '10']) expect(keypadKeyOf(other)).toBeUndefined();
  });
});

/** Every step each machine can be in (till/flows/*.ts), final ones included. */
const STEPS: Record<string, string[]> = {
  earn: ['identify', 'enqueueing', 'delivering'],
  redeem: ['identify', 'pin', 'otp_sending', 'otp', 'otp_verifying', 'redeeming'],
  refund: ['finding', 'identify', 'enqueueing', 'delivering'],
  cashout: ['identify', 'creating', 'following', 'cancelling'],
};
const FINAL = ['done', 'failed', 'cancelled'];

describe("a flow's progress", () => {
  it('has exactly one current phase while running, the ones before it done, and all done at the end', () => {
    for (const kind of FLOW_KINDS) {
      for (const step of STEPS[kind]!) {
        const phases = phasesOf({ kind, step });
        const states = phases.map((p) => p.state);
        expect(
          states.filter((s) => s === 'current'),
          `${kind} ${step}`,
        ).toHaveLength(1);
        const at = states.indexOf('current');
        expect(states.slice(0, at).every((s) => s === 'done')).toBe(true);
        expect(states.slice(at + 1).every((s) => s === 'todo')).toBe(true);
        expect(at).toBeLessThan(phases.length - 1); // the result is not reached while running
      }
      for (const step of FINAL)
        expect(
          phasesOf({ kind, step }).every((p) => p.state === 'done'),
          `${kind} ${step}`,
        ).toBe(true);
    }
  });

  it('moves forward through a flow, and shows no progress for a step it does not know', () => {
    const order = (kind: 'redeem', steps: string[]) =>
      steps.map((step) => phasesOf({ kind, step }).findIndex((p) => p.state === 'current'));
    expect(order('redeem', ['identify', 'pin', 'redeeming'])).toEqual([0, 1, 2]);
    expect(phasesOf({ kind: 'earn', step: 'teleporting' }).every((p) => p.state === 'todo')).toBe(true);
    expect(PHASES.cashout).toContain('claim');
  });
});

describe('the terminals line', () => {
  it('counts the devices a driver claims, leaves out closed ones, and names those not connected', () => {
    const device = (id: string, state: string, driver: string | null = 'd', label?: string) =>
      ({ id, kind: 'card_reader', driver, link: 'serial', path: `/dev/${id}`, state, label }) as const;
    expect(
      terminalCounts([
        device('ttyS0', 'present', null),
        device('r1', 'connected'),
        device('p1', 'disconnected', 'pinpad', 'PIN pad'),
        device('old', 'closed'),
      ] as never),
    ).toEqual({ connected: 1, total: 2, down: [{ name: 'PIN pad', state: 'disconnected' }] });
    expect(terminalCounts([])).toEqual({ connected: 0, total: 0, down: [] });
  });
});

const flowEvent = (over: Partial<FlowEvent>): FlowEvent => ({
  flowId: 'f1',
  kind: 'earn',
  step: 'done',
  outcome: 'done',
  prompt: { cashier: 'done', customer: 'thank_you' },
  amount: { minor: 5_000, currency: 'AUD' },
  member: null,
  operationId: null,
  result: null,
  claim: null,
  codeSentTo: null,
  error: null,
  at: 1,
  ...over,
});

describe('which flow event the screen shows', () => {
  const running = flowEvent({ step: 'finding', outcome: null, at: 100 });
  const failed = flowEvent({ step: 'failed', outcome: 'failed', at: 100 });

  it("never replaces a flow's final event with its own earlier one, even from the same millisecond", () => {
    // The start's answer (finding) crossing the stream's failed, both stamped at 100.
    expect(isNewerFlow(failed, running, false)).toBe(false);
    expect(isNewerFlow(failed, running, true)).toBe(false);
    expect(isNewerFlow(running, failed, true)).toBe(true);
  });

  it("takes the stream's events of a running flow in order, and an answer only when strictly newer", () => {
    const later = flowEvent({ step: 'enqueueing', outcome: null, at: 100 });
    expect(isNewerFlow(running, later, true)).toBe(true);
    expect(isNewerFlow(later, running, false)).toBe(false);
    expect(isNewerFlow(running, { ...later, at: 101 }, false)).toBe(true);
    expect(isNewerFlow(null, running, false)).toBe(true);
  });

  it('shows a newer flow over a finished one, never an older flow over a newer one', () => {
    const next = flowEvent({ flowId: 'f2', step: 'identify', outcome: null, at: 200 });
    expect(isNewerFlow(failed, next, true)).toBe(true);
    expect(isNewerFlow(next, failed, false)).toBe(false);
  });
});

describe("a result's words", () => {
  const en = textsFor('en-AU');
  const plain = (lines: string[]) => lines.map((l) => l.replace(/[\u2068\u2069]/g, ''));

  it('says an earn queued offline, and one delivered with its cashback', () => {
    expect(plain(resultLines(en, flowEvent({ result: { queued: true, note: 'sent later' } })))).toEqual([
      en.messages.cashier.queuedOffline,
      'sent later',
    ]);
    expect(plain(resultLines(en, flowEvent({ result: { queued: false, cashback: 250 } })))).toEqual([
      'Cashback earned: $2.50',
    ]);
  });

  it('says a refund with what was taken back, and a redeem with the balance, in the locale', () => {
    const refund = flowEvent({ kind: 'refund', amount: { minor: 2_000, currency: 'AUD' } });
    expect(plain(resultLines(en, { ...refund, result: { queued: false, clawback: 100 } }))).toEqual([
      'Refunded: $20.00',
      'Cashback taken back: $1.00',
    ]);
    const ar = textsFor('ar-TN');
    const redeem = flowEvent({ kind: 'redeem', amount: { minor: 1_500, currency: 'TND' } });
    const lines = plain(
      resultLines(ar, { ...redeem, result: { queued: false, redeemed: 1_500, available: 0 } }),
    );
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(
      new Intl.NumberFormat('ar-TN', { style: 'currency', currency: 'TND' }).format(1.5),
    );
    expect(resultLines(en, flowEvent({ outcome: 'failed', step: 'failed' }))).toEqual([]);
  });
});

describe("the sign-in's errors", () => {
  const en = textsFor('en-AU');
  it('says a wrong PIN, a lock with its end in the locale, a till that does not answer', () => {
    expect(signInError(en, new ApiError(401, 'pin_invalid', 'Unknown operator or wrong PIN'))).toBe(
      en.messages.signIn.wrongPin,
    );
    const locked = new ApiError(
      423,
      'pin_locked',
      'Too many wrong PINs; locked until 2026-11-30T14:45:00.000Z',
    );
    expect(lockedUntil(locked.message)).toBe('2026-11-30T14:45:00.000Z');
    expect(signInError(en, locked).replace(/[\u2068\u2069]/g, '')).toBe(
      `Too many wrong PINs: this operator is locked until ${en.time('2026-11-30T14:45:00.000Z')}. A manager can set a new PIN to unlock.`,
    );
    expect(signInError(en, new ApiError(423, 'pin_locked', 'Locked'))).toBe(en.messages.signIn.lockedNoTime);
    expect(signInError(en, new ApiError(0, UNREACHABLE, 'x'))).toBe(en.messages.signIn.unreachable);
  });

  it('finds a lock time only where the message names a real one', () => {
    fc.assert(
      fc.property(fc.string(), (message) => {
        const found = lockedUntil(message);
        if (found !== undefined) expect(Number.isNaN(Date.parse(found))).toBe(false);
      }),
    );
    expect(lockedUntil('locked until 2026-13-45T99:99:99Z')).toBeUndefined();
  });
});

describe('the API client against a real HTTP server', () => {
  let server: Server;
  let base: string;
  const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', headers: req.headers, body });
        const send = (status: number, text: string) => res.writeHead(status).end(text);
        if (req.url === '/ok') send(200, JSON.stringify({ flow: 'x', extra: 1 }));
        else if (req.url === '/refused')
          send(409, JSON.stringify({ error: { code: 'flow_busy', message: 'A earn is in progress' } }));
        else if (req.url === '/html') send(502, '<html>bad gateway</html>');
        else if (req.url === '/wrong-shape') send(200, JSON.stringify({ flow: 42 }));
        else if (req.url === '/empty') send(204, '');
        else send(404, 'no');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const schema = z.object({ flow: z.string() });

  it('sends the launch token, the session and a JSON body, and reads the answer through its schema', async () => {
    expect(await apiFetch('tok', 'sess', `${base}/ok`, { body: { amount: 5 }, schema })).toEqual({
      flow: 'x',
    });
    const request = seen.at(-1)!;
    expect(request.headers).toMatchObject({
      authorization: 'Bearer tok',
      'x-operator-session': 'sess',
      'content-type': 'application/json',
    });
    expect(JSON.parse(request.body)).toEqual({ amount: 5 });
    expect(await apiFetch('tok', undefined, `${base}/empty`, { method: 'POST' })).toBeUndefined();
    expect(seen.at(-1)!.headers).not.toHaveProperty('x-operator-session');
  });

  it("turns the till's refusal, a foreign error page, a wrong shape and no answer into ApiErrors", async () => {
    const failure = (path: string, url = `${base}${path}`) =>
      apiFetch('tok', undefined, url, { schema }).then(
        () => expect.unreachable(),
        (e: unknown) => e as ApiError,
      );
    expect(await failure('/refused')).toMatchObject({
      status: 409,
      code: 'flow_busy',
      message: 'A earn is in progress',
    });
    expect(await failure('/html')).toMatchObject({ status: 502, code: 'http_502' });
    expect(await failure('/wrong-shape')).toMatchObject({ status: 200, code: 'bad_answer' });
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await failure('', `http://127.0.0.1:${port}/ok`)).toMatchObject({ status: 0, code: UNREACHABLE });
  });

  it('reads any error body as an ApiError, never a throw (fast-check)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 400, max: 599 }), fc.oneof(fc.string(), fc.json()), (status, text) => {
        const e = errorFromAnswer(status, text);
        expect(e).toBeInstanceOf(ApiError);
        expect(e.status).toBe(status);
        expect(e.code.length).toBeGreaterThan(0);
      }),
    );
  });
});
