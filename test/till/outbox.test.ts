// The till's outbox against a real engine on loopback and a real SQLite file: delivery after the
// engine comes back, a flapping link, refusals a manager resolves, offline limits and the state stream.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OutboxError } from '../../till/outbox/errors.ts';
import { openOutbox, type OperationEvent, type Outbox, type QueueState } from '../../till/outbox/outbox.ts';
import type { OutboxConfigInput } from '../../till/outbox/config.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

let link: EngineLink;
let dir: string;
const opened: Outbox[] = [];

beforeEach(async () => {
  link = await startEngineLink();
  dir = mkdtempSync(join(tmpdir(), 'tillback-till-'));
});
afterEach(async () => {
  for (const o of opened.splice(0)) await o.close();
  await link.close();
  rmSync(dir, { recursive: true, force: true });
});

async function outbox(extra: Partial<OutboxConfigInput> = {}, deps = {}): Promise<Outbox> {
  const o = await openOutbox(
    {
      path: join(dir, 'till.sqlite'),
      engine: { url: link.url, ...link.credentials },
      retry: { baseMs: 10, maxMs: 100 },
      timeoutMs: 5_000,
      ...extra,
    },
    deps,
  );
  opened.push(o);
  return o;
}

const earn = (i: number, extra: Record<string, unknown> = {}) => ({
  type: 'earn',
  cashier: 'alice',
  programId: link.programId,
  currency: 'TND',
  member: { email: `member${i % 3}@example.com` },
  memberName: 'A Member',
  purchaseAmount: 1_000 + i,
  reference: `sale-${i}`,
  ...extra,
});

async function drained(o: Outbox): Promise<void> {
  await vi.waitFor(async () => expect((await o.state()).waiting).toBe(0), { timeout: 60_000, interval: 50 });
}

describe('delivery', () => {
  it('queues while the engine is stopped and delivers each item once, in order, when it starts', async () => {
    await link.stop();
    const o = await outbox();
    o.start();
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await o.enqueue(earn(i)));
    await vi.waitFor(async () => expect((await o.operation(ids[0]!))!.attempts).toBeGreaterThanOrEqual(2), {
      timeout: 20_000,
    });
    expect(await link.applied()).toEqual([]);
    expect((await o.state()).waiting).toBe(12);

    await link.start();
    await drained(o);
    const applied = await link.applied();
    expect(applied.map((t) => t.reference)).toEqual(ids.map((_, i) => `sale-${i}`));
    expect(applied.map((t) => t.purchaseAmount)).toEqual(ids.map((_, i) => 1_000 + i));
    for (const id of ids) {
      const op = (await o.operation(id))!;
      expect(op.state).toBe('delivered');
      expect(JSON.parse(op.result!)).toMatchObject({ purchase_amount: op.amount, currency: 'TND' });
    }
    expect(await link.h.ledgerProblems()).toEqual([]);
  });

  it('delivers a burst exactly once and in order while the link flaps', async () => {
    const o = await outbox();
    const online: (boolean | null)[] = [];
    o.onState((s) => online.push(s.online));
    o.start();
    const ids: string[] = [];
    let i = 0;
    for (let flap = 0; flap < 4; flap++) {
      for (let k = 0; k < 8; k++) ids.push(await o.enqueue(earn(i++)));
      await link.stop();
      for (let k = 0; k < 4; k++) ids.push(await o.enqueue(earn(i++)));
      await new Promise((r) => setTimeout(r, 50));
      await link.start();
    }
    await drained(o);
    const applied = await link.applied();
    expect(applied.map((t) => t.reference)).toEqual(ids.map((_, n) => `sale-${n}`));
    expect(await link.h.ledgerProblems()).toEqual([]);
    // The link did go down under the sender (items enqueued while stopped were attempted) and came back.
    expect(online).toContain(false);
    await vi.waitFor(() => expect(online.at(-1)).toBe(true));
  });

  it("keeps the queue while the engine refuses the till's key, and delivers once the till has the right one", async () => {
    const wrong = await outbox({
      engine: { url: link.url, ...link.credentials, apiKey: 'sk_not-this-tills-key' },
    });
    const events: OperationEvent[] = [];
    wrong.onOperation((e) => events.push(e));
    wrong.start();
    const ids = [await wrong.enqueue(earn(1)), await wrong.enqueue(earn(2))];
    await vi.waitFor(
      () => expect(events.filter((e) => e.kind === 'attempt_failed').length).toBeGreaterThanOrEqual(2),
      {
        timeout: 20_000,
      },
    );
    expect(events.find((e) => e.kind === 'attempt_failed')).toMatchObject({
      error: expect.stringContaining('401'),
    });
    expect(events.map((e) => e.kind)).not.toContain('refused');
    for (const id of ids) expect((await wrong.operation(id))!.state).toBe('queued');
    expect(await link.applied()).toEqual([]);
    await opened.splice(opened.indexOf(wrong), 1)[0]!.close();

    const right = await outbox();
    right.start();
    await drained(right);
    expect((await link.applied()).map((t) => t.reference)).toEqual(['sale-1', 'sale-2']);
  });

  it('marks a refused item failed with the engine message and moves on; a manager retries or voids it', async () => {
    const o = await outbox();
    const events: OperationEvent[] = [];
    o.onOperation((e) => events.push(e));
    o.start();
    const missingProgram = link.programId + 1;
    const first = await o.enqueue(earn(0));
    const refused = await o.enqueue(earn(1, { programId: missingProgram }));
    const refusedToo = await o.enqueue(earn(2, { programId: missingProgram }));
    const last = await o.enqueue(earn(3));
    await drained(o);
    expect((await link.applied()).map((t) => t.reference)).toEqual(['sale-0', 'sale-3']);
    const failed = (await o.operation(refused))!;
    expect(failed.state).toBe('failed');
    expect(failed.result).toBe(`404 program_not_found: No cashback card/program with id ${missingProgram}`);
    expect((await o.state()).failed).toBe(2);
    expect((await o.operation(first))!.state).toBe('delivered');
    expect((await o.operation(last))!.state).toBe('delivered');

    // Manager actions refuse the wrong state and an empty reason, changing nothing.
    await expect(o.retry(first)).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(o.void(refused, '  ')).rejects.toMatchObject({ code: 'validation_error' });
    await expect(o.retry('no-such-id')).rejects.toMatchObject({ code: 'not_found' });
    expect((await o.operation(refused))!.state).toBe('failed');

    // The fix: the program the till was told about now exists. Retry sends it again, once.
    await link.h.program({ currency: 'TND' });
    await o.retry(refused);
    await o.void(refusedToo, 'customer took a paper receipt instead');
    await drained(o);
    expect((await o.operation(refused))!.state).toBe('delivered');
    const voided = (await o.operation(refusedToo))!;
    expect(voided).toMatchObject({ state: 'voided', voidReason: 'customer took a paper receipt instead' });
    await expect(o.void(refusedToo, 'again')).rejects.toMatchObject({ code: 'invalid_state' });
    expect((await link.applied()).map((t) => t.reference)).toEqual(['sale-0', 'sale-3', 'sale-1']);
    expect((await o.state()).failed).toBe(0);
    // Each operation's events, in the order they were committed.
    const kinds = (id: string) => events.filter((e) => e.id === id).map((e) => e.kind);
    expect(kinds(first)).toEqual(['queued', 'delivered']);
    expect(kinds(refused)).toEqual(['queued', 'refused', 'retried', 'delivered']);
    expect(kinds(refusedToo)).toEqual(['queued', 'refused', 'voided']);
    const delivered = events.find((e) => e.id === first && e.kind === 'delivered');
    expect(JSON.parse((delivered as { answer: string }).answer)).toHaveProperty(
      'transaction_id',
      expect.any(Number),
    );
    expect(events.find((e) => e.id === refusedToo && e.kind === 'voided')).toMatchObject({
      reason: 'customer took a paper receipt instead',
    });
  });

  it('streams the queue state: offline with items waiting, then online and empty', async () => {
    await link.stop();
    const o = await outbox();
    const states: QueueState[] = [];
    o.onState((s) => states.push(s));
    o.start();
    await o.enqueue(earn(0));
    await o.enqueue(earn(1));
    await vi.waitFor(() => expect(states.some((s) => s.online === false && s.waiting === 2)).toBe(true), {
      timeout: 20_000,
    });
    expect(states[0]).toMatchObject({ waiting: 1, failed: 0 });
    expect(states.at(-1)!.oldestAgeMs).toBeGreaterThanOrEqual(0);
    await link.start();
    await vi.waitFor(
      () => expect(states.at(-1)).toMatchObject({ online: true, waiting: 0, oldestAgeMs: null }),
      {
        timeout: 30_000,
      },
    );
  });
});

describe('staying current and alive', () => {
  it('follows the engine with health checks while the queue is empty', async () => {
    const o = await outbox({ healthIntervalMs: 100 });
    const online: (boolean | null)[] = [];
    o.onState((s) => online.push(s.online));
    o.start();
    await vi.waitFor(() => expect(online.at(-1)).toBe(true), { timeout: 20_000 });
    await link.stop();
    await vi.waitFor(() => expect(online.at(-1)).toBe(false), { timeout: 20_000 });
    await link.start();
    await vi.waitFor(() => expect(online.at(-1)).toBe(true), { timeout: 20_000 });
    // Only changes are streamed, not every check.
    expect(online).toEqual([true, false, true]);
    expect((await o.state()).waiting).toBe(0);
  });

  it('keeps delivering after its own file fails, and applies the operation once', async () => {
    const errors: unknown[] = [];
    const o = await outbox({}, { onError: (e: unknown) => errors.push(e) });
    // A real SQLite failure where the sender records a delivery: the engine has applied the earn but
    // the till cannot write that down, as with a full disk.
    await o.store.transact((tx) =>
      tx.run(
        "CREATE TRIGGER fail_delivery BEFORE DELETE ON outbox BEGIN SELECT RAISE(ABORT, 'simulated I/O error'); END",
      ),
    );
    const id = await o.enqueue(earn(0));
    o.start();
    await vi.waitFor(() => expect(errors.length).toBeGreaterThanOrEqual(2), { timeout: 20_000 });
    expect(String(errors[0])).toMatch(/simulated I\/O error/);
    expect((await o.operation(id))!.state).toBe('queued');
    await o.store.transact((tx) => tx.run('DROP TRIGGER fail_delivery'));
    await drained(o);
    expect((await o.operation(id))!.state).toBe('delivered');
    // Sent several times with one key, applied once.
    expect((await link.applied()).map((t) => t.reference)).toEqual(['sale-0']);
    expect(await link.h.ledgerProblems()).toEqual([]);
  });
});

describe('retryable answers', () => {
  it('retries 503, 429 and a hung request with the same key until the engine answers', async () => {
    // A scripted engine: 503, 429, then hangs past the till's timeout, then passes to the real one.
    const script = ['503', '429', 'hang'];
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      // The sender's health checks are not part of the script.
      if (req.method === 'GET' && req.url === '/health') return void res.end('{"status":"ok"}');
      seen.push(req.headers);
      const step = script.shift();
      if (step === 'hang') return;
      if (step)
        return void res
          .writeHead(Number(step), { 'content-type': 'application/json' })
          .end('{"error":{"code":"busy","message":"later"}}');
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        void fetch(link.url + req.url, {
          method: 'POST',
          headers: req.headers as Record<string, string>,
          body: Buffer.concat(body),
        }).then(async (r) =>
          res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const o = await outbox({
        engine: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ...link.credentials },
        timeoutMs: 300,
      });
      const online: (boolean | null)[] = [];
      o.onState((s) => online.push(s.online));
      // Queued before the start: the sender's first look finds it (no health check first).
      const id = await o.enqueue(earn(0));
      o.start();
      await drained(o);
      expect((await o.operation(id))!.state).toBe('delivered');
      expect(seen.map((h) => h['idempotency-key'])).toEqual([id, id, id, id]);
      await vi.waitFor(() => expect(online.filter((v) => v !== null)).toEqual([false, true, false, true]));
      expect((await link.applied()).map((t) => t.reference)).toEqual(['sale-0']);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('refusing what cannot be queued', () => {
  async function refusesAndKeeps(o: Outbox, input: unknown, expected: Partial<OutboxError>): Promise<void> {
    const before = await o.state();
    const error = await o.enqueue(input).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OutboxError);
    expect(error).toMatchObject(expected);
    expect(await o.state()).toEqual(before);
  }

  it('refuses past the count, amount and age limits, with the reason, changing nothing', async () => {
    await link.stop();
    let now = Date.UTC(2026, 0, 15, 10, 0);
    const o = await outbox(
      { limits: { maxCount: 3, maxAmount: { TND: 3_500 }, maxAgeHours: 24 } },
      { now: () => now },
    );
    await o.enqueue(earn(0, { purchaseAmount: 1_000 }));
    await o.enqueue(earn(1, { purchaseAmount: 2_000 }));
    await refusesAndKeeps(o, earn(2, { purchaseAmount: 501 }), {
      code: 'offline_limit',
      limit: 'max_amount',
    });
    // Other currencies have no cap here.
    await o.enqueue(earn(3, { currency: 'USD', purchaseAmount: 9_999 }));
    await refusesAndKeeps(o, earn(4, { purchaseAmount: 1 }), { code: 'offline_limit', limit: 'max_count' });
    expect((await o.state()).waiting).toBe(3);

    const aged = await outbox(
      { path: join(dir, 'aged.sqlite'), limits: { maxAgeHours: 24 } },
      { now: () => now },
    );
    await aged.enqueue(earn(5));
    now += 24 * 3_600_000;
    await aged.enqueue(earn(6)); // exactly 24 hours: still within the limit
    now += 1;
    await refusesAndKeeps(aged, earn(7), {
      code: 'offline_limit',
      limit: 'max_age',
      message: expect.stringMatching(/24 hours/),
    });
  });

  it('says redeems and cashouts need the engine, and rejects bad input and card numbers', async () => {
    const o = await outbox();
    await refusesAndKeeps(
      o,
      { ...earn(0), type: 'redeem' },
      { code: 'online_required', message: expect.stringMatching(/redeem needs the engine/) },
    );
    await refusesAndKeeps(o, { ...earn(0), type: 'cashout' }, { code: 'online_required' });
    await refusesAndKeeps(o, earn(0, { purchaseAmount: 10.5 }), { code: 'validation_error' });
    await refusesAndKeeps(o, earn(0, { purchaseAmount: -1 }), { code: 'validation_error' });
    await refusesAndKeeps(o, earn(0, { cashier: '' }), { code: 'validation_error' });
    const error = await o
      .enqueue(earn(0, { member: { card: { pan: '5350290149345177' } } }))
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'validation_error' });
    expect(String((error as Error).message)).not.toContain('5350290149345177');
    expect(await o.state()).toEqual({ online: null, waiting: 0, oldestAgeMs: null, failed: 0 });
  });

  it('refuses a bad config with what is wrong', async () => {
    await expect(outbox({ engine: { url: 'ftp://x', appId: 'a', apiKey: 'k' } })).rejects.toMatchObject({
      code: 'validation_error',
      message: expect.stringMatching(/engine\.url/),
    });
    await expect(outbox({ retry: { baseMs: 100, maxMs: 10 } })).rejects.toThrow(
      /maxMs must be at least baseMs/,
    );
    await expect(outbox({ limits: { maxAgeHours: 721 } })).rejects.toThrow(/idempotency keys 30 days/);
  });
});
