// The `Tillback-Signature` header of every webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`,
// one v1 per signing secret while a secret is being rotated. The engine signs with `signWebhook`;
// receivers (the till, a merchant's backend, the tests) check with `verifyWebhook`, which also
// refuses a `t` outside the replay window so a captured request cannot be replayed later.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'Tillback-Signature';
export const EVENT_ID_HEADER = 'Tillback-Event-Id';

/** Five minutes either way: generous for clock skew, short enough to make a replay useless. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, t: number, body: string) =>
  createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');

/** The header value for `body` signed at `t` (unix seconds) with each of `secrets`. */
export function signWebhook(body: string, secrets: readonly string[], t: number): string {
  if (secrets.length === 0) throw new Error('a webhook needs at least one signing secret');
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmacHex(s, t, body)}`)].join(',');
}

export interface ParsedSignature {
  t: number;
  v1: string[];
}

/**
 * Reads a header value. Unknown schemes (`v0=`, a future `v2=`) are skipped so the header can grow;
 * a missing or repeated `t`, a `t` that is not a whole number, or no `v1` is an error.
 */
export function parseSignatureHeader(
  header: string,
): { ok: true; value: ParsedSignature } | { ok: false; reason: string } {
  let t: number | undefined;
  const v1: string[] = [];
  for (const part of header.split(',')) {
    const at = part.indexOf('=');
    if (at <= 0) return { ok: false, reason: `malformed element "${part.slice(0, 20)}"` };
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't') {
      if (t !== undefined) return { ok: false, reason: 't appears twice' };
      if (!/^\d{1,12}$/.test(value)) return { ok: false, reason: 't is not a unix time in seconds' };
      t = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-f]{64}$/.test(value)) return { ok: false, reason: 'v1 is not 64 lowercase hex digits' };
      v1.push(value);
    }
  }
  if (t === undefined) return { ok: false, reason: 'no t' };
  if (v1.length === 0) return { ok: false, reason: 'no v1 signature' };
  return { ok: true, value: { t, v1 } };
}

export type VerifyResult = { ok: true; t: number } | { ok: false; reason: string };

/**
 * Checks a webhook as received: `body` is the raw request body exactly as it arrived (not re-serialized
 * JSON), `secrets` every secret the receiver currently accepts. Valid when some v1 matches some secret
 * and `t` is within `toleranceSeconds` of `nowSeconds`.
 */
export function verifyWebhook(options: {
  header: string | undefined;
  body: string;
  secrets: readonly string[];
  nowSeconds: number;
  toleranceSeconds?: number;
}): VerifyResult {
  if (options.header === undefined) return { ok: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parsed = parseSignatureHeader(options.header);
  if (!parsed.ok) return parsed;
  const { t, v1 } = parsed.value;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.nowSeconds - t) > tolerance) {
    return { ok: false, reason: `t is more than ${tolerance} s from now (replayed or clock skew)` };
  }
  for (const secret of options.secrets) {
    const expected = Buffer.from(hmacHex(secret, t, options.body), 'hex');
    // Constant-time comparison: the time taken says nothing about how much of a guess was right.
    if (v1.some((sig) => timingSafeEqual(Buffer.from(sig, 'hex'), expected))) return { ok: true, t };
  }
  return { ok: false, reason: 'no signature matches' };
}
