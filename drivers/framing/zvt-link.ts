// ZVT serial link protocol as a small state machine. No I/O and no timer source of its own: the caller
// passes `write` (bytes to the wire) and a `schedule` function (real timers, or a fake clock in tests), and
// feeds received bytes to `receive`.
//
// Sending: a frame is written, then ACK is awaited for `ackTimeoutMs`. On NAK or on timeout the same frame is
// written again, up to `maxRetries` (3) retries; then `send` rejects with a coded ZvtLinkError.
// Receiving: every valid frame is acknowledged with ACK and handed to `onApdu`; a corrupt frame (CRC mismatch,
// bad DLE stuffing, overlong) is answered with NAK, so the terminal repeats it. A frame left incomplete for
// longer than `interByteTimeoutMs` is dropped and answered with NAK.
//
// Timeouts. The ZVT specification itself was not found in the reference corpus consulted while writing this
// (2026-11). The one public source found is ecrterm, a Python ZVT client (github.com/mathiasfrey/ecrterm,
// transmission/signals.py and transport_serial.py): TIMEOUT_T1 = 0.2 s (it uses T1 as the inter-byte timeout
// while reading a frame and its CRC), TIMEOUT_T2 = 15 s (wait for the terminal's reply frame), TIMEOUT_T3 =
// 5 s, TIMEOUT_T4 = 180 s (default wait for the end of a transaction). ASSUMPTION: the ACK timeout is 5 s
// (`ackTimeoutMs` default), as ecrterm's T3; check both against the ZVT spec (PA00P015) before certifying.

import { ACK, NAK, ZvtFrameDecoder, encodeZvtFrame } from './zvt-serial.ts';

/** ZVT timeouts in milliseconds, as found in ecrterm (see the header comment); not verified against the spec. */
export const ZVT_TIMEOUTS = {
  /** Inter-byte timeout while a frame is being received. */
  T1: 200,
  /** Wait for the terminal's reply frame after a command was acknowledged. */
  T2: 15_000,
  /** Used here as the ACK timeout (assumption). */
  T3: 5_000,
  /** Default wait for the end of a long-running command (a payment). */
  T4: 180_000,
} as const;

export const ZVT_ACK_TIMEOUT_MS = ZVT_TIMEOUTS.T3;
export const ZVT_MAX_RETRIES = 3;

/** Runs `fn` after `ms` milliseconds; returns a function that cancels it. */
export type Schedule = (ms: number, fn: () => void) => () => void;

/** The real clock: Node's setTimeout. */
export const realSchedule: Schedule = (ms, fn) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export type ZvtLinkErrorCode =
  | 'zvt_link_no_ack' // last attempt timed out without ACK or NAK
  | 'zvt_link_nak' // last attempt was answered with NAK
  | 'zvt_link_busy' // send() while a frame is still awaiting its ACK
  | 'zvt_link_closed' // the link was closed
  | 'zvt_link_write_failed'; // write() threw

export class ZvtLinkError extends Error {
  override readonly name = 'ZvtLinkError';
  constructor(
    readonly code: ZvtLinkErrorCode,
    message: string,
    /** Frames written for this send (1 + retries). */
    readonly attempts = 0,
  ) {
    super(message);
  }
}

export type ZvtLinkEvent =
  | { type: 'retry'; attempt: number; cause: 'nak' | 'ack_timeout' }
  | { type: 'rx_error'; code: string; detail: string } // a corrupt frame, answered with NAK
  | { type: 'rx_timeout' } // an incomplete frame dropped after the inter-byte timeout, answered with NAK
  | { type: 'unexpected'; byte: 'ack' | 'nak' }; // ACK/NAK while nothing awaited one

export interface ZvtLinkOptions {
  /** Writes bytes to the wire. */
  write: (bytes: Buffer) => void;
  /** Receives each valid APDU (already acknowledged). */
  onApdu: (apdu: Buffer) => void;
  /** Diagnostics: retries, corrupt frames, stray bytes. */
  onEvent?: (event: ZvtLinkEvent) => void;
  schedule?: Schedule;
  ackTimeoutMs?: number;
  maxRetries?: number;
  /** null disables the inter-byte timeout. */
  interByteTimeoutMs?: number | null;
  maxApdu?: number;
}

interface Pending {
  frame: Buffer;
  attempts: number;
  cancelTimer: (() => void) | null;
  resolve: () => void;
  reject: (e: ZvtLinkError) => void;
}

export type ZvtLinkState = 'idle' | 'awaiting_ack' | 'closed';

export class ZvtLink {
  private readonly decoder: ZvtFrameDecoder;
  private readonly schedule: Schedule;
  private readonly ackTimeoutMs: number;
  private readonly maxRetries: number;
  private readonly interByteTimeoutMs: number | null;
  private pending: Pending | null = null;
  private cancelRxTimer: (() => void) | null = null;
  private closed = false;

  constructor(private readonly opts: ZvtLinkOptions) {
    this.decoder = new ZvtFrameDecoder(opts.maxApdu === undefined ? {} : { maxApdu: opts.maxApdu });
    this.schedule = opts.schedule ?? realSchedule;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? ZVT_ACK_TIMEOUT_MS;
    this.maxRetries = opts.maxRetries ?? ZVT_MAX_RETRIES;
    this.interByteTimeoutMs =
      opts.interByteTimeoutMs === undefined ? ZVT_TIMEOUTS.T1 : opts.interByteTimeoutMs;
  }

  get state(): ZvtLinkState {
    return this.closed ? 'closed' : this.pending ? 'awaiting_ack' : 'idle';
  }

  /** Sends one APDU; resolves when the terminal acknowledged it, rejects with a ZvtLinkError otherwise. */
  send(apdu: Uint8Array): Promise<void> {
    if (this.closed) return Promise.reject(new ZvtLinkError('zvt_link_closed', 'ZVT link is closed'));
    if (this.pending) {
      return Promise.reject(new ZvtLinkError('zvt_link_busy', 'a ZVT frame is still awaiting its ACK'));
    }
    return new Promise<void>((resolve, reject) => {
      this.pending = { frame: encodeZvtFrame(apdu), attempts: 0, cancelTimer: null, resolve, reject };
      this.transmit();
    });
  }

  /** Feeds bytes received from the wire. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    for (const item of this.decoder.push(chunk)) {
      switch (item.kind) {
        case 'frame':
          this.writeRaw(Buffer.of(ACK));
          this.opts.onApdu(item.apdu);
          break;
        case 'error':
          this.writeRaw(Buffer.of(NAK));
          this.opts.onEvent?.({ type: 'rx_error', code: item.code, detail: item.detail });
          break;
        case 'ack':
        case 'nak':
          this.onReply(item.kind);
          break;
      }
    }
    this.armRxTimer();
  }

  /** Stops timers and rejects a pending send. Received bytes are ignored afterwards. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelRxTimer?.();
    this.cancelRxTimer = null;
    this.finish(new ZvtLinkError('zvt_link_closed', 'ZVT link closed while awaiting ACK'));
  }

  private armRxTimer(): void {
    this.cancelRxTimer?.();
    this.cancelRxTimer = null;
    if (this.interByteTimeoutMs === null || !this.decoder.inFrame) return;
    this.cancelRxTimer = this.schedule(this.interByteTimeoutMs, () => {
      this.cancelRxTimer = null;
      if (this.closed || !this.decoder.inFrame) return;
      this.decoder.reset();
      this.writeRaw(Buffer.of(NAK));
      this.opts.onEvent?.({ type: 'rx_timeout' });
    });
  }

  private transmit(): void {
    const p = this.pending;
    if (!p) return;
    p.attempts++;
    if (!this.writeRaw(p.frame)) {
      this.finish(new ZvtLinkError('zvt_link_write_failed', 'writing the ZVT frame failed', p.attempts));
      return;
    }
    p.cancelTimer = this.schedule(this.ackTimeoutMs, () => {
      p.cancelTimer = null;
      if (this.pending === p) this.retryOrFail('ack_timeout');
    });
  }

  private onReply(kind: 'ack' | 'nak'): void {
    const p = this.pending;
    if (!p) {
      this.opts.onEvent?.({ type: 'unexpected', byte: kind });
      return;
    }
    p.cancelTimer?.();
    p.cancelTimer = null;
    if (kind === 'ack') this.finish(null);
    else this.retryOrFail('nak');
  }

  private retryOrFail(cause: 'nak' | 'ack_timeout'): void {
    const p = this.pending;
    if (!p) return;
    if (p.attempts > this.maxRetries) {
      this.finish(
        cause === 'nak'
          ? new ZvtLinkError('zvt_link_nak', `terminal answered NAK ${p.attempts} times`, p.attempts)
          : new ZvtLinkError(
              'zvt_link_no_ack',
              `no ACK within ${this.ackTimeoutMs} ms after ${p.attempts} attempts`,
              p.attempts,
            ),
      );
      return;
    }
    this.opts.onEvent?.({ type: 'retry', attempt: p.attempts + 1, cause });
    this.transmit();
  }

  private finish(error: ZvtLinkError | null): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    p.cancelTimer?.();
    p.cancelTimer = null;
    if (error) p.reject(error);
    else p.resolve();
  }

  private writeRaw(bytes: Buffer): boolean {
    try {
      this.opts.write(bytes);
      return true;
    } catch {
      return false;
    }
  }
}
