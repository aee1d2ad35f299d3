import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

describe('engine smoke', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('earns through seed 002', async () => {
    const { headers } = await h.app(['cashback_read', 'cashback_write', 'card_read']);
    const card = await h.program();
    const res = await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers,
      rawBody: `{"card_id": ${card}, "email": "a@example.com", "member_name": "A", "purchase_amount": 50.000, "reference": "ORDER-1"}`,
    });
    console.log(res.text);
    expect(res.status).toBe(200);
    expect(await h.ledgerProblems()).toEqual([]);
  });
});
