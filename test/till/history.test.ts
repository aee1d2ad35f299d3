// The manager's history over real HTTP on 127.0.0.1, on a real till file: random operations checked
// against a model (fast-check) for every filter, the keyset pages, the day totals in a zone with a
// daylight-saving change and the CSV export parsed back with csv-parse; then the queue actions, one
// operation with its events, the roles and token on every route, and bad queries.
import { parse as parseCsv } from 'csv-parse/sync';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPERATION_STATES } from '../../till/history/filters.ts';
import { OPERATION_TYPES, type OperationState, type OperationType } from '../../till/outbox/queue.ts';
import { seed, startHistoryTill, type HistoryTill, type SeedOperation } from './history-fixture.ts';

// Berlin moves its clocks on 2026-03-29 (that day has 23 hours): the data spans it.
const ZONE = 'Europe/Berlin';
const DAY = 86_400_000;
const START = Date.parse('2026-03-24T00:00:00Z');
const SPAN = 12 * DAY;
const MEMBERS = [
  'email:jane@example.com',
  'email:joe@example.com',
  'phone:+61400000001',
  'id:7',
  'card:411111******1111',
  'member:M-42',
];
const CASHIERS = ['alice', 'bob', '+bob'];
const EXPONENTS: Record<string, number> = { TND: 3, USD: 2, JPY: 0 };
const REFERENCES = ['SALE-1', '=HYPERLINK("http://x")', '-12', '@SUM(A1)', '\tTAB', 'a,b "q"\nnext line'];
const CASHBACK_FIELD: Partial<Record<OperationType, string>> = {
  earn: 'cashback_earned',
  redeem: 'amount_redeemed',
  refund: 'cashback_deducted',
};

/** An operation of the model with what the history should show of it. */
interface ModelOp extends SeedOperation {
  cashback: number | null;
}

const opArb = fc
  .record({
    id: fc.uuid(),
    type: fc.constantFrom(...OPERATION_TYPES),
    state: fc.constantFrom(...OPERATION_STATES),
    amount: fc.integer({ min: 1, max: 10 ** 12 }),
    currency: fc.constantFrom(...Object.keys(EXPONENTS)),
    memberRef: fc.constantFrom(...MEMBERS),
    cashier: fc.constantFrom(...CASHIERS),
    reference: fc.option(fc.constantFrom(...REFERENCES), { nil: null }),
    // A few shared instants, so ties on created_at are ordered by id.
    createdAt: fc.oneof(
      fc.integer({ min: START, max: START + SPAN }),
      fc.constantFrom(START + 5 * DAY, START + 5 * DAY + 1),
    ),
    cashbackValue: fc.integer({ min: 0, max: 10 ** 9 }),
    // How the engine's stored answer looks: mostly right, sometimes not what the history can trust.
    answer: fc.constantFrom('ok', 'ok', 'ok', 'float', 'text', 'not-json'),
    attempts: fc.nat(5),
    lastError: fc.option(fc.constantFrom('connect ECONNREFUSED 127.0.0.1:8080', 'HTTP 503'), { nil: null }),
  })
  .map((r): ModelOp => {
    const field = CASHBACK_FIELD[r.type];
    let result: string | null = null;
    let cashback: number | null = null;
    if (r.state === 'delivered') {
      const value =
        r.answer === 'float'
          ? r.cashbackValue + 0.5
          : r.answer === 'text'
            ? String(r.cashbackValue)
            : r.cashbackValue;
      result =
        r.answer === 'not-json'
          ? 'not json {'
          : JSON.stringify({ transaction_id: 1, currency: r.currency, ...(field ? { [field]: value } : {}) });
      cashback = r.answer === 'ok' && field ? r.cashbackValue : null;
    } else if (r.state === 'failed' || r.state === 'voided') {
      result = 'program 1 is closed';
    }
    const inOutbox = r.state === 'queued' || r.state === 'failed';
    return {
      id: r.id,
      type: r.type,
      state: r.state,
      amount: r.amount,
      currency: r.currency,
      memberRef: r.memberRef,
      cashier: r.cashier,
      reference: r.reference,
      result,
      voidReason: r.state === 'voided' ? 'customer left' : null,
      createdAt: r.createdAt,
      attempts: inOutbox ? r.attempts : 0,
      lastError: inOutbox ? r.lastError : null,
      cashback,
    };
  });

const datesArb = fc.constantFrom(
  ...Array.from({ length: 14 }, (_, i) => new Date(START + (i - 1) * DAY).toISOString().slice(0, 10)),
);

interface Filter {
  from?: string;
  to?: string;
  cashier?: string;
  member?: string;
  type?: OperationType;
  state?: OperationState;
}
const FILTER_KEYS = ['from', 'to', 'cashier', 'member', 'type', 'state'] as const;
// Up to three conditions at a time, so most filters still match something in a few dozen rows.
const filterArb: fc.Arbitrary<Filter> = fc
  .tuple(
    fc.record({
      from: datesArb,
      to: datesArb,
      cashier: fc.constantFrom(...CASHIERS, 'nobody'),
      member: fc.constantFrom('jane', 'email:', '1111', '@example.com', 'M-4', 'nobody', 'EMAIL:'),
      type: fc.constantFrom(...OPERATION_TYPES),
      state: fc.constantFrom(...OPERATION_STATES),
    }),
    fc.subarray([...FILTER_KEYS], { maxLength: 3 }),
  )
  .map(([all, keys]) => {
    const f: Filter = Object.fromEntries(keys.map((k) => [k, all[k]]));
    return f.from !== undefined && f.to !== undefined && f.from > f.to ? { ...f, from: f.to, to: f.from } : f;
  });
const opsArb = fc.uniqueArray(opArb, { selector: (o) => o.id, minLength: 20, maxLength: 80 });

// The oracle's calendar: Intl's, independent of the zone code under test.
const dayOf = (ms: number) =>
  new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(ms);

function matches(o: ModelOp, f: Filter): boolean {
  const day = dayOf(o.createdAt);
  return (
    (f.from === undefined || day >= f.from) &&
    (f.to === undefined || day <= f.to) &&
    (f.cashier === undefined || o.cashier === f.cashier) &&
    (f.member === undefined || o.memberRef.includes(f.member)) &&
    (f.type === undefined || o.type === f.type) &&
    (f.state === undefined || o.state === f.state)
  );
}

const newestFirst = (a: ModelOp, b: ModelOp) =>
  b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
const expected = (ops: ModelOp[], f: Filter) => ops.filter((o) => matches(o, f)).sort(newestFirst);
const query = (params: Record<string, string | number | undefined>) =>
  new URLSearchParams(
    Object.entries(params).flatMap(([k, v]): [string, string][] => (v === undefined ? [] : [[k, String(v)]])),
  ).toString();

const inOutbox = (o: ModelOp) => o.state === 'queued' || o.state === 'failed';

function view(o: ModelOp) {
  return {
    id: o.id,
    type: o.type,
    state: o.state,
    amount: o.amount,
    currency: o.currency,
    cashback: o.cashback,
    memberRef: o.memberRef,
    cashier: o.cashier,
    programId: 1,
    reference: o.reference,
    voidReason: o.voidReason,
    createdAt: o.createdAt,
    updatedAt: o.createdAt,
    attempts: inOutbox(o) ? o.attempts : null,
    lastError: inOutbox(o) ? o.lastError : null,
    answer: o.state === 'delivered' && o.result !== 'not json {' ? JSON.parse(o.result!) : null,
    refusal: o.state === 'failed' || o.state === 'voided' ? o.result : null,
  };
}

/** Exact decimal text, written out digit by digit (the oracle for the CSV's amount column). */
function decimal(minor: number, currency: string): string {
  const e = EXPONENTS[currency]!;
  if (e === 0) return String(minor);
  const digits = String(minor).padStart(e + 1, '0');
  return `${digits.slice(0, -e)}.${digits.slice(-e)}`;
}
const guarded = (s: string | null) => (s === null ? '' : /^[=+\-@\t\r]/.test(s) ? `'${s}` : s);

let till: HistoryTill;
beforeAll(async () => {
  till = await startHistoryTill({ timeZone: ZONE });
});
afterAll(async () => {
  await till.close();
});

async function json(path: string, session?: string | null): Promise<{ status: number; body: any }> {
  const r = await till.call('GET', path, { session });
  return { status: r.status, body: await r.json() };
}

describe('history against a model', () => {
  it('lists exactly the matching operations, newest first, each once across the pages', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(
        opsArb,
        fc.array(fc.tuple(filterArb, fc.integer({ min: 1, max: 25 })), { minLength: 1, maxLength: 4 }),
        async (ops, filters) => {
          await seed(till.outbox, ops);
          for (const [f, limit] of filters) {
            const seen: unknown[] = [];
            let cursor: string | undefined;
            let pages = 0;
            do {
              const r = await json(`/api/history?${query({ ...f, limit, cursor })}`);
              expect(r.status).toBe(200);
              expect(r.body.operations.length).toBeLessThanOrEqual(limit);
              seen.push(...r.body.operations);
              cursor = r.body.nextCursor ?? undefined;
              pages++;
            } while (cursor);
            const want = expected(ops, f);
            if (want.length > 1) nonEmpty++;
            expect(seen).toEqual(want.map(view));
            expect(pages).toBe(Math.max(1, Math.ceil(want.length / limit)));
          }
        },
      ),
      { numRuns: 20 },
    );
    // Not a vacuous pass: most filters matched several rows.
    expect(nonEmpty).toBeGreaterThan(15);
  });

  it('totals each day and currency: count and amount per type and state, cashback from the answers', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, fc.array(filterArb, { minLength: 1, maxLength: 3 }), async (ops, filters) => {
        await seed(till.outbox, ops);
        for (const f0 of filters) {
          const f = { ...f0, from: f0.from ?? '2026-03-23', to: f0.to ?? '2026-04-06' };
          const r = await json(`/api/history/totals?${query({ ...f })}`);
          expect(r.status).toBe(200);
          const groups = new Map<string, ModelOp[]>();
          for (const o of expected(ops, f)) {
            const key = `${dayOf(o.createdAt)}|${o.currency}`;
            groups.set(key, [...(groups.get(key) ?? []), o]);
          }
          const byKey = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
          const keys = [...groups.keys()].sort((a, b) => {
            const [da, ca] = a.split('|') as [string, string];
            const [db, cb] = b.split('|') as [string, string];
            return byKey(db, da) || byKey(ca, cb);
          });
          const sum = (os: ModelOp[], type: OperationType) =>
            os.filter((o) => o.type === type).reduce((s, o) => s + (o.cashback ?? 0), 0);
          const want = keys.map((key) => {
            const os = groups.get(key)!;
            const [date, currency] = key.split('|');
            const cells = new Map<string, { type: string; state: string; count: number; amount: number }>();
            for (const o of os) {
              const k = `${o.type}|${o.state}`;
              const c = cells.get(k) ?? { type: o.type, state: o.state, count: 0, amount: 0 };
              c.count++;
              c.amount += o.amount;
              cells.set(k, c);
            }
            return {
              date,
              currency,
              operations: [...cells.keys()].sort(byKey).map((k) => cells.get(k)),
              cashback: {
                earned: sum(os, 'earn'),
                redeemed: sum(os, 'redeem'),
                clawedBack: sum(os, 'refund'),
              },
            };
          });
          expect(r.body).toEqual({ timeZone: ZONE, from: f.from, to: f.to, days: want });
        }
      }),
      { numRuns: 20 },
    );
  });

  it('exports the same rows as CSV, parsed back by csv-parse, with formulas defused', async () => {
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(opsArb, filterArb, async (ops, f) => {
        await seed(till.outbox, ops);
        const r = await till.call('GET', `/api/history.csv?${query({ ...f })}`);
        expect(r.status).toBe(200);
        expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
        expect(r.headers.get('content-disposition')).toMatch(
          /^attachment; filename="tillback-history-\d{4}-\d{2}-\d{2}\.csv"$/,
        );
        const rows = parseCsv(await r.text(), { columns: true }) as Record<string, string>[];
        const want = expected(ops, f);
        if (want.length > 1) nonEmpty++;
        expect(rows.map((row) => row.id)).toEqual(want.map((o) => o.id));
        rows.forEach((row, i) => {
          const o = want[i]!;
          expect(Date.parse(row.created_at!)).toBe(o.createdAt);
          expect(row).toEqual({
            id: o.id,
            created_at: row.created_at,
            date: dayOf(o.createdAt),
            type: o.type,
            state: o.state,
            currency: o.currency,
            amount_minor: String(o.amount),
            amount: decimal(o.amount, o.currency),
            cashback_minor: o.cashback === null ? '' : String(o.cashback),
            cashback: o.cashback === null ? '' : decimal(o.cashback, o.currency),
            member: o.memberRef,
            cashier: guarded(o.cashier),
            program_id: '1',
            reference: guarded(o.reference),
            attempts: inOutbox(o) ? String(o.attempts) : '',
            error:
              o.state === 'failed' || o.state === 'voided'
                ? o.result
                : inOutbox(o)
                  ? (o.lastError ?? '')
                  : '',
            void_reason: o.voidReason ?? '',
          });
        });
      }),
      { numRuns: 20 },
    );
    expect(nonEmpty).toBeGreaterThan(8);
  });

  it('an empty export is the header row alone', async () => {
    await seed(till.outbox, []);
    const r = await till.call('GET', '/api/history.csv');
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect(text.startsWith('id,created_at,date,type,state,currency,amount_minor,amount,')).toBe(true);
  });
});

function failedOp(id: string, createdAt: number): SeedOperation {
  return {
    id,
    type: 'earn',
    state: 'failed',
    amount: 5_000,
    currency: 'TND',
    memberRef: 'email:jane@example.com',
    cashier: 'carl',
    reference: 'SALE-9',
    result: 'member is blocked',
    voidReason: null,
    createdAt,
    attempts: 1,
    lastError: 'member is blocked',
  };
}

describe('queue actions and one operation', () => {
  it('void needs a reason, then ends a failed operation; a second void is refused', async () => {
    const id = '00000000-0000-4000-8000-000000000001';
    await seed(till.outbox, [failedOp(id, START)]);
    let r = await till.call('POST', `/api/queue/${id}/void`, { body: {} });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: { code: 'validation_error', message: expect.any(String) } });
    r = await till.call('POST', `/api/queue/${id}/void`, { body: { reason: '   ' } });
    expect(r.status).toBe(400);
    expect((await json(`/api/history/${id}`)).body.operation.state).toBe('failed');

    r = await till.call('POST', `/api/queue/${id}/void`, { body: { reason: 'customer left' } });
    expect(r.status).toBe(200);
    const voided = ((await r.json()) as any).operation;
    expect(voided).toMatchObject({
      id,
      state: 'voided',
      voidReason: 'customer left',
      refusal: 'member is blocked',
    });
    expect(voided.attempts).toBeNull();

    r = await till.call('POST', `/api/queue/${id}/void`, { body: { reason: 'again' } });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ error: { code: 'invalid_state', message: expect.any(String) } });
  });

  it('retry puts a failed operation back in the queue with its attempts reset', async () => {
    const id = '00000000-0000-4000-8000-000000000002';
    await seed(till.outbox, [failedOp(id, START)]);
    const r = await till.call('POST', `/api/queue/${id}/retry`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as any).operation).toMatchObject({ id, state: 'queued', attempts: 0 });
    const again = await till.call('POST', `/api/queue/${id}/retry`);
    expect(again.status).toBe(409);
  });

  it('an unknown operation is 404 on every route that names one', async () => {
    await seed(till.outbox, []);
    const id = '00000000-0000-4000-8000-00000000dead';
    for (const [method, path, body] of [
      ['GET', `/api/history/${id}`, undefined],
      ['POST', `/api/queue/${id}/retry`, undefined],
      ['POST', `/api/queue/${id}/void`, { reason: 'x' }],
    ] as const) {
      const r = await till.call(method, path, { body });
      expect(r.status).toBe(404);
      expect(await r.json()).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
    }
  });
});

const ROUTES: { method: string; path: string; body?: unknown }[] = [
  { method: 'GET', path: '/api/history' },
  { method: 'GET', path: '/api/history/00000000-0000-4000-8000-000000000003' },
  { method: 'GET', path: '/api/history/totals' },
  { method: 'GET', path: '/api/history.csv' },
  { method: 'GET', path: '/api/logs/devices' },
  { method: 'GET', path: '/api/logs/queue' },
  { method: 'POST', path: '/api/queue/00000000-0000-4000-8000-000000000003/retry' },
  { method: 'POST', path: '/api/queue/00000000-0000-4000-8000-000000000003/void', body: { reason: 'x' } },
];

describe('who may call', () => {
  it('every history route: 401 without the token or a session, 403 for a cashier, and nothing changes', async () => {
    await seed(till.outbox, [failedOp('00000000-0000-4000-8000-000000000003', START)]);
    const before = await till.outbox.store.read((tx) => tx.all('SELECT * FROM operations'));
    for (const route of ROUTES) {
      const cases = [
        { opts: { token: null }, status: 401, code: 'unauthorized' },
        { opts: { token: 'x'.repeat(43) }, status: 401, code: 'unauthorized' },
        { opts: { session: null }, status: 401, code: 'session_required' },
        { opts: { session: 'not-a-session' }, status: 401, code: 'session_required' },
        { opts: { session: till.cashier }, status: 403, code: 'forbidden' },
      ];
      for (const c of cases) {
        const r = await till.call(route.method, route.path, { ...c.opts, body: route.body });
        expect({ route: route.path, status: r.status }).toEqual({ route: route.path, status: c.status });
        expect(await r.json()).toEqual({ error: { code: c.code, message: expect.any(String) } });
      }
      // The manager gets through (a 404 would mean the route is missing).
      const ok = await till.call(route.method, route.path, { body: route.body });
      expect([200, 409]).toContain(ok.status);
      if (route.method === 'GET') expect(ok.status).toBe(200);
      if (route.method === 'POST')
        await seed(till.outbox, [failedOp('00000000-0000-4000-8000-000000000003', START)]);
    }
    expect(await till.outbox.store.read((tx) => tx.all('SELECT * FROM operations'))).toEqual(before);
  });
});

describe('bad queries', () => {
  const BAD = [
    '/api/history?from=2026-02-30',
    '/api/history?from=2026-3-1',
    '/api/history?from=1969-12-31',
    '/api/history?to=3000-01-01',
    '/api/history?from=2026-04-02&to=2026-04-01',
    '/api/history?type=bogus',
    '/api/history?state=pending',
    '/api/history?limit=0',
    '/api/history?limit=501',
    '/api/history?limit=ten',
    '/api/history?limit=1.5',
    '/api/history?cursor=garbage',
    `/api/history?cursor=${Buffer.from('12.x').toString('base64')}=`,
    '/api/history?cashier=a&cashier=b',
    '/api/history?member=',
    '/api/history?sort=amount',
    '/api/history/totals?from=2025-01-01&to=2026-03-01',
    '/api/history/totals?to=2026-13-01',
    '/api/history.csv?state=nope',
    '/api/history.csv?from=2026-04-02&to=2026-04-01',
    '/api/logs/devices?cursor=-1',
    '/api/logs/devices?limit=9999',
    '/api/logs/queue?operation=',
    '/api/logs/queue?device=reader-1',
  ];
  it.each(BAD)('%s -> 400 validation_error in shape', async (path) => {
    const r = await json(path);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ error: { code: 'validation_error', message: expect.any(String) } });
  });

  it('a cursor from one page continues the listing; one this API could not have made is refused', async () => {
    const ops = Array.from({ length: 5 }, (_, i) =>
      failedOp(`00000000-0000-4000-8000-00000000000${i}`, START + i),
    );
    await seed(till.outbox, ops);
    const first = await json('/api/history?limit=2');
    expect(first.body.operations.map((o: any) => o.id)).toEqual([ops[4]!.id, ops[3]!.id]);
    const next = await json(`/api/history?limit=2&cursor=${first.body.nextCursor}`);
    expect(next.body.operations.map((o: any) => o.id)).toEqual([ops[2]!.id, ops[1]!.id]);
    const tampered = await json(`/api/history?limit=2&cursor=${first.body.nextCursor}!`);
    expect(tampered.status).toBe(400);
  });
});
