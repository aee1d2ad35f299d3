import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  StxEtxDecoder,
  encodeStxEtx,
  stxEtxLrc,
  type StxEtxDecoded,
} from '../../../drivers/framing/stx-etx.ts';
import { allChunkings, cutsArb, feed, splitAt } from './helpers.ts';

const ascii = (s: string) => Buffer.from(s, 'latin1');
// PIN pad style packets: a display prompt, a short command, and one holding DLE (0x10) and ACK/NAK/EOT bytes.
const VECTORS: Buffer[] = [
  ascii('Z2\x1aENTER PIN'),
  ascii('72'),
  Buffer.of(0x10, 0x06, 0x15, 0x04, 0x7f),
  Buffer.alloc(0),
];
// Garbage with no STX and no ACK/NAK/EOT, ending just before the packet.
const GARBAGE = Buffer.of(0x00, 0xff, 0x03, 0x41, 0x10, 0x03);

const frames = (items: StxEtxDecoded[]) => items.filter((i) => i.kind === 'frame');
/** Packet data as the protocol allows it: no STX or ETX. */
const dataArb = (max: number) =>
  fc.uint8Array({ maxLength: max }).map((d) => d.map((b) => (b === 0x02 || b === 0x03 ? 0x20 : b)));

describe('encodeStxEtx', () => {
  it('builds STX | data | ETX | LRC with the LRC over data and ETX (worked by hand)', () => {
    // '1' ^ '2' ^ ETX = 0x31 ^ 0x32 ^ 0x03 = 0x00
    expect([...encodeStxEtx(ascii('12'))]).toEqual([0x02, 0x31, 0x32, 0x03, 0x00]);
    // '7' ^ '2' ^ ETX = 0x37 ^ 0x32 ^ 0x03 = 0x06 (an LRC may equal ACK: it is still the LRC)
    expect([...encodeStxEtx(ascii('72'))]).toEqual([0x02, 0x37, 0x32, 0x03, 0x06]);
    expect([...encodeStxEtx(Buffer.alloc(0))]).toEqual([0x02, 0x03, 0x03]);
    expect(stxEtxLrc(ascii('Z'))).toBe(0x5a ^ 0x03);
  });

  it('refuses data that contains STX or ETX', () => {
    expect(() => encodeStxEtx(Buffer.of(0x41, 0x03))).toThrow(RangeError);
    expect(() => encodeStxEtx(Buffer.of(0x02))).toThrow(RangeError);
  });
});

describe('StxEtxDecoder', () => {
  it('decodes every vector identically however it is split, byte by byte, and behind leading garbage', () => {
    for (const data of VECTORS) {
      const packet = encodeStxEtx(data);
      for (const input of [packet, Buffer.concat([GARBAGE, packet])]) {
        for (const chunks of allChunkings(input)) {
          expect(feed(new StxEtxDecoder(), chunks)).toEqual([{ kind: 'frame', data }]);
        }
      }
    }
  });

  it('recognises ACK, NAK and EOT between packets, at every split', () => {
    const stream = Buffer.concat([Buffer.of(0x06), encodeStxEtx(ascii('72')), Buffer.of(0x15, 0x04)]);
    for (const chunks of allChunkings(stream)) {
      expect(feed(new StxEtxDecoder(), chunks)).toEqual([
        { kind: 'ack' },
        { kind: 'frame', data: ascii('72') },
        { kind: 'nak' },
        { kind: 'eot' },
      ]);
    }
  });

  it('reports an LRC mismatch, then decodes the next packet', () => {
    const bad = encodeStxEtx(ascii('Z2HELLO'));
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x40;
    expect(new StxEtxDecoder().push(Buffer.concat([bad, encodeStxEtx(ascii('72'))]))).toMatchObject([
      { kind: 'error', code: 'lrc_mismatch' },
      { kind: 'frame', data: ascii('72') },
    ]);
  });

  it('restarts on STX inside a packet', () => {
    const out = new StxEtxDecoder().push(Buffer.concat([ascii('\x02Z2HEL'), encodeStxEtx(ascii('72'))]));
    expect(out).toMatchObject([
      { kind: 'error', code: 'unterminated' },
      { kind: 'frame', data: ascii('72') },
    ]);
  });

  it('caps the packet length and skips the rest of an overlong packet (ACK-looking bytes included)', () => {
    const d = new StxEtxDecoder({ maxData: 4 });
    const out = d.push(Buffer.concat([ascii('\x02ABCDE\x06\x15\x03L'), encodeStxEtx(ascii('72'))]));
    expect(out).toMatchObject([
      { kind: 'error', code: 'overlong' },
      { kind: 'frame', data: ascii('72') },
    ]);
  });

  it('round-trips arbitrary packets through random chunkings behind STX/ACK/NAK/EOT-free garbage (property)', () => {
    const garbageArb = fc
      .uint8Array({ maxLength: 40 })
      .map((g) => g.filter((b) => ![0x02, 0x04, 0x06, 0x15].includes(b)));
    fc.assert(
      fc.property(
        fc.array(dataArb(120), { minLength: 1, maxLength: 4 }),
        garbageArb,
        cutsArb(600),
        (datas, garbage, cuts) => {
          const stream = Buffer.concat([garbage, ...datas.map((d) => encodeStxEtx(d))]);
          expect(feed(new StxEtxDecoder(), splitAt(stream, cuts))).toEqual(
            datas.map((d) => ({ kind: 'frame', data: Buffer.from(d) })),
          );
        },
      ),
    );
  });

  it('never throws on byte soup, emits at most one item per byte, keeps packets within the cap (property)', () => {
    const soup = fc.array(
      fc.oneof(
        fc.uint8Array({ maxLength: 30 }),
        fc.constantFrom(...[0x02, 0x03, 0x04, 0x06, 0x15].map((b) => Buffer.of(b))),
      ),
      { maxLength: 60 },
    );
    fc.assert(
      fc.property(soup, cutsArb(400), (parts, cuts) => {
        const bytes = Buffer.concat(parts);
        const out = feed(new StxEtxDecoder({ maxData: 32 }), splitAt(bytes, cuts));
        expect(out.length).toBeLessThanOrEqual(bytes.length);
        for (const item of out) if (item.kind === 'frame') expect(item.data.length).toBeLessThanOrEqual(32);
      }),
    );
  });

  it('does linear work: 3 MB of adversarial input decodes quickly', () => {
    const d = new StxEtxDecoder({ maxData: 1024 });
    const t0 = performance.now();
    for (const p of [Buffer.of(0x02), Buffer.of(0x02, 0x41, 0x03), ascii('\x02' + 'A'.repeat(5000))]) {
      const chunk = Buffer.alloc(1 << 20);
      for (let i = 0; i < chunk.length; i++) chunk[i] = p[i % p.length]!;
      d.push(chunk);
    }
    expect(performance.now() - t0).toBeLessThan(5_000);
  });

  it('never returns a packet with a single corrupted byte, unless it forges an ETX or STX (property)', () => {
    fc.assert(
      fc.property(
        dataArb(100),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        cutsArb(110),
        (data, pos, flip, cuts) => {
          const packet = encodeStxEtx(data);
          const p = pos % packet.length;
          const corrupted = packet[p]! ^ flip;
          // Documented limit of unescaped LRC framing (stx-etx.ts): a data byte turned into ETX ends the packet
          // early and the next byte is read as its LRC; one turned into STX restarts the packet and the original
          // LRC is checked against the suffix. Either passes about 1 time in 256; covered separately below.
          fc.pre(!(p >= 1 && p <= data.length && (corrupted === 0x03 || corrupted === 0x02)));
          packet[p] = corrupted;
          expect(frames(feed(new StxEtxDecoder(), splitAt(packet, cuts)))).toEqual([]);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('documents the forged-ETX limit: the truncated packet passes only when the next byte equals its LRC', () => {
    // data 'AB' + 'C' where 'B' is corrupted into ETX: packet reads STX 'A' ETX, LRC byte = 'C'.
    const truncatedLrc = 0x41 ^ 0x03; // 0x42 = 'B'
    const passes = encodeStxEtx(ascii('AXB'));
    passes[2] = 0x03; // STX 'A' ETX 'B' ... -> the 'B' is read as LRC and matches
    expect(passes[3]).toBe(truncatedLrc);
    expect(frames(new StxEtxDecoder().push(passes))).toEqual([{ kind: 'frame', data: ascii('A') }]);
    const caught = encodeStxEtx(ascii('AXC'));
    caught[2] = 0x03;
    expect(frames(new StxEtxDecoder().push(caught))).toEqual([]);
  });

  it('documents the forged-STX limit: the suffix passes only when the XOR of the lost prefix is zero', () => {
    const passes = encodeStxEtx(Buffer.of(0x00, 0x41, 0x42)); // first data byte 0x00: XOR of the prefix is 0
    passes[1] = 0x02;
    expect(new StxEtxDecoder().push(passes)).toMatchObject([
      { kind: 'error', code: 'unterminated' },
      { kind: 'frame', data: ascii('AB') },
    ]);
    const caught = encodeStxEtx(ascii('ZAB'));
    caught[1] = 0x02;
    expect(frames(new StxEtxDecoder().push(caught))).toEqual([]);
  });
});
