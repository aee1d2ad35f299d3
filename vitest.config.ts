import { defineConfig } from 'vitest/config';

/** What both projects share. */
const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Each test file gets its own process: SQLite files, databases and servers never leak between files.
  pool: 'forks' as const,
  // electron-store imports `electron`, which tests replace with test/electron/fake-electron.ts: inlined,
  // it sees the mock (left external, it would load the real package, which tries to download Electron).
  server: { deps: { inline: ['electron-store'] } },
};

/**
 * Engine tests about SQLite itself (its file, WAL and fsync, a writer killed mid-batch, a child engine
 * given a file path): the `postgres` project leaves them out. Tests about PostgreSQL itself are in
 * test/engine/postgres/, run only by the `postgres` project.
 */
const SQLITE_ONLY = ['test/engine/store.test.ts', 'test/engine/payout-crash.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/engine/postgres/**', 'test/e2e/**/node_modules/**'],
          // One log directory per run, scanned for test PANs and PINs at the end (a hit fails the run);
          // the screens built once (renderer/build.ts) if stale.
          globalSetup: ['test/global-setup.ts', 'test/screens-setup.ts'],
        },
      },
      {
        // The engine's whole suite again on PostgreSQL (TILLBACK_TEST_STORE=postgres makes the harness
        // open a fresh database per store), plus the tests only PostgreSQL can show.
        test: {
          ...shared,
          name: 'postgres',
          include: ['test/engine/**/*.test.ts'],
          exclude: SQLITE_ONLY,
          env: { TILLBACK_TEST_STORE: 'postgres' },
          globalSetup: ['test/global-setup.ts', 'test/postgres-setup.ts'],
        },
      },
    ],
  },
});
