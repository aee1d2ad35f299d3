// Webhooks end to end: events recorded by the outbox, delivered by the engine's worker to a real
// receiver on 127.0.0.1 that checks every signature, over a real SQLite file. The engine's clock is
// the harness clock, moved by the tests; the receiver checks the replay window against it too.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from '../../contract/webhook-signature.ts';
import type { EngineConfigInput } from '../../engine/config.ts';
import { recordEvent, type NewEvent } from '../../engine/domain/outbox.ts';
import { claimDue } from '../../engine/domain/webhook-deliveries.ts';
import type { Resolve } from '../../engine/webhooks/address-policy.ts';
import { INSERTION_ORDER } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './webhook-receiver.ts';

const SUBSCRIBER_SECRET = 'whsec_subscriber_current_0123456789abcdef';
const PREVIOUS_SECRET = 'whsec_subscriber_previous_0123456789abcdef';
const TARGET_SECRET = 'whsec_targets_current_0123456789abcdefghij';
const LOOPBACK = ['127.0.0.1/32'];

let h: Harness | undefined;
let rx: Receiver | undefined;

afterEach(async () => {
  await h?.close();
  await rx?.close();
  h = undefined;
  rx = undefined;
});

/** A receiver, then an engine whose webhook settings may name it. */
async function start(
  webhooks: (receiver: Receiver) => NonNullable<EngineConfigInput['webhooks']>,
  options: { receiverSecrets?: string[]; resolve?: Resolve } = {},
) {
  const receiver = await startReceiver({
    secrets: options.receiverSecrets ?? [SUBSCRIBER_SECRET],
    nowSeconds: () => Math.floor((h?.clock.now ?? 0) / 1000),
  });
  rx = receiver;
  const harness = await startHarness(
    { webhooks: { secrets: [TARGET_SECRET], ...webhooks(receiver) } },
    {},
    options.resolve ? { resolve: options.resolve } : {},
  );
  h = harness;
  return { h: harness, rx: receiver };
}

const subscribed =
  (secrets = [SUBSCRIBER_SECRET], extra: NonNullable<EngineConfigInput['webhooks']> = {}) =>
  (r: Receiver) => ({ subscribers: [{ url: r.url, secrets }], allowPrivateNetworks: LOOPBACK, ...extra });

const claimPaid = (data: Record<string, unknown> = {}): NewEvent => ({
  type: 'claim.paid',
  subject: { kind: 'claim', id: 'clm_0a1b2c' },
  data: { status: 'paid', amount: 1500, currency: 'AUD', ...data },
});

const record = (harness: Harness, event: NewEvent) =>
  harness.store.transact((tx) => recordEvent(tx, event, harness.clock.now));

interface DeliveryRow {
  id: string;
  event_id: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  created_at: number;
  last_status_code: number | null;
  last_error: string | null;
}
interface AttemptRow {
  attempt: number;
  started_at: number;
  status_code: number | null;
  error: string | null;
  latency_ms: number;
  response_excerpt: string | null;
}

const deliveries = (harness: Harness) =>
  harness.store.read((tx) =>
    tx.all<DeliveryRow>(
      `SELECT d.* FROM webhook_deliveries d JOIN events e ON e.id = d.event_id ORDER BY e.${INSERTION_ORDER}, d.url`,
    ),
  );
const attempts = (harness: Harness, deliveryId: string) =>
  harness.store.read((tx) =>
    tx.all<AttemptRow>('SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY id', [deliveryId]),
  );
const count = (harness: Harness, table: string) =>
  harness.store.read((tx) => tx.row<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)).then((r) => r.n);

/** Moves the clock to the one delivery's next attempt and lets the worker make it. */
async function nextAttempt(harness: Harness): Promise<DeliveryRow> {
  const [d] = await deliveries(harness);
  harness.clock.now = Math.max(harness.clock.now, d!.next_attempt_at);
  await harness.engine.webhooks.drain();
  return (await deliveries(harness))[0]!;
}

describe('native subscribers', () => {
  it('get every event in the native body, signed, with the event id header, sent as soon as it commits', async () => {
    const { h, rx } = await start(subscribed());
    const eventId = await record(h, claimPaid());
    // No drain: the worker is woken by the commit itself.
    const [got] = await rx.waitFor(1);
    expect(got!.json).toEqual({
      id: eventId,
      type: 'claim.paid',
      created: '2026-01-15T10:30:00Z',
      subject: { kind: 'claim', id: 'clm_0a1b2c' },
      data: { status: 'paid', amount: 1500, currency: 'AUD' },
    });
    expect(got!.headers['tillback-event-id']).toBe(eventId);
    expect(got!.headers['content-type']).toBe('application/json');
    const t = Math.floor(h.clock.now / 1000);
    expect(got!.headers['tillback-signature']).toMatch(new RegExp(`^t=${t},v1=[0-9a-f]{64}$`));
    expect(got!.verified).toEqual({ ok: true, t });

    await h.engine.webhooks.drain();
    const [d] = await deliveries(h);
    expect(d).toMatchObject({ event_id: eventId, status: 'delivered', attempts: 1, last_status_code: 200 });
    const [a] = await attempts(h, d!.id);
    expect(a).toMatchObject({ attempt: 1, status_code: 200, error: null, response_excerpt: 'ok' });
    expect(a!.latency_ms).toBeGreaterThanOrEqual(0);
  });

  it('are checked by a receiver that refuses a wrong secret, a changed body and a replay outside the window', async () => {
    const { h, rx } = await start(subscribed());
    await record(h, claimPaid());
    const [got] = await rx.waitFor(1);
    const header = got!.headers['tillback-signature'] as string;
    const now = Math.floor(h.clock.now / 1000);
    const check = (over: Partial<Parameters<typeof verifyWebhook>[0]>) =>
      verifyWebhook({ header, body: got!.body, secrets: [SUBSCRIBER_SECRET], nowSeconds: now, ...over });
    expect(check({})).toEqual({ ok: true, t: now });
    expect(check({ secrets: [PREVIOUS_SECRET] })).toEqual({ ok: false, reason: 'no signature matches' });
    expect(check({ body: got!.body.replace('1500', '9500') }).ok).toBe(false);
    expect(check({ nowSeconds: now + 299 }).ok).toBe(true);
    expect(check({ nowSeconds: now + 301 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/replayed/),
    });
    expect(check({ nowSeconds: now - 301 }).ok).toBe(false);
  });

  it('during a rotation carry one v1 per secret, so receivers holding either secret accept', async () => {
    const NEW = 'whsec_subscriber_rotated_0123456789abcdefgh';
    const { h, rx } = await start(subscribed([NEW, SUBSCRIBER_SECRET]));
    await record(h, claimPaid());
    const [first] = await rx.waitFor(1);
    expect((first!.headers['tillback-signature'] as string).split(',v1=')).toHaveLength(3);
    expect(first!.verified.ok).toBe(true); // the receiver still holds only the previous secret

    rx.secrets = [NEW]; // the receiver has switched
    await record(h, claimPaid());
    const [, second] = await rx.waitFor(2);
    expect(second!.verified.ok).toBe(true);

    rx.secrets = ['whsec_someone_else_entirely_0123456789abcd']; // and one that holds neither
    await record(h, claimPaid());
    const [, , third] = await rx.waitFor(3);
    expect(third!.verified.ok).toBe(false);
    await h.engine.webhooks.drain();
    const rows = await deliveries(h);
    expect(rows.map((r) => r.status)).toEqual(['delivered', 'delivered', 'pending']);
    expect(rows[2]!.last_status_code).toBe(401);
  });
});

describe('retries', () => {
  it('retry a 500 with backoff and jitter, then deliver the same body with the same event id', async () => {
    const { h, rx } = await start(subscribed());
    rx.answer = (n) => (n === 0 ? { status: 500, body: 'database is down' } : {});
    const created = h.clock.now;
    await record(h, claimPaid());
    await h.engine.webhooks.drain();
    let [d] = await deliveries(h);
    expect(d).toMatchObject({ status: 'pending', attempts: 1, last_status_code: 500 });
    expect(d!.last_error).toBe('HTTP 500 is not a 2xx');
    // base 10 s, equal jitter: the first wait is 5 to 10 s.
    expect(d!.next_attempt_at).toBeGreaterThanOrEqual(created + 5_000);
    expect(d!.next_attempt_at).toBeLessThanOrEqual(created + 10_000);

    // Not due yet: nothing is sent.
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(1);

    d = await nextAttempt(h);
    expect(d).toMatchObject({ status: 'delivered', attempts: 2, last_status_code: 200, last_error: null });
    const [first, second] = rx.received;
    expect(second!.body).toBe(first!.body);
    expect(second!.headers['tillback-event-id']).toBe(first!.headers['tillback-event-id']);
    expect(second!.verified.ok).toBe(true);
    expect((await attempts(h, d.id)).map((a) => [a.status_code, a.response_excerpt])).toEqual([
      [500, 'database is down'],
      [200, 'ok'],
    ]);
  });

  it('give up on an attempt at its timeout and retry it', async () => {
    const { h, rx } = await start(subscribed([SUBSCRIBER_SECRET], { timeoutMs: 300 }));
    rx.answer = (n) => (n === 0 ? { delayMs: 3_000 } : {});
    await record(h, claimPaid());
    await h.engine.webhooks.drain();
    const [d] = await deliveries(h);
    const [a] = await attempts(h, d!.id);
    expect(a).toMatchObject({ status_code: null, error: 'no answer within 300 ms', response_excerpt: null });
    expect(a!.latency_ms).toBeGreaterThanOrEqual(250);
    expect(d!.status).toBe('pending');
    expect((await nextAttempt(h)).status).toBe('delivered');
  });

  it('go on for the whole 72-hour window, then mark the delivery failed; a re-send starts again', async () => {
    const { h, rx } = await start(subscribed());
    rx.answer = () => ({ status: 503 });
    const created = h.clock.now;
    await record(h, claimPaid());
    await h.engine.webhooks.drain();
    let d = (await deliveries(h))[0]!;
    for (let i = 0; i < 500 && d.status === 'pending'; i++) d = await nextAttempt(h);
    expect(d.status).toBe('failed');

    const log = await attempts(h, d.id);
    expect(log).toHaveLength(d.attempts);
    expect(rx.received).toHaveLength(d.attempts);
    const window = 72 * 3_600_000;
    // The last attempt is made exactly when the window ends; none before it was allowed to be final.
    expect(log.at(-1)!.started_at).toBe(created + window);
    expect(log.at(-2)!.started_at).toBeLessThan(created + window);
    // Each wait is in the upper half of base x 2^(n-1), capped at an hour (the last one may be cut
    // short by the end of the window).
    for (let n = 1; n < log.length - 1; n++) {
      const wait = log[n]!.started_at - log[n - 1]!.started_at;
      const ceiling = Math.min(3_600_000, 10_000 * 2 ** (n - 1));
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
    }
    expect(new Set(rx.received.map((r) => r.headers['tillback-event-id'])).size).toBe(1);

    // A failed delivery sent again on demand: one more attempt now, delivered this time.
    rx.answer = () => ({});
    const admin = await h.app(['admin']);
    const res = await h.request({
      method: 'POST',
      url: `/v1/webhooks/resend/${d.id}`,
      headers: { ...admin.headers, 'idempotency-key': 'resend-1' },
    });
    expect(res.status).toBe(202);
    expect(res.body.deliveries[0]).toMatchObject({ delivery_id: d.id, status: 'pending' });
    await h.engine.webhooks.drain();
    expect((await deliveries(h))[0]).toMatchObject({ status: 'delivered', attempts: d.attempts + 1 });
  });
});

describe('endpoint addresses', () => {
  it('give up on a name that does not resolve within the attempt timeout', async () => {
    const resolve: Resolve = () => new Promise(() => {}); // a resolver that never answers
    const { h } = await start(() => ({ timeoutMs: 300 }), { resolve });
    await record(h, {
      ...claimPaid(),
      targets: [{ url: 'https://slow.example.test/hooks', format: 'native' }],
    });
    await h.engine.webhooks.drain();
    const [d] = await deliveries(h);
    expect(d).toMatchObject({
      status: 'pending',
      last_error: 'no address for slow.example.test within 300 ms',
    });
  });

  it('sign targets with the secret generated into the secrets file when none is configured', async () => {
    rx = await startReceiver({ secrets: [], nowSeconds: () => Math.floor((h?.clock.now ?? 0) / 1000) });
    h = await startHarness({ webhooks: { allowPrivateNetworks: LOOPBACK } });
    const stored = JSON.parse(readFileSync(join(h.dir, 'secrets.json'), 'utf8'));
    expect(stored.webhookSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    rx.secrets = [stored.webhookSecret];
    await record(h, { ...claimPaid(), targets: [{ url: rx.url, format: 'native' }] });
    const [got] = await rx.waitFor(1);
    expect(got!.verified.ok).toBe(true);
  });

  it('do not follow a redirect (it could point anywhere): a 3xx is a failed attempt', async () => {
    const { h, rx } = await start(subscribed());
    rx.answer = () => ({ status: 302, body: 'moved' });
    await record(h, claimPaid());
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(1);
    expect((await deliveries(h))[0]).toMatchObject({
      status: 'pending',
      last_status_code: 302,
      last_error: 'HTTP 302 is not a 2xx',
    });
  });

  it('refuse a loopback receiver unless the configuration allows it, and keep retrying', async () => {
    const { h, rx } = await start((r) => ({ subscribers: [{ url: r.url, secrets: [SUBSCRIBER_SECRET] }] }));
    await record(h, claimPaid());
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(0);
    const [d] = await deliveries(h);
    expect(d!.status).toBe('pending');
    expect(d!.last_error).toMatch(
      /^127\.0\.0\.1 is a loopback address; allow it in webhooks\.allowPrivateNetworks/,
    );
  });

  it('refuse "localhost" as resolved by the system', async () => {
    const { h, rx } = await start(() => ({}));
    await record(h, { ...claimPaid(), targets: [{ url: 'http://localhost:9/hooks', format: 'native' }] });
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(0);
    expect((await deliveries(h))[0]!.last_error).toMatch(/is a loopback address/);
  });

  it('refuse a name with any private address among public ones (checked at delivery, after resolution)', async () => {
    const answers: Record<string, { address: string; family: number }[]> = {
      'mixed.example.test': [
        { address: '93.184.216.34', family: 4 },
        { address: '10.20.30.40', family: 4 },
      ],
      'v6.example.test': [{ address: 'fd12:3456::1', family: 6 }],
      'mapped.example.test': [{ address: '::ffff:192.168.1.10', family: 6 }],
    };
    const resolve: Resolve = async (name) => answers[name] ?? [];
    const { h } = await start(() => ({}), { resolve });
    const targets = Object.keys(answers).map((name) => ({
      url: `https://${name}/hooks`,
      format: 'native' as const,
    }));
    await record(h, { ...claimPaid(), targets });
    await h.engine.webhooks.drain();
    const errors = (await deliveries(h)).map((d) => d.last_error).sort();
    expect(errors).toEqual([
      expect.stringMatching(/^10\.20\.30\.40 is a private address/),
      expect.stringMatching(/^192\.168\.1\.10 is a private address/),
      expect.stringMatching(/^fd12:3456::1 is a uniqueLocal address/),
    ]);
  });

  it('connect to the very address that was checked, whatever the name (no second lookup to rebind)', async () => {
    let lookups = 0;
    const resolve: Resolve = async (name) => {
      lookups++;
      return name === 'hooks.example.test' ? [{ address: '127.0.0.1', family: 4 }] : [];
    };
    const { h, rx } = await start(() => ({ allowPrivateNetworks: LOOPBACK }), {
      resolve,
      receiverSecrets: [TARGET_SECRET],
    });
    await record(h, {
      ...claimPaid(),
      targets: [{ url: `http://hooks.example.test:${rx.port}/hooks`, format: 'native' }],
    });
    const [got] = await rx.waitFor(1);
    expect(got!.host).toBe(`hooks.example.test:${rx.port}`);
    expect(got!.verified.ok).toBe(true); // targets are signed with webhooks.secrets
    expect(lookups).toBe(1);
  });
});

const seed001Data = {
  withdrawal_id: 'HQ2GGUO7',
  client_transaction_id: 'withdraw_r15e23',
  merchant_name: 'Hello Clever',
  site_name: 'Cashback',
  customer_id: '8GAVZZKTI3',
  amount: 1000,
  currency: 'AUD',
  withdrawal_method: 'au_bank_npp_aud',
  status: 'settled',
  created_at: Date.UTC(2024, 10, 7, 2, 32, 42, 200),
  updated_at: Date.UTC(2024, 10, 7, 2, 32, 42, 231),
  payout_method_params: { bsb: '572505', account_number: '76273288' },
};

describe('formats', () => {
  it("seed 000: noebs's {name, details: {response, code, time, amount}} to the provider's endpoint", async () => {
    const { h, rx } = await start(() => ({ allowPrivateNetworks: LOOPBACK }), {
      receiverSecrets: [TARGET_SECRET],
    });
    await record(h, {
      type: 'claim.paid',
      subject: { kind: 'claim', id: 'clm_1' },
      data: { name: 'shifa', response: 'Approved', code: 0, amount: 100, claim_id: 'clm_1' },
      targets: [{ url: rx.url, format: 'seed000' }],
    });
    const [got] = await rx.waitFor(1);
    expect(got!.json).toEqual({
      name: 'shifa',
      details: { response: 'Approved', code: 0, time: '2026-01-15T10:30:00Z', amount: 100 },
    });
    expect(got!.verified.ok).toBe(true);
  });

  it("seed 001: the documented callback, with the caller's authorization header sent and echoed", async () => {
    const { h, rx } = await start(() => ({ allowPrivateNetworks: LOOPBACK }), {
      receiverSecrets: [TARGET_SECRET],
    });
    await record(h, {
      type: 'withdrawal.settled',
      subject: { kind: 'withdrawal', id: 'HQ2GGUO7' },
      data: seed001Data,
      targets: [{ url: rx.url, format: 'seed001', headers: { Authorization: 'Bearer your_token' } }],
    });
    const [got] = await rx.waitFor(1);
    expect(got!.headers.authorization).toBe('Bearer your_token');
    expect(got!.json).toEqual({
      transaction_type: 'money_out',
      withdrawal_id: 'HQ2GGUO7',
      client_transaction_id: 'withdraw_r15e23',
      merchant_name: 'Hello Clever',
      site_name: 'Cashback',
      customer_id: '8GAVZZKTI3',
      amount: 10,
      withdrawal_method: 'au_bank_npp_aud',
      status: 'settled',
      created_at: '2024-11-07T02:32:42.200Z',
      updated_at: '2024-11-07T02:32:42.231Z',
      payout_method_params: { bsb: '572505', account_number: '76273288' },
      webhook_notification: { endpoint_url: rx.url, authorization_header: 'Bearer your_token' },
    });
    // Major units printed with the currency's decimals, never through a float.
    expect(got!.body).toContain('"amount":10.00,');
    expect(got!.verified.ok).toBe(true);
  });

  it('refuse an event whose data cannot make the body, or whose target is no http(s) URL, rolling back its change', async () => {
    const { h } = await start(() => ({}));
    await expect(
      record(h, {
        ...claimPaid(),
        data: { name: 'shifa', response: 'Approved', amount: 100 },
        targets: [{ url: 'https://provider.example/hook', format: 'seed000' }],
      }),
    ).rejects.toThrow(/claim\.paid: its data cannot make a seed000 webhook body \(code: /);
    await expect(
      record(h, { ...claimPaid(), targets: [{ url: 'ftp://provider.example/hook', format: 'native' }] }),
    ).rejects.toThrow('target "ftp://provider.example/hook" is not an absolute http(s) URL');
    expect(await count(h, 'events')).toBe(0);
    expect(await count(h, 'webhook_deliveries')).toBe(0);
  });
});

describe('the outbox', () => {
  it('writes events only with the change: a rolled-back transaction sends nothing, its neighbour in the batch is sent', async () => {
    const { h, rx } = await start(subscribed());
    const [kept, dropped] = await Promise.allSettled([
      record(h, claimPaid({ status: 'paid' })),
      h.store.transact(async (tx) => {
        await recordEvent(tx, claimPaid({ status: 'cancelled' }), h.clock.now);
        throw new Error('the state change failed after its event was written');
      }),
    ]);
    expect(kept.status).toBe('fulfilled');
    expect(dropped.status).toBe('rejected');
    await h.engine.webhooks.drain();
    expect(await count(h, 'events')).toBe(1);
    expect(await count(h, 'webhook_deliveries')).toBe(1);
    expect(rx.received.map((r) => r.json.data.status)).toEqual(['paid']);
  });

  it('sends again, with the same event id, a delivery whose worker died mid-delivery once its lease runs out', async () => {
    const { h, rx } = await start(subscribed([SUBSCRIBER_SECRET], { timeoutMs: 1_000 }));
    // A worker leases the delivery in the event's own transaction, then "dies": it never records.
    const eventId = await h.store.transact(async (tx) => {
      const id = await recordEvent(tx, claimPaid(), h.clock.now);
      expect(await claimDue(tx, h.clock.now, 10, 31_000)).toHaveLength(1);
      return id;
    });
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(0); // leased by the dead worker

    h.clock.now += 31_000;
    await h.engine.webhooks.drain();
    expect(rx.received.map((r) => r.headers['tillback-event-id'])).toEqual([eventId]);
    expect((await deliveries(h))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('keeps at most `concurrency` deliveries in flight, and delivers them all', async () => {
    const { h, rx } = await start(subscribed([SUBSCRIBER_SECRET], { concurrency: 2 }));
    rx.answer = () => ({ delayMs: 100 });
    await Promise.all(Array.from({ length: 7 }, (_, i) => record(h, claimPaid({ n: i }))));
    await h.engine.webhooks.drain();
    expect(rx.received.map((r) => r.json.data.n).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(rx.maxConcurrent).toBe(2);
  });

  it('waits on close for the delivery in flight and records it', async () => {
    const { h, rx } = await start(subscribed());
    rx.answer = () => ({ delayMs: 300 });
    await record(h, claimPaid());
    await rx.waitFor(1);
    await h.engine.webhooks.close();
    expect((await deliveries(h))[0]).toMatchObject({ status: 'delivered', attempts: 1 });
  });
});

describe('native API and CLI', () => {
  it('list, show and re-send deliveries; header values and secrets never come back', async () => {
    const { h, rx } = await start(() => ({ allowPrivateNetworks: LOOPBACK }), {
      receiverSecrets: [TARGET_SECRET],
    });
    const token = 'Bearer tok_live_a1b2c3d4e5f6';
    rx.answer = (_n, req) => ({
      status: 400,
      body: `you sent ${String(req.headers.authorization)} and we know ${TARGET_SECRET}; ${'x'.repeat(600)}`,
    });
    const eventId = await record(h, {
      type: 'withdrawal.settled',
      subject: { kind: 'withdrawal', id: 'HQ2GGUO7' },
      data: seed001Data,
      targets: [{ url: rx.url, format: 'seed001', headers: { Authorization: token } }],
    });
    await h.engine.webhooks.drain();
    const admin = await h.app(['admin']);

    const list = await h.request({
      method: 'GET',
      url: '/v1/webhooks/deliveries?status=pending',
      headers: admin.headers,
    });
    expect(list.status).toBe(200);
    expect(list.body.deliveries).toHaveLength(1);
    const d = list.body.deliveries[0];
    expect(d).toMatchObject({
      event_id: eventId,
      event_type: 'withdrawal.settled',
      format: 'seed001',
      status: 'pending',
      attempts: 1,
      last_status_code: 400,
      header_names: ['Authorization'],
    });

    const shown = await h.request({
      method: 'GET',
      url: `/v1/webhooks/deliveries/${d.delivery_id}`,
      headers: admin.headers,
    });
    expect(shown.status).toBe(200);
    const excerpt: string = shown.body.attempt_log[0].response_excerpt;
    expect(excerpt).toBe(`you sent [redacted] and we know [redacted]; ${'x'.repeat(600)}`.slice(0, 256));
    for (const text of [list.text, shown.text]) {
      expect(text).not.toContain('tok_live_a1b2c3d4e5f6');
      expect(text).not.toContain(TARGET_SECRET);
    }

    const resend = (id: string, key: string) =>
      h!.request({
        method: 'POST',
        url: `/v1/webhooks/resend/${id}`,
        headers: { ...admin.headers, 'idempotency-key': key },
      });
    rx.answer = () => ({});
    const first = await resend(eventId, 'k1');
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({
      replayed: false,
      deliveries: [{ delivery_id: d.delivery_id, status: 'pending' }],
    });
    await h.engine.webhooks.drain();
    const again = await resend(eventId, 'k1');
    expect(again.body.replayed).toBe(true);
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(2); // the repeat of k1 sent nothing more
    expect(rx.received[1]!.body).toBe(rx.received[0]!.body);
  });

  it('answer bad input in the native error shape and change nothing', async () => {
    const { h } = await start(() => ({}));
    const admin = await h.app(['admin']);
    const reader = await h.app(['cashback_read']);
    const missing = 'dlv_00000000-0000-4000-8000-000000000000';
    const cases = [
      { url: '/v1/webhooks/deliveries?status=lost', status: 400, code: 'validation_error' },
      { url: '/v1/webhooks/deliveries?limit=0', status: 400, code: 'validation_error' },
      { url: '/v1/webhooks/deliveries/nope', status: 400, code: 'validation_error' },
      { url: `/v1/webhooks/deliveries/${missing}`, status: 404, code: 'not_found' },
      { url: '/v1/webhooks/deliveries', status: 403, code: 'forbidden', headers: reader.headers },
      {
        method: 'POST' as const,
        url: `/v1/webhooks/resend/${missing}`,
        status: 400,
        code: 'validation_error',
      },
      {
        method: 'POST' as const,
        url: `/v1/webhooks/resend/${missing}`,
        status: 404,
        code: 'not_found',
        headers: { ...admin.headers, 'idempotency-key': 'x1' },
      },
      {
        method: 'POST' as const,
        url: '/v1/webhooks/resend/evt_1',
        status: 400,
        code: 'validation_error',
        headers: { ...admin.headers, 'idempotency-key': 'x2' },
      },
    ];
    for (const c of cases) {
      const res = await h.request({
        method: c.method ?? 'GET',
        url: c.url,
        headers: c.headers ?? admin.headers,
      });
      expect([c.url, res.status, res.body.error?.code]).toEqual([c.url, c.status, c.code]);
      expect(typeof res.body.error.message).toBe('string');
    }
    expect(await count(h, 'webhook_deliveries')).toBe(0);
  });

  it("`webhooks list`, `show` and `resend` from the command line against the engine's database", async () => {
    const { h, rx } = await start(subscribed());
    const eventId = await record(h, claimPaid());
    await h.engine.webhooks.drain();
    const cli = (...args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', 'engine/cli.ts', ...args, '--db', h!.store.location],
        {
          cwd: resolvePath(import.meta.dirname, '../..'),
          env: { PATH: process.env['PATH'], TILLBACK_LOG_LEVEL: 'warn' },
        },
      );
    const listed = JSON.parse((await cli('webhooks', 'list', '--json')).stdout);
    expect(listed).toEqual([expect.objectContaining({ eventId, status: 'delivered', attempts: 1 })]);
    const shown = (await cli('webhooks', 'show', listed[0].deliveryId)).stdout;
    expect(shown).toMatch(new RegExp(`Event:\\s+${eventId} \\(claim\\.paid\\)`));
    expect(shown).toMatch(/^\s*1\s+2026-01-15 10:30\s+HTTP 200\s+\d+\s+ok$/m);
    const text = (await cli('webhooks', 'resend', eventId)).stdout;
    expect(text).toMatch(/Queued 1 delivery to send again/);
    h.clock.now = Date.now() + 1_000; // the CLI stamps the re-send with the real time
    await h.engine.webhooks.drain();
    expect(rx.received).toHaveLength(2);
    const missing = await cli('webhooks', 'resend', 'evt_nope').catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect(missing).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/No webhook delivery or event evt_nope/),
    });
  }, 30_000);
});

describe('signing helper', () => {
  it('refuses to sign without a secret', () => {
    expect(() => signWebhook('{}', [], 1)).toThrow(/at least one signing secret/);
  });
});
