// Seed 003's PayPal link made real, end to end on a real SQLite file against the local PayPal
// (test/fakes/paypal-server.ts, PayPal's documented authorize, token, userinfo and payouts shapes):
// /cashout/link answers the "Log in with PayPal" URL, the member signs in, PayPal's callback links the
// account with its confirmed email (sealed), and /cashout/process pays that email through PayPal.
// A bad, expired or reused state, a cancelled sign-in, and a failed code exchange are refused, and
// change nothing (or leave the link pending).
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PAYPAL_STATE_TTL_MS } from '../../engine/domain/linked-accounts.ts';
import { paypalOptions, startFakePayPal, type FakePayPal } from '../fakes/paypal-server.ts';
import { memberWithCashback, signedInMember } from './fixtures/member-token.ts';
import { startHarness, type Harness } from './harness.ts';
import { signInWithPayPal } from './paypal-sign-in.ts';

const POLL_MS = 60_000;
let fake: FakePayPal;
let h: Harness;
let till: Record<string, string>;
let token: string;
let memberId: number;
let program: number;

beforeEach(async () => {
  fake = await startFakePayPal();
  h = await startHarness({
    payouts: {
      provider: 'paypal',
      paypal: paypalOptions(fake),
      // The clock stands still: a processing payout is asked about again only when a test moves it.
      pollIntervalMs: POLL_MS,
    },
  });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
  program = await h.program({ currency: 'USD', cashbackBps: 1000 });
  ({ memberId, token } = await memberWithCashback(h, till, {
    programId: program,
    email: 'jane@example.com',
    name: 'Jane',
    purchaseAmount: 200_000,
  }));
});
afterEach(async () => {
  await h.close();
  await fake.close();
});

const connected = () => ({ ...till, 'x-member-token': token });
const link = () =>
  h.request({ method: 'POST', url: '/cashout/link', headers: connected(), body: { provider: 'paypal' } });
const callback = (query: string) =>
  h.request({ method: 'GET', url: `/cashout/link/paypal/callback?${query}` });
const processCashout = (amount: number) =>
  h.request({
    method: 'POST',
    url: '/cashout/process',
    headers: connected(),
    body: { type: 'paypal', amount, provider: 'paypal' },
  });
const row = () =>
  h.store.read((tx) =>
    tx.one<{
      state: string;
      details_sealed: string | null;
      oauth_state: string | null;
      oauth_state_expires_at: number | null;
      updated_at: number;
    }>(
      `SELECT state, details_sealed, oauth_state, oauth_state_expires_at, updated_at
       FROM linked_payout_accounts WHERE member_id = ? AND provider = 'paypal'`,
      [memberId],
    ),
  );
const stateOf = (url: string) => new URL(url).searchParams.get('state')!;
const balance = async () =>
  (
    await h.request({
      method: 'GET',
      url: `/v1/members/${memberId}/balance?program_id=${program}`,
      headers: till,
    })
  ).body.balance;

describe('seed 003: linking a PayPal account with "Log in with PayPal"', () => {
  it('links the signed-in account and pays its confirmed email through PayPal', async () => {
    const res = await link();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        message: 'Cashout link created successfully',
        link: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/signin\/authorize\?/),
        provider: 'paypal',
        method: 'link',
      },
    });
    const url = new URL(res.body.data.link);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      flowEntry: 'static',
      client_id: fake.clientId,
      response_type: 'code',
      scope: 'openid email',
      redirect_uri: 'http://127.0.0.1:8080/cashout/link/paypal/callback',
      state: expect.stringMatching(/^[\w-]{32}$/),
    });
    // A repeat before the member signs in answers the same URL.
    expect((await link()).body.data.link).toBe(res.body.data.link);
    expect(await row()).toMatchObject({ state: 'pending', details_sealed: null });

    // No linked account yet: the cashout is refused and nothing is held.
    const early = await processCashout(2_500);
    expect([early.status, early.body]).toEqual([
      422,
      { status: 'error', message: 'PayPal account not linked: link one with POST /cashout/link first' },
    ]);
    expect(await balance()).toMatchObject({ available: 20_000, held: 0 });

    fake.account.email = 'jane.paypal@example.com';
    const back = await signInWithPayPal(h, res.body.data.link);
    expect(back.status).toBe(200);
    expect(back.text).toMatch(/^Your PayPal account is linked/);
    const linked = await row();
    expect(linked).toMatchObject({ state: 'linked', oauth_state: null });
    // The email is sealed at rest, never plain.
    expect(linked!.details_sealed).toMatch(/^v1\./);
    expect(linked!.details_sealed).not.toContain('jane.paypal');

    const paid = await processCashout(2_500);
    expect(paid.status).toBe(200);
    expect(paid.body.data).toMatchObject({ amount: 2_500, type: 'paypal', status: 'pending' });
    const claimId: string = paid.body.data.url.split('/c/')[1];
    await vi.waitFor(() => expect(fake.batches.size).toBe(1), { timeout: 20_000, interval: 50 });
    const [batch] = [...fake.batches.values()];
    expect(batch).toMatchObject({
      receiver: 'jane.paypal@example.com',
      amount: { value: '25.00', currency: 'USD' },
    });
    fake.setItemStatus(batch!.senderBatchId, 'SUCCESS');
    // The worker records PayPal's first answer (next poll at its clock + POLL_MS) before the clock moves.
    await h.engine.payouts.idle();
    h.clock.now += POLL_MS + 1;
    await vi.waitFor(
      async () =>
        expect(
          (await h.request({ method: 'GET', url: `/v1/public/claims/${claimId}/status` })).body.status,
        ).toBe('paid'),
      { timeout: 20_000, interval: 50 },
    );
    expect(fake.counts.payoutsCreated).toBe(1);
    expect(await balance()).toMatchObject({ available: 17_500, held: 0 });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('refuses a bad, expired or reused state, or a sign-in without a code, changing nothing', async () => {
    const first = await link();
    const state = stateOf(first.body.data.link);
    const before = await row();
    const cases: [string, string][] = [
      ['unknown state', 'code=C21AAabc&state=not-our-state'],
      ['no state', 'code=C21AAabc'],
      ['no code (cancelled at PayPal)', `state=${state}&error=access_denied`],
      ['empty code', `code=&state=${state}`],
    ];
    for (const [what, query] of cases) {
      const res = await callback(query);
      expect([what, res.status]).toEqual([what, 400]);
      expect(res.text.length, what).toBeGreaterThan(0);
    }
    expect(await row()).toEqual(before);

    // Once used, replaying its callback is refused.
    const signIn = await fetch(first.body.data.link, { redirect: 'manual' });
    const back = new URL(signIn.headers.get('location')!);
    const path = `${back.pathname}${back.search}`;
    expect((await h.request({ method: 'GET', url: path })).status).toBe(200);
    const linked = await row();
    const replay = await h.request({ method: 'GET', url: path });
    expect(replay.status).toBe(400);
    expect(await row()).toEqual(linked);

    // A new link has a new state; past its lifetime it is refused and the link left as it was.
    const second = await link();
    expect(stateOf(second.body.data.link)).not.toBe(state);
    const relinking = await row();
    h.clock.now += PAYPAL_STATE_TTL_MS;
    const expired = await signInWithPayPal(h, second.body.data.link);
    expect([expired.status, expired.text]).toEqual([
      400,
      'This PayPal sign-in link has expired or was already used; ask for a new link\n',
    ]);
    expect(await row()).toEqual(relinking);
    expect(fake.counts.requests.userinfo).toBe(1);
  });

  it('leaves the link pending with a clear message when PayPal refuses or cannot be asked', async () => {
    const failures: [string, () => void, number, RegExp][] = [
      [
        'a code PayPal refuses',
        () => undefined, // the callback below sends a code PayPal never issued
        502,
        /^Your PayPal account is not linked: PayPal refused the sign-in \(Invalid authorization code\)/,
      ],
      [
        'PayPal down at the exchange',
        () => fake.fault('token', { kind: 'status', status: 503 }),
        502,
        /^Your PayPal account is not linked: account link: paypal answered HTTP 503/,
      ],
      [
        'an account without a confirmed email',
        () => {
          fake.account.confirmed = false;
        },
        502,
        /^Your PayPal account is not linked: This PayPal account has no confirmed email address/,
      ],
    ];
    for (const [what, arrange, status, message] of failures) {
      arrange();
      const res = await link();
      const signIn = await fetch(res.body.data.link, { redirect: 'manual' });
      const back = new URL(signIn.headers.get('location')!);
      if (what === 'a code PayPal refuses') back.searchParams.set('code', 'C21AAforged');
      const answer = await h.request({ method: 'GET', url: `${back.pathname}${back.search}` });
      expect([what, answer.status]).toEqual([what, status]);
      expect(answer.text, what).toMatch(message);
      expect(await row(), what).toMatchObject({ state: 'pending', details_sealed: null, oauth_state: null });
    }
    expect((await processCashout(1_000)).status).toBe(422);
    // Linking again after a failure works.
    fake.account.confirmed = true;
    expect((await signInWithPayPal(h, (await link()).body.data.link)).status).toBe(200);
    expect(await row()).toMatchObject({ state: 'linked' });
  });

  it('never answers a 5xx or changes anything for random callback queries', async () => {
    await link();
    const before = await row();
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('code', 'state', 'error', 'x'), fc.string({ maxLength: 40 })),
        async (query) => {
          const res = await callback(new URLSearchParams(query).toString());
          expect(res.status).toBe(400);
          expect(await row()).toEqual(before);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('seed 003: PayPal linking without payouts.paypal', () => {
  it('says linking is not configured, and changes nothing', async () => {
    const plain = await startHarness();
    try {
      const app = (await plain.app(['cashback_read', 'cashback_write'])).headers;
      const { token: joToken } = await signedInMember(plain, app, { email: 'jo@example.com', name: 'Jo' });
      const res = await plain.request({
        method: 'POST',
        url: '/cashout/link',
        headers: { ...app, 'x-member-token': joToken },
        body: { provider: 'paypal' },
      });
      expect([res.status, res.body]).toEqual([
        422,
        { status: 'error', message: 'PayPal account linking is not configured here (payouts.paypal)' },
      ]);
      const cb = await plain.request({ method: 'GET', url: '/cashout/link/paypal/callback?code=a&state=b' });
      expect(cb.status).toBe(422);
      const rows = await plain.store.read((tx) => tx.all('SELECT id FROM linked_payout_accounts'));
      expect(rows).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
