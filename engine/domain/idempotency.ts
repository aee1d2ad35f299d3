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

const isArrayIndex = (key: string) => /^(?:0|[1-9]\d{0,9})$/.test(key) && Number(key) < 4_294_967_295;

/**
 * A request as JSON text with every object's keys sorted, so field order does not matter. Any
 * non-array object is written as its own enumerable keys (a LosslessNumber as {"isLosslessNumber":
 * true,"value":"1.50"}); otherwise exactly JSON.stringify's output. The text, and so the hash of every
 * key already stored, must not change: test/engine/idempotency-hash.test.ts holds it to the first form.
 */
function canonicalJson(v: unknown): string | undefined {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += `${i ? ',' : ''}${canonicalJson(v[i]) ?? 'null'}`;
    return `${out}]`;
  }
  let keys = Object.keys(v).sort();
  // The first form built objects from the sorted keys, and objects list array-index keys first.
  if (keys.some(isArrayIndex)) keys = Object.keys(Object.fromEntries(keys.map((k) => [k, 0])));
  let out = '';
  for (const k of keys) {
    const value = canonicalJson((v as Record<string, unknown>)[k]);
    if (value !== undefined) out += `${out ? ',' : ''}${JSON.stringify(k)}:${value}`;
  }
  return `{${out}}`;
}

/** Stable hash of a request: object keys sorted, so field order does not matter. */
export function requestHash(value: unknown): string {
  return hash('sha256', canonicalJson(value) ?? 'null');
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
  const ids = [key.appId, key.scope, key.key];
  // Before the key is looked at: a work run together with another of the same key would find it
  // taken by a result not yet written (Tx.claim).
  tx.claim?.(`idempotency key ${JSON.stringify(ids)}`);
  // The key is taken before the work, so requests with one key take turns: on PostgreSQL a second
  // transaction's insert waits for the first to commit (then finds the key taken and replays its
  // result) or roll back (then takes the key itself). The result is written in once the work is done,
  // in this transaction, so no other ever sees the key without it.
  const taken = await tx.run(
    `INSERT INTO idempotency_keys (app_id, scope, key, request_hash, result, created_at) VALUES (?, ?, ?, ?, '', ?)
     ON CONFLICT (app_id, scope, key) DO NOTHING`,
    [...ids, requestHash(request), now],
  );
  if (taken.changes === 0) {
    const stored = await storedResult<T>(tx, key, request);
    if (!stored) throw new Error(`idempotency key ${key.key} vanished while in use`);
    return stored;
  }
  const result = await run();
  tx.defer('UPDATE idempotency_keys SET result = ? WHERE app_id = ? AND scope = ? AND key = ?', [
    JSON.stringify(result),
    ...ids,
  ]);
  return { ...result, replayed: false };
}

/** Forgets keys older than the retention period. */
export async function pruneIdempotencyKeys(tx: Tx, olderThan: number): Promise<number> {
  return (await tx.run('DELETE FROM idempotency_keys WHERE created_at < ?', [olderThan])).changes;
}
