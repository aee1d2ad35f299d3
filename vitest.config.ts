import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each test file gets its own process: SQLite files and servers never leak between files.
    pool: 'forks',
    // One log directory per run, scanned for test PANs and PINs at the end (a hit fails the run); the
    // screens built once (renderer/build.ts) if stale.
    globalSetup: ['test/global-setup.ts', 'test/screens-setup.ts'],
    // electron-store imports `electron`, which tests replace with test/electron/fake-electron.ts: inlined,
    // it sees the mock (left external, it would load the real package, which tries to download Electron).
    server: { deps: { inline: ['electron-store'] } },
  },
});
