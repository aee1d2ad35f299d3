// The till's client of the engine's native API for what cannot wait in the outbox: OTP sign-in, redeems
// and cashout claims. Node's fetch with a per-call timeout, like the outbox's sender, whose header
// building and error reading it shares (one place knows how the till authenticates to the engine).
import { isLoopback } from './api/config.ts';
import type { OutboxConfig } from './outbox/config.ts';

export type EngineEndpoint = OutboxConfig['engine'];

/** The headers of every call to the engine: JSON, the till's app credentials, and the write's key. */
export function engineHeaders(
  engine: EngineEndpoint,
  options: { idempotencyKey?: string | undefined; memberToken?: string | undefined } = {},
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-app-id': engine.appId,
    'x-api-key': engine.apiKey,
    ...(options.idempotencyKey === undefined ? {} : { 'idempotency-key': options.idempotencyKey }),
    ...(options.memberToken === undefined ? {} : { 'x-member-token': options.memberToken }),
  };
}

/** The engine's `{error: {code, message}}` from an answer's text, when it is one. */
export function engineErrorBody(text: string): { code: string; message: string } | undefined {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.message === 'string') {
      return { code: String(body.error.code ?? ''), message: body.error.message };
    }
  } catch {
    // Not JSON (a proxy's page, say).
  }
  return undefined;
}

/** A network failure's cause in a few words (ECONNREFUSED, timed out), with no URL or header in it. */
export function networkError(error: unknown): string {
  const e = error as { name?: string; cause?: { code?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.name ?? 'network error';
}

/**
 * What the engine said no with (`status` and its `code`), or, with status null, `engine_unreachable`
 * (no connection: the call was not applied) or `engine_timeout` (no answer in time: it may have been).
 * A 5xx without the engine's error body (a proxy's page, say) has the code `engine_error`.
 */
export class EngineError extends Error {
  readonly status: number | null;
  readonly code: string;

  constructor(status: number | null, code: string, message: string) {
    super(message);
    this.name = 'EngineError';
    this.status = status;
    this.code = code;
  }

  /**
   * No answer, or a 5xx that is not the engine speaking (a proxy's, say): there is no reason to show
   * but that the engine cannot be reached. A 5xx in the engine's own error shape (a code that could
   * not be sent, a replica down) is its refusal, with a message that says why.
   */
  get unreachable(): boolean {
    return this.status === null || (this.status >= 500 && this.code === 'engine_error');
  }
}

/**
 * Whether a request may carry card data to this engine: card data crosses a network only over TLS
 * (DESIGN.md, Secrets), so HTTPS, or an engine on this machine.
 */
export function mayCarryCardData(engineUrl: string): boolean {
  const u = new URL(engineUrl);
  return u.protocol === 'https:' || isLoopback(u.hostname) || u.hostname.startsWith('127.');
}

export interface EngineCallOptions {
  /** Every write carries one; a resend with the same key gets the engine's stored answer. */
  idempotencyKey?: string;
  memberToken?: string;
}

export interface EngineClient {
  /** The engine's base URL. */
  readonly url: string;
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown, options?: EngineCallOptions): Promise<T>;
}

export function createEngineClient(engine: EngineEndpoint, options: { timeoutMs: number }): EngineClient {
  async function call<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    opts: EngineCallOptions,
  ): Promise<T> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(new URL(path, engine.url), {
        method,
        headers: engineHeaders(engine, opts),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      text = await res.text();
    } catch (error) {
      const cause = networkError(error);
      // A timeout may come after the engine applied the call; a refused connection never does.
      if (cause === 'timed out')
        throw new EngineError(null, 'engine_timeout', 'The engine did not answer in time');
      throw new EngineError(null, 'engine_unreachable', `The engine could not be reached (${cause})`);
    }
    if (res.ok) return JSON.parse(text) as T;
    const e = engineErrorBody(text);
    throw new EngineError(
      res.status,
      e?.code ?? 'engine_error',
      e?.message ?? `The engine answered ${res.status}`,
    );
  }
  return {
    url: engine.url,
    get: (path) => call('GET', path, undefined, {}),
    post: (path, body, opts = {}) => call('POST', path, body, opts),
  };
}
