import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../../../contract/crypto/primitives.ts';
import {
  AesKeyUsage,
  aesKsn,
  aesKsnCounter,
  decryptPinAesDukpt,
  deriveAesDerivationKey,
  deriveAesInitialKey,
  deriveAesPinKey,
  deriveAesPinKeyFromInitialKey,
  deriveAesWorkingKey,
  encryptPinAesDukpt,
  isValidAesCounter,
} from '../../../contract/crypto/aes-dukpt.ts';
import { decipherPinBlockFormat4 } from '../../../contract/crypto/pin-block.ts';

const h = (s: string): Buffer => Buffer.from(s, 'hex');
const up = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

// ANSI X9.24-3:2017 B.1 / supplement test vectors, AES-128 BDK -> AES-128 keys.
const BDK = h('FEDCBA9876543210F1F1F1F1F1F1F1F1');
const IKID = h('1234567890123456');
const IK = '1273671EA26AC29AFA4D1084127652A1';

// Transaction (derivation) keys, from openemv/dukpt test/dukpt_aes128_test.c (supplement pages 2, 5, 6;
// also moov-io/dukpt pkg/aes/aes_test.go for counters 1..8).
const DERIVATION_KEYS: [number, string][] = [
  [0x00000001, '4F21B565BAD9835E112B6465635EAE44'],
  [0x00000002, '2F34D68DE10F68D38091A73B9E7C437C'],
  [0x00000003, '031504E530365CF81264238540518318'],
  [0x00000004, '0EEFC7ADA628BA68878DA9165A8A1887'],
  [0x00000005, 'C2A7AC328A5DA2D6002D62465BFC028B'],
  [0x00000006, 'D30F7D9351DA58448A2F5E92B4EE3B7D'],
  [0x00000007, 'A8253CEED9AC042C54F75D35C8352278'],
  [0x00000008, '718EE6CF0B27E53D5F7AF99C4D8146A2'],
  [0x0001fffe, 'E21E8C8D347F8561A2BE752DAA85A111'],
  [0x0001ffff, '1FE368988089CDD76DA18A3458E113BA'], // 17 one-bits: host-side derivation still defined
  [0x00020000, 'F7AE9025468A25D37B7249CFFED224C8'],
  [0x00020001, '692C8EA4013645135B36497131DF9D2C'],
  [0xfffe2000, '48E585B694EB0B18D5C35443E163C0BA'],
  [0xfffe4000, '396C2C7CA1EA701C03B86B7D41F0C562'],
  [0xfffe8000, '0387625F189B58AE03EF0E8CCA41105E'],
  [0xffff0000, 'F6BA59389BD14A9855BE9727E7C52E3C'],
];

// Working keys (PIN encryption, MAC generation, data encryption), from 5n00py/paysec
// crates/paysec-dukpt/tests/test_working_key.rs (AES_128_VECTORS, "annex B").
const WORKING_KEYS: [number, string, string, string][] = [
  [
    0x00000001,
    'AF8CB133A78F8DC2D1359F18527593FB',
    'A2DC23DE6FDE0824A2BC321E08E4B8B7',
    'A35C412EFD41FDB98B69797C02DCD08F',
  ],
  [
    0x00000002,
    'D30BDC73EC9714B000BEC66BDB7B6D09',
    '484C3B06E8562704528CD5B46FB12FB6',
    'D639514AA33AC43AD9229E433D6D4E5B',
  ],
  [
    0x00000003,
    '7D69F01F3B45449F62C7816ECE723268',
    'A5DF7D9D800CA769766F0C77CA4E6E6C',
    'EF17F6AB45B4820C93A3DCB21BC491AD',
  ],
  [
    0x00000004,
    '91A0588318EC2673214271F70137896E',
    'E6E4679647D8A9057C1FC15537CB4C4E',
    'B3BD44C08BB6BA27C3BB4711D7D70387',
  ],
  [
    0x00000005,
    '35A43BC9EFEB09C756204B57E3FB7D4D',
    '0588185FE1FF8C7E22FAD78C1C61F065',
    'CA02DF6F30B39E14BD0B4A30E460920F',
  ],
  [
    0x0001fffe,
    'DDF7E08A84B5478C498D007C743BF762',
    '6D7623AD652734B8FAE1B6E093EACE3D',
    '8E4E5D5E0F01C54F01F4ACA1C8F8EDCE',
  ],
  [
    0x0001ffff,
    '73BA667D6368A2086E72576DF41A4037',
    '8B543DCF4A31EA3AB47DAD16B8ABD404',
    'D18ACA30B4D63DB61CE474D3F57733D3',
  ],
  [
    0x00020000,
    'AB828BE7B58C7EC5D5ED0D5D320A0C9D',
    '0B59D3D7D93028D97135FB895CACE24E',
    '13361208975755318FE7AE28C9616014',
  ],
];

// Every usage for counter 1 (same file, test_all_working_key_usages_aes_128_counter_1).
const USAGES_COUNTER_1: [AesKeyUsage, string][] = [
  [AesKeyUsage.keyEncryptionKey, '36A724B7BEFA5A25F5E7B5782A4554A2'],
  [AesKeyUsage.pinEncryption, 'AF8CB133A78F8DC2D1359F18527593FB'],
  [AesKeyUsage.macGeneration, 'A2DC23DE6FDE0824A2BC321E08E4B8B7'],
  [AesKeyUsage.macVerification, 'DBB463945B286C07CD3AD82EE96FD9C9'],
  [AesKeyUsage.macBothWays, '85675439D18D7F1158BD8E3EAA3D502B'],
  [AesKeyUsage.dataEncryptionEncrypt, 'A35C412EFD41FDB98B69797C02DCD08F'],
  [AesKeyUsage.dataEncryptionDecrypt, '16292C6EA8F64C5420A0584BFBC577BE'],
  [AesKeyUsage.dataEncryptionBothWays, 'A308E080DD15A1B741F1721BF67DE11C'],
  [AesKeyUsage.keyDerivation, '30E54D3C69B22501A7FC43969D81D5C0'],
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

describe('AES DUKPT (ANSI X9.24-3-2017), AES-128', () => {
  it('derives the initial key from BDK + initial key ID', () => {
    expect(up(deriveAesInitialKey(BDK, IKID))).toBe(IK);
  });

  it.each(DERIVATION_KEYS)('derivation key for counter %i', (counter, key) => {
    expect(up(deriveAesDerivationKey(h(IK), aesKsn(IKID, counter)))).toBe(key);
  });

  it.each(WORKING_KEYS)('working keys for counter %i', (counter, pinKey, macKey, dataKey) => {
    const ksn = aesKsn(IKID, counter);
    const dk = deriveAesDerivationKey(h(IK), ksn);
    expect(up(deriveAesWorkingKey(dk, ksn, AesKeyUsage.pinEncryption))).toBe(pinKey);
    expect(up(deriveAesWorkingKey(dk, ksn, AesKeyUsage.macGeneration))).toBe(macKey);
    expect(up(deriveAesWorkingKey(dk, ksn, AesKeyUsage.dataEncryptionEncrypt))).toBe(dataKey);
    expect(up(deriveAesPinKey(BDK, ksn))).toBe(pinKey);
    expect(up(deriveAesPinKeyFromInitialKey(h(IK), ksn))).toBe(pinKey);
  });

  it.each(USAGES_COUNTER_1)('usage %i for counter 1', (usage, key) => {
    const ksn = aesKsn(IKID, 1);
    expect(up(deriveAesWorkingKey(deriveAesDerivationKey(h(IK), ksn), ksn, usage))).toBe(key);
  });

  it('builds and reads KSNs', () => {
    expect(up(aesKsn(IKID, 1))).toBe('123456789012345600000001');
    expect(aesKsnCounter(h('12345678901234560001FFFE'))).toBe(0x1fffe);
    expect(isValidAesCounter(0xffff0000)).toBe(true); // 16 one-bits
    expect(isValidAesCounter(0x1ffff)).toBe(false); // 17
    expect(isValidAesCounter(0)).toBe(false);
  });

  it('enciphers a format 4 block under the PIN key of the KSN', () => {
    const ksn = aesKsn(IKID, 1);
    const rnd = h('548ED7FD65495950');
    const block = encryptPinAesDukpt(BDK, ksn, '1234', '4111111111111111', rnd);
    expect(decipherPinBlockFormat4(h('AF8CB133A78F8DC2D1359F18527593FB'), block, '4111111111111111')).toBe(
      '1234',
    );
    expect(decryptPinAesDukpt(BDK, ksn, block, '4111111111111111')).toBe('1234');
    expect(codeOf(() => decryptPinAesDukpt(BDK, aesKsn(IKID, 2), block, '4111111111111111'))).toBe(
      'pin_block_malformed',
    );
  });

  it('rejects bad keys and KSNs with coded errors', () => {
    expect(codeOf(() => deriveAesInitialKey(h('00'), IKID))).toBe('key_invalid');
    expect(codeOf(() => deriveAesInitialKey(BDK, h('1234')))).toBe('ksn_invalid');
    expect(codeOf(() => deriveAesDerivationKey(h(IK), h('1234567890123456')))).toBe('ksn_invalid');
    expect(codeOf(() => deriveAesDerivationKey(h(IK), aesKsn(IKID, 0)))).toBe('ksn_invalid');
    expect(codeOf(() => aesKsn(IKID, 2 ** 32))).toBe('ksn_invalid');
  });

  it('round-trips random PINs and PANs under random BDKs and counters (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.stringMatching(/^[0-9]{4,12}$/),
        fc.stringMatching(/^[0-9]{12,19}$/),
        (bdk, ikid, counter, pin, pan) => {
          const ksn = aesKsn(ikid, counter);
          const block = encryptPinAesDukpt(bdk, ksn, pin, pan);
          expect(block).toHaveLength(16);
          expect(decryptPinAesDukpt(bdk, ksn, block, pan)).toBe(pin);
        },
      ),
      { numRuns: 100 },
    );
  });
});
