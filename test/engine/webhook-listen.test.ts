// `npm run engine -- webhooks listen`, run as a child process: the receiver integrators try webhooks
// with. It must accept what the engine signs, name repeats (delivery is at least once), refuse
// anything unsigned, mis-signed or stale with a 400 so the engine retries, and stop on SIGTERM
// at once.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, signWebhook } from '../../contract/webhook-signature.ts';

const root = resolve(import.meta.dirname, '../..');
const SECRET = 'listen-test-secret-0123456789abcdef';

function startListener(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'engine/cli.ts', 'webhooks', 'listen', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    waiters.splice(0).forEach((w) => w());
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const nextLine = async (index: number): Promise<string> => {
    while (lines.length <= index) await new Promise<void>((r) => waiters.push(r));
    return lines[index] ?? '';
  };
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return { child, nextLine, exited, stderr: () => stderr };
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', ...headers },
  });
  await res.text();
  return res.status;
}

describe('webhooks listen', () => {
  it('accepts signed events, names repeats, refuses bad signatures, and stops on SIGTERM', async () => {
    const l = startListener(['--port', '0', '--json', '--secret', SECRET]);
    const first = await l.nextLine(0);
    const url = /Listening on (\S+)/.exec(first)?.[1];
    expect(url, first).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const body = JSON.stringify({ id: 'evt_1', type: 'claim.paid', subject: { kind: 'claim', id: 'c1' } });
    const now = Math.floor(Date.now() / 1000);
    const signed = { [SIGNATURE_HEADER]: signWebhook(body, [SECRET], now), [EVENT_ID_HEADER]: 'evt_1' };

    expect(await post(url!, body, signed)).toBe(200);
    expect(JSON.parse(await l.nextLine(1))).toMatchObject({
      eventId: 'evt_1',
      verified: true,
      repeat: false,
      body: { type: 'claim.paid' },
    });
    expect(await post(url!, body, signed)).toBe(200);
    expect(JSON.parse(await l.nextLine(2))).toMatchObject({ eventId: 'evt_1', verified: true, repeat: true });

    const wrong = { [SIGNATURE_HEADER]: signWebhook(body, ['another-secret-0123456789abcdef'], now) };
    expect(await post(url!, body, wrong)).toBe(400);
    expect(JSON.parse(await l.nextLine(3))).toMatchObject({
      verified: false,
      reason: 'no signature matches',
    });

    const stale = { [SIGNATURE_HEADER]: signWebhook(body, [SECRET], now - 3600) };
    expect(await post(url!, body, stale)).toBe(400);
    expect(JSON.parse(await l.nextLine(4)).reason).toMatch(/replayed or clock skew/);

    expect(await post(url!, body, {})).toBe(400);
    expect(JSON.parse(await l.nextLine(5)).reason).toMatch(/no Tillback-Signature header/);

    const tampered = body.replace('paid', 'failed');
    expect(await post(url!, tampered, signed)).toBe(400);

    // A connection that has sent nothing (an engine's delivery aborted as it connected) does not hold
    // the stop: Node 20's close() alone would wait for as long as it stays.
    const quiet = connect(Number(new URL(url!).port), '127.0.0.1');
    quiet.on('error', () => undefined);
    await once(quiet, 'connect');
    l.child.kill('SIGTERM');
    expect(await l.exited).toBe(0);
    quiet.destroy();
  }, 30_000);

  it('takes the secret from TILLBACK_WEBHOOK_LISTEN_SECRET, and refuses to start without one', async () => {
    const fromEnv = startListener(['--port', '0'], { TILLBACK_WEBHOOK_LISTEN_SECRET: SECRET });
    expect(await fromEnv.nextLine(0)).toMatch(/checking 1 secret/);
    fromEnv.child.kill('SIGTERM');
    expect(await fromEnv.exited).toBe(0);

    const none = startListener(['--port', '0'], { TILLBACK_WEBHOOK_LISTEN_SECRET: '' });
    expect(await none.exited).not.toBe(0);
    expect(none.stderr()).toMatch(/--secret/);
  }, 30_000);
});
