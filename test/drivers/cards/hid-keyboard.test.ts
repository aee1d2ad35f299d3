import { describe, expect, it } from 'vitest';
import {
  HidKeyboardDecoder,
  KeyEventDecoder,
  KeyboardWedgeAssembler,
  MOD_RIGHT_SHIFT,
  usageToChar,
  type WedgeLine,
} from '../../../drivers/cards/hid-keyboard.ts';
import { decodeSwipe, decodeTrack } from '../../../drivers/cards/magstripe.ts';
import { T1, T2, hidReports, keyEvents, leaksPan, summary } from './fixtures.ts';

const typed = (d: HidKeyboardDecoder, reports: Uint8Array[]): string =>
  reports
    .map((r) => {
      const x = d.push(r);
      if (!x.ok) throw new Error(x.error.code);
      return x.value;
    })
    .join('');

function clock(start = 1000) {
  const c = { t: start, now: () => c.t };
  return c;
}

/** Lines with their text revealed, for comparing. */
const plain = (lines: WedgeLine[]) =>
  lines.map((l) => ({
    text: l.text.reveal((t) => t),
    reason: l.reason,
    ...(l.error ? { code: l.error.code } : {}),
  }));

function assemble(feed: (a: KeyboardWedgeAssembler) => WedgeLine[]) {
  const c = clock();
  return plain(feed(new KeyboardWedgeAssembler({ clock: c.now })));
}

describe('US usage table', () => {
  it('maps the keys a card reader types', () => {
    expect(usageToChar(0x04, false)).toBe('a');
    expect(usageToChar(0x1d, true)).toBe('Z');
    expect(usageToChar(0x1e, false)).toBe('1');
    expect(usageToChar(0x27, false)).toBe('0');
    expect(usageToChar(0x22, true)).toBe('%');
    expect(usageToChar(0x23, true)).toBe('^');
    expect(usageToChar(0x38, true)).toBe('?');
    expect(usageToChar(0x38, false)).toBe('/');
    expect(usageToChar(0x33, false)).toBe(';');
    expect(usageToChar(0x2e, false)).toBe('=');
    expect(usageToChar(0x2c, false)).toBe(' ');
    expect(usageToChar(0x2d, false)).toBe('-');
    expect(usageToChar(0x37, false)).toBe('.');
    expect(usageToChar(0x28, false)).toBe('\n');
    expect(usageToChar(0xe1, false)).toBeNull();
  });
});

describe('HID boot keyboard reports', () => {
  it('types the track 2 vector from press/release reports', () => {
    expect(typed(new HidKeyboardDecoder(), hidReports(T2))).toBe(T2);
    expect(typed(new HidKeyboardDecoder(), hidReports(T1, MOD_RIGHT_SHIFT))).toBe(T1);
  });

  it('a key counts on press, not while held; released and pressed again it counts again', () => {
    const d = new HidKeyboardDecoder();
    const five = Uint8Array.of(0, 0, 0x22, 0, 0, 0, 0, 0);
    expect(typed(d, [five, five, five])).toBe('5');
    expect(typed(d, [new Uint8Array(8), five])).toBe('5');
    // Rolling over: 1 held while 2 goes down types only 2; then 1 up, 2 still held: nothing.
    const d2 = new HidKeyboardDecoder();
    expect(
      typed(d2, [Uint8Array.of(0, 0, 0x1e, 0, 0, 0, 0, 0), Uint8Array.of(0, 0, 0x1e, 0x1f, 0, 0, 0, 0)]),
    ).toBe('12');
    expect(typed(d2, [Uint8Array.of(0, 0, 0x1f, 0, 0, 0, 0, 0)])).toBe('');
  });

  it('ignores ErrorRollOver reports and keys a reader does not use', () => {
    const d = new HidKeyboardDecoder();
    expect(
      typed(d, [Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1), Uint8Array.of(0, 0, 0xe1, 0x3a, 0, 0, 0, 0)]),
    ).toBe('');
    d.reset();
    expect(typed(d, [Uint8Array.of(2, 0, 0x04, 0, 0, 0, 0, 0)])).toBe('A');
  });

  it('refuses a report that is not 8 bytes with bad_report', () => {
    const r = new HidKeyboardDecoder().push(new Uint8Array(7));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('bad_report');
  });
});

describe('browser key events by code', () => {
  it('types the vectors from code, ignoring a layout-dependent key', () => {
    const d = new KeyEventDecoder();
    expect(
      keyEvents(T2)
        .map((e) => d.push(e))
        .join(''),
    ).toBe(T2);
    expect(
      keyEvents(T1)
        .map((e) => d.push(e))
        .join(''),
    ).toBe(T1);
  });

  it('tracks ShiftLeft/ShiftRight when shiftKey is absent; ignores repeats and unknown codes', () => {
    const d = new KeyEventDecoder();
    const out = [
      { type: 'keydown', code: 'ShiftRight' },
      { type: 'keydown', code: 'Digit5' },
      { type: 'keydown', code: 'Digit5', repeat: true },
      { type: 'keyup', code: 'ShiftRight' },
      { type: 'keydown', code: 'Digit5' },
      { type: 'keydown', code: 'F13' },
      { code: 'KeyB' },
    ]
      .map((e) => d.push(e))
      .join('');
    expect(out).toBe('%5b');
  });
});

describe('KeyboardWedgeAssembler', () => {
  it('HID reports typing track 2 + Enter decode to the same CardRead as the text', () => {
    const lines = assemble((a) =>
      hidReports(`${T2}\n`).flatMap((r) => {
        const x = a.pushReport(r);
        if (!x.ok) throw new Error(x.error.code);
        return x.value;
      }),
    );
    expect(lines).toEqual([{ text: T2, reason: 'enter' }]);
    const direct = decodeTrack(T2);
    const viaHid = decodeTrack(lines[0]!.text);
    expect(lines[0]!.text).toBe(T2);
    expect(direct.ok && viaHid.ok).toBe(true);
    if (direct.ok && viaHid.ok) expect(summary(viaHid.value)).toEqual(summary(direct.value));
  });

  it('browser events typing both tracks + Enter decode to the same swipe', () => {
    const lines = assemble((a) => keyEvents(`${T1}${T2}\n`).flatMap((e) => a.pushKeyEvent(e)));
    expect(lines).toHaveLength(1);
    const sw = decodeSwipe(lines[0]!.text);
    expect(sw.ok).toBe(true);
    if (sw.ok) {
      expect(sw.value.tracks.map((t) => t.track)).toEqual([1, 2]);
      expect(sw.value.card.withPan((p) => p)).toBe('5350290149345177');
    }
  });

  it('ends a line by an idle gap from the injected clock', () => {
    const c = clock();
    const a = new KeyboardWedgeAssembler({ clock: c.now, idleMs: 50 });
    expect(plain(a.pushChars(T2))).toEqual([]);
    expect(a.pending).toBe(T2.length);
    c.t += 49;
    expect(a.tick()).toEqual([]);
    c.t += 1;
    const [line] = a.tick();
    expect(plain([line!])).toEqual([{ text: T2, reason: 'idle' }]);
    expect(leaksPan(line)).toBe(false);
    expect(String(line!.text)).toBe(`SecretText(${T2.length} chars)`);
    expect(a.tick()).toEqual([]);
    // A new keystroke after the gap first ends the old line.
    a.pushChars(';12');
    c.t += 100;
    expect(plain(a.pushChars(';3'))).toEqual([{ text: ';12', reason: 'idle' }]);
  });

  it('CR and LF both end a line; empty lines are dropped', () => {
    expect(assemble((a) => a.pushChars('\r\nab\r\ncd\n'))).toEqual([
      { text: 'ab', reason: 'enter' },
      { text: 'cd', reason: 'enter' },
    ]);
  });

  it('reports overflow once and drops the rest of that line', () => {
    const c = clock();
    const a = new KeyboardWedgeAssembler({ clock: c.now, maxLength: 5 });
    expect(plain(a.pushChars('0123456789\nok\n'))).toEqual([
      { text: '', reason: 'overflow', code: 'overflow' },
      { text: 'ok', reason: 'enter' },
    ]);
    a.pushChars('0123456789');
    c.t += 1000;
    expect(a.tick()).toEqual([]);
    expect(plain(a.pushChars('x\n'))).toEqual([{ text: 'x', reason: 'enter' }]);
  });

  it('passes bad_report through', () => {
    const r = assemble((a) => {
      const x = a.pushReport([1, 2, 3]);
      if (x.ok) throw new Error('expected bad_report');
      expect(x.error.code).toBe('bad_report');
      return [];
    });
    expect(r).toEqual([]);
  });
});
