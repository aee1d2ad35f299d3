// Shared helpers of the framing tests: reference checksums written independently of drivers/framing, and
// chunking utilities.
import fc from 'fast-check';

/** Bit-by-bit CRC-16, reflected poly 0x8408, init 0, no final XOR: a deliberately naive reference. */
export function refCrc16(bytes: readonly number[]): number {
  let crc = 0;
  for (const byte of bytes) {
    for (let bit = 0; bit < 8; bit++) {
      const inBit = (byte >> bit) & 1;
      const lsb = crc & 1;
      crc >>= 1;
      if ((lsb ^ inBit) === 1) crc ^= 0x8408;
    }
  }
  return crc;
}

/** Reference ZVT frame built from the DESIGN.md description, by array operations. */
export function refZvtFrame(apdu: readonly number[]): number[] {
  const crc = refCrc16([...apdu, 0x03]);
  return [
    0x10,
    0x02,
    ...apdu.flatMap((b) => (b === 0x10 ? [0x10, 0x10] : [b])),
    0x10,
    0x03,
    crc & 0xff,
    crc >> 8,
  ];
}

export function hex(s: string): Buffer {
  return Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
}

/** Splits `bytes` at the given (unsorted, possibly repeated) offsets. */
export function splitAt(bytes: Uint8Array, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(bytes.length, c))))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(Buffer.from(bytes.subarray(prev, p)));
    prev = p;
  }
  return out;
}

/** Every way of feeding `bytes` the tests require: whole, split once at each offset, and byte by byte. */
export function allChunkings(bytes: Uint8Array): Buffer[][] {
  const ways: Buffer[][] = [[Buffer.from(bytes)]];
  for (let i = 0; i <= bytes.length; i++) ways.push(splitAt(bytes, [i]));
  ways.push(Array.from(bytes, (b) => Buffer.of(b)));
  return ways;
}

export function feed<T>(decoder: { push(chunk: Buffer): T[] }, chunks: readonly Buffer[]): T[] {
  return chunks.flatMap((c) => decoder.push(c));
}

/** Arbitrary cut offsets for a byte string of up to `max` bytes. */
export const cutsArb = (max: number) => fc.array(fc.integer({ min: 0, max }), { maxLength: 12 });
