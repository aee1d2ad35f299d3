// Native API (/v1) over a real SQLite file: every route's happy path with ledger and balance checks,
// idempotency (replay, conflict, concurrency, missing key), the PIN flow with lockout, maturation,
// expiry, cumulative refunds, and auth failures in the native error shape that change nothing.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { revokeApp } from '../../engine/domain/apps.ts';
import type { NewProgram } from '../../engine/domain/programs.ts';
import { startHarness, type Harness } from './harness.ts';

const VISA = '4111111111111111';
const WALLET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

let h: Harness;
let till: Record<string, string>;
let admin: Record<string, string>;
let keyCounter = 0;

beforeEach(async () => {
  h = await startHarness();
  till = (await h.app(['cashback_read', 'cashback_write', 'card_read'])).headers;
  admin = (await h.app(['admin'])).headers;
});
afterEach(() => h.close());

const newKey = () => `key-${++keyCounter}`;

function post(
  url: string,
  body: unknown,
  opts: { key?: string | null; headers?: Record<string, string> } = {},
) {
  const key = opts.key === undefined ? newKey() : opts.key;
  return h.request({
    method: 'POST',
    url: `/v1${url}`,
    headers: { ...till, ...(key === null ? {} : { 'idempotency-key': key }), ...opts.headers },
    body,
  });
}

function put(url: string, body: unknown, headers: Record<string, string>) {
  return h.request({
    method: 'PUT',
    url: `/v1${url}`,
    headers: { 'idempotency-key': newKey(), ...headers },
    body,
  });
}

function get(url: string, headers: Record<string, string> = till) {
  return h.request({ method: 'GET', url: `/v1${url}`, headers });
}

async function count(sql: string, params: (string | number)[] = []): Promise<number> {
  const row = await h.store.read((tx) => tx.one<{ n: number }>(sql, params));
  return Number(row?.n ?? 0);
}
const transactions = (type?: string) =>
  type === undefined
    ? count('SELECT COUNT(*) AS n FROM transactions')
    : count('SELECT COUNT(*) AS n FROM transactions WHERE type = ?', [type]);

/** A 5% TND program (3 decimals: 1000 minor = 1 TND) unless told otherwise. */
const program = (p: Partial<NewProgram> = {}) => h.program(p);

async function earnFor(
  programId: number,
  member: unknown,
  amount: number,
  extra: Record<string, unknown> = {},
) {
  const res = await post('/earn', { program_id: programId, member, purchase_amount: amount, ...extra });
  expect(res.status, res.text).toBe(200);
  return res.body as {
    transaction_id: number;
    member_id: number;
    cashback_earned: number;
    balance: { available: number; maturing: number; held: number; currency: string };
  };
}

async function balanceOf(memberId: number, programId: number) {
  const res = await get(`/members/${memberId}/balance?program_id=${programId}`);
  expect(res.status, res.text).toBe(200);
  return res.body.balance as { available: number; maturing: number; held: number; currency: string };
}

/** The last one-time code the notifier delivered. */
const lastCode = () => h.sent.at(-1)?.code ?? '';

/** Signs the member in through the OTP exchange and returns a member token. */
async function memberToken(member: unknown): Promise<string> {
  const otp = await post('/otp', { member });
  expect(otp.status, otp.text).toBe(200);
  const code = lastCode();
  const verified = await post('/otp/verify', { challenge_id: otp.body.challenge_id, code });
  expect(verified.status, verified.text).toBe(200);
  return verified.body.member_token as string;
}

describe('earn', () => {
  it('earns, creates the member by email, and reports the balance in minor units', async () => {
    const card = await program();
    const res = await post('/earn', {
      program_id: card,
      member: { email: 'ana@example.com' },
      member_name: 'Ana',
      purchase_amount: 50_000,
      reference: 'ORDER-1',
      metadata: { till: 3 },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      member_created: true,
      program_id: card,
      purchase_amount: 50_000,
      cashback_bps: 500,
      cashback_earned: 2_500,
      currency: 'TND',
      status: 'available',
      matures_at: null,
      balance: { available: 2_500, maturing: 0, held: 0, currency: 'TND' },
      earned_at: '2026-01-15T10:30:00Z',
      replayed: false,
    });
    expect(res.body.transaction_id).toBeTypeOf('number');
    expect(await balanceOf(res.body.member_id, card)).toEqual({
      available: 2_500,
      maturing: 0,
      held: 0,
      currency: 'TND',
    });
    const again = await earnFor(card, { email: 'ANA@example.com' }, 10_000);
    expect(again).toMatchObject({ member_id: res.body.member_id, cashback_earned: 500 });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('rejects decimal amounts, unknown members and bad member objects, changing nothing', async () => {
    const card = await program();
    const cases: [unknown, number, string][] = [
      [
        { program_id: card, member: { email: 'a@example.com' }, purchase_amount: 1.5, member_name: 'A' },
        400,
        'validation_error',
      ],
      [
        { program_id: card, member: { email: 'a@example.com' }, purchase_amount: 0, member_name: 'A' },
        400,
        'validation_error',
      ],
      [
        { program_id: card, member: { email: 'a@example.com' }, purchase_amount: -5, member_name: 'A' },
        400,
        'validation_error',
      ],
      [
        { program_id: card, member: { email: 'a@example.com', phone: '+216 1234' }, purchase_amount: 10 },
        400,
        'validation_error',
      ],
      [{ program_id: card, member: {}, purchase_amount: 10 }, 400, 'validation_error'],
      [
        { program_id: card, member: { email: 'nobody@example.com' }, purchase_amount: 10 },
        404,
        'member_not_found',
      ],
      [
        { program_id: 999, member: { email: 'a@example.com' }, purchase_amount: 10, member_name: 'A' },
        404,
        'program_not_found',
      ],
    ];
    for (const [body, status, code] of cases) {
      const res = await post('/earn', body);
      expect(res.status, res.text).toBe(status);
      expect(res.body.error.code).toBe(code);
      expect(res.body.error.message).toBeTypeOf('string');
    }
    const decimal = await h.request({
      method: 'POST',
      url: '/v1/earn',
      headers: { ...till, 'idempotency-key': newKey() },
      rawBody: `{"program_id": ${card}, "member": {"email": "a@example.com"}, "member_name": "A", "purchase_amount": 50.00}`,
    });
    expect(decimal.status).toBe(400);
    expect(decimal.body.error.message).toContain('purchase_amount');
    expect(await transactions()).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM members')).toBe(0);
  });
});

describe('members and cards', () => {
  it('creates a member, links a card without keeping the PAN, and earns by card', async () => {
    const card = await program();
    const created = await post('/members', { email: 'bo@example.com', phone: '+216 20 123 456', name: 'Bo' });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      email: 'bo@example.com',
      phone: '+21620123456',
      name: 'Bo',
      has_pin: false,
      replayed: false,
    });
    const memberId = created.body.member_id as number;

    const linked = await post(`/members/${memberId}/cards`, { pan: VISA });
    expect(linked.status, linked.text).toBe(201);
    expect(linked.body).toMatchObject({
      member_id: memberId,
      first6: '411111',
      last4: '1111',
      replayed: false,
    });
    expect(linked.text).not.toContain(VISA);

    const earned = await earnFor(card, { card: { pan: VISA } }, 20_000);
    expect(earned.member_id).toBe(memberId);
    expect(earned.cashback_earned).toBe(1_000);

    // The PAN is nowhere in the database: cards, idempotency records, transactions.
    for (const table of ['member_cards', 'idempotency_keys', 'transactions', 'members']) {
      const rows = await h.store.read((tx) => tx.all<Record<string, unknown>>(`SELECT * FROM ${table}`));
      expect(JSON.stringify(rows)).not.toContain(VISA);
    }
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('refuses a bad PAN without echoing it, and a member with neither email nor phone', async () => {
    const created = await post('/members', { phone: '+216 99 000 111' });
    const badLuhn = '4111111111111112';
    const res = await post(`/members/${created.body.member_id}/cards`, { pan: badLuhn });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_error');
    expect(res.text).not.toContain(badLuhn);
    const short = await post(`/members/${created.body.member_id}/cards`, { pan: '4111' });
    expect(short.status).toBe(400);
    const byCard = await post('/earn', {
      program_id: await program(),
      member: { card: { pan: badLuhn } },
      purchase_amount: 10,
    });
    expect(byCard.status).toBe(400);
    expect(byCard.text).not.toContain(badLuhn);
    const nameOnly = await post('/members', { name: 'Nameless' });
    expect(nameOnly.status).toBe(400);
    expect(nameOnly.body.error.message).toMatch(/email or a phone/);
    const unknownMember = await post('/members/999/cards', { pan: VISA });
    expect(unknownMember.status).toBe(404);
    expect(await count('SELECT COUNT(*) AS n FROM member_cards')).toBe(0);
  });

  it('a card linked to one member cannot be linked to another', async () => {
    const a = await post('/members', { email: 'a@example.com' });
    const b = await post('/members', { email: 'b@example.com' });
    expect((await post(`/members/${a.body.member_id}/cards`, { pan: VISA })).status).toBe(201);
    const again = await post(`/members/${b.body.member_id}/cards`, { pan: VISA });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('conflict');
    expect(again.text).not.toContain(VISA);
  });
});

describe('idempotency', () => {
  const earnBody = (card: number, amount = 30_000) => ({
    program_id: card,
    member: { email: 'kim@example.com' },
    member_name: 'Kim',
    purchase_amount: amount,
  });

  it('same key and body: the stored answer, replayed, one effect; other body: 409', async () => {
    const card = await program();
    const first = await post('/earn', earnBody(card), { key: 'till-7-0001' });
    const second = await post('/earn', earnBody(card), { key: 'till-7-0001' });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(first.body.replayed).toBe(false);
    expect(second.body.replayed).toBe(true);
    expect({ ...second.body, replayed: false }).toEqual(first.body);
    expect(await transactions('earn')).toBe(1);

    const other = await post('/earn', earnBody(card, 30_001), { key: 'till-7-0001' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    expect(await transactions('earn')).toBe(1);
    expect((await balanceOf(first.body.member_id, card)).available).toBe(1_500);

    // The same key string on another operation is another namespace.
    const otherOp = await post('/members', { email: 'lee@example.com' }, { key: 'till-7-0001' });
    expect(otherOp.status).toBe(201);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('20 concurrent requests with one key: one effect, one transaction id', async () => {
    const card = await program();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => post('/earn', earnBody(card), { key: 'burst-1' })),
    );
    for (const r of results) expect(r.status, r.text).toBe(200);
    expect(new Set(results.map((r) => r.body.transaction_id)).size).toBe(1);
    expect(results.filter((r) => !r.body.replayed)).toHaveLength(1);
    expect(await transactions('earn')).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM members')).toBe(1);
    expect((await balanceOf(results[0]?.body.member_id, card)).available).toBe(1_500);

    const members = await Promise.all(
      Array.from({ length: 20 }, () => post('/members', { email: 'burst@example.com' }, { key: 'burst-2' })),
    );
    for (const r of members) expect(r.status, r.text).toBe(201);
    expect(new Set(members.map((r) => r.body.member_id)).size).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM members')).toBe(2);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('one code per key: concurrent and repeated OTP requests share one challenge', async () => {
    await post('/members', { phone: '+216 70 000 000' });
    await post('/members', { phone: '+216 70 000 001' });
    const member = { phone: '+216 70 000 000' };
    const all = await Promise.all(
      Array.from({ length: 20 }, () => post('/otp', { member }, { key: 'otp-1' })),
    );
    for (const r of all) expect(r.status, r.text).toBe(200);
    expect(new Set(all.map((r) => r.body.challenge_id)).size).toBe(1);
    expect(all.filter((r) => !r.body.replayed)).toHaveLength(1);
    const later = await post('/otp', { member }, { key: 'otp-1' });
    expect(later.body).toMatchObject({ challenge_id: all[0]?.body.challenge_id, replayed: true });
    expect(h.sent).toHaveLength(1);
    expect(await count('SELECT COUNT(*) AS n FROM otp_challenges')).toBe(1);
    const other = await post('/otp', { member: { phone: '+216 70 000 001' } }, { key: 'otp-1' });
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    expect(h.sent).toHaveLength(1);
    // The stored answer holds no code.
    const stored = await h.store.read((tx) =>
      tx.all<{ result: string }>('SELECT result FROM idempotency_keys'),
    );
    expect(stored.map((r) => r.result).join()).not.toContain(h.sent[0]?.code);
  });

  it('every write needs an Idempotency-Key header', async () => {
    const card = await program();
    const missing = await post('/earn', earnBody(card), { key: null });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({
      error: { code: 'validation_error', message: 'Idempotency-Key header is required' },
    });
    const tooLong = await post('/earn', earnBody(card), { key: 'k'.repeat(201) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.code).toBe('validation_error');
    const writes: [string, unknown][] = [
      ['/members', { email: 'x@example.com' }],
      ['/redeem', { program_id: card, member: { id: 1 }, amount: 1, pin: '1234' }],
      ['/refund', { program_id: card, member: { id: 1 }, refund_amount: 1 }],
      ['/otp', { member: { id: 1 } }],
    ];
    for (const [url, body] of writes) {
      const res = await post(url, body, { key: null });
      expect(res.status, url).toBe(400);
      expect(res.body.error.message).toBe('Idempotency-Key header is required');
    }
    const adminWrite = await post(
      '/programs',
      { unique_identifier: 'X', name: 'X', currency: 'USD', cashback_bps: 1 },
      {
        key: null,
        headers: admin,
      },
    );
    expect(adminWrite.body.error.message).toBe('Idempotency-Key header is required');
    expect(await transactions()).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM members')).toBe(0);
  });
});

describe('redeem and the PIN flow', () => {
  it('redeems with a member token from the OTP exchange', async () => {
    const card = await program();
    const earned = await earnFor(card, { phone: '+216 55 000 001' }, 100_000, { member_name: 'Sami' });
    const otp = await post('/otp', { member: { phone: '+216 55 000 001' } });
    expect(otp.body).toMatchObject({ member_id: earned.member_id, sent_to: '***001', replayed: false });
    expect(h.sent.at(-1)).toMatchObject({ to: '+21655000001', kind: 'otp' });
    const wrong = await post('/otp/verify', {
      challenge_id: otp.body.challenge_id,
      code: lastCode() === '000000' ? '111111' : '000000',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('otp_invalid');
    const verified = await post('/otp/verify', {
      challenge_id: otp.body.challenge_id,
      code: lastCode(),
    });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.member_id).toBe(earned.member_id);

    const res = await post(
      '/redeem',
      { program_id: card, amount: 2_000, reference: 'BASKET-9' },
      { headers: { 'x-member-token': verified.body.member_token } },
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      member_id: earned.member_id,
      amount_redeemed: 2_000,
      currency: 'TND',
      balance: { available: 3_000, maturing: 0, held: 0, currency: 'TND' },
      replayed: false,
    });
    const tooMuch = await post(
      '/redeem',
      { program_id: card, amount: 3_001 },
      { headers: { 'x-member-token': verified.body.member_token } },
    );
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('insufficient_balance');
    const noProof = await post('/redeem', { program_id: card, member: { id: earned.member_id }, amount: 1 });
    expect(noProof.status).toBe(401);
    expect(noProof.body.error.code).toBe('member_token_required');
    expect(await transactions('redeem')).toBe(1);
    expect(await balanceOf(earned.member_id, card)).toMatchObject({ available: 3_000 });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('sets a PIN with a member token, redeems by PIN, locks after 5 wrong PINs for 15 minutes', async () => {
    const card = await program({ allowsPinRedemption: true });
    const noPin = await program();
    const member = { email: 'pat@example.com' };
    const earned = await earnFor(card, member, 200_000, { member_name: 'Pat' });
    const id = earned.member_id;

    const refused = await put(`/members/${id}/pin`, { pin: '4321' }, till);
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('member_token_required');

    const token = await memberToken(member);
    const set = await put(`/members/${id}/pin`, { pin: '4321' }, { ...till, 'x-member-token': token });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toEqual({ ok: true, member_id: id });
    const other = await post('/members', { email: 'other@example.com' });
    const notTheirs = await put(
      `/members/${other.body.member_id}/pin`,
      { pin: '1111' },
      { ...till, 'x-member-token': token },
    );
    expect(notTheirs.status).toBe(401);
    expect(notTheirs.body.error.code).toBe('member_token_invalid');

    const redeemPin = (pin: string, programId = card) =>
      post('/redeem', { program_id: programId, member, amount: 1_000, pin });
    const ok = await redeemPin('4321');
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.balance.available).toBe(9_000);
    const disabled = await redeemPin('4321', noPin);
    expect(disabled.status).toBe(403);
    expect(disabled.body.error.code).toBe('pin_redemption_disabled');

    for (let i = 1; i <= 4; i++) {
      const wrong = await redeemPin('0000');
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toMatchObject({ code: 'pin_invalid', details: { attempts_left: 5 - i } });
    }
    const locked = await redeemPin('0000');
    expect(locked.status).toBe(423);
    expect(locked.body.error.code).toBe('pin_locked');
    const stillLocked = await redeemPin('4321');
    expect(stillLocked.status).toBe(423);
    expect(await transactions('redeem')).toBe(1);

    h.clock.now += 15 * 60_000;
    const unlocked = await redeemPin('4321');
    expect(unlocked.status, unlocked.text).toBe(200);
    expect(unlocked.body.balance.available).toBe(8_000);

    const attempts = await h.store.read((tx) =>
      tx.all<{ ok: number; app_id: string }>(
        'SELECT ok, app_id FROM pin_attempts WHERE member_id = ? ORDER BY id',
        [id],
      ),
    );
    expect(attempts.map((a) => a.ok)).toEqual([1, 0, 0, 0, 0, 0, 0, 1]);
    expect(attempts.every((a) => a.app_id === till['x-app-id'])).toBe(true);
    // The PIN itself is nowhere but in its scrypt hash.
    const pinHash = await h.store.read((tx) =>
      tx.one<{ pin_hash: string }>('SELECT pin_hash FROM members WHERE id = ?', [id]),
    );
    expect(pinHash?.pin_hash).toMatch(/^scrypt\$/);
    const keys = await h.store.read((tx) => tx.all('SELECT * FROM idempotency_keys'));
    expect(JSON.stringify(keys)).not.toContain('4321');
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('an admin app may set a PIN without a member token', async () => {
    const created = await post('/members', { email: 'ad@example.com' });
    const res = await put(`/members/${created.body.member_id}/pin`, { pin: '987654' }, admin);
    expect(res.status, res.text).toBe(200);
    const bad = await put(`/members/${created.body.member_id}/pin`, { pin: '12' }, admin);
    expect(bad.status).toBe(400);
  });
});

describe('maturation and expiry', () => {
  it('keeps cashback maturing for maturation_days, then makes it available', async () => {
    const card = await program({ maturationDays: 7 });
    const earned = await post('/earn', {
      program_id: card,
      member: { email: 'mo@example.com' },
      member_name: 'Mo',
      purchase_amount: 40_000,
    });
    expect(earned.body).toMatchObject({
      status: 'maturing',
      cashback_earned: 2_000,
      matures_at: '2026-01-22T10:30:00Z',
      balance: { available: 0, maturing: 2_000 },
    });
    const id = earned.body.member_id as number;
    expect(await balanceOf(id, card)).toMatchObject({ available: 0, maturing: 2_000 });
    h.clock.advanceDays(6);
    expect(await balanceOf(id, card)).toMatchObject({ available: 0, maturing: 2_000 });
    h.clock.advanceDays(1);
    expect(await balanceOf(id, card)).toMatchObject({ available: 2_000, maturing: 0 });
    expect(await transactions('mature')).toBe(1);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('expires the oldest earn first, as a ledger transfer, when the sweep runs', async () => {
    const card = await program({ expiryDays: 30 });
    const member = { email: 'ex@example.com' };
    const first = await earnFor(card, member, 20_000, { member_name: 'Ex' });
    h.clock.advanceDays(10);
    const second = await earnFor(card, member, 60_000);
    expect(second.balance.available).toBe(4_000);

    h.clock.advanceDays(20);
    const swept = await h.engine.sweep();
    expect(swept.expired).toBe(1);
    expect(await balanceOf(first.member_id, card)).toMatchObject({ available: 3_000 });
    const expired = await h.store.read((tx) =>
      tx.all<{ id: number; amount: number; related_id: number }>(
        `SELECT id, amount, related_id FROM transactions WHERE type = 'expire'`,
      ),
    );
    expect(expired).toEqual([{ id: expect.any(Number), amount: -1_000, related_id: first.transaction_id }]);
    const transfer = await h.store.read((tx) =>
      tx.one<{ amount: number; debit: string; credit: string }>(
        `SELECT t.amount, d.code AS debit, c.code AS credit FROM transfers t
           JOIN accounts d ON d.id = t.debit_account_id JOIN accounts c ON c.id = t.credit_account_id
          WHERE t.transaction_id = ?`,
        [expired[0]?.id ?? 0],
      ),
    );
    expect(transfer).toEqual({
      amount: 1_000,
      debit: `member:${first.member_id}:program:${card}:available`,
      credit: `program:${card}:expired`,
    });
    const hist = await get(`/members/${first.member_id}/history?program_id=${card}`);
    expect(hist.body.entries[0]).toMatchObject({
      type: 'expire',
      amount: -1_000,
      currency: 'TND',
      related_transaction_id: first.transaction_id,
    });

    h.clock.advanceDays(10);
    await h.engine.sweep();
    expect(await balanceOf(first.member_id, card)).toMatchObject({ available: 0 });
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('refund', () => {
  it('claws back cumulatively: three partial refunds sum to the whole earn', async () => {
    const card = await program();
    const earned = await earnFor(card, { email: 'rf@example.com' }, 999, {
      member_name: 'Rf',
      reference: 'SALE-1',
    });
    expect(earned.cashback_earned).toBe(49);
    const deducted: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await post('/refund', {
        program_id: card,
        member: { id: earned.member_id },
        refund_amount: 333,
        original_transaction_id: earned.transaction_id,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body).toMatchObject({
        original_transaction_id: earned.transaction_id,
        currency: 'TND',
        balance_warning: null,
      });
      deducted.push(res.body.cashback_deducted);
    }
    expect(deducted).toEqual([16, 16, 17]);
    expect(deducted.reduce((a, b) => a + b)).toBe(earned.cashback_earned);
    expect(await balanceOf(earned.member_id, card)).toMatchObject({ available: 0 });

    const over = await post('/refund', {
      program_id: card,
      member: { id: earned.member_id },
      refund_amount: 1,
      original_reference: 'SALE-1',
    });
    expect(over.status).toBe(422);
    expect(over.body.error.code).toBe('refund_exceeds_purchase');
    const both = await post('/refund', {
      program_id: card,
      member: { id: earned.member_id },
      refund_amount: 1,
      original_reference: 'SALE-1',
      original_transaction_id: earned.transaction_id,
    });
    expect(both.status).toBe(400);
    expect(await transactions('refund')).toBe(3);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('warns when the clawback takes the balance below zero', async () => {
    const card = await program();
    const earned = await earnFor(card, { email: 'neg@example.com' }, 20_000, { member_name: 'Neg' });
    const spent = await post(
      '/adjustments',
      { program_id: card, member: { id: earned.member_id }, amount: -800, reason: 'Goodwill reversal' },
      { headers: admin },
    );
    expect(spent.status, spent.text).toBe(200);
    expect(spent.body.balance.available).toBe(200);
    const res = await post('/refund', {
      program_id: card,
      member: { id: earned.member_id },
      refund_amount: 20_000,
      original_transaction_id: earned.transaction_id,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      cashback_deducted: 1_000,
      previous_available: 200,
      balance: { available: -800 },
    });
    expect(res.body.balance_warning).toMatch(/balance/);
    expect(await balanceOf(earned.member_id, card)).toMatchObject({ available: -800 });
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('adjustments and history', () => {
  it('adjusts with a reason (admin only) and pages history by offset and cursor', async () => {
    const card = await program();
    const earned = await earnFor(card, { email: 'hi@example.com' }, 10_000, {
      member_name: 'Hi',
      reference: 'R-1',
    });
    await earnFor(card, { id: earned.member_id }, 20_000, { reference: 'R-2' });
    const adj = await post(
      '/adjustments',
      { program_id: card, member: { id: earned.member_id }, amount: 250, reason: 'Missed receipt' },
      { headers: admin },
    );
    expect(adj.status, adj.text).toBe(200);
    expect(adj.body).toMatchObject({
      amount: 250,
      currency: 'TND',
      reason: 'Missed receipt',
      balance: { available: 1_750 },
    });

    const notAdmin = await post('/adjustments', {
      program_id: card,
      member: { id: earned.member_id },
      amount: 5,
      reason: 'x y z',
    });
    expect(notAdmin.status).toBe(403);
    expect(notAdmin.body.error.code).toBe('forbidden');
    for (const body of [
      { program_id: card, member: { id: earned.member_id }, amount: 0, reason: 'Zero' },
      { program_id: card, member: { id: earned.member_id }, amount: 5 },
      { program_id: card, member: { id: earned.member_id }, amount: 5, reason: '' },
    ]) {
      const res = await post('/adjustments', body, { headers: admin });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
    expect(await transactions('adjust')).toBe(1);

    const page1 = await get(`/members/${earned.member_id}/history?program_id=${card}&limit=2`);
    expect(page1.status, page1.text).toBe(200);
    expect(page1.body.entries.map((e: { type: string }) => e.type)).toEqual(['adjust', 'earn']);
    expect(page1.body.entries[0]).toMatchObject({
      amount: 250,
      reason: 'Missed receipt',
      purchase_amount: null,
    });
    expect(page1.body.entries[1]).toMatchObject({ amount: 1_000, purchase_amount: 20_000, reference: 'R-2' });
    expect(page1.body.pagination).toMatchObject({ limit: 2, offset: 0, total: 3, has_more: true });
    const page2 = await get(
      `/members/${earned.member_id}/history?program_id=${card}&limit=2&before=${page1.body.pagination.next_cursor}`,
    );
    expect(page2.body.entries.map((e: { reference: string }) => e.reference)).toEqual(['R-1']);
    expect(page2.body.pagination).toMatchObject({ has_more: false, next_cursor: null });
    const byOffset = await get(`/members/${earned.member_id}/history?program_id=${card}&limit=2&offset=2`);
    expect(byOffset.body.entries.map((e: { reference: string }) => e.reference)).toEqual(['R-1']);
    const bad = await get(`/members/${earned.member_id}/history?program_id=${card}&limit=101`);
    expect(bad.status).toBe(400);
    const both = await get(`/members/${earned.member_id}/history?program_id=${card}&offset=1&before=5`);
    expect(both.status).toBe(400);
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('programs, partners, textcoins, ledger', () => {
  it('creates and lists programs', async () => {
    const body = {
      unique_identifier: 'GOLD',
      name: 'Gold',
      currency: 'USD',
      cashback_bps: 250,
      min_purchase: 1_000,
      max_cashback: 500,
      allows_pin_redemption: true,
      maturation_days: 3,
      expiry_days: 90,
    };
    const created = await post('/programs', body, { key: 'prog-1', headers: admin });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({ ...body, description: '', replayed: false });
    const replay = await post('/programs', body, { key: 'prog-1', headers: admin });
    expect(replay.status).toBe(201);
    expect(replay.body).toMatchObject({ program_id: created.body.program_id, replayed: true });
    const conflict = await post(
      '/programs',
      { ...body, cashback_bps: 300 },
      { key: 'prog-1', headers: admin },
    );
    expect(conflict.status).toBe(409);
    const duplicate = await post('/programs', body, { headers: admin });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.error.code).toBe('conflict');
    const badCurrency = await post(
      '/programs',
      { ...body, unique_identifier: 'X', currency: 'XXX' },
      { headers: admin },
    );
    expect(badCurrency.status).toBe(400);
    const notAdmin = await post('/programs', { ...body, unique_identifier: 'Y' });
    expect(notAdmin.status).toBe(403);

    const list = await get('/programs');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({
      total: 1,
      programs: [{ ...body, program_id: created.body.program_id }],
    });
    const readOnly = (await h.app(['cashback_read'])).headers;
    expect((await get('/programs', readOnly)).status).toBe(403);
  });

  it('creates partners, takes deposits once per key, and lists them', async () => {
    const partnerApp = await h.app(['partner'], { appId: 'shop-1' });
    const created = await post('/partners', { app_id: partnerApp.appId, base_bps: 100 }, { headers: admin });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      app_id: 'shop-1',
      unit: 'GBYTE',
      base_bps: 100,
      max_partner_bps: 1_000,
      deposit: 0,
      currency: 'GBYTE',
    });
    const deposit = () =>
      post(
        '/partners/shop-1/deposits',
        { amount: 5_000_000_000, reference: 'WIRE-1' },
        { key: 'dep-1', headers: admin },
      );
    const [d1, d2] = [await deposit(), await deposit()];
    expect(d1.status, d1.text).toBe(200);
    expect(d1.body).toMatchObject({
      amount: 5_000_000_000,
      deposit: 5_000_000_000,
      currency: 'GBYTE',
      replayed: false,
    });
    expect(d2.body).toMatchObject({ transaction_id: d1.body.transaction_id, replayed: true });
    expect(await transactions('partner_deposit')).toBe(1);
    const list = await get('/partners', admin);
    expect(list.body).toMatchObject({ total: 1, partners: [{ app_id: 'shop-1', deposit: 5_000_000_000 }] });
    expect((await get('/partners')).status).toBe(403);
    const noApp = await post('/partners', { app_id: 'nope-app', base_bps: 1 }, { headers: admin });
    expect(noApp.status).toBe(404);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('claims a textcoin into a wallet once', async () => {
    const partnerApp = await h.app(['partner'], { appId: 'shop-2' });
    await post('/partners', { app_id: partnerApp.appId, base_bps: 1_000 }, { headers: admin });
    const purchase = await h.request({
      method: 'POST',
      url: '/new_purchase',
      body: {
        partner: partnerApp.appId,
        partner_key: partnerApp.secret,
        customer: 'c-1',
        order_id: 'o-1',
        description: 'shoes',
        address: 'friend@example.com',
        currency: 'GBYTE',
        currency_amount: 1,
      },
    });
    expect(purchase.status, purchase.text).toBe(200);
    const code = h.sent.find((m) => m.kind === 'textcoin')?.code ?? '';
    const claim = () => post('/textcoins/claim', { claim_code: code, address: WALLET }, { key: 'claim-1' });
    const [c1, c2] = [await claim(), await claim()];
    expect(c1.status, c1.text).toBe(200);
    expect(c1.body).toMatchObject({
      amount: 100_000_000,
      currency: 'GBYTE',
      address: WALLET,
      replayed: false,
    });
    expect(c2.body).toMatchObject({ transaction_id: c1.body.transaction_id, replayed: true });
    expect(await transactions('textcoin_claim')).toBe(1);
    const again = await post('/textcoins/claim', { claim_code: code, address: WALLET });
    expect(again.status).toBe(404);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('verifies the ledger (admin only)', async () => {
    const card = await program();
    await earnFor(card, { email: 'l@example.com' }, 10_000, { member_name: 'L' });
    const res = await get('/ledger/verify', admin);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      ok: true,
      problems: [],
      currencies: { TND: { debits: 500, credits: 500 } },
    });
    expect(res.body.transfers).toBe(1);
    expect((await get('/ledger/verify')).status).toBe(403);
  });
});

describe('auth and errors', () => {
  it('401 without or with wrong credentials, 401 for a revoked app, 403 without the scope; nothing changes', async () => {
    const card = await program();
    const body = {
      program_id: card,
      member: { email: 'z@example.com' },
      member_name: 'Z',
      purchase_amount: 1_000,
    };
    const send = (headers: Record<string, string>) =>
      h.request({
        method: 'POST',
        url: '/v1/earn',
        headers: { 'idempotency-key': newKey(), ...headers },
        body,
      });

    const none = await send({});
    expect(none.status).toBe(401);
    expect(none.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    const wrongKey = await send({ 'x-app-id': till['x-app-id'] ?? '', 'x-api-key': 'sk_wrong' });
    expect(wrongKey.status).toBe(401);
    expect(wrongKey.body.error.code).toBe('unauthorized');
    const unknownApp = await send({ 'x-app-id': 'app_unknown', 'x-api-key': 'sk_wrong' });
    expect(unknownApp.body.error.message).toBe(wrongKey.body.error.message);

    const revoked = await h.app(['cashback_write']);
    await h.store.transact((tx) => revokeApp(tx, revoked.appId, h.clock.now));
    const rev = await send(revoked.headers);
    expect(rev.status).toBe(401);
    expect(rev.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/revoked/) });

    const readOnly = await h.app(['cashback_read']);
    const forbidden = await send(readOnly.headers);
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toEqual({
      error: { code: 'forbidden', message: expect.stringMatching(/cashback_write/) },
    });

    expect(await transactions()).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM members')).toBe(0);
    expect(await count('SELECT COUNT(*) AS n FROM idempotency_keys')).toBe(0);
  });

  it('answers malformed JSON and unknown routes in the native shape', async () => {
    const malformed = await h.request({
      method: 'POST',
      url: '/v1/earn',
      headers: { ...till, 'idempotency-key': newKey() },
      rawBody: '{"program_id": ',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('malformed_json');
    const missing = await get('/nowhere');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });

  it('documents every native route with its Idempotency-Key header', async () => {
    const doc = await h.request({ method: 'GET', url: '/docs/json' });
    const paths = Object.keys(doc.body.paths).filter((p) => p.startsWith('/v1/'));
    expect(paths.sort()).toEqual(
      [
        '/v1/adjustments',
        '/v1/claims',
        '/v1/claims/{id}',
        '/v1/claims/{id}/cancel',
        '/v1/public/claims/{id}',
        '/v1/public/claims/{id}/open',
        '/v1/public/claims/{id}/status',
        '/v1/public/claims/{id}/submit',
        '/v1/earn',
        '/v1/ledger/verify',
        '/v1/members',
        '/v1/members/lookup',
        '/v1/members/{id}/balance',
        '/v1/members/{id}/cards',
        '/v1/members/{id}/history',
        '/v1/members/{id}/pin',
        '/v1/otp',
        '/v1/otp/verify',
        '/v1/partners',
        '/v1/partners/{app_id}/deposits',
        '/v1/programs',
        '/v1/redeem',
        '/v1/refund',
        '/v1/reports/tills',
        '/v1/textcoins/claim',
        '/v1/webhooks/deliveries',
        '/v1/webhooks/deliveries/{id}',
        '/v1/webhooks/resend/{id}',
      ].sort(),
    );
    const earnParams = doc.body.paths['/v1/earn'].post.parameters as {
      name: string;
      in: string;
      required: boolean;
    }[];
    expect(earnParams).toContainEqual(
      expect.objectContaining({ name: 'idempotency-key', in: 'header', required: true }),
    );
  });
});
