// Idempotency: one stored result per (app, scope, key). The same key with the same request returns
// the stored result; with a different request it is a conflict. Runs inside the operation's own
// transaction, so the effect and the stored result commit together or not at all.
import { hash } from 'node:crypto';
import type { Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export interface IdempotencyKey {
  appId: string;
  /** Namespace: the API and operation, so one key string may be reused across unrelated routes. */
  scope: string;
  key: string;
}

export type Replayable<T> = T & { replayed: boolean };

/** Stable hash of a request: object keys sorted, so field order does not matter. */
export function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : Array.isArray(v)
        ? v.map(canonical)
        : v;
  return hash('sha256', JSON.stringify(canonical(value)) ?? 'null');
}

/**
 * Looks a key up before an operation does work outside its transaction (a PIN check, say), so a
 * repeat gets its stored result even if that work would now fail. Returns undefined for a new key.
 */
export async function storedResult<T extends object>(
  tx: Tx,
  key: IdempotencyKey | undefined,
  request: unknown,
): Promise<Replayable<T> | undefined> {
  if (!key) return undefined;
  const stored = await tx.one<{ request_hash: string; result: string }>(
    'SELECT request_hash, result FROM idempotency_keys WHERE app_id = ? AND scope = ? AND key = ?',
    [key.appId, key.scope, key.key],
  );
  if (!stored) return undefined;
  if (stored.request_hash !== requestHash(request)) {
    throw new DomainError(
      'idempotency_conflict',
      `Key "${key.key}" was already used for a different request; use a new key for a new operation`,
    );
  }
  return { ...(JSON.parse(stored.result) as T), replayed: true };
}

export async function idempotent<T extends object>(
  tx: Tx,
  key: IdempotencyKey | undefined,
  request: unknown,
  now: number,
  run: () => Promise<T>,
): Promise<Replayable<T>> {
  if (!key) return { ...(await run()), replayed: false };
  const stored = await storedResult<T>(tx, key, request);
  if (stored) return stored;
  const hash = requestHash(request);
  const result = await run();
  await tx.run(
    'INSERT INTO idempotency_keys (app_id, scope, key, request_hash, result, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    [key.appId, key.scope, key.key, hash, JSON.stringify(result), now],
  );
  return { ...result, replayed: false };
}

/** Forgets keys older than the retention period. */
export async function pruneIdempotencyKeys(tx: Tx, olderThan: number): Promise<number> {
  return (await tx.run('DELETE FROM idempotency_keys WHERE created_at < ?', [olderThan])).changes;
}
