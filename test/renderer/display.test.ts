// The customer display's parts that run without a browser: the QR code (drawn from uqr's matrix and
// read back by jsQR, a decoder that shares no code with it), the reconnect backoff, the token in the
// URL fragment, the catalogues and Intl formatting, and the display's flow state.
import fc from 'fast-check';
import jsqr from 'jsqr';
import { encode } from 'uqr';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FlowEvent } from '../../contract/till-events.ts';
import { qrPath } from '../../renderer/src/display/qr.tsx';
import { RESULT_SHOWN_MS, flow, onMessage } from '../../renderer/src/display/state.ts';
import { reconnectDelay } from '../../renderer/src/shared/events.ts';
import { textsFor } from '../../renderer/src/shared/i18n.ts';
import { tokenFromFragment } from '../../renderer/src/shared/launch.ts';
import { ar } from '../../renderer/src/messages/ar.ts';
import { en } from '../../renderer/src/messages/en.ts';

const SCALE = 4;

/** Paints the path's unit squares (M x y h1v1h-1z) black on white, SCALE pixels a module, as RGBA. */
function paint(path: string, size: number): Uint8ClampedArray {
  const width = size * SCALE;
  const pixels = new Uint8ClampedArray(width * width * 4).fill(255);
  for (const [, x, y] of path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
    for (let dy = 0; dy < SCALE; dy++)
      for (let dx = 0; dx < SCALE; dx++) {
        const i = ((Number(y) * SCALE + dy) * width + Number(x) * SCALE + dx) * 4;
        pixels.fill(0, i, i + 3);
      }
  }
  return pixels;
}

describe('the QR code', () => {
  it('decodes to the claim URL it was drawn from, at error correction H with a 4-module quiet zone', () => {
    const url = fc.tuple(fc.webUrl(), fc.uuid()).map(([base, id]) => `${base}/c/${id}`);
    fc.assert(
      fc.property(url, (text) => {
        const { data, size } = encode(text, { ecc: 'H', border: 4 });
        expect(data[0]!.every((dark) => !dark)).toBe(true); // the quiet zone
        expect(jsqr.default(paint(qrPath(data), size), size * SCALE, size * SCALE)?.data).toBe(text);
      }),
      { numRuns: 25 },
    );
  });
});

describe('reconnectDelay', () => {
  it('grows from half a second, never past 30 s, with at most 20% jitter taken off', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (n, r) => {
          const base = Math.min(30_000, 500 * 2 ** Math.min(n, 16));
          const delay = reconnectDelay(n, () => r);
          expect(delay).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
          expect(delay).toBeLessThanOrEqual(base);
          expect(reconnectDelay(n + 1, () => 0)).toBeGreaterThanOrEqual(reconnectDelay(n, () => 0));
        },
      ),
    );
    expect(reconnectDelay(0, () => 0)).toBe(500);
    expect(reconnectDelay(100, () => 0)).toBe(30_000);
  });
});

describe('tokenFromFragment', () => {
  it('reads #token=..., whatever the token holds, and nothing else', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (token) => {
        expect(tokenFromFragment(`#token=${encodeURIComponent(token)}`)).toBe(token);
      }),
    );
    expect(tokenFromFragment('')).toBeUndefined();
    expect(tokenFromFragment('#')).toBeUndefined();
    expect(tokenFromFragment('#token=')).toBeUndefined();
    expect(tokenFromFragment('#other=abc')).toBeUndefined();
  });
});

describe('texts', () => {
  const keys = (o: object): string[] =>
    Object.entries(o).flatMap(([k, v]) =>
      typeof v === 'object' ? keys(v as object).map((s) => `${k}.${s}`) : [k],
    );

  it('has every English key in Arabic, and no other', () => {
    expect(keys(ar).sort()).toEqual(keys(en).sort());
  });

  it('chooses the catalogue and direction by the locale, and formats with Intl in it', () => {
    const au = textsFor('en-AU');
    expect([au.lang, au.dir]).toEqual(['en', 'ltr']);
    expect(au.money(250, 'AUD')).toBe('$2.50');
    expect(au.money(1234, 'JPY')).toBe('JPY\u00a01,234');
    const sd = textsFor('ar-SD');
    expect([sd.lang, sd.dir, sd.messages]).toEqual(['ar', 'rtl', ar]);
    expect(textsFor('fr-FR').lang).toBe('en'); // no French catalogue yet...
    expect(textsFor('fr-FR').money(250, 'EUR')).toBe('2,50\u00a0€'); // ...but French amounts
    expect(textsFor('not a locale!').locale).toBe('en');
    expect(au.fill(en.display.earned, { amount: '$2.50' })).toBe('You earned \u2068$2.50\u2069 cashback');
  });
});

describe('the display state', () => {
  afterEach(() => {
    vi.useRealTimers();
    flow.value = null;
  });
  const event = (over: Partial<FlowEvent>): FlowEvent => ({
    flowId: 'f1',
    kind: 'earn',
    step: 'identify',
    outcome: null,
    prompt: { cashier: 'present_card_or_code', customer: 'swipe_card' },
    amount: { minor: 5000, currency: 'AUD' },
    member: null,
    operationId: null,
    result: null,
    claim: null,
    codeSentTo: null,
    error: null,
    at: 1,
    ...over,
  });

  it('shows each flow event, keeps a result on screen for a while, then goes back to idle', () => {
    vi.useFakeTimers();
    onMessage({ type: 'flow', flow: event({}) });
    expect(flow.value?.step).toBe('identify');
    onMessage({ type: 'queue_state', queue: { online: true, waiting: 0, oldestAgeMs: null, failed: 0 } });
    expect(flow.value?.step).toBe('identify');
    onMessage({ type: 'flow', flow: event({ step: 'done', outcome: 'done', at: 3 }) });
    onMessage({ type: 'flow', flow: event({ step: 'delivering', at: 2 }) }); // late: ignored
    expect(flow.value?.step).toBe('done');
    vi.advanceTimersByTime(RESULT_SHOWN_MS - 1);
    expect(flow.value?.step).toBe('done');
    vi.advanceTimersByTime(1);
    expect(flow.value).toBeNull();
  });

  it('replaces a shown result at once with the next flow, which the old timer leaves alone', () => {
    vi.useFakeTimers();
    onMessage({ type: 'flow', flow: event({ step: 'done', outcome: 'done', at: 3 }) });
    vi.advanceTimersByTime(1000);
    onMessage({ type: 'flow', flow: event({ flowId: 'f2', at: 4 }) });
    vi.advanceTimersByTime(RESULT_SHOWN_MS);
    expect(flow.value?.flowId).toBe('f2');
  });
});
