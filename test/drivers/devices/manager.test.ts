import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DeviceManager } from '../../../drivers/devices/manager.ts';
import { manifestEnumerator, serialEnumerator } from '../../../drivers/devices/enumerators.ts';
import type { DeviceEvent, ManagerEvent } from '../../../drivers/devices/events.ts';
import type { CardRead } from '../../../drivers/cards/magstripe.ts';
import { memberCode } from '../../../drivers/cards/barcode.ts';
import { SerialTransport } from '../../../drivers/transport/serial.ts';
import { PinPadSimulator } from '../../../drivers/pinpad/simulator.ts';
import { listenZvtTcp } from '../../../drivers/zvt/simulator.ts';
import { decryptPin } from '../pinpad/helpers.ts';
import { SocatPair } from '../transport/socat.ts';
import { EventLog, ManifestDir, TEST_PAN, TEST_SWIPE, simEntry, strings } from './helpers.ts';

const READER_ID = '1209:0001:SIM-card_reader-1';
const PINPAD_ID = '1209:0002:SIM-pinpad-1';

function managerOn(dir: string, pollIntervalMs = 1000): DeviceManager {
  return new DeviceManager({ enumerators: [manifestEnumerator(dir)], pollIntervalMs, probe: false });
}

describe('device manager over real socat pseudo-terminals', () => {
  const manifest = new ManifestDir();
  const reader = new SocatPair();
  const pinpad = new SocatPair();
  let manager: DeviceManager | undefined;
  beforeAll(async () => {
    await Promise.all([reader.start(), pinpad.start()]);
  });
  afterEach(async () => {
    await manager?.close();
    manager = undefined;
  });
  afterAll(async () => {
    await Promise.all([reader.dispose(), pinpad.dispose()]);
    manifest.dispose();
  });

  it('unplug is noticed by the link, replug reconnects the same device with the same driver', async () => {
    manifest.write('reader', simEntry(reader.a, '0001', 'SIM-card_reader-1'));
    manager = managerOn(manifest.dir);
    const log = new EventLog(manager);
    await manager.start();
    expect(manager.get(READER_ID)).toMatchObject({
      kind: 'card_reader',
      driver: 'serial-card-reader',
      matchedBy: 'vid_pid',
      state: 'connected',
      path: reader.a,
    });
    const handle = manager.driver(READER_ID, 'card_reader');
    expect(handle).toBeDefined();
    expect(manager.driver(READER_ID, 'pinpad')).toBeUndefined();

    const unpluggedAt = Date.now();
    const disconnected = log.state(READER_ID, 'disconnected');
    await reader.kill();
    const d = await disconnected;
    const noticedMs = d.at - unpluggedAt;
    await log.state(READER_ID, 'unplugged');
    expect(manager.get(READER_ID)?.state).toBe('unplugged');

    const connected = log.state(READER_ID, 'connected');
    const replugAt = Date.now();
    await reader.start();
    const c = await connected;
    const reconnectMs = c.at - replugAt;
    console.log(
      `unplug noticed after ${noticedMs} ms (${d.type === 'state' ? d.reason : ''}); replug reconnected after ${reconnectMs} ms`,
    );

    // A poll racing socat's exit may add a failed reconnect attempt; the order of the milestones is fixed.
    const states = log.states(READER_ID);
    const order = [
      states.indexOf('connected'),
      states.indexOf('disconnected'),
      states.indexOf('unplugged'),
      states.lastIndexOf('connecting'),
      states.lastIndexOf('connected'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(states.filter((s) => s === 'connected')).toHaveLength(2);
    expect(states.at(-1)).toBe('connected');
    expect(manager.list().map((x) => x.id)).toEqual([READER_ID]);
    expect(manager.driver(READER_ID, 'card_reader')).toBe(handle);

    // The reconnected link works: a swipe arrives as a masked card event, and as a CardRead for the till.
    const swiped = new Promise<CardRead>((resolve) => manager?.once('swipe', (s) => resolve(s.card)));
    const card = log.next((e) => e.type === 'card');
    const device = new SerialTransport({ path: reader.b });
    await device.open();
    await device.write(Buffer.from(TEST_SWIPE));
    await device.close();
    expect(await card).toMatchObject({
      deviceId: READER_ID,
      panMasked: '535029******5177',
      expiry: '2016-04',
      track: 1,
    });
    expect((await swiped).withPan((pan) => pan === TEST_PAN)).toBe(true);
    expect(strings(log.events).join('\n')).not.toContain(TEST_PAN);
    expect(JSON.stringify(log.events)).not.toContain(TEST_PAN);
  });

  it('a device with a serial number that comes back on another port keeps its identity and driver', async () => {
    manifest.write('reader', simEntry(reader.a, '0001', 'SIM-card_reader-1'));
    manager = managerOn(manifest.dir, 100);
    const log = new EventLog(manager);
    await manager.start();
    const before = manager.driver(READER_ID, 'card_reader');
    const other = new SocatPair();
    try {
      const unplugged = log.state(READER_ID, 'unplugged');
      await reader.kill();
      await unplugged;
      await other.start();
      const connected = log.state(READER_ID, 'connected');
      manifest.write('reader', simEntry(other.a, '0001', 'SIM-card_reader-1'));
      await connected;
      expect(manager.list()).toMatchObject([{ id: READER_ID, path: other.a, driver: 'serial-card-reader' }]);
      const after = manager.driver(READER_ID, 'card_reader');
      expect(after).toBeDefined();
      expect(after).not.toBe(before); // rebuilt on the new path
      const card = log.next((e) => e.type === 'card');
      const device = new SerialTransport({ path: other.b });
      await device.open();
      await device.write(Buffer.from(TEST_SWIPE));
      await device.close();
      expect(await card).toMatchObject({ deviceId: READER_ID, panMasked: '535029******5177' });
    } finally {
      await manager.close();
      manager = undefined;
      await other.dispose();
      await reader.start();
    }
  });

  it('a scanner line is a scan event, a bad swipe a coded error, each after its rx frame', async () => {
    manifest.write('reader', simEntry(reader.a, '0004', 'SIM-scanner-1'));
    manager = managerOn(manifest.dir);
    const log = new EventLog(manager);
    await manager.start();
    const id = '1209:0004:SIM-scanner-1';
    expect(manager.get(id)).toMatchObject({ kind: 'scanner', driver: 'serial-scanner', state: 'connected' });
    const code = memberCode('40012345');
    const scan = log.next((e) => e.type === 'scan');
    const error = log.next((e) => e.type === 'error');
    const device = new SerialTransport({ path: reader.b });
    await device.open();
    await device.write(Buffer.from(`${code}\r\n`));
    await device.write(Buffer.from(';5350290149345178=16042010000056700100?\r\n')); // Luhn broken
    await device.close();
    expect(await scan).toMatchObject({ deviceId: id, scan: { kind: 'member', memberNumber: code.slice(5) } });
    expect(await error).toMatchObject({ deviceId: id, code: 'bad_luhn' });
    const kinds = log.events.filter((e) => e.type !== 'state' && e.type !== 'added').map((e) => e.type);
    expect(kinds.indexOf('frame')).toBeLessThan(kinds.indexOf('scan'));
    expect(JSON.stringify(log.events)).not.toContain('5350290149345178');
  });

  it('asks the PIN pad for the PIN of a swiped card: the stream shows the KSN, the engine gets the block', async () => {
    manifest.write('reader', simEntry(reader.a, '0001', 'SIM-card_reader-1'));
    manifest.write('pinpad', simEntry(pinpad.a, '0002', 'SIM-pinpad-1'));
    const padSide = new SerialTransport({ path: pinpad.b });
    await padSide.open();
    const sim = new PinPadSimulator(padSide, { pin: '4729' });
    manager = managerOn(manifest.dir);
    const log = new EventLog(manager);
    await manager.start();
    try {
      expect(manager.get(PINPAD_ID)).toMatchObject({ kind: 'pinpad', state: 'connected' });
      const swiped = new Promise<CardRead>((resolve) => manager?.once('swipe', (s) => resolve(s.card)));
      const device = new SerialTransport({ path: reader.b });
      await device.open();
      await device.write(Buffer.from(TEST_SWIPE));
      await device.close();
      const result = await manager.enterPin(await swiped);
      expect(decryptPin(result.ksn, result.pinBlock, TEST_PAN)).toBe('4729');
      const pin = log.events.find((e): e is DeviceEvent => e.type === 'pin');
      expect(pin).toMatchObject({ deviceId: PINPAD_ID, ksn: result.ksn, pinBlock: 'encrypted PIN block' });
      const frames = log.events.filter((e) => e.type === 'frame' && e.deviceId === PINPAD_ID);
      expect(frames.map((f) => (f.type === 'frame' ? `${f.direction} ${f.summary}` : ''))).toContain(
        'rx ACK',
      );
      const text = strings(log.events).join('\n');
      for (const secret of [TEST_PAN, '4729', result.pinBlock]) expect(text).not.toContain(secret);
    } finally {
      sim.stop();
      await padSide.close();
    }
  });

  it('a listed port that keeps failing to open is retried with growing pauses, not in a loop', async () => {
    const notATty = join(manifest.dir, 'not-a-tty');
    writeFileSync(notATty, '');
    const failing = new ManifestDir();
    failing.write('bad', simEntry(notATty, '0001', 'SIM-card_reader-9'));
    manager = new DeviceManager({
      enumerators: [manifestEnumerator(failing.dir)],
      pollIntervalMs: 50,
      maxBackoffMs: 400,
      probe: false,
    });
    const log = new EventLog(manager);
    await manager.start();
    await new Promise((r) => setTimeout(r, 2000));
    const attempts = log.states('1209:0001:SIM-card_reader-9').filter((s) => s === 'connecting').length;
    const errors = log.events.filter((e) => e.type === 'error' && e.code === 'open_failed');
    console.log(`failing port: ${attempts} open attempts in 2 s at a 50 ms poll`);
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(12); // 40 polls; without backoff every one would try
    expect(errors.length).toBe(attempts);
    failing.dispose();
  });
});

describe('TCP terminals from the manifest', () => {
  const manifest = new ManifestDir();
  afterAll(() => manifest.dispose());

  it('connects, self-tests with a status enquiry, and is unplugged when the terminal goes away', async () => {
    const server = await listenZvtTcp({ port: 0 });
    const address = `127.0.0.1:${server.port}`;
    manifest.write('zvt', { tcp: address, driver: 'zvt', serialNumber: 'SIM-zvt-1' });
    const manager = managerOn(manifest.dir, 200);
    const log = new EventLog(manager);
    try {
      await manager.start();
      expect(manager.get(address)).toMatchObject({
        kind: 'zvt',
        driver: 'zvt-tcp',
        matchedBy: 'manifest',
        state: 'connected',
      });
      await expect(manager.selfTest(address)).resolves.toMatch(/^terminal status: /);
      expect(
        log.events.some((e) => e.type === 'frame' && e.direction === 'tx' && e.summary === '05 01'),
      ).toBe(true);
      await server.close();
      await log.state(address, 'disconnected');
      await log.state(address, 'unplugged');
    } finally {
      await manager.close();
      await server.close();
    }
  });
  it('a terminal that accepts and hangs up at once is reopened at most once per poll, not in a loop', async () => {
    let accepted = 0;
    const server = createServer((socket) => {
      accepted++;
      socket.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    manifest.write('zvt', { tcp: address, driver: 'zvt' });
    const manager = managerOn(manifest.dir, 50);
    const log = new EventLog(manager);
    try {
      await manager.start();
      await new Promise((r) => setTimeout(r, 2000));
    } finally {
      await manager.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
    const attempts = log.states(address).filter((st) => st === 'connecting').length;
    console.log(
      `half-closed terminal: ${attempts} reopen attempts, ${accepted} connections in 2 s at a 50 ms poll`,
    );
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(2000 / 50 + 1);
    expect(accepted).toBeLessThanOrEqual(2 * (2000 / 50 + 1)); // a presence check and an open per poll at most
  });
});

describe('sources that cannot be read', () => {
  it('a missing udevadm is reported once, in plain words, and the manager keeps running', async () => {
    const missing = Object.assign(new Error('spawn udevadm ENOENT'), { code: 'ENOENT' });
    const manager = new DeviceManager({
      enumerators: [serialEnumerator({ list: () => Promise.reject(missing) })],
      pollIntervalMs: 20,
    });
    const events: ManagerEvent[] = [];
    manager.subscribe('*', (e) => events.push(e));
    await manager.start();
    for (let i = 0; i < 5; i++) await manager.pollOnce();
    await manager.close();
    expect(events).toEqual([
      {
        type: 'notice',
        source: 'serial',
        message:
          'Serial port listing is unavailable: udevadm is not installed (apt-get install udev); ports named in the manifest still work',
        at: expect.any(Number),
      },
    ]);
  });

  it('a manifest file that does not parse is named once; the good entries are still used', async () => {
    const manifest = new ManifestDir();
    const pty = new SocatPair();
    await pty.start();
    try {
      manifest.write('good', simEntry(pty.a, '0004', 'SIM-scanner-1'));
      writeFileSync(join(manifest.dir, 'typo.json'), '{"path": 42}');
      const manager = managerOn(manifest.dir, 20);
      const events: ManagerEvent[] = [];
      manager.subscribe('*', (e) => events.push(e));
      await manager.start();
      for (let i = 0; i < 3; i++) await manager.pollOnce();
      await manager.close();
      const notices = events.filter((e) => e.type === 'notice');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatchObject({ source: 'manifest', message: expect.stringContaining('typo.json') });
      expect(manager.list()).toMatchObject([
        { id: '1209:0004:SIM-scanner-1', kind: 'scanner', state: 'closed' },
      ]);
    } finally {
      await pty.dispose();
      manifest.dispose();
    }
  });
});
