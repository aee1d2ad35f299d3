// vitest globalSetup of the `postgres` project: one PostgreSQL server for the run
// (fixtures/postgres-server.ts) and a template database with the engine's migrations applied, which
// each test store copies (CREATE DATABASE ... TEMPLATE: a file copy, far faster than migrating).
// The server's address reaches the test processes through TILLBACK_TEST_PG_URL.
import pg from 'pg';
import { openPostgresStore } from '../engine/store/postgres.ts';
import { startPostgresServer } from './fixtures/postgres-server.ts';
import { PG_TEMPLATE, PG_URL_ENV } from './engine/fixtures/test-store.ts';

export default async function setup(): Promise<() => Promise<void>> {
  const server = await startPostgresServer();
  try {
    const admin = new pg.Client({ connectionString: server.url('postgres') });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${PG_TEMPLATE}`);
    await admin.end();
    await (await openPostgresStore({ url: server.url(PG_TEMPLATE) })).close();
  } catch (error) {
    await server.stop();
    throw error;
  }
  process.env[PG_URL_ENV] = server.url('');
  return () => server.stop();
}
