// The payout methods' fields as the customer types them: which message a value earns, and the submit
// body the API takes. The checks are the contract's own (Luhn, BSB, PayID), the ones the API applies,
// so the page and the server never disagree about a value.
import { isExpiryCurrent, isValidPan } from '../../../contract/card.ts';
import { isValidAccountNumber, isValidBsb, payIdType } from '../../../contract/au-payments.ts';
import type { MessageKey } from './messages.ts';

export type MethodKind = 'card' | 'au_bank' | 'payid' | 'paypal';

/** Each method's fields, by the id of their input on the page. */
export const METHOD_FIELDS = {
  card: ['cardNumber', 'cardExpiry'],
  au_bank: ['bsb', 'account', 'accountName'],
  payid: ['payid'],
  paypal: ['paypalEmail'],
} as const satisfies Record<MethodKind, readonly string[]>;

export type FieldId = (typeof METHOD_FIELDS)[MethodKind][number];
export type FieldValues = Partial<Record<FieldId, string>>;

/** The API's field paths (in its validation errors) and the page's inputs. */
export const API_FIELDS: Readonly<Record<string, FieldId | 'consent' | 'method'>> = {
  'method.number': 'cardNumber',
  'method.expiry': 'cardExpiry',
  'method.bsb': 'bsb',
  'method.account': 'account',
  'method.account_name': 'accountName',
  'method.payid': 'payid',
  'method.email': 'paypalEmail',
  'method.kind': 'method',
  method: 'method',
  consent: 'consent',
};

/**
 * What to say when the API refuses a value this page found acceptable: its checks depend on its own
 * clock (card expiry) or are stricter (zod's email).
 */
export const REFUSED: Readonly<Record<FieldId, MessageKey>> = {
  cardNumber: 'errCardNumber',
  cardExpiry: 'errCardExpired',
  bsb: 'errBsb',
  account: 'errAccount',
  accountName: 'errAccountName',
  payid: 'errPayid',
  paypalEmail: 'errEmail',
};

const cardDigits = (v: string) => v.replace(/[\s-]/g, '');

/** "0829" (as a phone keypad types it) becomes "08/29"; anything else is left as typed. */
export function normalizeExpiry(value: string): string {
  const v = value.trim();
  return /^\d{4}$/.test(v) ? `${v.slice(0, 2)}/${v.slice(2)}` : v;
}

/** What is wrong with a field's value, or undefined when the API will take it. `now` dates the card. */
export function fieldProblem(field: FieldId, value: string, now: number): MessageKey | undefined {
  const v = value.trim();
  switch (field) {
    case 'cardNumber': {
      const d = cardDigits(v);
      if (!/^\d{12,19}$/.test(d)) return 'errCardNumberShort';
      return isValidPan(d) ? undefined : 'errCardNumber';
    }
    case 'cardExpiry': {
      const m = /^(0[1-9]|1[0-2])\/(\d{2})$/.exec(normalizeExpiry(v));
      if (!m) return 'errCardExpiry';
      return isExpiryCurrent(`${m[2]}${m[1]}`, now) ? undefined : 'errCardExpired';
    }
    case 'bsb':
      return isValidBsb(v) ? undefined : 'errBsb';
    case 'account':
      return isValidAccountNumber(v) ? undefined : 'errAccount';
    case 'accountName':
      return v.length <= 100 ? undefined : 'errAccountName';
    case 'payid':
      return payIdType(v) === undefined ? 'errPayid' : undefined;
    case 'paypalEmail':
      return payIdType(v) === 'email' ? undefined : 'errEmail';
  }
}

/**
 * Feedback while the card number is typed: nothing until it could be whole, then whether its check
 * digit is right. A wrong number is called out at 16 digits (most cards) or at 19 (the longest).
 */
export function cardNumberFeedback(value: string): { key: MessageKey; ok: boolean } | undefined {
  const d = cardDigits(value);
  if (!/^\d*$/.test(d)) return { key: 'errCardNumber', ok: false };
  if (d.length < 12) return undefined;
  if (isValidPan(d)) return { key: 'cardOk', ok: true };
  return d.length >= 16 ? { key: 'errCardNumber', ok: false } : undefined;
}

/** The `method` of the submit body for the chosen kind (values already checked). */
export function methodBody(kind: MethodKind, values: FieldValues): Record<string, string> {
  const v = (field: FieldId) => (values[field] ?? '').trim();
  switch (kind) {
    case 'card':
      return { kind, number: cardDigits(v('cardNumber')), expiry: normalizeExpiry(v('cardExpiry')) };
    case 'au_bank':
      return {
        kind,
        bsb: v('bsb'),
        account: v('account'),
        ...(v('accountName') ? { account_name: v('accountName') } : {}),
      };
    case 'payid':
      return { kind, payid: v('payid') };
    case 'paypal':
      return { kind, email: v('paypalEmail') };
  }
}
