// Pairing a remote customer display by a short code. A manager asks for a code (6 digits, valid 2
// minutes, one at a time, in memory only); the display sends it back with its name and receives a
// display token, which opens the event stream and no other route. Five wrong codes drop the current
// one, so guessing has at most 5 chances in a million per code a manager asked for.
import { randomInt, timingSafeEqual } from 'node:crypto';
import type { Store } from '../../engine/store/store.ts';
import { ApiError } from './errors.ts';
import { newToken, tokenHash } from './operators.ts';

export const PAIRING_CODE_TTL_MS = 2 * 60_000;
export const PAIRING_MAX_FAILURES = 5;

export interface Pairing {
  /** A new code, replacing any earlier one. */
  newCode(): { code: string; expiresAt: number };
  /** Exchanges the current code for a display token (shown once; stored as its hash). */
  claim(code: string, name: string): Promise<{ token: string; displayId: number }>;
  /** The paired display a token belongs to, if any. */
  displayOf(token: string): Promise<number | undefined>;
  list(): Promise<PairedDisplay[]>;
  /** Unpairs a display: its token stops working (the caller closes its open streams). */
  remove(id: number): Promise<void>;
}

export interface PairedDisplay {
  id: number;
  name: string;
  createdAt: number;
}

export function createPairing(store: Store, now: () => number): Pairing {
  let current: { code: string; expiresAt: number; failures: number } | undefined;
  const invalid = () =>
    new ApiError(401, 'pairing_invalid', 'Wrong or expired pairing code; ask a manager for a new one');
  return {
    newCode() {
      current = {
        code: String(randomInt(0, 1_000_000)).padStart(6, '0'),
        expiresAt: now() + PAIRING_CODE_TTL_MS,
        failures: 0,
      };
      return { code: current.code, expiresAt: current.expiresAt };
    },
    async claim(code, name) {
      const c = current;
      if (!c || c.expiresAt <= now()) throw invalid();
      if (code.length !== c.code.length || !timingSafeEqual(Buffer.from(code), Buffer.from(c.code))) {
        if (++c.failures >= PAIRING_MAX_FAILURES) current = undefined;
        throw invalid();
      }
      current = undefined; // single use
      const token = newToken();
      const row = await store.transact((tx) =>
        tx.row<{ id: number }>(
          'INSERT INTO paired_displays (name, token_hash, created_at) VALUES (?, ?, ?) RETURNING id',
          [name, tokenHash(token), now()],
        ),
      );
      return { token, displayId: row.id };
    },
    async displayOf(token) {
      const row = await store.read((tx) =>
        tx.one<{ id: number }>('SELECT id FROM paired_displays WHERE token_hash = ?', [tokenHash(token)]),
      );
      return row?.id;
    },
    list: () =>
      store.read((tx) =>
        tx.all<PairedDisplay>('SELECT id, name, created_at AS createdAt FROM paired_displays ORDER BY id'),
      ),
    async remove(id) {
      const gone = await store.transact((tx) =>
        tx.one('DELETE FROM paired_displays WHERE id = ? RETURNING id', [id]),
      );
      if (!gone) throw new ApiError(404, 'not_found', `No paired display ${id}`);
    },
  };
}
