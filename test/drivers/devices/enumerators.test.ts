import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  hidEnumerator,
  manifestEnumerator,
  serialEnumerator,
  type SerialListEntry,
} from '../../../drivers/devices/enumerators.ts';
import { deviceId, usbId } from '../../../drivers/devices/ports.ts';
import type { HidLibrary } from '../../../drivers/transport/hid.ts';
import { ManifestDir } from './helpers.ts';

const none = { isConnected: () => false };

describe('serial enumerator', () => {
  const dev = mkdtempSync(join(tmpdir(), 'tillback-dev-'));
  afterAll(() => rmSync(dev, { recursive: true, force: true }));
  const counting = (entries: SerialListEntry[]) => {
    const calls = { n: 0 };
    return { calls, list: async () => (calls.n++, entries) };
  };

  it('maps serialport entries to ports with normalised USB ids', async () => {
    const { list } = counting([
      {
        path: '/dev/ttyUSB0',
        vendorId: '0B00',
        productId: '0054',
        serialNumber: '',
        manufacturer: 'Ingenico',
      },
      { path: '/dev/ttyS0' },
    ]);
    const r = await serialEnumerator({ list, devDir: dev }).enumerate(none);
    expect(r).toEqual({
      ports: [
        {
          source: 'serial',
          link: 'serial',
          path: '/dev/ttyUSB0',
          vendorId: '0b00',
          productId: '0054',
          serialNumber: undefined,
          manufacturer: 'Ingenico',
        },
        {
          source: 'serial',
          link: 'serial',
          path: '/dev/ttyS0',
          vendorId: undefined,
          productId: undefined,
          serialNumber: undefined,
          manufacturer: undefined,
        },
      ],
    });
  });

  it('runs udevadm again only when a device node came or went, while it settles, and every refresh', async () => {
    const { calls, list } = counting([{ path: '/dev/ttyUSB0' }]);
    const e = serialEnumerator({ list, devDir: dev, refreshMs: 60_000, settleMs: 0 });
    for (let i = 0; i < 5; i++) await e.enumerate(none);
    expect(calls.n).toBe(1);
    writeFileSync(join(dev, 'ttyUSB1'), '');
    await e.enumerate(none);
    await e.enumerate(none);
    expect(calls.n).toBe(2);

    const settling = counting([]);
    const s = serialEnumerator({ list: settling.list, devDir: dev, refreshMs: 60_000, settleMs: 60_000 });
    await s.enumerate(none);
    writeFileSync(join(dev, 'ttyUSB2'), '');
    for (let i = 0; i < 3; i++) await s.enumerate(none);
    expect(settling.calls.n).toBe(4); // first listing, then every poll while udev settles

    const always = counting([]);
    const a = serialEnumerator({ list: always.list, devDir: dev, refreshMs: 0 });
    for (let i = 0; i < 3; i++) await a.enumerate(none);
    expect(always.calls.n).toBe(3);
  });

  it('the real list on this machine answers (udevadm is installed)', async () => {
    const r = await serialEnumerator().enumerate(none);
    expect(r.problem).toBeUndefined();
    expect(r.ports.every((p) => p.path.startsWith('/dev/'))).toBe(true);
  });
});

describe('manifest enumerator', () => {
  const manifest = new ManifestDir();
  afterAll(() => manifest.dispose());

  it('lists serial entries whose path exists (a dangling link is absent) and reachable TCP entries', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const open = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const closedServer = createServer();
    await new Promise<void>((r) => closedServer.listen(0, '127.0.0.1', r));
    const closed = `127.0.0.1:${(closedServer.address() as AddressInfo).port}`;
    await new Promise<void>((r) => closedServer.close(() => r()));
    try {
      const file = join(manifest.dir, 'a-device');
      writeFileSync(file, '');
      symlinkSync(join(manifest.dir, 'gone'), join(manifest.dir, 'dangling'));
      manifest.write('1', { path: file, vendorId: '1209', productId: '0004', label: 'front scanner' });
      manifest.write('2', { path: join(manifest.dir, 'dangling') });
      manifest.write('3', { tcp: open, driver: 'zvt' });
      manifest.write('4', { tcp: closed, driver: 'zvt' });
      const e = manifestEnumerator(manifest.dir, { tcpConnectTimeoutMs: 2000 });
      const r = await e.enumerate(none);
      expect(r.problem).toBeUndefined();
      expect(r.ports.map((p) => [p.link, p.path])).toEqual([
        ['serial', file],
        ['tcp', open],
      ]);
      expect(r.ports[0]).toMatchObject({ vendorId: '1209', productId: '0004', label: 'front scanner' });
      // A terminal the manager holds is not test-connected (it may take one connection only).
      const held = await e.enumerate({ isConnected: (id) => id === closed });
      expect(held.ports.map((p) => p.path)).toEqual([file, open, closed]);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a missing directory is an empty manifest', async () => {
    expect(await manifestEnumerator(join(manifest.dir, 'nope')).enumerate(none)).toEqual({ ports: [] });
  });
});

describe('HID enumerator', () => {
  it('maps node-hid devices (skipping ones without a path) and reports a missing library', async () => {
    const hid: HidLibrary = {
      devicesAsync: async () => [
        {
          vendorId: 0x801,
          productId: 2,
          path: '/dev/hidraw0',
          serialNumber: 'B1',
          product: 'USB Swipe Reader',
          interface: 0,
          usagePage: 0xff00,
        },
        { vendorId: 1, productId: 1, interface: 0 },
      ],
      open: () => Promise.reject(new Error('unused')),
    };
    const r = await hidEnumerator(async () => ({ ok: true, hid })).enumerate(none);
    expect(r.ports).toEqual([
      {
        source: 'hid',
        link: 'hid',
        path: '/dev/hidraw0',
        vendorId: '0801',
        productId: '0002',
        serialNumber: 'B1',
        manufacturer: undefined,
        product: 'USB Swipe Reader',
        usagePage: 0xff00,
      },
    ]);
    expect(deviceId(r.ports[0]!)).toBe('0801:0002:B1');
    const missing = await hidEnumerator(async () => ({
      ok: false,
      message: 'USB HID support is unavailable: x',
    })).enumerate(none);
    expect(missing).toEqual({ ports: [], problem: 'USB HID support is unavailable: x' });
  });
});

describe('USB ids and identity (properties)', () => {
  it('usbId gives four lower-case hex digits for 0..0xffff in any spelling, and nothing for anything else', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.boolean(), (n, upper) => {
        const hex = n.toString(16);
        const expected = hex.padStart(4, '0');
        expect(usbId(n)).toBe(expected);
        expect(usbId(upper ? hex.toUpperCase() : hex)).toBe(expected);
        expect(usbId(`0x${hex}`)).toBe(expected);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const r = usbId(s);
        if (/^(0x)?[0-9a-f]{1,4}$/i.test(s))
          expect(r).toBe(Number.parseInt(s, 16).toString(16).padStart(4, '0'));
        else expect(r).toBeUndefined();
      }),
    );
  });

  it('deviceId is VID:PID:serial exactly when all three are there, else the path', () => {
    const opt = fc.option(fc.string({ minLength: 1 }), { nil: undefined });
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), opt, opt, opt, (path, vendorId, productId, serialNumber) => {
        const id = deviceId({ path, vendorId, productId, serialNumber });
        expect(id).toBe(
          vendorId && productId && serialNumber ? `${vendorId}:${productId}:${serialNumber}` : path,
        );
      }),
    );
  });
});
