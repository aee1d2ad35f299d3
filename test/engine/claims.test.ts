// Cashout claims over HTTP on a real SQLite file with the sandbox provider and the payout worker:
// the lifecycle with its outbox events, member-funded holds (post, void, expiry) in the ledger and
// the member's history, every sandbox outcome, fifty concurrent submissions paying once, and bad
// input on every claim route answered in the native error shape with nothing changed.
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../engine/logger.ts';
import { INSERTION_ORDER } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VISA = '4111111111111111';
const FINAL = ['paid', 'failed', 'expired', 'cancelled'];

let h: Harness;
let till: Record<string, string>;
let keyCounter = 0;
const newKey = () => `claim-key-${++keyCounter}`;

beforeEach(async () => {
  h = await startHarness({
    publicUrl: 'https://pay.example.com/',
    payouts: { retryBaseMs: 1_000, pollIntervalMs: 5_000 },
  });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
});
afterEach(() => h.close());

const createClaim = (body: Record<string, unknown>, key = newKey(), headers = till) =>
  h.request({ method: 'POST', url: '/v1/claims', headers: { ...headers, 'idempotency-key': key }, body });
const storeClaim = async (amount: number, extra: Record<string, unknown> = {}) => {
  const res = await createClaim({ amount, currency: 'AUD', store_name: 'Corner Store', ...extra });
  expect(res.status).toBe(201);
  return res.body as { claim_id: string; url: string; status: string };
};
const page = (id: string, path = '') => h.request({ method: 'GET', url: `/v1/public/claims/${id}${path}` });
const submit = (id: string, method: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  h.request({
    method: 'POST',
    url: `/v1/public/claims/${id}/submit`,
    body: { method, consent: true, ...extra },
  });
const card = { kind: 'card', number: VISA, expiry: '12/30' };

/** Waits for the payout worker to bring a claim to one of `states` (the clock stays still). */
async function settle(id: string, states = FINAL): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    await h.engine.payouts.idle();
    const res = await page(id, '/status');
    if (states.includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`claim ${id} stuck in ${res.body.status}`);
    h.engine.payouts.kick();
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function count(sql: string, params: (string | number)[] = []): Promise<number> {
  return Number((await h.store.read((tx) => tx.one<{ n: number }>(sql, params)))?.n ?? 0);
}
const eventTypes = async (id: string) =>
  (
    await h.store.read((tx) =>
      tx.all<{ type: string }>(
        `SELECT type FROM events WHERE subject_id = ? ORDER BY created_at, ${INSERTION_ORDER}`,
        [id],
      ),
    )
  ).map((e) => e.type);

describe('claim lifecycle', () => {
  it('goes created, opened, submitted, processing, paid with one outbox event per change', async () => {
    const created = await storeClaim(2500, { reference: 'till-7-sale-1' });
    expect(created.claim_id).toMatch(UUID_V4);
    expect(created.url).toBe(`https://pay.example.com/c/${created.claim_id}`);
    expect(created).toMatchObject({ status: 'created', amount: 2500, currency: 'AUD', funding: 'store' });
    expect(Date.parse((created as any).expires_at) - h.clock.now).toBe(7 * 86_400_000);

    const view = await page(created.claim_id);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      store_name: 'Corner Store',
      amount: 2500,
      currency: 'AUD',
      status: 'created',
      methods: ['card', 'au_bank', 'payid', 'paypal'],
      card_entry: { allowed: true, reason: null },
    });
    const opened = await h.request({ method: 'POST', url: `/v1/public/claims/${created.claim_id}/open` });
    expect(opened.body.status).toBe('opened');
    const again = await h.request({ method: 'POST', url: `/v1/public/claims/${created.claim_id}/open` });
    expect(again.body.status).toBe('opened');

    const sent = await submit(created.claim_id, { ...card, number: '4111 1111 1111 1111' });
    expect(sent.status).toBe(202);
    expect(sent.body.status).toBe('submitted');
    expect(sent.body.method).toEqual({ kind: 'card', label: 'card 411111******1111' });

    expect((await settle(created.claim_id)).status).toBe('paid');
    const mine = await h.request({ method: 'GET', url: `/v1/claims/${created.claim_id}`, headers: till });
    expect(mine.body).toMatchObject({ status: 'paid', reference: 'till-7-sale-1', failure: null });
    expect(await eventTypes(created.claim_id)).toEqual([
      'claim.created',
      'claim.opened',
      'claim.submitted',
      'claim.processing',
      'claim.paid',
    ]);
    expect(await count('SELECT COUNT(*) AS n FROM sandbox_payouts')).toBe(1);
    // The card was sealed while the payout needed it and erased after: never on disk in clear.
    expect(await count('SELECT COUNT(*) AS n FROM claims WHERE method_sealed IS NOT NULL')).toBe(0);
    expect((await h.store.storedText()).includes(VISA)).toBe(false);
  });

  it('answers the claim URL with the claim page (test/engine/claim-page.test.ts has the rest)', async () => {
    const c = await storeClaim(2500, { store_name: '<b>Corner</b> Store' });
    const res = await h.engine.app.inject({ method: 'GET', url: new URL(c.url).pathname });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.body).not.toContain('<b>Corner</b>');
    const missing = await h.engine.app.inject({ method: 'GET', url: '/c/not-a-claim' });
    expect(missing.statusCode).toBe(404);
  });

  it('replays a create with the same Idempotency-Key and refuses the key for another claim', async () => {
    const body = { amount: 700, currency: 'AUD', store_name: 'Corner Store' };
    const first = await createClaim(body, 'same-key');
    const second = await createClaim(body, 'same-key');
    expect(second.body).toMatchObject({ claim_id: first.body.claim_id, replayed: true });
    const other = await createClaim({ ...body, amount: 701 }, 'same-key');
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_conflict');
    expect(await count('SELECT COUNT(*) AS n FROM claims')).toBe(1);
  });

  it('cancels an unsubmitted claim once, and refuses to cancel one being paid', async () => {
    const c = await storeClaim(800);
    const cancel = (id: string) =>
      h.request({
        method: 'POST',
        url: `/v1/claims/${id}/cancel`,
        headers: { ...till, 'idempotency-key': newKey() },
      });
    expect((await cancel(c.claim_id)).body.status).toBe('cancelled');
    expect((await cancel(c.claim_id)).status).toBe(409);
    expect((await submit(c.claim_id, card)).status).toBe(409);

    const paying = await storeClaim(900);
    await submit(paying.claim_id, card);
    const refused = await cancel(paying.claim_id);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('conflict');
    expect((await settle(paying.claim_id)).status).toBe('paid');
  });

  it('expires after the configured time: reads as expired at once, and the sweep records it', async () => {
    const c = await storeClaim(1200);
    h.clock.advanceDays(7);
    expect((await page(c.claim_id)).body.status).toBe('expired');
    expect((await submit(c.claim_id, card)).status).toBe(409);
    expect((await h.engine.sweep()).claimsExpired).toBe(1);
    expect(await eventTypes(c.claim_id)).toEqual(['claim.created', 'claim.expired']);
    expect((await h.engine.sweep()).claimsExpired).toBe(0);
  });
});

describe('member cashouts', () => {
  async function member(cashback: number) {
    const program = await h.program({ currency: 'AUD', cashbackBps: 1000, expiryDays: 365 });
    const earn = await h.request({
      method: 'POST',
      url: '/v1/earn',
      headers: { ...till, 'idempotency-key': newKey() },
      body: {
        program_id: program,
        member: { email: 'jane@example.com' },
        member_name: 'Jane',
        purchase_amount: cashback * 10,
      },
    });
    expect(earn.status).toBe(200);
    return { program, memberId: earn.body.member_id as number };
  }
  const balance = async (m: { program: number; memberId: number }) =>
    (
      await h.request({
        method: 'GET',
        url: `/v1/members/${m.memberId}/balance?program_id=${m.program}`,
        headers: till,
      })
    ).body.balance;
  const memberClaim = (m: { program: number; memberId: number }, amount: number) =>
    createClaim({
      amount,
      funding: 'member',
      program_id: m.program,
      member: { id: m.memberId },
      store_name: 'Corner Store',
    });

  it('holds at creation, posts when paid, gives back on cancel, failure and expiry, all in the history', async () => {
    const m = await member(20_000);
    const paid = await memberClaim(m, 5_000);
    expect(paid.status).toBe(201);
    expect(await balance(m)).toMatchObject({ available: 15_000, held: 5_000 });

    const tooMuch = await memberClaim(m, 15_001);
    expect(tooMuch.status).toBe(422);
    expect(tooMuch.body.error.code).toBe('insufficient_balance');
    expect(await count('SELECT COUNT(*) AS n FROM claims')).toBe(1);

    await submit(paid.body.claim_id, { kind: 'paypal', email: 'jane@example.com' });
    expect((await settle(paid.body.claim_id)).status).toBe('paid');
    expect(await balance(m)).toMatchObject({ available: 15_000, held: 0 });

    const cancelled = await memberClaim(m, 2_000);
    await h.request({
      method: 'POST',
      url: `/v1/claims/${cancelled.body.claim_id}/cancel`,
      headers: { ...till, 'idempotency-key': newKey() },
    });
    const failed = await memberClaim(m, 9_001); // the sandbox refuses this amount
    await submit(failed.body.claim_id, { kind: 'payid', payid: '0412 345 678' });
    expect(await settle(failed.body.claim_id)).toMatchObject({
      status: 'failed',
      failure: { code: 'insufficient_funds' },
    });
    const expired = await memberClaim(m, 1_000);
    expect(await balance(m)).toMatchObject({ available: 14_000, held: 1_000 });
    h.clock.advanceDays(8);
    await h.engine.sweep();
    expect(await balance(m)).toMatchObject({ available: 15_000, held: 0 });
    expect((await page(expired.body.claim_id)).body.status).toBe('expired');

    const history = await h.request({
      method: 'GET',
      url: `/v1/members/${m.memberId}/history?program_id=${m.program}&limit=100`,
      headers: till,
    });
    const entries = (history.body.entries as { type: string; amount: number }[])
      .reverse()
      .map((e) => `${e.type} ${e.amount}`);
    expect(entries).toEqual([
      'earn 20000',
      'cashout -5000',
      'cashout -2000',
      'cashout_return 2000',
      'cashout -9001',
      'cashout_return 9001',
      'cashout -1000',
      'cashout_return 1000',
    ]);
    expect(await h.ledgerProblems()).toEqual([]);
    // The paid cashout's money sits in the program's cashouts account, posted.
    const cashouts = await h.store.read((tx) =>
      tx.one<{ credits_posted: number; credits_pending: number }>(
        'SELECT credits_posted, credits_pending FROM accounts WHERE code = ?',
        [`program:${m.program}:cashouts`],
      ),
    );
    expect(cashouts).toEqual({ credits_posted: 5_000, credits_pending: 0 });
  });

  it('pays one of fifty concurrent submissions of a member-funded claim, once', async () => {
    const m = await member(10_000);
    const claim = (await memberClaim(m, 4_000)).body.claim_id as string;
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        submit(claim, i % 2 ? card : { kind: 'au_bank', bsb: '062-000', account: `1234${i % 10}678` }),
      ),
    );
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(49);
    expect(new Set(answers.filter((a) => a.status === 409).map((a) => a.body.error.code))).toEqual(
      new Set(['conflict']),
    );
    expect((await settle(claim)).status).toBe('paid');
    expect(await count('SELECT COUNT(*) AS n FROM payouts WHERE claim_id = ?', [claim])).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM sandbox_payouts')).toBe(1);
    expect(await count('SELECT SUM(submissions) AS n FROM sandbox_payouts')).toBe(1);
    expect((await eventTypes(claim)).filter((t) => t === 'claim.paid')).toHaveLength(1);
    expect(await balance(m)).toMatchObject({ available: 6_000, held: 0 });
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('sandbox outcomes through the worker', () => {
  it('fails, returns and declines as its table says, keeping unclaimed payouts processing', async () => {
    const cases: [number, Record<string, unknown>, string, string | null][] = [
      [9001, card, 'failed', 'insufficient_funds'],
      [9002, { kind: 'paypal', email: 'a@example.com' }, 'failed', 'invalid_account'],
      [9004, { kind: 'paypal', email: 'a@example.com' }, 'failed', 'returned'],
      [1000, { ...card, number: '4000000000000002' }, 'failed', 'card_declined'],
      [1000, { kind: 'au_bank', bsb: '062000', account: '12345678' }, 'paid', null],
    ];
    for (const [amount, method, status, code] of cases) {
      const c = await storeClaim(amount);
      expect((await submit(c.claim_id, method)).status).toBe(202);
      const done = await settle(c.claim_id);
      expect(done.status).toBe(status);
      expect(done.failure?.code ?? null).toBe(code);
    }
    const unclaimed = await storeClaim(9003);
    await submit(unclaimed.claim_id, { kind: 'paypal', email: 'nobody@example.com' });
    await h.engine.payouts.idle();
    expect((await page(unclaimed.claim_id, '/status')).body.status).toBe('processing');
    const payout = await h.store.read((tx) =>
      tx.one<{ provider_status: string }>('SELECT provider_status FROM payouts WHERE claim_id = ?', [
        unclaimed.claim_id,
      ]),
    );
    expect(payout?.provider_status).toBe('unclaimed');
  });

  it('asks again about a processing payout when its poll is due, and retries an unreachable provider', async () => {
    const slow = await storeClaim(9005);
    await submit(slow.claim_id, card);
    await h.engine.payouts.idle();
    expect((await page(slow.claim_id, '/status')).body.status).toBe('processing');
    const flaky = await storeClaim(9006);
    await submit(flaky.claim_id, card);
    await h.engine.payouts.idle();
    const retry = await h.store.read((tx) =>
      tx.one<{ attempts: number; last_error: string; next_attempt_at: number }>(
        'SELECT attempts, last_error, next_attempt_at FROM payouts WHERE claim_id = ?',
        [flaky.claim_id],
      ),
    );
    expect(retry).toMatchObject({ attempts: 1, last_error: expect.stringContaining('outage') });
    expect(retry!.next_attempt_at - h.clock.now).toBeGreaterThanOrEqual(800);
    expect(retry!.next_attempt_at - h.clock.now).toBeLessThanOrEqual(1_000);
    // Nothing is due until the clock reaches the retry and the poll.
    h.engine.payouts.kick();
    await h.engine.payouts.idle();
    expect((await page(flaky.claim_id, '/status')).body.status).toBe('processing');
    h.clock.now += 5_000;
    expect((await settle(slow.claim_id)).status).toBe('paid');
    expect((await settle(flaky.claim_id)).status).toBe('paid');
    expect(await count('SELECT SUM(submissions) AS n FROM sandbox_payouts')).toBe(2);
  });
});

describe('bad input on every claim route: native error shape, nothing changed', () => {
  const tables = ['claims', 'events', 'payouts', 'transfers', 'idempotency_keys', 'sandbox_payouts'];
  const snapshot = async () =>
    Object.fromEntries(
      await Promise.all(tables.map(async (t) => [t, await count(`SELECT COUNT(*) AS n FROM ${t}`)] as const)),
    );

  it('refuses each bad request with a 4xx that names the problem', async () => {
    const paypalOnly = await storeClaim(500, { methods: ['paypal'] });
    const submitted = await storeClaim(600);
    await submit(submitted.claim_id, card);
    await settle(submitted.claim_id);
    const other = (await h.app(['cashback_read', 'cashback_write'])).headers;
    const readOnly = (await h.app(['cashback_read'])).headers;
    const id = paypalOnly.claim_id;
    const base = { amount: 500, currency: 'AUD', store_name: 'Corner Store' };
    const post = (
      url: string,
      body: unknown,
      headers: Record<string, string> = till,
      key: string | null = newKey(),
    ) => ({
      method: 'POST' as const,
      url,
      headers: { ...headers, ...(key === null ? {} : { 'idempotency-key': key }) },
      body,
    });
    const cases: [string, Parameters<Harness['request']>[0], number, string][] = [
      ['no credentials', { method: 'POST', url: '/v1/claims', body: base }, 401, 'unauthorized'],
      ['read-only app', post('/v1/claims', base, readOnly), 403, 'forbidden'],
      ['no Idempotency-Key', post('/v1/claims', base, till, null), 400, 'validation_error'],
      ['zero amount', post('/v1/claims', { ...base, amount: 0 }), 400, 'validation_error'],
      ['fractional amount', post('/v1/claims', { ...base, amount: 12.5 }), 400, 'validation_error'],
      ['amount as text', post('/v1/claims', { ...base, amount: '500' }), 400, 'validation_error'],
      ['no currency', post('/v1/claims', { amount: 500, store_name: 'x' }), 400, 'validation_error'],
      ['unknown currency', post('/v1/claims', { ...base, currency: 'AUX' }), 400, 'validation_error'],
      ['no store name', post('/v1/claims', { amount: 500, currency: 'AUD' }), 400, 'validation_error'],
      ['unknown method', post('/v1/claims', { ...base, methods: ['cash'] }), 400, 'validation_error'],
      ['no methods', post('/v1/claims', { ...base, methods: [] }), 400, 'validation_error'],
      ['unknown field', post('/v1/claims', { ...base, tip: 1 }), 400, 'validation_error'],
      [
        'member claim without member',
        post('/v1/claims', { amount: 500, funding: 'member', program_id: 1, store_name: 'x' }),
        400,
        'validation_error',
      ],
      [
        'member claim with currency',
        post('/v1/claims', {
          amount: 500,
          funding: 'member',
          program_id: 1,
          member: { id: 1 },
          currency: 'AUD',
          store_name: 'x',
        }),
        400,
        'validation_error',
      ],
      [
        'member of no program',
        post('/v1/claims', {
          amount: 500,
          funding: 'member',
          program_id: 999,
          member: { id: 1 },
          store_name: 'x',
        }),
        404,
        'program_not_found',
      ],
      ['ttl too short', post('/v1/claims', { ...base, expires_in_seconds: 5 }), 400, 'validation_error'],
      ['another app’s claim', { method: 'GET', url: `/v1/claims/${id}`, headers: other }, 404, 'not_found'],
      ['not a claim id', { method: 'GET', url: '/v1/claims/1', headers: till }, 404, 'not_found'],
      ['cancel another app’s claim', post(`/v1/claims/${id}/cancel`, undefined, other), 404, 'not_found'],
      ['cancel a paid claim', post(`/v1/claims/${submitted.claim_id}/cancel`, undefined), 409, 'conflict'],
      [
        'page of no claim',
        { method: 'GET', url: '/v1/public/claims/00000000-0000-4000-8000-000000000000' },
        404,
        'not_found',
      ],
      ['open no claim', { method: 'POST', url: '/v1/public/claims/nope/open' }, 404, 'not_found'],
      [
        'submit without consent',
        post(`/v1/public/claims/${id}/submit`, { method: { kind: 'paypal', email: 'a@b.co' } }),
        400,
        'validation_error',
      ],
      [
        'submit consent false',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'paypal', email: 'a@b.co' },
          consent: false,
        }),
        400,
        'validation_error',
      ],
      [
        'submit with an amount',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'paypal', email: 'a@b.co' },
          consent: true,
          amount: 1,
        }),
        400,
        'validation_error',
      ],
      [
        'method not offered',
        post(`/v1/public/claims/${id}/submit`, { method: card, consent: true }),
        400,
        'validation_error',
      ],
      [
        'bad Luhn',
        post(`/v1/public/claims/${submitted.claim_id}/submit`, {
          method: { ...card, number: '4111111111111112' },
          consent: true,
        }),
        400,
        'validation_error',
      ],
      [
        'bad expiry',
        post(`/v1/public/claims/${id}/submit`, { method: { ...card, expiry: '13/30' }, consent: true }),
        400,
        'validation_error',
      ],
      [
        'bad BSB',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'au_bank', bsb: '06-2000', account: '12345678' },
          consent: true,
        }),
        400,
        'validation_error',
      ],
      [
        'short account',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'au_bank', bsb: '062000', account: '1234' },
          consent: true,
        }),
        400,
        'validation_error',
      ],
      [
        'bad PayID',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'payid', payid: '51 824 753 557' },
          consent: true,
        }),
        400,
        'validation_error',
      ],
      [
        'bad PayPal email',
        post(`/v1/public/claims/${id}/submit`, { method: { kind: 'paypal', email: 'nope' }, consent: true }),
        400,
        'validation_error',
      ],
      [
        'method with extra field',
        post(`/v1/public/claims/${id}/submit`, {
          method: { kind: 'paypal', email: 'a@b.co', cvv: '123' },
          consent: true,
        }),
        400,
        'validation_error',
      ],
      [
        'submit twice',
        post(`/v1/public/claims/${submitted.claim_id}/submit`, { method: card, consent: true }),
        409,
        'conflict',
      ],
    ];
    const before = await snapshot();
    for (const [what, request, status, code] of cases) {
      const res = await h.request(request);
      expect(res.status, what).toBe(status);
      expect(res.body.error.code, what).toBe(code);
      expect(res.body.error.message.length, what).toBeGreaterThan(5);
      expect(JSON.stringify(res.body), what).not.toContain('4111111111111112');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('offers no card entry over plain HTTP from another machine, and refuses a card sent anyway', async () => {
    const c = await storeClaim(500);
    const before = await snapshot();
    const remote = { remoteAddress: '192.168.1.20' };
    const view = await h.engine.app.inject({
      method: 'GET',
      url: `/v1/public/claims/${c.claim_id}`,
      ...remote,
    });
    expect(view.json()).toMatchObject({
      methods: ['au_bank', 'payid', 'paypal'],
      card_entry: { allowed: false, reason: expect.stringContaining('HTTPS') },
    });
    const sent = await h.engine.app.inject({
      method: 'POST',
      url: `/v1/public/claims/${c.claim_id}/submit`,
      payload: { method: card, consent: true },
      ...remote,
    });
    expect(sent.statusCode).toBe(403);
    expect(sent.json().error.code).toBe('forbidden');
    expect(await snapshot()).toEqual(before);
  });
});

it('redacts a submitted card method wherever a log line might carry it', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const method = { kind: 'card', number: VISA, expiry: '12/30' };
  pino(loggerOptions('info'), sink).info({ method, body: { method, consent: true } }, 'submit');
  expect(lines.join('')).not.toContain(VISA);
  expect(lines.join('')).not.toContain('12/30');
});
