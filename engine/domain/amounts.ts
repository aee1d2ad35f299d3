// Amounts as the APIs send them: integer minor units (native API) or exact decimal text of major
// units (seed APIs, whose JSON numbers reach us as their original text).
import {
  MAX_MINOR,
  MoneyError,
  currency as currencyOf,
  isCurrency,
  formatAmount,
  parseAmount,
} from '../../contract/money.ts';
import { DomainError } from './errors.ts';

export type AmountInput = { minor: number } | { decimal: string | number };

/** A currency code a request names: known to the table, or a validation error naming the field. */
export function knownCurrency(code: string, field: string): string {
  if (isCurrency(code)) return code;
  const hint = isCurrency(code.toUpperCase())
    ? `; did you mean "${code.toUpperCase()}"?`
    : ' (ISO 4217 codes, upper case)';
  throw new DomainError('validation_error', `${field}: unknown currency "${code.slice(0, 12)}"${hint}`, {
    field,
  });
}

/** Parses an amount in the given currency; a bad amount is a validation error naming the field. */
export function amountOf(
  input: AmountInput,
  currency: string,
  field: string,
  opts: { allowZero?: boolean; allowNegative?: boolean } = {},
): number {
  const fail = (message: string, reason: string) =>
    new DomainError('validation_error', `${field}: ${message}`, { field, reason });
  if ('minor' in input) {
    const v = input.minor;
    currencyOf(currency);
    if (!Number.isSafeInteger(v))
      throw fail(`must be an integer number of minor units, got ${v}`, 'invalid_amount');
    if (Math.abs(v) > MAX_MINOR) throw fail(`must be at most ${MAX_MINOR} minor units`, 'amount_too_large');
    if (v === 0 && !opts.allowZero) throw fail('must not be zero', 'amount_not_positive');
    if (v < 0 && !opts.allowNegative) throw fail(`must be positive, got ${v}`, 'amount_not_positive');
    return v;
  }
  try {
    return parseAmount(input.decimal, currency, opts);
  } catch (error) {
    if (error instanceof MoneyError) throw fail(error.message, error.code);
    throw error;
  }
}

/** "12.50 AUD": for messages a person reads. */
export const describeAmount = (minor: number, currency: string) =>
  `${formatAmount(minor, currency)} ${currency}`;
