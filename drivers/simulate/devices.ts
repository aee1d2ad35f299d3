// One simulated device each: it plays the device's side of the wire over a socat pseudo-terminal pair
// (or, for a LAN ZVT terminal, a TCP server on 127.0.0.1) and can be unplugged and plugged back in.
// The till's side is the socat `link=` path named in the device's manifest file.
import { PinPadSimulator, TEST_INITIAL_KSN, type SimulatorEvent } from '../pinpad/simulator.ts';
import { SerialTransport } from '../transport/serial.ts';
import type { Transport } from '../transport/transport.ts';
import { listenZvtTcp, ZvtSimulator, type SimulatedCard } from '../zvt/simulator.ts';
import { tdesKsnWithCounter } from '../../contract/crypto/tdes-dukpt.ts';
import { SocatPty } from './socat.ts';

export type DeviceKind = 'reader' | 'pinpad' | 'zvt' | 'scanner' | 'zvt-tcp';
export const DEVICE_KINDS: readonly DeviceKind[] = ['reader', 'pinpad', 'zvt', 'scanner', 'zvt-tcp'];

/** What each kind is, and the pid.codes test product id it is listed with (vendor 0x1209). */
export const KIND_INFO: Record<DeviceKind, { label: string; productId?: string }> = {
  reader: { label: 'serial magstripe reader', productId: '0001' },
  pinpad: { label: 'PIN pad (VeriFone 1000SE commands, TDES DUKPT)', productId: '0002' },
  zvt: { label: 'ZVT payment terminal (serial)', productId: '0003' },
  scanner: { label: 'barcode scanner (serial)', productId: '0004' },
  'zvt-tcp': { label: 'ZVT payment terminal (TCP)' },
};

/** Bytes no device should send: binary noise inside a would-be swipe, so a reader reports a coded error. */
const LINE_NOISE = Buffer.concat([
  Buffer.from('%B', 'latin1'),
  Buffer.of(0x00, 0xff, 0x1b, 0x80),
  Buffer.from('^?\r\n'),
]);
/** Serial ZVT: a frame with a broken CRC, then noise (the link layer resynchronises on DLE STX). */
const ZVT_SERIAL_NOISE = Buffer.of(0x10, 0x02, 0x06, 0xd1, 0x00, 0x10, 0x03, 0xde, 0xad, 0x00, 0xff, 0x10);
/**
 * TCP ZVT: raw APDUs have no frame start to resynchronise on, so noise that broke the length would
 * garble every APDU after it. The noise is an APDU of unknown class and instruction with junk data.
 */
const ZVT_TCP_NOISE = Buffer.of(0xe7, 0x7e, 0x04, 0x00, 0xff, 0x10, 0x02);

export interface SimulatedDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  /** Where the till connects: a path or host:port. */
  readonly address: string;
  readonly plugged: boolean;
  /** socat's process id while plugged (serial devices). */
  readonly pid: number | undefined;
  plug(): Promise<void>;
  unplug(): Promise<void>;
  garbage(): Promise<void>;
}

/** A ZVT terminal, serial or TCP: the customer presents a card there instead of swiping it at a reader. */
export interface CardTerminal {
  /** The card the next read card commands report (until replaced; kept across a replug). */
  presentCard(card: SimulatedCard): void;
}

export interface SerialDeviceOptions {
  id: string;
  kind: Exclude<DeviceKind, 'zvt-tcp'>;
  /** The till's end (the manifest path). */
  link: string;
  /** The simulator's end. */
  simLink: string;
  baudRate: number;
  /** Prints what happens (redacted). */
  say: (line: string) => void;
  pin: string;
}

/** A serial device: a socat pair, a SerialTransport on the device's end, and the kind's simulator on it. */
export class SerialDevice implements SimulatedDevice, CardTerminal {
  readonly id: string;
  readonly kind: Exclude<DeviceKind, 'zvt-tcp'>;
  readonly #opts: SerialDeviceOptions;
  readonly #socat: SocatPty;
  #transport: SerialTransport | undefined;
  #pinpad: PinPadSimulator | undefined;
  #zvt: ZvtSimulator | undefined;
  #pin: string;
  #zvtCard: SimulatedCard | undefined;
  /** The PIN pad's KSN counter survives a replug: a real pad never reuses a KSN. */
  #ksnCounter = 0;

  constructor(opts: SerialDeviceOptions) {
    this.id = opts.id;
    this.kind = opts.kind;
    this.#opts = opts;
    this.#pin = opts.pin;
    this.#socat = new SocatPty(opts.link, opts.simLink);
  }

  get address(): string {
    return this.#opts.link;
  }

  get plugged(): boolean {
    return this.#socat.running;
  }

  get pid(): number | undefined {
    return this.#socat.pid;
  }

  async plug(): Promise<void> {
    if (this.plugged) return;
    await this.#release(); // left over when socat was killed from outside
    await this.#socat.start();
    const transport = new SerialTransport({
      path: this.#opts.simLink,
      baudRate: this.#opts.baudRate,
      id: `sim:${this.id}`,
    });
    // The simulator's own end failing on its own means socat went away (killed from outside).
    transport.on('state', (state) => {
      if (state === 'failed' && this.#transport === transport) this.#say('socat went away: unplugged');
    });
    try {
      if (this.kind === 'zvt') {
        const zvt = new ZvtSimulator(transport, {
          framing: 'serial',
          card: this.#zvtCard,
          cut: () => void this.unplug(),
        });
        zvt.on('command', (name) => this.#say(`ZVT command ${name}`));
        await zvt.open();
        this.#zvt = zvt;
      } else {
        await transport.open();
        if (this.kind === 'pinpad') {
          this.#pinpad = new PinPadSimulator(transport, {
            pin: this.#pin,
            initialKsn: tdesKsnWithCounter(Buffer.from(TEST_INITIAL_KSN, 'hex'), this.#ksnCounter)
              .toString('hex')
              .toUpperCase(),
            disconnect: () => void this.unplug(),
            onEvent: (e) => this.#say(describePadEvent(e, this.#pin.length)),
          });
        }
      }
    } catch (err) {
      await transport.close();
      await this.#socat.kill();
      throw err;
    }
    this.#transport = transport;
  }

  async unplug(): Promise<void> {
    // socat first: the till's end sees the hang-up at once, as when a cable is pulled.
    await this.#socat.kill();
    await this.#release();
  }

  /** Stops this end's simulator and closes its transport (keeping the PIN pad's KSN counter). */
  async #release(): Promise<void> {
    const transport = this.#transport;
    this.#transport = undefined;
    if (this.#pinpad) {
      this.#ksnCounter = this.#pinpad.counter;
      this.#pinpad.stop();
    }
    this.#pinpad = undefined;
    const zvt = this.#zvt;
    this.#zvt = undefined;
    await zvt?.close();
    await transport?.close();
  }

  presentCard(card: SimulatedCard): void {
    this.#zvtCard = card;
    this.#zvt?.setCard(card);
  }

  /** Sends one line as a reader or scanner does (CR LF at the end). */
  async sendLine(text: string): Promise<void> {
    await this.#open().write(Buffer.from(`${text}\r\n`, 'latin1'));
  }

  setPin(pin: string): void {
    this.#pin = pin;
    this.#pinpad?.setPin(pin);
  }

  async garbage(): Promise<void> {
    const t = this.#open();
    if (this.#pinpad) await this.#pinpad.sendGarbage();
    else await t.write(this.kind === 'zvt' ? ZVT_SERIAL_NOISE : LINE_NOISE);
  }

  #open(): Transport {
    const t = this.#transport;
    if (!t || t.state !== 'open') throw new Error(`${this.id} is unplugged; replug it first`);
    return t;
  }

  #say(text: string): void {
    this.#opts.say(`${this.id}: ${text}`);
  }
}

/** A PIN pad event in plain words; the PIN only by its length. */
function describePadEvent(e: SimulatorEvent, pinLength: number): string {
  switch (e.type) {
    case 'display':
      return `shows "${e.text}"`;
    case 'pinRequest':
      return `PIN requested: the customer types ${pinLength} digits`;
    case 'pinEntered':
      return `PIN block sent, KSN ${e.ksn}`;
    case 'cancelled':
      return 'PIN entry cancelled';
    case 'nak':
      return 'NAK sent (bad packet received)';
  }
}

/** A ZVT terminal on the LAN: a TCP server on 127.0.0.1 serving one simulator per connection. */
export class TcpZvtDevice implements SimulatedDevice, CardTerminal {
  readonly id: string;
  readonly kind = 'zvt-tcp' as const;
  readonly pid = undefined;
  #port: number;
  readonly #say: (line: string) => void;
  #server: Awaited<ReturnType<typeof listenZvtTcp>> | undefined;
  #card: SimulatedCard | undefined;

  constructor(opts: { id: string; port: number; say: (line: string) => void }) {
    this.id = opts.id;
    this.#port = opts.port;
    this.#say = opts.say;
  }

  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  get plugged(): boolean {
    return this.#server !== undefined;
  }

  async plug(): Promise<void> {
    if (this.#server) return;
    const server = await listenZvtTcp({ port: this.#port, host: '127.0.0.1' });
    // Port 0 picks a free port the first time; a replug listens on the same one again.
    this.#port = server.port;
    server.server.on('connection', () => {
      // The simulator for this connection is added by listenZvtTcp's own handler, which ran first.
      const sim = server.simulators.at(-1);
      sim?.on('command', (name) => this.#say(`${this.id}: ZVT command ${name}`));
      if (this.#card) sim?.setCard(this.#card);
    });
    this.#server = server;
  }

  async unplug(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
  }

  presentCard(card: SimulatedCard): void {
    this.#card = card;
    for (const sim of this.#server?.simulators ?? []) sim.setCard(card);
  }

  async garbage(): Promise<void> {
    const server = this.#server;
    if (!server) throw new Error(`${this.id} is unplugged; replug it first`);
    const live = server.simulators.filter((s) => s.transport.state === 'open');
    if (!live.length) throw new Error(`${this.id} has no connected till`);
    await Promise.all(live.map((s) => s.transport.write(ZVT_TCP_NOISE)));
  }
}
