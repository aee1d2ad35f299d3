// The claim page's API (engine/routes/native-claims.ts), as the page calls it: same origin, no
// credentials, no referrer, nothing cached. A failed connection answers status 0.
import type { MethodKind } from './fields.ts';

export type ClaimStatus =
  'created' | 'opened' | 'submitted' | 'processing' | 'paid' | 'failed' | 'expired' | 'cancelled';

export const FINAL_STATUSES: readonly ClaimStatus[] = ['paid', 'failed', 'expired', 'cancelled'];

export interface Failure {
  code: string;
  message: string;
}

export interface ClaimView {
  claim_id: string;
  status: ClaimStatus;
  store_name: string;
  amount: number;
  currency: string;
  expires_at: string;
  methods: MethodKind[];
  card_entry: { allowed: boolean; reason: string | null };
  method: { kind: MethodKind; label: string } | null;
  failure: Failure | null;
  updated_at: string;
}

export interface StatusView {
  claim_id: string;
  status: ClaimStatus;
  failure: Failure | null;
}

export interface ApiError {
  code: string;
  message: string;
  details?: { issues?: { field: string; message: string }[]; field?: string };
}

export type Answer<T> =
  { ok: true; status: number; body: T } | { ok: false; status: number; error: ApiError | undefined };

export async function callClaimApi<T>(
  claimId: string,
  method: 'GET' | 'POST',
  path: '' | '/open' | '/submit' | '/status',
  body?: unknown,
): Promise<Answer<T>> {
  try {
    const res = await fetch(`/v1/public/claims/${encodeURIComponent(claimId)}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
    const parsed: unknown = await res.json().catch(() => undefined);
    if (res.ok) return { ok: true, status: res.status, body: parsed as T };
    return { ok: false, status: res.status, error: (parsed as { error?: ApiError } | undefined)?.error };
  } catch {
    return { ok: false, status: 0, error: undefined };
  }
}

/** The page fields an API validation error names (details.issues, or details.field). */
export function errorFields(error: ApiError | undefined): string[] {
  if (!error?.details) return [];
  const fields = (error.details.issues ?? []).map((i) => i.field);
  return error.details.field ? [...fields, error.details.field] : fields;
}
