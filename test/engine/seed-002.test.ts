// Seed 002 (loyalty cashback API): every example request of the document, sent as written, and the
// response checked for every documented field with the documented type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyOtp, requestOtp, setPin } from '../../engine/domain/member-auth.ts';
import { startHarness, type Harness } from './harness.ts';

/** The field types of the document's example responses: every one must be present with its type. */
function expectShape(
  value: unknown,
  shape: Record<string, 'number' | 'string' | 'boolean' | 'null|string' | 'object' | 'array'>,
) {
  const obj = value as Record<string, unknown>;
  for (const [field, type] of Object.entries(shape)) {
    expect(obj, `field ${field}`).toHaveProperty(field);
    const v = obj[field];
    if (type === 'null|string')
      expect(v === null || typeof v === 'string', `${field} is null or string`).toBe(true);
    else if (type === 'array') expect(Array.isArray(v), `${field} is an array`).toBe(true);
    else expect(typeof v, `type of ${field}`).toBe(type);
  }
}

describe('seed 002: loyalty cashback API', () => {
  let h: Harness;
  let headers: Record<string, string>;
  let card: number;
  let memberId: number;

  beforeAll(async () => {
    h = await startHarness();
    ({ headers } = await h.app(['cashback_read', 'cashback_write', 'card_read']));
    // The document's card: 5% back, minimum 10.00, maximum 1000.00, PIN redemption allowed, in TND.
    card = await h.program({
      uniqueIdentifier: 'CASH-001',
      currency: 'TND',
      cashbackBps: 500,
      minPurchase: 10_000,
      maxCashback: 1_000_000,
      allowsPinRedemption: true,
    });
    // Member 123 of the document is whoever the first earn creates.
    const created = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      body: { card_id: card, email: 'member@example.com', member_name: 'Member', purchase_amount: 200 },
    });
    memberId = created.body.data.member_id;
  });
  afterAll(() => h.close());

  it('earn: the document example, with amounts exact to the text', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      rawBody: `{
        "card_id": ${card},
        "member_id": ${memberId},
        "purchase_amount": 50.00,
        "reference": "ORDER-12345",
        "metadata": { "store_location": "Downtown", "cashier_id": "EMP-001" }
      }`,
    });
    expect(res.status).toBe(200);
    expect(res.body.success).toBe(true);
    expectShape(res.body.data, {
      transaction_id: 'number',
      purchase_amount: 'number',
      cashback_percentage: 'number',
      cashback_earned: 'number',
      new_balance: 'number',
      member_id: 'number',
      card_id: 'number',
      earned_at: 'string',
    });
    // TND has three decimals: 50.00 TND earns 2.500 at 5%, and 200 earned 10.000 before.
    expect(res.text).toContain('"purchase_amount":50.000');
    expect(res.text).toContain('"cashback_earned":2.500');
    expect(res.text).toContain('"new_balance":12.500');
    expect(res.text).toContain('"cashback_percentage":5');
    expect(res.body.data.earned_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const meta = await h.store.read((tx) =>
      tx.one<{ metadata: string; reference: string }>(
        'SELECT metadata, reference FROM transactions WHERE id = ?',
        [res.body.data.transaction_id],
      ),
    );
    expect(JSON.parse(meta!.metadata)).toEqual({ store_location: 'Downtown', cashier_id: 'EMP-001' });
    expect(meta!.reference).toBe('ORDER-12345');
  });

  it('earn: a repeated reference returns the first result and earns once; another body is a 409', async () => {
    const body = { card_id: card, member_id: memberId, purchase_amount: '30.00', reference: 'ORDER-REPEAT' };
    const first = await h.request({ method: 'POST', url: '/api/v1/cashback/cashback/earn', headers, body });
    const again = await h.request({ method: 'POST', url: '/api/v1/cashback/cashback/earn', headers, body });
    expect(again.body).toEqual(first.body);
    const other = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      body: { ...body, purchase_amount: '31.00' },
    });
    expect(other.status).toBe(409);
    expect(other.body).toEqual({
      success: false,
      error: { code: 'idempotency_conflict', message: expect.stringContaining('ORDER-REPEAT') },
    });
    const n = await h.store.read((tx) =>
      tx.one<{ n: number }>("SELECT COUNT(*) AS n FROM transactions WHERE reference = 'ORDER-REPEAT'"),
    );
    expect(n!.n).toBe(1);
  });

  it('earn: below the card minimum earns nothing; above the maximum is capped', async () => {
    const small = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      body: { card_id: card, member_id: memberId, purchase_amount: 9.999 },
    });
    expect(small.status).toBe(200);
    expect(small.text).toContain('"cashback_earned":0.000');
    const big = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      body: { card_id: card, member_id: memberId, purchase_amount: 50000 },
    });
    expect(big.text).toContain('"cashback_earned":1000.000');
    // Undo the capped earn so later balances read like the document.
    await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/refund',
      headers,
      body: {
        card_id: card,
        member_id: memberId,
        refund_amount: 50000,
        original_transaction_id: big.body.data.transaction_id,
      },
    });
  });

  it('redeem: the document example with X-Member-Token from an OTP exchange and a PIN', async () => {
    const ctx = h.engine.ctx;
    await setPin(ctx, memberId, '1234');
    const challenge = await requestOtp(ctx, { id: memberId });
    const { token } = await verifyOtp(ctx, challenge.challengeId, h.sent.at(-1)!.code);
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/redeem',
      headers: { ...headers, 'x-member-token': token },
      rawBody: `{ "card_id": ${card}, "amount": 5.00, "pin": "1234", "reference": "REFUND-ORDER-12345" }`,
    });
    expect(res.status).toBe(200);
    expectShape(res.body.data, {
      transaction_id: 'number',
      amount_redeemed: 'number',
      new_balance: 'number',
      member_id: 'number',
      card_id: 'number',
      redeemed_at: 'string',
    });
    expect(res.text).toContain('"amount_redeemed":5.000');
    expect(res.body.data.member_id).toBe(memberId);
  });

  it('redeem: without a token or PIN it is refused, and nothing moves', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/redeem',
      headers,
      body: { card_id: card, amount: 5 },
    });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('member_token_required');
  });

  it('balance: the document example', async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/cashback/cashback/balance?card_id=${card}&member_id=${memberId}`,
      headers,
    });
    expect(res.status).toBe(200);
    expectShape(res.body.data, {
      card_id: 'number',
      member_id: 'number',
      cashback_balance: 'number',
      cashback_percentage: 'number',
      reward_system: 'string',
      queried_at: 'string',
    });
    expect(res.body.data.reward_system).toBe('cashback');
    // 10.000 + 2.500 + 1.500 (ORDER-REPEAT) - 5.000 redeemed = 9.000
    expect(res.text).toContain('"cashback_balance":9.000');
  });

  it('history: the document example with limit and offset, newest first, signed amounts', async () => {
    const res = await h.request({
      method: 'GET',
      url: `/api/v1/cashback/cashback/history?card_id=${card}&member_id=${memberId}&limit=2&offset=0`,
      headers,
    });
    expect(res.status).toBe(200);
    expectShape(res.body.data, {
      card_id: 'number',
      member_id: 'number',
      transactions: 'array',
      pagination: 'object',
    });
    for (const t of res.body.data.transactions) {
      expectShape(t, {
        id: 'number',
        type: 'string',
        amount: 'number',
        points: 'number',
        event: 'string',
        created_at: 'string',
      });
    }
    expectShape(res.body.data.pagination, {
      limit: 'number',
      offset: 'number',
      total: 'number',
      has_more: 'boolean',
    });
    expect(res.body.data.pagination.has_more).toBe(true);
    const [newest] = res.body.data.transactions;
    expect(newest).toMatchObject({ type: 'redemption', event: 'cashback_redeemed', amount: -5 });
    const all = await h.request({
      method: 'GET',
      url: `/api/v1/cashback/cashback/history?card_id=${card}&member_id=${memberId}&limit=100`,
      headers,
    });
    const redemption = all.body.data.transactions.find((t: { type: string }) => t.type === 'redemption');
    expect(redemption).toMatchObject({ event: 'cashback_redeemed', amount: -5 });
    expect(all.body.data.transactions.find((t: { type: string }) => t.type === 'earning').event).toBe(
      'cashback_earned',
    );
    // The cursor pages through the same entries as offset.
    const next = await h.request({
      method: 'GET',
      url: `/api/v1/cashback/cashback/history?card_id=${card}&member_id=${memberId}&limit=2&before=${res.body.data.pagination.next_cursor}`,
      headers,
    });
    expect(next.body.data.transactions.map((t: { id: number }) => t.id)).toEqual(
      all.body.data.transactions.slice(2, 4).map((t: { id: number }) => t.id),
    );
  });

  it('refund: the document example (percentage of the refund amount)', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/refund',
      headers,
      rawBody: `{ "card_id": ${card}, "member_id": ${memberId}, "refund_amount": 25.00, "reference": "REFUND-ORDER-12345" }`,
    });
    expect(res.status).toBe(200);
    expectShape(res.body.data, {
      transaction_id: 'number',
      cashback_deducted: 'number',
      refund_amount: 'number',
      previous_balance: 'number',
      new_balance: 'number',
      currency: 'string',
      member_id: 'number',
      card_id: 'number',
      reference: 'string',
      balance_warning: 'null|string',
      refunded_at: 'string',
    });
    expect(res.text).toContain('"cashback_deducted":1.250');
    expect(res.text).toContain('"previous_balance":9.000');
    expect(res.text).toContain('"new_balance":7.750');
    expect(res.body.data).toMatchObject({
      currency: 'TND',
      reference: 'REFUND-ORDER-12345',
      balance_warning: null,
    });
  });

  it('refund: partial refunds of one purchase claw back cumulatively to exactly what it earned', async () => {
    const purchase = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      body: { card_id: card, member_id: memberId, purchase_amount: '33.333', reference: 'ORDER-THIRDS' },
    });
    expect(purchase.text).toContain('"cashback_earned":1.666');
    let clawed = 0;
    for (const part of ['11.111', '11.111', '11.111']) {
      const r = await h.request({
        method: 'POST',
        url: '/api/v1/cashback/cashback/refund',
        headers,
        body: { card_id: card, member_id: memberId, refund_amount: part, original_reference: 'ORDER-THIRDS' },
      });
      expect(r.status).toBe(200);
      clawed += Math.round(Number(r.body.data.cashback_deducted) * 1000);
    }
    expect(clawed).toBe(1666);
    const more = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/refund',
      headers,
      body: {
        card_id: card,
        member_id: memberId,
        refund_amount: '0.001',
        original_reference: 'ORDER-THIRDS',
      },
    });
    expect(more.status).toBe(422);
    expect(more.body.error.code).toBe('refund_exceeds_purchase');
  });

  it('refund: a clawback beyond the balance goes negative with balance_warning', async () => {
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/refund',
      headers,
      body: { card_id: card, member_id: memberId, refund_amount: 200, cashback_to_deduct: 100 },
    });
    expect(res.status).toBe(200);
    expect(res.body.data.balance_warning).toMatch(/-92\.250 TND/);
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('cards: the document example', async () => {
    const res = await h.request({ method: 'GET', url: '/api/v1/cashback/cards', headers });
    expect(res.status).toBe(200);
    expectShape(res.body.data, { cards: 'array', total: 'number' });
    const c = res.body.data.cards.find((x: { id: number }) => x.id === card);
    expectShape(c, {
      id: 'number',
      unique_identifier: 'string',
      name: 'string',
      description: 'string',
      reward_system: 'string',
      cashback_config: 'object',
    });
    expectShape(c.cashback_config, {
      cashback_percentage: 'number',
      cashback_min_amount: 'number',
      cashback_max_amount: 'number',
      allows_pin_redemption: 'boolean',
    });
    expect(res.text).toContain('"cashback_min_amount":10.000');
    expect(c.unique_identifier).toBe('CASH-001');
  });

  it('X-App-Id and X-Api-Key: missing, wrong and under-scoped are 401/403 in the document error shape', async () => {
    const none = await h.request({ method: 'GET', url: '/api/v1/cashback/cards' });
    expect(none.status).toBe(401);
    expect(none.body).toEqual({
      success: false,
      error: { code: 'unauthorized', message: expect.any(String) },
    });
    const wrong = await h.request({
      method: 'GET',
      url: '/api/v1/cashback/cards',
      headers: { 'x-app-id': headers['x-app-id']!, 'x-api-key': 'sk_wrong' },
    });
    expect(wrong.status).toBe(401);
    const reader = await h.app(['cashback_read']);
    const forbidden = await h.request({
      method: 'GET',
      url: '/api/v1/cashback/cards',
      headers: reader.headers,
    });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.message).toContain('card_read');
  });
});
