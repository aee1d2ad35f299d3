// USB HID transport on node-hid's async API (HIDAsync, devicesAsync): reports are read on node-hid's own
// thread, so the event loop never blocks. Each input report arrives as one `data` chunk; a write is one
// output report (first byte the report id, 0 when the device uses none).
//
// node-hid's native binding links libusb-1.0 and libudev and is loaded lazily, on the first call. When a
// library is missing that call throws a dlopen error; `hidSupport()` turns it into one plain sentence
// ("USB HID support is unavailable: libusb-1.0 is not installed ...") instead of a crash.
//
// An unplug ends the read thread with an error; some stacks report nothing, so a timer also checks that the
// device is still enumerated (the serial transport's liveness check, by enumeration).
import { BaseTransport, TransportError, describe } from './transport.ts';

/** What node-hid's devicesAsync() reports for one HID interface. */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
  interface: number;
}

/** The device half of node-hid's HIDAsync this transport uses. */
export interface HidDeviceHandle {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (err: unknown) => void): unknown;
  write(values: Buffer): Promise<number>;
  close(): Promise<void>;
}

/** The parts of node-hid this module uses (injectable for tests). */
export interface HidLibrary {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  open(path: string): Promise<HidDeviceHandle>;
}

export type HidSupport = { ok: true; hid: HidLibrary } | { ok: false; message: string };

async function importNodeHid(): Promise<HidLibrary> {
  const mod = await import('node-hid');
  const hid = mod.default;
  return {
    devicesAsync: () => hid.devicesAsync(),
    open: (path) => hid.HIDAsync.open(path) as Promise<HidDeviceHandle>,
  };
}

/**
 * Loads node-hid and makes sure its native binding (and so libusb and libudev) loads, by enumerating once.
 * Never throws: a missing library comes back as `{ ok: false, message }` in plain words.
 */
export async function hidSupport(load: () => Promise<HidLibrary> = importNodeHid): Promise<HidSupport> {
  let hid: HidLibrary;
  try {
    hid = await load();
    await hid.devicesAsync();
  } catch (err) {
    return { ok: false, message: hidUnavailableMessage(err) };
  }
  return { ok: true, hid };
}

/** The shared libraries node-hid's binding links, and the Debian packages that hold them. */
const LIBRARIES = [
  { file: /libusb-1\.0\.so/, name: 'libusb-1.0', pkg: 'libusb-1.0-0' },
  { file: /libudev\.so/, name: 'libudev', pkg: 'libudev1' },
];

/** One sentence saying why USB HID cannot be used and what to install. */
export function hidUnavailableMessage(err: unknown): string {
  const text = describe(err);
  const prefix = 'USB HID support is unavailable';
  const lib = LIBRARIES.find((l) => l.file.test(text));
  if (lib && /cannot open shared object file/.test(text)) {
    return `${prefix}: ${lib.name} is not installed (apt-get install ${lib.pkg})`;
  }
  if (lib) {
    // Found but unusable (a broken or wrong-architecture copy): the loader's reason, without the path.
    const reason = text.slice(text.lastIndexOf(':') + 1).trim();
    return `${prefix}: ${lib.name} cannot be loaded (${reason}); reinstall it (apt-get install --reinstall ${lib.pkg})`;
  }
  if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') {
    return `${prefix}: the node-hid package is not installed (npm install)`;
  }
  return `${prefix}: node-hid could not load its native module (${text})`;
}

export interface HidOptions {
  /** The device path from enumeration (hidraw node on Linux). */
  path: string;
  /** node-hid (`hidSupport()`'s `hid`), or a stand-in in tests. */
  hid: HidLibrary;
  /** How often the device must still be enumerated (default 500 ms). */
  livenessIntervalMs?: number;
  id?: string;
}

export class HidTransport extends BaseTransport {
  readonly options: Readonly<HidOptions>;
  #device: HidDeviceHandle | undefined;
  #liveness: NodeJS.Timeout | undefined;

  constructor(options: HidOptions) {
    super(options.id ?? `hid:${options.path}`);
    this.options = { ...options };
  }

  protected override async doOpen(): Promise<void> {
    const { hid, path } = this.options;
    let device: HidDeviceHandle;
    try {
      device = await hid.open(path);
    } catch (err) {
      throw new TransportError('open_failed', `${this.id}: ${describe(err)}`, { cause: err });
    }
    this.#device = device;
    const gen = this.generation;
    device.on('data', (report) => {
      if (gen === this.generation) this.deliver(Buffer.from(report));
    });
    device.on('error', (err) => this.#lost(gen, `read failed: ${describe(err)}`, err));
    this.#liveness = setInterval(
      () => void this.#checkEnumerated(gen),
      this.options.livenessIntervalMs ?? 500,
    );
    this.#liveness.unref();
  }

  protected override async doClose(): Promise<void> {
    clearInterval(this.#liveness);
    this.#liveness = undefined;
    const device = this.#device;
    this.#device = undefined;
    await device?.close();
  }

  protected override async doWrite(data: Buffer): Promise<void> {
    const device = this.#device;
    if (!device) throw new TransportError('not_open', `${this.id}: device is not open`);
    await device.write(data);
  }

  #lost(gen: number, why: string, cause?: unknown): void {
    this.fail(new TransportError('disconnected', `${this.id}: ${why}`, { cause }), gen);
  }

  #checking = false;

  async #checkEnumerated(gen: number): Promise<void> {
    if (this.#checking || gen !== this.generation) return;
    this.#checking = true;
    try {
      const devices = await this.options.hid.devicesAsync();
      if (!devices.some((d) => d.path === this.options.path))
        this.#lost(gen, 'device is no longer enumerated');
    } catch (err) {
      this.#lost(gen, `enumeration failed: ${describe(err)}`, err);
    } finally {
      this.#checking = false;
    }
  }
}
