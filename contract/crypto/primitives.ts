// Block-cipher primitives for the PIN code: node:crypto only, ECB on whole blocks, no padding.
//
// OpenSSL 3 (Node 20) moves single DES to the legacy provider, so single DES is emulated as
// `des-ede3-ecb` with the key K|K|K (EDE with three equal keys is DES). A known-answer test runs when this
// module loads, so a platform without working DES fails at start-up, not on the first PIN entry.
import { createCipheriv, createDecipheriv } from 'node:crypto';

export type CryptoErrorCode =
  | 'pin_invalid' // PIN is not 4..12 ASCII digits
  | 'pan_invalid' // PAN is not 12..19 ASCII digits
  | 'key_invalid' // key of the wrong length or type
  | 'ksn_invalid' // KSN of the wrong length, or a counter the scheme cannot use
  | 'block_invalid' // PIN block or cipher input of the wrong length or type
  | 'random_invalid' // format 4 random fill of the wrong length
  | 'pin_block_malformed' // the deciphered block does not have the format's structure (wrong key or PAN?)
  | 'cipher_unavailable'; // the platform's crypto failed its start-up self-test

/**
 * Every rejection by `contract/crypto`. Messages are fixed texts per cause: they never contain a PIN,
 * a PAN, a key or a block, so they are safe to log.
 */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  constructor(code: CryptoErrorCode, message: string) {
    super(message);
    this.name = 'CryptoError';
    this.code = code;
  }
}

export function isBytes(x: unknown): x is Uint8Array {
  return x instanceof Uint8Array;
}

export function requireBytes(x: unknown, length: number, code: CryptoErrorCode, what: string): Uint8Array {
  if (!isBytes(x) || x.length !== length) {
    throw new CryptoError(code, `${what} must be ${length} bytes`);
  }
  return x;
}

export function xor(a: Uint8Array, b: Uint8Array): Buffer {
  if (a.length !== b.length) throw new CryptoError('block_invalid', 'xor of blocks of different lengths');
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}

function ecb(algorithm: string, key: Uint8Array, data: Uint8Array, encrypt: boolean): Buffer {
  const c = encrypt ? createCipheriv(algorithm, key, null) : createDecipheriv(algorithm, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function requireBlocks(data: unknown, blockSize: number): Uint8Array {
  if (!isBytes(data) || data.length === 0 || data.length % blockSize !== 0) {
    throw new CryptoError('block_invalid', `cipher input must be a non-empty multiple of ${blockSize} bytes`);
  }
  return data;
}

/** K1|K2|K3 from a 16-byte (two-key, K1|K2|K1) or 24-byte TDES key. */
function tdesKey(key: unknown): Buffer {
  if (isBytes(key) && key.length === 16) return Buffer.concat([key, key.subarray(0, 8)]);
  if (isBytes(key) && key.length === 24) return Buffer.from(key);
  throw new CryptoError('key_invalid', 'TDES key must be 16 or 24 bytes');
}

/** Single DES ECB encryption (key 8 bytes), as TDES EDE with K|K|K. */
export function desEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  const k = requireBytes(key, 8, 'key_invalid', 'DES key');
  return ecb('des-ede3-ecb', Buffer.concat([k, k, k]), requireBlocks(data, 8), true);
}

export function desDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  const k = requireBytes(key, 8, 'key_invalid', 'DES key');
  return ecb('des-ede3-ecb', Buffer.concat([k, k, k]), requireBlocks(data, 8), false);
}

/** TDES ECB encryption with a double-length (16-byte) or triple-length (24-byte) key. */
export function tdesEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('des-ede3-ecb', tdesKey(key), requireBlocks(data, 8), true);
}

export function tdesDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb('des-ede3-ecb', tdesKey(key), requireBlocks(data, 8), false);
}

function aesAlgorithm(key: unknown): string {
  if (isBytes(key) && key.length === 16) return 'aes-128-ecb';
  if (isBytes(key) && key.length === 32) return 'aes-256-ecb';
  throw new CryptoError('key_invalid', 'AES key must be 16 or 32 bytes');
}

/** AES ECB encryption with a 128- or 256-bit key. */
export function aesEncrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb(aesAlgorithm(key), key, requireBlocks(data, 16), true);
}

export function aesDecrypt(key: Uint8Array, data: Uint8Array): Buffer {
  return ecb(aesAlgorithm(key), key, requireBlocks(data, 16), false);
}

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/**
 * Known-answer tests of single DES (FIPS 81 / the classic "Now is t" vector), two-key TDES and AES-128
 * (FIPS 197 C.1). Throws `cipher_unavailable` if the platform cannot do them. Runs once at module load.
 */
export function cryptoSelfTest(): void {
  const checks: [string, () => Buffer, string][] = [
    ['DES', () => desEncrypt(hex('0123456789abcdef'), hex('4e6f772069732074')), '3fa40e8a984d4815'],
    [
      'TDES',
      // Two-key TDES with K1 = K2 degenerates to DES: the same answer proves the K1|K2|K1 expansion.
      () => tdesEncrypt(hex('0123456789abcdef0123456789abcdef'), hex('4e6f772069732074')),
      '3fa40e8a984d4815',
    ],
    [
      'AES-128',
      () => aesEncrypt(hex('000102030405060708090a0b0c0d0e0f'), hex('00112233445566778899aabbccddeeff')),
      '69c4e0d86a7b0430d8cdb78070b4c55a',
    ],
  ];
  for (const [name, run, expected] of checks) {
    let got = '';
    try {
      got = run().toString('hex');
    } catch {
      got = '';
    }
    if (got !== expected) {
      throw new CryptoError('cipher_unavailable', `${name} self-test failed: node:crypto cannot provide it`);
    }
  }
}

cryptoSelfTest();
