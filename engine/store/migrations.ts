// Versioned migrations: engine/store/migrations/<dialect>/NNN_name.sql, applied in order, each once,
// recorded in schema_migrations. Both dialects carry the same versions with the same meaning. Another
// database on the same store code (the till's own file) passes its own directory of NNN_name.sql files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Tx } from './store.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(
  dialect: 'sqlite' | 'postgres',
  dir = fileURLToPath(new URL(`./migrations/${dialect}/`, import.meta.url)),
): Migration[] {
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({
      version: Number(file.slice(0, 3)),
      name: file.slice(4, -4),
      sql: readFileSync(join(dir, file), 'utf8'),
    }));
}

/**
 * Applies pending migrations; `exec` runs a multi-statement script inside the caller's transaction.
 * `dir` replaces the engine's own migrations (a directory path).
 */
export async function applyMigrations(
  dialect: 'sqlite' | 'postgres',
  tx: Tx,
  exec: (sql: string) => void | Promise<void>,
  dir?: string,
): Promise<Migration[]> {
  await exec(
    'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
  );
  const done = new Set(
    (await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
  );
  const applied: Migration[] = [];
  for (const migration of loadMigrations(dialect, dir)) {
    if (done.has(migration.version)) continue;
    await exec('BEGIN');
    try {
      await exec(migration.sql);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now(),
      ]);
      await exec('COMMIT');
    } catch (error) {
      await exec('ROLLBACK');
      throw new Error(
        `migration ${migration.version}_${migration.name} failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    applied.push(migration);
  }
  return applied;
}
