// There is no USB HID device on the build machines. What runs for real: node-hid's enumeration here, and its
// native binding failing to load against a broken libusb in a child process. The device half of HidTransport
// is driven through a stand-in for node-hid's HIDAsync.
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HidTransport,
  hidSupport,
  hidUnavailableMessage,
  type HidDeviceHandle,
  type HidDeviceInfo,
  type HidLibrary,
} from '../../../drivers/transport/hid.ts';
import { waitForState, type TransportError } from '../../../drivers/transport/transport.ts';

describe('node-hid on this machine', () => {
  it('loads with its native binding and enumerates (a list, empty without devices)', async () => {
    const support = await hidSupport();
    expect(support.ok).toBe(true);
    if (support.ok) expect(Array.isArray(await support.hid.devicesAsync())).toBe(true);
  });

  it('with a broken libusb on the library path, says so in one sentence instead of crashing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-nolibusb-'));
    try {
      writeFileSync(join(dir, 'libusb-1.0.so.0'), 'not a shared object');
      const script =
        "import { hidSupport } from './drivers/transport/hid.ts';" +
        'const s = await hidSupport(); console.log(JSON.stringify(s));';
      const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, LD_LIBRARY_PATH: dir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(run.status).toBe(0);
      expect(JSON.parse(run.stdout.trim())).toEqual({
        ok: false,
        message:
          'USB HID support is unavailable: libusb-1.0 cannot be loaded (file too short); reinstall it (apt-get install --reinstall libusb-1.0-0)',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the missing library and the Debian package to install', async () => {
    const dlopen = (message: string) => Object.assign(new Error(message), { code: 'ERR_DLOPEN_FAILED' });
    const failing = (err: Error) => async (): Promise<HidLibrary> => ({
      devicesAsync: () => Promise.reject(err),
      open: () => Promise.reject(err),
    });
    const missingUsb = dlopen('libusb-1.0.so.0: cannot open shared object file: No such file or directory');
    expect(await hidSupport(failing(missingUsb))).toEqual({
      ok: false,
      message: 'USB HID support is unavailable: libusb-1.0 is not installed (apt-get install libusb-1.0-0)',
    });
    expect(
      hidUnavailableMessage(
        dlopen('libudev.so.1: cannot open shared object file: No such file or directory'),
      ),
    ).toBe('USB HID support is unavailable: libudev is not installed (apt-get install libudev1)');
    const noPackage = Object.assign(new Error("Cannot find package 'node-hid'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    expect(await hidSupport(() => Promise.reject(noPackage))).toEqual({
      ok: false,
      message: 'USB HID support is unavailable: the node-hid package is not installed (npm install)',
    });
    expect(hidUnavailableMessage(new Error('weird'))).toBe(
      'USB HID support is unavailable: node-hid could not load its native module (weird)',
    );
  });
});

/** Stands in for node-hid: one device at PATH that can send reports, fail its read, or disappear. */
class FakeHid implements HidLibrary {
  listed = true;
  readonly written: Buffer[] = [];
  closed = 0;
  device: (EventEmitter & HidDeviceHandle) | undefined;

  async devicesAsync(): Promise<HidDeviceInfo[]> {
    return this.listed ? [{ vendorId: 0x0801, productId: 0x0002, path: PATH, interface: 0 }] : [];
  }

  async open(path: string): Promise<HidDeviceHandle> {
    if (path !== PATH || !this.listed) throw new Error('could not open HID device');
    const emitter = new EventEmitter();
    const device = Object.assign(emitter, {
      write: async (values: Buffer) => {
        this.written.push(Buffer.from(values));
        return values.length;
      },
      close: async () => {
        this.closed++;
      },
    });
    this.device = device as EventEmitter & HidDeviceHandle;
    return this.device;
  }
}
const PATH = '/dev/hidraw7';

describe('HidTransport', () => {
  it('delivers each input report as one chunk and writes output reports', async () => {
    const hid = new FakeHid();
    const t = new HidTransport({ path: PATH, hid, livenessIntervalMs: 20 });
    const got: Buffer[] = [];
    t.on('data', (c) => got.push(c));
    await t.open();
    hid.device!.emit('data', Buffer.from([1, 2, 3]));
    hid.device!.emit('data', Buffer.from([4]));
    await t.write(Buffer.from([0, 9]));
    expect(got).toEqual([Buffer.from([1, 2, 3]), Buffer.from([4])]);
    expect(hid.written).toEqual([Buffer.from([0, 9])]);
    await t.close();
    expect(hid.closed).toBe(1);
    await expect(t.write(Buffer.from([0]))).rejects.toMatchObject({ code: 'not_open' });
  });

  it('a read error is a disconnect', async () => {
    const hid = new FakeHid();
    const t = new HidTransport({ path: PATH, hid, livenessIntervalMs: 1000 });
    await t.open();
    const failed = new Promise<TransportError | undefined>((resolve) =>
      t.on('state', (s, e) => s === 'failed' && resolve(e)),
    );
    hid.device!.emit('error', new Error('could not read from HID device'));
    expect(await failed).toMatchObject({
      code: 'disconnected',
      message: expect.stringContaining('read failed'),
    });
    expect(hid.closed).toBe(1);
    await t.close();
  });

  it('a device that is no longer enumerated is a disconnect; it reopens once listed again', async () => {
    const hid = new FakeHid();
    const t = new HidTransport({ path: PATH, hid, livenessIntervalMs: 20 });
    await t.open();
    hid.listed = false;
    await waitForState(t, 'failed', 5000);
    await expect(t.open()).rejects.toMatchObject({ code: 'open_failed' });
    hid.listed = true;
    await t.open();
    expect(t.state).toBe('open');
    await t.close();
  });
});
