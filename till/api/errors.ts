// The local API's error: an HTTP status and a code, answered as {"error":{"code","message"}}.
import type { OutboxError } from '../outbox/errors.ts';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

const OUTBOX_STATUS: Record<OutboxError['code'], number> = {
  validation_error: 400,
  offline_limit: 409,
  online_required: 409,
  not_found: 404,
  invalid_state: 409,
};

/** The API's answer for an outbox refusal (nothing was written). */
export function fromOutboxError(e: OutboxError): ApiError {
  return new ApiError(OUTBOX_STATUS[e.code], e.code, e.message);
}
