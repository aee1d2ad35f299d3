// The device manager: finds devices (serial list, manifest, HID list), chooses a driver for each, keeps the
// link up across unplug and replug, and hands the till one event stream per device and a driver handle.
//
// Hotplug is polling: every `pollIntervalMs` (default 1 s) all enumerators run. A link's own liveness check
// (serial: EOF, poll error, the path's device changing, every 500 ms; HID: read error or no longer listed;
// TCP: socket end) notices an unplug within 2 s; the next poll that lists the device again reconnects it
// (within 3 s of a replug with the default interval). Reconnecting happens only from a poll, at most once per
// interval per device, and a device whose open keeps failing while it stays listed (a half-closed port) waits
// twice as long after each failure up to `maxBackoffMs`: there is no loop that could spin.
import { TypedEmitter } from '../transport/transport.ts';
import type { Transport, TransportError, TransportState } from '../transport/transport.ts';
import { SerialTransport } from '../transport/serial.ts';
import { TcpTransport } from '../transport/tcp.ts';
import { HidTransport, hidSupport, type HidSupport } from '../transport/hid.ts';
import type { CardRead } from '../cards/magstripe.ts';
import { PinPadError, type PinEntryResult } from '../pinpad/driver.ts';
import { hidEnumerator, manifestEnumerator, serialEnumerator, type Enumerator } from './enumerators.ts';
import type {
  DeviceEvent,
  DeviceEventBody,
  DeviceInfo,
  DeviceState,
  ManagerEvent,
  NoticeEvent,
} from './events.ts';
import { deviceId, type PortInfo } from './ports.ts';
import {
  PROFILES,
  matchProfile,
  probeProfile,
  type DriverHandles,
  type DriverInstance,
  type DriverKind,
  type DriverProfile,
} from './profiles.ts';

export const DEFAULT_MANIFEST_DIR = 'data/devices';

export interface DeviceManagerOptions {
  /** Manifest directory (default `data/devices`, where `npm run simulate` writes). */
  manifestDir?: string;
  /** Replaces the default enumerators (serial list, manifest, HID list). */
  enumerators?: Enumerator[];
  profiles?: readonly DriverProfile[];
  /** Enumeration interval (default 1000 ms). */
  pollIntervalMs?: number;
  /** Probe serial ports no VID/PID or metadata matched (default true). */
  probe?: boolean;
  /** How long a probe waits for each answer (default 250 ms). */
  probeTimeoutMs?: number;
  /** Longest wait between reopen attempts of a listed device that fails to open (default 8000 ms). */
  maxBackoffMs?: number;
  /** Serial and HID liveness check interval (default 500 ms). */
  livenessIntervalMs?: number;
  /** node-hid, checked once (default: the real one). */
  hidSupport?: () => Promise<HidSupport>;
}

export interface ManagerEvents {
  event: [event: ManagerEvent];
  /** A decoded card with its PAN inside (for the till's PIN request and keyed hash); never log it. */
  swipe: [swipe: { deviceId: string; card: CardRead }];
}

interface Device {
  info: DeviceInfo;
  port: PortInfo;
  profile: DriverProfile | undefined;
  transport: Transport | undefined;
  instance: DriverInstance | undefined;
  onTransportState: ((state: TransportState, error?: TransportError) => void) | undefined;
  /** Consecutive failed opens while listed; reset by a successful open or by being unlisted. */
  failures: number;
  retryAt: number;
  connecting: Promise<void> | undefined;
}

export class DeviceManager extends TypedEmitter<ManagerEvents> {
  readonly #devices = new Map<string, Device>();
  readonly #notices = new Map<NoticeEvent['source'], string>();
  readonly #enumerators: Enumerator[];
  readonly #profiles: readonly DriverProfile[];
  readonly #pollIntervalMs: number;
  readonly #probe: boolean;
  readonly #probeTimeoutMs: number;
  readonly #maxBackoffMs: number;
  readonly #livenessIntervalMs: number;
  readonly #hid: () => Promise<HidSupport>;
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #closed = false;

  constructor(options: DeviceManagerOptions = {}) {
    super();
    const load = options.hidSupport ?? (() => hidSupport());
    let support: Promise<HidSupport> | undefined;
    this.#hid = () => (support ??= load());
    this.#enumerators = options.enumerators ?? [
      serialEnumerator(),
      manifestEnumerator(options.manifestDir ?? DEFAULT_MANIFEST_DIR),
      hidEnumerator(this.#hid),
    ];
    this.#profiles = options.profiles ?? PROFILES;
    this.#pollIntervalMs = options.pollIntervalMs ?? 1000;
    this.#probe = options.probe ?? true;
    this.#probeTimeoutMs = options.probeTimeoutMs ?? 250;
    this.#maxBackoffMs = options.maxBackoffMs ?? 8000;
    this.#livenessIntervalMs = options.livenessIntervalMs ?? 500;
  }

  /** Runs the first enumeration, waits for its connections to settle, then keeps polling until close(). */
  async start(): Promise<void> {
    await this.pollOnce();
    await this.settled();
    this.#schedule();
  }

  /** One enumeration pass (start() runs them on a timer). */
  pollOnce(): Promise<void> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  /** Resolves when no connection attempt is in flight. */
  async settled(): Promise<void> {
    await Promise.all([...this.#devices.values()].map((d) => d.connecting));
  }

  list(): DeviceInfo[] {
    return [...this.#devices.values()].map((d) => ({ ...d.info }));
  }

  get(id: string): DeviceInfo | undefined {
    const d = this.#devices.get(id);
    return d && { ...d.info };
  }

  /** Events of one device (or of every device and the notices, with '*'); returns the unsubscribe. */
  subscribe(id: '*', listener: (event: ManagerEvent) => void): () => void;
  subscribe(id: string, listener: (event: DeviceEvent) => void): () => void;
  subscribe(id: string, listener: (event: DeviceEvent) => void): () => void {
    const filtered = (event: ManagerEvent): void => {
      if (id === '*' || (event.type !== 'notice' && event.deviceId === id)) listener(event as DeviceEvent);
    };
    this.on('event', filtered);
    return () => this.off('event', filtered);
  }

  /** The driver of a device of that kind (it stays the same object across reconnects). */
  driver<K extends DriverKind>(id: string, kind: K): DriverHandles[K] | undefined {
    const instance = this.#devices.get(id)?.instance;
    return instance?.kind === kind ? (instance.handle as DriverHandles[K]) : undefined;
  }

  /** Runs the device's harmless self-test (status enquiry, PIN pad cancel, link check). */
  async selfTest(id: string): Promise<string> {
    const d = this.#devices.get(id);
    if (!d) throw new Error(`no device ${id}`);
    if (!d.instance) throw new Error(`device ${id} has no driver (kind unknown): nothing to test`);
    if (d.connecting) await d.connecting;
    if (d.info.state !== 'connected') throw new Error(`device ${id} is ${d.info.state}`);
    return d.instance.selfTest();
  }

  /**
   * Asks a connected PIN pad (the given one, or the first) for the PIN of this card, as a till does after a
   * swipe. The device stream gets a `pin` event with the KSN only; the result holds the encrypted block.
   */
  async enterPin(
    card: CardRead,
    options: { pinpadId?: string; timeoutMs?: number } = {},
  ): Promise<PinEntryResult> {
    const d = [...this.#devices.values()].find(
      (x) =>
        x.instance?.kind === 'pinpad' &&
        x.info.state === 'connected' &&
        (options.pinpadId === undefined || x.info.id === options.pinpadId),
    );
    const pad = d && this.driver(d.info.id, 'pinpad');
    if (!d || !pad) throw new PinPadError('not_open', 'no PIN pad is connected');
    const timeout = options.timeoutMs;
    const result = await card.withPan((pan) =>
      pad.enterPin(timeout === undefined ? { pan } : { pan, timeoutMs: timeout }),
    );
    this.#emit(d, { type: 'pin', ksn: result.ksn, pinBlock: 'encrypted PIN block' });
    return result;
  }

  /** Stops polling and closes every link and driver. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling;
    await this.settled();
    await Promise.all(
      [...this.#devices.values()].map(async (d) => {
        if (d.transport && d.onTransportState) d.transport.off('state', d.onTransportState);
        await d.instance?.close();
        this.#setState(d, 'closed');
      }),
    );
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.pollOnce().finally(() => this.#schedule());
    }, this.#pollIntervalMs);
  }

  async #poll(): Promise<void> {
    const ctx = { isConnected: (id: string) => this.#devices.get(id)?.info.state === 'connected' };
    const results = await Promise.all(this.#enumerators.map(async (e) => ({ e, r: await e.enumerate(ctx) })));
    const seen = new Map<string, PortInfo>();
    for (const { e, r } of results) {
      this.#notice(e.source, r.problem);
      for (const port of r.ports) {
        const id = deviceId(port);
        if (!seen.has(id)) seen.set(id, port);
      }
    }
    for (const [id, port] of seen) {
      if (this.#closed) return;
      let d = this.#devices.get(id);
      if (!d) d = await this.#add(id, port);
      else if (d.info.state === 'unplugged') await this.#replugged(d, port);
      this.#maybeConnect(d);
    }
    for (const d of this.#devices.values()) {
      const { state } = d.info;
      if (seen.has(d.info.id) || state === 'unplugged' || state === 'connected' || state === 'connecting')
        continue;
      d.failures = 0;
      d.retryAt = 0;
      this.#setState(d, 'unplugged', 'no longer enumerated');
    }
  }

  async #add(id: string, port: PortInfo): Promise<Device> {
    let choice = matchProfile(port, this.#profiles);
    if (!choice && this.#probe && port.link === 'serial') {
      choice = await probeProfile(
        port,
        () => this.#transport(id, port),
        this.#probeTimeoutMs,
        this.#profiles,
      );
    }
    const d: Device = {
      info: {
        id,
        kind: choice?.profile.kind ?? 'unknown',
        driver: choice?.profile.name ?? null,
        matchedBy: choice?.matchedBy ?? null,
        source: port.source,
        link: port.link,
        path: port.path,
        state: 'present',
        vendorId: port.vendorId,
        productId: port.productId,
        serialNumber: port.serialNumber,
        manufacturer: port.manufacturer,
        product: port.product,
        label: port.label,
      },
      port,
      profile: choice?.profile,
      transport: undefined,
      instance: undefined,
      onTransportState: undefined,
      failures: 0,
      retryAt: 0,
      connecting: undefined,
    };
    this.#devices.set(id, d);
    this.#emit(d, { type: 'added', device: { ...d.info } });
    this.#attach(d);
    return d;
  }

  /** Builds the transport and driver of a device (once, or again when it comes back on another path). */
  #attach(d: Device): void {
    const profile = d.profile;
    if (!profile) return;
    const transport = this.#transport(d.info.id, d.port);
    const instance = profile.create(transport, (body) => this.#emit(d, body));
    d.onTransportState = (state, error) => {
      if (state === 'failed' && d.info.state === 'connected') {
        this.#setState(d, 'disconnected', error?.message ?? 'link lost');
      }
    };
    transport.on('state', d.onTransportState);
    if (instance.kind === 'card_reader' || instance.kind === 'scanner') {
      (instance.handle as DriverHandles['card_reader']).on('event', (e) => {
        if (e.type === 'card') this.emit('swipe', { deviceId: d.info.id, card: e.swipe.card });
      });
    }
    d.transport = transport;
    d.instance = instance;
  }

  async #replugged(d: Device, port: PortInfo): Promise<void> {
    d.failures = 0;
    d.retryAt = 0;
    if (port.path !== d.port.path) {
      // Same identity (VID:PID:serial) on another port: the old link's path is stale.
      if (d.transport && d.onTransportState) d.transport.off('state', d.onTransportState);
      await d.instance?.close();
      d.port = port;
      d.info.path = port.path;
      this.#attach(d);
    }
    this.#setState(d, 'present');
  }

  #transport(id: string, port: PortInfo): Transport {
    switch (port.link) {
      case 'serial':
        return new SerialTransport({
          path: port.path,
          livenessIntervalMs: this.#livenessIntervalMs,
          id,
        });
      case 'tcp': {
        const at = port.path.lastIndexOf(':');
        return new TcpTransport({
          host: port.path.slice(0, at),
          port: Number(port.path.slice(at + 1)),
          connectTimeoutMs: 2000,
          id,
        });
      }
      case 'hid':
        return new HidTransport({
          path: port.path,
          hid: lazyHid(this.#hid),
          livenessIntervalMs: this.#livenessIntervalMs,
          id,
        });
    }
  }

  #maybeConnect(d: Device): void {
    if (this.#closed || !d.instance || d.connecting || Date.now() < d.retryAt) return;
    if (d.info.state !== 'present' && d.info.state !== 'disconnected') return;
    const instance = d.instance;
    this.#setState(d, 'connecting');
    d.connecting = instance.connect().then(
      () => {
        d.failures = 0;
        if (d.transport?.state === 'open') this.#setState(d, 'connected');
        else this.#setState(d, 'disconnected', 'link lost while connecting');
      },
      (err: unknown) => {
        d.failures++;
        d.retryAt = Date.now() + Math.min(this.#maxBackoffMs, this.#pollIntervalMs * 2 ** (d.failures - 1));
        const message = err instanceof Error ? err.message : String(err);
        this.#emit(d, { type: 'error', code: 'open_failed', message });
        this.#setState(d, 'disconnected', message);
      },
    );
    void d.connecting.finally(() => (d.connecting = undefined));
  }

  #setState(d: Device, state: DeviceState, reason?: string): void {
    if (d.info.state === state) return;
    d.info.state = state;
    this.#emit(d, reason === undefined ? { type: 'state', state } : { type: 'state', state, reason });
  }

  #emit(d: Device, body: DeviceEventBody): void {
    const event: DeviceEvent = { ...body, deviceId: d.info.id, at: Date.now() };
    this.emit('event', event);
  }

  /** Reports a source's problem once (again only if it changes); forgets it once the source reads again. */
  #notice(source: NoticeEvent['source'], problem: string | undefined): void {
    if (!problem) {
      this.#notices.delete(source);
      return;
    }
    if (this.#notices.get(source) === problem) return;
    this.#notices.set(source, problem);
    this.emit('event', { type: 'notice', source, message: problem, at: Date.now() });
  }
}

/** node-hid as the HID transport needs it; only reached for devices the HID enumerator listed. */
function lazyHid(support: () => Promise<HidSupport>) {
  const lib = async () => {
    const s = await support();
    if (!s.ok) throw new Error(s.message);
    return s.hid;
  };
  return {
    devicesAsync: async () => (await lib()).devicesAsync(),
    open: async (path: string) => (await lib()).open(path),
  };
}
