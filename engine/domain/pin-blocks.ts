// PINs that arrive as encrypted PIN blocks from a PIN pad (ISO 9564 format 0 under TDES DUKPT, or
// format 4 under AES DUKPT): the engine derives the block's key from its BDK and the KSN, and takes
// the PIN out, in memory only, to verify it exactly as a PIN sent in the clear. The BDKs come from
// the configuration alone (never generated, never written to the secrets file).
import { decryptPinAesDukpt, isValidAesCounter, aesKsnCounter } from '../../contract/crypto/aes-dukpt.ts';
import { CryptoError } from '../../contract/crypto/primitives.ts';
import {
  decryptPinTdesDukpt,
  isValidTdesCounter,
  tdesKsnCounter,
  tdesKsnWithCounter,
} from '../../contract/crypto/tdes-dukpt.ts';
import type { Tx } from '../store/store.ts';
import { DomainError } from './errors.ts';

export const PIN_BLOCK_FORMATS = ['iso0-tdes-dukpt', 'iso4-aes-dukpt'] as const;
export type PinBlockFormat = (typeof PIN_BLOCK_FORMATS)[number];

/** Hex digits of each format's KSN and block, and the BDK setting it needs. */
export const PIN_BLOCK_SHAPES = {
  'iso0-tdes-dukpt': { ksnHex: 20, blockHex: 16, setting: 'secrets.pinBdk (TILLBACK_PIN_BDK)' },
  'iso4-aes-dukpt': { ksnHex: 24, blockHex: 32, setting: 'secrets.pinAesBdk (TILLBACK_PIN_AES_BDK)' },
} as const satisfies Record<PinBlockFormat, unknown>;

/** The configured base derivation keys, as hex; a format whose key is absent is refused. */
export interface PinBdks {
  tdes?: string | undefined;
  aes?: string | undefined;
}

/** An encrypted PIN block as a request carries it, with the card number it is bound to. */
export interface PinBlockInput {
  format: PinBlockFormat;
  /** Key serial number, hex. */
  ksn: string;
  /** The enciphered block, hex. */
  block: string;
  /** The card's PAN: format 0 and format 4 both bind the PIN to it. */
  pan: string;
}

const notValid = (why: string) =>
  new DomainError('validation_error', `pin_block: ${why}; nothing was changed and no PIN attempt counted`, {
    field: 'pin_block',
  });

/**
 * The PIN inside a block. Throws `pin_block_unsupported` when no BDK is configured for its format,
 * and `validation_error` when the block is not a PIN block for this card under our key (wrong length,
 * a KSN counter no PIN pad uses, or a deciphered block without the format's structure): such a block
 * is not a PIN attempt, so it never counts toward the lockout. Messages never carry the PIN, block or PAN.
 */
export function pinFromBlock(bdks: PinBdks, input: PinBlockInput): string {
  const shape = PIN_BLOCK_SHAPES[input.format];
  const tdes = input.format === 'iso0-tdes-dukpt';
  const bdkHex = tdes ? bdks.tdes : bdks.aes;
  if (bdkHex === undefined) {
    throw new DomainError(
      'pin_block_unsupported',
      `This engine has no key for ${input.format} PIN blocks (set ${shape.setting}); send the PIN another way`,
      { format: input.format },
    );
  }
  const hex = /^[0-9a-fA-F]*$/;
  if (!hex.test(input.ksn) || input.ksn.length !== shape.ksnHex) {
    throw notValid(`ksn must be ${shape.ksnHex} hex digits for ${input.format}`);
  }
  if (!hex.test(input.block) || input.block.length !== shape.blockHex) {
    throw notValid(`block must be ${shape.blockHex} hex digits for ${input.format}`);
  }
  const bdk = Buffer.from(bdkHex, 'hex');
  const ksn = Buffer.from(input.ksn, 'hex');
  const block = Buffer.from(input.block, 'hex');
  try {
    const usable = tdes ? isValidTdesCounter(tdesKsnCounter(ksn)) : isValidAesCounter(aesKsnCounter(ksn));
    if (!usable) throw notValid('the KSN has a transaction counter no PIN pad uses');
    return tdes
      ? decryptPinTdesDukpt(bdk, ksn, block, input.pan)
      : decryptPinAesDukpt(bdk, ksn, block, input.pan);
  } catch (error) {
    // CryptoError messages are fixed texts (no key, PIN, PAN or block); the code says which check failed.
    if (error instanceof CryptoError) {
      throw notValid(
        error.code === 'pin_block_malformed'
          ? 'the block does not decipher to a PIN block for this card (wrong key, KSN or card number?)'
          : `not a valid ${input.format} block (${error.code})`,
      );
    }
    throw error;
  } finally {
    bdk.fill(0);
  }
}

/**
 * Records the block's DUKPT counter as the newest from its PIN pad, or refuses the block as a replay
 * when its counter is not newer (a PIN pad never reuses one). Call it on a block `pinFromBlock`
 * accepted, before the PIN is checked, so a copied block is no PIN attempt at all.
 */
export async function useBlockCounter(tx: Tx, input: PinBlockInput, now: number): Promise<void> {
  const ksn = Buffer.from(input.ksn, 'hex');
  const tdes = input.format === 'iso0-tdes-dukpt';
  // The PIN pad: its KSN with the counter cleared (TDES: low 21 bits), or its initial key id (AES).
  const device = `${input.format}:${(tdes ? tdesKsnWithCounter(ksn, 0) : ksn.subarray(0, 8)).toString('hex')}`;
  const counter = tdes ? tdesKsnCounter(ksn) : aesKsnCounter(ksn);
  const newer = await tx.one(
    `INSERT INTO pin_block_counters (device, counter, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (device) DO UPDATE SET counter = excluded.counter, updated_at = excluded.updated_at
       WHERE pin_block_counters.counter < excluded.counter
     RETURNING device`,
    [device, counter, now],
  );
  if (!newer) {
    throw new DomainError(
      'pin_block_replayed',
      'pin_block: this PIN pad has sent a newer PIN block already, so this one is a copy; enter the PIN again',
      { field: 'pin_block' },
    );
  }
}
