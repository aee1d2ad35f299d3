// `npm start` (till/cli.ts) as a child process on a temporary data directory: what it prints, the
// printed shell commands run as printed (bash, curl, node) against it, simulator commands on its
// standard input, a clean stop on SIGTERM and on `quit`, a second start that shows no PIN again, and
// bad usage refused with exit 2 before anything starts.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { maskPan } from '../../contract/card.ts';
import { cleanEnv } from '../fixtures/clean-env.ts';
import { VISA_PAN } from '../fixtures/secrets.ts';
import { ENGINE_NODE_FLAGS } from '../../engine/node-flags.ts';
import { testLogDir } from '../fixtures/test-log.ts';
import { ROOT, startTillProcess } from './fixtures/till-process.ts';

let dir: string;
let env: Record<string, string>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-cli-'));
  env = { TILLBACK_TILL_LOG_DIR: mkdtempSync(join(testLogDir(), 'till-cli-')) };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs shell lines with bash, as a user pasting them would; resolves with what they printed. */
function bash(lines: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-e', '-c', lines.join('\n')], { env: cleanEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** The printed commands under "Try it", comments left out, in order. */
function commands(printed: string): string[] {
  const after = printed.slice(printed.indexOf('Try it'));
  return after
    .split('\n')
    .slice(1)
    .filter((l) => l.startsWith('  ') && !l.trimStart().startsWith('#'))
    .map((l) => l.trim());
}

it('is what npm start runs, and the engine stays at npm run engine', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as any).scripts;
  expect(scripts.start).toBe('tsx till/cli.ts');
  expect(scripts.engine).toBe(['tsx', ...ENGINE_NODE_FLAGS, 'engine/cli.ts'].join(' '));
});

describe('browser mode', () => {
  const dataDir = () => join(dir, 'till');
  let pin: string;

  it(
    'prints the screens, token, PIN and commands that work as printed; runs simulator commands; stops on SIGTERM',
    { timeout: 120_000 },
    async () => {
      const till = startTillProcess(['--data-dir', dataDir()], env);
      try {
        const { apiUrl, token, printed } = await till.ready;
        for (const path of ['/cashier', '/display', '/manager']) {
          expect(printed).toContain(`${apiUrl}${path}#token=${token}`);
          const page = await fetch(`${apiUrl}${path}`);
          expect(page.status).toBe(200);
          expect(await page.text()).toContain('<div id="app"></div>');
        }
        expect(printed).toMatch(/Engine:\s+http:\/\/127\.0\.0\.1:\d+ \(embedded, /);
        pin = /Manager:\s+manager, PIN (\d{6})/.exec(printed)?.[1] ?? '';
        expect(pin).not.toBe('');
        expect(printed).toMatch(/Terminals:\s+simulated: reader-1, pinpad-1/);

        const [exported, signIn, earn, queue, stream] = commands(printed);
        expect(exported).toBe(`export TILL=${apiUrl} TOKEN=${token}`);
        const run = await bash([exported!, signIn!, 'echo "session=$SESSION"', earn!, 'echo', queue!]);
        expect(run.code, run.stderr).toBe(0);
        const [sessionLine, earned, queued] = run.stdout.trim().split('\n');
        expect(sessionLine).toMatch(/^session=[\w-]{43}$/);
        expect(JSON.parse(earned!)).toMatchObject({ state: 'queued', id: expect.any(String) });
        expect(JSON.parse(queued!)).toMatchObject({ queue: { failed: 0 } });
        // The printed queue command, again, until the earn is delivered.
        await vi.waitFor(
          async () => {
            const again = await bash([exported!, signIn!, queue!]);
            expect(JSON.parse(again.stdout)).toMatchObject({
              queue: { online: true, waiting: 0, failed: 0 },
            });
          },
          { timeout: 30_000, interval: 200 },
        );

        // The event stream command: ready first, with the queue.
        const streaming = spawn('bash', ['-c', `${exported!}\nexec ${stream!}`], { env: cleanEnv() });
        let streamed = '';
        streaming.stdout.on('data', (d: Buffer) => (streamed += d.toString()));
        try {
          await vi.waitFor(() => expect(streamed).toContain('"type":"ready"'), { timeout: 15_000 });
        } finally {
          streaming.kill();
        }

        // Simulator commands on stdin: the swipe shows the masked card only.
        till.send('swipe visa');
        await vi.waitFor(() => expect(till.out.stdout).toContain(maskPan(VISA_PAN)), { timeout: 15_000 });
        till.send('no such command');
        await vi.waitFor(() => expect(till.out.stdout).toContain('error: unknown command'), {
          timeout: 15_000,
        });
        expect(till.out.stdout).not.toContain(VISA_PAN);

        till.child.kill('SIGTERM');
        expect(await till.exited).toEqual({ code: 0, signal: null });
        expect(till.out.stdout).toContain('Stopped');

        // What it printed once stays out of its log files: the token, the PIN, the session.
        const logs = readdirSync(env.TILLBACK_TILL_LOG_DIR!)
          .map((f) => readFileSync(join(env.TILLBACK_TILL_LOG_DIR!, f), 'utf8'))
          .join('\n');
        expect(logs).toContain('"url":"/api/earn"');
        const session = sessionLine!.slice('session='.length);
        for (const secret of [token, pin, session])
          expect(new RegExp(`(?<![\\w-])${secret}(?![\\w-])`).test(logs), 'a secret in the log').toBe(false);
        expect(readdirSync(join(dataDir(), 'devices')).filter((f) => f.endsWith('.json'))).toEqual([]);
      } finally {
        till.child.kill('SIGKILL');
      }
    },
  );

  it(
    'shows no PIN at a later start, keeps the manager, and stops on quit',
    { timeout: 120_000 },
    async () => {
      expect(pin).toBeDefined();
      const till = startTillProcess(['--data-dir', dataDir()], env);
      try {
        const { apiUrl, token, printed } = await till.ready;
        expect(printed).toContain('as created at the first start');
        expect(printed).not.toContain(pin);
        const signIn = await fetch(`${apiUrl}/api/operators/sign-in`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'manager', pin }),
        });
        expect(signIn.status).toBe(200);
        till.send('quit');
        expect(await till.exited).toEqual({ code: 0, signal: null });
      } finally {
        till.child.kill('SIGKILL');
      }
    },
  );

  it(
    'stops cleanly on SIGHUP (its terminal closed), a repeated signal changing nothing',
    { timeout: 120_000 },
    async () => {
      const till = startTillProcess(['--data-dir', dataDir()], env);
      try {
        await till.ready;
        expect(readdirSync(join(dataDir(), 'devices')).length).toBeGreaterThan(0);
        till.child.kill('SIGHUP');
        till.child.kill('SIGINT');
        expect(await till.exited).toEqual({ code: 0, signal: null });
        // The simulator went with it: no manifest and no pty link is left.
        expect(readdirSync(join(dataDir(), 'devices'))).toEqual([]);
      } finally {
        till.child.kill('SIGKILL');
      }
    },
  );

  it('refuses bad usage and bad settings with exit 2, naming them, before starting anything', async () => {
    const fresh = join(dir, 'fresh');
    const badFlag = startTillProcess(['--data-dir', fresh, '--port', 'eighty'], env);
    expect((await badFlag.exited).code).toBe(2);
    expect(badFlag.out.stderr).toContain('--port');
    const badEnv = startTillProcess(['--data-dir', fresh], { ...env, TILLBACK_TILL_CURRENCY: 'aud' });
    expect((await badEnv.exited).code).toBe(2);
    expect(badEnv.out.stderr).toContain('program.currency (from TILLBACK_TILL_CURRENCY)');
    expect(badEnv.out.stderr).not.toMatch(/\n\s+at /);
    const central = startTillProcess(['--data-dir', fresh, '--engine-url', 'http://127.0.0.1:9'], env);
    expect((await central.exited).code).toBe(2);
    for (const field of ['engine.appId', 'engine.apiKey', 'engine.tokenizationKey', 'program.id'])
      expect(central.out.stderr).toContain(field);
    // The embedded engine on every address needs the URL phones use.
    const lan = startTillProcess(['--data-dir', fresh, '--engine-host', '0.0.0.0'], env);
    expect((await lan.exited).code).toBe(2);
    expect(lan.out.stderr).toContain('engine.publicUrl: needed when engine.listen.host is 0.0.0.0');
    expect(existsSync(fresh)).toBe(false);
  });
});
