// The PIN pad side of the 1000SE-style protocol over any Transport (an in-memory pair in unit tests, a socat
// pseudo-terminal in end-to-end tests and the demo). It records what it is asked to display and, when asked for
// a PIN (Z62), "enters" its configured PIN: an ISO 9564 format 0 block for the request's account number,
// encrypted under TDES DUKPT from a BDK (default: the X9.24-1 test BDK) with a KSN whose counter advances per
// entry. It can be told to ignore the request (the host times out), cancel (EOT, as if [CAN] were pressed),
// answer with an error code, send garbage or a corrupt response, NAK received packets, or disconnect.
// Link rules as in driver.ts; sources in protocol.ts.
//
// Test equipment only: it holds a BDK and a clear PIN by design. It never logs either, nor the account.
import { ACK, EOT, NAK, StxEtxDecoder, encodeStxEtx } from '../framing/stx-etx.ts';
import type { Transport } from '../transport/transport.ts';
import {
  encryptPinTdesDukpt,
  isValidTdesCounter,
  tdesKsnCounter,
  tdesKsnWithCounter,
} from '../../contract/crypto/tdes-dukpt.ts';
import { PinPadProtocolError, decodeHostMessage, encodePadMessage } from './protocol.ts';
import type { HostMessage, PinEntryMessage, PinResponseId } from './protocol.ts';

/** The X9.24-1 test BDK and initial KSN (DESIGN.md test vectors). */
export const TEST_BDK = '0123456789ABCDEFFEDCBA9876543210';
export const TEST_INITIAL_KSN = 'FFFF9876543210E00000';

/** What the simulated customer does when asked for a PIN. */
export type PinBehaviour =
  | { kind: 'enter' }
  /** Never answers: the host's timer runs out (and its 72 gets EOT). */
  | { kind: 'ignore' }
  /** Presses [CAN]: EOT after the entry delay. */
  | { kind: 'cancel' }
  /** Sends this one-character error code in a 71/73 error frame. */
  | { kind: 'error'; code: string }
  /** Sends garbage and a response with a bad LRC first; resends it intact on NAK. */
  | { kind: 'garbage' }
  /** Every copy of the response has a bad LRC; EOT after 3 NAKs. */
  | { kind: 'corrupt' }
  /** Calls the disconnect hook once the request is ACKed (the cable is pulled mid-entry). */
  | { kind: 'disconnect' };

export interface PinPadSimulatorOptions {
  /** The PIN the simulated customer types (4..12 digits). */
  pin: string;
  /** Base derivation key, 32 hex digits (default TEST_BDK). */
  bdk?: string;
  /** KSN whose counter is the last one used (default TEST_INITIAL_KSN, so the first entry uses counter 1). */
  initialKsn?: string;
  /** Response layout for PIN blocks: '73' ([MX800], default) or '71' ([PP791]). */
  responseId?: PinResponseId;
  /** How long the customer takes to type (default 10 ms). */
  entryDelayMs?: number;
  behaviour?: PinBehaviour;
  /** Pulls the cable (default: closes the simulator's transport). */
  disconnect?: () => void;
  /** Answer EOT instead of a fourth NAK for the same packet, as the sources describe (default true). */
  eotAfterNaks?: boolean;
  /** Called with each event as it happens (the simulator program prints them). */
  onEvent?: (event: SimulatorEvent) => void;
}

export type SimulatorEvent =
  | { type: 'display'; text: string }
  | { type: 'pinRequest' }
  | { type: 'pinEntered'; ksn: string }
  | { type: 'cancelled' }
  | { type: 'nak' };

export class PinPadSimulator {
  readonly #transport: Transport;
  readonly #decoder = new StxEtxDecoder({ maxData: 512 });
  #pin: string;
  readonly #bdk: Buffer;
  #ksn: Buffer;
  readonly #responseId: PinResponseId;
  readonly #entryDelayMs: number;
  readonly #disconnect: () => void;
  readonly #eotAfterNaks: boolean;
  readonly #onEvent: ((event: SimulatorEvent) => void) | undefined;
  behaviour: PinBehaviour;
  /** Every text shown, in order (Z2 text, Z3 lines joined by " | ", Z62 prompt1). */
  readonly displays: string[] = [];
  /** Every host message type received, in order (no account numbers). */
  readonly received: string[] = [];
  readonly events: SimulatorEvent[] = [];
  #nakBudget = 0;
  #rxNaks = 0;
  #entryTimer: NodeJS.Timeout | undefined;
  #inPinEntry = false;
  /** The response awaiting ACK and how often it was NAKed. */
  #outgoing: { message: Buffer; naks: number; corrupt: boolean } | undefined;
  #stopped = false;

  readonly #onData = (chunk: Buffer): void => {
    for (const item of this.#decoder.push(chunk)) {
      if (item.kind === 'frame') this.#onFrame(item.data);
      else if (item.kind === 'error') {
        if (item.code !== 'unterminated') this.#nak();
      } else if (item.kind === 'ack') this.#outgoing = undefined;
      else if (item.kind === 'nak') this.#onNak();
      // EOT from the host ends its side of a session: nothing to do.
    }
  };

  constructor(transport: Transport, options: PinPadSimulatorOptions) {
    this.#transport = transport;
    this.#pin = checkedPin(options.pin);
    this.#bdk = Buffer.from(options.bdk ?? TEST_BDK, 'hex');
    this.#ksn = Buffer.from(options.initialKsn ?? TEST_INITIAL_KSN, 'hex');
    if (this.#bdk.length !== 16 || this.#ksn.length !== 10) throw new RangeError('BDK or KSN malformed');
    this.#responseId = options.responseId ?? '73';
    this.#entryDelayMs = options.entryDelayMs ?? 10;
    this.#disconnect = options.disconnect ?? (() => void transport.close());
    this.#eotAfterNaks = options.eotAfterNaks ?? true;
    this.#onEvent = options.onEvent;
    this.behaviour = options.behaviour ?? { kind: 'enter' };
    transport.on('data', this.#onData);
  }

  /** The counter of the last KSN used (0 before the first entry). */
  get counter(): number {
    return tdesKsnCounter(this.#ksn);
  }

  /** Sets the PIN the customer types at the next PIN requests (the simulator program's `pin` command). */
  setPin(pin: string): void {
    this.#pin = checkedPin(pin);
  }

  /** NAK the next `count` packets received, good or not. */
  nakNext(count: number): void {
    this.#nakBudget = count;
  }

  /** Writes bytes as they are (line noise). */
  sendGarbage(bytes: Buffer = Buffer.of(0x00, 0xff, 0x41, 0x03, 0x7e)): Promise<void> {
    return this.#transport.write(bytes);
  }

  #record(event: SimulatorEvent): void {
    this.events.push(event);
    this.#onEvent?.(event);
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#entryTimer);
    this.#transport.off('data', this.#onData);
  }

  #write(bytes: Buffer): void {
    if (this.#stopped) return;
    this.#transport.write(bytes).catch(() => undefined);
  }

  #nak(): void {
    this.#rxNaks++;
    this.#record({ type: 'nak' });
    if (this.#eotAfterNaks && this.#rxNaks > 3) {
      this.#rxNaks = 0;
      this.#write(Buffer.of(EOT));
    } else this.#write(Buffer.of(NAK));
  }

  #onFrame(data: Buffer): void {
    if (this.#nakBudget > 0) {
      this.#nakBudget--;
      this.#nak();
      return;
    }
    this.#rxNaks = 0;
    let message: HostMessage;
    try {
      message = decodeHostMessage(data);
    } catch (err) {
      // An intact packet the pad does not understand: refused with EOT.
      if (!(err instanceof PinPadProtocolError)) throw err;
      this.received.push('unknown');
      this.#write(Buffer.of(EOT));
      return;
    }
    this.received.push(message.type);
    if (message.type === 'cancel') {
      if (this.#inPinEntry) {
        // [PP791] page-207: in PIN entry mode, 72 is answered by EOT.
        this.#endPinEntry();
        this.#record({ type: 'cancelled' });
        this.#write(Buffer.of(EOT));
      } else this.#write(Buffer.of(ACK));
      return;
    }
    this.#write(Buffer.of(ACK));
    switch (message.type) {
      case 'display':
        this.#show(message.text);
        return;
      case 'displayLines':
        this.#show(message.lines.join(' | '));
        return;
      case 'pinEntry':
        this.#startPinEntry(message);
        return;
    }
  }

  #show(text: string): void {
    this.displays.push(text);
    this.#record({ type: 'display', text });
  }

  #endPinEntry(): void {
    this.#inPinEntry = false;
    clearTimeout(this.#entryTimer);
    this.#entryTimer = undefined;
  }

  #startPinEntry(request: PinEntryMessage): void {
    this.#endPinEntry();
    this.#inPinEntry = true;
    this.#show(request.prompt1);
    this.#record({ type: 'pinRequest' });
    const behaviour = this.behaviour;
    if (behaviour.kind === 'ignore') return;
    if (behaviour.kind === 'disconnect') {
      setTimeout(() => this.#disconnect(), this.#entryDelayMs);
      return;
    }
    const account = request.account;
    this.#entryTimer = setTimeout(() => {
      this.#entryTimer = undefined;
      if (!this.#inPinEntry) return;
      this.#inPinEntry = false;
      if (behaviour.kind === 'cancel') {
        this.#record({ type: 'cancelled' });
        this.#write(Buffer.of(EOT));
        return;
      }
      if (behaviour.kind === 'error') {
        this.#send(encodePadMessage({ type: 'pinError', id: this.#responseId, code: behaviour.code }), false);
        return;
      }
      const message = this.#encryptEntry(account);
      if (behaviour.kind === 'garbage') {
        this.#write(Buffer.of(0x00, 0x41, 0xff, 0x03, 0x10));
        this.#send(message, true, false);
      } else this.#send(message, behaviour.kind === 'corrupt', behaviour.kind === 'corrupt');
    }, this.#entryDelayMs);
  }

  /** Builds the response for one PIN entry, advancing the KSN counter to the next usable value. */
  #encryptEntry(account: string): Buffer {
    let counter = tdesKsnCounter(this.#ksn) + 1;
    while (!isValidTdesCounter(counter)) counter++;
    this.#ksn = tdesKsnWithCounter(this.#ksn, counter);
    const block = encryptPinTdesDukpt(this.#bdk, this.#ksn, this.#pin, account);
    const ksn = this.#ksn.toString('hex').toUpperCase();
    this.#record({ type: 'pinEntered', ksn });
    return encodePadMessage({
      type: 'pinBlock',
      id: this.#responseId,
      ksn,
      pinBlock: block.toString('hex').toUpperCase(),
    });
  }

  /** Sends a packet that awaits ACK; `corruptFirst`/`corruptAlways` flip its LRC. */
  #send(message: Buffer, corruptFirst: boolean, corruptAlways = false): void {
    this.#outgoing = { message, naks: 0, corrupt: corruptAlways };
    this.#write(packet(message, corruptFirst));
  }

  #onNak(): void {
    const out = this.#outgoing;
    if (!out) return;
    out.naks++;
    if (out.naks > 3) {
      this.#outgoing = undefined;
      this.#write(Buffer.of(EOT));
      return;
    }
    this.#write(packet(out.message, out.corrupt));
  }
}

function checkedPin(pin: string): string {
  if (!/^\d{4,12}$/.test(pin)) throw new RangeError('simulator PIN must be 4 to 12 digits');
  return pin;
}

function packet(message: Buffer, corrupt: boolean): Buffer {
  const p = encodeStxEtx(message);
  if (corrupt) p[p.length - 1] = (p[p.length - 1] ?? 0) ^ 0x5a;
  return p;
}
