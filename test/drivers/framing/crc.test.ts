import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16Zvt, lrc, zvtFrameCrc } from '../../../drivers/framing/crc.ts';
import { refCrc16 } from './helpers.ts';

describe('ZVT CRC-16 (poly 0x8408 reflected, init 0)', () => {
  it('matches the catalogue check value of these parameters (CRC-16/KERMIT over "123456789" = 0x2189)', () => {
    expect(crc16Zvt(Buffer.from('123456789', 'ascii'))).toBe(0x2189);
    expect(refCrc16([...Buffer.from('123456789', 'ascii')])).toBe(0x2189); // the reference agrees too
  });

  it('gives known answers computed by hand-checkable cases', () => {
    expect(crc16Zvt(Buffer.alloc(0))).toBe(0x0000);
    // One byte 0x03 (ETX alone): worked bit by bit with the reference.
    expect(crc16Zvt(Buffer.of(0x03))).toBe(refCrc16([0x03]));
    // A single 0x80 byte: only the last shift sees a 1 bit, so the result is the polynomial itself.
    expect(crc16Zvt(Buffer.of(0x80))).toBe(0x8408);
    // A single 0x01 byte: the 1 bit is fed first and then shifted 7 more times through the register.
    expect(crc16Zvt(Buffer.of(0x01))).toBe(refCrc16([0x01]));
    expect(crc16Zvt(Buffer.of(0x01))).toBe(0x1189);
  });

  it('frame CRC is the CRC over APDU followed by ETX', () => {
    const apdu = Buffer.from('060006123456ba0978', 'hex');
    expect(zvtFrameCrc(apdu)).toBe(refCrc16([...apdu, 0x03]));
  });

  it('equals the naive bitwise reference for arbitrary data, also when continued piecewise (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (data, cut) => {
        const c = cut % (data.length + 1);
        const whole = crc16Zvt(data);
        expect(whole).toBe(refCrc16([...data]));
        expect(crc16Zvt(data.subarray(c), crc16Zvt(data.subarray(0, c)))).toBe(whole);
      }),
    );
  });
});

describe('LRC', () => {
  it('is the XOR of the bytes', () => {
    expect(lrc(Buffer.alloc(0))).toBe(0);
    expect(lrc(Buffer.of(0x31, 0x32, 0x33, 0x03))).toBe(0x31 ^ 0x32 ^ 0x33 ^ 0x03);
    expect(lrc(Buffer.from('5.', 'ascii'))).toBe(0x35 ^ 0x2e);
    expect(lrc(Buffer.of(0xff), 0x0f)).toBe(0xf0);
  });
});
