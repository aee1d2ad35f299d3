// Request pieces more than one API shares: member selection, decimal amounts, time formatting.
import { LosslessNumber } from 'lossless-json';
import { z } from 'zod';
import type { MemberSelector } from '../domain/members.ts';
import { DomainError } from '../domain/errors.ts';
import { isValidAccountNumber, isValidBsb, payIdType } from '../../contract/au-payments.ts';

/**
 * A seed API's decimal amount: a JSON number (reaching us as its exact text, see http/json.ts) or a
 * decimal string. Parsed into minor units by the domain, which knows the currency.
 */
export const decimalAmount = z
  .union([z.number(), z.string(), z.instanceof(LosslessNumber)], { error: 'must be a number' })
  .transform((v) => (v instanceof LosslessNumber ? v.value : v))
  .meta({ description: 'Decimal amount in major units, e.g. 50.00 (a JSON number, or a decimal string)' });

/** Australian payout fields (the claim page's and seed 001's), checked with the contract's rules. */
export const bsbField = z.string().refine(isValidBsb, 'must be a BSB: 6 digits, as 062-000 or 062000');
export const accountNumberField = z
  .string()
  .refine(isValidAccountNumber, 'must be an account number of 5 to 9 digits');
export const payidField = z
  .string()
  .max(254)
  .refine(
    (v) => payIdType(v) !== undefined,
    'must be an email, an Australian mobile, or an ABN or ACN with a valid checksum',
  );

/** An id in a JSON body: a JSON integer, nothing coerced. */
export const bodyId = z
  .number({ error: 'must be an integer id' })
  .int('must be an integer id')
  .positive('must be a positive id');

/** An id in a path or query string: decimal digits only ("0x1", "1e0" and " 1" are refused). */
export const pathId = z
  .string({ error: 'must be an integer id' })
  .regex(/^[1-9]\d{0,15}$/, 'must be a positive integer id')
  .transform(Number);

/** A whole number in a query string, within bounds. */
export const queryInt = (min: number, max: number) =>
  z
    .string({ error: 'must be a whole number' })
    .regex(/^\d{1,9}$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

export const isoTime = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** member_id, email or phone, in that order of preference, as seed 002 names them. */
export function memberFromFields(f: {
  member_id?: number | undefined;
  email?: string | undefined;
  phone?: string | undefined;
}): MemberSelector {
  if (f.member_id !== undefined) return { id: f.member_id };
  if (f.email !== undefined) return { email: f.email };
  if (f.phone !== undefined) return { phone: f.phone };
  throw new DomainError('validation_error', 'member_id, email or phone is required');
}

/** The purchase a refund names, by its earn transaction id or its reference (both APIs spell it so). */
export function originalPurchase(f: {
  original_transaction_id?: number | undefined;
  original_reference?: string | undefined;
}): { transactionId: number } | { reference: string } | undefined {
  if (f.original_transaction_id !== undefined) return { transactionId: f.original_transaction_id };
  if (f.original_reference !== undefined) return { reference: f.original_reference };
  return undefined;
}
