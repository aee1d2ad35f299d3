// Serial transport on `serialport`'s native binding, with a liveness check of its own.
//
// Why not the SerialPort stream: on Linux its reader retries a zero-byte read at once, so a port whose
// other end went away (a hung-up pty, some USB adapters) spins at 100% CPU and never reports the unplug.
// Here the native binding opens and configures the port (termios, lock, baud) and this class reads the
// fd itself: EAGAIN waits on the binding's poller, EOF or any other error ends the link as `disconnected`.
// A timer also checks that the device path still names the device that was opened, because some
// unplugs produce neither an error nor EOF.
import { fstat as fstatCb, read as fsRead, promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import type { Stats } from 'node:fs';
import { SerialPort } from 'serialport';
import { BaseTransport, TransportError, describe } from './transport.ts';

export interface SerialOptions {
  path: string;
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  stopBits?: 1 | 1.5 | 2;
  parity?: 'none' | 'even' | 'odd';
  rtscts?: boolean;
  /** Take an exclusive lock on the port (default true). */
  lock?: boolean;
  /** How often the liveness check runs (default 500 ms). */
  livenessIntervalMs?: number;
  id?: string;
}

/** The parts of a serialport binding port this class uses. */
interface BindingPort {
  readonly isOpen: boolean;
  close(): Promise<void>;
  write(buffer: Buffer): Promise<void>;
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number }>;
}

/** Unix ports (Linux, macOS) also expose their fd and a libuv poller. */
interface UnixBindingPort extends BindingPort {
  readonly fd: number | null;
  readonly poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
}

function isUnixPort(port: BindingPort): port is UnixBindingPort {
  return 'fd' in port && 'poller' in port;
}

const READ_SIZE = 4096;
const fstat = promisify(fstatCb);

function readFd(fd: number, buffer: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    fsRead(fd, buffer, 0, buffer.length, null, (err, bytesRead) => (err ? reject(err) : resolve(bytesRead)));
  });
}

function sameDevice(a: Stats, b: Stats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.rdev === b.rdev;
}

export class SerialTransport extends BaseTransport {
  readonly options: Readonly<SerialOptions>;
  #port: BindingPort | undefined;
  #liveness: NodeJS.Timeout | undefined;
  #device: Stats | undefined;

  constructor(options: SerialOptions) {
    super(options.id ?? `serial:${options.path}`);
    this.options = { ...options };
  }

  protected override async doOpen(): Promise<void> {
    const { path } = this.options;
    let device: Stats;
    try {
      device = await fsp.stat(path);
    } catch (err) {
      throw new TransportError('open_failed', `${this.id}: no device at ${path} (${describe(err)})`, {
        cause: err,
      });
    }
    let port: BindingPort;
    try {
      port = (await SerialPort.binding.open({
        path,
        baudRate: this.options.baudRate ?? 9600,
        dataBits: this.options.dataBits ?? 8,
        stopBits: this.options.stopBits ?? 1,
        parity: this.options.parity ?? 'none',
        rtscts: this.options.rtscts ?? false,
        lock: this.options.lock ?? true,
      })) as BindingPort;
    } catch (err) {
      throw new TransportError('open_failed', `${this.id}: ${describe(err)}`, { cause: err });
    }
    this.#port = port;
    this.#device = device;
    const gen = this.generation;
    // The read loop starts on the next turn, once the base class has moved to `open`.
    setImmediate(() => void this.#readLoop(port, gen));
    const interval = this.options.livenessIntervalMs ?? 500;
    this.#liveness = setInterval(() => void this.#checkLiveness(gen), interval);
    this.#liveness.unref();
  }

  protected override async doClose(): Promise<void> {
    if (this.#liveness) clearInterval(this.#liveness);
    this.#liveness = undefined;
    const port = this.#port;
    this.#port = undefined;
    this.#device = undefined;
    if (port?.isOpen) await port.close();
  }

  protected override doWrite(data: Buffer): Promise<void> {
    const port = this.#port;
    if (!port) return Promise.reject(new TransportError('not_open', `${this.id}: port is not open`));
    return port.write(data);
  }

  /** The message leads with what a cashier can act on; the low-level cause follows for support. */
  #disconnected(gen: number, why: string, cause?: unknown): void {
    const message = `${this.id}: the device is gone (unplugged or switched off? check its cable): ${why}`;
    this.fail(new TransportError('disconnected', message, { cause }), gen);
  }

  async #readLoop(port: BindingPort, gen: number): Promise<void> {
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    while (gen === this.generation && port.isOpen) {
      let bytesRead: number;
      try {
        if (isUnixPort(port)) {
          const fd = port.fd;
          if (fd === null) return;
          bytesRead = await readFd(fd, buffer);
        } else {
          ({ bytesRead } = await port.read(buffer, 0, buffer.length));
        }
      } catch (err) {
        if (gen !== this.generation) return;
        const code = (err as NodeJS.ErrnoException).code;
        if (isUnixPort(port) && (code === 'EAGAIN' || code === 'EWOULDBLOCK' || code === 'EINTR')) {
          const waitErr = await new Promise<Error | null>((resolve) => port.poller.once('readable', resolve));
          if (waitErr && gen === this.generation)
            this.#disconnected(gen, `poll failed: ${describe(waitErr)}`, waitErr);
          continue;
        }
        this.#disconnected(gen, `read failed: ${describe(err)}`, err);
        return;
      }
      if (gen !== this.generation) return;
      if (bytesRead === 0) {
        // EOF: the other end hung up. Never retry a zero-byte read (that is the busy loop).
        this.#disconnected(gen, 'end of stream (device hung up)');
        return;
      }
      this.deliver(Buffer.from(buffer.subarray(0, bytesRead)));
    }
  }

  #checking = false;

  async #checkLiveness(gen: number): Promise<void> {
    if (this.#checking || gen !== this.generation) return;
    this.#checking = true;
    try {
      const opened = this.#device;
      let now: Stats;
      try {
        now = await fsp.stat(this.options.path);
      } catch (err) {
        this.#disconnected(gen, `device path is gone (${describe(err)})`, err);
        return;
      }
      if (opened && !sameDevice(opened, now)) {
        this.#disconnected(gen, 'device path now names another device');
        return;
      }
      const port = this.#port;
      if (port && isUnixPort(port) && port.fd !== null && gen === this.generation) {
        try {
          await fstat(port.fd);
        } catch (err) {
          if (gen === this.generation) this.#disconnected(gen, `port fd is unusable (${describe(err)})`, err);
        }
      }
    } finally {
      this.#checking = false;
    }
  }
}
