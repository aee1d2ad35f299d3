// The PayPal Payouts client against a local server speaking PayPal's documented shapes.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createPayPalProvider,
  paypalBaseUrl,
  PayPalWebhookError,
  type PayPalOptions,
} from '../../../engine/payouts/paypal.ts';
import { PayoutUnavailable, type PayoutRequest } from '../../../engine/payouts/provider.ts';
import { paypalError, startFakePayPal, type FakePayPal } from '../../fakes/paypal-server.ts';
import { rejection } from '../../fixtures/rejection.ts';

let fake: FakePayPal;
let clock: { now: number };
let seq = 0;

beforeEach(async () => {
  fake = await startFakePayPal({ tokenTtlSeconds: 3600 });
  clock = { now: 1_750_000_000_000 };
});
afterEach(async () => {
  await fake.close();
});

function client(extra: Partial<PayPalOptions> = {}) {
  return createPayPalProvider(
    {
      baseUrl: fake.url,
      clientId: fake.clientId,
      clientSecret: fake.clientSecret,
      webhookId: 'WH1234',
      ...extra,
    },
    { now: () => clock.now },
  );
}

function request(over: Partial<PayoutRequest> = {}): PayoutRequest {
  seq += 1;
  return {
    payoutId: `po_${seq}_${Date.now()}`,
    amount: 1234,
    currency: 'USD',
    method: { kind: 'paypal', email: 'jane@example.com' },
    ...over,
  };
}

describe('OAuth2 token', () => {
  it('is fetched once and reused until shortly before it expires', async () => {
    const paypal = client({ tokenRefreshMarginSeconds: 300 });
    await paypal.submit(request());
    await paypal.submit(request());
    expect(fake.counts.tokens).toBe(1);
    clock.now += 3299 * 1000; // 1 s before the renewal point (3600 s - 300 s margin)
    await paypal.submit(request());
    expect(fake.counts.tokens).toBe(1);
    clock.now += 2000;
    await paypal.submit(request());
    expect(fake.counts.tokens).toBe(2);
  });

  it('is renewed before PayPal stops accepting it, so no call is refused', async () => {
    await fake.close();
    fake = await startFakePayPal({ tokenTtlSeconds: 3600, now: () => clock.now });
    const paypal = client({ tokenRefreshMarginSeconds: 60 });
    for (let i = 0; i < 5; i++) {
      expect((await paypal.submit(request())).status).toBe('processing');
      clock.now += 3550 * 1000; // past our renewal point (3540 s), before PayPal expiry (3600 s)
    }
    expect(fake.counts.requests.create).toBe(5); // not one 401 retry
    expect(fake.counts.tokens).toBe(5);
  });

  it('one that expired on PayPal side anyway (clocks disagree) is renewed on the 401', async () => {
    await fake.close();
    const paypalClock = { now: clock.now };
    fake = await startFakePayPal({ tokenTtlSeconds: 3600, now: () => paypalClock.now });
    const paypal = client({ tokenRefreshMarginSeconds: 0 });
    await paypal.submit(request());
    paypalClock.now += 3601 * 1000; // our clock has not moved
    expect((await paypal.submit(request())).status).toBe('processing');
    expect(fake.counts.tokens).toBe(2);
    expect(fake.counts.requests.create).toBe(3);
  });

  it('is fetched once for concurrent calls', async () => {
    const paypal = client();
    await Promise.all([1, 2, 3, 4, 5].map(() => paypal.submit(request())));
    expect(fake.counts.tokens).toBe(1);
    expect(fake.counts.payoutsCreated).toBe(5);
  });

  it('is renewed once when PayPal answers 401, and the call repeated', async () => {
    const paypal = client();
    await paypal.submit(request());
    fake.expireTokens();
    const outcome = await paypal.submit(request());
    expect(outcome.status).toBe('processing');
    expect(fake.counts.tokens).toBe(2);
    expect(fake.counts.requests.create).toBe(3);
    expect(fake.counts.payoutsCreated).toBe(2);
  });

  it('gives up after one renewal: a second 401 is PayoutUnavailable and nothing is paid', async () => {
    const paypal = client();
    fake.fault('create', { kind: 'status', status: 401 }, 2);
    const error = await rejection(paypal.submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(fake.counts.tokens).toBe(2);
    expect(fake.counts.payoutsCreated).toBe(0);
  });

  it('wrong client credentials are PayoutUnavailable and the secret is not in the message', async () => {
    const paypal = client({ clientSecret: 'definitely-wrong-secret' });
    const error = await rejection(paypal.submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/client credentials/);
    expect(error.message).not.toContain('definitely-wrong-secret');
    expect(fake.counts.requests.create).toBe(0);
  });
});

describe('creating a payout', () => {
  it('sends our payoutId as sender_batch_id and the amount as exact decimal text', async () => {
    const paypal = client();
    const cases: [number, string, string][] = [
      [1234, 'USD', '12.34'],
      [5, 'USD', '0.05'],
      [1234, 'JPY', '1234'],
      [1001, 'TND', '1.001'],
    ];
    for (const [amount, currency, value] of cases) {
      const r = request({ amount, currency, note: 'Cashback from Corner Shop' });
      const outcome = await paypal.submit(r);
      expect(outcome.status).toBe('processing');
      const sent = JSON.parse(fake.createBodies.at(-1)!);
      expect(sent.sender_batch_header.sender_batch_id).toBe(r.payoutId);
      expect(sent.items).toHaveLength(1);
      expect(sent.items[0]).toMatchObject({
        recipient_type: 'EMAIL',
        receiver: 'jane@example.com',
        amount: { value, currency },
        sender_item_id: r.payoutId,
        note: 'Cashback from Corner Shop',
      });
      expect(outcome.providerReference).toBe(fake.batches.get(r.payoutId)!.payoutBatchId);
    }
  });

  it('a retry of the same payoutId never creates a second payout: it reports the original batch', async () => {
    const paypal = client();
    const r = request();
    const first = await paypal.submit(r);
    const again = await paypal.submit(r);
    expect(again).toEqual(first);
    fake.setItemStatus(r.payoutId, 'SUCCESS');
    const third = await paypal.submit(r);
    expect(third).toEqual({ status: 'paid', providerReference: first.providerReference });
    expect(fake.counts.payoutsCreated).toBe(1);
    expect(fake.counts.requests.create).toBe(3);
  });

  it('ten concurrent submissions of one payoutId create one payout and all report it', async () => {
    const paypal = client();
    const r = request();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => paypal.submit(r)));
    const batchId = fake.batches.get(r.payoutId)!.payoutBatchId;
    expect(outcomes).toEqual(
      Array.from({ length: 10 }, () => ({ status: 'processing', providerReference: batchId })),
    );
    expect(fake.counts.payoutsCreated).toBe(1);
  });

  it('an answer lost after PayPal created the payout: the retry finds it instead of paying again', async () => {
    const r = request();
    fake.fault('create', { kind: 'hang-after-create' });
    // Long enough for a loaded machine to reach the fake; the fake never answers this one.
    const error = await rejection(client({ timeoutMs: 3000 }).submit(r));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/no answer within 3000 ms/);
    expect(fake.counts.payoutsCreated).toBe(1);

    const retry = await client().submit(r);
    expect(retry).toEqual({
      status: 'processing',
      providerReference: fake.batches.get(r.payoutId)!.payoutBatchId,
    });
    expect(fake.counts.payoutsCreated).toBe(1);
  });

  it.each([500, 502, 503, 429])('HTTP %i is PayoutUnavailable; the retry pays once', async (status) => {
    const paypal = client();
    const r = request();
    fake.fault('create', { kind: 'status', status });
    const error = await rejection(paypal.submit(r));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toContain(String(status));
    expect(fake.counts.payoutsCreated).toBe(0);
    expect((await paypal.submit(r)).status).toBe('processing');
    expect(fake.counts.payoutsCreated).toBe(1);
  });

  it('a server that never answers is PayoutUnavailable after the timeout', async () => {
    const paypal = client({ timeoutMs: 300 });
    fake.fault('create', { kind: 'hang' });
    const error = await rejection(paypal.submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/no answer within 300 ms/);
    expect(fake.counts.payoutsCreated).toBe(0);
  });

  it('a token endpoint that hangs or fails is PayoutUnavailable', async () => {
    const paypal = client({ timeoutMs: 300 });
    fake.fault('token', { kind: 'hang' });
    expect(await rejection(paypal.submit(request()))).toBeInstanceOf(PayoutUnavailable);
    fake.fault('token', { kind: 'status', status: 503 });
    expect(await rejection(paypal.submit(request()))).toBeInstanceOf(PayoutUnavailable);
    expect(fake.counts.payoutsCreated).toBe(0);
  });

  it('VALIDATION_ERROR is failed with the issues PayPal lists', async () => {
    const paypal = client();
    const outcome = await paypal.submit(request({ method: { kind: 'paypal', email: 'not-an-email' } }));
    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe('VALIDATION_ERROR');
    expect(outcome.failure?.message).toContain(
      'items[0].receiver: Receiver is invalid or does not match with type',
    );
    expect(fake.counts.payoutsCreated).toBe(0);
  });

  it('INSUFFICIENT_FUNDS is failed with PayPal message', async () => {
    const paypal = client();
    fake.refuseNextCreate(
      422,
      paypalError('INSUFFICIENT_FUNDS', 'Sender does not have sufficient funds. Please add funds and retry.'),
    );
    const outcome = await paypal.submit(request());
    expect(outcome).toEqual({
      status: 'failed',
      failure: {
        code: 'INSUFFICIENT_FUNDS',
        message: 'Sender does not have sufficient funds. Please add funds and retry.',
      },
    });
  });

  it('a 4xx without a PayPal error body decides nothing', async () => {
    const paypal = client();
    fake.refuseNextCreate(400, { unexpected: true });
    expect(await rejection(paypal.submit(request()))).toBeInstanceOf(PayoutUnavailable);
  });

  it('a duplicate refusal without a link to the original decides nothing (never pays again)', async () => {
    const paypal = client();
    fake.refuseNextCreate(
      400,
      paypalError('USER_BUSINESS_ERROR', 'User business error.', [
        { field: 'SENDER_BATCH_ID', issue: 'Duplicate batch request' },
      ]),
    );
    const error = await rejection(paypal.submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/already submitted/);
  });

  it('refuses what PayPal cannot pay without calling it', async () => {
    const paypal = client();
    const card = await paypal.submit(
      request({ method: { kind: 'card', pan: '4111111111111111', expiry: '3012' } }),
    );
    expect(card).toEqual({
      status: 'failed',
      failure: { code: 'unsupported_method', message: 'PayPal pays PayPal accounts, not card' },
    });
    expect(JSON.stringify(card)).not.toContain('4111111111111111');
    expect((await paypal.submit(request({ currency: 'XYZ' }))).failure?.code).toBe('unknown_currency');
    expect((await paypal.submit(request({ amount: 1.5 }))).failure?.code).toBe('invalid_amount');
    expect((await paypal.submit(request({ amount: 0 }))).failure?.code).toBe('amount_not_positive');
    expect((await paypal.submit(request({ amount: -100 }))).failure?.code).toBe('amount_not_positive');
    expect(fake.counts.requests.create).toBe(0);
  });
});

describe('status by polling', () => {
  const table: [string, string][] = [
    ['SUCCESS', 'paid'],
    ['PENDING', 'processing'],
    ['ONHOLD', 'processing'],
    ['UNCLAIMED', 'unclaimed'],
    ['RETURNED', 'returned'],
    ['REFUNDED', 'returned'],
    ['REVERSED', 'returned'],
    ['FAILED', 'failed'],
    ['BLOCKED', 'failed'],
    ['SOMETHING_NEW', 'processing'],
  ];
  it.each(table)('item %s is %s', async (itemStatus, expected) => {
    const paypal = client();
    const r = request();
    const { providerReference } = await paypal.submit(r);
    fake.setItemStatus(r.payoutId, itemStatus);
    const outcome = await paypal.status(r.payoutId, providerReference);
    expect(outcome.status).toBe(expected);
    expect(outcome.providerReference).toBe(providerReference);
    if (expected === 'failed' || expected === 'returned')
      expect(outcome.failure?.message.length).toBeGreaterThan(10);
    else expect(outcome.failure).toBeUndefined();
  });

  it('an item error is the failure, in PayPal words', async () => {
    const paypal = client();
    const r = request();
    const { providerReference } = await paypal.submit(r);
    fake.setItemStatus(r.payoutId, 'FAILED', {
      name: 'RECEIVER_UNREGISTERED',
      message: 'Receiver is unregistered. Send a reminder to the receiver to register.',
    });
    expect(await paypal.status(r.payoutId, providerReference)).toEqual({
      status: 'failed',
      providerReference,
      failure: {
        code: 'RECEIVER_UNREGISTERED',
        message: 'Receiver is unregistered. Send a reminder to the receiver to register.',
      },
    });
  });

  it.each(['DENIED', 'CANCELED'])('batch %s is failed whatever the item says', async (batchStatus) => {
    const paypal = client();
    const r = request();
    const { providerReference } = await paypal.submit(r);
    fake.setBatchStatus(r.payoutId, batchStatus);
    const outcome = await paypal.status(r.payoutId, providerReference);
    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe(`BATCH_${batchStatus}`);
  });

  it('a batch PayPal does not know, a 5xx or no reference decides nothing', async () => {
    const paypal = client();
    expect(await rejection(paypal.status('po_x', 'NOSUCHBATCH1'))).toBeInstanceOf(PayoutUnavailable);
    const r = request();
    const { providerReference } = await paypal.submit(r);
    fake.fault('batch', { kind: 'status', status: 500 });
    expect(await rejection(paypal.status(r.payoutId, providerReference))).toBeInstanceOf(PayoutUnavailable);
    expect(await rejection(paypal.status(r.payoutId))).toBeInstanceOf(PayoutUnavailable);
  });
});

describe('webhooks', () => {
  const headers = (sig = 'good-signature') => ({
    'paypal-auth-algo': 'SHA256withRSA',
    'paypal-cert-url':
      'https://api.sandbox.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270',
    'paypal-transmission-id': '69cd13f0-d67a-11e5-baa3-778b53f4ae55',
    'paypal-transmission-sig': sig,
    'paypal-transmission-time': '2026-11-30T10:01:35Z',
  });
  const event = (type: string, payoutId: string, batchId = 'BATCH123') =>
    JSON.stringify({
      id: 'WH-7Y7254563A4550640-11V2185806837105M',
      create_time: '2026-11-30T10:01:35Z',
      resource_type: 'payouts_item',
      event_type: `PAYMENT.PAYOUTS-ITEM.${type}`,
      summary: 'A payout item has changed.',
      resource: {
        payout_item_id: 'ITEM123',
        transaction_status: 'whatever',
        payout_batch_id: batchId,
        sender_batch_id: payoutId,
        payout_item: {
          recipient_type: 'EMAIL',
          amount: { value: '12.34', currency: 'USD' },
          receiver: 'jane@example.com',
          sender_item_id: payoutId,
        },
      },
    });

  it('a verified event says which payout and how it went; PayPal is sent the event text unchanged', async () => {
    const paypal = client();
    const body = event('SUCCEEDED', 'po_webhook_1');
    const result = await paypal.handleWebhook({ headers: headers(), body });
    expect(result).toEqual({
      payoutId: 'po_webhook_1',
      outcome: { status: 'paid', providerReference: 'BATCH123' },
    });
    expect(fake.verifyBodies).toHaveLength(1);
    const sent = fake.verifyBodies[0]!;
    expect(sent.endsWith(`"webhook_event":${body}}`)).toBe(true);
    expect(JSON.parse(sent)).toMatchObject({
      auth_algo: 'SHA256withRSA',
      transmission_id: '69cd13f0-d67a-11e5-baa3-778b53f4ae55',
      transmission_sig: 'good-signature',
      webhook_id: 'WH1234',
    });
  });

  const events: [string, string][] = [
    ['SUCCEEDED', 'paid'],
    ['FAILED', 'failed'],
    ['DENIED', 'failed'],
    ['BLOCKED', 'failed'],
    ['HELD', 'processing'],
    ['UNCLAIMED', 'unclaimed'],
    ['RETURNED', 'returned'],
    ['REFUNDED', 'returned'],
    ['CANCELED', 'returned'],
  ];
  it.each(events)('PAYMENT.PAYOUTS-ITEM.%s is %s', async (type, expected) => {
    const result = await client().handleWebhook({ headers: headers(), body: event(type, 'po_evt') });
    expect(result.payoutId).toBe('po_evt');
    expect(result.outcome.status).toBe(expected);
  });

  it('PayPal-style signatures (SHA256withRSA over id|time|webhook_id|crc32) are checked by the rule the test sets', async () => {
    // PayPal signs "transmission_id|transmission_time|webhook_id|crc32(body)"; the fake checks the same.
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = (id: string, time: string, webhookId: string, body: string) =>
      `${id}|${time}|${webhookId}|${crc32(body)}`;
    await fake.close();
    fake = await startFakePayPal({
      webhookRule: (r) =>
        verify(
          'sha256',
          Buffer.from(
            input(r.transmission_id, r.transmission_time, r.webhook_id, JSON.stringify(r.webhook_event)),
          ),
          publicKey,
          Buffer.from(r.transmission_sig, 'base64'),
        ),
    });
    const paypal = client();
    const body = event('UNCLAIMED', 'po_signed');
    const h = headers();
    const signature = sign(
      'sha256',
      Buffer.from(input(h['paypal-transmission-id'], h['paypal-transmission-time'], 'WH1234', body)),
      privateKey,
    ).toString('base64');
    const signed = { ...h, 'paypal-transmission-sig': signature };

    expect(await paypal.handleWebhook({ headers: signed, body })).toEqual({
      payoutId: 'po_signed',
      outcome: { status: 'unclaimed', providerReference: 'BATCH123' },
    });
    // The same signature over a body someone changed is refused.
    const tampered = body.replace('"12.34"', '"99.99"');
    const error = await rejection(paypal.handleWebhook({ headers: signed, body: tampered }));
    expect((error as PayPalWebhookError).code).toBe('refused');
  });

  it('a signature PayPal does not confirm is refused', async () => {
    const error = await rejection(
      client().handleWebhook({ headers: headers('forged'), body: event('SUCCEEDED', 'po_1') }),
    );
    expect(error).toBeInstanceOf(PayPalWebhookError);
    expect((error as PayPalWebhookError).code).toBe('refused');
    expect(fake.counts.requests.verify).toBe(1);
  });

  it('missing headers or a body that is not an event are bad requests, refused before asking PayPal', async () => {
    const paypal = client();
    const { 'paypal-transmission-sig': _, ...partial } = headers();
    const noSig = await rejection(
      paypal.handleWebhook({ headers: partial, body: event('SUCCEEDED', 'po_1') }),
    );
    expect((noSig as PayPalWebhookError).code).toBe('bad_request');
    expect(noSig.message).toContain('paypal-transmission-sig');
    for (const body of ['', 'not json', '{}', '[1]', '{"event_type":"PAYMENT.PAYOUTS-ITEM.SUCCEEDED"}']) {
      const bad = await rejection(paypal.handleWebhook({ headers: headers(), body }));
      expect((bad as PayPalWebhookError).code).toBe('bad_request');
    }
    expect(fake.counts.requests.verify).toBe(0);
  });

  it('a verified event of another kind is unsupported; a payouts item event without our id is a bad request', async () => {
    const paypal = client();
    const batchEvent = JSON.stringify({
      id: 'WH-1',
      event_type: 'PAYMENT.PAYOUTSBATCH.SUCCESS',
      resource: { batch_header: { payout_batch_id: 'BATCH123', batch_status: 'SUCCESS' } },
    });
    const unsupported = await rejection(paypal.handleWebhook({ headers: headers(), body: batchEvent }));
    expect((unsupported as PayPalWebhookError).code).toBe('unsupported_event');
    const anonymous = JSON.stringify({
      id: 'WH-2',
      event_type: 'PAYMENT.PAYOUTS-ITEM.SUCCEEDED',
      resource: { payout_item_id: 'ITEM1', transaction_status: 'SUCCESS' },
    });
    const bad = await rejection(paypal.handleWebhook({ headers: headers(), body: anonymous }));
    expect((bad as PayPalWebhookError).code).toBe('bad_request');
    expect(fake.counts.requests.verify).toBe(2); // both verified first: nothing is said about unsigned input
  });

  it('without a webhookId nothing can be verified', async () => {
    const error = await rejection(
      client({ webhookId: undefined }).handleWebhook({ headers: headers(), body: event('SUCCEEDED', 'p') }),
    );
    expect((error as PayPalWebhookError).code).toBe('not_configured');
  });

  it('verification that fails on PayPal side decides nothing (PayPal will send again)', async () => {
    fake.fault('verify', { kind: 'status', status: 503 });
    expect(
      await rejection(client().handleWebhook({ headers: headers(), body: event('SUCCEEDED', 'p') })),
    ).toBeInstanceOf(PayoutUnavailable);
  });
});

describe('options', () => {
  it('name the bad setting without echoing values', () => {
    expect(() => createPayPalProvider({ clientId: 'id-123', clientSecret: '' })).toThrow(/clientSecret/);
    expect(() =>
      createPayPalProvider({ clientId: 'id', clientSecret: 's', environment: 'prod' as 'live' }),
    ).toThrow(/environment/);
    expect(() =>
      createPayPalProvider({ clientId: 'id', clientSecret: 's', extra: 1 } as PayPalOptions),
    ).toThrow(/extra/);
  });

  it('choose the sandbox or live base URL, or the given one', () => {
    expect(paypalBaseUrl({ environment: 'sandbox' })).toBe('https://api-m.sandbox.paypal.com');
    expect(paypalBaseUrl({ environment: 'live' })).toBe('https://api-m.paypal.com');
    expect(paypalBaseUrl({ environment: 'live', baseUrl: 'http://127.0.0.1:8443/' })).toBe(
      'http://127.0.0.1:8443',
    );
  });
});
