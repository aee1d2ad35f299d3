// Barcode / QR scanners: keyboard mode (lines from KeyboardWedgeAssembler) or serial (lines ended
// by CR, LF or CRLF, split here). A scanned code is a Tillback member card, a receipt code, or
// something else (a product barcode: passed on as `unknown`, not an error).
//
//   member card   TB-M-<digits>   6..19 digits, the last one the Luhn (mod 10) check digit of the rest
//   receipt code  TB-R-<base32>   RFC 4648 base32 alphabet A-Z 2-7, 8..64 characters, no padding
// Prefix and base32 are case-insensitive (scanners in keyboard mode with Caps Lock on send lower case);
// results are upper case.
import { CardError, fail, ok, type Result } from './errors.ts';

export type ScanKind =
  | { kind: 'member'; memberNumber: string }
  | { kind: 'receipt'; receiptCode: string }
  | { kind: 'unknown'; length: number };

/** The Luhn check digit for a string of digits (the digit to append). */
export function luhnCheckDigit(digits: string): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return (10 - (sum % 10)) % 10;
}

/** A printable member code for a number body (digits without the check digit). */
export function memberCode(body: string): string {
  if (!/^\d{5,18}$/.test(body))
    throw new CardError('bad_member_code', 'member number body is not 5..18 digits');
  return `TB-M-${body}${luhnCheckDigit(body)}`;
}

export function classifyScan(raw: string): Result<ScanKind> {
  const text = raw.replace(/[\r\n]+$/, '').trim();
  const upper = text.toUpperCase();
  if (upper.startsWith('TB-M-')) {
    const n = upper.slice(5);
    if (!/^\d{6,19}$/.test(n)) return fail('bad_member_code', 'member code is not TB-M- and 6..19 digits');
    if (luhnCheckDigit(n.slice(0, -1)) !== Number(n.slice(-1)))
      return fail('bad_check_digit', 'member code check digit is wrong');
    return ok({ kind: 'member', memberNumber: n });
  }
  if (upper.startsWith('TB-R-')) {
    const c = upper.slice(5);
    if (!/^[A-Z2-7]{8,64}$/.test(c))
      return fail('bad_receipt_code', 'receipt code is not TB-R- and 8..64 base32 characters');
    return ok({ kind: 'receipt', receiptCode: c });
  }
  return ok({ kind: 'unknown', length: text.length });
}

/** Splits serial scanner bytes into lines ended by CR, LF or CRLF; pieces may split anywhere. */
export class SerialLineSplitter {
  #buf = '';
  #lastCr = false;
  #discarding = false;
  readonly #max: number;

  constructor(opts: { maxLength?: number } = {}) {
    this.#max = opts.maxLength ?? 1024;
  }

  /** Completed lines (empty lines dropped) and an `overflow` error per over-long line. */
  push(chunk: Uint8Array | string): { lines: string[]; errors: CardError[] } {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    const lines: string[] = [];
    const errors: CardError[] = [];
    for (const ch of text) {
      if (ch === '\n' && this.#lastCr) {
        this.#lastCr = false;
        continue;
      }
      this.#lastCr = ch === '\r';
      if (ch === '\r' || ch === '\n') {
        if (this.#buf.length && !this.#discarding) lines.push(this.#buf);
        this.#buf = '';
        this.#discarding = false;
      } else if (this.#discarding) {
        continue;
      } else if (this.#buf.length >= this.#max) {
        // The rest of this line is dropped up to its terminator: a cut code must not look whole.
        errors.push(new CardError('overflow', `scanner line over ${this.#max} characters`));
        this.#buf = '';
        this.#discarding = true;
      } else {
        this.#buf += ch;
      }
    }
    return { lines, errors };
  }
}
