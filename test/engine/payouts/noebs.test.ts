// The noebs card-transfer client against a local noebs that decrypts IPIN blocks with EBS's private key.
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isValidPan } from '../../../contract/card.ts';
import {
  createNoebsProvider,
  ebsDateTime,
  parseTransferAnswer,
  requestUuid,
  type NoebsOptions,
} from '../../../engine/payouts/noebs.ts';
import { PayoutUnavailable, type PayoutRequest } from '../../../engine/payouts/provider.ts';
import { startFakeNoebs, type FakeNoebs } from '../../fakes/noebs-server.ts';
import { CUSTOMER_CARD, ebsKeyPair, OTHER_CARD, SOURCE } from './noebs-keys.ts';
import { rejection } from '../../fixtures/rejection.ts';

let keys: ReturnType<typeof ebsKeyPair>;
let fake: FakeNoebs;

beforeAll(() => {
  keys = ebsKeyPair();
});
beforeEach(async () => {
  fake = await startFakeNoebs({
    privateKey: keys.privateKey,
    publicKeyBase64: keys.publicKeyBase64,
    source: SOURCE,
  });
});
afterEach(async () => {
  await fake.close();
});

const FIXED_NOW = Date.UTC(2026, 10, 30, 9, 5, 7);

function client(extra: Partial<NoebsOptions> = {}) {
  return createNoebsProvider(
    {
      baseUrl: fake.url,
      publicKey: keys.publicKeyBase64,
      source: SOURCE,
      applicationId: 'TILLBACK',
      ...extra,
    },
    { now: () => FIXED_NOW },
  );
}

function request(over: Partial<PayoutRequest> = {}): PayoutRequest {
  return {
    payoutId: randomUUID(),
    amount: 1250,
    currency: 'SDG',
    method: { kind: 'card', pan: CUSTOMER_CARD, expiry: '2912' },
    ...over,
  };
}

describe('the card transfer request', () => {
  it('is noebs ConsumerCardTransferFields with the payoutId as UUID and the IPIN block over UUID + IPIN', async () => {
    const r = request();
    const outcome = await client().submit(r);
    expect(outcome).toEqual({ status: 'paid', providerReference: r.payoutId });

    const sent = JSON.parse(fake.bodies.p2p[0]!);
    expect(Object.keys(sent).sort()).toEqual(
      [
        'IPIN',
        'PAN',
        'UUID',
        'applicationId',
        'expDate',
        'toCard',
        'tranAmount',
        'tranCurrencyCode',
        'tranDateTime',
      ].sort(),
    );
    expect(sent).toMatchObject({
      applicationId: 'TILLBACK',
      UUID: r.payoutId,
      PAN: SOURCE.pan,
      expDate: SOURCE.expDate,
      toCard: CUSTOMER_CARD,
      tranCurrencyCode: 'SDG',
      tranDateTime: '301126090507',
    });
    // The amount is a JSON number with SDG's two decimals, exactly as formatted from minor units.
    expect(fake.bodies.p2p[0]).toContain('"tranAmount":12.50');
    expect(fake.transfers[0]!.tranAmount).toBe('12.50');
    // EBS's private key opens the block to exactly UUID + IPIN, with PKCS#1 v1.5 padding.
    expect(fake.decryptedBlocks).toEqual([r.payoutId + SOURCE.ipin]);
    expect(sent.IPIN).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(sent.IPIN, 'base64')).toHaveLength(128);
  });

  it('encrypts afresh each time (PKCS#1 v1.5 padding is random) yet always to the same UUID + IPIN', async () => {
    const provider = client();
    const a = request();
    const b = request();
    await provider.submit(a);
    await provider.submit(b);
    const blocks = fake.bodies.p2p.map((t) => JSON.parse(t).IPIN);
    expect(blocks[0]).not.toBe(blocks[1]);
    expect(fake.decryptedBlocks).toEqual([a.payoutId + SOURCE.ipin, b.payoutId + SOURCE.ipin]);
  });

  it('a payoutId that is not a UUID gets the same name-based UUID every time', async () => {
    const provider = client();
    const r = request({ payoutId: 'claim_7f3a:payout:1' });
    const uuid = requestUuid(r.payoutId);
    expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(requestUuid('claim_7f3a:payout:2')).not.toBe(uuid);
    await provider.submit(r);
    await provider.submit(r);
    expect(fake.bodies.status.map((t) => JSON.parse(t).originalTranUUID)).toEqual([uuid, uuid]);
    expect(fake.bodies.p2p.map((t) => JSON.parse(t).UUID)).toEqual([uuid]);
    expect(fake.decryptedBlocks[0]).toBe(uuid + SOURCE.ipin);
    expect(fake.transfers).toHaveLength(1);
  });

  it('reads the key in PEM too', async () => {
    const outcome = await client({ publicKey: keys.publicKeyPem }).submit(request());
    expect(outcome.status).toBe('paid');
  });

  it('fetches the public key from /consumer/key once when none is configured', async () => {
    const provider = client({ publicKey: undefined });
    await provider.submit(request());
    await provider.submit(request());
    expect(fake.bodies.key).toHaveLength(1);
    expect(fake.transfers).toHaveLength(2);
    expect(fake.decryptedBlocks.every((p) => p.endsWith(SOURCE.ipin))).toBe(true);
  });

  it('formats tranDateTime as ddMMyyHHmmss', () => {
    expect(ebsDateTime(Date.UTC(2027, 0, 2, 3, 4, 5))).toBe('020127030405');
  });
});

describe('EBS answers', () => {
  it('a retry of the same payoutId asks EBS first and sends nothing: one transfer, the first answer', async () => {
    const provider = client();
    const r = request();
    const first = await provider.submit(r);
    const again = await provider.submit(r);
    expect(again).toEqual(first);
    expect(fake.bodies.p2p).toHaveLength(1);
    expect(fake.transfers).toHaveLength(1);
    fake.respond(OTHER_CARD, 51, 'Insufficient Funds');
    const declined = request({ method: { kind: 'card', pan: OTHER_CARD, expiry: '2912' } });
    const no = await provider.submit(declined);
    expect(await provider.submit(declined)).toEqual(no);
    expect(fake.bodies.p2p).toHaveLength(2);
  });

  it('when EBS cannot be asked whether the transfer exists, nothing is sent', async () => {
    fake.fault('status', { kind: 'status', status: 504 });
    const error = await rejection(client().submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(fake.bodies.p2p).toHaveLength(0);
  });

  it('a status query answered by a bare gateway 502 decides nothing and sends nothing', async () => {
    const r = request();
    fake.fault('status', { kind: 'status', status: 502 });
    expect(await rejection(client().submit(r))).toBeInstanceOf(PayoutUnavailable);
    expect(fake.bodies.p2p).toHaveLength(0);
  });

  it('concurrent submissions of one payout reach EBS as one UUID: one transfer, one answer', async () => {
    const provider = client();
    const r = request();
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => provider.submit(r)));
    expect(new Set(outcomes.map((o) => JSON.stringify(o)))).toEqual(
      new Set([JSON.stringify({ status: 'paid', providerReference: r.payoutId })]),
    );
    expect(new Set(fake.bodies.p2p.map((t) => JSON.parse(t).UUID))).toEqual(new Set([r.payoutId]));
    expect(fake.transfers).toHaveLength(1);
  });

  const codes: [number, string, string, RegExp][] = [
    [51, 'Insufficient Funds', 'ebs_51', /^Insufficient Funds$/],
    [52, 'Invalid Card', 'invalid_card', /card is not valid \(EBS 52: Invalid Card\)/],
    [69, 'Generic Error', 'generic_error', /generic error \(EBS 69: Generic Error\)/],
    [72, 'Routing Error', 'routing_error', /could not route .*\(EBS 72: Routing Error\)/],
  ];
  it.each(codes)('responseCode %i (%s) is failed as %s', async (code, message, ours, readable) => {
    fake.respond(OTHER_CARD, code, message);
    const r = request({ method: { kind: 'card', pan: OTHER_CARD, expiry: '2912' } });
    const outcome = await client().submit(r);
    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe(ours);
    expect(outcome.failure?.message).toMatch(readable);
    expect(fake.transfers).toHaveLength(0);
  });

  it('a wrong IPIN for the funding card is EBS 53, failed with a message that says what to check', async () => {
    const outcome = await client({ source: { ...SOURCE, ipin: '0000' } }).submit(request());
    expect(outcome.failure?.code).toBe('invalid_ipin');
    expect(outcome.failure?.message).toMatch(/IPIN/);
    expect(fake.transfers).toHaveLength(0);
  });

  it('a block encrypted under another key does not decrypt: EBS refuses it', async () => {
    const other = ebsKeyPair();
    const outcome = await client({ publicKey: other.publicKeyBase64 }).submit(request());
    expect(outcome.status).toBe('failed');
    expect(fake.decryptedBlocks[0]).not.toContain(SOURCE.ipin);
  });

  it.each([500, 503, 504])('HTTP %i is PayoutUnavailable and nothing moved', async (status) => {
    fake.fault('p2p', { kind: 'status', status });
    const r = request();
    const error = await rejection(client().submit(r));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toContain(String(status));
    expect(fake.transfers).toHaveLength(0);
    expect((await client().submit(r)).status).toBe('paid');
    expect(fake.transfers).toHaveLength(1);
  });

  it('a noebs nobody listens on is PayoutUnavailable, naming the reason', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const { port } = closed.address() as AddressInfo;
    await new Promise((r) => closed.close(r));
    const error = await rejection(client({ baseUrl: `http://127.0.0.1:${port}` }).submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/could not reach noebs \(ECONNREFUSED\)/);
  });

  it('a noebs that never answers is PayoutUnavailable after the timeout', async () => {
    fake.fault('p2p', { kind: 'hang' });
    const error = await rejection(client({ timeoutMs: 300 }).submit(request()));
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect(error.message).toMatch(/no answer within 300 ms/);
    expect(fake.transfers).toHaveLength(0);
  });

  it('a transfer that happened but whose answer was lost: status says paid and the retry pays nothing more', async () => {
    fake.fault('p2p', { kind: 'hang-after-paying' });
    const r = request();
    expect(await rejection(client({ timeoutMs: 3000 }).submit(r))).toBeInstanceOf(PayoutUnavailable);
    expect(fake.transfers).toHaveLength(1);
    const provider = client();
    expect(await provider.status(r.payoutId)).toEqual({ status: 'paid', providerReference: r.payoutId });
    expect(JSON.parse(fake.bodies.status[0]!)).toMatchObject({ originalTranUUID: r.payoutId });
    expect(await provider.submit(r)).toEqual({ status: 'paid', providerReference: r.payoutId });
    expect(fake.bodies.p2p).toHaveLength(1);
    expect(fake.transfers).toHaveLength(1);
  });

  it('status of a declined transfer is failed; of an unknown one, or when noebs fails, undecided', async () => {
    fake.respond(OTHER_CARD, 51, 'Insufficient Funds');
    const provider = client();
    const r = request({ method: { kind: 'card', pan: OTHER_CARD, expiry: '2912' } });
    await provider.submit(r);
    expect((await provider.status(r.payoutId)).failure?.code).toBe('ebs_51');
    expect(await rejection(provider.status(randomUUID()))).toBeInstanceOf(PayoutUnavailable);
    fake.fault('status', { kind: 'status', status: 500 });
    expect(await rejection(provider.status(r.payoutId))).toBeInstanceOf(PayoutUnavailable);
  });

  it('a 400 from noebs is failed (it refused the fields); 401 decides nothing', () => {
    const uuid = randomUUID();
    expect(
      parseTransferAnswer(
        { status: 400, text: '{"error":{"message":"Request fields validation error"}}' },
        uuid,
      ),
    ).toEqual({
      status: 'failed',
      providerReference: uuid,
      failure: { code: 'rejected_by_noebs', message: 'noebs refused the transfer request (HTTP 400)' },
    });
    expect(() => parseTransferAnswer({ status: 401, text: '' }, uuid)).toThrow(PayoutUnavailable);
  });
});

describe('refused before any request', () => {
  it.each([
    [{ currency: 'USD' }, 'unsupported_currency'],
    [{ method: { kind: 'paypal' as const, email: 'a@b.co' } }, 'unsupported_method'],
    [{ method: { kind: 'card' as const, pan: '6392560000000035', expiry: '2912' } }, 'invalid_card'],
    [{ amount: 0 }, 'amount_not_positive'],
    [{ amount: 12.5 }, 'invalid_amount'],
  ] as [Partial<PayoutRequest>, string][])('%j is failed as %s', async (over, code) => {
    const outcome = await client().submit(request(over));
    expect(outcome.status).toBe('failed');
    expect(outcome.failure?.code).toBe(code);
    expect(fake.bodies.p2p).toHaveLength(0);
  });

  it('bad options name the setting and never echo the card or IPIN', () => {
    const attempt = (source: object) => () =>
      createNoebsProvider({ baseUrl: fake.url, source } as NoebsOptions);
    const badPan = `${SOURCE.pan.slice(0, -1)}${(Number(SOURCE.pan.at(-1)) + 1) % 10}`;
    expect(isValidPan(badPan)).toBe(false);
    expect(attempt({ ...SOURCE, pan: badPan })).toThrow(/source\.pan: pan fails the Luhn check/);
    expect(attempt({ ...SOURCE, ipin: '12345' })).toThrow(/source\.ipin/);
    expect(attempt({ ...SOURCE, expDate: '3013' })).toThrow(/source\.expDate/);
    for (const bad of [
      { ...SOURCE, pan: badPan },
      { ...SOURCE, ipin: '73915' },
    ]) {
      let message = '';
      try {
        attempt(bad)();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toContain(badPan);
      expect(message).not.toContain('73915');
    }
    expect(() => client({ publicKey: 'bm90IGEga2V5' })).toThrow(/publicKey is not an RSA public key/);
  });
});
