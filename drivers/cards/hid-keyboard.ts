// Card readers and barcode scanners in keyboard mode ("keyboard wedge"), decoded without any OS
// keyboard layout: USB HID boot keyboard input reports (HID Usage Tables, page 0x07 Keyboard/Keypad)
// or browser KeyboardEvents by their `code` (the physical key, which is layout independent — `key`
// is what the OS layout made of it, e.g. "ü" on a German layout for the US ";" key).
//
// Boot report (HID 1.11 appendix B.1): byte 0 modifiers (bit 1 left shift 0x02, bit 5 right shift
// 0x20), byte 1 reserved, bytes 2..7 up to six usage ids of keys held down; all-zero means all keys
// released; 0x01 in every slot is ErrorRollOver (too many keys), which carries no key state.
// Readers "type" in US layout, so we map usage ids with the US table.
import { CardError, fail, ok, type Result } from './errors.ts';
import { SecretText } from './secret-text.ts';

/** usage id -> [unshifted, shifted] in the US layout. */
export const US_USAGE: ReadonlyMap<number, readonly [string, string]> = (() => {
  const m = new Map<number, readonly [string, string]>();
  for (let i = 0; i < 26; i++) {
    const c = String.fromCharCode(0x61 + i);
    m.set(0x04 + i, [c, c.toUpperCase()]);
  }
  const digits = '1234567890';
  const shiftedDigits = '!@#$%^&*()';
  for (let i = 0; i < 10; i++) m.set(0x1e + i, [digits[i] ?? '', shiftedDigits[i] ?? '']);
  const rest: [number, string, string][] = [
    [0x28, '\n', '\n'], // Enter
    [0x2b, '\t', '\t'], // Tab
    [0x2c, ' ', ' '], // Space
    [0x2d, '-', '_'],
    [0x2e, '=', '+'],
    [0x2f, '[', '{'],
    [0x30, ']', '}'],
    [0x31, '\\', '|'],
    [0x33, ';', ':'],
    [0x34, "'", '"'],
    [0x35, '`', '~'],
    [0x36, ',', '<'],
    [0x37, '.', '>'],
    [0x38, '/', '?'],
    [0x58, '\n', '\n'], // Keypad Enter
  ];
  for (const [u, a, b] of rest) m.set(u, [a, b]);
  return m;
})();

/** KeyboardEvent.code -> HID usage id (the same physical keys as US_USAGE). */
export const CODE_TO_USAGE: ReadonlyMap<string, number> = (() => {
  const m = new Map<string, number>();
  for (let i = 0; i < 26; i++) m.set(`Key${String.fromCharCode(0x41 + i)}`, 0x04 + i);
  for (let i = 1; i <= 9; i++) m.set(`Digit${i}`, 0x1e + i - 1);
  m.set('Digit0', 0x27);
  const named: [string, number][] = [
    ['Enter', 0x28],
    ['Tab', 0x2b],
    ['Space', 0x2c],
    ['Minus', 0x2d],
    ['Equal', 0x2e],
    ['BracketLeft', 0x2f],
    ['BracketRight', 0x30],
    ['Backslash', 0x31],
    ['Semicolon', 0x33],
    ['Quote', 0x34],
    ['Backquote', 0x35],
    ['Comma', 0x36],
    ['Period', 0x37],
    ['Slash', 0x38],
    ['NumpadEnter', 0x58],
  ];
  for (const [c, u] of named) m.set(c, u);
  return m;
})();

export const MOD_LEFT_SHIFT = 0x02;
export const MOD_RIGHT_SHIFT = 0x20;
const SHIFT = MOD_LEFT_SHIFT | MOD_RIGHT_SHIFT;
const ERROR_ROLLOVER = 0x01;

/** The character a usage id types with or without shift, or null for keys a reader does not use. */
export function usageToChar(usage: number, shift: boolean): string | null {
  const e = US_USAGE.get(usage);
  return e ? e[shift ? 1 : 0] : null;
}

/**
 * Turns a stream of boot keyboard reports into typed characters. A key types once, on the report in
 * which it first appears; while it stays in later reports (held) it types nothing more, so a reader
 * sending "5" twice in a row must release it in between, exactly as with a real keyboard.
 */
export class HidKeyboardDecoder {
  #held = new Set<number>();

  /** Characters typed by this report (0 or more). Coded error `bad_report` for a wrong size. */
  push(report: ArrayLike<number>): Result<string> {
    if (report.length !== 8)
      return fail('bad_report', `boot keyboard report is ${report.length} bytes, not 8`);
    const mod = report[0] ?? 0;
    const keys: number[] = [];
    for (let i = 2; i < 8; i++) {
      const u = report[i] ?? 0;
      if (u !== 0) keys.push(u);
    }
    if (keys.length > 0 && keys.every((k) => k === ERROR_ROLLOVER)) return ok('');
    const shift = (mod & SHIFT) !== 0;
    let out = '';
    for (const k of keys) {
      if (this.#held.has(k)) continue;
      out += usageToChar(k, shift) ?? '';
    }
    this.#held = new Set(keys);
    return ok(out);
  }

  reset(): void {
    this.#held.clear();
  }
}

/** The fields of a DOM KeyboardEvent we use (forwarded from a window as plain JSON). */
export interface KeyEventLike {
  type?: 'keydown' | 'keyup' | string;
  code: string;
  /** Ignored: layout dependent. Present so a forwarded event can be passed unchanged. */
  key?: string;
  shiftKey?: boolean;
  repeat?: boolean;
}

/** Browser key events to characters by `code`; tracks ShiftLeft/ShiftRight when shiftKey is absent. */
export class KeyEventDecoder {
  #shiftDown = new Set<string>();

  push(ev: KeyEventLike): string {
    const type = ev.type ?? 'keydown';
    if (ev.code === 'ShiftLeft' || ev.code === 'ShiftRight') {
      if (type === 'keydown') this.#shiftDown.add(ev.code);
      else if (type === 'keyup') this.#shiftDown.delete(ev.code);
      return '';
    }
    if (type !== 'keydown' || ev.repeat) return '';
    const usage = CODE_TO_USAGE.get(ev.code);
    if (usage === undefined) return '';
    const shift = ev.shiftKey ?? this.#shiftDown.size > 0;
    return usageToChar(usage, shift) ?? '';
  }
}

export interface WedgeLine {
  /** The text typed, without the terminating Enter (empty for an overflow); may hold a PAN. */
  text: SecretText;
  /** What ended it: Enter, an idle gap, or the length limit (then `error` is set). */
  reason: 'enter' | 'idle' | 'overflow';
  error?: CardError;
}

export interface AssemblerOptions {
  /** Milliseconds; injected so tests and simulators control time. */
  clock: () => number;
  /** A gap this long after the last character ends the line (readers that send no Enter). */
  idleMs?: number;
  /** Longest line accepted; longer input is cut and reported as `overflow`. */
  maxLength?: number;
}

/**
 * Accumulates keystrokes into lines: a card swipe ("%B...?;...?" + Enter) or a barcode (+ Enter).
 * Feed it HID reports, browser key events or plain characters; each call returns the lines it
 * completed. Call tick() from a timer to end a line by the idle gap.
 */
export class KeyboardWedgeAssembler {
  readonly #clock: () => number;
  readonly #idleMs: number;
  readonly #max: number;
  readonly #hid = new HidKeyboardDecoder();
  readonly #keys = new KeyEventDecoder();
  #buf = '';
  #last = 0;
  #discarding = false;

  constructor(opts: AssemblerOptions) {
    this.#clock = opts.clock;
    this.#idleMs = opts.idleMs ?? 100;
    this.#max = opts.maxLength ?? 512;
  }

  /** Text typed but not yet ended (for display of "reading..." only; it is card data). */
  get pending(): number {
    return this.#buf.length;
  }

  pushChars(chars: string): WedgeLine[] {
    const out = this.tick();
    if (chars.length) this.#last = this.#clock();
    for (const ch of chars) {
      if (ch === '\n' || ch === '\r') {
        if (this.#buf.length && !this.#discarding)
          out.push({ text: new SecretText(this.#buf), reason: 'enter' });
        this.#buf = '';
        this.#discarding = false;
      } else if (this.#discarding) {
        continue;
      } else if (this.#buf.length >= this.#max) {
        // The line is reported once (its text dropped) and the rest is skipped up to Enter or an idle
        // gap: a cut swipe or barcode must never be decoded as if it were whole.
        out.push({
          text: new SecretText(''),
          reason: 'overflow',
          error: new CardError('overflow', `keyboard input over ${this.#max} characters without Enter`),
        });
        this.#buf = '';
        this.#discarding = true;
      } else {
        this.#buf += ch;
      }
    }
    return out;
  }

  pushReport(report: ArrayLike<number>): Result<WedgeLine[]> {
    const r = this.#hid.push(report);
    return r.ok ? ok(this.pushChars(r.value)) : r;
  }

  pushKeyEvent(ev: KeyEventLike): WedgeLine[] {
    return this.pushChars(this.#keys.push(ev));
  }

  /** Ends the pending line when the idle gap has passed. */
  tick(): WedgeLine[] {
    if ((this.#buf.length || this.#discarding) && this.#clock() - this.#last >= this.#idleMs) {
      const text = this.#buf;
      const was = this.#discarding;
      this.#buf = '';
      this.#discarding = false;
      return was ? [] : [{ text: new SecretText(text), reason: 'idle' }];
    }
    return [];
  }
}
