// `npm run engine -- serve --demo --db postgres://...` as a child process on a fresh database: it
// migrates, serves on PostgreSQL, never prints the URL's password, and other commands reach the same
// database with the same --db (here an app created first, so the demo adds none); SIGTERM stops it.
// A database it cannot open is one plain line and exit 1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanEnv } from '../../fixtures/clean-env.ts';
import { createPostgresDatabase } from '../fixtures/test-store.ts';

const root = resolve(import.meta.dirname, '../../..');
const PASSWORD = 's3cret-not-for-printing';

let dir: string;
let database: { url: string; drop(): Promise<void> };
let url: string;
let config: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-pg-serve-'));
  database = await createPostgresDatabase();
  // The test server trusts loopback connections, so the password is only carried, never checked:
  // what matters is that it is never printed.
  url = database.url.replace('://tillback@', `://tillback:${PASSWORD}@`);
  config = join(dir, 'engine.json');
  writeFileSync(config, JSON.stringify({ secretsFile: join(dir, 'secrets.json') }));
});
afterAll(async () => {
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

function start(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args, '--config', config], {
    cwd: root,
    env: cleanEnv({ TILLBACK_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
  return { child, out, exited };
}

it('serves on PostgreSQL, hides the password, and shares the database with the other commands', async () => {
  const created = start(['apps', 'create', '--name', 'Till 1', '--scopes', 'cashback_read', '--db', url]);
  expect(await created.exited, created.out.stderr).toBe(0);

  const serve = start(['serve', '--demo', '--port', '0', '--db', url]);
  await expect.poll(() => serve.out.stdout, { timeout: 60_000 }).toContain('Stop with Ctrl+C.');
  const printed = serve.out.stdout;
  expect(printed).not.toContain(PASSWORD);
  expect(printed).toMatch(
    /Database:\s+postgres:\/\/tillback:\*\*\*@127\.0\.0\.1:\d+\/\w+ \(PostgreSQL, 10 connections\)/,
  );
  expect(printed).toContain('--db "$TILLBACK_DB_URL"');
  const base = /API:\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\n/.exec(printed)?.[1];
  const health = await fetch(`${base}/health`);
  expect(await health.json()).toMatchObject({ status: 'ok', store: 'postgres' });

  // Another process on the same database sees the app the first one created.
  const listed = start(['apps', 'list', '--json', '--db', url]);
  expect(await listed.exited, listed.out.stderr).toBe(0);
  expect(JSON.parse(listed.out.stdout)).toEqual([expect.objectContaining({ name: 'Till 1' })]);

  serve.child.kill('SIGTERM');
  expect(await serve.exited).toBe(0);
  expect(serve.out.stdout + serve.out.stderr).not.toContain(PASSWORD);
});

it('says plainly, exit 1, when the database cannot be reached, never printing the password', async () => {
  // Port 1 on loopback: nothing listens there.
  const unreachable = start(['apps', 'list', '--db', `postgres://tillback:${PASSWORD}@127.0.0.1:1/tillback`]);
  expect(await unreachable.exited).toBe(1);
  expect(unreachable.out.stderr).toMatch(
    /^error: cannot open postgres:\/\/tillback:\*\*\*@127\.0\.0\.1:1\/tillback \(PostgreSQL, 10 connections\): .*ECONNREFUSED/,
  );
  expect(unreachable.out.stderr + unreachable.out.stdout).not.toContain(PASSWORD);
  const missing = start(['apps', 'list', '--db', database.url.replace(/\/\w+$/, '/no_such_database')]);
  expect(await missing.exited).toBe(1);
  expect(missing.out.stderr).toMatch(/database "no_such_database" does not exist/);
});
