// Host side of a VeriFone PINpad 1000SE-style serial PIN pad over any Transport.
//
// Link rules (sources in protocol.ts): every packet is answered by ACK (good LRC) or NAK (bad LRC); the sender
// resends on NAK, and a pad that has NAKed three times answers EOT [PP791] page-208/-249, [MX800] p=327.
// Here: first transmission plus up to 3 resends (on NAK or on ACK timeout), then a coded error. Packets the pad
// sends are ACKed when good and NAKed when their LRC is bad; a fourth bad copy gets EOT and a coded error.
// PIN entry (Z62): the pad ACKs the request, then sends the PIN block response, or EOT when the customer
// cancelled or its own timer ran out [PP791] page-249. 72 cancels: a pad in PIN entry answers EOT [PP791]
// page-207. The PIN never reaches this side in the clear: only the KSN and the encrypted block do.
//
// One command at a time: a second one while the first runs is refused with `busy`. A transport that stops
// being open ends the running command with `disconnected`. Events and log lines name message ids and lengths
// only, never packet contents (a Z62 request carries the account number).
import { ACK, EOT, NAK, StxEtxDecoder, encodeStxEtx } from '../framing/stx-etx.ts';
import type { StxEtxDecoded } from '../framing/stx-etx.ts';
import { TypedEmitter } from '../transport/transport.ts';
import type { Transport, TransportError, TransportState } from '../transport/transport.ts';
import {
  PAD_TIMEOUT_UNIT_S,
  PIN_ERROR_MEANINGS,
  PinPadProtocolError,
  decodePadMessage,
  describePacket,
  encodeHostMessage,
} from './protocol.ts';
import type { HostMessage, PinResponseId } from './protocol.ts';

export type PinPadErrorCode =
  | 'busy'
  | 'not_open'
  | 'closed'
  | 'disconnected'
  | 'invalid_argument'
  | 'no_ack'
  | 'nak_limit'
  | 'rejected'
  | 'garbled'
  | 'timeout'
  | 'cancelled'
  | 'aborted'
  | 'pad_error'
  | 'bad_response';

/** Every error PinPad rejects with. Messages are fixed texts per cause: no PIN, PAN or packet data. */
export class PinPadError extends Error {
  override readonly name = 'PinPadError';
  constructor(
    readonly code: PinPadErrorCode,
    message: string,
    /** For `pad_error`: the one-character error code of the pad's 71/73 error frame. */
    readonly padCode?: string,
  ) {
    super(message);
  }
}

export interface PinEntryResult {
  /** Key serial number, 20 hex digits. */
  ksn: string;
  /** ISO 9564 format 0 block encrypted under the DUKPT PIN key of `ksn`, 16 hex digits. */
  pinBlock: string;
  /** Which response layout the pad used (73 VeriFone MX800 guide, 71 PP791 manual). */
  responseId: PinResponseId;
}

export interface PinEntryOptions {
  /** Card number (8..19 digits) the pad builds the PIN block with. Never logged. */
  pan: string;
  /** Host-side limit for the whole PIN entry; default `pinTimeoutMs` of the driver. */
  timeoutMs?: number;
  minLength?: number;
  maxLength?: number;
  prompt?: string;
  prompt2?: string;
  processingPrompt?: string;
}

export interface PinPadOptions {
  /** How long to wait for ACK/NAK before resending (default 2000 ms; not given by the sources). */
  ackTimeoutMs?: number;
  /** Resends after the first transmission, on NAK or ACK timeout (default 3). */
  maxResends?: number;
  /** Default PIN entry limit (default 60 s). */
  pinTimeoutMs?: number;
  /** Redacted log lines (ids and lengths only). */
  log?: (line: string) => void;
}

export type PinPadEvent =
  | { type: 'tx' | 'rx'; what: string; at: number }
  | { type: 'command'; command: string; at: number }
  | { type: 'done'; command: string; ok: boolean; code?: PinPadErrorCode; at: number };

interface PinPadEvents {
  event: [event: PinPadEvent];
}

type Phase = 'await_ack' | 'await_response' | 'await_cancel';

interface Op {
  command: string;
  packet: Buffer;
  expectsResponse: boolean;
  phase: Phase;
  sends: number;
  naks: number;
  badRx: number;
  ackTimer: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout | undefined;
  cancelReason: PinPadError | undefined;
  /** ACKs still owed to the request itself when the cancel began (not the answer to 72). */
  requestAcksOwed: number;
  resolve: (value: PinEntryResult | undefined) => void;
  reject: (err: PinPadError) => void;
}

export const DEFAULT_ACK_TIMEOUT_MS = 2000;
export const DEFAULT_MAX_RESENDS = 3;
export const DEFAULT_PIN_TIMEOUT_MS = 60_000;

export class PinPad extends TypedEmitter<PinPadEvents> {
  readonly #transport: Transport;
  readonly #decoder = new StxEtxDecoder({ maxData: 512 });
  readonly #ackTimeoutMs: number;
  readonly #maxResends: number;
  readonly #pinTimeoutMs: number;
  readonly #log: ((line: string) => void) | undefined;
  #op: Op | undefined;
  #closed = false;

  readonly #onData = (chunk: Buffer): void => {
    for (const item of this.#decoder.push(chunk)) this.#onItem(item);
  };

  readonly #onState = (state: TransportState, _error?: TransportError): void => {
    if (state === 'open' || state === 'opening') return;
    this.#decoder.reset();
    this.#fail(new PinPadError('disconnected', 'PIN pad link lost during the command'));
  };

  constructor(transport: Transport, options: PinPadOptions = {}) {
    super();
    this.#transport = transport;
    this.#ackTimeoutMs = positive(options.ackTimeoutMs, DEFAULT_ACK_TIMEOUT_MS, 'ackTimeoutMs');
    this.#maxResends = options.maxResends ?? DEFAULT_MAX_RESENDS;
    if (!Number.isInteger(this.#maxResends) || this.#maxResends < 0) {
      throw new PinPadError('invalid_argument', 'maxResends must be a non-negative integer');
    }
    this.#pinTimeoutMs = positive(options.pinTimeoutMs, DEFAULT_PIN_TIMEOUT_MS, 'pinTimeoutMs');
    this.#log = options.log;
    transport.on('data', this.#onData);
    transport.on('state', this.#onState);
  }

  /** True while a command runs. */
  get busy(): boolean {
    return this.#op !== undefined;
  }

  /** Z2: show one line of text (clears the screen first unless `clear` is false). */
  async displayPrompt(text: string, options: { clear?: boolean } = {}): Promise<void> {
    await this.#run('display', { type: 'display', text, clear: options.clear ?? true }, false);
  }

  /** Z3: show up to 7 lines. */
  async displayLines(lines: string[], options: { clear?: boolean } = {}): Promise<void> {
    await this.#run('displayLines', { type: 'displayLines', lines, clear: options.clear ?? true }, false);
  }

  /**
   * Shows an amount as two Z3 lines (label, then the amount). The sources document no amount-only display
   * command for DUKPT; the amount of message 70 is shown only together with PIN entry.
   */
  async displayAmount(
    amountMinor: number,
    options: { label?: string; currencySymbol?: string } = {},
  ): Promise<void> {
    if (!Number.isSafeInteger(amountMinor) || amountMinor < 0) {
      throw new PinPadError('invalid_argument', 'amount must be a non-negative integer of minor units');
    }
    const text = `${options.currencySymbol ?? ''}${Math.floor(amountMinor / 100)}.${String(amountMinor % 100).padStart(2, '0')}`;
    await this.displayLines([options.label ?? 'TOTAL', text]);
  }

  /** Z62 (DUKPT): the customer enters the PIN at the pad; resolves with the KSN and encrypted PIN block. */
  async enterPin(options: PinEntryOptions): Promise<PinEntryResult> {
    const timeoutMs = positive(options.timeoutMs, this.#pinTimeoutMs, 'timeoutMs');
    const message: HostMessage = {
      type: 'pinEntry',
      account: options.pan,
      minPin: options.minLength ?? 4,
      maxPin: options.maxLength ?? 12,
      allowNullPin: false,
      prompt1: options.prompt ?? 'ENTER PIN',
      prompt2: options.prompt2 ?? 'PRESS ENTER',
      processingPrompt: options.processingPrompt ?? 'PROCESSING',
      // The pad's own limit is set past the host's, so the host's timer (and its 72) decides; 9 units is the most.
      timeoutUnits: Math.min(9, Math.floor(timeoutMs / 1000 / PAD_TIMEOUT_UNIT_S) + 1),
    };
    const result = await this.#run('pinEntry', message, true, timeoutMs);
    if (!result) throw new PinPadError('bad_response', 'PIN entry ended without a PIN block');
    return result;
  }

  /**
   * 72: cancels a running PIN entry (which then rejects with `cancelled`; resolves once the pad confirmed with
   * EOT or the ACK timeout passed). With nothing running, sends 72 to return the pad to idle.
   */
  async cancel(): Promise<void> {
    const op = this.#op;
    if (op) {
      if (!op.expectsResponse) return; // a display command finishes on its own within the ACK timeout
      await new Promise<void>((resolve) => {
        const { resolve: done, reject: failed } = op;
        op.resolve = (v) => {
          done(v);
          resolve();
        };
        op.reject = (e) => {
          failed(e);
          resolve();
        };
        if (op.phase !== 'await_cancel') {
          this.#beginCancel(op, new PinPadError('cancelled', 'PIN entry cancelled by the host'));
        }
      });
      return;
    }
    await this.#run('cancel', { type: 'cancel' }, false);
  }

  /** Detaches from the transport (which stays open); a running command rejects with `closed`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#transport.off('data', this.#onData);
    this.#transport.off('state', this.#onState);
    this.#fail(new PinPadError('closed', 'PIN pad driver closed'));
  }

  #run(
    command: string,
    message: HostMessage,
    expectsResponse: boolean,
    deadlineMs?: number,
  ): Promise<PinEntryResult | undefined> {
    if (this.#closed) return Promise.reject(new PinPadError('closed', 'PIN pad driver closed'));
    if (this.#op) return Promise.reject(new PinPadError('busy', 'a PIN pad command is already running'));
    if (this.#transport.state !== 'open') {
      return Promise.reject(new PinPadError('not_open', 'PIN pad transport is not open'));
    }
    let packet: Buffer;
    try {
      packet = encodeStxEtx(encodeHostMessage(message));
    } catch (err) {
      const text = err instanceof PinPadProtocolError ? err.message : 'request cannot be encoded';
      return Promise.reject(new PinPadError('invalid_argument', text));
    }
    return new Promise<PinEntryResult | undefined>((resolve, reject) => {
      const op: Op = {
        command,
        packet,
        expectsResponse,
        phase: 'await_ack',
        sends: 0,
        naks: 0,
        badRx: 0,
        ackTimer: undefined,
        deadline: undefined,
        cancelReason: undefined,
        requestAcksOwed: 0,
        resolve,
        reject,
      };
      this.#op = op;
      this.#decoder.reset();
      this.#emitEvent({ type: 'command', command, at: Date.now() });
      if (deadlineMs !== undefined) {
        op.deadline = setTimeout(() => {
          op.deadline = undefined;
          if (this.#op === op && op.phase !== 'await_cancel') {
            this.#beginCancel(op, new PinPadError('timeout', `PIN entry timed out after ${deadlineMs} ms`));
          }
        }, deadlineMs);
      }
      this.#transmit(op);
    });
  }

  #transmit(op: Op): void {
    op.sends++;
    this.#write(op.packet, describePacket(op.packet.subarray(1, -2)));
    clearTimeout(op.ackTimer);
    op.ackTimer = setTimeout(() => {
      op.ackTimer = undefined;
      if (this.#op !== op || op.phase !== 'await_ack') return;
      if (op.sends <= this.#maxResends) this.#transmit(op);
      else this.#fail(new PinPadError('no_ack', `no ACK from the PIN pad after ${op.sends} transmissions`));
    }, this.#ackTimeoutMs);
  }

  #write(bytes: Buffer, what: string): void {
    this.#emitEvent({ type: 'tx', what, at: Date.now() });
    this.#transport.write(bytes).catch(() => {
      this.#fail(new PinPadError('disconnected', 'PIN pad link lost while writing'));
    });
  }

  #beginCancel(op: Op, reason: PinPadError): void {
    clearTimeout(op.ackTimer);
    clearTimeout(op.deadline);
    op.deadline = undefined;
    op.requestAcksOwed = op.phase === 'await_ack' ? 1 : 0;
    op.phase = 'await_cancel';
    op.cancelReason = reason;
    const packet = encodeStxEtx(encodeHostMessage({ type: 'cancel' }));
    this.#write(packet, describePacket(packet.subarray(1, -2)));
    op.ackTimer = setTimeout(() => {
      op.ackTimer = undefined;
      if (this.#op === op) this.#fail(reason);
    }, this.#ackTimeoutMs);
  }

  #onItem(item: StxEtxDecoded): void {
    const op = this.#op;
    switch (item.kind) {
      case 'ack':
        this.#emitEvent({ type: 'rx', what: 'ACK', at: Date.now() });
        if (!op) return;
        if (op.phase === 'await_ack') {
          clearTimeout(op.ackTimer);
          op.ackTimer = undefined;
          if (op.expectsResponse) op.phase = 'await_response';
          else this.#succeed(undefined);
        } else if (op.phase === 'await_cancel' && op.cancelReason) {
          if (op.requestAcksOwed > 0) op.requestAcksOwed--;
          else this.#fail(op.cancelReason);
        }
        return;
      case 'nak':
        this.#emitEvent({ type: 'rx', what: 'NAK', at: Date.now() });
        if (!op || op.phase !== 'await_ack') return;
        op.naks++;
        if (op.sends <= this.#maxResends) this.#transmit(op);
        else this.#fail(new PinPadError('nak_limit', `PIN pad NAKed ${op.naks} transmissions`));
        return;
      case 'eot':
        this.#emitEvent({ type: 'rx', what: 'EOT', at: Date.now() });
        if (!op) return;
        if (op.phase === 'await_ack') {
          this.#fail(
            op.naks > 0
              ? new PinPadError('nak_limit', `PIN pad gave up (EOT) after ${op.naks} NAKs`)
              : new PinPadError('rejected', 'PIN pad refused the command (EOT)'),
          );
        } else if (op.phase === 'await_response') {
          this.#fail(
            new PinPadError('aborted', 'PIN entry ended at the PIN pad (cancel key or pad timeout)'),
          );
        } else if (op.cancelReason) this.#fail(op.cancelReason);
        return;
      case 'error':
        this.#emitEvent({ type: 'rx', what: `bad packet (${item.code})`, at: Date.now() });
        if (item.code === 'unterminated') return; // a restarted packet follows
        if (!op || op.phase !== 'await_response') return;
        op.badRx++;
        if (op.badRx > this.#maxResends) {
          this.#write(Buffer.of(EOT), 'EOT');
          this.#fail(new PinPadError('garbled', `PIN pad response corrupt ${op.badRx} times`));
        } else this.#write(Buffer.of(NAK), 'NAK');
        return;
      case 'frame':
        this.#emitEvent({ type: 'rx', what: describePacket(item.data), at: Date.now() });
        this.#write(Buffer.of(ACK), 'ACK');
        if (!op || !op.expectsResponse || op.phase === 'await_cancel') return;
        // A response before the ACK means the ACK was lost: the pad had the request.
        clearTimeout(op.ackTimer);
        op.ackTimer = undefined;
        this.#onResponse(item.data);
        return;
    }
  }

  #onResponse(data: Buffer): void {
    let message;
    try {
      message = decodePadMessage(data);
    } catch (err) {
      const text = err instanceof PinPadProtocolError ? err.message : 'undecodable response';
      this.#fail(new PinPadError('bad_response', `PIN pad response not understood: ${text}`));
      return;
    }
    if (message.type === 'pinError') {
      const meaning = PIN_ERROR_MEANINGS[message.code] ?? 'unknown error code';
      this.#fail(new PinPadError('pad_error', `PIN pad error ${message.code}: ${meaning}`, message.code));
      return;
    }
    this.#succeed({ ksn: message.ksn, pinBlock: message.pinBlock, responseId: message.id });
  }

  #finish(): Op | undefined {
    const op = this.#op;
    if (!op) return undefined;
    clearTimeout(op.ackTimer);
    clearTimeout(op.deadline);
    this.#op = undefined;
    return op;
  }

  #succeed(value: PinEntryResult | undefined): void {
    const op = this.#finish();
    if (!op) return;
    this.#emitEvent({ type: 'done', command: op.command, ok: true, at: Date.now() });
    op.resolve(value);
  }

  #fail(error: PinPadError): void {
    const op = this.#finish();
    if (!op) return;
    this.#emitEvent({ type: 'done', command: op.command, ok: false, code: error.code, at: Date.now() });
    op.reject(error);
  }

  #emitEvent(event: PinPadEvent): void {
    this.emit('event', event);
    if (this.#log) {
      const line =
        event.type === 'command'
          ? `command ${event.command}`
          : event.type === 'done'
            ? `done ${event.command} ${event.ok ? 'ok' : `failed ${event.code ?? ''}`}`
            : `${event.type} ${event.what}`;
      this.#log(line);
    }
  }
}

function positive(value: number | undefined, fallback: number, what: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0)
    throw new PinPadError('invalid_argument', `${what} must be a positive number`);
  return v;
}
