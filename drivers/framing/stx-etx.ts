// STX/ETX/LRC packet framing as used by VeriFone PINpad 1000SE-style serial devices, no I/O.
//
//   packet = STX (0x02) | data | ETX (0x03) | LRC      LRC = XOR of data and ETX (STX excluded)
//
// Between packets the single control bytes ACK (0x06), NAK (0x15) and EOT (0x04) are link replies.
// The framing has no escaping, so data may not contain STX or ETX (the PIN pad's data is ASCII text);
// `encodeStxEtx` refuses such data. The decoder takes bytes in any chunking, never throws on input, does O(1)
// work per byte and caps a packet at `maxData` bytes. Error details never contain packet data.
//
// Known limit of LRC framing (no escaping, 8-bit check): a data byte corrupted into ETX ends the packet early,
// and the byte after it is then taken as the LRC; a data byte corrupted into STX restarts the packet (that is
// how a truncated packet followed by a resent one is recovered), and the original LRC is then checked against
// the suffix. Either way the forged packet passes when the 8-bit check happens to match (about 1 in 256).
// Other single-byte corruptions are always caught. Protocol layers above must still validate packet contents
// (lengths, field syntax); on 7-bit devices with parity the UART catches most such errors first.

import { ByteAccumulator } from './byte-buffer.ts';
import { lrc } from './crc.ts';

export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ACK = 0x06;
export const NAK = 0x15;

/** Default cap on packet data; the PIN pad's longest packets are a few hundred bytes. */
export const STX_ETX_MAX_DATA = 4096;

export type StxEtxErrorCode = 'lrc_mismatch' | 'overlong' | 'unterminated';

export type StxEtxDecoded =
  | { kind: 'frame'; data: Buffer }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'eot' }
  | { kind: 'error'; code: StxEtxErrorCode; detail: string };

/** The LRC a packet carries for `data`: XOR of data and ETX. */
export function stxEtxLrc(data: Uint8Array): number {
  return lrc(data) ^ ETX;
}

/** STX | data | ETX | LRC. Throws a RangeError if data contains STX or ETX (they cannot be framed). */
export function encodeStxEtx(data: Uint8Array): Buffer {
  const bad = data.findIndex((b) => b === STX || b === ETX);
  if (bad >= 0) throw new RangeError(`STX/ETX packet data may not contain 0x02 or 0x03 (offset ${bad})`);
  const out = Buffer.allocUnsafe(data.length + 3);
  out[0] = STX;
  out.set(data, 1);
  out[data.length + 1] = ETX;
  out[data.length + 2] = stxEtxLrc(data);
  return out;
}

type State = 'idle' | 'data' | 'lrc' | 'skip' | 'skipLrc';

export interface StxEtxDecoderOptions {
  /** Largest data length accepted; longer packets are reported `overlong` and skipped. */
  maxData?: number;
}

export class StxEtxDecoder {
  private state: State = 'idle';
  private readonly data: ByteAccumulator;
  private dropped = 0;

  constructor(options: StxEtxDecoderOptions = {}) {
    const max = options.maxData ?? STX_ETX_MAX_DATA;
    if (!Number.isInteger(max) || max < 0) throw new RangeError('maxData must be a non-negative integer');
    this.data = new ByteAccumulator(max);
  }

  /** True while part of a packet has been received. */
  get inFrame(): boolean {
    return this.state !== 'idle';
  }

  /** Bytes discarded so far as garbage or as parts of broken packets. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** Forgets any partial packet (after an inter-byte timeout or a reconnect). */
  reset(): void {
    if (this.inFrame) this.dropped += this.data.length;
    this.data.clear();
    this.state = 'idle';
  }

  push(chunk: Uint8Array): StxEtxDecoded[] {
    const out: StxEtxDecoded[] = [];
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i] ?? 0, out);
    return out;
  }

  private step(b: number, out: StxEtxDecoded[]): void {
    switch (this.state) {
      case 'idle':
        if (b === STX) {
          this.data.clear();
          this.state = 'data';
        } else if (b === ACK) out.push({ kind: 'ack' });
        else if (b === NAK) out.push({ kind: 'nak' });
        else if (b === EOT) out.push({ kind: 'eot' });
        else this.dropped++;
        return;
      case 'data':
        if (b === ETX) this.state = 'lrc';
        else if (b === STX) {
          out.push({
            kind: 'error',
            code: 'unterminated',
            detail: 'STX before ETX: packet abandoned, restarting',
          });
          this.dropped += this.data.length + 1;
          this.data.clear();
        } else if (!this.data.push(b)) {
          out.push({
            kind: 'error',
            code: 'overlong',
            detail: `packet data longer than ${this.data.max} bytes: packet skipped`,
          });
          this.dropped += this.data.length + 1;
          this.data.clear();
          this.state = 'skip';
        }
        return;
      case 'lrc': {
        const data = this.data.take();
        const want = stxEtxLrc(data);
        this.data.clear();
        this.state = 'idle';
        if (b === want) out.push({ kind: 'frame', data });
        else {
          this.dropped += data.length + 3;
          out.push({
            kind: 'error',
            code: 'lrc_mismatch',
            detail: `LRC 0x${b.toString(16).padStart(2, '0')} received, 0x${want.toString(16).padStart(2, '0')} computed over ${data.length} data bytes`,
          });
        }
        return;
      }
      case 'skip':
        if (b === STX) {
          this.data.clear();
          this.state = 'data';
          return;
        }
        this.dropped++;
        if (b === ETX) this.state = 'skipLrc';
        return;
      case 'skipLrc':
        this.dropped++;
        this.state = 'idle';
        return;
    }
  }
}
