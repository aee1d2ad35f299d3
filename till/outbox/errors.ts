// The one error type the outbox throws for anything a caller can act on: bad input, a refused offline
// operation (with the limit that refused it), an operation that needs the engine, or a manager action
// on an operation in the wrong state. Nothing has changed when it is thrown.
export type OutboxErrorCode =
  'validation_error' | 'offline_limit' | 'online_required' | 'not_found' | 'invalid_state';

export type OfflineLimit = 'max_age' | 'max_count' | 'max_amount';

export class OutboxError extends Error {
  readonly code: OutboxErrorCode;
  /** Which offline limit refused the operation (code offline_limit only). */
  readonly limit: OfflineLimit | undefined;

  constructor(code: OutboxErrorCode, message: string, limit?: OfflineLimit) {
    super(message);
    this.name = 'OutboxError';
    this.code = code;
    this.limit = limit;
  }
}
