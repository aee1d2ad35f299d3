// ANSI X9.24-3-2017 AES DUKPT, host side, AES-128 BDK -> AES-128 keys: initial key from BDK + initial key
// ID, the derivation key for any transaction counter, working keys by usage (PIN encryption above all),
// and ISO 9564 format 4 PIN blocks enciphered under the PIN key.
//
// KSN: 12 bytes = 8-byte initial key ID | 32-bit transaction counter.
// Every derivation is one AES-ECB encryption of a 16-byte derivation data block under the parent key
// (for 128-bit outputs no CMAC or second block is involved):
//   01 | 01 (block counter) | key usage (2) | algorithm (2: AES-128 = 0002) | length in bits (2: 0080) |
//   initial key ID (8) for the initial key, else the ID's rightmost 4 bytes | counter (4).
import { CryptoError, aesEncrypt, isBytes, requireBytes } from './primitives.ts';
import { decipherPinBlockFormat4, encipherPinBlockFormat4 } from './pin-block.ts';

/** Key usage indicators of X9.24-3 (table 2). */
export const AesKeyUsage = {
  keyEncryptionKey: 0x0002,
  pinEncryption: 0x1000,
  macGeneration: 0x2000,
  macVerification: 0x2001,
  macBothWays: 0x2002,
  dataEncryptionEncrypt: 0x3000,
  dataEncryptionDecrypt: 0x3001,
  dataEncryptionBothWays: 0x3002,
  keyDerivation: 0x8000,
  keyDerivationInitialKey: 0x8001,
} as const;
export type AesKeyUsage = (typeof AesKeyUsage)[keyof typeof AesKeyUsage];

const ALGORITHM_AES128 = 0x0002;
const LENGTH_AES128 = 0x0080;

export const AES_KSN_LENGTH = 12;
export const AES_INITIAL_KEY_ID_LENGTH = 8;

function requireKey(key: unknown, what: string): Uint8Array {
  return requireBytes(key, 16, 'key_invalid', `${what} (AES-128)`);
}

function requireKsn(ksn: unknown): Uint8Array {
  if (!isBytes(ksn) || ksn.length !== AES_KSN_LENGTH) {
    throw new CryptoError('ksn_invalid', 'AES DUKPT KSN must be 12 bytes');
  }
  return ksn;
}

function derivationData(usage: number, tail: Uint8Array): Buffer {
  const d = Buffer.alloc(16);
  d[0] = 0x01; // version
  d[1] = 0x01; // key block counter
  d.writeUInt16BE(usage, 2);
  d.writeUInt16BE(ALGORITHM_AES128, 4);
  d.writeUInt16BE(LENGTH_AES128, 6);
  Buffer.from(tail).copy(d, 8);
  return d;
}

function counterData(initialKeyId: Uint8Array, counter: number): Buffer {
  const t = Buffer.alloc(8);
  Buffer.from(initialKeyId.subarray(4, 8)).copy(t, 0);
  t.writeUInt32BE(counter >>> 0, 4);
  return t;
}

/** A KSN from an 8-byte initial key ID and a 32-bit counter. */
export function aesKsn(initialKeyId: Uint8Array, counter: number): Buffer {
  requireBytes(initialKeyId, AES_INITIAL_KEY_ID_LENGTH, 'ksn_invalid', 'AES DUKPT initial key ID');
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) {
    throw new CryptoError('ksn_invalid', 'AES DUKPT counter must be 0 to 2^32-1');
  }
  const k = Buffer.alloc(AES_KSN_LENGTH);
  Buffer.from(initialKeyId).copy(k, 0);
  k.writeUInt32BE(counter, 8);
  return k;
}

export function aesKsnInitialKeyId(ksn: Uint8Array): Buffer {
  return Buffer.from(requireKsn(ksn).subarray(0, 8));
}

export function aesKsnCounter(ksn: Uint8Array): number {
  return Buffer.from(requireKsn(ksn)).readUInt32BE(8);
}

/**
 * True if an originating device can use this counter: not zero and at most 16 one-bits (X9.24-3).
 * The host derivation below works for any non-zero counter; PIN verification may reject the rest.
 */
export function isValidAesCounter(counter: number): boolean {
  if (!Number.isInteger(counter) || counter <= 0 || counter > 0xffffffff) return false;
  let bits = 0;
  for (let c = counter; c > 0; c = Math.floor(c / 2)) bits += c % 2;
  return bits <= 16;
}

/** Initial key: AES(BDK, derivation data with usage 8001 and the whole initial key ID). */
export function deriveAesInitialKey(bdk: Uint8Array, initialKeyId: Uint8Array): Buffer {
  const key = requireKey(bdk, 'AES DUKPT BDK');
  const id = requireBytes(initialKeyId, AES_INITIAL_KEY_ID_LENGTH, 'ksn_invalid', 'AES DUKPT initial key ID');
  return aesEncrypt(key, derivationData(AesKeyUsage.keyDerivationInitialKey, id));
}

/**
 * Derivation key for the KSN's counter, from the initial key: for each one-bit of the counter from the
 * top, set it in a working counter and derive (usage 8000) under the previous key. The X9.24-3 supplement
 * calls this the transaction (derivation) key.
 */
export function deriveAesDerivationKey(initialKey: Uint8Array, ksn: Uint8Array): Buffer {
  let key: Buffer = Buffer.from(requireKey(initialKey, 'AES DUKPT initial key'));
  const id = aesKsnInitialKeyId(ksn);
  const counter = aesKsnCounter(ksn);
  if (counter === 0) throw new CryptoError('ksn_invalid', 'AES DUKPT counter 0 has no transaction key');
  let working = 0;
  for (let bit = 0x80000000; bit >= 1; bit /= 2) {
    if (Math.floor(counter / bit) % 2 === 0) continue;
    working += bit;
    const next = aesEncrypt(key, derivationData(AesKeyUsage.keyDerivation, counterData(id, working)));
    key.fill(0);
    key = next;
  }
  return key;
}

/** Working key of a usage for the KSN, from the transaction derivation key. */
export function deriveAesWorkingKey(derivationKey: Uint8Array, ksn: Uint8Array, usage: AesKeyUsage): Buffer {
  const key = requireKey(derivationKey, 'AES DUKPT derivation key');
  const id = aesKsnInitialKeyId(ksn);
  return aesEncrypt(key, derivationData(usage, counterData(id, aesKsnCounter(ksn))));
}

/** PIN encryption key for a KSN from the initial key (what a PIN pad holds instead of the BDK). */
export function deriveAesPinKeyFromInitialKey(initialKey: Uint8Array, ksn: Uint8Array): Buffer {
  const dk = deriveAesDerivationKey(initialKey, ksn);
  try {
    return deriveAesWorkingKey(dk, ksn, AesKeyUsage.pinEncryption);
  } finally {
    dk.fill(0);
  }
}

/** PIN encryption key for a KSN straight from the BDK (host side). */
export function deriveAesPinKey(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  const ik = deriveAesInitialKey(bdk, aesKsnInitialKeyId(ksn));
  try {
    return deriveAesPinKeyFromInitialKey(ik, ksn);
  } finally {
    ik.fill(0);
  }
}

/** Host side in one call: enciphered format 4 PIN block for BDK + KSN (simulator, tests). */
export function encryptPinAesDukpt(
  bdk: Uint8Array,
  ksn: Uint8Array,
  pin: string,
  pan: string,
  random?: Uint8Array,
): Buffer {
  const key = deriveAesPinKey(bdk, ksn);
  try {
    return encipherPinBlockFormat4(key, pin, pan, random);
  } finally {
    key.fill(0);
  }
}

/** Host side in one call: PIN from BDK + KSN + format 4 block; wrong key/KSN/PAN -> `pin_block_malformed`. */
export function decryptPinAesDukpt(bdk: Uint8Array, ksn: Uint8Array, block: Uint8Array, pan: string): string {
  const key = deriveAesPinKey(bdk, ksn);
  try {
    return decipherPinBlockFormat4(key, block, pan);
  } finally {
    key.fill(0);
  }
}
