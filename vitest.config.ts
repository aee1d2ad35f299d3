import { configDefaults, defineConfig } from 'vitest/config';

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
 * Engine tests the `postgres` project leaves out. Tests about PostgreSQL itself are in
 * test/engine/postgres/, run only by that project.
 */
const NOT_ON_POSTGRES = [
  // About SQLite itself: its file, WAL and fsync and a writer SIGKILLed mid-batch; a child engine
  // given a file path and SIGKILLed; the CLI run on database files.
  'test/engine/store.test.ts',
  'test/engine/payout-crash.test.ts',
  'test/engine/cli.test.ts',
  // No store at all: pure functions, parsers, provider clients against local fakes, configuration.
  'test/engine/claim-states.property.test.ts',
  'test/engine/idempotency-hash.test.ts',
  'test/engine/payout-config.test.ts',
  'test/engine/payouts/**',
  'test/engine/sealing.test.ts',
  'test/engine/store-placeholders.test.ts',
  'test/engine/webhook-listen.test.ts',
  'test/engine/webhook-rules.test.ts',
];

export default defineConfig({
  test: {
    // Three test files at a time on two cores: most of a file's time is waiting (on Chromium, child
    // engines, PostgreSQL, pseudo-terminals), and vitest's default (one fewer than the cores: one)
    // left the second core idle and the whole run at 16 minutes. The tests are written for a loaded
    // machine (events awaited, generous timeouts), so the extra contention only costs wall time.
    maxWorkers: 3,
    projects: [
      {
        test: {
          ...shared,
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/engine/postgres/**'],
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
          exclude: [...configDefaults.exclude, ...NOT_ON_POSTGRES],
          env: { TILLBACK_TEST_STORE: 'postgres' },
          globalSetup: ['test/global-setup.ts', 'test/postgres-setup.ts'],
        },
      },
    ],
  },
});
