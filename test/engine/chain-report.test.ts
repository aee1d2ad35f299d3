// A chain's report: transactions per store and till, through each till's own app. By property: any
// sequence of earns and redeems at any of the chain's tills (and at an app that is no till) reports,
// for each store, till, type and currency, the count and sums the answers add up to.
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;
let programId: number;
const TILLS = [
  { store: 'Main St', till: 'Till 1' },
  { store: 'Main St', till: 'Till 2' },
  { store: 'Harbour Rd', till: 'Till 1' },
  { store: null, till: null },
] as const;
let tillHeaders: Record<string, string>[];

beforeAll(async () => {
  h = await startHarness();
  admin = (await h.app(['admin'])).headers;
  programId = await h.program({ allowsPinRedemption: true });
  tillHeaders = [];
  for (const t of TILLS) {
    const dims = t.store === null ? {} : { store: t.store, till: t.till };
    tillHeaders.push((await h.app(['cashback_read', 'cashback_write'], dims)).headers);
  }
});
afterAll(() => h?.close());

const withPin = new Set<number>();
async function setPin(memberId: number): Promise<void> {
  if (withPin.has(memberId)) return;
  const res = await h.request({
    method: 'PUT',
    url: `/v1/members/${memberId}/pin`,
    headers: { ...admin, 'idempotency-key': randomUUID() },
    body: { pin: '4821' },
  });
  expect(res.status, res.text).toBe(200);
  withPin.add(memberId);
}

async function earnAt(at: number, purchase: number) {
  const res = await h.request({
    method: 'POST',
    url: '/v1/earn',
    headers: { ...tillHeaders[at]!, 'idempotency-key': randomUUID() },
    body: {
      program_id: programId,
      member: { email: 'a@example.com' },
      member_name: 'A',
      purchase_amount: purchase,
    },
  });
  expect(res.status, res.text).toBe(200);
}
const iso = (ms: number) => new Date(ms).toISOString();
const report = (from: string, to: string, headers = admin) =>
  h.request({ method: 'GET', url: `/v1/reports/tills?from=${from}&to=${to}`, headers });

interface Row {
  store: string | null;
  till: string | null;
  type: string;
  currency: string;
  count: number;
  amount: number;
  purchase_amount: number;
}

describe('GET /v1/reports/tills', () => {
  it('adds up, per store and till, what every till was answered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            at: fc.integer({ min: 0, max: TILLS.length - 1 }),
            member: fc.integer({ min: 1, max: 3 }),
            purchase: fc.integer({ min: 1, max: 1_000_000 }),
            redeem: fc.nat({ max: 5_000 }),
          }),
          { minLength: 1, maxLength: 12 },
        ),
        async (ops) => {
          // Each run has a day of its own, so the report of that day sees only this run.
          h.clock.advanceDays(1);
          const from = h.clock.now;
          const run = randomUUID().slice(0, 8);
          const expected = new Map<string, Row>();
          const add = (at: number, type: string, amount: number, purchase: number) => {
            const { store, till } = TILLS[at]!;
            const key = JSON.stringify([store, till, type]);
            const row = expected.get(key) ?? {
              store,
              till,
              type,
              currency: 'TND',
              count: 0,
              amount: 0,
              purchase_amount: 0,
            };
            expected.set(key, {
              ...row,
              count: row.count + 1,
              amount: row.amount + amount,
              purchase_amount: row.purchase_amount + purchase,
            });
          };
          for (const op of ops) {
            const headers = { ...tillHeaders[op.at]!, 'idempotency-key': randomUUID() };
            const member = { email: `m${op.member}.${run}@example.com` };
            const earn = await h.request({
              method: 'POST',
              url: '/v1/earn',
              headers,
              body: { program_id: programId, member, member_name: 'M', purchase_amount: op.purchase },
            });
            expect(earn.status, earn.text).toBe(200);
            add(op.at, 'earn', earn.body.cashback_earned, op.purchase);
            const spend = Math.min(op.redeem, earn.body.balance.available);
            if (spend === 0) continue;
            await setPin(earn.body.member_id);
            const redeem = await h.request({
              method: 'POST',
              url: '/v1/redeem',
              headers: { ...tillHeaders[op.at]!, 'idempotency-key': randomUUID() },
              body: { program_id: programId, member, amount: spend, pin: '4821' },
            });
            expect(redeem.status, redeem.text).toBe(200);
            add(op.at, 'redeem', -redeem.body.amount_redeemed, 0);
          }
          const res = await report(iso(from), iso(h.clock.now + 1));
          expect(res.status, res.text).toBe(200);
          const rows = (res.body.rows as Row[]).filter((r) => r.type === 'earn' || r.type === 'redeem');
          const sort = (list: Row[]) =>
            [...list].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
          expect(sort(rows)).toEqual(sort([...expected.values()]));
        },
      ),
      { numRuns: 15 },
    );
  });

  it('lists the null store and till (apps that are no till) last', async () => {
    h.clock.advanceDays(1);
    const from = h.clock.now;
    await earnAt(3, 1_000);
    await earnAt(0, 1_000);
    const res = await report(iso(from), iso(h.clock.now + 1));
    const rows = res.body.rows as Row[];
    expect(rows.map((r) => [r.store, r.till, r.count])).toEqual([
      ['Main St', 'Till 1', 1],
      [null, null, 1],
    ]);
  });

  it.each([
    ['to before from', 'from=2026-02-01&to=2026-01-01', '`from` must be before `to`'],
    ['more than 366 days', 'from=2026-01-01&to=2027-01-03', 'at most 366 days'],
    ['not a date', 'from=yesterday&to=2026-01-01', 'ISO-8601'],
    ['a missing bound', 'from=2026-01-01', 'to'],
    ['an unknown parameter', 'from=2026-01-01&to=2026-01-02&store=x', 'store'],
  ])('refuses %s with a validation error', async (_name, query, words) => {
    const res = await h.request({ method: 'GET', url: `/v1/reports/tills?${query}`, headers: admin });
    expect(res.status, res.text).toBe(400);
    expect(res.text).toContain(words);
  });

  it("is for the head office: a till's own key is refused", async () => {
    const res = await report('2026-01-01', '2026-01-02', tillHeaders[0]!);
    expect(res.status).toBe(403);
  });
});

describe("a till's app", () => {
  it.each([
    [{ store: 'Main St' }, 'both its store and its till'],
    [{ till: 'Till 9' }, 'both its store and its till'],
    [{ store: ' Main St', till: 'Till 1' }, 'not starting or ending with a space'],
    [{ store: 'x'.repeat(65), till: 'Till 1' }, '1 to 64 characters'],
  ])('refuses %o', async (dims, words) => {
    await expect(h.app(['cashback_write'], dims)).rejects.toThrow(words);
  });
});
