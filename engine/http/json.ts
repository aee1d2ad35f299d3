// JSON that never passes money through floating point. Parsing: integers that fit a JS number stay
// numbers; any other number (50.00, 1e3, huge integers) reaches the schemas as a LosslessNumber
// holding its exact source text, so "50.00" can be turned into minor units exactly, and a schema
// that wants a string or an integer refuses it. Serializing: money goes out as
// LosslessNumber, printed digit for digit ("2.50"), as the seed documents show it.
import { LosslessNumber, parse, stringify } from 'lossless-json';
import { formatAmount, formatPercent } from '../../contract/money.ts';

const SAFE_INTEGER = /^-?\d{1,15}$/;

export function parseJson(text: string): unknown {
  try {
    return parse(text, null, (digits) =>
      SAFE_INTEGER.test(digits) ? Number(digits) : new LosslessNumber(digits),
    );
  } catch (error) {
    if (error instanceof RangeError) throw new Error('the JSON is nested too deeply', { cause: error });
    throw error;
  }
}

export function serializeJson(value: unknown): string {
  return stringify(value) ?? 'null';
}

/** A money amount as a JSON number in major units with the currency's decimals: 250 USD -> 2.50. */
export function decimalNumber(minor: number, currency: string): LosslessNumber {
  return new LosslessNumber(formatAmount(minor, currency));
}

/** A percentage in basis points as a JSON number: 500 -> 5, 250 -> 2.5. */
export function percentNumber(bps: number): LosslessNumber {
  return new LosslessNumber(formatPercent(bps));
}
