import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isValidPan, maskPan } from '../../contract/card.ts';

describe('card numbers', () => {
  it('accepts Luhn-valid PANs of 12 to 19 digits and refuses the rest', () => {
    expect(isValidPan('5350290149345177')).toBe(true); // the DESIGN.md track data vector
    expect(isValidPan('4111111111111111')).toBe(true);
    expect(isValidPan('4111111111111112')).toBe(false);
    expect(isValidPan('41111111111')).toBe(false); // 11 digits
    expect(isValidPan('41111111111111111111')).toBe(false); // 20 digits
    expect(isValidPan('4111 1111 1111 1111')).toBe(false);
  });

  it('catches every single-digit error (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (pos, delta) => {
        const pan = '5350290149345177';
        const d = (Number(pan[pos]) + delta) % 10;
        return !isValidPan(pan.slice(0, pos) + d + pan.slice(pos + 1));
      }),
    );
  });

  it('masks all but the first 6 and last 4 digits', () => {
    expect(maskPan('5350290149345177')).toBe('535029******5177');
    expect(maskPan('1234567890123456789')).toBe('123456*********6789');
  });
});
