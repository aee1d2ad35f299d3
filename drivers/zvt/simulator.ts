// A ZVT payment terminal (PT side) for tests and the demo, over any Transport: a memory pair, a socat pty
// (serial framing), or a socket accepted by a TCP server (raw APDUs; see listenZvtTcp).
//
// Answers: 06 00 registration (80 00, then 06 0F [19 status][29 TID][49 CC]); 05 01 status enquiry (80 00, then
// 06 0F <sw-version LLLVAR> <terminal status>); 06 C0 read card (80 00, 04 FF "insert card", 04 0F with the
// test card's PAN / expiry / card type / name, 06 0F); 06 E0 display text (80 00); 06 B0 abort (80 00 when
// idle; during read card the read ends with 06 1E 6C). Every PT message waits for the ECR's 80 00.
// Misbehaviour on command: silent, garbage, nak (serial), disconnect (mid-command), abort <code>, refuse <code>.

import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { NAK, ZvtFrameDecoder } from '../framing/zvt-serial.ts';
import { BaseTransport, TransportError, TypedEmitter } from '../transport/transport.ts';
import type { Transport } from '../transport/transport.ts';
import {
  ACK_APDU,
  bcdEncode,
  commandName,
  decodeApdu,
  encodeApdu,
  encodeBmp,
  INSTR,
  parseBmps,
} from './apdu.ts';
import type { Apdu } from './apdu.ts';
import { ApduChannel } from './channel.ts';
import type { ZvtFraming } from './channel.ts';

export interface SimulatedCard {
  /** The test PAN. Sent over the wire in BMP 22; never logged by the simulator. */
  pan: string;
  /** "YYMM" */
  expiry: string;
  cardType?: number;
  cardName?: string;
}

export type SimulatorFault =
  | { kind: 'none' }
  | { kind: 'silent' } // link-level ACKs only, never an application answer
  | { kind: 'garbage' } // answers each command with random bytes
  | { kind: 'nak' } // serial: NAKs every frame
  | { kind: 'disconnect' } // accepts the command, sends one intermediate status, then cuts the link
  | { kind: 'abort'; resultCode: number } // accepts the command, then 06 1E <code>
  | { kind: 'refuse'; resultCode: number }; // answers 84 <code>

export interface ZvtSimulatorOptions {
  framing: ZvtFraming;
  card?: SimulatedCard;
  terminalId?: string;
  /** ms between the PT's messages during read card (default 5) */
  stepDelayMs?: number;
  ackTimeoutMs?: number;
  softwareVersion?: string;
  /** called by the `disconnect` fault; default: the transport's disconnect() if it has one, else close() */
  cut?: () => void;
}

export interface ZvtSimulatorEvents {
  /** Redacted: command bytes and data length only. */
  command: [name: string, dataLength: number];
}

export const TEST_CARD: SimulatedCard = {
  pan: '5350290149345177', // DESIGN.md test vector track 2
  expiry: '1604',
  cardType: 0x06,
  cardName: 'MASTERCARD',
};

export class ZvtSimulator extends TypedEmitter<ZvtSimulatorEvents> {
  readonly transport: Transport;
  readonly #opts: ZvtSimulatorOptions;
  readonly #channel: ApduChannel;
  #fault: SimulatorFault = { kind: 'none' };
  #card: SimulatedCard;
  /** resolves the wait for the ECR's 80 00 after each PT message */
  #awaitAck: (() => void) | undefined;
  #abortRequested = false;
  #reading = false;
  readonly #nakDecoder = new ZvtFrameDecoder();
  readonly commands: string[] = [];
  readonly displayed: string[][] = [];

  constructor(transport: Transport, opts: ZvtSimulatorOptions) {
    super();
    this.transport = transport;
    this.#opts = opts;
    this.#card = opts.card ?? TEST_CARD;
    this.#channel = new ApduChannel(transport, {
      framing: opts.framing,
      onApdu: (apdu) => this.#onApdu(apdu),
      ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
    });
  }

  /** The card the customer presents at the following read card commands. */
  setCard(card: SimulatedCard): this {
    this.#card = card;
    return this;
  }

  /** Sets (or clears, with `{kind:'none'}`) the misbehaviour for the following commands. */
  misbehave(fault: SimulatorFault): this {
    this.#fault = fault;
    this.#channel.interceptRx =
      fault.kind === 'nak' && this.#opts.framing === 'serial'
        ? (chunk) => {
            for (const d of this.#nakDecoder.push(chunk))
              if (d.kind === 'frame') this.#channel.writeRaw(Buffer.of(NAK));
          }
        : undefined;
    return this;
  }

  async open(): Promise<void> {
    await this.transport.open();
  }

  async close(): Promise<void> {
    this.#channel.close();
    await this.transport.close();
  }

  #onApdu(raw: Buffer): void {
    let apdu: Apdu;
    try {
      apdu = decodeApdu(raw);
    } catch {
      return;
    }
    const name = commandName(apdu.cls, apdu.instr);
    if (apdu.cls === 0x80 && apdu.instr === 0x00) {
      const w = this.#awaitAck;
      this.#awaitAck = undefined;
      w?.();
      return;
    }
    this.commands.push(name);
    this.emit('command', name, apdu.data.length);
    if (name === '06 B0' && this.#reading) {
      this.#abortRequested = true;
      return;
    }
    void this.#handle(name, apdu).catch(() => undefined);
  }

  async #send(apdu: Buffer, waitAck = true): Promise<void> {
    const acked = waitAck
      ? new Promise<void>((resolve) => {
          this.#awaitAck = resolve;
          // T3-like guard: a missing ECR ack does not hang the simulator forever
          setTimeout(resolve, 5000).unref();
        })
      : Promise.resolve();
    await this.#channel.send(apdu);
    await acked;
  }

  #sleep(): Promise<void> {
    return new Promise((r) => setTimeout(r, this.#opts.stepDelayMs ?? 5));
  }

  async #handle(name: string, apdu: Apdu): Promise<void> {
    const fault = this.#fault;
    switch (fault.kind) {
      case 'silent':
      case 'nak':
        return;
      case 'garbage': {
        const junk = Buffer.from(Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff));
        this.#channel.writeRaw(junk);
        return;
      }
      case 'refuse':
        await this.#send(Buffer.of(0x84, fault.resultCode & 0xff, 0x00), false);
        return;
      case 'abort':
        await this.#send(ACK_APDU, false);
        await this.#sleep();
        await this.#send(encodeApdu({ cls: 0x06, instr: INSTR.ABORT_PT, data: Buffer.of(fault.resultCode) }));
        return;
      case 'disconnect':
        await this.#send(ACK_APDU, false);
        await this.#sleep();
        await this.#send(intermediate(0x0a), false);
        await this.#sleep();
        this.#cut();
        return;
      case 'none':
        break;
    }
    switch (name) {
      case '06 00': {
        const data = Buffer.concat([
          encodeBmp(0x19, Buffer.of(0x00)),
          encodeBmp(0x29, bcdEncode(this.#opts.terminalId ?? '52500038', 4)),
          // echo the currency when the ECR sent one (bytes 4..5 of the registration data)
          ...(apdu.data.length >= 6 ? [encodeBmp(0x49, apdu.data.subarray(4, 6))] : []),
        ]);
        await this.#send(ACK_APDU, false);
        await this.#send(encodeApdu({ cls: 0x06, instr: INSTR.COMPLETION, data }));
        return;
      }
      case '05 01': {
        const sw = Buffer.from(this.#opts.softwareVersion ?? 'TILLBACK-SIM 1.0', 'latin1');
        const len = String(sw.length).padStart(3, '0');
        const data = Buffer.concat([Buffer.from([...len].map((c) => 0xf0 | Number(c))), sw, Buffer.of(0x00)]);
        await this.#send(ACK_APDU, false);
        await this.#send(encodeApdu({ cls: 0x06, instr: INSTR.COMPLETION, data }));
        return;
      }
      case '06 E0': {
        try {
          this.displayed.push(
            parseBmps(apdu.data)
              .filter((b) => b.id >= 0xf1 && b.id <= 0xf8)
              .map((b) => b.value.toString('latin1')),
          );
        } catch {
          // shown as nothing
        }
        await this.#send(ACK_APDU, false);
        return;
      }
      case '06 B0':
        await this.#send(ACK_APDU, false);
        return;
      case '06 C0':
        await this.#readCard();
        return;
      default:
        await this.#send(Buffer.of(0x84, 0x83, 0x00), false); // function not possible
    }
  }

  async #readCard(): Promise<void> {
    this.#reading = true;
    this.#abortRequested = false;
    try {
      await this.#send(ACK_APDU, false);
      await this.#sleep();
      await this.#send(intermediate(0x0a)); // insert card
      await this.#sleep();
      if (this.#abortRequested) {
        await this.#send(encodeApdu({ cls: 0x06, instr: INSTR.ABORT_PT, data: Buffer.of(0x6c) }));
        return;
      }
      const card = this.#card;
      const pan = card.pan.length % 2 ? `${card.pan}F` : card.pan;
      const data = Buffer.concat([
        encodeBmp(0x22, Buffer.from(pan, 'hex')),
        encodeBmp(0x0e, bcdEncode(card.expiry, 2)),
        ...(card.cardType !== undefined ? [encodeBmp(0x8a, Buffer.of(card.cardType))] : []),
        ...(card.cardName !== undefined ? [encodeBmp(0x8b, Buffer.from(card.cardName, 'latin1'))] : []),
      ]);
      await this.#send(encodeApdu({ cls: 0x04, instr: INSTR.STATUS_INFO, data }));
      await this.#sleep();
      await this.#send(encodeApdu({ cls: 0x06, instr: INSTR.COMPLETION, data: Buffer.alloc(0) }));
    } finally {
      this.#reading = false;
    }
  }

  #cut(): void {
    if (this.#opts.cut) {
      this.#opts.cut();
      return;
    }
    const t = this.transport as Transport & { disconnect?: () => void };
    if (typeof t.disconnect === 'function') t.disconnect();
    else void t.close();
  }
}

function intermediate(status: number): Buffer {
  return encodeApdu({ cls: 0x04, instr: INSTR.INTERMEDIATE, data: Buffer.of(status) });
}

/** A Transport around a socket a server accepted (already connected). */
export class AcceptedSocketTransport extends BaseTransport {
  readonly #socket: Socket;

  constructor(socket: Socket, id = `tcp-accepted:${socket.remotePort ?? '?'}`) {
    super(id);
    this.#socket = socket;
  }

  protected override async doOpen(): Promise<void> {
    const s = this.#socket;
    if (s.destroyed) throw new TransportError('open_failed', `${this.id}: socket already closed`);
    const gen = this.generation;
    s.on('data', (c: Buffer) => {
      if (gen === this.generation) this.deliver(c);
    });
    const lost = (): void => this.fail(new TransportError('disconnected', `${this.id}: peer closed`), gen);
    s.on('error', lost);
    s.on('close', lost);
  }

  protected override async doClose(): Promise<void> {
    if (this.#socket.destroyed) return;
    await new Promise<void>((resolve) => {
      this.#socket.once('close', () => resolve());
      this.#socket.destroy();
    });
  }

  protected override doWrite(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) =>
      this.#socket.write(data, (err) => (err ? reject(err) : resolve())),
    );
  }
}

/** A TCP server whose every connection is served by a simulator (raw APDUs, as ZVT over TCP). */
export async function listenZvtTcp(
  options: Omit<ZvtSimulatorOptions, 'framing'> & { port?: number; host?: string } = {},
): Promise<{ server: Server; port: number; simulators: ZvtSimulator[]; close: () => Promise<void> }> {
  const simulators: ZvtSimulator[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const t = new AcceptedSocketTransport(socket);
    const sim = new ZvtSimulator(t, {
      ...options,
      framing: 'tcp',
      cut: options.cut ?? (() => socket.destroy()),
    });
    simulators.push(sim);
    void sim.open().catch(() => undefined);
  });
  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    simulators,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(simulators.map((s) => s.close()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
