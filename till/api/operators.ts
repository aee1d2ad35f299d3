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
  /** Set when a manager took the operator off the till. */
  disabledAt: number | null;
}

interface OperatorRow {
  id: number;
  name: string;
  role: OperatorRole;
  pin_hash: string;
  pin_failures: number;
  pin_locked_until: number | null;
  created_at: number;
  disabled_at: number | null;
}

const PUBLIC_COLUMNS = 'o.id, o.name, o.role, o.created_at, o.disabled_at';
const toOperator = (
  r: Pick<OperatorRow, 'id' | 'name' | 'role' | 'created_at' | 'disabled_at'>,
): Operator => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  disabledAt: r.disabled_at,
});

/** A random 256-bit opaque token (the launch token and session tokens). */
export const newToken = (): string => randomBytes(32).toString('base64url');
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');

export async function listOperators(store: Store): Promise<Operator[]> {
  const rows = await store.read((tx) =>
    tx.all<OperatorRow>(`SELECT ${PUBLIC_COLUMNS} FROM operators o ORDER BY o.id`),
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
  // Any manager ever created, disabled or not: the configured PIN is for the first start only.
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
  // A disabled operator gets the same answer as an unknown one.
  if (!row || row.disabled_at !== null) throw wrongPin();
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
      `SELECT ${PUBLIC_COLUMNS} FROM operator_sessions s JOIN operators o ON o.id = s.operator_id
        WHERE s.token_hash = ? AND s.expires_at > ? AND o.disabled_at IS NULL`,
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

export interface OperatorChange {
  role?: OperatorRole;
  pin?: string;
  disabled?: boolean;
}

/**
 * A manager's change to an operator: a new role (live at their next request), a new PIN (which also
 * clears a lock), or disabling (their sessions end) and enabling again. The till always keeps one
 * enabled manager, so nobody can lock every manager out.
 */
export async function updateOperator(
  store: Store,
  id: number,
  change: OperatorChange,
  now: number,
): Promise<Operator> {
  const pinHash = change.pin === undefined ? undefined : await hashPin(change.pin); // slow: outside
  return store.transact(async (tx) => {
    const cur = await tx.one<OperatorRow>('SELECT * FROM operators WHERE id = ?', [id]);
    if (!cur) throw new ApiError(404, 'not_found', `No operator ${id}`);
    const role = change.role ?? cur.role;
    const disabledAt =
      change.disabled === undefined ? cur.disabled_at : change.disabled ? (cur.disabled_at ?? now) : null;
    const stillManager = role === 'manager' && disabledAt === null;
    if (cur.role === 'manager' && cur.disabled_at === null && !stillManager) {
      const others = await tx.row<{ n: number }>(
        "SELECT COUNT(*) AS n FROM operators WHERE role = 'manager' AND disabled_at IS NULL AND id <> ?",
        [id],
      );
      if (others.n === 0)
        throw new ApiError(409, 'last_manager', 'The till needs one enabled manager; add another first');
    }
    const row = await tx.row<OperatorRow>(
      `UPDATE operators SET role = ?, disabled_at = ?, pin_hash = COALESCE(?, pin_hash),
              pin_failures = CASE WHEN ? IS NULL THEN pin_failures ELSE 0 END,
              pin_locked_until = CASE WHEN ? IS NULL THEN pin_locked_until ELSE NULL END
        WHERE id = ? RETURNING *`,
      [role, disabledAt, pinHash ?? null, pinHash ?? null, pinHash ?? null, id],
    );
    if (disabledAt !== null) await tx.run('DELETE FROM operator_sessions WHERE operator_id = ?', [id]);
    return toOperator(row);
  });
}
