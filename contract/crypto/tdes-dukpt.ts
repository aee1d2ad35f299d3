// ANSI X9.24-1:2009 TDES DUKPT, host side: IPEK from BDK + KSN, the current transaction key for any KSN
// counter (the non-reversible key generation process applied for each one-bit of the counter), the PIN
// encryption variant, and ISO 9564 format 0 PIN blocks enciphered under it.
//
// KSN: 10 bytes = 59-bit initial key serial number | 21-bit transaction counter.
import {
  CryptoError,
  desEncrypt,
  isBytes,
  requireBytes,
  tdesDecrypt,
  tdesEncrypt,
  xor,
} from './primitives.ts';
import { decodePinBlockFormat0, encodePinBlockFormat0 } from './pin-block.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** XORed into the BDK (IPEK right half) and into the key register (NRKGP left half). */
const KEY_MASK = hex('c0c0c0c000000000c0c0c0c000000000');

/**
 * PIN encryption variant of X9.24-1 (Annex A): 00000000000000FF 00000000000000FF. (0000000000FF0000 is the
 * data-encryption variant and 000000000000FF00 the MAC variant; the Annex A vectors pin this down.)
 */
export const TDES_PIN_VARIANT = hex('00000000000000ff00000000000000ff');

export const TDES_KSN_LENGTH = 10;
/** The counter is the rightmost 21 bits of the KSN. */
export const TDES_COUNTER_MAX = 0x1fffff;

function requireKsn(ksn: unknown): Uint8Array {
  if (!isBytes(ksn) || ksn.length !== TDES_KSN_LENGTH) {
    throw new CryptoError('ksn_invalid', 'TDES DUKPT KSN must be 10 bytes');
  }
  return ksn;
}

function requireKey16(key: unknown, what: string): Uint8Array {
  return requireBytes(key, 16, 'key_invalid', what);
}

/** The 21-bit transaction counter of a KSN. */
export function tdesKsnCounter(ksn: Uint8Array): number {
  const k = requireKsn(ksn);
  return (((k[7] ?? 0) & 0x1f) << 16) | ((k[8] ?? 0) << 8) | (k[9] ?? 0);
}

/** The KSN with its counter replaced (0..2^21-1). */
export function tdesKsnWithCounter(ksn: Uint8Array, counter: number): Buffer {
  const k = Buffer.from(requireKsn(ksn));
  if (!Number.isInteger(counter) || counter < 0 || counter > TDES_COUNTER_MAX) {
    throw new CryptoError('ksn_invalid', 'TDES DUKPT counter must be 0 to 2^21-1');
  }
  k[7] = ((k[7] ?? 0) & 0xe0) | (counter >>> 16);
  k[8] = (counter >>> 8) & 0xff;
  k[9] = counter & 0xff;
  return k;
}

/**
 * True if an originating device can use this counter: at most 10 one-bits and not zero (X9.24-1 A.2).
 * The host derivation below works for any counter; callers that verify PINs may reject the rest.
 */
export function isValidTdesCounter(counter: number): boolean {
  if (!Number.isInteger(counter) || counter <= 0 || counter > TDES_COUNTER_MAX) return false;
  let bits = 0;
  for (let c = counter; c > 0; c >>>= 1) bits += c & 1;
  return bits <= 10;
}

/** Initial PIN encryption key (IPEK): TDES of the KSN's leftmost 8 bytes (counter zeroed) under BDK and BDK ⊕ C0C0C0C0 00000000 ×2. */
export function deriveTdesIpek(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  const key = requireKey16(bdk, 'TDES BDK');
  const k = tdesKsnWithCounter(ksn, 0).subarray(0, 8);
  const left = tdesEncrypt(key, k);
  const right = tdesEncrypt(xor(key, KEY_MASK), k);
  return Buffer.concat([left, right]);
}

/** Non-reversible key generation process: new 16-byte key register from the key and the KSN register. */
function nrkgp(key: Uint8Array, ksnReg: Uint8Array): Buffer {
  const half = (k: Uint8Array): Buffer => {
    const l = k.subarray(0, 8);
    const r = k.subarray(8, 16);
    return xor(desEncrypt(l, xor(ksnReg, r)), r);
  };
  const right = half(key);
  const left = half(xor(key, KEY_MASK));
  return Buffer.concat([left, right]);
}

/**
 * Current transaction key for the KSN's counter, from the IPEK: for each one-bit of the counter from the
 * top, set it in the KSN register and run the non-reversible key generation process.
 */
export function deriveTdesTransactionKey(ipek: Uint8Array, ksn: Uint8Array): Buffer {
  let key: Buffer = Buffer.from(requireKey16(ipek, 'TDES IPEK'));
  const counter = tdesKsnCounter(ksn);
  const reg = Buffer.from(tdesKsnWithCounter(ksn, 0).subarray(2, 10)); // rightmost 64 bits, counter zeroed
  for (let bit = 0x100000; bit > 0; bit >>>= 1) {
    if ((counter & bit) === 0) continue;
    reg[5] = (reg[5] ?? 0) | (bit >>> 16);
    reg[6] = (reg[6] ?? 0) | ((bit >>> 8) & 0xff);
    reg[7] = (reg[7] ?? 0) | (bit & 0xff);
    const next = nrkgp(key, reg);
    key.fill(0);
    key = next;
  }
  return key;
}

/** The PIN encryption key for a KSN, straight from the BDK (host side). */
export function deriveTdesPinKey(bdk: Uint8Array, ksn: Uint8Array): Buffer {
  const ipek = deriveTdesIpek(bdk, ksn);
  const txn = deriveTdesTransactionKey(ipek, ksn);
  const pinKey = xor(txn, TDES_PIN_VARIANT);
  ipek.fill(0);
  txn.fill(0);
  return pinKey;
}

/** The PIN encryption key for a KSN from the IPEK (what a PIN pad holds instead of the BDK). */
export function deriveTdesPinKeyFromIpek(ipek: Uint8Array, ksn: Uint8Array): Buffer {
  const txn = deriveTdesTransactionKey(ipek, ksn);
  const pinKey = xor(txn, TDES_PIN_VARIANT);
  txn.fill(0);
  return pinKey;
}

/** Enciphered ISO 9564 format 0 PIN block (8 bytes) under a TDES DUKPT PIN key. */
export function encryptPinTdes(pinKey: Uint8Array, pin: string, pan: string): Buffer {
  requireKey16(pinKey, 'TDES PIN key');
  const clear = encodePinBlockFormat0(pin, pan);
  const out = tdesEncrypt(pinKey, clear);
  clear.fill(0);
  return out;
}

/** PIN from an enciphered format 0 block; wrong key, KSN or PAN -> `pin_block_malformed` (structure check). */
export function decryptPinTdes(pinKey: Uint8Array, block: Uint8Array, pan: string): string {
  requireKey16(pinKey, 'TDES PIN key');
  requireBytes(block, 8, 'block_invalid', 'format 0 PIN block');
  const clear = tdesDecrypt(pinKey, block);
  try {
    return decodePinBlockFormat0(clear, pan);
  } finally {
    clear.fill(0);
  }
}

/** Host side in one call: PIN block for BDK + KSN (simulator, tests). */
export function encryptPinTdesDukpt(bdk: Uint8Array, ksn: Uint8Array, pin: string, pan: string): Buffer {
  const key = deriveTdesPinKey(bdk, ksn);
  try {
    return encryptPinTdes(key, pin, pan);
  } finally {
    key.fill(0);
  }
}

/** Host side in one call: PIN from BDK + KSN + block (the engine's verification path). */
export function decryptPinTdesDukpt(
  bdk: Uint8Array,
  ksn: Uint8Array,
  block: Uint8Array,
  pan: string,
): string {
  const key = deriveTdesPinKey(bdk, ksn);
  try {
    return decryptPinTdes(key, block, pan);
  } finally {
    key.fill(0);
  }
}
