// The three places devices are found: serialport's list (USB serial adapters, built-in UARTs), the manifest
// directory (pseudo-terminals and TCP terminals that no list can see), and node-hid's device list.
// An enumerator never throws: a source that cannot be read reports `problem` in plain words and no ports.
import { stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { SerialPort } from 'serialport';
import { describe } from '../transport/transport.ts';
import type { HidDeviceInfo, HidSupport } from '../transport/hid.ts';
import { readManifest } from './manifest.ts';
import { deviceId, usbId, type PortInfo } from './ports.ts';

export interface Enumeration {
  ports: PortInfo[];
  /** Why this source could not be read (or read only in part), in plain words. */
  problem?: string;
}

export interface EnumerateContext {
  /** True when the manager holds an open link to this device id (TCP entries are then not test-connected). */
  isConnected(id: string): boolean;
}

export interface Enumerator {
  readonly source: PortInfo['source'];
  enumerate(ctx: EnumerateContext): Promise<Enumeration>;
}

/** The parts of serialport's PortInfo used here. */
export interface SerialListEntry {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

export interface SerialEnumeratorOptions {
  /** The port list (default serialport's `SerialPort.list()`, which runs `udevadm info -e` on Linux). */
  list?: () => Promise<SerialListEntry[]>;
  /** The directory whose modification time says a device node came or went (default `/dev`). */
  devDir?: string;
  /** List again at least this often even when `devDir` did not change (default 30 s). */
  refreshMs?: number;
  /** Keep listing at every poll this long after `devDir` changed, while udev fills in a new port's
   * properties (default 3 s). */
  settleMs?: number;
}

/**
 * serialport's port list. `udevadm info -e` takes about 120 ms (50 ms of CPU) here, too much for every poll of
 * a till, so the list is taken again only when a device node came or went (the mtime of /dev changed), for
 * a few seconds after that, and every `refreshMs`.
 */
export function serialEnumerator(options: SerialEnumeratorOptions = {}): Enumerator {
  const list = options.list ?? (() => SerialPort.list());
  const devDir = options.devDir ?? '/dev';
  const refreshMs = options.refreshMs ?? 30_000;
  const settleMs = options.settleMs ?? 3000;
  let cached: { ports: PortInfo[]; at: number; devMtime: number } | undefined;
  let changedAt = 0;
  return {
    source: 'serial',
    async enumerate() {
      const now = Date.now();
      const devMtime = await stat(devDir).then(
        (s) => s.mtimeMs,
        () => Number.NaN,
      );
      if (cached && devMtime !== cached.devMtime) changedAt = now;
      if (
        cached &&
        devMtime === cached.devMtime &&
        now - cached.at < refreshMs &&
        now - changedAt >= settleMs
      ) {
        return { ports: cached.ports };
      }
      try {
        const entries = await list();
        const ports = entries.map((e): PortInfo => ({
          source: 'serial',
          link: 'serial',
          path: e.path,
          vendorId: usbId(e.vendorId),
          productId: usbId(e.productId),
          serialNumber: e.serialNumber || undefined,
          manufacturer: e.manufacturer || undefined,
        }));
        cached = { ports, at: now, devMtime };
        return { ports };
      } catch (err) {
        cached = undefined;
        return { ports: [], problem: serialListProblem(err) };
      }
    },
  };
}

function serialListProblem(err: unknown): string {
  const why =
    (err as NodeJS.ErrnoException).code === 'ENOENT'
      ? 'udevadm is not installed (apt-get install udev)'
      : describe(err);
  return `Serial port listing is unavailable: ${why}; ports named in the manifest still work`;
}

export interface ManifestEnumeratorOptions {
  /** Give up a TCP presence check after this long (default 500 ms). */
  tcpConnectTimeoutMs?: number;
}

/**
 * The manifest directory. A serial entry is present while its path exists (a dangling socat link is
 * absent); a TCP entry while the manager holds its connection or a test connection succeeds.
 */
export function manifestEnumerator(dir: string, options: ManifestEnumeratorOptions = {}): Enumerator {
  const timeoutMs = options.tcpConnectTimeoutMs ?? 500;
  return {
    source: 'manifest',
    async enumerate(ctx) {
      let read;
      try {
        read = await readManifest(dir);
      } catch (err) {
        return { ports: [], problem: `Device manifest ${dir} cannot be read: ${describe(err)}` };
      }
      const found = await Promise.all(
        read.entries.map(async ({ entry }): Promise<PortInfo | undefined> => {
          const common = {
            source: 'manifest' as const,
            manufacturer: entry.manufacturer,
            serialNumber: entry.serialNumber,
            label: entry.label,
          };
          if ('tcp' in entry) {
            const port: PortInfo = { ...common, link: 'tcp', path: entry.tcp, driver: entry.driver };
            const present = ctx.isConnected(deviceId(port)) || (await tcpReachable(entry.tcp, timeoutMs));
            return present ? port : undefined;
          }
          const port: PortInfo = {
            ...common,
            link: 'serial',
            path: entry.path,
            vendorId: usbId(entry.vendorId),
            productId: usbId(entry.productId),
          };
          return (await exists(entry.path)) ? port : undefined;
        }),
      );
      const ports = found.filter((p): p is PortInfo => p !== undefined);
      const problem = read.problems.map((p) => `${p.file}: ${p.message}`).join('; ');
      return problem ? { ports, problem: `Device manifest entries ignored: ${problem}` } : { ports };
    },
  };
}

/** node-hid's device list; `support` is `hidSupport()` (loaded once: a missing libusb stays missing). */
export function hidEnumerator(support: () => Promise<HidSupport>): Enumerator {
  return {
    source: 'hid',
    async enumerate() {
      const s = await support();
      if (!s.ok) return { ports: [], problem: s.message };
      let devices: HidDeviceInfo[];
      try {
        devices = await s.hid.devicesAsync();
      } catch (err) {
        return { ports: [], problem: `USB HID devices cannot be listed: ${describe(err)}` };
      }
      return {
        ports: devices
          .filter((d): d is HidDeviceInfo & { path: string } => typeof d.path === 'string' && d.path !== '')
          .map((d) => ({
            source: 'hid',
            link: 'hid',
            path: d.path,
            vendorId: usbId(d.vendorId),
            productId: usbId(d.productId),
            serialNumber: d.serialNumber || undefined,
            manufacturer: d.manufacturer || undefined,
            product: d.product || undefined,
            usagePage: d.usagePage,
          })),
      };
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function tcpReachable(address: string, timeoutMs: number): Promise<boolean> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at);
  const port = Number(address.slice(at + 1));
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect({ host, port });
  });
}
