import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError, cryptoSelfTest, desEncrypt } from '../../../contract/crypto/primitives.ts';
import {
  TDES_PIN_VARIANT,
  decryptPinTdes,
  decryptPinTdesDukpt,
  deriveTdesIpek,
  deriveTdesPinKey,
  deriveTdesPinKeyFromIpek,
  deriveTdesTransactionKey,
  encryptPinTdes,
  encryptPinTdesDukpt,
  isValidTdesCounter,
  tdesKsnCounter,
  tdesKsnWithCounter,
} from '../../../contract/crypto/tdes-dukpt.ts';

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

// ANSI X9.24-1:2009 Annex A test key and initial KSN (DESIGN.md "Test vectors").
const BDK = h('0123456789ABCDEFFEDCBA9876543210');
const KSN0 = h('FFFF9876543210E00000');
const IPEK = '6AC292FAA1315B4D858AB3A3D7D5933A';
const PIN = '1234';
const PAN = '4012345678909';

// X9.24-1 Annex A.4.2 current (transaction) keys, from moov-io/dukpt lib/des/des_test.go (InitialSequence).
const CURRENT_KEYS: [string, string][] = [
  ['FFFF9876543210E00001', '042666B49184CFA368DE9628D0397BC9'],
  ['FFFF9876543210E00002', 'C46551CEF9FD24B0AA9AD834130D3BC7'],
  ['FFFF9876543210E00003', '0DF3D9422ACA56E547676D07AD6BADFA'],
  ['FFFF9876543210E00004', '279C0F6AEED0BE652B2C733E1383AE91'],
  ['FFFF9876543210E00005', '5F8DC6D2C845C125508DDC048093B83F'],
];

// X9.24-1 Annex A PIN encryption keys (current key ^ PIN variant) and encrypted PIN blocks for PIN 1234,
// PAN 4012345678909, from marianovolker/jmps-public
// C++/Spotcheck/SpotCheckTrunk/Uploader/GVRlib/dukpt2.py (dukpt2000_verify_table: SMIDR, PIN_KEY, EPB).
const ANNEX_A: [string, string, string][] = [
  ['FFFF9876543210E00001', '042666B49184CF5C68DE9628D0397B36', '1B9C1845EB993A7A'],
  ['FFFF9876543210E00002', 'C46551CEF9FD244FAA9AD834130D3B38', '10A01C8D02C69107'],
  ['FFFF9876543210E00003', '0DF3D9422ACA561A47676D07AD6BAD05', '18DC07B94797B466'],
  ['FFFF9876543210E00004', '279C0F6AEED0BE9A2B2C733E1383AE6E', '0BC79509D5645DF7'],
  ['FFFF9876543210E00005', '5F8DC6D2C845C1DA508DDC048093B8C0', '5BC0AF22AD87B327'],
  ['FFFF9876543210E00006', '5E415CB0BAF9F0C3D0C14B63FB62FFBC', 'A16DF70AE36158D8'],
  ['FFFF9876543210E00007', '0C8F780B7C8B492FAE84A9EB2A6CE69F', '27711C16CB257F8E'],
  ['FFFF9876543210E00008', '27F66D5244FF621EAA6F6120EDEB427F', '50E55547A5027551'],
  ['FFFF9876543210E00009', '27E31064FDC565968900E2057F658E81', '536CF7F678ACFC8D'],
  ['FFFF9876543210E0000A', '6CF2500A22507C83C776CEADC1E330EB', 'EDABBA23221833FE'],
  ['FFFF9876543210E0000B', '3E8260BA04B2D6DFC01482B3819A1848', '2328981C57B4BDBA'],
  ['FFFF9876543210E0000C', 'B716E1E11CF53D7F726CAEE75C3A62B0', '038D03CC926CF286'],
  ['FFFF9876543210E0000D', 'E072EDF9534053A0B6C581C58FBF25CC', '6C8AA97088B62C68'],
  ['FFFF9876543210E0000E', 'A80046087F5B8FDB5AAD95E1842908B0', 'F17C9E1D72CD4950'],
  ['FFFF9876543210E0000F', '93DD5B956C4878B82E453AAEFD32A555', 'B170F6E7F7F2F64A'],
  ['FFFF9876543210E00010', '59598DCBD9BD943F94165CE453585FA8', 'D5D9638559EF53D6'],
  ['FFFF9876543210E00011', '2B5F01F4F0CC0515639D523231BF1B5D', 'D544F8CDD292C863'],
  ['FFFF9876543210E00012', '9CF640F279C2AE1915F725EEEAC2CB50', '7A21BD10F36DC41D'],
  ['FFFF9876543210E00013', 'C3DF489FDF11534BF03DE97C27DC4CD0', '78649BD17D0DFA60'],
  ['FFFF9876543210E00014', '658488507721B30E4737FA93F923CB2D', '7E7E16EA0C31AD56'],
  ['FFFF9876543210E00015', 'E161D1956A61F62DF37AFD7F9CC36965', '72105C22EBC791E6'],
  ['FFFF9876543210E10000', '2F9A0C0B46ECCBA1F8287A7A071AF54B', '19776D96D73AF1E2'],
  ['FFFF9876543210E20000', 'DEFDE0EA1043B58D2FA013DE6C4B8F04', '83F14581B8946B2D'],
  ['FFFF9876543210E40000', '9F59E8536BDB056513C856FCCF9A0981', '96B3ADCBF9F5219C'],
  ['FFFF9876543210E80000', '87B9983D9D23047A8D199F5CA0C3DEEC', '1E0F453FD55FCE45'],
  ['FFFF9876543210EFF800', 'F9CDFEBF4F5B1D61B3EC12454527E189', '33365F5CC6F23C35'],
  ['FFFF9876543210EFF801', '5BEE92627E9782A3911BF619DF72CAC4', '3A86BF003F835C9D'],
  ['FFFF9876543210EFF802', '64CA2F8AB93F614F1620B00BF77C73FE', '3DB977D05C36DF3F'],
  ['FFFF9876543210EFF804', '35A168695B3BA8CC07E871C42021DDC8', 'BA83243305712099'],
  ['FFFF9876543210EFF808', '12C380FCB72ED33D6FC6079AF63F4778', 'B0DA04AC90A36D85'],
  ['FFFF9876543210EFF810', 'D8007C833A1E3CB6C6889B97A68C5400', '2CF02BD9C309EEDA'],
  ['FFFF9876543210EFF820', 'A9C9FF9B735FDDB6591F296B0BF0FD8F', '9D1E2F77AEEE81C6'],
  ['FFFF9876543210EFF840', '0E3E221062CB5EFCA384602783A00405', '40870B0F8BA2011C'],
  ['FFFF9876543210EFF880', 'CA8225C587124D04B87F279C0BE297D8', '22E340D6ABB40981'],
  ['FFFF9876543210EFF900', '906AAC1751D497E5144D52C76C6E1F68', '1A4C10AFBA03A430'],
  ['FFFF9876543210EFFA00', '2B9E2CE7C27503C8E10B54D2989EA650', '849763B43E5F9CFF'],
  ['FFFF9876543210EFFC00', 'F9430DF97508246EC77BE4EF4FDB9111', 'DEFC6F09F8927B71'],
  ['FFFF9876543210F00000', 'AA4D58DB653EC7B548C75F2F047DD24A', '73EC88AD0AC5830E'],
];

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    throw e;
  }
  return undefined;
}

describe('single DES and the start-up self-test', () => {
  it('passes its known-answer tests on this platform', () => {
    expect(() => cryptoSelfTest()).not.toThrow();
    expect(up(desEncrypt(h('0123456789ABCDEF'), h('4E6F772069732074')))).toBe('3FA40E8A984D4815');
  });
});

describe('TDES DUKPT (ANSI X9.24-1:2009)', () => {
  it('derives the IPEK of the Annex A test key', () => {
    expect(up(deriveTdesIpek(BDK, KSN0))).toBe(IPEK);
    // The counter bits of the KSN are ignored for the IPEK.
    expect(up(deriveTdesIpek(BDK, h('FFFF9876543210E00001')))).toBe(IPEK);
  });

  it.each(CURRENT_KEYS)('current transaction key for %s', (ksn, key) => {
    expect(up(deriveTdesTransactionKey(h(IPEK), h(ksn)))).toBe(key);
  });

  it.each(ANNEX_A)('KSN %s: PIN key %s, PIN block %s', (ksnHex, pinKey, epb) => {
    const ksn = h(ksnHex);
    expect(up(deriveTdesPinKey(BDK, ksn))).toBe(pinKey);
    expect(up(deriveTdesPinKeyFromIpek(h(IPEK), ksn))).toBe(pinKey);
    expect(up(encryptPinTdesDukpt(BDK, ksn, PIN, PAN))).toBe(epb);
    expect(decryptPinTdesDukpt(BDK, ksn, h(epb), PAN)).toBe(PIN);
  });

  it('uses the PIN variant 00000000000000FF twice', () => {
    expect(up(TDES_PIN_VARIANT)).toBe('00000000000000FF00000000000000FF');
  });

  it('reads and replaces the 21-bit counter', () => {
    expect(tdesKsnCounter(h('FFFF9876543210EFF801'))).toBe(0x0ff801);
    expect(up(tdesKsnWithCounter(KSN0, 0x0ff801))).toBe('FFFF9876543210EFF801');
    expect(up(tdesKsnWithCounter(h('FFFF9876543210FFFFFF'), 0))).toBe('FFFF9876543210E00000');
    expect(isValidTdesCounter(0x1ff800)).toBe(true); // 10 one-bits
    expect(isValidTdesCounter(0x1ffc00)).toBe(false); // 11
    expect(isValidTdesCounter(0)).toBe(false);
  });

  it('rejects bad keys, KSNs and blocks with coded errors', () => {
    expect(codeOf(() => deriveTdesIpek(h('0123'), KSN0))).toBe('key_invalid');
    expect(codeOf(() => deriveTdesIpek(BDK, h('FFFF98765432')))).toBe('ksn_invalid');
    expect(codeOf(() => tdesKsnWithCounter(KSN0, 0x200000))).toBe('ksn_invalid');
    expect(codeOf(() => decryptPinTdesDukpt(BDK, KSN0, h('00112233'), PAN))).toBe('block_invalid');
    expect(codeOf(() => encryptPinTdesDukpt(BDK, KSN0, '123', PAN))).toBe('pin_invalid');
  });

  it('round-trips random PINs and PANs under random keys and counters (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 0x1fffff }),
        fc.stringMatching(/^[0-9]{4,12}$/),
        fc.stringMatching(/^[0-9]{12,19}$/),
        (bdk, iksn, counter, pin, pan) => {
          const ksn = tdesKsnWithCounter(Buffer.concat([iksn, Buffer.alloc(2)]), counter);
          const block = encryptPinTdesDukpt(bdk, ksn, pin, pan);
          expect(block).toHaveLength(8);
          expect(decryptPinTdesDukpt(bdk, ksn, block, pan)).toBe(pin);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('refuses, never mis-reads, a block enciphered under another key (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.stringMatching(/^[0-9]{4,12}$/),
        fc.stringMatching(/^[0-9]{12,19}$/),
        (k1, k2, pin, pan) => {
          fc.pre(Buffer.compare(Buffer.from(k1), Buffer.from(k2)) !== 0);
          const block = encryptPinTdes(k1, pin, pan);
          expect(codeOf(() => decryptPinTdes(k2, block, pan))).toBe('pin_block_malformed');
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses the Annex A block under the next KSN', () => {
    expect(
      codeOf(() => decryptPinTdesDukpt(BDK, h('FFFF9876543210E00002'), h('1B9C1845EB993A7A'), PAN)),
    ).toBe('pin_block_malformed');
  });
});
