// The amount the cashier types: digits only, read as integer minor units (typing 5 0 0 0 in AUD is
// $50.00, in JPY ¥5,000), never through a float. The digits are kept as text without leading zeros
// and bounded, so the amount is always a safe integer well inside the engine's MAX_MINOR.
import type { KeypadKey } from '../shared/keypad.tsx';

/** At most 12 digits: 999,999,999,999 minor units (under 10^12, far below MAX_MINOR = 10^15). */
export const MAX_DIGITS = 12;

/** The digits after `key`: a digit appended (ignored once full), the last one deleted, or none. */
export function pressKey(digits: string, key: KeypadKey): string {
  if (key === 'clear') return '';
  if (key === 'back') return digits.slice(0, -1);
  if (digits.length >= MAX_DIGITS) return digits;
  if (digits === '' && key === '0') return ''; // no leading zero: 0 then 5 is 5 minor units
  return digits + key;
}

/** The amount in minor units the digits stand for (0 for none). */
export function amountOf(digits: string): number {
  if (!/^(?:[1-9]\d{0,11})?$/.test(digits)) throw new Error(`not an amount's digits: ${digits}`);
  return digits === '' ? 0 : Number.parseInt(digits, 10);
}
