// The HTTP exchange both real payout clients share: one request with a deadline, where anything that
// leaves the outcome undecided (no connection, a timeout, a 5xx, a 429) becomes `PayoutUnavailable`,
// and provider text quoted in our messages is cleaned of anything that looks like a card number.
import { maskPan } from '../../contract/card.ts';
import { PayoutUnavailable } from './provider.ts';

/** The pino-style subset of a logger the clients write to (objects first, then a message). */
export interface PayoutLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export const silentLogger: PayoutLogger = { info() {}, warn() {} };

export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One request. Resolves with any answer below 500 except 429 (the caller decides what a 4xx means),
 * and with the 5xx statuses listed in `readable` (a gateway that reports declines as 502, say);
 * throws `PayoutUnavailable` for everything that decides nothing. `what` names the call in messages.
 */
export async function exchange(
  provider: string,
  what: string,
  url: string,
  init: RequestInit,
  timeoutMs: number,
  readable: readonly number[] = [],
): Promise<HttpAnswer> {
  let response: Response;
  let text: string;
  try {
    // One deadline covers the headers and the body: a server that stalls mid-body is as undecided as
    // one that never answers.
    response = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND ...) is in its cause.
    const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
    const reason = cause?.code ?? (error instanceof Error ? error.message : String(error));
    throw new PayoutUnavailable(
      provider,
      timedOut
        ? `${what}: no answer within ${timeoutMs} ms`
        : `${what}: could not reach ${provider} (${reason})`,
    );
  }
  if (response.status >= 500 && !readable.includes(response.status)) {
    throw new PayoutUnavailable(provider, `${what}: ${provider} answered HTTP ${response.status}`);
  }
  if (response.status === 429) {
    throw new PayoutUnavailable(provider, `${what}: ${provider} is rate limiting us (HTTP 429)`);
  }
  return { status: response.status, text };
}

/**
 * Provider text we quote (a decline reason, a validation issue): runs of 12 or more digits, possibly
 * broken by spaces or dashes, are masked to first 6 / last 4, and the text is shortened. A provider
 * that echoes a card number in its message must not make us store it.
 */
export function quote(text: string, max = 200): string {
  const masked = text.replace(/\d(?:[ -]*\d){11,}/g, (run) => maskPan(run.replace(/[ -]/g, '')));
  return masked.length > max ? `${masked.slice(0, max)}...` : masked;
}

/** A provider's code or event name (PayPal's `errors.name`, Tipalti's `errorCode`), quoted shorter. */
export const quoteCode = (code: string): string => quote(code, 60);
