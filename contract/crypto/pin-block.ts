// ISO 9564-1 PIN blocks: format 0 (8 bytes, for TDES) and format 4 (16 bytes, AES, enciphered in two
// steps bound to the PAN). Errors are `CryptoError`s whose messages never contain the PIN or the PAN.
import { randomBytes } from 'node:crypto';
import { CryptoError, aesDecrypt, aesEncrypt, isBytes, requireBytes, xor } from './primitives.ts';

const PIN_RE = /^[0-9]{4,12}$/;
const PAN_RE = /^[0-9]{12,19}$/;

function requirePin(pin: unknown): string {
  if (typeof pin !== 'string' || !PIN_RE.test(pin)) {
    throw new CryptoError('pin_invalid', 'PIN must be 4 to 12 digits');
  }
  return pin;
}

function requirePan(pan: unknown): string {
  if (typeof pan !== 'string' || !PAN_RE.test(pan)) {
    throw new CryptoError('pan_invalid', 'PAN must be 12 to 19 digits');
  }
  return pan;
}

function nibblesToBytes(nibbles: string): Buffer {
  return Buffer.from(nibbles, 'hex');
}

function malformed(format: 0 | 4): CryptoError {
  return new CryptoError(
    'pin_block_malformed',
    `deciphered block is not an ISO 9564 format ${format} PIN block (wrong key, KSN or PAN?)`,
  );
}

/** Reads `0|4`, length, digits and fill from the nibbles of a PIN field; null if the structure is wrong. */
function parsePinField(nibbles: string, control: '0' | '4', fill: 'f' | 'a'): string | null {
  if (nibbles[0] !== control) return null;
  const len = parseInt(nibbles[1] ?? 'x', 16);
  if (!(len >= 4 && len <= 12)) return null;
  const digits = nibbles.slice(2, 2 + len);
  if (!/^[0-9]+$/.test(digits) || digits.length !== len) return null;
  const rest = nibbles.slice(2 + len, 16);
  if (rest !== fill.repeat(14 - len)) return null;
  return digits;
}

// ---------------------------------------------------------------------------------------------------
// Format 0

/** The format 0 account field: 0000 and the 12 rightmost PAN digits excluding the check digit. */
export function panFieldFormat0(pan: string): Buffer {
  const p = requirePan(pan);
  return nibblesToBytes('0000' + p.slice(0, -1).slice(-12).padStart(12, '0'));
}

/** Clear format 0 PIN block: (0 | len | PIN | F...) XOR the PAN field. 8 bytes. */
export function encodePinBlockFormat0(pin: string, pan: string): Buffer {
  const p = requirePin(pin);
  const pinField = nibblesToBytes(('0' + p.length.toString(16) + p).padEnd(16, 'f'));
  const block = xor(pinField, panFieldFormat0(pan));
  pinField.fill(0);
  return block;
}

/**
 * PIN from a clear format 0 block. Checks the whole structure (control 0, length 4..12, digits, F fill)
 * so a block deciphered under the wrong key fails with `pin_block_malformed` instead of yielding a PIN.
 */
export function decodePinBlockFormat0(block: Uint8Array, pan: string): string {
  requireBytes(block, 8, 'block_invalid', 'format 0 PIN block');
  const field = xor(block, panFieldFormat0(pan));
  const pin = parsePinField(field.toString('hex'), '0', 'f');
  field.fill(0);
  if (pin === null) throw malformed(0);
  return pin;
}

// ---------------------------------------------------------------------------------------------------
// Format 4

/**
 * Format 4 plaintext PIN field: 4 | len | PIN | A fill to 14 nibbles, then 8 random bytes. 16 bytes.
 * `random` is for known-answer tests only; by default it comes from `crypto.randomBytes`.
 */
export function encodePinFieldFormat4(pin: string, random?: Uint8Array): Buffer {
  const p = requirePin(pin);
  const rnd = random === undefined ? randomBytes(8) : random;
  if (!isBytes(rnd) || rnd.length !== 8)
    throw new CryptoError('random_invalid', 'random fill must be 8 bytes');
  return Buffer.concat([nibblesToBytes(('4' + p.length.toString(16) + p).padEnd(16, 'a')), rnd]);
}

/** PIN from a format 4 plaintext PIN field (structure checked; the random half is not). */
export function decodePinFieldFormat4(field: Uint8Array): string {
  requireBytes(field, 16, 'block_invalid', 'format 4 PIN field');
  const pin = parsePinField(Buffer.from(field.subarray(0, 8)).toString('hex'), '4', 'a');
  if (pin === null) throw malformed(4);
  return pin;
}

/**
 * Format 4 plaintext PAN field: M (PAN length minus 12, 0..7) | PAN (left-padded with zeros to 12
 * digits) | zero fill to 32 nibbles.
 */
export function panFieldFormat4(pan: string): Buffer {
  const p = requirePan(pan);
  return nibblesToBytes(((p.length - 12).toString(16) + p.padStart(12, '0')).padEnd(32, '0'));
}

/**
 * Enciphered format 4 PIN block under an AES key (16 or 32 bytes): A = AES(K, PIN field),
 * B = A XOR PAN field, block = AES(K, B).
 */
export function encipherPinBlockFormat4(
  key: Uint8Array,
  pin: string,
  pan: string,
  random?: Uint8Array,
): Buffer {
  const pinField = encodePinFieldFormat4(pin, random);
  const panField = panFieldFormat4(pan);
  const a = aesEncrypt(key, pinField);
  const b = xor(a, panField);
  const out = aesEncrypt(key, b);
  pinField.fill(0);
  a.fill(0);
  b.fill(0);
  return out;
}

/**
 * PIN from an enciphered format 4 block: B = AES⁻¹(K, block), A = B XOR PAN field,
 * PIN field = AES⁻¹(K, A). A wrong key or PAN fails with `pin_block_malformed`.
 */
export function decipherPinBlockFormat4(key: Uint8Array, block: Uint8Array, pan: string): string {
  requireBytes(block, 16, 'block_invalid', 'format 4 PIN block');
  const panField = panFieldFormat4(pan);
  const b = aesDecrypt(key, block);
  const a = xor(b, panField);
  const pinField = aesDecrypt(key, a);
  try {
    return decodePinFieldFormat4(pinField);
  } finally {
    pinField.fill(0);
    a.fill(0);
    b.fill(0);
  }
}
