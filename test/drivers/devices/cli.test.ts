// `npm run devices` as a child process against real socat pseudo-terminals with simulators on the far ends.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { PinPadSimulator } from '../../../drivers/pinpad/simulator.ts';
import { ZvtSimulator } from '../../../drivers/zvt/simulator.ts';
import { SocatPair } from '../transport/socat.ts';
import { ManifestDir, TEST_PAN, TEST_SWIPE, simEntry, strings } from './helpers.ts';

const READER = '1209:0001:SIM-card_reader-1';
const PINPAD = '1209:0002:SIM-pinpad-1';
const ZVT = '1209:0003:SIM-zvt-1';
const PIN = '8461';

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess & { output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'drivers/cli.ts', ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (out += s));
  return Object.assign(child, { output: () => out });
}

async function run(args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const child = cli(args, env);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, out: child.output() };
}

async function until(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const jsonLines = (out: string): Record<string, unknown>[] =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('devices CLI over socat ptys', { timeout: 60_000 }, () => {
  const manifest = new ManifestDir();
  const ptys = { reader: new SocatPair(), pinpad: new SocatPair(), zvt: new SocatPair() };
  const far: SerialTransport[] = [];
  let pad: PinPadSimulator;
  beforeAll(async () => {
    await Promise.all(Object.values(ptys).map((p) => p.start()));
    manifest.write('reader', simEntry(ptys.reader.a, '0001', 'SIM-card_reader-1'));
    manifest.write('pinpad', simEntry(ptys.pinpad.a, '0002', 'SIM-pinpad-1'));
    manifest.write('zvt', simEntry(ptys.zvt.a, '0003', 'SIM-zvt-1'));
    const padSide = new SerialTransport({ path: ptys.pinpad.b });
    const zvtSide = new SerialTransport({ path: ptys.zvt.b });
    await padSide.open();
    pad = new PinPadSimulator(padSide, { pin: PIN });
    await new ZvtSimulator(zvtSide, { framing: 'serial' }).open();
    far.push(padSide, zvtSide);
  });
  afterAll(async () => {
    pad.stop();
    await Promise.all(far.map((t) => t.close()));
    await Promise.all(Object.values(ptys).map((p) => p.dispose()));
    manifest.dispose();
  });

  it('list prints a table of id, kind, driver, path and state', async () => {
    const { code, out } = await run(['list', '--manifest', manifest.dir, '--no-probe']);
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    const header = lines.find((l) => l.startsWith('id'));
    expect(header?.split(/\s+/)).toEqual(['id', 'kind', 'driver', 'path', 'state']);
    const rows = new Map(lines.map((l) => [l.split(/\s+/)[0], l.split(/\s+/)]));
    expect(rows.get(READER)).toEqual([
      READER,
      'card_reader',
      'serial-card-reader',
      ptys.reader.a,
      'connected',
    ]);
    expect(rows.get(PINPAD)).toEqual([PINPAD, 'pinpad', 'pinpad-1000se', ptys.pinpad.a, 'connected']);
    expect(rows.get(ZVT)).toEqual([ZVT, 'zvt', 'zvt-serial', ptys.zvt.a, 'connected']);
  });

  it('list --json prints one device per line', async () => {
    const { code, out } = await run(['list', '--manifest', manifest.dir, '--no-probe', '--json']);
    expect(code).toBe(0);
    const devices = jsonLines(out).filter((l) => l.type === 'device');
    expect(devices.find((d) => d.id === PINPAD)).toMatchObject({
      kind: 'pinpad',
      matchedBy: 'vid_pid',
      vendorId: '1209',
      productId: '0002',
      serialNumber: 'SIM-pinpad-1',
      manufacturer: 'Tillback Simulator',
      state: 'connected',
    });
  });

  it('test <id> runs each kind of self-test; an unknown id fails with exit 1', async () => {
    const zvt = await run(['test', ZVT, '--manifest', manifest.dir, '--no-probe']);
    expect(zvt).toMatchObject({
      code: 0,
      out: expect.stringMatching(new RegExp(`^${ZVT}: terminal status: `, 'm')),
    });
    const pinpad = await run(['test', PINPAD, '--manifest', manifest.dir, '--no-probe', '--json']);
    expect(pinpad.code).toBe(0);
    expect(jsonLines(pinpad.out)).toEqual([
      {
        type: 'test',
        deviceId: PINPAD,
        ok: true,
        result: 'PIN pad acknowledged 72 (cancel, returns it to idle)',
      },
    ]);
    const missing = await run(['test', 'nope', '--manifest', manifest.dir, '--no-probe']);
    expect(missing).toMatchObject({ code: 1, out: expect.stringContaining('nope: FAILED no device nope') });
  });

  it('watch --json shows a swipe with the PAN masked and the PIN as a KSN only', async () => {
    const child = cli(['watch', '--manifest', manifest.dir, '--no-probe', '--json', '--poll-ms', '200']);
    try {
      const connected = (id: string) => () =>
        jsonLines(child.output()).some(
          (e) => e.deviceId === id && e.type === 'state' && e.state === 'connected',
        );
      await until(connected(READER), 'the reader to connect');
      await until(connected(PINPAD), 'the PIN pad to connect');
      const device = new SerialTransport({ path: ptys.reader.b });
      await device.open();
      await device.write(Buffer.from(TEST_SWIPE));
      await device.close();
      await until(() => jsonLines(child.output()).some((e) => e.type === 'pin'), 'the PIN event');
    } finally {
      child.kill('SIGTERM');
    }
    const code = await new Promise<number | null>((resolve) =>
      child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', (c) => resolve(c)),
    );
    expect(code).toBe(0);
    const events = jsonLines(child.output());
    expect(events.find((e) => e.type === 'card')).toMatchObject({
      deviceId: READER,
      panMasked: '535029******5177',
      expiry: '2016-04',
      at: expect.any(Number),
    });
    expect(events.find((e) => e.type === 'pin')).toEqual({
      type: 'pin',
      deviceId: PINPAD,
      ksn: expect.stringMatching(/^[0-9A-F]{20}$/),
      pinBlock: 'encrypted PIN block',
      at: expect.any(Number),
    });
    const closed = events.filter((e) => e.type === 'state' && e.state === 'closed').map((e) => e.deviceId);
    expect(closed).toEqual(expect.arrayContaining([READER, PINPAD, ZVT]));
    expect(child.output()).not.toContain(TEST_PAN);
    expect(strings(events).join('\n')).not.toContain(PIN);
  });

  it('watch prints one timestamped line per event; --no-pin leaves the PIN pad alone', async () => {
    const child = cli(['watch', '--manifest', manifest.dir, '--no-probe', '--no-pin', '--poll-ms', '200']);
    const line = (id: string, what: string) =>
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z  ${id}  ${what}$`, 'm');
    try {
      await until(() => line(PINPAD, 'state connected').test(child.output()), 'the PIN pad to connect');
      await until(() => line(READER, 'state connected').test(child.output()), 'the reader to connect');
      const device = new SerialTransport({ path: ptys.reader.b });
      await device.open();
      await device.write(Buffer.from(TEST_SWIPE));
      await device.close();
      const card = line(READER, 'card 535029\\*{6}5177 expires 2016-04 \\(track 1\\)');
      await until(() => card.test(child.output()), 'the card line');
      await new Promise((r) => setTimeout(r, 300)); // time for a PIN request that must not come
    } finally {
      child.kill('SIGTERM');
    }
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.on('exit', resolve)));
    const out = child.output();
    expect(out).toMatch(line(READER, 'rx data \\(119 bytes\\)'));
    expect(out).toMatch(line(ZVT, 'added zvt driver=zvt-serial matched=vid_pid path=\\S+'));
    expect(out).not.toMatch(/Z62/);
    expect(out).not.toContain(TEST_PAN);
  });
});

describe('devices CLI usage errors', () => {
  it('exit 2 with the reason for an unknown command or a bad option value', { timeout: 60_000 }, async () => {
    const [unknown, badPoll] = await Promise.all([run(['bogus']), run(['watch', '--poll-ms', '0'])]);
    expect(unknown).toMatchObject({ code: 2, out: expect.stringContaining("unknown command 'bogus'") });
    expect(badPoll).toMatchObject({ code: 2, out: expect.stringContaining('not a positive integer') });
  });
});

describe('devices CLI on a machine without udevadm and with a broken libusb', () => {
  it(
    'says so once per source, plainly, and still lists the manifest devices',
    { timeout: 60_000 },
    async () => {
      const manifest = new ManifestDir();
      const pty = new SocatPair();
      const lib = mkdtempSync(join(tmpdir(), 'tillback-nolibusb-'));
      await pty.start();
      try {
        writeFileSync(join(lib, 'libusb-1.0.so.0'), 'not a shared object');
        manifest.write('scanner', simEntry(pty.a, '0004', 'SIM-scanner-1'));
        const env = { ...process.env, PATH: '/nonexistent', LD_LIBRARY_PATH: lib };
        const { code, out } = await run(['list', '--manifest', manifest.dir, '--json'], env);
        expect(code).toBe(0);
        const lines = jsonLines(out);
        expect(lines.filter((l) => l.type === 'notice')).toEqual([
          {
            type: 'notice',
            source: 'serial',
            message:
              'Serial port listing is unavailable: udevadm is not installed (apt-get install udev); ports named in the manifest still work',
            at: expect.any(Number),
          },
          {
            type: 'notice',
            source: 'hid',
            message: expect.stringMatching(/^USB HID support is unavailable: libusb-1\.0 cannot be loaded/),
            at: expect.any(Number),
          },
        ]);
        expect(lines.filter((l) => l.type === 'device')).toMatchObject([
          { id: '1209:0004:SIM-scanner-1', kind: 'scanner', state: 'connected' },
        ]);
      } finally {
        await pty.dispose();
        manifest.dispose();
        rmSync(lib, { recursive: true, force: true });
      }
    },
  );
});
