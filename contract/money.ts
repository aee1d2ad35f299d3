// Money: integer minor units with an ISO 4217 (or configured) currency code; percentages are basis points.
//
// No floating point anywhere in a money path: decimal text is parsed digit by digit, and every product or
// quotient is computed with BigInt. JavaScript numbers appear only as safe integers (|x| <= MAX_MINOR), so
// callers can store and compare amounts as plain numbers. Rounding is always floor (toward -infinity);
// for the non-negative amounts of cashback and clawback that is "round down".

export interface Currency {
  code: string;
  exponent: number;
  name: string;
}

export type MoneyErrorCode =
  | 'unknown_currency'
  | 'invalid_amount'
  | 'too_many_decimals'
  | 'amount_too_large'
  | 'amount_not_positive'
  | 'invalid_percentage';

export class MoneyError extends Error {
  readonly code: MoneyErrorCode;

  constructor(code: MoneyErrorCode, message: string) {
    super(message);
    this.name = 'MoneyError';
    this.code = code;
  }
}

// [code, exponent, name]. Exponents from ISO 4217 (list one); GBYTE and BTC are configured units.
const TABLE: ReadonlyArray<readonly [string, number, string]> = [
  ['AED', 2, 'UAE Dirham'],
  ['AUD', 2, 'Australian Dollar'],
  ['BHD', 3, 'Bahraini Dinar'],
  ['BRL', 2, 'Brazilian Real'],
  ['CAD', 2, 'Canadian Dollar'],
  ['CHF', 2, 'Swiss Franc'],
  ['CLP', 0, 'Chilean Peso'],
  ['CNY', 2, 'Yuan Renminbi'],
  ['CZK', 2, 'Czech Koruna'],
  ['DKK', 2, 'Danish Krone'],
  ['EGP', 2, 'Egyptian Pound'],
  ['EUR', 2, 'Euro'],
  ['GBP', 2, 'Pound Sterling'],
  ['HKD', 2, 'Hong Kong Dollar'],
  ['HUF', 2, 'Forint'],
  ['IDR', 2, 'Rupiah'],
  ['ILS', 2, 'New Israeli Sheqel'],
  ['INR', 2, 'Indian Rupee'],
  ['IQD', 3, 'Iraqi Dinar'],
  ['ISK', 0, 'Iceland Krona'],
  ['JOD', 3, 'Jordanian Dinar'],
  ['JPY', 0, 'Yen'],
  ['KES', 2, 'Kenyan Shilling'],
  ['KRW', 0, 'Won'],
  ['KWD', 3, 'Kuwaiti Dinar'],
  ['LYD', 3, 'Libyan Dinar'],
  ['MAD', 2, 'Moroccan Dirham'],
  ['MXN', 2, 'Mexican Peso'],
  ['MYR', 2, 'Malaysian Ringgit'],
  ['NGN', 2, 'Naira'],
  ['NOK', 2, 'Norwegian Krone'],
  ['NZD', 2, 'New Zealand Dollar'],
  ['OMR', 3, 'Rial Omani'],
  ['PHP', 2, 'Philippine Peso'],
  ['PLN', 2, 'Zloty'],
  ['RUB', 2, 'Russian Ruble'],
  ['RUR', 2, 'Russian Ruble (legacy code, before 1998)'],
  ['SAR', 2, 'Saudi Riyal'],
  ['SDG', 2, 'Sudanese Pound'],
  ['SEK', 2, 'Swedish Krona'],
  ['SGD', 2, 'Singapore Dollar'],
  ['THB', 2, 'Baht'],
  ['TND', 3, 'Tunisian Dinar'],
  ['TRY', 2, 'Turkish Lira'],
  ['TWD', 2, 'New Taiwan Dollar'],
  ['UAH', 2, 'Hryvnia'],
  ['USD', 2, 'US Dollar'],
  ['VND', 0, 'Dong'],
  ['XAF', 0, 'CFA Franc BEAC'],
  ['XOF', 0, 'CFA Franc BCEAO'],
  ['ZAR', 2, 'Rand'],
  // Configured units, not ISO 4217.
  ['BTC', 8, 'Bitcoin (minor unit: satoshi)'],
  ['GBYTE', 9, 'Obyte GBYTE (minor unit: byte)'],
];

// Null prototype: "constructor", "__proto__" and friends are not currencies.
const table: Record<string, Currency> = Object.create(null) as Record<string, Currency>;
for (const [code, exponent, name] of TABLE) table[code] = Object.freeze({ code, exponent, name });

export const CURRENCIES: Readonly<Record<string, Currency>> = Object.freeze(table);

/** Largest absolute amount in minor units accepted anywhere: 10^15. Products of two such stay exact in BigInt. */
export const MAX_MINOR: number = 1_000_000_000_000_000;
const MAX_MINOR_BIG = 1_000_000_000_000_000n;

const MAX_BPS = 10_000;

/** Quote user input for an error message: JSON-escaped (control characters visible), long input shortened. */
function show(input: unknown): string {
  if (typeof input === 'string') {
    return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}...` : input);
  }
  if (typeof input === 'number' || typeof input === 'bigint') return String(input);
  return `(${input === null ? 'null' : typeof input})`;
}

export function isCurrency(code: string): boolean {
  return typeof code === 'string' && Object.hasOwn(CURRENCIES, code);
}

export function currency(code: string): Currency {
  const c = typeof code === 'string' && Object.hasOwn(CURRENCIES, code) ? CURRENCIES[code] : undefined;
  if (c === undefined) {
    const hint =
      typeof code === 'string' && code !== code.toUpperCase() && Object.hasOwn(CURRENCIES, code.toUpperCase())
        ? ` (codes are upper case: "${code.toUpperCase()}")`
        : '';
    throw new MoneyError('unknown_currency', `Unknown currency ${show(code)}${hint}`);
  }
  return c;
}

export function assertMinor(minor: number): void {
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || Math.abs(minor) > MAX_MINOR) {
    throw new MoneyError(
      'invalid_amount',
      `Invalid amount ${show(minor)}: expected a whole number of minor units with absolute value at most ${MAX_MINOR}`,
    );
  }
}

function pow10(n: number): bigint {
  return 10n ** BigInt(n);
}

/** Floor division for a positive divisor (BigInt `/` truncates toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

function toNumber(x: bigint): number {
  // Only called with |x| <= MAX_MINOR (or MAX_BPS), so the conversion is exact. Never returns -0.
  return Number(x);
}

interface Decimal {
  negative: boolean;
  int: string; // "0" or digits without a leading zero
  frac: string; // digits after the point, possibly empty
}

const DECIMAL = /^(-?)(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/**
 * Parse strict decimal text: optional "-", integer digits without leading zeros, optional "." and digits.
 * Returns the parts, or a sentence explaining what is wrong.
 */
function parseDecimal(text: string): Decimal | string {
  const m = DECIMAL.exec(text);
  if (m) return { negative: m[1] === '-', int: m[2] ?? '0', frac: m[3] ?? '' };
  if (text === '') return 'it is empty';
  if (/\s/.test(text)) return 'it must not contain spaces or other whitespace';
  if (/^[-+]?(nan|infinity)$/i.test(text)) return 'it must be a finite number';
  if (text.startsWith('+')) return 'write it without a leading "+"';
  if (/^-?0[xob]/i.test(text)) return 'hexadecimal, octal and binary notations are not accepted';
  if (/^-?[0-9.]+e[-+]?[0-9]*$/i.test(text)) return 'exponent notation (like "1e3") is not accepted';
  if (text.includes(',')) return 'use "." as the decimal separator and no thousands separators';
  if (/^-?\.[0-9]/.test(text)) return 'write a digit before the decimal point (like "0.5", not ".5")';
  if (/^-?[0-9]+\.$/.test(text))
    return 'write digits after the decimal point or none (like "5" or "5.0", not "5.")';
  if (/^-?0[0-9]/.test(text)) return 'leading zeros are not accepted';
  return 'expected a decimal number like "12.34"';
}

export interface ParseAmountOptions {
  allowZero?: boolean;
  allowNegative?: boolean;
}

/** Exact decimal text (or a safe-integer number of major units) -> integer minor units of `code`. */
export function parseAmount(input: string | number, code: string, opts: ParseAmountOptions = {}): number {
  const { exponent } = currency(code);
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) {
      throw new MoneyError('invalid_amount', `Invalid amount ${show(input)}: it must be a finite number`);
    }
    if (!Number.isSafeInteger(input)) {
      throw new MoneyError(
        'invalid_amount',
        Number.isInteger(input)
          ? `Invalid amount ${show(input)}: too large to be an exact number; send it as decimal text`
          : `Invalid amount ${show(input)}: a number with a fraction must be sent as exact decimal text`,
      );
    }
    text = BigInt(input).toString(); // safe integer: exact, no exponent notation, -0 becomes "0"
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw new MoneyError(
      'invalid_amount',
      `Invalid amount ${show(input)}: expected decimal text or a number`,
    );
  }

  const d = parseDecimal(text);
  if (typeof d === 'string') throw new MoneyError('invalid_amount', `Invalid amount ${show(input)}: ${d}`);
  if (d.frac.length > exponent) {
    throw new MoneyError(
      'too_many_decimals',
      exponent === 0
        ? `${code} has no decimal places; got ${show(input)}`
        : `${code} has ${exponent} decimal place${exponent === 1 ? '' : 's'}; got ${show(input)}`,
    );
  }
  // Leading zeros are rejected, so more than 17 digits means at least 10^17 minor units: too large, skip BigInt.
  const digits = d.int + d.frac.padEnd(exponent, '0');
  const magnitude = digits.length > 17 ? MAX_MINOR_BIG + 1n : BigInt(digits);
  if (magnitude > MAX_MINOR_BIG) {
    throw new MoneyError(
      'amount_too_large',
      `Amount ${show(input)} is too large: at most ${formatAmount(MAX_MINOR, code)} ${code}`,
    );
  }
  if (magnitude === 0n) {
    if (opts.allowZero) return 0;
    throw new MoneyError('amount_not_positive', `Amount ${show(input)} must be greater than zero`);
  }
  if (d.negative && !opts.allowNegative) {
    throw new MoneyError(
      'amount_not_positive',
      `Amount ${show(input)} must be ${opts.allowZero ? 'zero or more' : 'greater than zero'}`,
    );
  }
  return toNumber(d.negative ? -magnitude : magnitude);
}

/** Integer minor units -> exact decimal text with exactly the currency's number of decimals. */
export function formatAmount(minor: number, code: string): string {
  assertMinor(minor);
  const { exponent } = currency(code);
  const big = BigInt(minor);
  const digits = (big < 0n ? -big : big).toString().padStart(exponent + 1, '0');
  const sign = big < 0n ? '-' : '';
  if (exponent === 0) return sign + digits;
  return `${sign}${digits.slice(0, -exponent)}.${digits.slice(-exponent)}`;
}

function assertBps(bps: number): void {
  if (typeof bps !== 'number' || !Number.isSafeInteger(bps) || bps < 0 || bps > MAX_BPS) {
    throw new MoneyError(
      'invalid_percentage',
      `Invalid percentage ${show(bps)} basis points: expected a whole number from 0 to ${MAX_BPS}`,
    );
  }
}

/** Percentage text ("2.5") -> basis points (250). At most 2 decimals, 0% to 100%. */
export function parsePercent(input: string | number): number {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input)) {
      throw new MoneyError(
        'invalid_percentage',
        `Invalid percentage ${show(input)}: a number with a fraction must be sent as exact decimal text`,
      );
    }
    text = BigInt(input).toString();
  } else if (typeof input === 'string') {
    text = input;
  } else {
    throw new MoneyError(
      'invalid_percentage',
      `Invalid percentage ${show(input)}: expected decimal text or a number`,
    );
  }
  const d = parseDecimal(text);
  if (typeof d === 'string') {
    throw new MoneyError('invalid_percentage', `Invalid percentage ${show(input)}: ${d}`);
  }
  if (d.frac.length > 2) {
    throw new MoneyError(
      'invalid_percentage',
      `Invalid percentage ${show(input)}: at most 2 decimal places (0.01% steps)`,
    );
  }
  const bps = d.int.length > 3 ? BigInt(MAX_BPS) + 1n : BigInt(d.int + d.frac.padEnd(2, '0'));
  if ((d.negative && bps !== 0n) || bps > BigInt(MAX_BPS)) {
    throw new MoneyError('invalid_percentage', `Invalid percentage ${show(input)}: must be from 0 to 100`);
  }
  return toNumber(bps);
}

/** Basis points -> percentage text without trailing zeros: 500 -> "5", 250 -> "2.5", 1 -> "0.01". */
export function formatPercent(bps: number): string {
  assertBps(bps);
  const digits = bps.toString().padStart(3, '0');
  const frac = digits.slice(-2).replace(/0+$/, '');
  return frac === '' ? digits.slice(0, -2) : `${digits.slice(0, -2)}.${frac}`;
}

function assertNonNegative(minor: number, what: string): void {
  assertMinor(minor);
  if (minor < 0) throw new MoneyError('invalid_amount', `${what} ${show(minor)} must not be negative`);
}

/** Cashback for a purchase: floor(purchase * bps / 10000). */
export function cashbackFor(purchaseMinor: number, bps: number): number {
  assertNonNegative(purchaseMinor, 'Purchase amount');
  assertBps(bps);
  return toNumber((BigInt(purchaseMinor) * BigInt(bps)) / BigInt(MAX_BPS));
}

/**
 * Total clawed back once refunds totalling `refundedTotalMinor` (R) have been made against a purchase of
 * `purchaseMinor` (P) that earned `earnedMinor` (E): floor(E * R / P). The clawback for one partial refund
 * is the difference of this total before and after it, so the partial clawbacks of a full refund sum to E.
 */
export function cumulativeClawback(
  earnedMinor: number,
  purchaseMinor: number,
  refundedTotalMinor: number,
): number {
  assertNonNegative(earnedMinor, 'Earned amount');
  assertNonNegative(purchaseMinor, 'Purchase amount');
  assertMinor(refundedTotalMinor);
  if (refundedTotalMinor < 0 || refundedTotalMinor > purchaseMinor) {
    throw new MoneyError(
      'invalid_amount',
      `Refunded total ${show(refundedTotalMinor)} must be from 0 to the purchase amount ${purchaseMinor}`,
    );
  }
  if (refundedTotalMinor === 0) return 0;
  return toNumber((BigInt(earnedMinor) * BigInt(refundedTotalMinor)) / BigInt(purchaseMinor));
}

const RATE_MAX_LENGTH = 40;

/**
 * Convert `minor` units of `from` into `to` minor units at `rate` (exact decimal text: major units of `to`
 * per one major unit of `from`). Exact rational arithmetic; the result is floored.
 */
export function convertAmount(minor: number, from: string, to: string, rate: string): number {
  assertMinor(minor);
  const f = currency(from);
  const t = currency(to);
  if (typeof rate !== 'string') {
    throw new MoneyError(
      'invalid_amount',
      `Invalid exchange rate ${show(rate)}: expected exact decimal text`,
    );
  }
  if (rate.length > RATE_MAX_LENGTH) {
    throw new MoneyError(
      'invalid_amount',
      `Invalid exchange rate ${show(rate)}: at most ${RATE_MAX_LENGTH} characters`,
    );
  }
  const r = parseDecimal(rate);
  if (typeof r === 'string')
    throw new MoneyError('invalid_amount', `Invalid exchange rate ${show(rate)}: ${r}`);
  const rateNumerator = BigInt(r.int + r.frac);
  if (r.negative || rateNumerator === 0n) {
    throw new MoneyError('invalid_amount', `Invalid exchange rate ${show(rate)}: must be greater than zero`);
  }
  const numerator = BigInt(minor) * rateNumerator * pow10(t.exponent);
  const denominator = pow10(r.frac.length + f.exponent);
  const result = floorDiv(numerator, denominator);
  if (result > MAX_MINOR_BIG || result < -MAX_MINOR_BIG) {
    throw new MoneyError(
      'amount_too_large',
      `Converting ${formatAmount(minor, from)} ${from} at rate ${rate} gives more than ${formatAmount(MAX_MINOR, to)} ${to}`,
    );
  }
  return toNumber(result);
}
