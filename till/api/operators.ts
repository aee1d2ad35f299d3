// Operators of the till and their sessions, on the till's store: create (a manager's action), sign in
// by PIN with the members' lockout rule (5 wrong PINs lock for 15 minutes), opaque session tokens kept
// only as their SHA-256, sign out. The PIN hashing is the engine's (scrypt), not a second copy.
import { createHash, randomBytes } from 'node:crypto';
import { hashPin, pinMatches } from '../../engine/domain/member-auth.ts';
import type { Store } from '../../engine/store/store.ts';
import type { OperatorRole } from './config.ts';
import { ApiError } from './errors.ts';

export const PIN_MAX_FAILURES = 5;
export const PIN_LOCK_MS = 15 * 60 * 1000;

export interface Operator {
  id: number;
  name: string;
  role: OperatorRole;
  createdAt: number;
}

interface OperatorRow {
  id: number;
  name: string;
  role: OperatorRole;
  pin_hash: string;
  pin_failures: number;
  pin_locked_until: number | null;
  created_at: number;
}

const toOperator = (r: Pick<OperatorRow, 'id' | 'name' | 'role' | 'created_at'>): Operator => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
});

/** A random 256-bit opaque token (the launch token and session tokens). */
export const newToken = (): string => randomBytes(32).toString('base64url');
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function listOperators(store: Store): Promise<Operator[]> {
  const rows = await store.read((tx) =>
    tx.all<OperatorRow>('SELECT id, name, role, created_at FROM operators ORDER BY id'),
  );
  return rows.map(toOperator);
}

export async function createOperator(
  store: Store,
  input: { name: string; role: OperatorRole; pin: string },
  now: number,
): Promise<Operator> {
  const pinHash = await hashPin(input.pin); // slow: outside the transaction
  return store.transact(async (tx) => {
    const taken = await tx.one('SELECT id FROM operators WHERE name = ?', [input.name]);
    if (taken) throw new ApiError(409, 'operator_exists', `An operator named ${input.name} exists`);
    const row = await tx.row<OperatorRow>(
      'INSERT INTO operators (name, role, pin_hash, created_at) VALUES (?, ?, ?, ?) RETURNING *',
      [input.name, input.role, pinHash, now],
    );
    return toOperator(row);
  });
}

/** The first start: creates the configured manager when the till has none. Returns whether it did. */
export async function ensureFirstManager(
  store: Store,
  manager: { name: string; pin: string } | undefined,
  now: number,
): Promise<boolean> {
  if (!manager) return false;
  const any = await store.read((tx) => tx.one("SELECT id FROM operators WHERE role = 'manager'"));
  if (any) return false;
  await createOperator(store, { ...manager, role: 'manager' }, now);
  return true;
}

const lockedError = (until: number) =>
  new ApiError(423, 'pin_locked', `Too many wrong PINs; locked until ${new Date(until).toISOString()}`);
// One answer for an unknown name and a wrong PIN, so sign-in does not reveal who exists.
const wrongPin = () => new ApiError(401, 'pin_invalid', 'Unknown operator or wrong PIN');

/** Checks the PIN and opens a session; the token is returned once and only its hash is stored. */
export async function signIn(
  store: Store,
  input: { name: string; pin: string },
  now: () => number,
  ttlMs: number,
): Promise<{ token: string; operator: Operator; expiresAt: number }> {
  const row = await store.read((tx) =>
    tx.one<OperatorRow>('SELECT * FROM operators WHERE name = ?', [input.name]),
  );
  if (!row) throw wrongPin();
  if (row.pin_locked_until !== null && row.pin_locked_until > now()) throw lockedError(row.pin_locked_until);
  const ok = await pinMatches(input.pin, row.pin_hash); // slow: outside any transaction
  const token = newToken();
  const outcome = await store.transact(async (tx) => {
    const t = now();
    const cur = await tx.row<OperatorRow>('SELECT * FROM operators WHERE id = ?', [row.id]);
    // Another request may have locked it while scrypt ran.
    if (cur.pin_locked_until !== null && cur.pin_locked_until > t)
      return { locked: cur.pin_locked_until, expiresAt: null };
    if (!ok) {
      const failures = cur.pin_failures + 1;
      const locked = failures >= PIN_MAX_FAILURES ? t + PIN_LOCK_MS : null;
      await tx.run('UPDATE operators SET pin_failures = ?, pin_locked_until = ? WHERE id = ?', [
        locked === null ? failures : 0,
        locked,
        row.id,
      ]);
      return { locked, expiresAt: null };
    }
    await tx.run('UPDATE operators SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?', [row.id]);
    await tx.run('DELETE FROM operator_sessions WHERE expires_at <= ?', [t]);
    await tx.run('INSERT INTO operator_sessions (token_hash, operator_id, expires_at) VALUES (?, ?, ?)', [
      tokenHash(token),
      row.id,
      t + ttlMs,
    ]);
    return { locked: null, expiresAt: t + ttlMs };
  });
  if (outcome.locked !== null) throw lockedError(outcome.locked);
  if (outcome.expiresAt === null) throw wrongPin();
  return { token, operator: toOperator(row), expiresAt: outcome.expiresAt };
}

/** The operator a live session token belongs to, or undefined (unknown or expired). */
export async function sessionOperator(
  store: Store,
  token: string,
  now: number,
): Promise<Operator | undefined> {
  const row = await store.read((tx) =>
    tx.one<OperatorRow>(
      `SELECT o.id, o.name, o.role, o.created_at FROM operator_sessions s
         JOIN operators o ON o.id = s.operator_id WHERE s.token_hash = ? AND s.expires_at > ?`,
      [tokenHash(token), now],
    ),
  );
  return row && toOperator(row);
}

export async function signOut(store: Store, token: string): Promise<void> {
  await store.transact((tx) =>
    tx.run('DELETE FROM operator_sessions WHERE token_hash = ?', [tokenHash(token)]),
  );
}
