// The two dialects' migrations make one schema: each database's own catalogue, read after migrating,
// lists the same tables, the same columns with corresponding types (SQLite INTEGER is PostgreSQL
// BIGINT, TEXT is text), the same required columns and the same unique keys (primary keys, UNIQUE
// constraints and unique indexes, partial or not).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPostgresStore } from '../../../engine/store/postgres.ts';
import { openSqliteStore } from '../../../engine/store/sqlite.ts';
import type { Store } from '../../../engine/store/store.ts';
import { createPostgresDatabase } from '../fixtures/test-store.ts';

interface Schema {
  /** "table.column type required|optional", sorted. */
  columns: string[];
  /** "table(col, col)" with " partial" for a unique index with a WHERE, sorted. */
  uniques: string[];
}

const TYPES: Record<string, string> = { INTEGER: 'bigint', TEXT: 'text' };
/** The migration runner's own table: one CREATE statement makes it on both (store/migrations.ts). */
const RUNNER = 'schema_migrations';

async function sqliteSchema(store: Store): Promise<Schema> {
  return store.read(async (tx) => {
    const tables = await tx.all<{ name: string }>(
      `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> '${RUNNER}'`,
    );
    const columns: string[] = [];
    const uniques: string[] = [];
    for (const { name } of tables) {
      const cols = await tx.all<{ name: string; type: string; notnull: number; pk: number }>(
        'SELECT name, type, "notnull", pk FROM pragma_table_info(?)',
        [name],
      );
      for (const c of cols) {
        // A primary key column is required (SQLite's flag says otherwise only for its rowid alias and
        // legacy reasons; the engine never stores NULL there).
        const required = c.notnull === 1 || c.pk > 0;
        columns.push(`${name}.${c.name} ${TYPES[c.type] ?? c.type} ${required ? 'required' : 'optional'}`);
      }
      const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      if (pk.length) uniques.push(`${name}(${pk.map((c) => c.name).join(', ')})`);
      const indexes = await tx.all<{ name: string; unique: number; origin: string; partial: number }>(
        'SELECT name, "unique", origin, partial FROM pragma_index_list(?)',
        [name],
      );
      for (const index of indexes.filter((i) => i.unique === 1 && i.origin !== 'pk')) {
        const keyCols = await tx.all<{ name: string }>(
          'SELECT name FROM pragma_index_info(?) ORDER BY seqno',
          [index.name],
        );
        uniques.push(`${name}(${keyCols.map((c) => c.name).join(', ')})${index.partial ? ' partial' : ''}`);
      }
    }
    return { columns: columns.sort(), uniques: uniques.sort() };
  });
}

async function postgresSchema(store: Store): Promise<Schema> {
  return store.read(async (tx) => {
    const columns = await tx.all<{ t: string; c: string; type: string; nullable: string }>(
      `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable
         FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '${RUNNER}'`,
    );
    const uniques = await tx.all<{ t: string; cols: string; partial: boolean }>(
      `SELECT t.relname AS t,
              string_agg(a.attname, ', ' ORDER BY k.ord) AS cols,
              i.indpred IS NOT NULL AS partial
         FROM pg_index i
         JOIN pg_class t ON t.oid = i.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE i.indisunique AND t.relname <> '${RUNNER}'
        GROUP BY t.relname, i.indexrelid, i.indpred`,
    );
    return {
      columns: columns
        .map((c) => `${c.t}.${c.c} ${c.type} ${c.nullable === 'NO' ? 'required' : 'optional'}`)
        .sort(),
      uniques: uniques.map((u) => `${u.t}(${u.cols})${u.partial ? ' partial' : ''}`).sort(),
    };
  });
}

let dir: string;
let sqlite: Store;
let postgres: Store;
let drop: () => Promise<void>;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-schema-'));
  sqlite = await openSqliteStore({ path: join(dir, 'engine.sqlite') });
  const database = await createPostgresDatabase();
  drop = database.drop;
  postgres = await openPostgresStore({ url: database.url, poolSize: 1 });
});
afterAll(async () => {
  await sqlite.close();
  await postgres.close();
  await drop();
  rmSync(dir, { recursive: true, force: true });
});

it('has the same tables, columns, types, required columns and unique keys on SQLite and PostgreSQL', async () => {
  const [lite, pg] = await Promise.all([sqliteSchema(sqlite), postgresSchema(postgres)]);
  // Read from the catalogues, not made up: the ledger's tables and keys are in both lists.
  expect(lite.columns).toContain('transfers.amount bigint required');
  expect(lite.uniques).toContain('transfers(pending_id)');
  expect(lite.uniques).toContain('claims(provider_id, reference) partial');
  expect(pg.columns).toEqual(lite.columns);
  expect(pg.uniques).toEqual(lite.uniques);
});
