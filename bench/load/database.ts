// The database a load run's engines share: a SQLite file in the run's directory (one engine), or a
// database on a throwaway PostgreSQL server started the way the tests start theirs
// (test/fixtures/postgres-server.ts: Debian's postgresql, initdb in a temporary directory, loopback).
import { join } from 'node:path';
import pg from 'pg';
import { startPostgresServer, type PostgresServer } from '../../test/fixtures/postgres-server.ts';

export const STORES = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORES)[number];

export interface LoadDatabase {
  /** What `engine serve --db` takes: the file, or the postgres:// URL. */
  location: string;
  /** For the report. */
  label: string;
  /** PostgreSQL only: `pg_ctl restart -m fast`, resolving once the server accepts connections again. */
  restart: (() => Promise<void>) | undefined;
  close(): Promise<void>;
}

const DATABASE = 'tillback_load';

export async function createLoadDatabase(kind: StoreKind, runDir: string): Promise<LoadDatabase> {
  if (kind === 'sqlite') {
    const file = join(runDir, 'engine.sqlite');
    return { location: file, label: `SQLite ${file}`, restart: undefined, close: async () => {} };
  }
  const server = await startPostgresServer();
  let url: string;
  try {
    url = await createPostgresDatabase(server, DATABASE);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    location: url,
    label: `PostgreSQL ${url} (throwaway server in ${server.dir})`,
    restart: () => server.restart(),
    close: () => server.stop(),
  };
}

/** Creates database `name` (a plain identifier) on `server`; answers its URL. */
export async function createPostgresDatabase(server: PostgresServer, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: server.url('postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return server.url(name);
}
