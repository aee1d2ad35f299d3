// One APDU channel over a Transport, used by both the driver (ECR side) and the simulator (PT side).
//
// - `serial`: ZVT serial link (drivers/framing/zvt-link.ts): DLE STX ... DLE ETX CRC, ACK/NAK, 3 retries.
// - `tcp`: APDUs go raw over the stream: no DLE framing, no CRC, no link ACK. Sources: Portalum/Portalum.Zvt
//   src/Portalum.Zvt/TcpNetworkDeviceCommunication.cs (SendAsync writes the APDU bytes as they are; default port
//   20007) against src/Portalum.Zvt/SerialPortDeviceCommunication.cs, which adds the DLE/CRC framing; wirelane/
//   ecrterm ecrterm/transmission/transport_socket.py likewise sends bare APDUs over the socket.
//
// Sends are serialised (the link allows one frame awaiting its ACK at a time).

import { ZvtLink } from '../framing/zvt-link.ts';
import type { Schedule, ZvtLinkEvent } from '../framing/zvt-link.ts';
import type { Transport } from '../transport/transport.ts';
import { ApduStreamDecoder } from './apdu.ts';

export type ZvtFraming = 'serial' | 'tcp';

export interface ApduChannelOptions {
  framing: ZvtFraming;
  onApdu: (apdu: Buffer) => void;
  onLinkEvent?: (event: ZvtLinkEvent) => void;
  /** serial only */
  ackTimeoutMs?: number;
  schedule?: Schedule;
}

export class ApduChannel {
  readonly #transport: Transport;
  readonly #opts: ApduChannelOptions;
  readonly #link: ZvtLink | undefined;
  readonly #stream: ApduStreamDecoder | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Set by a test hook: incoming bytes are handed here instead of the decoder. */
  interceptRx: ((chunk: Buffer) => void) | undefined;
  readonly #onData = (chunk: Buffer): void => {
    if (this.#closed) return;
    if (this.interceptRx) {
      this.interceptRx(chunk);
      return;
    }
    if (this.#link) this.#link.receive(chunk);
    else for (const apdu of this.#stream?.push(chunk) ?? []) this.#opts.onApdu(apdu);
  };

  constructor(transport: Transport, opts: ApduChannelOptions) {
    this.#transport = transport;
    this.#opts = opts;
    if (opts.framing === 'serial') {
      this.#link = new ZvtLink({
        write: (bytes) => this.writeRaw(bytes),
        onApdu: (apdu) => opts.onApdu(apdu),
        ...(opts.onLinkEvent ? { onEvent: opts.onLinkEvent } : {}),
        ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
        ...(opts.schedule ? { schedule: opts.schedule } : {}),
      });
    } else {
      this.#stream = new ApduStreamDecoder();
    }
    transport.on('data', this.#onData);
  }

  get framing(): ZvtFraming {
    return this.#opts.framing;
  }

  /** Writes bytes as they are (no framing): for ACK/NAK and for fault injection. */
  writeRaw(bytes: Buffer): void {
    if (this.#closed || this.#transport.state !== 'open') return;
    this.#transport.write(bytes).catch(() => undefined); // a dead link is reported by the transport's state
  }

  /** Sends one APDU after every earlier send has finished; rejects with the link's or transport's error. */
  send(apdu: Buffer): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.#link) await this.#link.send(apdu);
      else await this.#transport.write(apdu);
    };
    const p = this.#tail.then(run, run);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.off('data', this.#onData);
    this.#link?.close();
    this.#stream?.reset();
  }
}
