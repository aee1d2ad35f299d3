// Coded errors shared by the card-reader decoders. A message is always written by us from fixed
// text and numbers (positions, lengths), never from the input, so it can never carry a PAN.

/** Every code a card decoder returns; the README explains each. */
export const CARD_ERROR_CODES = [
  'bad_sentinel',
  'bad_format',
  'bad_length',
  'bad_char',
  'bad_parity',
  'bad_pan',
  'bad_luhn',
  'bad_lrc',
  'bad_expiry',
  'expired',
  'bad_service_code',
  'bad_name',
  'track_mismatch',
  'bad_report',
  'truncated',
  'track_error',
  'overflow',
  'bad_check_digit',
  'bad_member_code',
  'bad_receipt_code',
] as const;

export type CardErrorCode = (typeof CARD_ERROR_CODES)[number];

export class CardError extends Error {
  override readonly name = 'CardError';
  constructor(
    readonly code: CardErrorCode,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { code: CardErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: CardError };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(code: CardErrorCode, message: string): Result<T> => ({
  ok: false,
  error: new CardError(code, message),
});
