// ZVT serial link framing (ECR <-> payment terminal over RS-232), no I/O.
//
//   frame = DLE STX | APDU with every DLE (0x10) doubled | DLE ETX | CRC lo | CRC hi
//
// CRC: see crc.ts (poly 0x8408 reflected, init 0, over the unstuffed APDU and ETX, low byte first).
// Outside a frame a lone ACK (0x06) or NAK (0x15) is the link reply to the last frame sent.
//
// The decoder takes bytes as they arrive in any chunking and emits complete, checked frames. Work per byte is
// O(1) (amortised) and memory is capped by `maxApdu`: it never throws on input and never grows without bound.
// Error details never contain APDU bytes (frames may carry card data).

import { ByteAccumulator } from './byte-buffer.ts';
import { zvtFrameCrc } from './crc.ts';

export const DLE = 0x10;
export const STX = 0x02;
export const ETX = 0x03;
export const ACK = 0x06;
export const NAK = 0x15;

/** Largest APDU: CCRC, APRC, extended length (0xFF, lo, hi) and 65,535 data bytes. */
export const ZVT_MAX_APDU = 65_535 + 5;

export type ZvtErrorCode = 'crc_mismatch' | 'bad_stuffing' | 'overlong';

export type ZvtDecoded =
  | { kind: 'frame'; apdu: Buffer }
  | { kind: 'ack' }
  | { kind: 'nak' }
  | { kind: 'error'; code: ZvtErrorCode; detail: string };

/** Wraps an APDU in a ZVT serial frame: DLE STX, stuffed APDU, DLE ETX, CRC low byte, CRC high byte. */
export function encodeZvtFrame(apdu: Uint8Array): Buffer {
  let dles = 0;
  for (const b of apdu) if (b === DLE) dles++;
  const out = Buffer.allocUnsafe(apdu.length + dles + 6);
  let o = 0;
  out[o++] = DLE;
  out[o++] = STX;
  for (const b of apdu) {
    out[o++] = b;
    if (b === DLE) out[o++] = DLE;
  }
  out[o++] = DLE;
  out[o++] = ETX;
  const crc = zvtFrameCrc(apdu);
  out[o++] = crc & 0xff;
  out[o++] = crc >>> 8;
  return out;
}

type State =
  | 'idle' // between frames: ACK/NAK recognised, other bytes are garbage
  | 'idleDle' // DLE seen between frames: STX starts a frame
  | 'data' // inside a frame
  | 'dataDle' // DLE inside a frame: DLE (stuffed), ETX (end) or STX (restart)
  | 'crcLo'
  | 'crcHi'
  | 'skip' // the rest of a broken frame: discarded up to its DLE ETX and CRC, or the next DLE STX
  | 'skipDle'
  | 'skipCrc1'
  | 'skipCrc2';

export interface ZvtDecoderOptions {
  /** Largest APDU accepted (unstuffed bytes); longer frames are reported `overlong` and skipped. */
  maxApdu?: number;
}

export class ZvtFrameDecoder {
  private state: State = 'idle';
  private readonly apdu: ByteAccumulator;
  private crcLo = 0;
  private dropped = 0;

  constructor(options: ZvtDecoderOptions = {}) {
    const max = options.maxApdu ?? ZVT_MAX_APDU;
    if (!Number.isInteger(max) || max < 0) throw new RangeError('maxApdu must be a non-negative integer');
    this.apdu = new ByteAccumulator(max);
  }

  /** True while part of a frame has been received (a link layer arms its inter-byte timeout on this). */
  get inFrame(): boolean {
    return this.state !== 'idle' && this.state !== 'idleDle';
  }

  /** Bytes discarded so far as garbage or as parts of broken frames. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** Forgets any partial frame (after an inter-byte timeout or a reconnect). */
  reset(): void {
    if (this.inFrame) this.dropped += this.apdu.length;
    this.apdu.clear();
    this.state = 'idle';
  }

  push(chunk: Uint8Array): ZvtDecoded[] {
    const out: ZvtDecoded[] = [];
    for (let i = 0; i < chunk.length; i++) this.step(chunk[i] ?? 0, out);
    return out;
  }

  private startFrame(): void {
    this.apdu.clear();
    this.state = 'data';
  }

  private fail(out: ZvtDecoded[], code: ZvtErrorCode, detail: string, next: State): void {
    out.push({ kind: 'error', code, detail });
    this.dropped += this.apdu.length;
    this.apdu.clear();
    this.state = next;
  }

  private step(b: number, out: ZvtDecoded[]): void {
    switch (this.state) {
      case 'idle':
        if (b === DLE) this.state = 'idleDle';
        else if (b === ACK) out.push({ kind: 'ack' });
        else if (b === NAK) out.push({ kind: 'nak' });
        else this.dropped++;
        return;
      case 'idleDle':
        if (b === STX) {
          this.startFrame();
        } else {
          this.dropped++; // the previous DLE was garbage
          this.state = 'idle';
          this.step(b, out); // reconsider this byte between frames (it may be DLE, ACK, NAK); depth 1
        }
        return;
      case 'data':
        if (b === DLE) this.state = 'dataDle';
        else if (!this.apdu.push(b)) this.overlong(out);
        return;
      case 'dataDle':
        if (b === DLE) {
          if (this.apdu.push(DLE)) this.state = 'data';
          else this.overlong(out);
        } else if (b === ETX) {
          this.state = 'crcLo';
        } else if (b === STX) {
          this.fail(out, 'bad_stuffing', 'DLE STX inside a frame: frame abandoned, restarting', 'data');
        } else {
          this.fail(
            out,
            'bad_stuffing',
            `DLE followed by 0x${b.toString(16).padStart(2, '0')} inside a frame`,
            'skip',
          );
        }
        return;
      case 'crcLo':
        this.crcLo = b;
        this.state = 'crcHi';
        return;
      case 'crcHi': {
        const apdu = this.apdu.take();
        const got = this.crcLo | (b << 8);
        const want = zvtFrameCrc(apdu);
        if (got === want) {
          out.push({ kind: 'frame', apdu });
          this.apdu.clear();
          this.state = 'idle';
        } else {
          this.fail(
            out,
            'crc_mismatch',
            `CRC 0x${got.toString(16).padStart(4, '0')} received, 0x${want.toString(16).padStart(4, '0')} computed over ${apdu.length} APDU bytes`,
            'idle',
          );
        }
        return;
      }
      case 'skip':
        this.dropped++;
        if (b === DLE) this.state = 'skipDle';
        return;
      case 'skipDle':
        this.dropped++;
        if (b === STX) this.startFrame();
        else if (b === ETX) this.state = 'skipCrc1';
        else this.state = 'skip'; // a stuffed DLE pair or more of the broken frame
        return;
      case 'skipCrc1':
        this.dropped++;
        this.state = 'skipCrc2';
        return;
      case 'skipCrc2':
        this.dropped++;
        this.state = 'idle';
        return;
    }
  }

  private overlong(out: ZvtDecoded[]): void {
    this.fail(out, 'overlong', `APDU longer than ${this.apdu.max} bytes: frame skipped`, 'skip');
  }
}
