// Seed 003's POST /cashout/process over HTTP on a real SQLite file: the documented response for a
// signed-in member (app credentials plus a member token from a real OTP exchange) whose PayPal account
// is linked (through the local PayPal; paid by the sandbox), the balance held and visible, and each
// documented error message with nothing changed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EngineConfigInput } from '../../engine/config.ts';
import { paypalOptions, startFakePayPal, type FakePayPal } from '../fakes/paypal-server.ts';
import { memberWithCashback } from './fixtures/member-token.ts';
import { startHarness, type Harness } from './harness.ts';
import { linkPayPal } from './paypal-sign-in.ts';

let fake: FakePayPal;
let h: Harness;
let till: Record<string, string>;
let program: number;
let memberId: number;
let token: string;

/** A signed-in member with cashback and a linked PayPal account, on an engine with `config`. */
async function connect(config: EngineConfigInput = {}) {
  h = await startHarness({ ...config, payouts: { paypal: paypalOptions(fake), ...config.payouts } });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
  program = await h.program({ currency: 'USD', cashbackBps: 1000 });
  ({ memberId, token } = await memberWithCashback(h, till, {
    programId: program,
    email: 'jane@example.com',
    name: 'Jane',
    purchaseAmount: 200_000,
  }));
  await linkPayPal(h, { ...till, 'x-member-token': token });
}
beforeEach(async () => {
  fake = await startFakePayPal();
  await connect();
});
afterEach(async () => {
  await h.close();
  await fake.close();
});

const processCashout = (
  body: unknown,
  headers: Record<string, string> = { ...till, 'x-member-token': token },
) => h.request({ method: 'POST', url: '/cashout/process', headers, body });
const balance = async () =>
  (
    await h.request({
      method: 'GET',
      url: `/v1/members/${memberId}/balance?program_id=${program}`,
      headers: till,
    })
  ).body.balance;
async function snapshot() {
  const count = async (t: string) =>
    Number((await h.store.read((tx) => tx.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)))?.n);
  return {
    claims: await count('claims'),
    transfers: await count('transfers'),
    events: await count('events'),
  };
}

describe('seed 003: POST /cashout/process', () => {
  it('holds the amount and answers the documented response', async () => {
    // The sandbox's 9003 is PayPal's UNCLAIMED: the payout stays processing, so the hold stays.
    const res = await processCashout({ type: 'paypal', amount: 9_003, provider: 'paypal' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        message: 'Cashout processed successfully',
        cashout_id: expect.any(Number),
        amount: 9_003,
        type: 'paypal',
        status: 'pending',
        url: expect.stringMatching(/\/c\/[0-9a-f-]{36}$/),
      },
    });
    expect(await balance()).toMatchObject({ available: 10_997, held: 9_003 });
    const history = await h.request({
      method: 'GET',
      url: `/v1/members/${memberId}/history?program_id=${program}`,
      headers: till,
    });
    expect(history.body.entries[0]).toMatchObject({
      transaction_id: res.body.data.cashout_id,
      type: 'cashout',
      amount: -9_003,
    });
    // The claim was submitted at once, to the linked PayPal account; its page shows its status.
    const id = res.body.data.url.split('/c/')[1];
    const view = await h.request({ method: 'GET', url: `/v1/public/claims/${id}` });
    expect(view.body).toMatchObject({
      methods: ['paypal'],
      status: expect.stringMatching(/^(submitted|processing)$/),
      method: { kind: 'paypal' },
    });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('answers each documented error with its message and changes nothing', async () => {
    const good = { type: 'paypal', amount: 1_000, provider: 'paypal' };
    const cases: [string, () => ReturnType<typeof processCashout>, number, string | RegExp][] = [
      ['no member token', () => processCashout(good, till), 401, 'User not authenticated'],
      [
        'bad member token',
        () => processCashout(good, { ...till, 'x-member-token': 'x'.repeat(40) }),
        401,
        'User not authenticated',
      ],
      [
        'no app credentials',
        () => processCashout(good, { 'x-member-token': token }),
        401,
        'User not authenticated',
      ],
      [
        'no type',
        () => processCashout({ amount: 1_000, provider: 'paypal' }),
        400,
        'Missing required parameters: type and amount',
      ],
      [
        'no amount',
        () => processCashout({ type: 'paypal', provider: 'paypal' }),
        400,
        'Missing required parameters: type and amount',
      ],
      ['zero amount', () => processCashout({ ...good, amount: 0 }), 400, 'Invalid amount'],
      ['negative amount', () => processCashout({ ...good, amount: -5 }), 400, 'Invalid amount'],
      ['fractional amount', () => processCashout({ ...good, amount: 10.5 }), 400, 'Invalid amount'],
      ['amount as text', () => processCashout({ ...good, amount: '1000' }), 400, 'Invalid amount'],
      [
        'more than the balance',
        () => processCashout({ ...good, amount: 20_001 }),
        422,
        'Insufficient balance',
      ],
      [
        'unknown provider',
        () => processCashout({ ...good, type: 'venmo', provider: 'venmo' }),
        400,
        'Invalid provider',
      ],
      [
        'type and provider differ',
        () => processCashout({ ...good, provider: 'tipalti' }),
        400,
        'Invalid provider',
      ],
      [
        'provider nobody pays',
        () => processCashout({ type: 'payoneer', amount: 1_000, provider: 'payoneer' }),
        400,
        /^Invalid provider: no payout provider/,
      ],
      ['unknown program', () => processCashout({ ...good, program_id: 999 }), 404, /999/],
    ];
    const before = await snapshot();
    for (const [what, send, status, message] of cases) {
      const res = await send();
      expect(res.status, what).toBe(status);
      expect(Object.keys(res.body).sort(), what).toEqual(['message', 'status']);
      expect(res.body.status, what).toBe('error');
      if (typeof message === 'string') expect(res.body.message, what).toBe(message);
      else expect(res.body.message, what).toMatch(message);
    }
    expect(await snapshot()).toEqual(before);
    expect(await balance()).toMatchObject({ available: 20_000, held: 0 });
  });

  it('replays a retry with the same Idempotency-Key instead of holding twice', async () => {
    const headers = { ...till, 'x-member-token': token, 'idempotency-key': 'cashout-1' };
    const first = await processCashout({ type: 'paypal', amount: 3_000 }, headers);
    const again = await processCashout({ type: 'paypal', amount: 3_000 }, headers);
    expect(again.body.data.cashout_id).toBe(first.body.data.cashout_id);
    // One hold of 3,000 (paid or still held by now: the sandbox pays it in the background).
    expect(await balance()).toMatchObject({ available: 17_000 });
    expect((await snapshot()).claims).toBe(1);
  });
  it('refuses PayPal when no configured payout provider pays PayPal accounts', async () => {
    await h.close();
    await connect({ payouts: { provider: 'noebs', noebs: { baseUrl: 'http://127.0.0.1:9' } } });
    const before = await snapshot();
    const res = await processCashout({ type: 'paypal', amount: 1_000, provider: 'paypal' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 'error',
      message: 'Invalid provider: no payout provider here pays to paypal',
    });
    expect(await snapshot()).toEqual(before);
    expect(await balance()).toMatchObject({ available: 20_000, held: 0 });
  });
});
