// Business errors. Each API renders them in its own shape; the HTTP status comes with the error so
// every API agrees on it.
export type ErrorCode =
  | 'validation_error'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'member_not_found'
  | 'program_not_found'
  | 'transaction_not_found'
  | 'conflict'
  | 'idempotency_conflict'
  | 'duplicate_order'
  | 'insufficient_balance'
  | 'insufficient_deposit'
  | 'below_minimum_purchase'
  | 'refund_exceeds_purchase'
  | 'member_token_required'
  | 'member_token_invalid'
  | 'pin_required'
  | 'pin_invalid'
  | 'pin_locked'
  | 'pin_not_set'
  | 'pin_redemption_disabled'
  /** A PIN block of a format this engine has no key (BDK) for. */
  | 'pin_block_unsupported'
  /** A PIN block whose KSN counter is not newer than the last one seen from its PIN pad: a copy. */
  | 'pin_block_replayed'
  | 'otp_invalid'
  | 'rate_limited'
  | 'delivery_failed'
  /** No configured payout provider pays by the method a request needs. */
  | 'method_unavailable'
  /** A provider did not complete an account link (it refused, or could not be asked). */
  | 'link_failed'
  /** A provider asked on the caller's behalf refused for a reason the caller cannot fix (our setup). */
  | 'provider_refused'
  /** A provider asked on the caller's behalf could not be reached or read: try again later. */
  | 'provider_unavailable';

const statusOf: Record<ErrorCode, number> = {
  validation_error: 400,
  unauthorized: 401,
  member_token_required: 401,
  member_token_invalid: 401,
  pin_invalid: 401,
  otp_invalid: 401,
  forbidden: 403,
  pin_redemption_disabled: 403,
  not_found: 404,
  member_not_found: 404,
  program_not_found: 404,
  transaction_not_found: 404,
  conflict: 409,
  idempotency_conflict: 409,
  duplicate_order: 409,
  insufficient_balance: 422,
  insufficient_deposit: 422,
  below_minimum_purchase: 422,
  refund_exceeds_purchase: 422,
  pin_required: 422,
  pin_not_set: 422,
  method_unavailable: 422,
  pin_block_unsupported: 422,
  pin_block_replayed: 409,
  pin_locked: 423,
  rate_limited: 429,
  link_failed: 502,
  provider_refused: 502,
  delivery_failed: 503,
  provider_unavailable: 503,
};

export class DomainError extends Error {
  readonly status: number;
  /** `options.cause` is logged with a 5xx (why a gateway refused, say), never sent to the client. */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DomainError';
    this.status = statusOf[code];
  }
}
