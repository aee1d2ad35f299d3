// Australian payment identifiers: ABN and ACN checksums against published numbers and against
// numbers built with their check digits, BSBs, account numbers and PayID kinds.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bsbDigits,
  isAuMobile,
  isValidAbn,
  isValidAccountNumber,
  isValidAcn,
  isValidBsb,
  payIdType,
} from '../../contract/au-payments.ts';

/** An ACN with its check digit computed from eight random digits. */
const acn = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 8, maxLength: 8 }).map((d) => {
  const sum = [8, 7, 6, 5, 4, 3, 2, 1].reduce((acc, w, i) => acc + w * d[i]!, 0);
  return `${d.join('')}${(10 - (sum % 10)) % 10}`;
});

/** An ABN from a nine-digit body: the two leading digits are chosen so the weighted sum divides by 89. */
const abn = fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 9, maxLength: 9 }).chain((body) =>
  fc.constant(body).map((b) => {
    const weights = [3, 5, 7, 9, 11, 13, 15, 17, 19];
    const rest = b.reduce((acc, d, i) => acc + weights[i]! * d, 0);
    for (let lead = 10; lead <= 99; lead++) {
      const sum = 10 * (Math.floor(lead / 10) - 1) + (lead % 10) + rest;
      if (sum % 89 === 0) return `${lead}${b.join('')}`;
    }
    return undefined;
  }),
);

describe('Australian payment identifiers', () => {
  it('accepts published ABNs and ACNs and rejects them with any one digit changed', () => {
    for (const good of ['51 824 753 556', '53004085616', '33102417032']) expect(isValidAbn(good)).toBe(true);
    for (const good of ['000 000 019', '010 499 966', '004 085 616']) expect(isValidAcn(good)).toBe(true);
    expect(isValidAbn('51824753557')).toBe(false);
    expect(isValidAcn('000000018')).toBe(false);
    expect(isValidAbn('5182475355')).toBe(false);
    expect(isValidAcn('00000001')).toBe(false);
  });

  it('accepts every ACN built with its check digit and refuses any other ninth digit', () => {
    fc.assert(
      fc.property(acn, fc.integer({ min: 1, max: 9 }), (good, shift) => {
        expect(isValidAcn(good)).toBe(true);
        const bad = `${good.slice(0, 8)}${(Number(good[8]) + shift) % 10}`;
        expect(isValidAcn(bad)).toBe(false);
      }),
    );
  });

  it('accepts every ABN built to divide by 89, and refuses a changed last digit', () => {
    fc.assert(
      fc.property(abn, fc.integer({ min: 1, max: 9 }), (good, shift) => {
        fc.pre(good !== undefined);
        expect(isValidAbn(good!)).toBe(true);
        expect(isValidAbn(`${good!.slice(0, 10)}${(Number(good![10]) + shift) % 10}`)).toBe(false);
      }),
    );
  });

  it('turns every valid BSB, with or without its dash, into its six digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{6}$/), fc.boolean(), (digits, dashed) => {
        const bsb = dashed ? `${digits.slice(0, 3)}-${digits.slice(3)}` : digits;
        expect(isValidBsb(bsb)).toBe(true);
        expect(bsbDigits(bsb)).toBe(digits);
      }),
    );
  });

  it('reads BSBs, account numbers, mobiles and PayID kinds', () => {
    expect(['062-000', '062000'].every(isValidBsb)).toBe(true);
    expect(['06-2000', '0620001', '062 000', 'abc-def'].some(isValidBsb)).toBe(false);
    expect(['12345', '123456789'].every(isValidAccountNumber)).toBe(true);
    expect(['1234', '1234567890', '12a45'].some(isValidAccountNumber)).toBe(false);
    expect(isAuMobile('0412 345 678')).toBe(true);
    expect(isAuMobile('+61412345678')).toBe(true);
    expect(isAuMobile('0212345678')).toBe(false);
    expect(payIdType('jane@example.com')).toBe('email');
    expect(payIdType('+61 412 345 678')).toBe('phone');
    expect(payIdType('51 824 753 556')).toBe('abn');
    expect(payIdType('010 499 966')).toBe('acn');
    expect(payIdType('51 824 753 557')).toBeUndefined();
    expect(payIdType('hello')).toBeUndefined();
  });
});
