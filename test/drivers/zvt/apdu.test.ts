import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApduStreamDecoder,
  ZvtApduError,
  bcdDecode,
  bcdEncode,
  decodeApdu,
  displayTextApdu,
  encodeApdu,
  encodeBmp,
  parseBmps,
  parseCompletion,
  parsePtMessage,
  readCardApdu,
  registrationApdu,
  statusEnquiryApdu,
  abortApdu,
} from '../../../drivers/zvt/apdu.ts';
import { resultCodeText, intermediateStatusText, terminalStatusText } from '../../../drivers/zvt/codes.ts';

const hex = (b: Buffer): string => b.toString('hex');

describe('ZVT APDU', () => {
  it('encodes short APDUs with a 1-byte length', () => {
    expect(hex(encodeApdu({ cls: 0x80, instr: 0x00, data: Buffer.alloc(0) }))).toBe('800000');
    expect(hex(encodeApdu({ cls: 0x06, instr: 0x1e, data: Buffer.of(0x6c) }))).toBe('061e016c');
    expect(encodeApdu({ cls: 6, instr: 0, data: Buffer.alloc(254) })[2]).toBe(254);
  });

  it('uses 0xFF + little-endian 2-byte length from 255 bytes on', () => {
    const a = encodeApdu({ cls: 0x06, instr: 0xd3, data: Buffer.alloc(255, 1) });
    expect(hex(a.subarray(0, 5))).toBe('06d3ffff00');
    const b = encodeApdu({ cls: 0x06, instr: 0xd3, data: Buffer.alloc(0x1234, 2) });
    expect(hex(b.subarray(0, 5))).toBe('06d3ff3412');
    expect(decodeApdu(b).data.length).toBe(0x1234);
    const max = encodeApdu({ cls: 0x06, instr: 0xd3, data: Buffer.alloc(65_535) });
    expect(decodeApdu(max).data.length).toBe(65_535);
    expect(() => encodeApdu({ cls: 6, instr: 0, data: Buffer.alloc(65_536) })).toThrow(ZvtApduError);
  });

  it('round-trips any APDU (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 255 }),
        fc.uint8Array({ maxLength: 700 }),
        (cls, instr, data) => {
          const d = decodeApdu(encodeApdu({ cls, instr, data: Buffer.from(data) }));
          expect(d.cls).toBe(cls);
          expect(d.instr).toBe(instr);
          expect(d.data.equals(Buffer.from(data))).toBe(true);
        },
      ),
    );
  });

  it('reports truncated and trailing input with codes', () => {
    expect(() => decodeApdu(Buffer.of(0x06))).toThrow(expect.objectContaining({ code: 'apdu_truncated' }));
    expect(() => decodeApdu(Buffer.of(0x06, 0x00, 0x02, 0x01))).toThrow(
      expect.objectContaining({ code: 'apdu_truncated' }),
    );
    expect(() => decodeApdu(Buffer.of(0x06, 0x00, 0xff, 0x01))).toThrow(
      expect.objectContaining({ code: 'apdu_truncated' }),
    );
    expect(() => decodeApdu(Buffer.of(0x80, 0x00, 0x00, 0x00))).toThrow(
      expect.objectContaining({ code: 'apdu_trailing' }),
    );
  });

  it('arbitrary bytes never throw outside coded errors (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        for (const fn of [() => decodeApdu(bytes), () => parseBmps(bytes)]) {
          try {
            fn();
          } catch (err) {
            expect(err).toBeInstanceOf(ZvtApduError);
          }
        }
        // these never throw at all
        parseCompletion(Buffer.from(bytes));
        for (const cls of [0x04, 0x06, 0x80, 0x84]) {
          for (const instr of [0x0f, 0xff, 0x1e, 0x00])
            parsePtMessage({ cls, instr, data: Buffer.from(bytes) });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('splits a raw TCP stream into APDUs at any chunking (fast-check)', () => {
    const apdus = [
      encodeApdu({ cls: 0x80, instr: 0, data: Buffer.alloc(0) }),
      encodeApdu({ cls: 0x04, instr: 0xff, data: Buffer.of(0x0a) }),
      encodeApdu({ cls: 0x06, instr: 0xd3, data: Buffer.alloc(300, 7) }),
      encodeApdu({ cls: 0x06, instr: 0x0f, data: Buffer.alloc(0) }),
    ];
    const stream = Buffer.concat(apdus);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: stream.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const dec = new ApduStreamDecoder();
        const out: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...dec.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out.map(hex)).toEqual(apdus.map(hex));
        expect(dec.pending).toBe(0);
      }),
    );
  });

  it('BCD and BMPs', () => {
    expect(hex(bcdEncode('978', 2))).toBe('0978');
    expect(bcdDecode(Buffer.of(0x12, 0x34))).toBe('1234');
    expect(() => bcdDecode(Buffer.of(0x1a))).toThrow(expect.objectContaining({ code: 'bad_bcd' }));
    expect(hex(encodeBmp(0xf1, Buffer.from('HI')))).toBe('f1f0f24849');
    expect(hex(encodeBmp(0x3c, Buffer.from('A')))).toBe('3cf0f0f141');
    const bmps = parseBmps(
      Buffer.concat([encodeBmp(0x27, Buffer.of(0)), encodeBmp(0x22, Buffer.of(0x12, 0x3f))]),
    );
    expect(bmps.map((b) => b.id)).toEqual([0x27, 0x22]);
    expect(() => parseBmps(Buffer.of(0x55))).toThrow(expect.objectContaining({ code: 'bmp_unknown' }));
    expect(() => parseBmps(Buffer.of(0x22, 0xf0))).toThrow(
      expect.objectContaining({ code: 'bmp_truncated' }),
    );
    expect(() => parseBmps(Buffer.of(0x22, 0x01, 0x02))).toThrow(
      expect.objectContaining({ code: 'bmp_bad_length' }),
    );
  });

  it('builds the commands', () => {
    expect(hex(registrationApdu({ password: '123456', configByte: 0xba, currency: 978 }))).toBe(
      '060006123456ba0978',
    );
    expect(hex(registrationApdu({ password: '123456', serviceByte: 1 }))).toBe('060008123456ba09780301');
    expect(hex(statusEnquiryApdu('123456'))).toBe('050103123456');
    expect(hex(readCardApdu(30))).toBe('06c0011e');
    expect(hex(abortApdu())).toBe('06b000');
    expect(hex(displayTextApdu(['HI'], 5))).toBe('06e007f005f1f0f24849');
    expect(() => registrationApdu({ password: '12' })).toThrow(
      expect.objectContaining({ code: 'bad_argument' }),
    );
    expect(() => displayTextApdu([])).toThrow(expect.objectContaining({ code: 'bad_argument' }));
  });

  it('parses terminal messages; a PAN leaves only masked', () => {
    expect(parsePtMessage(decodeApdu(Buffer.of(0x80, 0, 0)))).toEqual({ kind: 'ack' });
    expect(parsePtMessage(decodeApdu(Buffer.of(0x84, 0x9c, 0)))).toEqual({ kind: 'nack', code: 0x9c });
    expect(parsePtMessage(decodeApdu(Buffer.of(0x04, 0xff, 2, 0x0a, 0x1e)))).toEqual({
      kind: 'intermediate',
      status: 0x0a,
      timeoutSec: 0x1e,
    });
    expect(parsePtMessage(decodeApdu(Buffer.of(0x06, 0x1e, 1, 0x6c)))).toEqual({
      kind: 'abort',
      resultCode: 0x6c,
    });
    const data = Buffer.concat([
      encodeBmp(0x27, Buffer.of(0)),
      encodeBmp(0x22, Buffer.from('5350290149345177', 'hex')),
      encodeBmp(0x0e, Buffer.of(0x16, 0x04)),
      encodeBmp(0x04, bcdEncode('1250', 6)),
      encodeBmp(0x23, Buffer.from('5350290149345177d1604', 'hex')),
    ]);
    const msg = parsePtMessage({ cls: 0x04, instr: 0x0f, data });
    expect(msg).toEqual({
      kind: 'status_info',
      fields: {
        bmps: [0x27, 0x22, 0x0e, 0x04, 0x23],
        resultCode: 0,
        maskedPan: '535029******5177',
        expiry: '1604',
        amount: 1250,
      },
    });
    expect(JSON.stringify(msg)).not.toContain('5350290149345177');
    // PT-masked digits ('E' nibbles) and odd-length padding
    const masked = parsePtMessage({
      cls: 4,
      instr: 0x0f,
      data: encodeBmp(0x22, Buffer.from('535029eeeeee5177', 'hex')),
    });
    expect(masked).toMatchObject({ fields: { maskedPan: '535029******5177' } });
  });

  it('parses completions', () => {
    expect(parseCompletion(Buffer.of(0x00))).toEqual({ terminalStatus: 0 });
    expect(parseCompletion(Buffer.from('f0f0f3414243dc', 'hex'))).toEqual({
      softwareVersion: 'ABC',
      terminalStatus: 0xdc,
    });
    expect(parseCompletion(Buffer.from('19002952500038490978', 'hex'))).toEqual({
      terminalStatus: 0,
      terminalId: '52500038',
      currency: 978,
    });
  });

  it('code tables give readable texts', () => {
    expect(resultCodeText(0x6c)).toMatch(/abort/);
    expect(resultCodeText(0x9c)).toBe('please wait');
    expect(resultCodeText(0x05)).toMatch(/network operator/);
    expect(resultCodeText(0x69)).toMatch(/unknown result code 0x69/);
    expect(intermediateStatusText(0x0a)).toBe('insert card');
    expect(terminalStatusText(0)).toBe('PT ready');
  });
});
