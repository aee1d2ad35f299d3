// Request pieces more than one API shares: member selection, decimal amounts, time formatting.
import { z } from 'zod';
import type { MemberSelector } from '../domain/members.ts';
import { DomainError } from '../domain/errors.ts';

/** A seed API's decimal amount: a JSON number (reaching us as exact text) or a decimal string. */
export const decimalAmount = z
  .union([z.number(), z.string()], { error: 'must be a number' })
  .meta({ description: 'Decimal amount in major units, e.g. 50.00 (a JSON number, or a decimal string)' });

export const positiveId = z.coerce
  .number({ error: 'must be an integer id' })
  .int('must be an integer id')
  .positive('must be a positive id');

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
