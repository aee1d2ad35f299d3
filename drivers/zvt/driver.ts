// ZvtTerminal: the ECR side of ZVT over any Transport (serial with DLE framing, or raw APDUs over TCP).
//
// One command at a time. A command: send the APDU; the terminal answers 80 00 (accepted) or 84 xx (refused);
// then, depending on the command, it sends 04 FF intermediate statuses, 04 0F status information, and ends with
// 06 0F completion or 06 1E abort. The ECR answers every terminal message with 80 00 00.
// Flow per ecrterm (mathiasfrey/ecrterm packets/base_packets.py Packet.handle_response: send_received() for
// Completion, Abort, StatusInformation, IntermediateStatusInformation, PrintLine) and Portalum.Zvt
// (src/Portalum.Zvt/ZvtClient.cs SendCommandAsync: completion / abort / timeout restarted by each status).
//
// Secrets: card data leaves only as CardInfo (masked PAN, expiry). Events, errors and log lines are built from
// codes, command bytes and lengths, never from APDU data.

import { TypedEmitter } from '../transport/transport.ts';
import type { Transport, TransportError, TransportState } from '../transport/transport.ts';
import { ZVT_TIMEOUTS } from '../framing/zvt-link.ts';
import type { Schedule } from '../framing/zvt-link.ts';
import {
  abortApdu,
  ACK_APDU,
  commandName,
  decodeApdu,
  displayTextApdu,
  parseCompletion,
  parsePtMessage,
  readCardApdu,
  registrationApdu,
  statusEnquiryApdu,
  ZvtApduError,
} from './apdu.ts';
import type { CardInfo, CompletionInfo, RegistrationParams, StatusInfoFields } from './apdu.ts';
import { ApduChannel } from './channel.ts';
import type { ZvtFraming } from './channel.ts';
import { intermediateStatusText, resultCodeText, terminalStatusText } from './codes.ts';

export type ZvtErrorCode =
  | 'busy' // a command is already running
  | 'timeout' // the command did not end within commandTimeoutMs
  | 'disconnected' // the transport died or was closed mid-command
  | 'not_open' // open() first
  | 'terminal_abort' // the terminal ended the command with 06 1E <result code>
  | 'refused' // the terminal answered the command with 84 <code>
  | 'link' // serial link failure (no ACK, NAK after retries)
  | 'bad_argument'; // a command argument the APDU encoder refused

export class ZvtError extends Error {
  override readonly name = 'ZvtError';
  constructor(
    readonly code: ZvtErrorCode,
    message: string,
    /** ZVT result code for terminal_abort / refused. */
    readonly resultCode?: number,
  ) {
    super(message);
  }

  toJSON(): { code: ZvtErrorCode; message: string; resultCode?: number } {
    return this.resultCode === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, resultCode: this.resultCode };
  }
}

export interface ZvtTerminalOptions {
  transport: Transport;
  framing: ZvtFraming;
  /** Overall limit per command (T4-like; default ZVT_TIMEOUTS.T4 = 180 s). */
  commandTimeoutMs?: number;
  /** Restart the command timer on every terminal message, as Portalum.Zvt does (default false: overall). */
  restartTimeoutOnMessage?: boolean;
  /** Serial link ACK timeout (default 5 s, see zvt-link.ts). */
  ackTimeoutMs?: number;
  schedule?: Schedule;
  /** 6 digits for 05 01 and the default for registration (default "000000"). */
  password?: string;
}

export type ZvtTerminalEvent =
  | { type: 'intermediate'; command: string; status: number; text: string }
  | { type: 'status'; command: string; fields: StatusInfoFields; resultText?: string };

export interface ZvtTerminalEvents {
  event: [event: ZvtTerminalEvent];
  /** Redacted log lines: direction, command bytes, data length. */
  log: [line: string];
}

export interface StatusEnquiryResult extends CompletionInfo {
  terminalStatusText?: string;
  statusInfo?: StatusInfoFields;
}

interface Running {
  name: string;
  /** the command is done when the terminal acknowledges it (no completion follows) */
  ackOnly: boolean;
  accepted: boolean;
  statusInfo?: StatusInfoFields;
  resolve: (completion: CompletionInfo) => void;
  reject: (err: ZvtError) => void;
  cancelTimer: () => void;
  arm: () => void;
  onStatus: ((fields: StatusInfoFields) => void) | undefined;
}

export class ZvtTerminal extends TypedEmitter<ZvtTerminalEvents> {
  readonly #opts: ZvtTerminalOptions;
  readonly #schedule: Schedule;
  #channel: ApduChannel | undefined;
  #running: Running | undefined;
  readonly #onState = (state: TransportState, error?: TransportError): void => {
    if (state === 'failed' || state === 'closed') {
      this.#fail(new ZvtError('disconnected', `terminal link ${state}${error ? ` (${error.code})` : ''}`));
      this.#channel?.close();
      this.#channel = undefined;
    }
  };

  constructor(opts: ZvtTerminalOptions) {
    super();
    this.#opts = opts;
    this.#schedule =
      opts.schedule ??
      ((ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      });
  }

  get busy(): boolean {
    return this.#running !== undefined;
  }

  async open(): Promise<void> {
    const t = this.#opts.transport;
    t.off('state', this.#onState);
    if (!this.#channel) {
      this.#channel = new ApduChannel(t, {
        framing: this.#opts.framing,
        onApdu: (apdu) => this.#onApdu(apdu),
        onLinkEvent: (e) => this.emit('log', `link ${e.type}${'cause' in e ? ` ${e.cause}` : ''}`),
        ...(this.#opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: this.#opts.ackTimeoutMs } : {}),
        ...(this.#opts.schedule ? { schedule: this.#opts.schedule } : {}),
      });
    }
    try {
      await t.open();
    } catch (err) {
      this.#channel.close();
      this.#channel = undefined;
      throw err;
    }
    t.on('state', this.#onState);
  }

  async close(): Promise<void> {
    this.#opts.transport.off('state', this.#onState);
    this.#fail(new ZvtError('disconnected', 'terminal closed by the ECR'));
    this.#channel?.close();
    this.#channel = undefined;
    await this.#opts.transport.close();
  }

  /** 06 00 Registration; resolves with the completion's terminal status, TID and currency when sent. */
  register(params: RegistrationParams = {}): Promise<CompletionInfo> {
    return this.#command(
      '06 00',
      () => registrationApdu({ password: this.#opts.password, ...params }),
      false,
    );
  }

  /** 05 01 Status Enquiry. */
  async statusEnquiry(): Promise<StatusEnquiryResult> {
    let info: StatusInfoFields | undefined;
    const c = await this.#command(
      '05 01',
      () => statusEnquiryApdu(this.#opts.password),
      false,
      (s) => (info = s),
    );
    const out: StatusEnquiryResult = { ...c };
    if (c.terminalStatus !== undefined) out.terminalStatusText = terminalStatusText(c.terminalStatus);
    if (info) out.statusInfo = info;
    return out;
  }

  /** 06 C0 Read Card: the card data of the 04 0F status information, masked. */
  async readCard(options: { timeoutSec?: number } = {}): Promise<CardInfo> {
    let card: CardInfo = {};
    await this.#command(
      '06 C0',
      () => readCardApdu(options.timeoutSec),
      false,
      (s) => {
        card = {};
        if (s.maskedPan !== undefined) card.maskedPan = s.maskedPan;
        if (s.expiry !== undefined) card.expiry = s.expiry;
        if (s.cardType !== undefined) card.cardType = s.cardType;
        if (s.cardName !== undefined) card.cardName = s.cardName;
      },
    );
    return card;
  }

  /** 06 E0 Display Text (done when the terminal acknowledges it). */
  async displayText(lines: readonly string[], options: { durationSec?: number } = {}): Promise<void> {
    await this.#command('06 E0', () => displayTextApdu(lines, options.durationSec), true);
  }

  /**
   * 06 B0 Abort. Idle: a command of its own, done on the terminal's 80 00. While a command runs it is the one
   * message sent alongside it: the running command then ends as the terminal answers (usually 06 1E 6C).
   */
  async abort(): Promise<void> {
    if (!this.#running) {
      await this.#command('06 B0', () => abortApdu(), true);
      return;
    }
    const channel = this.#channel;
    if (!channel) throw new ZvtError('not_open', 'terminal not open');
    this.emit('log', `ecr -> pt 06 B0 len 0 (abort while ${this.#running.name} runs)`);
    await channel.send(abortApdu()).catch((err: unknown) => {
      throw this.#linkError(err);
    });
  }

  #command(
    name: string,
    build: () => Buffer,
    ackOnly: boolean,
    onStatus?: (fields: StatusInfoFields) => void,
  ): Promise<CompletionInfo> {
    if (this.#running) {
      return Promise.reject(
        new ZvtError('busy', `terminal busy with ${this.#running.name}; ${name} refused`),
      );
    }
    const channel = this.#channel;
    if (!channel || this.#opts.transport.state !== 'open') {
      return Promise.reject(new ZvtError('not_open', 'terminal not open'));
    }
    let apdu: Buffer;
    try {
      apdu = build();
    } catch (err) {
      const msg = err instanceof ZvtApduError ? err.message : 'bad argument';
      return Promise.reject(new ZvtError('bad_argument', `${name}: ${msg}`));
    }
    const timeoutMs = this.#opts.commandTimeoutMs ?? ZVT_TIMEOUTS.T4;
    return new Promise<CompletionInfo>((resolve, reject) => {
      const running: Running = {
        name,
        ackOnly,
        accepted: false,
        resolve,
        reject,
        cancelTimer: () => undefined,
        arm: () => undefined,
        onStatus,
      };
      running.arm = (): void => {
        running.cancelTimer();
        running.cancelTimer = this.#schedule(timeoutMs, () => {
          if (this.#running === running) {
            this.#fail(
              new ZvtError('timeout', `${name}: no answer from the terminal within ${timeoutMs} ms`),
            );
          }
        });
      };
      this.#running = running;
      running.arm();
      this.emit('log', `ecr -> pt ${name} len ${apdu.length - 3}`);
      channel.send(apdu).catch((err: unknown) => {
        if (this.#running === running) this.#fail(this.#linkError(err));
      });
    });
  }

  #rearm(r: Running): void {
    if (this.#opts.restartTimeoutOnMessage) r.arm();
  }

  #linkError(err: unknown): ZvtError {
    const e = err as { code?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('zvt_link')) {
      return new ZvtError('link', `serial link: ${e.code}`);
    }
    return new ZvtError('disconnected', `write failed (${typeof e.code === 'string' ? e.code : 'error'})`);
  }

  #fail(err: ZvtError): void {
    const r = this.#running;
    if (!r) return;
    this.#running = undefined;
    r.cancelTimer();
    this.emit('log', `command ${r.name} failed: ${err.code}`);
    r.reject(err);
  }

  #done(completion: CompletionInfo): void {
    const r = this.#running;
    if (!r) return;
    this.#running = undefined;
    r.cancelTimer();
    this.emit('log', `command ${r.name} completed`);
    r.resolve(completion);
  }

  #ack(): void {
    this.#channel?.send(ACK_APDU).catch(() => undefined);
  }

  #onApdu(raw: Buffer): void {
    let apdu;
    try {
      apdu = decodeApdu(raw);
    } catch (err) {
      this.emit('log', `pt -> ecr undecodable APDU (${err instanceof ZvtApduError ? err.code : 'error'})`);
      return;
    }
    const msg = parsePtMessage(apdu);
    this.emit('log', `pt -> ecr ${commandName(apdu.cls, apdu.instr)} len ${apdu.data.length}`);
    const r = this.#running;
    switch (msg.kind) {
      case 'ack':
        if (!r) return;
        r.accepted = true;
        if (r.ackOnly) this.#done({});
        else this.#rearm(r);
        return;
      case 'nack':
        if (r) {
          this.#fail(new ZvtError('refused', `${r.name} refused: ${resultCodeText(msg.code)}`, msg.code));
        }
        return;
      case 'intermediate':
        this.#ack();
        if (!r) return;
        this.#rearm(r);
        this.emit('event', {
          type: 'intermediate',
          command: r.name,
          status: msg.status,
          text: intermediateStatusText(msg.status),
        });
        return;
      case 'status_info': {
        this.#ack();
        if (!r) return;
        this.#rearm(r);
        r.statusInfo = msg.fields;
        r.onStatus?.(msg.fields);
        const ev: ZvtTerminalEvent = { type: 'status', command: r.name, fields: msg.fields };
        if (msg.fields.resultCode !== undefined) ev.resultText = resultCodeText(msg.fields.resultCode);
        this.emit('event', ev);
        return;
      }
      case 'completion':
        this.#ack();
        if (r) this.#done(parseCompletion(msg.data));
        return;
      case 'abort':
        this.#ack();
        if (r) {
          this.#fail(
            new ZvtError(
              'terminal_abort',
              `${r.name} aborted by the terminal: ${resultCodeText(msg.resultCode)}`,
              msg.resultCode,
            ),
          );
        }
        return;
      case 'other':
        // Print lines (06 D1), text blocks (06 D3) and anything else the terminal sends: acknowledged, ignored.
        if (apdu.cls === 0x04 || apdu.cls === 0x06) this.#ack();
        if (r) this.#rearm(r);
        return;
    }
  }
}
