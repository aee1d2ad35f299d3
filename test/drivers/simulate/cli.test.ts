// `npm run simulate` as a child process (node --import tsx drivers/simulate/cli.ts), driven by a script
// file and by stdin, with the real SerialCardReader on the port its manifest names; then its cleanup
// on SIGTERM and on `quit`: no manifest file, no link, no socat left.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readManifest } from '../../../drivers/devices/manifest.ts';
import { SIM_PINS, VISA_PAN } from '../../fixtures/secrets.ts';
import { testLog } from '../../fixtures/test-log.ts';
import { openReader, processAlive, until } from './helpers.ts';

const root = resolve(import.meta.dirname, '../../..');
const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tillback-simcli-'));
  dirs.push(d);
  return d;
}

interface Run {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function simulate(args: string[]): Run {
  const log = testLog('simulate-cli');
  const child = spawn(process.execPath, ['--import', 'tsx', 'drivers/simulate/cli.ts', ...args], {
    cwd: root,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    log(d.toString().trimEnd());
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
    log(d.toString().trimEnd());
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { child, stdout: () => out, stderr: () => err, exited };
}

const socatPids = (text: string): number[] => [...text.matchAll(/socat pid (\d+)/g)].map((m) => Number(m[1]));

describe('npm run simulate', () => {
  it('refuses a bad script before starting anything (exit 2, the line named, nothing written)', async () => {
    const dir = tempDir();
    const script = join(dir, 'bad.txt');
    writeFileSync(script, 'list\nswipe visa\nfly away\npin 12\n');
    const devices = join(dir, 'devices');
    const run = simulate(['--dir', devices, '--script', script]);
    expect(await run.exited).toBe(2);
    expect(run.stderr()).toContain('line 3: unknown command');
    expect(run.stderr()).toContain('line 4: a PIN is 4 to 12 digits');
    expect(readdirSync(dir)).toEqual(['bad.txt']);
  });

  it('refuses bad options with exit 2 and a plain message', async () => {
    const dir = tempDir();
    const kinds = simulate(['--dir', dir, '--devices', 'reader,printer']);
    expect(await kinds.exited).toBe(2);
    expect(kinds.stderr()).toContain('devices are reader, pinpad, zvt, scanner, zvt-tcp');
    const port = simulate(['--dir', dir, '--zvt-port', '70000']);
    expect(await port.exited).toBe(2);
    expect(port.stderr()).toContain('a port is 0..65535');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('runs its script, takes commands on stdin, and cleans up on SIGTERM', async () => {
    const dir = tempDir();
    const script = join(dir, 'script.txt');
    writeFileSync(script, `# the customer's PIN\npin ${SIM_PINS[0]}\nlist\n`);
    const devices = join(dir, 'devices');
    const run = simulate(['--dir', devices, '--script', script, '--devices', 'reader,pinpad,zvt-tcp']);
    await until(() => socatPids(run.stdout()).length >= 4, 20_000, 'the script output');
    expect(run.stdout()).toContain('pinpad-1: the customer will type a 4-digit PIN');

    const { entries } = await readManifest(devices);
    const reader = entries.find((e) => e.file.endsWith('reader-1.json'))?.entry;
    expect(reader && 'path' in reader).toBe(true);
    const r = await openReader(reader && 'path' in reader ? reader.path : '');
    run.child.stdin.write('swipe visa\n');
    const e = await r.next(10_000);
    expect(e.type === 'card' && e.swipe.card.panMasked).toBe('411111******1111');
    await r.transport.close();

    const pids = [...new Set(socatPids(run.stdout()))];
    expect(pids).toHaveLength(2);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain('stopped: manifests and links removed');
    expect(readdirSync(devices)).toEqual([]);
    await until(() => pids.every((p) => !processAlive(p)), 2000, 'socat exit');
    expect(run.stdout()).not.toContain(SIM_PINS[0]);
    expect(run.stdout()).not.toContain(VISA_PAN);
  });

  it('quits on `quit` from stdin with the same cleanup', async () => {
    const devices = join(tempDir(), 'devices');
    const run = simulate(['--dir', devices, '--devices', 'scanner', 'list']);
    await until(() => socatPids(run.stdout()).length >= 2, 20_000, 'the list output');
    const [pid] = socatPids(run.stdout());
    run.child.stdin.write('quit\n');
    expect(await run.exited).toBe(0);
    expect(readdirSync(devices)).toEqual([]);
    await until(() => !processAlive(pid!), 2000, 'socat exit');
  });
});
