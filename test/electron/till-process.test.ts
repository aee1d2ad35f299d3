// electron/till-process.ts as a real child process (plain Node standing in for Electron's utility
// process, with `process.parentPort` over Node IPC): it starts the till, reports ready and the queue's
// state, the windows' origin is let in by the local API, a stop message closes it, and a bad
// configuration is reported as `failed` with the setting's name.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { APP_ORIGIN } from '../../electron/scheme.ts';
import { TillProcessMessageSchema, type TillProcessMessage } from '../../electron/till-messages.ts';
import { cleanEnv } from '../fixtures/clean-env.ts';
import { testLogDir } from '../fixtures/test-log.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'tillback-till-process-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function startTillProcess(env: Record<string, string>) {
  const child = fork(join(ROOT, 'electron/till-process.ts'), [], {
    cwd: ROOT,
    execArgv: ['--import', 'tsx', '--import', join(import.meta.dirname, 'fixtures/parent-port.ts')],
    env: cleanEnv(env),
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  const messages: TillProcessMessage[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (raw) => {
    messages.push(TillProcessMessageSchema.parse(raw));
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const next = async (type: TillProcessMessage['type']): Promise<TillProcessMessage> => {
    for (;;) {
      const found = messages.find((m) => m.type === type);
      if (found) return found;
      await Promise.race([new Promise<void>((r) => waiters.push(r)), exited]);
      if (child.exitCode !== null && !messages.some((m) => m.type === type))
        throw new Error(`exited ${child.exitCode} before ${type}`);
    }
  };
  return { child: child as ChildProcess, messages, next, exited };
}

describe('the till process', () => {
  it('reports ready and the queue, lets the windows’ origin call the local API, and stops on request', async () => {
    const till = startTillProcess({
      TILLBACK_TILL_DATA_DIR: join(dir, 'till'),
      // The till's and its engine's logs go to the run's log directory, scanned for test PANs and PINs.
      TILLBACK_TILL_LOG_DIR: join(testLogDir(), 'electron-till-process'),
      TILLBACK_TILL_SIMULATE: 'never',
      TILLBACK_TILL_MANAGER_NAME: 'maria',
      TILLBACK_TILL_MANAGER_PIN: '482913',
    });
    const ready = await till.next('ready');
    if (ready.type !== 'ready') throw new Error('not ready');
    expect(ready.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(ready.firstManager).toEqual({ name: 'maria' });
    const status = await till.next('status');
    expect(status).toMatchObject({ type: 'status', waiting: 0, failed: 0 });

    const health = (origin: string, token = ready.token) =>
      fetch(`${ready.apiUrl}/api/health`, { headers: { origin, authorization: `Bearer ${token}` } });
    expect((await health(APP_ORIGIN)).status).toBe(200);
    expect((await health('https://evil.example')).status).toBe(403);
    expect((await health(APP_ORIGIN, 'wrong')).status).toBe(401);

    till.child.send({ type: 'stop' });
    expect(await till.exited).toBe(0);
  });

  it('reports a bad configuration as failed, naming the setting, and exits 1', async () => {
    const till = startTillProcess({ TILLBACK_TILL_DATA_DIR: join(dir, 'bad'), TILLBACK_TILL_PORT: '99999' });
    const failed = await till.next('failed');
    expect(failed.type === 'failed' && failed.message).toMatch(/api\.port/);
    expect(await till.exited).toBe(1);
  });
});
