// Seed 001's POST /api/v2/cashbacks/withdraw over real HTTP (the engine listening on 127.0.0.1) on a
// real SQLite file: the document's example request and every documented response field and type;
// the repeat; the hold, then settled (hold posted) or failed (hold voided, money back in the history)
// through the payout worker and the sandbox provider; the callback received by a real local receiver
// that checks the signature, with the caller's Authorization header and seed 001's body; bad input of
// every field answered in the API's error shape with nothing changed; the callback credential kept out
// of logs.
import { Writable } from 'node:stream';
import fc from 'fast-check';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { payoutMethodOf } from '../../engine/domain/withdrawals.ts';
import { loggerOptions } from '../../engine/logger.ts';
import { INSERTION_ORDER } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

const SECRET = 's'.repeat(40);
const URL_PATH = '/api/v2/cashbacks/withdraw';
const USER = '8GAVZZKTI3';

/** The document's example request, verbatim. */
const EXAMPLE = {
  user_id: '8GAVZZKTI3',
  client_transaction_id: 'withdraw_r15e23',
  cashback_transaction_detail: {
    payment_description: 'Withdrawal to bank account',
    currency: 'AUD',
    amount: 1000,
    payout_method_name: 'au_bank_npp_aud',
    payout_method_params: { bsb: '572505', account_number: '76273288' },
  },
  webhook_notification: {
    endpoint_url: 'https://merchant.example.com/webhook',
    authorization_headers: 'Bearer your_token',
  },
};

let h: Harness;
let rx: Receiver;
let base: string;
let creds: Record<string, string>;
let native: Record<string, string>;
let program: number;
let memberId: number;
let n = 0;

beforeEach(async () => {
  h = await startHarness(
    { port: 0, webhooks: { secrets: [SECRET], allowPrivateNetworks: ['127.0.0.1/32'] } },
    {},
    // The example's merchant.example.com is not resolved on this machine: it stays undelivered.
    { resolve: async () => [{ address: '192.0.2.1', family: 4 }] },
  );
  base = await h.engine.listen();
  rx = await startReceiver({ secrets: [SECRET], nowSeconds: () => Math.floor(h.clock.now / 1000) });
  const app = await h.app(['cashback_read', 'cashback_write']);
  creds = { 'app-id': app.appId, 'secret-key': app.secret };
  native = app.headers;
  program = await h.program({ currency: 'AUD', cashbackBps: 1000, name: 'Cashback' });
  const post = (url: string, body: unknown) =>
    h.request({ method: 'POST', url, headers: { ...native, 'idempotency-key': `k${++n}` }, body });
  const member = await post('/v1/members', { external_id: USER, email: 'jane@example.com', name: 'Jane' });
  expect(member.status, member.text).toBe(201);
  memberId = member.body.member_id;
  // 10% of 2,000.00 AUD: 200.00 AUD of available cashback.
  const earned = await post('/v1/earn', {
    program_id: program,
    member: { id: memberId },
    purchase_amount: 200_000,
  });
  expect(earned.status, earned.text).toBe(200);
  // Tests see the hold before any payout; `settled` lets the worker run.
  await h.engine.payouts.stop();
});
afterEach(async () => {
  await rx.close();
  await h.close();
});

async function withdraw(body: unknown, headers: Record<string, string> = creds, raw?: string) {
  const res = await fetch(base + URL_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text };
}

/** A request to the local receiver, as the caller would configure it. */
const toReceiver = (detail: Record<string, unknown>, id = `wd_${++n}`) => ({
  user_id: USER,
  client_transaction_id: id,
  cashback_transaction_detail: { amount: 2500, payout_method_name: 'au_bank_npp_aud', ...detail },
  webhook_notification: { endpoint_url: rx.url, authorization_headers: 'Bearer t0k3n-of-the-caller' },
});
const bank = {
  payout_method_name: 'au_bank_npp_aud',
  payout_method_params: { bsb: '062-000', account_number: '12345678' },
};

const balance = async () =>
  (
    await h.request({
      method: 'GET',
      url: `/v1/members/${memberId}/balance?program_id=${program}`,
      headers: native,
    })
  ).body.balance as { available: number; held: number };
const history = async () =>
  (
    await h.request({
      method: 'GET',
      url: `/v1/members/${memberId}/history?program_id=${program}`,
      headers: native,
    })
  ).body.entries as { type: string; amount: number }[];

async function snapshot() {
  const count = async (t: string) =>
    Number((await h.store.read((tx) => tx.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`)))?.n);
  return {
    withdrawals: await count('withdrawals'),
    claims: await count('claims'),
    transfers: await count('transfers'),
    events: await count('events'),
    keys: await count('idempotency_keys'),
    balance: await balance(),
  };
}

/** Starts the payout worker and waits until it has settled the withdrawal's claim. */
async function settled(withdrawalId: string): Promise<string> {
  h.engine.payouts.start();
  const deadline = Date.now() + 30_000;
  for (;;) {
    const row = await h.store.read((tx) =>
      tx.one<{ state: string }>(
        'SELECT c.state FROM withdrawals w JOIN claims c ON c.id = w.claim_id WHERE w.id = ?',
        [withdrawalId],
      ),
    );
    if (row && (row.state === 'paid' || row.state === 'failed')) return row.state;
    if (Date.now() > deadline) throw new Error(`withdrawal ${withdrawalId} is still ${row?.state}`);
    h.engine.payouts.kick();
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('seed 001: POST /api/v2/cashbacks/withdraw', () => {
  it("answers the document's example request with every documented field and type", async () => {
    const res = await withdraw(EXAMPLE);
    expect(res.status, res.text).toBe(200);
    const created = new Date(h.clock.now).toISOString();
    expect(res.body).toEqual({
      transaction_type: 'money_out',
      withdrawal_id: expect.stringMatching(/^[A-Z2-7]{12}$/),
      client_transaction_id: 'withdraw_r15e23',
      merchant_name: 'test app',
      site_name: 'Cashback',
      customer_id: '8GAVZZKTI3',
      amount: 10,
      withdrawal_method: 'au_bank_npp_aud',
      status: 'processing',
      created_at: created,
      updated_at: created,
      payout_method_params: { bsb: '572505', account_number: '76273288' },
      webhook_notification: {
        endpoint_url: 'https://merchant.example.com/webhook',
        authorization_header: 'Bearer your_token',
      },
    });
    // Major units, as a JSON number with the currency's decimals.
    expect(res.text).toContain('"amount":10.00');
    expect(created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // The cashback is held at once.
    expect(await balance()).toMatchObject({ available: 19_000, held: 1000 });
    expect((await history())[0]).toMatchObject({ type: 'cashout', amount: -1000 });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('answers a repeat with the first result, and a different body under the same id with a 409', async () => {
    const first = await withdraw(EXAMPLE);
    expect(first.status).toBe(200);
    h.clock.now += 60_000;
    const again = await withdraw(EXAMPLE);
    expect(again.status).toBe(200);
    expect(again.text).toBe(first.text);
    const before = await snapshot();
    expect(before).toMatchObject({ withdrawals: 1, balance: { available: 19_000, held: 1000 } });

    const other = await withdraw({
      ...EXAMPLE,
      cashback_transaction_detail: { ...EXAMPLE.cashback_transaction_detail, amount: 2000 },
    });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'idempotency_conflict' });
    expect(other.body.error.message).toContain('withdraw_r15e23');
    expect(await snapshot()).toEqual(before);
  });

  it('still refuses a used client_transaction_id once its idempotency record is pruned', async () => {
    expect((await withdraw(EXAMPLE)).status).toBe(200);
    h.clock.advanceDays(31);
    const pruned = await h.engine.sweep();
    expect(pruned.pruned).toBeGreaterThan(0);
    const before = await snapshot();
    const again = await withdraw(EXAMPLE);
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'idempotency_conflict' });
    expect(again.body.error.message).toContain('withdraw_r15e23');
    expect(await snapshot()).toEqual(before);
  });

  it('makes one withdrawal of twenty concurrent identical requests, all answered alike', async () => {
    const body = toReceiver(bank, 'wd-race');
    const answers = await Promise.all(Array.from({ length: 20 }, () => withdraw(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(new Set(answers.map((a) => a.text)).size).toBe(1);
    expect(await snapshot()).toMatchObject({ withdrawals: 1, balance: { available: 17_500, held: 2500 } });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('pays a bank withdrawal, posts the hold and calls back settled with the caller header, signed', async () => {
    const res = await withdraw(toReceiver(bank, 'wd-settle'));
    expect(res.status, res.text).toBe(200);
    const id = res.body.withdrawal_id as string;
    expect(await settled(id)).toBe('paid');
    const [callback] = await rx.waitFor(1, 30_000);
    expect(callback!.verified).toMatchObject({ ok: true });
    expect(callback!.headers.authorization).toBe('Bearer t0k3n-of-the-caller');
    expect(callback!.json).toEqual({
      transaction_type: 'money_out',
      withdrawal_id: id,
      client_transaction_id: 'wd-settle',
      merchant_name: 'test app',
      site_name: 'Cashback',
      customer_id: USER,
      amount: 25,
      withdrawal_method: 'au_bank_npp_aud',
      status: 'settled',
      created_at: res.body.created_at,
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
      payout_method_params: { bsb: '062-000', account_number: '12345678' },
      webhook_notification: { endpoint_url: rx.url, authorization_header: 'Bearer t0k3n-of-the-caller' },
    });
    expect(callback!.body).toContain('"amount":25.00');
    // Money left: the hold is posted, nothing given back.
    expect(await balance()).toMatchObject({ available: 17_500, held: 0 });
    expect((await history()).map((e) => e.type)).not.toContain('cashout_return');
    // One event per state change; only the outcome goes to the caller's endpoint.
    const events = await h.store.read((tx) =>
      tx.all<{ type: string; deliveries: number }>(
        `SELECT e.type, (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.event_id = e.id) AS deliveries
           FROM events e WHERE e.subject_kind = 'withdrawal' AND e.subject_id = ? ORDER BY e.created_at, e.${INSERTION_ORDER}`,
        [id],
      ),
    );
    expect(events).toEqual([
      { type: 'withdrawal.processing', deliveries: 0 },
      { type: 'withdrawal.settled', deliveries: 1 },
    ]);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('fails a PayID withdrawal by the sandbox test amount, gives the money back and calls back failed', async () => {
    const res = await withdraw(
      toReceiver({
        amount: 9001,
        payout_method_name: 'au_payid_npp_aud',
        payout_method_params: { payid: '0412 345 678' },
      }),
    );
    expect(res.status, res.text).toBe(200);
    expect(await balance()).toMatchObject({ available: 10_999, held: 9001 });
    expect(await settled(res.body.withdrawal_id)).toBe('failed');
    const [callback] = await rx.waitFor(1, 30_000);
    expect(callback!.verified).toMatchObject({ ok: true });
    expect(callback!.headers.authorization).toBe('Bearer t0k3n-of-the-caller');
    expect(callback!.json).toMatchObject({
      withdrawal_id: res.body.withdrawal_id,
      status: 'failed',
      amount: 90.01,
      withdrawal_method: 'au_payid_npp_aud',
      payout_method_params: { payid: '0412 345 678' },
    });
    expect(await balance()).toMatchObject({ available: 20_000, held: 0 });
    const entries = await history();
    expect(entries[0]).toMatchObject({ type: 'cashout_return', amount: 9001 });
    expect(entries[1]).toMatchObject({ type: 'cashout', amount: -9001 });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('takes every PayID kind, and our member id as user_id', async () => {
    for (const payid of ['jane@example.com', '+61 412 345 678', '51 824 753 556', '004 085 616']) {
      const res = await withdraw({
        ...toReceiver({
          amount: 100,
          payout_method_name: 'au_payid_npp_aud',
          payout_method_params: { payid },
        }),
        user_id: String(memberId),
      });
      expect(res.status, `${payid}: ${res.text}`).toBe(200);
      expect(res.body.customer_id).toBe(String(memberId));
    }
    expect(await balance()).toMatchObject({ available: 19_600, held: 400 });
  });

  it("keeps a member's external id unique and never all digits (digits name our member id)", async () => {
    const post = (body: unknown) =>
      h.request({
        method: 'POST',
        url: '/v1/members',
        headers: { ...native, 'idempotency-key': `k${++n}` },
        body,
      });
    const digits = await post({ external_id: '12345', email: 'digits@example.com' });
    expect(digits.status).toBe(400);
    expect(digits.body.error.message).toContain('external_id');
    const spaced = await post({ external_id: 'A B', email: 'spaced@example.com' });
    expect(spaced.status).toBe(400);
    const taken = await post({ external_id: USER, email: 'other@example.com' });
    expect(taken.status).toBe(409);
    const alone = await post({ external_id: 'ONLY-AN-ID' });
    expect(alone.status, alone.text).toBe(201);
    expect(alone.body).toMatchObject({ external_id: 'ONLY-AN-ID', email: null, phone: null });
    const count = await h.store.read((tx) => tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM members'));
    expect(count?.n).toBe(2);
  });

  it('refuses a method no configured payout provider pays, changing nothing', async () => {
    const cardsOnly = await startHarness({ payouts: { provider: { card: 'sandbox' } } });
    try {
      const app = await cardsOnly.app(['cashback_write']);
      const res = await cardsOnly.request({
        method: 'POST',
        url: URL_PATH,
        headers: { 'app-id': app.appId, 'secret-key': app.secret },
        body: toReceiver(bank),
      });
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('method_unavailable');
      expect(res.body.error.message).toContain('au_bank_npp_aud');
      const rows = await cardsOnly.store.read((tx) =>
        tx.one<{ n: number }>('SELECT (SELECT COUNT(*) FROM claims) + (SELECT COUNT(*) FROM events) AS n'),
      );
      expect(rows?.n).toBe(0);
    } finally {
      await cardsOnly.close();
    }
  });

  it('refuses a withdrawal larger than the available cashback, changing nothing', async () => {
    const before = await snapshot();
    const res = await withdraw(toReceiver({ ...bank, amount: 20_001 }));
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('insufficient_balance');
    expect(res.body.error.message).toMatch(/200\.00 AUD available/);
    expect(await snapshot()).toEqual(before);
  });
});

// ------------------------------------------------------------------------------------- bad input

type Case = [
  name: string,
  status: number,
  code: string,
  field: string | RegExp,
  send: () => ReturnType<typeof withdraw>,
];

const good = () => toReceiver(bank, 'bad-input');
const withDetail = (patch: Record<string, unknown>) => {
  const b = good();
  return { ...b, cashback_transaction_detail: { ...b.cashback_transaction_detail, ...patch } };
};
const withParams = (params: unknown) => withDetail({ payout_method_params: params });
const payid = (value: unknown) =>
  withDetail({ payout_method_name: 'au_payid_npp_aud', payout_method_params: { payid: value } });
const withHook = (patch: Record<string, unknown>) => {
  const b = good();
  return { ...b, webhook_notification: { ...b.webhook_notification, ...patch } };
};
const without = (field: string) => {
  const { [field]: _drop, ...rest } = good() as Record<string, unknown>;
  return rest;
};
const P = 'cashback_transaction_detail.payout_method_params';
const D = 'cashback_transaction_detail';

const cases = (): Case[] => [
  ['no credentials', 401, 'unauthorized', 'app-id', () => withdraw(good(), {})],
  ['no secret-key', 401, 'unauthorized', 'app-id', () => withdraw(good(), { 'app-id': creds['app-id']! })],
  [
    'a wrong secret-key',
    401,
    'unauthorized',
    /credentials|secret|app/i,
    () => withdraw(good(), { ...creds, 'secret-key': 'sk_wrong' }),
  ],
  [
    'native headers instead of app-id/secret-key',
    401,
    'unauthorized',
    'app-id',
    () => withdraw(good(), native),
  ],
  ['malformed JSON', 400, 'malformed_json', /JSON/, () => withdraw(undefined, creds, '{"user_id": ')],
  ['a body that is an array', 400, 'validation_error', 'body', () => withdraw([good()])],
  ['no user_id', 400, 'validation_error', 'user_id', () => withdraw(without('user_id'))],
  ['a numeric user_id', 400, 'validation_error', 'user_id', () => withdraw({ ...good(), user_id: 12 })],
  [
    'an unknown user_id',
    404,
    'member_not_found',
    'NOSUCHUSER',
    () => withdraw({ ...good(), user_id: 'NOSUCHUSER' }),
  ],
  [
    'no client_transaction_id',
    400,
    'validation_error',
    'client_transaction_id',
    () => withdraw(without('client_transaction_id')),
  ],
  [
    'no cashback_transaction_detail',
    400,
    'validation_error',
    D,
    () => withdraw(without('cashback_transaction_detail')),
  ],
  ['amount zero', 400, 'validation_error', `${D}.amount`, () => withdraw(withDetail({ amount: 0 }))],
  ['amount negative', 400, 'validation_error', `${D}.amount`, () => withdraw(withDetail({ amount: -100 }))],
  [
    'amount with decimals',
    400,
    'validation_error',
    `${D}.amount`,
    () => withdraw(withDetail({ amount: 10.5 })),
  ],
  [
    'amount huge',
    400,
    'validation_error',
    'amount',
    () =>
      withdraw(
        undefined,
        creds,
        JSON.stringify(good()).replace('"amount":2500', '"amount":99999999999999999999'),
      ),
  ],
  [
    // The largest amount that is a safe integer: well formed, so it is the balance that refuses it.
    'amount the largest well-formed',
    422,
    'insufficient_balance',
    /200\.00 AUD available/,
    () => withdraw(withDetail({ amount: 999_999_999_999_999 })),
  ],
  [
    'amount as a string',
    400,
    'validation_error',
    `${D}.amount`,
    () => withdraw(withDetail({ amount: '2500' })),
  ],
  [
    'amount missing',
    400,
    'validation_error',
    `${D}.amount`,
    () => withdraw(withDetail({ amount: undefined })),
  ],
  ['currency USD', 400, 'validation_error', `${D}.currency`, () => withdraw(withDetail({ currency: 'USD' }))],
  [
    'currency a number',
    400,
    'validation_error',
    `${D}.currency`,
    () => withdraw(withDetail({ currency: 36 })),
  ],
  [
    'an unknown payout method',
    400,
    'validation_error',
    `${D}.payout_method_name`,
    () => withdraw(withDetail({ payout_method_name: 'paypal' })),
  ],
  [
    'no payout method',
    400,
    'validation_error',
    `${D}.payout_method_name`,
    () => withdraw(withDetail({ payout_method_name: undefined })),
  ],
  [
    'no payout_method_params',
    400,
    'validation_error',
    P,
    () => withdraw(withDetail({ payout_method_params: undefined })),
  ],
  [
    'payout_method_params a string',
    400,
    'validation_error',
    P,
    () => withdraw(withParams('572505 76273288')),
  ],
  [
    'a BSB of five digits',
    400,
    'validation_error',
    `${P}.bsb`,
    () => withdraw(withParams({ bsb: '57250', account_number: '76273288' })),
  ],
  [
    'a BSB with the dash misplaced',
    400,
    'validation_error',
    `${P}.bsb`,
    () => withdraw(withParams({ bsb: '5725-05', account_number: '76273288' })),
  ],
  [
    'a BSB with letters',
    400,
    'validation_error',
    `${P}.bsb`,
    () => withdraw(withParams({ bsb: '57A505', account_number: '76273288' })),
  ],
  [
    'a BSB as a number',
    400,
    'validation_error',
    `${P}.bsb`,
    () => withdraw(withParams({ bsb: 572505, account_number: '76273288' })),
  ],
  [
    'no account number',
    400,
    'validation_error',
    `${P}.account_number`,
    () => withdraw(withParams({ bsb: '572505' })),
  ],
  [
    'an account of four digits',
    400,
    'validation_error',
    `${P}.account_number`,
    () => withdraw(withParams({ bsb: '572505', account_number: '1234' })),
  ],
  [
    'an account of ten digits',
    400,
    'validation_error',
    `${P}.account_number`,
    () => withdraw(withParams({ bsb: '572505', account_number: '1234567890' })),
  ],
  [
    'an account with letters',
    400,
    'validation_error',
    `${P}.account_number`,
    () => withdraw(withParams({ bsb: '572505', account_number: '1234abc8' })),
  ],
  [
    'bank params for PayID',
    400,
    'validation_error',
    `${P}.payid`,
    () => withdraw(withDetail({ payout_method_name: 'au_payid_npp_aud' })),
  ],
  ['a PayID email without a domain', 400, 'validation_error', `${P}.payid`, () => withdraw(payid('jane@'))],
  ['a PayID landline', 400, 'validation_error', `${P}.payid`, () => withdraw(payid('02 9876 5432'))],
  [
    'a PayID mobile one digit short',
    400,
    'validation_error',
    `${P}.payid`,
    () => withdraw(payid('0412 345 67')),
  ],
  [
    'a PayID ABN with a bad checksum',
    400,
    'validation_error',
    `${P}.payid`,
    () => withdraw(payid('51 824 753 557')),
  ],
  [
    'a PayID ACN with a bad checksum',
    400,
    'validation_error',
    `${P}.payid`,
    () => withdraw(payid('004 085 617')),
  ],
  ['a PayID as a number', 400, 'validation_error', `${P}.payid`, () => withdraw(payid(51824753556))],
  [
    'no webhook_notification',
    400,
    'validation_error',
    'webhook_notification',
    () => withdraw(without('webhook_notification')),
  ],
  [
    'an endpoint_url that is not a URL',
    400,
    'validation_error',
    'webhook_notification.endpoint_url',
    () => withdraw(withHook({ endpoint_url: 'merchant webhook' })),
  ],
  [
    'an ftp endpoint_url',
    400,
    'validation_error',
    'webhook_notification.endpoint_url',
    () => withdraw(withHook({ endpoint_url: 'ftp://merchant.example.com/hook' })),
  ],
  [
    'no authorization_headers',
    400,
    'validation_error',
    'webhook_notification.authorization_headers',
    () => withdraw(withHook({ authorization_headers: undefined })),
  ],
  [
    'authorization_headers forging a second header',
    400,
    'validation_error',
    'webhook_notification.authorization_headers',
    () => withdraw(withHook({ authorization_headers: 'Bearer x\r\nX-Evil: 1' })),
  ],
  [
    'a program_id that is not an integer',
    400,
    'validation_error',
    'program_id',
    () => withdraw({ ...good(), program_id: '1' }),
  ],
];

describe('seed 001: bad input gets a 4xx in the native error shape, naming the field, and changes nothing', () => {
  it('lets the base request through (so each case fails for its own reason)', async () => {
    const res = await withdraw(good());
    expect(res.status, res.text).toBe(200);
  });

  it.each(cases().map((c) => [c[0], c] as const))('%s', async (_name, [, status, code, field, send]) => {
    const before = await snapshot();
    const res = await send();
    expect(res.status, res.text).toBe(status);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(res.body.error.code).toBe(code);
    if (typeof field === 'string') expect(res.body.error.message).toContain(field);
    else expect(res.body.error.message).toMatch(field);
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an app without cashback_write with a 403', async () => {
    const reader = await h.app(['cashback_read']);
    const before = await snapshot();
    const res = await withdraw(good(), { 'app-id': reader.appId, 'secret-key': reader.secret });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await snapshot()).toEqual(before);
  });

  it('holds exactly the amount for any accepted body, and nothing for any refused one (random amounts)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: -5_000, max: 30_000 }),
          fc.double({ noNaN: true }),
          fc.string(),
          fc.constant(null),
          fc.bigInt({ min: 10n ** 15n, max: 10n ** 30n }).map((b) => ({ raw: b.toString() })),
        ),
        async (amount) => {
          const before = await snapshot();
          const body = good();
          body.client_transaction_id = `prop-${++n}`;
          const raw =
            typeof amount === 'object' && amount !== null
              ? JSON.stringify(body).replace('"amount":2500', `"amount":${amount.raw}`)
              : undefined;
          const res = await withdraw(raw ? undefined : withAmount(body, amount), creds, raw);
          expect(res.status).toBeLessThan(500);
          const after = await snapshot();
          if (res.status === 200) {
            expect(after.balance.held - before.balance.held).toBe(amount);
            expect(after.balance.available).toBe(before.balance.available - (amount as number));
          } else {
            expect(Object.keys(res.body)).toEqual(['error']);
            expect(after).toEqual(before);
          }
        },
      ),
      { numRuns: 60 },
    );
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('seed 001: random values in every field', () => {
  const paths = [
    ['user_id'],
    ['client_transaction_id'],
    ['program_id'],
    ['cashback_transaction_detail'],
    ['cashback_transaction_detail', 'amount'],
    ['cashback_transaction_detail', 'currency'],
    ['cashback_transaction_detail', 'payment_description'],
    ['cashback_transaction_detail', 'payout_method_name'],
    ['cashback_transaction_detail', 'payout_method_params'],
    ['cashback_transaction_detail', 'payout_method_params', 'bsb'],
    ['cashback_transaction_detail', 'payout_method_params', 'account_number'],
    ['cashback_transaction_detail', 'payout_method_params', 'payid'],
    ['webhook_notification'],
    ['webhook_notification', 'endpoint_url'],
    ['webhook_notification', 'authorization_headers'],
  ];

  it('never answers 5xx; a refusal changes nothing, an acceptance holds exactly its amount', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.string({ maxLength: 12 }), fc.integer()),
        async (path, value) => {
          const body: any = structuredClone(good());
          body.client_transaction_id = `rand-${++n}`;
          let at = body;
          for (const key of path.slice(0, -1)) {
            if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
            at = at[key];
          }
          at[path.at(-1)!] = value;
          const before = await snapshot();
          const res = await withdraw(body);
          expect(res.status, res.text).toBeLessThan(500);
          const after = await snapshot();
          if (res.status === 200) {
            const amount = body.cashback_transaction_detail.amount as number;
            expect(after.balance.held - before.balance.held).toBe(amount);
            expect(after.withdrawals).toBe(before.withdrawals + 1);
          } else {
            expect(Object.keys(res.body)).toEqual(['error']);
            expect(after).toEqual(before);
          }
        },
      ),
      { numRuns: 80 },
    );
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('seed 001: logs', () => {
  it("redact the caller's callback credential in a request body and in a withdrawal", () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(loggerOptions('info'), sink);
    log.info({ body: EXAMPLE, headers: { 'secret-key': 'sk_seed001_secret' } }, 'withdraw');
    log.info({ withdrawal: { webhook_notification: { authorization_header: 'Bearer your_token' } } });
    const output = lines.join('');
    expect(output).not.toContain('Bearer your_token');
    expect(output).not.toContain('sk_seed001_secret');
    expect(output).toContain('[redacted]');
  });
});

describe('seed 001: the payout method a withdrawal method becomes', () => {
  it('sends the six digits of a dashed BSB and the kind of each PayID', () => {
    expect(
      payoutMethodOf({ name: 'au_bank_npp_aud', params: { bsb: '062-000', account_number: '12345678' } }),
    ).toEqual({ kind: 'au_bank', bsb: '062000', account: '12345678' });
    const kinds = ['jane@example.com', ' 0412 345 678 ', '51 824 753 556', '004 085 616'].map((payid) =>
      payoutMethodOf({ name: 'au_payid_npp_aud', params: { payid } }),
    );
    expect(kinds.map((m) => (m.kind === 'payid' ? m.payidType : m.kind))).toEqual([
      'email',
      'phone',
      'abn',
      'acn',
    ]);
    expect(kinds[1]).toMatchObject({ payid: '0412 345 678' });
    expect(() => payoutMethodOf({ name: 'au_payid_npp_aud', params: { payid: '004 085 617' } })).toThrow(
      /payout_method_params\.payid/,
    );
  });
});

function withAmount(body: ReturnType<typeof toReceiver>, amount: unknown) {
  return { ...body, cashback_transaction_detail: { ...body.cashback_transaction_detail, amount } };
}
