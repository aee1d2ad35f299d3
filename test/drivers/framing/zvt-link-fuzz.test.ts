// ZvtLink receiving arbitrary bytes (fast-check) and every single-byte corruption of a frame: it never
// throws, answers only with ACK or NAK, and delivers only APDUs whose exact canonical frame was received.
// The clock never advances here: timers are the state machine's other tests' business.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZvtLink } from '../../../drivers/framing/zvt-link.ts';
import { encodeZvtFrame } from '../../../drivers/framing/zvt-serial.ts';

const ACK = 0x06;
const NAK = 0x15;

function receiver() {
  const written: Buffer[] = [];
  const apdus: Buffer[] = [];
  const link = new ZvtLink({
    write: (b) => written.push(Buffer.from(b)),
    onApdu: (a) => apdus.push(Buffer.from(a)),
    schedule: () => () => undefined,
  });
  return { link, written, apdus };
}

/** Cuts `bytes` at the given points (any order, duplicates ignored). */
function chunks(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

const apduArb = fc
  .tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
  .map(([cls, instr, data]) => Buffer.concat([Buffer.of(cls, instr, data.length), data]));

describe('ZvtLink receiving (fast-check)', () => {
  it('byte soup with real frames in it: no throw, only ACK/NAK written, only exact frames delivered', () => {
    const piece = fc.oneof(
      apduArb.map((a) => encodeZvtFrame(a)),
      fc.uint8Array({ maxLength: 30 }).map((b) => Buffer.from(b)),
      fc.constantFrom(
        Buffer.of(0x10, 0x02),
        Buffer.of(0x10, 0x03),
        Buffer.of(0x10, 0x10),
        Buffer.of(ACK, NAK),
      ),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 15 }),
        (pieces, cuts) => {
          const soup = Buffer.concat(pieces);
          const r = receiver();
          for (const c of chunks(soup, cuts)) r.link.receive(c);
          for (const w of r.written) expect(w.length === 1 && (w[0] === ACK || w[0] === NAK)).toBe(true);
          for (const a of r.apdus) expect(soup.includes(encodeZvtFrame(a))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('every single-byte corruption of a frame (every position, every bit pattern) delivers nothing', () => {
    // Data with a DLE (stuffed) and bytes that look like STX and ETX.
    const apdu = Buffer.of(0x06, 0x0f, 0x05, 0x10, 0x02, 0x03, 0x06, 0x15);
    const frame = encodeZvtFrame(apdu);
    const clean = receiver();
    clean.link.receive(frame);
    expect(clean.apdus).toEqual([apdu]);
    let naks = 0;
    for (let pos = 0; pos < frame.length; pos++) {
      for (let flip = 1; flip < 256; flip++) {
        const bad = Buffer.from(frame);
        bad[pos] = bad[pos]! ^ flip;
        const r = receiver();
        r.link.receive(bad);
        expect(r.apdus, `byte ${pos} ^ ${flip}`).toEqual([]);
        if (r.written.some((w) => w[0] === NAK)) naks++;
      }
    }
    // Most corruptions are answered with NAK (the rest lose the frame start and wait for the timeout).
    expect(naks).toBeGreaterThan((frame.length - 2) * 200);
  });
});
