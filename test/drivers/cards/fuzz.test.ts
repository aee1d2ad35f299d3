// Property tests: every decoder returns a CardRead / value or a coded CardError for any input, never
// throws and never hangs; corrupt tracks never yield a card that differs from the real one.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SerialLineSplitter, classifyScan, luhnCheckDigit } from '../../../drivers/cards/barcode.ts';
import { CARD_ERROR_CODES, CardError, type Result } from '../../../drivers/cards/errors.ts';
import {
  HidKeyboardDecoder,
  KeyEventDecoder,
  KeyboardWedgeAssembler,
} from '../../../drivers/cards/hid-keyboard.ts';
import { MAGTEK_REPORT_SIZE, decodeMagtekCard } from '../../../drivers/cards/magtek-hid.ts';
import {
  CardRead,
  decodeSwipe,
  decodeTrack,
  fromRawCodes,
  type DecodeOptions,
} from '../../../drivers/cards/magstripe.ts';
import { T1, T2, renderings, summary, withLrc } from './fixtures.ts';

const CODES = new Set<string>(CARD_ERROR_CODES);
const HANG_MS = 500;

/** Runs fn, failing on a throw, a slow call, or a result that is neither ok nor a coded error. */
function coded<T>(fn: () => Result<T>): Result<T> {
  const t0 = performance.now();
  const r = fn();
  expect(performance.now() - t0).toBeLessThan(HANG_MS);
  if (!r.ok) {
    expect(r.error).toBeInstanceOf(CardError);
    expect(CODES.has(r.error.code)).toBe(true);
  }
  return r;
}

const digits = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });
const letters = (min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ'), minLength: min, maxLength: max });
const pad2 = (n: number) => String(n).padStart(2, '0');

const panArb = fc.integer({ min: 11, max: 18 }).chain((n) => digits(n, n).map((b) => b + luhnCheckDigit(b)));
const expiryArb = fc.tuple(fc.integer({ min: 0, max: 99 }), fc.integer({ min: 1, max: 12 }));
const track1Chars = [...' !"#$&\'()*+,-./0123456789:;<=>@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]_'];

interface Fields {
  pan: string;
  yy: number;
  mm: number;
  sc: string;
  name: string;
  disc: string;
}
const fieldsArb = fc.record({
  pan: panArb,
  yy: expiryArb.map(([y]) => y),
  mm: expiryArb.map(([, m]) => m),
  sc: digits(3, 3),
  name: fc.tuple(letters(1, 12), letters(1, 12)).map(([s, g]) => `${s}/${g}`),
  disc: fc.string({ unit: fc.constantFrom(...track1Chars), maxLength: 50 }),
});

/** A valid track (no LRC) from fields, within the ISO 7813 length with room for an LRC. */
function build(track: 1 | 2, f: Fields): string {
  const head =
    track === 1
      ? `%B${f.pan}^${f.name}^${pad2(f.yy)}${pad2(f.mm)}${f.sc}`
      : `;${f.pan}=${pad2(f.yy)}${pad2(f.mm)}${f.sc}`;
  const room = (track === 1 ? 79 : 40) - head.length - 2;
  const disc = (track === 1 ? f.disc : f.disc.replace(/\D/g, '')).slice(0, Math.max(0, room));
  return `${head}${disc}?`;
}
const trackArb = fc.tuple(fc.constantFrom(1 as const, 2 as const), fieldsArb).map(([t, f]) => ({
  track: t,
  f,
  text: build(t, f),
  prefixLen: build(t, { ...f, disc: '' }).length - 1, // up to and including the service code
}));

const anyChar = fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c));
const sub = (s: string, i: number, c: string) => s.slice(0, i) + c + s.slice(i + 1);
const same = (a: CardRead, b: CardRead) => JSON.stringify(summary(a)) === JSON.stringify(summary(b));

describe('magstripe properties', () => {
  it('arbitrary strings: a card or a coded error, quickly', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: fc.constantFrom(...'%;?^=B0123456789/ A\r\n'), maxLength: 120 }),
          fc.string({ maxLength: 5000 }),
        ),
        fc.boolean(),
        (s, requireLrc) => {
          const opts: DecodeOptions = { requireLrc, now: new Date('2020-01-01T00:00:00Z') };
          const r = coded(() => decodeTrack(s, opts));
          if (r.ok) expect(r.value).toBeInstanceOf(CardRead);
          coded(() => decodeSwipe(s, opts));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('raw stripe codes: arbitrary byte arrays never throw', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1 as const, 2 as const),
        fc.array(fc.integer({ min: -2, max: 300 })),
        (t, a) => {
          coded(() => fromRawCodes(t, a));
        },
      ),
    );
  });

  it('generated valid tracks round-trip, with and without LRC, and never render their PAN', () => {
    fc.assert(
      fc.property(trackArb, ({ track, f, text }) => {
        for (const t of [text, withLrc(track, text)]) {
          const r = coded(() => decodeTrack(t));
          expect(r.ok).toBe(true);
          if (!r.ok) return;
          expect(summary(r.value)).toEqual({
            track,
            pan: f.pan,
            panMasked: `${f.pan.slice(0, 6)}${'*'.repeat(f.pan.length - 10)}${f.pan.slice(-4)}`,
            expiry: { year: 2000 + f.yy, month: f.mm },
            serviceCode: f.sc,
            name: track === 1 ? f.name : null,
          });
          for (const s of renderings(r.value)) expect(s).not.toContain(f.pan);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('with the LRC required, every single-character substitution is rejected', () => {
    fc.assert(
      fc.property(trackArb, fc.nat(), anyChar, ({ track, text }, pos, c) => {
        const t = withLrc(track, text);
        const i = pos % t.length;
        fc.pre(t[i] !== c);
        const r = coded(() => decodeTrack(sub(t, i, c), { requireLrc: true }));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('without LRC, a substitution never yields a different PAN; before the discretionary data it is rejected or changes the read', () => {
    fc.assert(
      fc.property(trackArb, fc.nat(), anyChar, ({ text, prefixLen }, pos, c) => {
        const i = pos % text.length;
        fc.pre(text[i] !== c);
        const orig = decodeTrack(text);
        const r = coded(() => decodeTrack(sub(text, i, c)));
        if (!r.ok || !orig.ok) return;
        expect(r.value.samePanAs(orig.value)).toBe(true);
        if (i < prefixLen) expect(same(r.value, orig.value)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('the DESIGN.md vectors, exhaustively: every position, every ASCII substitution', () => {
    let checked = 0;
    for (const [n, t] of [
      [1, T1],
      [2, T2],
    ] as const) {
      const orig = decodeTrack(t);
      if (!orig.ok) throw new Error('vector must decode');
      const prefixLen = n === 1 ? T1.indexOf('^', T1.indexOf('^') + 1) + 8 : T2.indexOf('=') + 8;
      const lrc = withLrc(n, t);
      for (let i = 0; i < lrc.length; i++) {
        for (let c = 0; c < 0x80; c++) {
          const ch = String.fromCharCode(c);
          if (lrc[i] === ch) continue;
          expect(decodeTrack(sub(lrc, i, ch), { requireLrc: true }).ok).toBe(false);
          if (i >= t.length) continue;
          const r = decodeTrack(sub(t, i, ch));
          if (r.ok) {
            expect(r.value.samePanAs(orig.value)).toBe(true);
            expect(i >= prefixLen || !same(r.value, orig.value)).toBe(true);
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(10_000);
  });
});

describe('HID and key event properties', () => {
  it('arbitrary report streams: characters or bad_report, never a throw', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.uint8Array({ minLength: 8, maxLength: 8 }), fc.uint8Array({ maxLength: 16 })), {
          maxLength: 60,
        }),
        (reports) => {
          const d = new HidKeyboardDecoder();
          for (const rep of reports) {
            const r = coded(() => d.push(rep));
            if (!r.ok) expect(r.error.code).toBe('bad_report');
            else expect(rep.length).toBe(8);
          }
        },
      ),
    );
  });

  it('arbitrary key events and clock jumps through the assembler never throw; lines stay bounded', () => {
    const ev = fc.record(
      {
        type: fc.constantFrom('keydown', 'keyup', 'keypress'),
        code: fc.oneof(
          fc.string(),
          fc.constantFrom('ShiftLeft', 'ShiftRight', 'Digit5', 'Slash', 'Enter', 'KeyB'),
        ),
        key: fc.string(),
        shiftKey: fc.boolean(),
        repeat: fc.boolean(),
      },
      { requiredKeys: ['code'] },
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(ev, fc.nat({ max: 300 })), { maxLength: 200 }), (events) => {
        const clock = { t: 0 };
        const a = new KeyboardWedgeAssembler({ clock: () => clock.t, maxLength: 40, idleMs: 100 });
        new KeyEventDecoder().push({ code: 'x' });
        for (const [e, dt] of events) {
          clock.t += dt;
          for (const l of [...a.pushKeyEvent(e), ...a.tick()]) {
            expect(l.text.length).toBeLessThanOrEqual(40);
            if (l.error) expect(l.error.code).toBe('overflow');
          }
        }
      }),
    );
  });
});

describe('MagTek and barcode properties', () => {
  it('arbitrary MagTek reports: parsed or a coded error', () => {
    const sized = fc
      .tuple(
        fc.uint8Array({ minLength: MAGTEK_REPORT_SIZE, maxLength: MAGTEK_REPORT_SIZE }),
        fc.array(fc.integer({ min: 0, max: 120 }), { minLength: 3, maxLength: 3 }),
        fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }),
      )
      .map(([b, lens, st]) => {
        const out = Uint8Array.from(b);
        lens.forEach((l, i) => (out[3 + i] = l));
        st.forEach((s, i) => (out[i] = s));
        return out;
      });
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 400 }), sized), fc.boolean(), (bytes, reportId) => {
        coded(() => decodeMagtekCard(bytes, { reportId }));
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary scans classify or fail with a code; serial splitting does not depend on chunking', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.array(fc.nat({ max: 200 })), (s, cuts) => {
        coded(() => classifyScan(s));
        const whole = new SerialLineSplitter().push(s);
        const parts = new SerialLineSplitter();
        const points = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((x, y) => x - y);
        const lines: string[] = [];
        let prev = 0;
        for (const p of [...points, s.length]) {
          lines.push(...parts.push(s.slice(prev, p)).lines);
          prev = p;
        }
        expect(lines).toEqual(whole.lines);
      }),
    );
  });
});
