// How a member proves it is them before their cashback is spent: a member token from an OTP
// exchange (seed 002's X-Member-Token), and/or a PIN stored as an scrypt hash with a lockout.
import { hash, randomBytes, randomInt, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { SignJWT, jwtVerify } from 'jose';
import type { Tx } from '../store/store.ts';
import type { DomainContext } from './context.ts';
import { DomainError } from './errors.ts';
import { getMember, type MemberSelector } from './members.ts';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, o: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 };

export const PIN_PATTERN = /^\d{4,12}$/;

export async function hashPin(pin: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(pin, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export async function pinMatches(pin: string, stored: string): Promise<boolean> {
  const [tag, n, r, p, salt, hash] = stored.split('$');
  if (tag !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(pin, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(actual, expected);
}

/** Sets or replaces a member's PIN (the caller has authenticated the member). */
export async function setPin(ctx: DomainContext, memberId: number, pin: string): Promise<void> {
  if (!PIN_PATTERN.test(pin)) throw new DomainError('validation_error', 'A PIN is 4 to 12 digits');
  const hash = await hashPin(pin);
  await ctx.store.transact(async (tx) => {
    await getMember(tx, { id: memberId });
    await tx.run('UPDATE members SET pin_hash = ?, pin_failures = 0, pin_locked_until = NULL WHERE id = ?', [
      hash,
      memberId,
    ]);
  });
}

interface PinState {
  pin_hash: string | null;
  pin_failures: number;
  pin_locked_until: number | null;
}

const lockedError = (until: number) =>
  new DomainError(
    'pin_locked',
    `Too many wrong PINs: PIN redemption is locked until ${new Date(until).toISOString()}`,
    { locked_until: new Date(until).toISOString() },
  );

/**
 * Checks a PIN. The slow scrypt comparison runs outside any transaction; the attempt is then logged
 * and the failure count kept in one. Returns a function to run inside the operation's transaction,
 * which re-checks the lock (another request may have locked it meanwhile) and records the success.
 */
export async function checkPin(
  ctx: DomainContext,
  memberId: number,
  pin: string,
  appId: string,
): Promise<(tx: Tx) => Promise<void>> {
  const state = await ctx.store.read((tx) =>
    tx.one<PinState>('SELECT pin_hash, pin_failures, pin_locked_until FROM members WHERE id = ?', [memberId]),
  );
  if (!state) throw new DomainError('member_not_found', `No member with id ${memberId}`);
  if (!state.pin_hash) throw new DomainError('pin_not_set', 'This member has no PIN set');
  const logAttempt = (tx: Tx, ok: boolean, now: number) =>
    tx.run('INSERT INTO pin_attempts (member_id, ok, app_id, created_at) VALUES (?, ?, ?, ?)', [
      memberId,
      ok ? 1 : 0,
      appId,
      now,
    ]);
  const now = ctx.now();
  if (state.pin_locked_until !== null && state.pin_locked_until > now) {
    await ctx.store.transact((tx) => logAttempt(tx, false, now));
    throw lockedError(state.pin_locked_until);
  }
  const ok = await pinMatches(pin, state.pin_hash);
  if (!ok) {
    const outcome = await ctx.store.transact(async (tx) => {
      const t = ctx.now();
      await logAttempt(tx, false, t);
      const row = await tx.row<PinState>(
        `SELECT pin_failures, pin_locked_until FROM members WHERE id = ?${tx.forUpdate}`,
        [memberId],
      );
      const failures = row.pin_failures + 1;
      if (failures >= ctx.settings.pinMaxFailures) {
        const until = t + ctx.settings.pinLockSeconds * 1000;
        await tx.run('UPDATE members SET pin_failures = 0, pin_locked_until = ? WHERE id = ?', [
          until,
          memberId,
        ]);
        return { locked: until, left: 0 };
      }
      await tx.run('UPDATE members SET pin_failures = ? WHERE id = ?', [failures, memberId]);
      return { locked: null, left: ctx.settings.pinMaxFailures - failures };
    });
    if (outcome.locked !== null) throw lockedError(outcome.locked);
    throw new DomainError('pin_invalid', `Wrong PIN; ${outcome.left} attempt(s) left before a lock`, {
      attempts_left: outcome.left,
    });
  }
  return async (tx) => {
    const t = ctx.now();
    const row = await tx.one<PinState>(`SELECT pin_locked_until FROM members WHERE id = ?${tx.forUpdate}`, [
      memberId,
    ]);
    if (row?.pin_locked_until && row.pin_locked_until > t) throw lockedError(row.pin_locked_until);
    await logAttempt(tx, true, t);
    await tx.run('UPDATE members SET pin_failures = 0, pin_locked_until = NULL WHERE id = ?', [memberId]);
  };
}

const sha256 = (s: string) => hash('sha256', s);
const OTP_MAX_ATTEMPTS = 5;

/** Starts an OTP exchange: a 6-digit code sent through the notifier to the member's phone or email. */
export async function requestOtp(
  ctx: DomainContext,
  selector: MemberSelector,
): Promise<{ challengeId: number; memberId: number; expiresAt: number; sentTo: string }> {
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const now = ctx.now();
  const expiresAt = now + ctx.settings.otpTtlSeconds * 1000;
  const { challengeId, to, member } = await ctx.store.transact(async (tx) => {
    const m = await getMember(tx, selector);
    if (!m.phone && !m.email)
      throw new DomainError('validation_error', 'The member has no phone or email to send a code to');
    const row = await tx.row<{ id: number }>(
      'INSERT INTO otp_challenges (member_id, code_hash, expires_at, created_at) VALUES (?, ?, ?, ?) RETURNING id',
      [m.id, sha256(`${m.id}:${code}`), expiresAt, now],
    );
    return { challengeId: row.id, to: m.phone ?? m.email ?? '', member: m };
  });
  try {
    await ctx.notifier.send({ to, kind: 'otp', code });
  } catch (error) {
    throw new DomainError(
      'delivery_failed',
      'The one-time code could not be sent; try again shortly',
      undefined,
      {
        cause: error,
      },
    );
  }
  const masked = to.includes('@') ? to.replace(/^(.).*(@.*)$/, '$1***$2') : `***${to.slice(-3)}`;
  return { challengeId, memberId: member.id, expiresAt, sentTo: masked };
}

/** Completes an OTP exchange and returns a member token. */
export async function verifyOtp(
  ctx: DomainContext,
  challengeId: number,
  code: string,
): Promise<{ token: string; memberId: number; expiresAt: number }> {
  const now = ctx.now();
  const memberId = await ctx.store.transact(async (tx) => {
    const c = await tx.one<{
      member_id: number;
      code_hash: string;
      attempts: number;
      expires_at: number;
      used_at: number | null;
    }>(
      `SELECT member_id, code_hash, attempts, expires_at, used_at FROM otp_challenges WHERE id = ?${tx.forUpdate}`,
      [challengeId],
    );
    if (!c || c.used_at !== null || c.expires_at <= now || c.attempts >= OTP_MAX_ATTEMPTS) {
      return { ok: false as const, reason: 'This code has expired or was already used; request a new one' };
    }
    const good = timingSafeEqual(Buffer.from(sha256(`${c.member_id}:${code}`)), Buffer.from(c.code_hash));
    await tx.run('UPDATE otp_challenges SET attempts = attempts + 1, used_at = ? WHERE id = ?', [
      good ? now : null,
      challengeId,
    ]);
    return good ? { ok: true as const, memberId: c.member_id } : { ok: false as const, reason: 'Wrong code' };
  });
  if (!memberId.ok) throw new DomainError('otp_invalid', memberId.reason);
  const expiresAt = now + ctx.settings.memberTokenTtlSeconds * 1000;
  const token = await new SignJWT({ scope: 'member' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(String(memberId.memberId))
    .setIssuedAt(Math.floor(now / 1000))
    .setExpirationTime(Math.floor(expiresAt / 1000))
    .sign(new TextEncoder().encode(ctx.settings.memberTokenKey));
  return { token, memberId: memberId.memberId, expiresAt };
}

/** Returns the member id a token was issued for, or throws member_token_invalid. */
export async function verifyMemberToken(ctx: DomainContext, token: string): Promise<number> {
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(ctx.settings.memberTokenKey), {
      algorithms: ['HS256'],
      currentDate: new Date(ctx.now()),
    });
    const id = Number(payload.sub);
    if (payload['scope'] !== 'member' || !Number.isSafeInteger(id)) throw new Error('not a member token');
    return id;
  } catch {
    throw new DomainError(
      'member_token_invalid',
      'The member token is invalid or expired; sign the member in again',
    );
  }
}
