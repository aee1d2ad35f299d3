// The screens' client of the till's local API (till/README.md, Local API): every call carries the
// launch token and, once an operator signed in, their session; every answer the screen reads is checked
// with a zod schema; every refusal, in the API's `{"error":{code,message}}` shape or not at all (the
// till unreachable), becomes one typed ApiError, so a screen says what went wrong in words.
//
// The operator's session is kept in this tab's sessionStorage, beside the launch token (launch.ts): a
// reload stays signed in; a new tab or a restarted till (a new launch token) signs in again.
import { z } from 'zod';

/** The till's refusal: its HTTP status (0: the till did not answer) and its error code. */
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

/** The code of an ApiError when the till could not be reached at all. */
export const UNREACHABLE = 'unreachable';

const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

export const OperatorSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  role: z.enum(['cashier', 'manager']),
  createdAt: z.number(),
});
export type Operator = z.infer<typeof OperatorSchema>;

export const SessionSchema = z.object({
  session: z.string().min(1),
  operator: OperatorSchema,
  expiresAt: z.number().int(),
});
export type Session = z.infer<typeof SessionSchema>;

export interface ApiInit<T> {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Sent as JSON. */
  body?: unknown;
  /** What the answer must be; without it the answer is not read (a 204, or an answer not needed). */
  schema?: z.ZodType<T>;
  signal?: AbortSignal;
}

/** The error an answer of status `status` with body text `text` stands for. */
export function errorFromAnswer(status: number, text: string): ApiError {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ErrorBodySchema.safeParse(json);
  if (parsed.success) return new ApiError(status, parsed.data.error.code, parsed.data.error.message);
  return new ApiError(status, `http_${status}`, `The till answered ${status}`);
}

/**
 * One call of the local API at `path` (e.g. `/api/flows/current`), with the launch token and the
 * operator's session (when there is one). Resolves with the answer checked by `init.schema`; rejects
 * with an ApiError for any refusal, an answer of the wrong shape, or no answer at all.
 */
export async function apiFetch<T = undefined>(
  token: string,
  session: string | undefined,
  path: string,
  init: ApiInit<T> = {},
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (session) headers['x-operator-session'] = session;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      cache: 'no-store',
      ...(init.signal ? { signal: init.signal } : {}),
    });
  } catch (error) {
    if (init.signal?.aborted) throw error;
    throw new ApiError(0, UNREACHABLE, 'The till did not answer');
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw errorFromAnswer(response.status, text);
  if (!init.schema) return undefined as T;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'bad_answer', `The till's answer to ${path} is not JSON`);
  }
  const parsed = init.schema.safeParse(json);
  if (!parsed.success) throw new ApiError(response.status, 'bad_answer', `Unexpected answer to ${path}`);
  return parsed.data;
}

const SESSION_KEY = 'tillback.operator.session';

/** The session this tab signed in with, unless it expired (or was never there). */
export function keptSession(now: number = Date.now()): Session | undefined {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = SessionSchema.safeParse(json);
  if (!parsed.success || parsed.data.expiresAt <= now) {
    sessionStorage.removeItem(SESSION_KEY);
    return undefined;
  }
  return parsed.data;
}

/** Signs in by name and PIN; the session is kept for this tab. */
export async function signIn(token: string, name: string, pin: string): Promise<Session> {
  const session = await apiFetch(token, undefined, '/api/operators/sign-in', {
    body: { name, pin },
    schema: SessionSchema,
  });
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Forgets this tab's session (after a sign-out, or when the till no longer knows it). */
export function forgetSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

/** Ends the session at the till and here; a till that cannot be reached still forgets it here. */
export async function signOut(token: string, session: Session): Promise<void> {
  forgetSession();
  try {
    await apiFetch(token, session.session, '/api/operators/sign-out', { method: 'POST' });
  } catch (error) {
    // Already gone at the till (expired, or the till restarted): signed out all the same.
    if (!(error instanceof ApiError)) throw error;
  }
}

/** Whether the till no longer takes this session: the screen must sign in again. */
export const isSessionLost = (error: unknown): boolean =>
  error instanceof ApiError && error.status === 401 && error.code === 'session_required';
