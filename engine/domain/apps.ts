// API apps: an app id and a secret (stored as SHA-256, compared in constant time) with scopes.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store, Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export const SCOPES = ['cashback_read', 'cashback_write', 'card_read', 'partner', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface App {
  id: number;
  appId: string;
  name: string;
  scopes: Scope[];
  rateLimitPerMinute: number;
  /** The chain's store and till this app is (a till's own key), or null for other apps. */
  store: string | null;
  till: string | null;
  createdAt: number;
  revokedAt: number | null;
}

interface AppRow {
  id: number;
  app_id: string;
  name: string;
  secret_hash: string;
  scopes: string;
  rate_limit_per_minute: number;
  store: string | null;
  till: string | null;
  created_at: number;
  revoked_at: number | null;
}

const fromRow = (r: AppRow): App => ({
  id: r.id,
  appId: r.app_id,
  name: r.name,
  scopes: r.scopes.split(' ').filter(Boolean) as Scope[],
  rateLimitPerMinute: r.rate_limit_per_minute,
  store: r.store,
  till: r.till,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

const hashSecret = (secret: string) => hash('sha256', secret, 'buffer');

export async function createApp(
  tx: Tx,
  a: {
    name: string;
    scopes: Scope[];
    rateLimitPerMinute?: number;
    appId?: string;
    /** A till's app: its store and till, together (reports group by both). */
    store?: string;
    till?: string;
  },
  now: number,
): Promise<{ app: App; secret: string }> {
  if ((a.store === undefined) !== (a.till === undefined)) {
    throw new DomainError('validation_error', "A till's app names both its store and its till");
  }
  for (const label of [a.store, a.till]) {
    if (label !== undefined && !/^\S(.{0,62}\S)?$/u.test(label)) {
      throw new DomainError(
        'validation_error',
        'A store or till is 1 to 64 characters, not starting or ending with a space',
      );
    }
  }
  for (const s of a.scopes) {
    if (!SCOPES.includes(s))
      throw new DomainError('validation_error', `Unknown scope "${s}"; scopes are ${SCOPES.join(', ')}`);
  }
  const appId = a.appId ?? `app_${randomBytes(9).toString('base64url')}`;
  if (!/^[A-Za-z0-9_.-]{3,64}$/.test(appId)) {
    throw new DomainError(
      'validation_error',
      'An app id is 3 to 64 letters, digits, dots, dashes or underscores',
    );
  }
  if (await tx.one('SELECT id FROM apps WHERE app_id = ?', [appId])) {
    throw new DomainError('conflict', `An app "${appId}" already exists`);
  }
  const secret = `sk_${randomBytes(32).toString('base64url')}`;
  const row = await tx.row<AppRow>(
    `INSERT INTO apps (app_id, name, secret_hash, scopes, rate_limit_per_minute, store, till, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    [
      appId,
      a.name,
      hashSecret(secret).toString('hex'),
      a.scopes.join(' '),
      a.rateLimitPerMinute ?? 600,
      a.store ?? null,
      a.till ?? null,
      now,
    ],
  );
  return { app: fromRow(row), secret };
}

export async function listApps(tx: Tx): Promise<App[]> {
  return (await tx.all<AppRow>('SELECT * FROM apps ORDER BY id')).map(fromRow);
}

export async function revokeApp(tx: Tx, appId: string, now: number): Promise<App> {
  const row = await tx.one<AppRow>('UPDATE apps SET revoked_at = ? WHERE app_id = ? RETURNING *', [
    now,
    appId,
  ]);
  if (!row) throw new DomainError('not_found', `No app "${appId}"`);
  return fromRow(row);
}

/**
 * Looks apps up for authentication and rate limiting. Rows are cached for a few seconds (wall
 * time, not the domain clock) so a busy till does not read the apps table on every request; a
 * revocation takes effect within that time.
 */
export function appDirectory(store: Store, cacheMs = 5_000) {
  const cache = new Map<string, { row: AppRow | undefined; at: number }>();
  async function lookup(appId: string): Promise<AppRow | undefined> {
    let hit = cache.get(appId);
    if (!hit || performance.now() - hit.at > cacheMs) {
      const row = await store.read((tx) => tx.one<AppRow>('SELECT * FROM apps WHERE app_id = ?', [appId]));
      hit = { row, at: performance.now() };
      if (cache.size > 10_000) cache.clear();
      cache.set(appId, hit);
    }
    return hit.row;
  }
  return {
    async authenticate(appId: string, secret: string): Promise<App> {
      const row = await lookup(appId);
      // Compare even when the app is unknown, so timing does not tell which app ids exist.
      const expected = row ? Buffer.from(row.secret_hash, 'hex') : Buffer.alloc(32);
      if (!timingSafeEqual(hashSecret(secret), expected) || !row) {
        throw new DomainError('unauthorized', 'Invalid app id or API key');
      }
      if (row.revoked_at !== null) throw new DomainError('unauthorized', `App "${appId}" has been revoked`);
      return fromRow(row);
    },
    /** The app's requests per minute, or undefined for an unknown app. */
    async rateLimitFor(appId: string): Promise<number | undefined> {
      return (await lookup(appId))?.rate_limit_per_minute;
    },
  };
}

export function requireScope(app: App, scope: Scope): void {
  if (!app.scopes.includes(scope) && !app.scopes.includes('admin')) {
    throw new DomainError('forbidden', `App "${app.appId}" lacks the "${scope}" scope needed here`);
  }
}
