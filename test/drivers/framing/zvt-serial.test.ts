import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ZVT_MAX_APDU,
  ZvtFrameDecoder,
  encodeZvtFrame,
  type ZvtDecoded,
} from '../../../drivers/framing/zvt-serial.ts';
import { allChunkings, cutsArb, feed, hex, refZvtFrame, splitAt } from './helpers.ts';

// Registration (06 00) with password 123456, config byte BA, currency 0978 (EUR).
const REGISTRATION = hex('06 00 06 12 34 56 BA 09 78');
// An APDU full of DLEs, including DLE ETX and DLE STX and a trailing DLE, to exercise stuffing.
const DLE_HEAVY = hex('80 00 07 10 10 03 10 02 00 10');
const VECTORS: Buffer[] = [
  REGISTRATION,
  DLE_HEAVY,
  hex('80 00 00'),
  Buffer.alloc(0),
  Buffer.alloc(300, 0x10),
];

// Garbage that contains no ACK/NAK (those are meaningful between frames) but does contain DLE, DLE ETX and
// a trailing DLE, so resynchronisation on DLE STX is really exercised.
const GARBAGE = hex('00 ff 10 10 41 10 03 99 02 03 10');

const frames = (items: ZvtDecoded[]) => items.filter((i) => i.kind === 'frame');

describe('encodeZvtFrame', () => {
  it('has the DESIGN.md shape: DLE STX | stuffed APDU | DLE ETX | CRC lo, hi', () => {
    const f = encodeZvtFrame(REGISTRATION);
    expect([...f.subarray(0, 2)]).toEqual([0x10, 0x02]);
    expect(f.subarray(2, 2 + REGISTRATION.length)).toEqual(REGISTRATION);
    expect([...f.subarray(-4, -2)]).toEqual([0x10, 0x03]);
    expect([...f]).toEqual(refZvtFrame([...REGISTRATION]));
  });

  it('doubles every DLE of the APDU', () => {
    const f = encodeZvtFrame(DLE_HEAVY);
    expect(f.subarray(2, -4)).toEqual(hex('80 00 07 10 10 10 10 03 10 10 02 00 10 10'));
    expect([...f]).toEqual(refZvtFrame([...DLE_HEAVY]));
  });

  it('matches the reference encoder for arbitrary APDUs (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (apdu) => {
        expect([...encodeZvtFrame(apdu)]).toEqual(refZvtFrame([...apdu]));
      }),
    );
  });
});

describe('ZvtFrameDecoder', () => {
  it('decodes every vector identically however it is split, byte by byte, and behind leading garbage', () => {
    for (const apdu of VECTORS) {
      const frame = encodeZvtFrame(apdu);
      const expected: ZvtDecoded[] = [{ kind: 'frame', apdu }];
      for (const input of [frame, Buffer.concat([GARBAGE, frame])]) {
        for (const chunks of allChunkings(input)) {
          expect(feed(new ZvtFrameDecoder(), chunks)).toEqual(expected);
        }
      }
    }
  });

  it('decodes back-to-back frames with ACK/NAK between them, split at every offset', () => {
    const stream = Buffer.concat([
      encodeZvtFrame(REGISTRATION),
      Buffer.of(0x06),
      encodeZvtFrame(DLE_HEAVY),
      Buffer.of(0x15),
    ]);
    const expected: ZvtDecoded[] = [
      { kind: 'frame', apdu: REGISTRATION },
      { kind: 'ack' },
      { kind: 'frame', apdu: DLE_HEAVY },
      { kind: 'nak' },
    ];
    for (const chunks of allChunkings(stream)) expect(feed(new ZvtFrameDecoder(), chunks)).toEqual(expected);
  });

  it('reports a CRC mismatch and decodes the next frame', () => {
    const bad = encodeZvtFrame(REGISTRATION);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x01;
    const out = new ZvtFrameDecoder().push(Buffer.concat([bad, encodeZvtFrame(DLE_HEAVY)]));
    expect(out).toMatchObject([
      { kind: 'error', code: 'crc_mismatch' },
      { kind: 'frame', apdu: DLE_HEAVY },
    ]);
  });

  it('reports bad stuffing, skips the rest of the broken frame (ACK-looking bytes included) and resyncs', () => {
    // DLE followed by 0x41 inside a frame, then bytes that include 0x06, then the frame's DLE ETX and CRC.
    const broken = hex('10 02 06 00 10 41 06 15 10 03 aa bb');
    const out = new ZvtFrameDecoder().push(Buffer.concat([broken, encodeZvtFrame(REGISTRATION)]));
    expect(out).toMatchObject([
      { kind: 'error', code: 'bad_stuffing' },
      { kind: 'frame', apdu: REGISTRATION },
    ]);
  });

  it('treats DLE STX inside a frame as a restart', () => {
    const truncated = hex('10 02 06 00 06 12');
    const out = new ZvtFrameDecoder().push(Buffer.concat([truncated, encodeZvtFrame(REGISTRATION)]));
    expect(out).toMatchObject([
      { kind: 'error', code: 'bad_stuffing' },
      { kind: 'frame', apdu: REGISTRATION },
    ]);
  });

  it('caps the APDU length: overlong frames are reported and skipped, memory stays bounded', () => {
    const d = new ZvtFrameDecoder({ maxApdu: 8 });
    const out = d.push(Buffer.concat([encodeZvtFrame(Buffer.alloc(9, 0x41)), encodeZvtFrame(REGISTRATION)]));
    // REGISTRATION is 9 bytes: overlong as well.
    expect(out).toMatchObject([
      { kind: 'error', code: 'overlong' },
      { kind: 'error', code: 'overlong' },
    ]);
    const out2 = new ZvtFrameDecoder({ maxApdu: 9 }).push(
      Buffer.concat([encodeZvtFrame(Buffer.alloc(10, 0x10)), encodeZvtFrame(REGISTRATION)]),
    );
    expect(out2).toMatchObject([{ kind: 'error', code: 'overlong' }, { kind: 'frame' }]);
    // The default accepts the largest ZVT APDU.
    const big = Buffer.alloc(ZVT_MAX_APDU, 0x10);
    expect(new ZvtFrameDecoder().push(encodeZvtFrame(big))).toEqual([{ kind: 'frame', apdu: big }]);
  });

  it('reset() drops a partial frame', () => {
    const d = new ZvtFrameDecoder();
    const f = encodeZvtFrame(REGISTRATION);
    d.push(f.subarray(0, 5));
    expect(d.inFrame).toBe(true);
    d.reset();
    expect(d.inFrame).toBe(false);
    expect(d.push(f.subarray(5))).toEqual([]);
    expect(d.push(f)).toEqual([{ kind: 'frame', apdu: REGISTRATION }]);
  });

  it('round-trips arbitrary APDUs through random chunkings, behind arbitrary ACK/NAK-free garbage (property)', () => {
    // Garbage without ACK/NAK and without DLE STX (which would open a frame that swallows the next bytes).
    const garbageArb = fc
      .uint8Array({ maxLength: 40 })
      .map((g) =>
        g.filter((b) => b !== 0x06 && b !== 0x15).map((b, i, a) => (b === 0x02 && a[i - 1] === 0x10 ? 0 : b)),
      );
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 120 }), { minLength: 1, maxLength: 4 }),
        garbageArb,
        cutsArb(800),
        (apdus, garbage, cuts) => {
          const stream = Buffer.concat([garbage, ...apdus.map((a) => encodeZvtFrame(a))]);
          const out = feed(new ZvtFrameDecoder(), splitAt(stream, cuts));
          expect(out).toEqual(apdus.map((a) => ({ kind: 'frame', apdu: Buffer.from(a) })));
        },
      ),
    );
  });

  it('never throws on byte soup, emits at most one item per byte and keeps memory bounded (property)', () => {
    const soup = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 30 }),
        fc.constantFrom(hex('10 02'), hex('10 03'), hex('10 10'), hex('06'), hex('15'), hex('10')),
      ),
      { maxLength: 40 },
    );
    fc.assert(
      fc.property(soup, cutsArb(400), (parts, cuts) => {
        const bytes = Buffer.concat(parts);
        const d = new ZvtFrameDecoder({ maxApdu: 64 });
        const out = feed(d, splitAt(bytes, cuts));
        expect(out.length).toBeLessThanOrEqual(bytes.length);
        for (const item of out) if (item.kind === 'frame') expect(item.apdu.length).toBeLessThanOrEqual(64);
      }),
    );
  });

  it('does linear work: 4 MB of adversarial input decodes quickly', () => {
    const patterns = [hex('10 02'), hex('10'), encodeZvtFrame(Buffer.alloc(1000, 0x10)).subarray(0, 1500)];
    const d = new ZvtFrameDecoder({ maxApdu: 1024 });
    const t0 = performance.now();
    for (const p of patterns) {
      const chunk = Buffer.alloc(1 << 20);
      for (let i = 0; i < chunk.length; i++) chunk[i] = p[i % p.length]!;
      d.push(chunk);
      d.push(chunk.subarray(0, 1 << 19));
      d.push(chunk.subarray(1 << 19));
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('never returns a frame with any single byte corrupted (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        cutsArb(120),
        (apdu, pos, flip, cuts) => {
          const frame = encodeZvtFrame(apdu);
          const p = pos % frame.length;
          frame[p] = frame[p]! ^ flip;
          const out = feed(new ZvtFrameDecoder(), splitAt(frame, cuts));
          // The frame is broken: it must not come out as a frame (it is an error, or swallowed as garbage).
          expect(frames(out)).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reports corrupted frames of the vectors, at every position and every bit, as non-frames', () => {
    for (const apdu of [REGISTRATION, DLE_HEAVY]) {
      const good = encodeZvtFrame(apdu);
      for (let p = 0; p < good.length; p++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = Buffer.from(good);
          bad[p] = bad[p]! ^ (1 << bit);
          expect(frames(new ZvtFrameDecoder().push(bad))).toEqual([]);
        }
      }
    }
  });
});
