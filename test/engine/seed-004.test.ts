// Seed 004 (the Obyte partner cashback API) over HTTP on a real SQLite file, as its document describes
// it: POST /new_purchase with partner, partner_key, customer, order_id, description, merchant, address,
// currency, currency_amount, partner_cashback_percentage and purchase_unit; {"result": "ok",
// "cashback_amount", "unit"} or {"result": "error", "error"}. Partners are set up through the native
// admin routes. Covers each supported currency through the configured rate table, a repeated order,
// failed authentication, an empty deposit, and cashback to an email address: a textcoin claimed into
// a wallet through the native API, or returned by the sweep after the 7-day claim window.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chart } from '../../engine/domain/accounts.ts';
import { balanceOf, findAccount, type Balance } from '../../engine/domain/ledger.ts';
import { getPartnerByApp } from '../../engine/domain/partners.ts';
import { startHarness, type Harness } from './harness.ts';

const WALLET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const WALLET2 = 'QRSTUVWXYZ234567ABCDEFGHIJKLMNOP';
const GBYTE = 1_000_000_000; // bytes
const RATES = { 'USD:GBYTE': '0.04', 'EUR:GBYTE': '0.05', 'RUR:GBYTE': '0.0005', 'BTC:GBYTE': '3000' };

interface Creds {
  appId: string;
  secret: string;
}

/** A JSON number written into the body text exactly as given (the document sends numbers). */
class Raw {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `@@raw@@${this.text}@@raw@@`;
  }
}
const raw = (text: string) => new Raw(text);
const serialize = (value: unknown) => JSON.stringify(value).replace(/"@@raw@@(.*?)@@raw@@"/g, '$1');

let h: Harness;
let till: Record<string, string>;
let admin: Record<string, string>;
let keySeq = 0;
const newKey = () => `seed004-${++keySeq}`;

async function setup(config: Parameters<typeof startHarness>[0] = { rates: RATES }) {
  h = await startHarness(config);
  till = (await h.app(['cashback_read', 'cashback_write', 'card_read'])).headers;
  admin = (await h.app(['admin'])).headers;
}
beforeEach(() => setup());
afterEach(() => h.close());

function adminPost(url: string, body: unknown) {
  return h.request({
    method: 'POST',
    url: `/v1${url}`,
    headers: { ...admin, 'idempotency-key': newKey() },
    body,
  });
}

/** An app with the partner scope made a partner (GBYTE unit) through the native admin routes. */
async function partner(
  appId: string,
  terms: { base_bps: number; max_partner_bps?: number; deposit?: number } = { base_bps: 100 },
): Promise<Creds & { id: number }> {
  const app = await h.app(['partner'], { appId });
  const { deposit, ...rest } = terms;
  const created = await adminPost('/partners', { app_id: appId, ...rest });
  expect(created.status, created.text).toBe(201);
  if (deposit) {
    const paid = await adminPost(`/partners/${appId}/deposits`, { amount: deposit, reference: 'WIRE-1' });
    expect(paid.status, paid.text).toBe(200);
    expect(paid.body.deposit).toBe(deposit);
  }
  const { id } = await h.store.read((tx) => getPartnerByApp(tx, appId));
  return { appId, secret: app.secret, id };
}

let orderSeq = 0;
/** The document's parameters, in its order; currency_amount is a JSON number. */
function purchase(p: Creds, over: Record<string, unknown> = {}): Record<string, unknown> {
  orderSeq += 1;
  return {
    partner: p.appId,
    partner_key: p.secret,
    customer: 'customer-42',
    order_id: `ORDER-${orderSeq}`,
    description: 'Two coffees and a croissant',
    merchant: 'cafe-central',
    address: WALLET,
    currency: 'USD',
    currency_amount: raw('100.00'),
    partner_cashback_percentage: 2,
    purchase_unit: 'kYbc5KGKB/KnjynYePEF4cpumKmOz22xVKSVWbmtZ0M=',
    ...over,
  };
}

function newPurchase(body: Record<string, unknown>) {
  return h.request({ method: 'POST', url: '/new_purchase', rawBody: serialize(body) });
}

async function ok(body: Record<string, unknown>): Promise<{ cashback_amount: number; unit: string }> {
  const res = await newPurchase(body);
  expect(res.status, res.text).toBe(200);
  expect(Object.keys(res.body).sort()).toEqual(['cashback_amount', 'result', 'unit']);
  expect(res.body.result).toBe('ok');
  expect(Number.isSafeInteger(res.body.cashback_amount), res.text).toBe(true);
  // An integer on the wire too: no decimal point, no exponent.
  expect(res.text).toMatch(/"cashback_amount":\d+[,}]/);
  expect(res.body.unit).toBeTypeOf('string');
  expect(res.body.unit).not.toBe('');
  return res.body;
}

/** The response is exactly {"result": "error", "error": "..."} with a non-empty message. */
function expectError(
  res: { status: number; body: any; text: string },
  status: number,
  mentions?: string | RegExp,
) {
  expect(res.status, res.text).toBe(status);
  expect(Object.keys(res.body ?? {}).sort(), res.text).toEqual(['error', 'result']);
  expect(res.body.result).toBe('error');
  expect(res.body.error).toBeTypeOf('string');
  expect((res.body.error as string).trim()).not.toBe('');
  if (typeof mentions === 'string') expect(res.body.error).toContain(mentions);
  else if (mentions) expect(res.body.error).toMatch(mentions);
}

async function balance(code: string): Promise<Balance & { pendingIn: number }> {
  const a = await h.store.read((tx) => findAccount(tx, code));
  if (!a) return { posted: 0, available: 0, held: 0, pendingIn: 0 };
  return { ...balanceOf(a), pendingIn: a.normal_side === 'credit' ? a.credits_pending : a.debits_pending };
}
const deposit = (p: { id: number }) => balance(chart.partnerDeposit(p.id, 'GBYTE').code);
const wallet = (address = WALLET) => balance(chart.wallet(address, 'GBYTE').code);
const fund = () => balance(chart.fund('GBYTE').code);

/** Everything a rejected request must leave as it was. */
async function snapshot() {
  return h.store.read(async (tx) => ({
    accounts: await tx.all(
      `SELECT code, currency, debits_posted, credits_posted, debits_pending, credits_pending
         FROM accounts ORDER BY id`,
    ),
    // Where PostgreSQL keeps the balance changes of shared accounts (engine/domain/ledger.ts).
    shards: await tx.all('SELECT * FROM account_shards ORDER BY account_id, shard'),
    counts: await tx.one(
      `SELECT (SELECT COUNT(*) FROM transactions) AS transactions,
              (SELECT COUNT(*) FROM transfers) AS transfers,
              (SELECT COUNT(*) FROM members) AS members,
              (SELECT COUNT(*) FROM idempotency_keys) AS idempotency_keys,
              (SELECT COUNT(*) FROM partner_orders) AS partner_orders,
              (SELECT COUNT(*) FROM textcoins) AS textcoins`,
    ),
  }));
}

async function transactionRow(id: number) {
  return h.store.read((tx) =>
    tx.one<{
      type: string;
      currency: string;
      amount: number;
      purchase_amount: number;
      reference: string;
      metadata: string;
    }>('SELECT type, currency, amount, purchase_amount, reference, metadata FROM transactions WHERE id = ?', [
      id,
    ]),
  );
}

// ---------------------------------------------------------------------------------------- purchase

describe('POST /new_purchase with the document parameters', () => {
  it('answers exactly result ok, an integer cashback_amount and the unit; pays base, partner part and match', async () => {
    const shop = await partner('shop-1', { base_bps: 100, deposit: 10 * GBYTE });
    const body = purchase(shop);
    const r = await ok(body);
    // 100.00 USD at 0.04 = 4 GBYTE; 1% base = 0.04, 2% partner = 0.08, fund match = 0.08 GBYTE.
    expect(r.cashback_amount).toBe(200_000_000);
    expect((await wallet()).posted).toBe(200_000_000);
    expect((await deposit(shop)).posted).toBe(10 * GBYTE - 80_000_000);
    expect((await fund()).posted).toBe(120_000_000);

    // The unit names the transaction that paid the cashback, which keeps the document's fields.
    const row = await transactionRow(Number(r.unit));
    expect(row).toMatchObject({
      type: 'partner_cashback',
      currency: 'GBYTE',
      amount: 200_000_000,
      purchase_amount: 4 * GBYTE,
      reference: body['order_id'],
    });
    expect(JSON.parse(row?.metadata ?? '{}')).toMatchObject({
      customer: 'customer-42',
      description: 'Two coffees and a croissant',
      merchant: 'cafe-central',
      purchase_unit: 'kYbc5KGKB/KnjynYePEF4cpumKmOz22xVKSVWbmtZ0M=',
      currency: 'USD',
      currency_amount: '100.00',
    });
    const listed = await h.request({ method: 'GET', url: '/v1/partners', headers: admin });
    expect(listed.body.partners).toEqual([
      expect.objectContaining({ app_id: 'shop-1', deposit: 10 * GBYTE - 80_000_000, currency: 'GBYTE' }),
    ]);
    expect(h.sent).toEqual([]);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('needs only the required parameters: no merchant, purchase_unit or partner percentage, no deposit', async () => {
    const shop = await partner('shop-2', { base_bps: 250 });
    const r = await ok({
      partner: shop.appId,
      partner_key: shop.secret,
      customer: 'c-1',
      order_id: 'minimal-1',
      description: '',
      address: WALLET,
      currency: 'USD',
      currency_amount: 25,
    });
    // 25 USD = 1 GBYTE; 2.5% = 0.025 GBYTE.
    expect(r.cashback_amount).toBe(25_000_000);
    expect((await deposit(shop)).posted).toBe(0);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('takes the same parameters posted as a form, and answers in the same shape', async () => {
    const shop = await partner('shop-form', { base_bps: 100, deposit: 10 * GBYTE });
    const form = new URLSearchParams({
      partner: shop.appId,
      partner_key: shop.secret,
      customer: 'customer-42',
      order_id: 'FORM-1',
      description: 'Two coffees',
      address: WALLET,
      currency: 'USD',
      currency_amount: '100.00',
      partner_cashback_percentage: '2',
    });
    const res = await h.engine.app.inject({
      method: 'POST',
      url: '/new_purchase',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(JSON.parse(res.body)).toEqual({
      result: 'ok',
      cashback_amount: 200_000_000,
      unit: expect.any(String),
    });
    // A wrong key in a form is refused in the document's shape too.
    form.set('partner_key', 'wrong');
    form.set('order_id', 'FORM-2');
    const refused = await h.engine.app.inject({
      method: 'POST',
      url: '/new_purchase',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    });
    expect(refused.statusCode).toBe(401);
    expect(JSON.parse(refused.body)).toEqual({ result: 'error', error: expect.any(String) });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('rounds the cashback down to whole bytes', async () => {
    const shop = await partner('shop-3', { base_bps: 100 });
    // 0.01 USD = 0.0004 GBYTE = 400,000 bytes; 1% = 4,000 bytes. 0.03 USD -> 1.2M bytes -> 12,000.
    expect(
      (await ok(purchase(shop, { currency_amount: raw('0.01'), partner_cashback_percentage: 0 })))
        .cashback_amount,
    ).toBe(4_000);
    // 0.000000001 GBYTE = 1 byte; 1% of it rounds down to nothing.
    const tiny = await ok(
      purchase(shop, {
        currency: 'GBYTE',
        currency_amount: raw('0.000000001'),
        partner_cashback_percentage: 0,
      }),
    );
    expect(tiny.cashback_amount).toBe(0);
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('each supported currency through the rate table', () => {
  // [currency, currency_amount, the purchase in bytes at RATES]
  const cases: [string, string, number][] = [
    ['USD', '100.00', 4 * GBYTE], // 0.04 GBYTE per USD
    ['EUR', '50.00', 2.5 * GBYTE], // 0.05
    ['RUR', '1000.00', 0.5 * GBYTE], // 0.0005
    ['GBYTE', '2', 2 * GBYTE], // the partner's own unit: no conversion
    ['BTC', '0.01', 30 * GBYTE], // 3000
  ];

  it.each(cases)('%s %s', async (currency, amount, bytes) => {
    const shop = await partner(`shop-${currency.toLowerCase()}`, { base_bps: 100, deposit: 100 * GBYTE });
    const r = await ok(
      purchase(shop, { currency, currency_amount: raw(amount), partner_cashback_percentage: 1 }),
    );
    // 1% base + 1% partner + 1% match.
    expect(r.cashback_amount).toBe(3 * Math.floor(bytes / 100));
    expect((await transactionRow(Number(r.unit)))?.purchase_amount).toBe(bytes);
    expect((await wallet()).posted).toBe(r.cashback_amount);
    expect((await deposit(shop)).posted).toBe(100 * GBYTE - Math.floor(bytes / 100));
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('refuses a currency the document does not list, naming the supported ones; nothing changes', async () => {
    const shop = await partner('shop-x', { base_bps: 100, deposit: GBYTE });
    const before = await snapshot();
    for (const currency of ['JPY', 'RUB', 'usd', 'XYZ', '']) {
      const res = await newPurchase(purchase(shop, { currency }));
      expectError(res, 400, 'currency');
      if (currency !== '') expect(res.body.error).toMatch(/USD, EUR, RUR, GBYTE, BTC/);
    }
    expect(await snapshot()).toEqual(before);
  });

  it('refuses a supported currency with no configured rate, saying which rate is missing', async () => {
    await h.close();
    await setup({ rates: {} });
    const shop = await partner('shop-norate', { base_bps: 100 });
    const before = await snapshot();
    const res = await newPurchase(purchase(shop, { currency: 'EUR', partner_cashback_percentage: 0 }));
    expectError(res, 400, /EUR to GBYTE/);
    expect(await snapshot()).toEqual(before);
    // The partner's own unit needs no rate.
    await ok(purchase(shop, { currency: 'GBYTE', currency_amount: 1, partner_cashback_percentage: 0 }));
  });
});

describe('errors in the document shape, changing nothing', () => {
  it('a repeated order_id is an error and changes nothing, whatever else differs', async () => {
    const shop = await partner('shop-dup', { base_bps: 100, deposit: GBYTE });
    const first = purchase(shop, { order_id: 'ORDER-12345' });
    await ok(first);
    const before = await snapshot();
    expectError(await newPurchase(first), 409, 'ORDER-12345');
    expectError(
      await newPurchase({
        ...first,
        currency_amount: raw('5.00'),
        address: WALLET2,
        customer: 'someone-else',
      }),
      409,
      'ORDER-12345',
    );
    expect(await snapshot()).toEqual(before);
    // Unique per partner: another partner may use the same order id.
    const other = await partner('shop-other', { base_bps: 100 });
    await ok(purchase(other, { order_id: 'ORDER-12345', partner_cashback_percentage: 0 }));
  });

  it('authentication failed: a wrong partner_key, an unknown partner, none at all; 403 without the partner scope', async () => {
    const shop = await partner('shop-auth', { base_bps: 100, deposit: GBYTE });
    const before = await snapshot();
    const wrong = await newPurchase(purchase(shop, { partner_key: 'sk_not_the_key' }));
    expectError(wrong, 401);
    const unknown = await newPurchase(purchase({ appId: 'no-such-partner', secret: 'sk_whatever' }));
    expectError(unknown, 401);
    // No hint about which partner names exist.
    expect(unknown.body.error).toBe(wrong.body.error);
    const { partner_key: _key, ...noKey } = purchase(shop);
    expectError(await newPurchase(noKey), 401);
    const till2 = await h.app(['cashback_write']);
    expectError(await newPurchase(purchase({ appId: till2.appId, secret: till2.secret })), 403, 'partner');
    expect(await snapshot()).toEqual(before);
  });

  it('partner_cashback_percentage above 0 with an empty deposit is an error, not a negative deposit', async () => {
    const shop = await partner('shop-empty', { base_bps: 100 });
    const before = await snapshot();
    const body = purchase(shop, { order_id: 'EMPTY-1', partner_cashback_percentage: 2 });
    const res = await newPurchase(body);
    expectError(res, 422, 'deposit');
    expect(await snapshot()).toEqual(before);
    expect((await deposit(shop)).posted).toBe(0);
    // The failed request did not use up the order id.
    const r = await ok({ ...body, partner_cashback_percentage: 0 });
    expect(r.cashback_amount).toBe(40_000_000);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('a deposit smaller than the partner part is refused whole', async () => {
    const shop = await partner('shop-short', { base_bps: 100, deposit: 50_000_000 });
    const before = await snapshot();
    // 2% of 4 GBYTE = 0.08 GBYTE from the deposit, which holds 0.05.
    expectError(await newPurchase(purchase(shop)), 422, /deposit/i);
    expect(await snapshot()).toEqual(before);
  });
});

// --------------------------------------------------------------------------------------- textcoins

describe('cashback to an email address', () => {
  it('sends a textcoin whose claim code, claimed through the native API, pays the wallet once', async () => {
    const shop = await partner('shop-mail', { base_bps: 100, deposit: 10 * GBYTE });
    const r = await ok(purchase(shop, { address: 'Friend@Example.com' }));
    expect(r.cashback_amount).toBe(200_000_000);
    const sent = h.sent.filter((m) => m.kind === 'textcoin');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: 'friend@example.com', kind: 'textcoin' });
    const code = sent[0]?.code ?? '';
    expect(code.length).toBeGreaterThanOrEqual(20);
    // Held until claimed: nothing in any wallet yet, the partner part held on the deposit.
    expect((await wallet()).posted).toBe(0);
    expect((await deposit(shop)).available).toBe(10 * GBYTE - 80_000_000);
    expect((await balance(chart.textcoin('friend@example.com', 'GBYTE').code)).pendingIn).toBe(200_000_000);

    const claim = (key: string, claimCode = code) =>
      h.request({
        method: 'POST',
        url: '/v1/textcoins/claim',
        headers: { ...till, 'idempotency-key': key },
        body: { claim_code: claimCode, address: WALLET },
      });
    const noKey = await h.request({
      method: 'POST',
      url: '/v1/textcoins/claim',
      headers: till,
      body: { claim_code: code, address: WALLET },
    });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.message).toContain('Idempotency-Key');

    const claimed = await claim('claim-1');
    expect(claimed.status, claimed.text).toBe(200);
    expect(claimed.body).toMatchObject({
      amount: 200_000_000,
      currency: 'GBYTE',
      address: WALLET,
      replayed: false,
    });
    expect((await claim('claim-1')).body).toMatchObject({
      transaction_id: claimed.body.transaction_id,
      replayed: true,
    });
    expect((await wallet()).posted).toBe(200_000_000);
    expect((await deposit(shop)).posted).toBe(10 * GBYTE - 80_000_000);

    const again = await claim('claim-2');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('returns an unclaimed textcoin after the 7-day window, as a ledger transfer', async () => {
    const shop = await partner('shop-return', { base_bps: 100, deposit: 10 * GBYTE });
    const claimed = await ok(purchase(shop, { address: 'first@example.com' }));
    const firstCode = h.sent.at(-1)?.code ?? '';
    const okClaim = await h.request({
      method: 'POST',
      url: '/v1/textcoins/claim',
      headers: { ...till, 'idempotency-key': 'claim-first' },
      body: { claim_code: firstCode, address: WALLET },
    });
    expect(okClaim.status, okClaim.text).toBe(200);
    const depositBefore = (await deposit(shop)).posted;
    const fundBefore = (await fund()).posted;

    const unclaimed = await ok(purchase(shop, { address: 'second@example.com' }));
    const code = h.sent.at(-1)?.code ?? '';
    expect(h.sent.at(-1)).toMatchObject({ to: 'second@example.com', kind: 'textcoin' });
    expect((await deposit(shop)).available).toBe(depositBefore - 80_000_000);

    h.clock.advanceDays(6);
    expect((await h.engine.sweep()).returned).toBe(0);
    h.clock.advanceDays(2);
    expect((await h.engine.sweep()).returned).toBe(1);

    // Everything held goes back where it came from; the claimed textcoin stays paid.
    expect(await deposit(shop)).toMatchObject({ posted: depositBefore, available: depositBefore, held: 0 });
    expect((await fund()).posted).toBe(fundBefore);
    expect((await fund()).pendingIn).toBe(0);
    expect((await balance(chart.textcoin('second@example.com', 'GBYTE').code)).pendingIn).toBe(0);
    expect((await wallet()).posted).toBe(claimed.cashback_amount);
    const returned = await h.store.read((tx) =>
      tx.all<{ type: string; amount: number; related_id: number }>(
        "SELECT type, amount, related_id FROM transactions WHERE type = 'textcoin_return'",
      ),
    );
    expect(returned).toEqual([
      { type: 'textcoin_return', amount: -unclaimed.cashback_amount, related_id: Number(unclaimed.unit) },
    ]);

    const late = await h.request({
      method: 'POST',
      url: '/v1/textcoins/claim',
      headers: { ...till, 'idempotency-key': 'claim-late' },
      body: { claim_code: code, address: WALLET2 },
    });
    expect(late.status).toBe(404);
    expect((await wallet(WALLET2)).posted).toBe(0);
    // A second sweep finds nothing more to return.
    expect((await h.engine.sweep()).returned).toBe(0);
    expect(await h.ledgerProblems()).toEqual([]);
  });
});
