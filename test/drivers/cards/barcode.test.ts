import { describe, expect, it } from 'vitest';
import {
  SerialLineSplitter,
  classifyScan,
  luhnCheckDigit,
  memberCode,
} from '../../../drivers/cards/barcode.ts';
import { CardError } from '../../../drivers/cards/errors.ts';
import { KeyboardWedgeAssembler } from '../../../drivers/cards/hid-keyboard.ts';
import { hidReports, keyEvents } from './fixtures.ts';

const kind = (s: string) => {
  const r = classifyScan(s);
  return r.ok ? r.value : r.error.code;
};

describe('scan classification', () => {
  it('member cards carry a Luhn check digit', () => {
    expect(luhnCheckDigit('7992739871')).toBe(3); // the classic Luhn example 79927398713
    expect(memberCode('1234567')).toBe(`TB-M-1234567${luhnCheckDigit('1234567')}`);
    expect(kind(memberCode('000123'))).toEqual({
      kind: 'member',
      memberNumber: `000123${luhnCheckDigit('000123')}`,
    });
    expect(kind('tb-m-79927398713\r\n')).toEqual({ kind: 'member', memberNumber: '79927398713' });
    expect(kind('TB-M-79927398714')).toBe('bad_check_digit');
    expect(kind('TB-M-12AB')).toBe('bad_member_code');
    expect(kind('TB-M-12345')).toBe('bad_member_code');
    expect(() => memberCode('12')).toThrow(CardError);
  });

  it('receipt codes are base32', () => {
    expect(kind('TB-R-MFRGGZDFMZTWQ2LK')).toEqual({ kind: 'receipt', receiptCode: 'MFRGGZDFMZTWQ2LK' });
    expect(kind('tb-r-mfrggzdf')).toEqual({ kind: 'receipt', receiptCode: 'MFRGGZDF' });
    expect(kind('TB-R-MFRGGZD1')).toBe('bad_receipt_code'); // 1 is not base32
    expect(kind('TB-R-ABC')).toBe('bad_receipt_code');
  });

  it('anything else is unknown, not an error', () => {
    expect(kind('4006381333931')).toEqual({ kind: 'unknown', length: 13 });
    expect(kind('')).toEqual({ kind: 'unknown', length: 0 });
  });
});

describe('scanner input', () => {
  it('keyboard mode: HID reports and browser events through the wedge assembler', () => {
    const code = memberCode('4242424');
    const a = new KeyboardWedgeAssembler({ clock: () => 0 });
    const lines = hidReports(`${code}\n`).flatMap((r) => {
      const x = a.pushReport(r);
      return x.ok ? x.value : [];
    });
    expect(lines.map((l) => l.text.reveal(kind))).toEqual([{ kind: 'member', memberNumber: code.slice(5) }]);
    const b = new KeyboardWedgeAssembler({ clock: () => 0 });
    const lines2 = keyEvents('TB-R-MFRGGZDF\n').flatMap((e) => b.pushKeyEvent(e));
    expect(lines2.map((l) => l.text.reveal(kind))).toEqual([{ kind: 'receipt', receiptCode: 'MFRGGZDF' }]);
  });

  it('serial mode: CR, LF and CRLF split anywhere', () => {
    const s = new SerialLineSplitter();
    const wire = 'TB-R-MFRGGZDF\r\nTB-M-79927398713\r4006381333931\n\r\n';
    const lines: string[] = [];
    for (let i = 0; i < wire.length; i += 3) lines.push(...s.push(Buffer.from(wire.slice(i, i + 3))).lines);
    expect(lines).toEqual(['TB-R-MFRGGZDF', 'TB-M-79927398713', '4006381333931']);
    // A CR at the end of one chunk and its LF at the start of the next make one terminator.
    const t = new SerialLineSplitter();
    expect(t.push('a\r').lines).toEqual(['a']);
    expect(t.push('\nb\n').lines).toEqual(['b']);
  });

  it('serial mode: an over-long line is reported as overflow and dropped whole', () => {
    const s = new SerialLineSplitter({ maxLength: 4 });
    const r = s.push('TB-M-79927398713\nok\n');
    expect(r.lines).toEqual(['ok']);
    expect(r.errors.map((e) => e.code)).toEqual(['overflow']);
  });
});
