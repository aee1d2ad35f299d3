import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../../contract/crypto/primitives.ts';
import {
  decipherPinBlockFormat4,
  decodePinBlockFormat0,
  decodePinFieldFormat4,
  encipherPinBlockFormat4,
  encodePinBlockFormat0,
  encodePinFieldFormat4,
  panFieldFormat0,
  panFieldFormat4,
} from '../../../contract/crypto/pin-block.ts';
import { decryptPinTdes, encryptPinTdes } from '../../../contract/crypto/tdes-dukpt.ts';
import { decryptPinAesDukpt, aesKsn } from '../../../contract/crypto/aes-dukpt.ts';

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

const pinArb = fc.stringMatching(/^[0-9]{4,12}$/);
const panArb = fc.stringMatching(/^[0-9]{12,19}$/);
const aesKeyArb = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
);

function caught(f: () => unknown): CryptoError | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CryptoError) return e;
    throw e;
  }
  return undefined;
}

describe('ISO 9564-1 format 0', () => {
  it('matches the X9.24-1 Annex A clear PIN block', () => {
    // PIN 1234, PAN 4012345678909 -> 041274EDCBA9876F, from marianovolker/jmps-public
    // C++/Spotcheck/SpotCheckTrunk/Uploader/GVRlib/dukpt2.py (`pinblock` of the Annex A test).
    expect(up(panFieldFormat0('4012345678909'))).toBe('0000401234567890');
    expect(up(encodePinBlockFormat0('1234', '4012345678909'))).toBe('041274EDCBA9876F');
    expect(decodePinBlockFormat0(h('041274EDCBA9876F'), '4012345678909')).toBe('1234');
  });

  it('takes the 12 rightmost digits before the check digit, zero-padding a 12-digit PAN', () => {
    expect(up(panFieldFormat0('5350290149345177'))).toBe('0000029014934517');
    expect(up(panFieldFormat0('123456789012'))).toBe('0000012345678901');
    expect(up(encodePinBlockFormat0('123456789012', '0000000000000'))).toBe('0C123456789012FF');
  });

  it('round-trips random PINs and PANs (property)', () => {
    fc.assert(
      fc.property(
        pinArb,
        panArb,
        (pin, pan) => decodePinBlockFormat0(encodePinBlockFormat0(pin, pan), pan) === pin,
      ),
    );
  });

  it('refuses blocks whose structure is wrong', () => {
    const pan = '4012345678909';
    const pf = panFieldFormat0(pan);
    const withField = (f: string): Buffer => Buffer.from(h(f).map((b, i) => b ^ (pf[i] ?? 0)));
    for (const bad of [
      '141234FFFFFFFFFF', // control nibble 1
      '031234FFFFFFFFFF', // length 3
      '0D1234567890123F', // length 13
      '04123AFFFFFFFFFF', // non-digit
      '041234FFFFFFFFFE', // bad fill
      '0412345FFFFFFFFF', // digit in the fill
    ]) {
      expect(caught(() => decodePinBlockFormat0(withField(bad), pan))?.code).toBe('pin_block_malformed');
    }
  });
});

describe('ISO 9564-1 format 4', () => {
  it('builds the PIN and PAN fields of the X9.24-3 supplement example', () => {
    // openemv/pinblock test/pinblock_format4_test.c: PIN 1234 -> 441234AAAAAAAAAA..., PAN 4111111111111111
    // -> 44111111111111111000..., 15-digit PAN -> 3411111111111111 1 00...
    const field = encodePinFieldFormat4('1234', h('548ED7FD65495950'));
    expect(up(field)).toBe('441234AAAAAAAAAA548ED7FD65495950'); // knovichikhin/psec psec/pinblock.py doctest
    expect(up(encodePinFieldFormat4('12345', h('0000000000000000'))).slice(0, 16)).toBe('4512345AAAAAAAAA');
    expect(up(panFieldFormat4('4111111111111111'))).toBe('44111111111111111000000000000000');
    expect(up(panFieldFormat4('411111111111111'))).toBe('34111111111111110000000000000000');
    expect(decodePinFieldFormat4(field)).toBe('1234');
  });

  it('matches the published enciphered blocks', () => {
    const key = h('00112233445566778899AABBCCDDEEFF');
    // knovichikhin/psec tests/test_pinblock.py (test_encipher_pinblock_iso_4_det) and 5n00py/paysec
    // crates/paysec-pinblock/src/iso_9564/tests/test_format_4.rs: random fill all FF.
    expect(up(encipherPinBlockFormat4(key, '1234', '1234567890123456789', h('FFFFFFFFFFFFFFFF')))).toBe(
      '28B41FDDD29B743E93124BD8E32D921E',
    );
    // 5n00py/paysec test_format_4.rs (test_decipher_pinblock_iso_4_various).
    expect(decipherPinBlockFormat4(key, h('28B41FDDD29B743E93124BD8E32D921E'), '1234567890123456789')).toBe(
      '1234',
    );
    expect(decipherPinBlockFormat4(key, h('52DB178C6EDCE52E3A70F7FBC8E9C758'), '1234567890123456')).toBe(
      '1234',
    );
    expect(decipherPinBlockFormat4(key, h('847A0209C659E4C4A79CA6A2A2217D31'), '123456789012345678')).toBe(
      '123456',
    );
    expect(decipherPinBlockFormat4(key, h('018BFEC8B5EF60181A327AD8325A2BA4'), '1234567890123456789')).toBe(
      '12345678',
    );
  });

  it('draws a fresh random fill each time', () => {
    const key = h('00112233445566778899AABBCCDDEEFF');
    const a = encipherPinBlockFormat4(key, '1234', '4111111111111111');
    const b = encipherPinBlockFormat4(key, '1234', '4111111111111111');
    expect(up(a)).not.toBe(up(b));
  });

  it('round-trips random PINs and PANs under AES-128 and AES-256 keys (property)', () => {
    fc.assert(
      fc.property(aesKeyArb, pinArb, panArb, (key, pin, pan) => {
        const block = encipherPinBlockFormat4(key, pin, pan);
        return block.length === 16 && decipherPinBlockFormat4(key, block, pan) === pin;
      }),
    );
  });

  it('refuses the wrong PAN', () => {
    const key = h('00112233445566778899AABBCCDDEEFF');
    const block = h('28B41FDDD29B743E93124BD8E32D921E');
    expect(caught(() => decipherPinBlockFormat4(key, block, '1234567890123456780'))?.code).toBe(
      'pin_block_malformed',
    );
  });
});

describe('wrong keys', () => {
  it('format 4 under another AES key fails with a coded error, never a PIN (property)', () => {
    fc.assert(
      fc.property(aesKeyArb, aesKeyArb, pinArb, panArb, (k1, k2, pin, pan) => {
        fc.pre(Buffer.compare(Buffer.from(k1), Buffer.from(k2)) !== 0);
        const block = encipherPinBlockFormat4(k1, pin, pan);
        expect(caught(() => decipherPinBlockFormat4(k2, block, pan))?.code).toBe('pin_block_malformed');
      }),
      { numRuns: 200 },
    );
  });

  it('format 0 under another TDES key fails the PIN-field structure check (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        pinArb,
        panArb,
        (k1, k2, pin, pan) => {
          fc.pre(Buffer.compare(Buffer.from(k1), Buffer.from(k2)) !== 0);
          const block = encryptPinTdes(k1, pin, pan);
          expect(caught(() => decryptPinTdes(k2, block, pan))?.code).toBe('pin_block_malformed');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('validation and secrecy of errors', () => {
  it('rejects PINs that are not 4 to 12 digits and PANs that are not 12 to 19 digits', () => {
    for (const pin of ['', '123', '1234567890123', '12a4', ' 1234', '１２３４', '1234\n']) {
      expect(caught(() => encodePinBlockFormat0(pin, '4012345678909'))?.code).toBe('pin_invalid');
      expect(caught(() => encodePinFieldFormat4(pin))?.code).toBe('pin_invalid');
    }
    for (const pan of ['', '40123456789', '40123456789012345678', '4012-3456-7890-9']) {
      expect(caught(() => encodePinBlockFormat0('1234', pan))?.code).toBe('pan_invalid');
      expect(caught(() => panFieldFormat4(pan))?.code).toBe('pan_invalid');
    }
    expect(caught(() => encodePinBlockFormat0(1234 as unknown as string, '4012345678909'))?.code).toBe(
      'pin_invalid',
    );
    expect(caught(() => encodePinFieldFormat4('1234', h('00')))?.code).toBe('random_invalid');
    expect(caught(() => encipherPinBlockFormat4(h('0011'), '1234', '4012345678909'))?.code).toBe(
      'key_invalid',
    );
    expect(
      caught(() => decipherPinBlockFormat4(h('00112233445566778899AABBCCDDEEFF'), h('00'), '4012345678909'))
        ?.code,
    ).toBe('block_invalid');
    expect(caught(() => decodePinBlockFormat0(h('0011223344556677AA'), '4012345678909'))?.code).toBe(
      'block_invalid',
    );
  });

  it('never puts the PIN or the PAN in an error message (property scan)', () => {
    fc.assert(
      fc.property(pinArb, panArb, aesKeyArb, aesKeyArb, (pin, pan, k1, k2) => {
        const bdk = Buffer.from(k1.subarray(0, 16));
        const errors = [
          caught(() => encodePinBlockFormat0(pin + pin + pin, pan)), // PIN too long
          caught(() => encodePinFieldFormat4(pin + 'x')),
          caught(() => encodePinBlockFormat0(pin, pan + pan)), // PAN too long
          caught(() => encodePinBlockFormat0(pin, pan.slice(0, 11))),
          caught(() => panFieldFormat4(pan + 'a')),
          caught(() => decodePinBlockFormat0(encodePinBlockFormat0(pin, pan).subarray(0, 7), pan)),
          caught(() => encipherPinBlockFormat4(h('0011'), pin, pan)),
          caught(() => decipherPinBlockFormat4(k2, encipherPinBlockFormat4(k1, pin, pan), pan)),
          caught(() => decryptPinTdes(bdk, encryptPinTdes(Buffer.from(k2.subarray(0, 16)), pin, pan), pan)),
          caught(() => decryptPinAesDukpt(bdk, aesKsn(Buffer.alloc(8), 0), Buffer.alloc(16), pan)),
          caught(() => decryptPinAesDukpt(bdk, aesKsn(Buffer.alloc(8), 1), Buffer.alloc(15), pan)),
        ];
        for (const e of errors) {
          if (e === undefined) continue; // a wrong-key decode that happens to be well-formed is not an error
          const text = `${e.name} ${e.code} ${e.message} ${JSON.stringify(e)} ${String(e)}`;
          expect(text.includes(pin)).toBe(false);
          expect(text.includes(pan)).toBe(false);
        }
        // Every deliberate misuse above is refused.
        expect(errors.filter((e) => e === undefined).length).toBeLessThanOrEqual(2);
      }),
    );
  });
});
