// Members: found by id, email, phone or a linked card; auto-created on earn when a name is given.
// Cards are stored as a keyed hash (contract/card-hash.ts) plus first 6 and last 4 digits, never the PAN.
import type { Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export interface Member {
  id: number;
  /** The merchant's own id for the member (seed 001's user_id), if given. */
  externalId: string | null;
  email: string | null;
  phone: string | null;
  name: string | null;
  hasPin: boolean;
  createdAt: number;
}

/** How a request names a member: exactly one of these. */
export type MemberSelector =
  { id: number } | { externalId: string } | { email: string } | { phone: string } | { cardHash: string };

interface MemberRow {
  id: number;
  external_id: string | null;
  email: string | null;
  phone: string | null;
  name: string | null;
  pin_hash: string | null;
  created_at: number;
}

const fromRow = (r: MemberRow): Member => ({
  id: r.id,
  externalId: r.external_id,
  email: r.email,
  phone: r.phone,
  name: r.name,
  hasPin: r.pin_hash !== null,
  createdAt: r.created_at,
});

export const normalizeEmail = (email: string) => email.trim().toLowerCase();
/** Phones are kept as digits with an optional leading +, so "+61 412 345 678" and "+61412345678" match. */
export function normalizePhone(phone: string): string {
  const normalized = phone.trim().replace(/[\s().-]/g, '');
  if (!/^\+?\d{6,15}$/.test(normalized)) {
    throw new DomainError(
      'validation_error',
      `phone: "${phone.slice(0, 40)}" is not a phone number (6 to 15 digits, + allowed)`,
      {
        field: 'phone',
      },
    );
  }
  return normalized;
}

/**
 * The merchant's id for a member: printable ASCII without spaces, and never all digits, so that a
 * seed 001 user_id names either an external id or our member id, never both.
 */
export const isExternalId = (externalId: string): boolean =>
  /^[\x21-\x7e]{1,64}$/.test(externalId) && !/^\d+$/.test(externalId);

export const EXTERNAL_ID_RULE =
  '1 to 64 printable characters without spaces, not all digits (digits name our member id)';

export function checkExternalId(externalId: string): string {
  if (!isExternalId(externalId)) {
    throw new DomainError('validation_error', `external_id: ${EXTERNAL_ID_RULE}`, { field: 'external_id' });
  }
  return externalId;
}

function describe(selector: MemberSelector): string {
  if ('id' in selector) return `id ${selector.id}`;
  if ('externalId' in selector) return `external id ${selector.externalId}`;
  if ('email' in selector) return `email ${selector.email}`;
  if ('phone' in selector) return `phone ${selector.phone}`;
  return 'that card';
}

export async function findMember(tx: Tx, selector: MemberSelector): Promise<Member | undefined> {
  let row: MemberRow | undefined;
  if ('id' in selector) row = await tx.one<MemberRow>('SELECT * FROM members WHERE id = ?', [selector.id]);
  else if ('externalId' in selector)
    row = await tx.one<MemberRow>('SELECT * FROM members WHERE external_id = ?', [selector.externalId]);
  else if ('email' in selector)
    row = await tx.one<MemberRow>('SELECT * FROM members WHERE email = ?', [normalizeEmail(selector.email)]);
  else if ('phone' in selector)
    row = await tx.one<MemberRow>('SELECT * FROM members WHERE phone = ?', [normalizePhone(selector.phone)]);
  else
    row = await tx.one<MemberRow>(
      'SELECT m.* FROM members m JOIN member_cards c ON c.member_id = m.id WHERE c.card_hash = ?',
      [selector.cardHash],
    );
  return row && fromRow(row);
}

export async function getMember(tx: Tx, selector: MemberSelector): Promise<Member> {
  const member = await findMember(tx, selector);
  if (!member) throw new DomainError('member_not_found', `No member with ${describe(selector)}`);
  return member;
}

export interface NewMember {
  externalId?: string | null;
  email?: string | null;
  phone?: string | null;
  name?: string | null;
}

export async function createMember(tx: Tx, m: NewMember, now: number): Promise<Member> {
  const email = m.email ? normalizeEmail(m.email) : null;
  const phone = m.phone ? normalizePhone(m.phone) : null;
  const externalId = m.externalId ? checkExternalId(m.externalId) : null;
  if (externalId && (await findMember(tx, { externalId })))
    throw new DomainError('conflict', `A member with external id ${externalId} exists`);
  if (email && (await findMember(tx, { email })))
    throw new DomainError('conflict', `A member with email ${email} exists`);
  if (phone && (await findMember(tx, { phone })))
    throw new DomainError('conflict', `A member with phone ${phone} exists`);
  const row = await tx.row<MemberRow>(
    'INSERT INTO members (external_id, email, phone, name, created_at) VALUES (?, ?, ?, ?, ?) RETURNING *',
    [externalId, email, phone, m.name ?? null, now],
  );
  return fromRow(row);
}

/**
 * Finds the member, or creates one when a name is given and the selector is an email or phone.
 * `lookup` is the `findMember` the caller already sent, if any (so it travelled with earlier statements).
 */
export async function findOrCreateMember(
  tx: Tx,
  selector: MemberSelector,
  name: string | undefined,
  now: number,
  lookup: Promise<Member | undefined> = findMember(tx, selector),
): Promise<{ member: Member; created: boolean }> {
  const found = await lookup;
  if (found) return { member: found, created: false };
  if (name && ('email' in selector || 'phone' in selector)) {
    try {
      return { member: await createMember(tx, { ...selector, name }, now), created: true };
    } catch (error) {
      // On PostgreSQL each statement sees the latest commits: another engine may have created this
      // member since the lookup above. Theirs is the member (a race at the INSERT itself is a unique
      // violation, which the store answers by running the whole transaction again).
      const created =
        error instanceof DomainError && error.code === 'conflict' && (await findMember(tx, selector));
      if (created) return { member: created, created: false };
      throw error;
    }
  }
  throw new DomainError(
    'member_not_found',
    `No member with ${describe(selector)}` +
      ('email' in selector || 'phone' in selector ? '; send member_name to create one' : ''),
  );
}

export interface LinkedCard {
  id: number;
  memberId: number;
  first6: string;
  last4: string;
}

/** Links a card to a member by its keyed hash. A card already linked elsewhere is a conflict. */
export async function linkCard(
  tx: Tx,
  memberId: number,
  card: { hash: string; first6: string; last4: string },
  now: number,
): Promise<LinkedCard> {
  await getMember(tx, { id: memberId });
  const existing = await tx.one<{ id: number; member_id: number }>(
    'SELECT id, member_id FROM member_cards WHERE card_hash = ?',
    [card.hash],
  );
  if (existing && existing.member_id !== memberId) {
    throw new DomainError('conflict', `Card ${card.first6}******${card.last4} is linked to another member`);
  }
  if (existing) return { id: existing.id, memberId, first6: card.first6, last4: card.last4 };
  const row = await tx.row<{ id: number }>(
    'INSERT INTO member_cards (member_id, card_hash, first6, last4, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id',
    [memberId, card.hash, card.first6, card.last4, now],
  );
  return { id: row.id, memberId, first6: card.first6, last4: card.last4 };
}
