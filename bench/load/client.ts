// A till's HTTP client as its outbox behaves: every write carries an Idempotency-Key, and a request
// whose outcome is unknown (connection refused or reset, a timeout, a 5xx, a 429) is sent again with
// the same key, to the next engine in turn, until an engine answers for sure (2xx or 4xx) or the
// operation's deadline passes. Requests are spread round-robin over the engines.

/** What an engine answered for sure. */
export interface Answer {
  status: number;
  body: any;
}

export type Outcome =
  | { kind: 'answered'; answer: Answer; retries: number }
  /** No sure answer before the deadline: the operation may or may not have been applied. */
  | { kind: 'gave_up'; retries: number; lastError: string };

export interface ClientStats {
  /** Attempts sent again after an unsure outcome. */
  retries: number;
  /** Unsure outcomes by kind: ECONNREFUSED, ECONNRESET, timeout, http_503, ... */
  unsure: Map<string, number>;
}

export interface ClientOptions {
  urls: readonly string[];
  /** Sent as X-App-Id / X-Api-Key. */
  credentials: { appId: string; secret: string };
  /** Which engine the first request goes to (tills start at different engines). */
  firstEngine?: number;
  /** Per attempt. */
  timeoutMs?: number;
  /** How long one operation may keep retrying. */
  giveUpAfterMs?: number;
  stats?: ClientStats;
}

export const newClientStats = (): ClientStats => ({ retries: 0, unsure: new Map() });

export function countInto(map: Map<string, number>, key: string, by = 1): void {
  map.set(key, (map.get(key) ?? 0) + by);
}

/** Why an attempt's outcome is unknown, as a short label (the error code of the socket when there is one). */
function unsureLabel(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return 'timeout';
  }
  const cause = (error as { cause?: { code?: unknown } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}

const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 1_000;

export interface TillClient {
  /** `idempotencyKey` for writes; public routes (the claim page) send none. */
  send(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    opts?: { body?: unknown; idempotencyKey?: string; credentials?: boolean },
  ): Promise<Outcome>;
  readonly stats: ClientStats;
}

export function tillClient(opts: ClientOptions): TillClient {
  const stats = opts.stats ?? newClientStats();
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const giveUpAfterMs = opts.giveUpAfterMs ?? 120_000;
  let next = opts.firstEngine ?? 0;

  async function attempt(url: string, init: RequestInit): Promise<Answer | string> {
    try {
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      if (res.status >= 500 || res.status === 429) return `http_${res.status}`;
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: kept as text.
      }
      return { status: res.status, body };
    } catch (error) {
      return unsureLabel(error);
    }
  }

  return {
    stats,
    async send(method, path, { body, idempotencyKey, credentials = true } = {}) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (credentials) {
        headers['x-app-id'] = opts.credentials.appId;
        headers['x-api-key'] = opts.credentials.secret;
      }
      if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
      const init: RequestInit = {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      };
      const giveUpAt = Date.now() + giveUpAfterMs;
      let retries = 0;
      for (;;) {
        const url = opts.urls[next++ % opts.urls.length];
        const result = await attempt(`${url}${path}`, init);
        if (typeof result !== 'string') return { kind: 'answered', answer: result, retries };
        countInto(stats.unsure, result);
        if (Date.now() >= giveUpAt) return { kind: 'gave_up', retries, lastError: result };
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(retries, 10));
        await new Promise((resolve) => setTimeout(resolve, wait / 2 + Math.random() * (wait / 2)));
        retries++;
        stats.retries++;
      }
    },
  };
}
