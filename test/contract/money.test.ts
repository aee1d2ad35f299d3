import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  CURRENCIES,
  MAX_MINOR,
  MoneyError,
  assertMinor,
  cashbackFor,
  convertAmount,
  cumulativeClawback,
  currency,
  formatAmount,
  formatPercent,
  isCurrency,
  parseAmount,
  parsePercent,
} from '../../contract/money.ts';
import type { MoneyErrorCode } from '../../contract/money.ts';

const RUNS = { numRuns: 1000 };
const MAX_BIG = BigInt(MAX_MINOR);

/** Run fn and return the MoneyError it throws; fail if it returns or throws anything else. */
function moneyError(fn: () => unknown): MoneyError {
  try {
    fn();
  } catch (e) {
    if (e instanceof MoneyError) return e;
    throw e;
  }
  throw new Error('expected a MoneyError, but nothing was thrown');
}

function expectCode(fn: () => unknown, code: MoneyErrorCode, messagePart?: string): void {
  const e = moneyError(fn);
  expect(e.code).toBe(code);
  expect(e.name).toBe('MoneyError');
  expect(e).toBeInstanceOf(Error);
  if (messagePart !== undefined) expect(e.message).toContain(messagePart);
}

const codes = Object.keys(CURRENCIES);
const codeForExponent = new Map<number, string>();
for (const c of Object.values(CURRENCIES))
  if (!codeForExponent.has(c.exponent)) codeForExponent.set(c.exponent, c.code);

describe('currency table', () => {
  const required: Array<[string, number]> = [
    ['AUD', 2],
    ['USD', 2],
    ['EUR', 2],
    ['GBP', 2],
    ['NZD', 2],
    ['CAD', 2],
    ['CHF', 2],
    ['JPY', 0],
    ['KRW', 0],
    ['TND', 3],
    ['KWD', 3],
    ['BHD', 3],
    ['JOD', 3],
    ['OMR', 3],
    ['RUB', 2],
    ['RUR', 2],
    ['SDG', 2],
    ['SGD', 2],
    ['HKD', 2],
    ['INR', 2],
    ['CNY', 2],
    ['ZAR', 2],
    ['SEK', 2],
    ['NOK', 2],
    ['DKK', 2],
    ['PLN', 2],
    ['CZK', 2],
    ['AED', 2],
    ['SAR', 2],
    ['EGP', 2],
    ['MAD', 2],
    ['GBYTE', 9],
    ['BTC', 8],
  ];

  it.each(required)('%s has exponent %i', (code, exponent) => {
    expect(currency(code)).toMatchObject({ code, exponent });
    expect(CURRENCIES[code]?.exponent).toBe(exponent);
    expect(isCurrency(code)).toBe(true);
  });

  it('every entry is consistent, named and frozen', () => {
    expect(codes.length).toBeGreaterThanOrEqual(33);
    for (const [key, c] of Object.entries(CURRENCIES)) {
      expect(c.code).toBe(key);
      expect(c.code).toMatch(/^[A-Z]{3,5}$/);
      expect([0, 2, 3, 8, 9]).toContain(c.exponent);
      expect(c.name.length).toBeGreaterThan(0);
      expect(Object.isFrozen(c)).toBe(true);
    }
    expect(Object.isFrozen(CURRENCIES)).toBe(true);
  });

  it('codes are case-sensitive and unknown codes are rejected with the code in the message', () => {
    expectCode(() => currency('XYZ'), 'unknown_currency', 'Unknown currency "XYZ"');
    expectCode(() => currency('usd'), 'unknown_currency', '"usd"');
    expectCode(() => currency(''), 'unknown_currency');
    expect(isCurrency('usd')).toBe(false);
    expect(isCurrency('XYZ')).toBe(false);
    expect(isCurrency('')).toBe(false);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf'])(
    'prototype property %s is not a currency',
    (code) => {
      expect(isCurrency(code)).toBe(false);
      expectCode(() => currency(code), 'unknown_currency');
      expectCode(() => parseAmount('1', code), 'unknown_currency');
    },
  );

  it('MAX_MINOR is 10^15', () => {
    expect(MAX_MINOR).toBe(1_000_000_000_000_000);
    expect(Number.isSafeInteger(MAX_MINOR)).toBe(true);
  });
});

describe('assertMinor', () => {
  it.each([0, 1, -1, 250, MAX_MINOR, -MAX_MINOR])('accepts %s', (n) => {
    expect(() => assertMinor(n)).not.toThrow();
  });
  it.each([
    0.5,
    -0.5,
    MAX_MINOR + 1,
    -MAX_MINOR - 1,
    Number.MAX_SAFE_INTEGER,
    2 ** 53,
    NaN,
    Infinity,
    -Infinity,
  ])('rejects %s with invalid_amount', (n) => {
    expectCode(() => assertMinor(n), 'invalid_amount', String(n));
  });
  it('rejects non-numbers', () => {
    expectCode(() => assertMinor('5' as unknown as number), 'invalid_amount');
    expectCode(() => assertMinor(5n as unknown as number), 'invalid_amount');
  });
});

describe('parseAmount: accepted input', () => {
  const ok: Array<[string | number, string, number]> = [
    ['50', 'USD', 5000],
    ['50.5', 'USD', 5050],
    ['50.00', 'USD', 5000],
    ['0.5', 'USD', 50],
    ['0.01', 'USD', 1],
    ['1.25', 'EUR', 125],
    ['5', 'JPY', 5],
    ['1000', 'KRW', 1000],
    ['1.25', 'TND', 1250],
    ['1.250', 'TND', 1250],
    ['0.001', 'KWD', 1],
    ['0.000000001', 'GBYTE', 1],
    ['1', 'GBYTE', 1_000_000_000],
    ['0.00000001', 'BTC', 1],
    ['21', 'BTC', 2_100_000_000],
    ['10000000000000', 'USD', MAX_MINOR],
    ['1000000000000000', 'JPY', MAX_MINOR],
    ['1000000', 'GBYTE', MAX_MINOR],
    ['9999999999999.99', 'USD', MAX_MINOR - 1],
    [50, 'USD', 5000],
    [5, 'JPY', 5],
    [1, 'TND', 1000],
    [10_000_000_000_000, 'USD', MAX_MINOR],
  ];
  it.each(ok)('%j %s -> %i', (input, code, minor) => {
    expect(parseAmount(input, code)).toBe(minor);
  });

  it('negatives only with allowNegative', () => {
    expect(parseAmount('-1.25', 'USD', { allowNegative: true })).toBe(-125);
    expect(parseAmount(-3, 'USD', { allowNegative: true })).toBe(-300);
    expect(parseAmount('-10000000000000', 'USD', { allowNegative: true })).toBe(-MAX_MINOR);
    expectCode(() => parseAmount('-1.25', 'USD'), 'amount_not_positive', '"-1.25"');
    expectCode(() => parseAmount(-3, 'USD'), 'amount_not_positive', '-3');
    expectCode(() => parseAmount('-1', 'USD', { allowZero: true }), 'amount_not_positive', 'zero or more');
  });

  it('zero only with allowZero, and never returns -0', () => {
    for (const zero of ['0', '0.00', '-0', '-0.0', 0, -0]) {
      expectCode(() => parseAmount(zero, 'USD'), 'amount_not_positive', 'greater than zero');
      expectCode(() => parseAmount(zero, 'USD', { allowNegative: true }), 'amount_not_positive');
      const v = parseAmount(zero, 'USD', { allowZero: true });
      expect(Object.is(v, 0)).toBe(true);
    }
  });
});

describe('parseAmount: rejected input', () => {
  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    [' 5', 'whitespace'],
    ['5 ', 'whitespace'],
    ['5\n', 'whitespace'],
    ['1 000', 'whitespace'],
    ['\u00a05', 'whitespace'],
    ['+5', 'leading "+"'],
    ['+0.5', 'leading "+"'],
    ['1e3', 'exponent'],
    ['1E3', 'exponent'],
    ['1.5e2', 'exponent'],
    ['1e-2', 'exponent'],
    ['.5', '"0.5"'],
    ['-.5', '"0.5"'],
    ['5.', '"5."'],
    ['-5.', '"5."'],
    ['NaN', 'finite'],
    ['Infinity', 'finite'],
    ['-Infinity', 'finite'],
    ['0x10', 'hexadecimal'],
    ['0X1F', 'hexadecimal'],
    ['0b101', 'hexadecimal'],
    ['0o17', 'hexadecimal'],
    ['1,000.00', 'decimal separator'],
    ['1,5', 'decimal separator'],
    ['007', 'leading zeros'],
    ['00.5', 'leading zeros'],
    ['-01', 'leading zeros'],
    ['--1', 'decimal number'],
    ['1-', 'decimal number'],
    ['1.2.3', 'decimal number'],
    ['abc', 'decimal number'],
    ['$5', 'decimal number'],
    ['5USD', 'decimal number'],
    ['٥', 'decimal number'], // Arabic-Indic digit five
    ['５', 'decimal number'], // full-width digit five
    ['1_000', 'decimal number'],
    ['.', 'decimal number'],
    ['-', 'decimal number'],
  ];
  it.each(invalid)('%j -> invalid_amount (%s)', (input, why) => {
    const e = moneyError(() => parseAmount(input, 'USD', { allowZero: true, allowNegative: true }));
    expect(e.code).toBe('invalid_amount');
    expect(e.message).toContain(JSON.stringify(input));
    expect(e.message).toContain(why);
  });

  it.each([
    [0.5, 'fraction'],
    [50.25, 'fraction'],
    [NaN, 'finite'],
    [Infinity, 'finite'],
    [-Infinity, 'finite'],
    [2 ** 53, 'too large'],
    [1e21, 'too large'],
  ])('number %s -> invalid_amount (%s)', (input, why) => {
    expectCode(
      () => parseAmount(input, 'USD', { allowZero: true, allowNegative: true }),
      'invalid_amount',
      why,
    );
  });

  it.each([null, undefined, {}, [], true, 5n])('non-string, non-number %s -> invalid_amount', (input) => {
    expectCode(() => parseAmount(input as unknown as string, 'USD'), 'invalid_amount');
  });

  it.each([
    ['1.005', 'USD', 'USD has 2 decimal places; got "1.005"'],
    ['1.000', 'USD', 'USD has 2 decimal places; got "1.000"'],
    ['5.0', 'JPY', 'JPY has no decimal places; got "5.0"'],
    ['5.5', 'KRW', 'KRW has no decimal places; got "5.5"'],
    ['1.2345', 'TND', 'TND has 3 decimal places; got "1.2345"'],
    ['0.0000000001', 'GBYTE', 'GBYTE has 9 decimal places; got "0.0000000001"'],
    ['0.000000001', 'BTC', 'BTC has 8 decimal places; got "0.000000001"'],
    ['-1.005', 'USD', 'USD has 2 decimal places; got "-1.005"'],
  ])('%j %s -> too_many_decimals', (input, code, message) => {
    const e = moneyError(() => parseAmount(input, code, { allowNegative: true }));
    expect(e.code).toBe('too_many_decimals');
    expect(e.message).toBe(message);
  });

  it.each([
    ['10000000000000.01', 'USD'],
    ['10000000000001', 'USD'],
    ['1000000000000001', 'JPY'],
    ['1000000.000000001', 'GBYTE'],
    ['10000000.00000001', 'BTC'],
    ['99999999999999999999999999999999999999999999999999', 'USD'],
    ['1' + '0'.repeat(10_000), 'USD'],
  ])('%s %s -> amount_too_large', (input, code) => {
    expectCode(() => parseAmount(input, code), 'amount_too_large', 'too large');
    expectCode(() => parseAmount(`-${input}`, code, { allowNegative: true }), 'amount_too_large');
  });

  it('a too-large number input is amount_too_large when it is a safe integer', () => {
    expectCode(() => parseAmount(10_000_000_000_001, 'USD'), 'amount_too_large', '10000000000001');
  });

  it('unknown currency is checked first', () => {
    expectCode(() => parseAmount('1', 'XYZ'), 'unknown_currency', '"XYZ"');
    expectCode(() => parseAmount('nonsense', 'usd'), 'unknown_currency');
  });
});

describe('formatAmount', () => {
  it.each([
    [250, 'USD', '2.50'],
    [-125, 'USD', '-1.25'],
    [0, 'USD', '0.00'],
    [-0, 'USD', '0.00'],
    [1, 'USD', '0.01'],
    [-1, 'USD', '-0.01'],
    [5, 'JPY', '5'],
    [-5, 'JPY', '-5'],
    [0, 'JPY', '0'],
    [1250, 'TND', '1.250'],
    [1, 'KWD', '0.001'],
    [1, 'GBYTE', '0.000000001'],
    [1_000_000_000, 'GBYTE', '1.000000000'],
    [1, 'BTC', '0.00000001'],
    [MAX_MINOR, 'USD', '10000000000000.00'],
    [-MAX_MINOR, 'JPY', '-1000000000000000'],
  ])('%i %s -> %s', (minor, code, text) => {
    expect(formatAmount(minor, code)).toBe(text);
  });

  it('rejects invalid minor amounts and unknown currencies', () => {
    expectCode(() => formatAmount(1.5, 'USD'), 'invalid_amount');
    expectCode(() => formatAmount(MAX_MINOR + 1, 'USD'), 'invalid_amount');
    expectCode(() => formatAmount(NaN, 'USD'), 'invalid_amount');
    expectCode(() => formatAmount(1, 'XYZ'), 'unknown_currency');
  });
});

describe('parsePercent / formatPercent', () => {
  it.each([
    ['5', 500],
    ['5.0', 500],
    ['5.00', 500],
    ['2.5', 250],
    ['0.01', 1],
    ['0', 0],
    ['0.00', 0],
    ['100', 10_000],
    ['100.00', 10_000],
    ['99.99', 9999],
    ['12.34', 1234],
    [5, 500],
    [0, 0],
    [100, 10_000],
  ])('parsePercent(%j) -> %i', (input, bps) => {
    expect(parsePercent(input)).toBe(bps);
  });

  it.each([
    ['0.001', 'at most 2 decimal places'],
    ['2.555', 'at most 2 decimal places'],
    ['100.01', 'from 0 to 100'],
    ['101', 'from 0 to 100'],
    ['1000', 'from 0 to 100'],
    ['99999999999999999999', 'from 0 to 100'],
    ['-1', 'from 0 to 100'],
    ['-0.01', 'from 0 to 100'],
    ['', 'empty'],
    [' 5', 'whitespace'],
    ['+5', 'leading "+"'],
    ['5%', 'decimal number'],
    ['1e1', 'exponent'],
    ['.5', '"0.5"'],
    ['5.', '"5."'],
    ['05', 'leading zeros'],
    ['NaN', 'finite'],
    [2.5, 'fraction'],
    [NaN, 'fraction'],
    [Infinity, 'fraction'],
    [101, 'from 0 to 100'],
    [-1, 'from 0 to 100'],
  ])('parsePercent(%j) -> invalid_percentage (%s)', (input, why) => {
    const e = moneyError(() => parsePercent(input));
    expect(e.code).toBe('invalid_percentage');
    expect(e.message).toContain(why);
    expect(e.message).toContain(typeof input === 'string' ? JSON.stringify(input) : String(input));
  });

  it.each([
    [500, '5'],
    [250, '2.5'],
    [525, '5.25'],
    [1, '0.01'],
    [10, '0.1'],
    [0, '0'],
    [10_000, '100'],
    [1000, '10'],
    [9999, '99.99'],
  ])('formatPercent(%i) -> %s', (bps, text) => {
    expect(formatPercent(bps)).toBe(text);
  });

  it.each([-1, 10_001, 2.5, NaN, Infinity])('formatPercent(%s) -> invalid_percentage', (bps) => {
    expectCode(() => formatPercent(bps), 'invalid_percentage');
  });

  it('round-trips every basis point value', () => {
    for (let bps = 0; bps <= 10_000; bps++) {
      expect(parsePercent(formatPercent(bps))).toBe(bps);
    }
  });
});

describe('cashbackFor', () => {
  it.each([
    [10_000, 500, 500],
    [999, 500, 49], // 49.95 rounds down
    [1, 9999, 0],
    [0, 500, 0],
    [12_345, 250, 308], // 308.625
    [100, 10_000, 100],
    [100, 0, 0],
    [MAX_MINOR, 10_000, MAX_MINOR],
    [MAX_MINOR, 9999, 999_900_000_000_000],
    [MAX_MINOR - 1, 1, 99_999_999_999], // product beyond 2^53: exact with BigInt
  ])('cashbackFor(%i, %i) -> %i', (purchase, bps, expected) => {
    expect(cashbackFor(purchase, bps)).toBe(expected);
  });

  it('rejects bad purchases and bad basis points', () => {
    expectCode(() => cashbackFor(-1, 500), 'invalid_amount', 'negative');
    expectCode(() => cashbackFor(1.5, 500), 'invalid_amount');
    expectCode(() => cashbackFor(MAX_MINOR + 1, 500), 'invalid_amount');
    expectCode(() => cashbackFor(100, -1), 'invalid_percentage');
    expectCode(() => cashbackFor(100, 10_001), 'invalid_percentage');
    expectCode(() => cashbackFor(100, 2.5), 'invalid_percentage');
    expectCode(() => cashbackFor(100, NaN), 'invalid_percentage');
  });

  it('property: floor of the exact rational (<= exact, > exact - 1)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_MINOR }), fc.integer({ min: 0, max: 10_000 }), (p, bps) => {
        const c = cashbackFor(p, bps);
        expect(Number.isSafeInteger(c)).toBe(true);
        const exactTimes10k = BigInt(p) * BigInt(bps);
        // c <= p*bps/10000 and c > p*bps/10000 - 1, compared exactly in integers
        expect(BigInt(c) * 10_000n <= exactTimes10k).toBe(true);
        expect((BigInt(c) + 1n) * 10_000n > exactTimes10k).toBe(true);
      }),
      RUNS,
    );
  });
});

describe('cumulativeClawback', () => {
  it.each([
    [500, 10_000, 0, 0],
    [500, 10_000, 10_000, 500],
    [500, 10_000, 5000, 250],
    [49, 999, 500, 24], // 24.52...
    [49, 999, 999, 49],
    [1, 3, 1, 0],
    [1, 3, 2, 0],
    [1, 3, 3, 1],
    [0, 100, 50, 0],
    [0, 0, 0, 0],
    [MAX_MINOR, MAX_MINOR, MAX_MINOR - 1, MAX_MINOR - 1],
    [MAX_MINOR, MAX_MINOR, 1, 1],
  ])('cumulativeClawback(E=%i, P=%i, R=%i) -> %i', (e, p, r, expected) => {
    expect(cumulativeClawback(e, p, r)).toBe(expected);
  });

  it('rejects R outside 0..P and invalid amounts', () => {
    expectCode(() => cumulativeClawback(500, 10_000, 10_001), 'invalid_amount', '10001');
    expectCode(() => cumulativeClawback(500, 10_000, -1), 'invalid_amount', '-1');
    expectCode(() => cumulativeClawback(0, 0, 1), 'invalid_amount');
    expectCode(() => cumulativeClawback(-1, 100, 50), 'invalid_amount');
    expectCode(() => cumulativeClawback(1, -100, 0), 'invalid_amount');
    expectCode(() => cumulativeClawback(1, 100, 0.5), 'invalid_amount');
    expectCode(() => cumulativeClawback(MAX_MINOR + 1, 100, 50), 'invalid_amount');
  });

  const earnAndPurchase = fc
    .record({ p: fc.integer({ min: 1, max: MAX_MINOR }), bps: fc.integer({ min: 0, max: 10_000 }) })
    .chain(({ p, bps }) =>
      fc.record({
        p: fc.constant(p),
        // E is either the real cashback for the purchase or any amount (a fixed bonus, say)
        e: fc.oneof(fc.constant(cashbackFor(p, bps)), fc.integer({ min: 0, max: MAX_MINOR })),
      }),
    );

  it('property: monotone in R, never exceeds E, 0 at R=0, E at R=P', () => {
    fc.assert(
      fc.property(
        earnAndPurchase.chain(({ p, e }) =>
          fc.record({
            p: fc.constant(p),
            e: fc.constant(e),
            r1: fc.integer({ min: 0, max: p }),
            r2: fc.integer({ min: 0, max: p }),
          }),
        ),
        ({ p, e, r1, r2 }) => {
          const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
          const cLo = cumulativeClawback(e, p, lo);
          const cHi = cumulativeClawback(e, p, hi);
          expect(cLo).toBeLessThanOrEqual(cHi);
          expect(cHi).toBeLessThanOrEqual(e);
          expect(cLo).toBeGreaterThanOrEqual(0);
          expect(cumulativeClawback(e, p, 0)).toBe(0);
          expect(cumulativeClawback(e, p, p)).toBe(e);
          // and it is the floor of E*R/P
          expect(BigInt(cHi) * BigInt(p) <= BigInt(e) * BigInt(hi)).toBe(true);
          expect((BigInt(cHi) + 1n) * BigInt(p) > BigInt(e) * BigInt(hi)).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it('property: partial refunds of any split of P claw back exactly E in total', () => {
    fc.assert(
      fc.property(
        earnAndPurchase.chain(({ p, e }) =>
          fc.record({
            p: fc.constant(p),
            e: fc.constant(e),
            cuts: fc.array(fc.integer({ min: 0, max: p }), { maxLength: 30 }),
          }),
        ),
        ({ p, e, cuts }) => {
          // cut points split P into partial refunds (some possibly zero)
          const totals = [...cuts].sort((a, b) => a - b);
          totals.push(p);
          let refunded = 0;
          let clawedBack = 0n;
          let refundSum = 0n;
          for (const total of totals) {
            const refund = total - refunded;
            const increment =
              cumulativeClawback(e, p, refunded + refund) - cumulativeClawback(e, p, refunded);
            expect(increment).toBeGreaterThanOrEqual(0);
            clawedBack += BigInt(increment);
            refundSum += BigInt(refund);
            refunded += refund;
          }
          expect(refundSum).toBe(BigInt(p));
          expect(clawedBack).toBe(BigInt(e));
        },
      ),
      RUNS,
    );
  });
});

describe('convertAmount', () => {
  it.each([
    [1000, 'USD', 'GBYTE', '0.04', 400_000_000], // 10 USD * 0.04 = 0.4 GBYTE
    [100, 'USD', 'USD', '1', 100],
    [100, 'USD', 'EUR', '0.92', 92],
    [199, 'USD', 'EUR', '0.925', 184], // 184.075 floored
    [100, 'USD', 'JPY', '150.5', 150], // 150.5 floored
    [1, 'JPY', 'USD', '0.0066', 0], // 0.66 cent floored
    [1000, 'JPY', 'USD', '0.0066', 660],
    [1000, 'TND', 'USD', '0.32', 32], // 1.000 TND
    [1, 'GBYTE', 'USD', '25', 0], // 1 byte: 0.0000000025 cent
    [1_000_000_000, 'GBYTE', 'USD', '25', 2500],
    [-199, 'USD', 'EUR', '0.925', -185], // floor toward -infinity
    [100_000_000, 'BTC', 'USD', '65000.12', 6_500_012],
    [0, 'USD', 'JPY', '150', 0],
  ])('%i %s -> %s at %s = %i', (minor, from, to, rate, expected) => {
    expect(convertAmount(minor, from, to, rate)).toBe(expected);
  });

  it.each([
    ['0', 'greater than zero'],
    ['0.000', 'greater than zero'],
    ['-1', 'greater than zero'],
    ['', 'empty'],
    ['1e2', 'exponent'],
    ['.5', '"0.5"'],
    ['5.', '"5."'],
    ['+1', 'leading "+"'],
    [' 1', 'whitespace'],
    ['abc', 'decimal number'],
    ['1.' + '0'.repeat(50), 'at most 40 characters'],
  ])('rate %j -> invalid_amount (%s)', (rate, why) => {
    expectCode(() => convertAmount(100, 'USD', 'EUR', rate), 'invalid_amount', why);
  });

  it('rejects a non-string rate, bad amounts and unknown currencies', () => {
    expectCode(() => convertAmount(100, 'USD', 'EUR', 0.9 as unknown as string), 'invalid_amount');
    expectCode(() => convertAmount(1.5, 'USD', 'EUR', '1'), 'invalid_amount');
    expectCode(() => convertAmount(100, 'XYZ', 'EUR', '1'), 'unknown_currency');
    expectCode(() => convertAmount(100, 'USD', 'xyz', '1'), 'unknown_currency');
  });

  it('rejects results beyond MAX_MINOR', () => {
    expectCode(() => convertAmount(MAX_MINOR, 'USD', 'JPY', '150'), 'amount_too_large', 'JPY');
    expectCode(() => convertAmount(-MAX_MINOR, 'USD', 'GBYTE', '1'), 'amount_too_large');
    expect(convertAmount(MAX_MINOR, 'USD', 'USD', '1')).toBe(MAX_MINOR);
  });

  it('property: equals a BigInt reference computation', () => {
    const rateArb = fc
      .record({
        int: fc.bigInt({ min: 0n, max: 10n ** 8n }),
        frac: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 12 }),
      })
      .map(({ int, frac }) => ({ int, frac, text: frac === '' ? `${int}` : `${int}.${frac}` }));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: -MAX_MINOR, max: MAX_MINOR }),
          fc.integer({ min: -100_000, max: 100_000 }),
        ),
        fc.constantFrom(...codes),
        fc.constantFrom(...codes),
        rateArb,
        (minor, from, to, rate) => {
          const fromExp = BigInt(CURRENCIES[from]?.exponent ?? NaN);
          const toExp = BigInt(CURRENCIES[to]?.exponent ?? NaN);
          // rate = (int * 10^k + frac) / 10^k
          const k = BigInt(rate.frac.length);
          const rateNum = rate.int * 10n ** k + (rate.frac === '' ? 0n : BigInt(rate.frac));
          if (rateNum === 0n) {
            expectCode(() => convertAmount(minor, from, to, rate.text), 'invalid_amount');
            return;
          }
          const n = BigInt(minor) * rateNum * 10n ** toExp;
          const d = 10n ** (k + fromExp);
          const mod = ((n % d) + d) % d;
          const expected = (n - mod) / d; // floor
          if (expected > MAX_BIG || expected < -MAX_BIG) {
            expectCode(() => convertAmount(minor, from, to, rate.text), 'amount_too_large');
          } else {
            expect(convertAmount(minor, from, to, rate.text)).toBe(Number(expected));
          }
        },
      ),
      RUNS,
    );
  });
});

describe('parseAmount/formatAmount properties', () => {
  const exponents = [...codeForExponent.keys()].sort((a, b) => a - b);

  it('covers exponents 0, 2, 3, 8 and 9', () => {
    expect(exponents).toEqual([0, 2, 3, 8, 9]);
  });

  it.each(exponents.map((e) => [e, codeForExponent.get(e) ?? '']))(
    'round-trip for exponent %i (%s): parse(format(minor)) === minor and format is canonical',
    (exponent, code) => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.integer({ min: -MAX_MINOR, max: MAX_MINOR }),
            fc.integer({ min: -10_000, max: 10_000 }),
          ),
          (minor) => {
            const text = formatAmount(minor, code);
            const fraction = text.split('.')[1] ?? '';
            expect(fraction.length).toBe(exponent);
            expect(parseAmount(text, code, { allowZero: true, allowNegative: true })).toBe(minor);
            // canonical text is a fixed point
            expect(
              formatAmount(parseAmount(text, code, { allowZero: true, allowNegative: true }), code),
            ).toBe(text);
          },
        ),
        RUNS,
      );
    },
  );

  it('round-trip for every currency in the table', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...codes),
        fc.integer({ min: -MAX_MINOR, max: MAX_MINOR }),
        (code, minor) => {
          expect(parseAmount(formatAmount(minor, code), code, { allowZero: true, allowNegative: true })).toBe(
            minor,
          );
        },
      ),
      RUNS,
    );
  });

  const optsArb = fc.record({ allowZero: fc.boolean(), allowNegative: fc.boolean() });
  const codeArb = fc.oneof(fc.constantFrom(...codes), fc.constantFrom('XYZ', 'usd', '', 'constructor'));
  const decimalish = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'0123456789.-+eE ,x_'), maxLength: 30 }),
    fc
      .tuple(
        fc.constantFrom('', '-', '+', '--'),
        fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 20 }),
        fc.constantFrom('', '.', '..'),
        fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 12 }),
      )
      .map((parts) => parts.join('')),
  );

  function check(
    input: string | number,
    code: string,
    opts: { allowZero: boolean; allowNegative: boolean },
  ): void {
    try {
      const v = parseAmount(input, code, opts);
      expect(Number.isSafeInteger(v)).toBe(true);
      expect(Math.abs(v)).toBeLessThanOrEqual(MAX_MINOR);
      expect(Object.is(v, -0)).toBe(false);
    } catch (e) {
      expect(e).toBeInstanceOf(MoneyError);
      expect((e as MoneyError).message.length).toBeGreaterThan(0);
    }
  }

  it('never throws anything but MoneyError on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), codeArb, optsArb, check), RUNS);
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 50 }), codeArb, optsArb, check), RUNS);
  });

  it('never throws anything but MoneyError on decimal-ish strings and arbitrary numbers', () => {
    fc.assert(fc.property(decimalish, codeArb, optsArb, check), RUNS);
    fc.assert(fc.property(fc.double(), codeArb, optsArb, check), RUNS);
  });

  it('decimal-ish strings: result and error code match a reference', () => {
    const strict = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;
    fc.assert(
      fc.property(decimalish, fc.constantFrom(...codes), optsArb, (input, code, opts) => {
        const exponent = CURRENCIES[code]?.exponent ?? 0;
        const m = strict.exec(input);
        let expected: number | MoneyErrorCode;
        if (!m) expected = 'invalid_amount';
        else {
          const [, sign, int = '', frac = ''] = m;
          if (frac.length > exponent) expected = 'too_many_decimals';
          else {
            const magnitude =
              BigInt(int) * 10n ** BigInt(exponent) + BigInt(frac.padEnd(exponent, '0') || '0');
            if (magnitude > MAX_BIG) expected = 'amount_too_large';
            else if (magnitude === 0n) expected = opts.allowZero ? 0 : 'amount_not_positive';
            else if (sign === '-' && !opts.allowNegative) expected = 'amount_not_positive';
            else expected = Number(sign === '-' ? -magnitude : magnitude);
          }
        }
        if (typeof expected === 'number') expect(parseAmount(input, code, opts)).toBe(expected);
        else expectCode(() => parseAmount(input, code, opts), expected, JSON.stringify(input));
      }),
      { numRuns: 5000 },
    );
  });

  it('safe-integer number input equals its decimal text', () => {
    fc.assert(
      fc.property(fc.integer({ min: -MAX_MINOR, max: MAX_MINOR }), fc.constantFrom(...codes), (n, code) => {
        const opts = { allowZero: true, allowNegative: true };
        let fromNumber: number | string;
        let fromText: number | string;
        try {
          fromNumber = parseAmount(n, code, opts);
        } catch (e) {
          fromNumber = (e as MoneyError).code;
        }
        try {
          fromText = parseAmount(String(n), code, opts);
        } catch (e) {
          fromText = (e as MoneyError).code;
        }
        expect(fromNumber).toEqual(fromText);
      }),
      RUNS,
    );
  });
});

describe('no floating point in the money path', () => {
  it('contract/money.ts uses no float parsing or float rounding', () => {
    const source = readFileSync(new URL('../../contract/money.ts', import.meta.url), 'utf8');
    for (const banned of [
      'parseFloat',
      'parseInt',
      'toFixed',
      'toPrecision',
      'Math.round',
      'Math.floor',
      'Math.ceil',
      'Math.trunc',
      'Math.pow',
      'Number.parseFloat',
    ]) {
      expect(source, banned).not.toContain(banned);
    }
  });
});
