// An engine configured with the PayPal provider, pointing at the local PayPal in test/fakes: a claim
// paid through PayPal end to end, its outcome then told by webhooks (UNCLAIMED, then SUCCESS) through
// POST /v1/providers/paypal/webhook, which hands PayPal the raw body to verify; refused, malformed and
// unverifiable webhooks change nothing.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { paypalOptions, startFakePayPal, type FakePayPal } from '../fakes/paypal-server.ts';
import { INSERTION_ORDER } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';

let fake: FakePayPal;
let h: Harness;
let till: Record<string, string>;
let n = 0;

beforeEach(async () => {
  fake = await startFakePayPal();
  h = await startHarness({
    payouts: {
      provider: 'paypal',
      paypal: { ...paypalOptions(fake), webhookId: 'WH7' },
      // The clock stands still here, so a processing payout is asked about again only by webhook.
      pollIntervalMs: 3_600_000,
    },
  });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
});
afterEach(async () => {
  await h.close();
  await fake.close();
});

const createClaim = (body: object) =>
  h.request({
    method: 'POST',
    url: '/v1/claims',
    headers: { ...till, 'idempotency-key': `claim-${++n}` },
    body,
  });
const claimStatus = async (id: string) =>
  (await h.request({ method: 'GET', url: `/v1/public/claims/${id}/status` })).body.status;
const payoutOf = (claimId: string) =>
  h.store.read((tx) =>
    tx.one<{ id: string; provider: string; state: string; provider_reference: string | null }>(
      'SELECT id, provider, state, provider_reference FROM payouts WHERE claim_id = ?',
      [claimId],
    ),
  );
const events = async (claimId: string) =>
  (
    await h.store.read((tx) =>
      tx.all<{ type: string }>(
        `SELECT type FROM events WHERE subject_kind = 'claim' AND subject_id = ? ORDER BY created_at, ${INSERTION_ORDER}`,
        [claimId],
      ),
    )
  ).map((e) => e.type);

/** A claim paid to a PayPal email, submitted and sent to the fake (whose item stays PENDING). */
async function submittedClaim(amount = 2500) {
  const created = await createClaim({ amount, currency: 'USD', store_name: 'Corner Store' });
  expect(created.status).toBe(201);
  const id: string = created.body.claim_id;
  const submitted = await h.request({
    method: 'POST',
    url: `/v1/public/claims/${id}/submit`,
    body: { consent: true, method: { kind: 'paypal', email: 'jane@example.com' } },
  });
  expect(submitted.status).toBe(202);
  await vi.waitFor(
    async () => {
      expect((await payoutOf(id))?.provider_reference).toEqual(expect.any(String));
    },
    { timeout: 20_000, interval: 50 },
  );
  const payout = await payoutOf(id);
  return { id, payoutId: payout!.id, batchId: payout!.provider_reference! };
}

const headers = (signature = 'good-signature') => ({
  'paypal-auth-algo': 'SHA256withRSA',
  'paypal-cert-url': 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-1d93a270',
  'paypal-transmission-id': '103e3700-8b0c-11e6-8695-6b62a8a99ac4',
  'paypal-transmission-sig': signature,
  'paypal-transmission-time': '2026-01-15T10:30:00Z',
});

/** A PAYMENT.PAYOUTS-ITEM.* event as PayPal sends it, with the spacing of its own serialiser. */
function event(type: string, status: string, payoutId: string, batchId: string) {
  return (
    `{"id": "WH-${type}-${payoutId.slice(3, 11)}", "event_type": "PAYMENT.PAYOUTS-ITEM.${type}",\n` +
    ` "resource": {"payout_item_id": "8AELMXH8UB2P8", "transaction_status": "${status}",` +
    ` "payout_batch_id": "${batchId}", "sender_batch_id": "${payoutId}",` +
    ` "payout_item": {"sender_item_id": "${payoutId}", "receiver": "jane@example.com"}}}`
  );
}

const webhook = (body: string, hdrs: Record<string, string> = headers()) =>
  h.request({ method: 'POST', url: '/v1/providers/paypal/webhook', headers: hdrs, rawBody: body });

describe('the PayPal provider, chosen by configuration', () => {
  it('offers PayPal only, and refuses a claim or a noebs claim it cannot pay', async () => {
    await h.engine.app.ready();
    const doc = h.engine.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.paths['/v1/providers/paypal/webhook'] ?? {})).toEqual(['post']);
    const created = await createClaim({ amount: 100, currency: 'USD', store_name: 'Corner Store' });
    expect(created.body.methods).toEqual(['paypal']);
    const card = await createClaim({
      amount: 100,
      currency: 'USD',
      store_name: 'Corner Store',
      methods: ['card'],
    });
    expect(card.status).toBe(400);
    expect(card.body.error.message).toMatch(/cannot pay by card \(it pays by paypal\)/);

    const registered = await h.request({
      method: 'POST',
      url: '/cashout/register',
      headers: till,
      body: {
        name: 'shifa',
        pan: '5350290149345177',
        expDate: '3012',
        ipin: '1234',
        consent: true,
        endpoint: 'https://shifa.example.com/noebs-hook',
      },
    });
    expect(registered.status).toBe(200);
    const claims = await h.store.read((tx) => tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM claims'));
    const generated = await h.request({
      method: 'POST',
      url: '/cashout/generate/shifa',
      headers: till,
      body: { amount: 100, id: 'xcx' },
    });
    expect(generated.status).toBe(422);
    expect(generated.body).toEqual({
      code: 'method_unavailable',
      message: expect.stringMatching(/No payout provider here pays to cards/),
    });
    expect(await h.store.read((tx) => tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM claims'))).toEqual(
      claims,
    );
  });

  it('pays a claim through PayPal, then records UNCLAIMED and SUCCESS from verified webhooks', async () => {
    const { id, payoutId, batchId } = await submittedClaim();
    expect(fake.counts.payoutsCreated).toBe(1);
    const sent = JSON.parse(fake.createBodies[0]!);
    expect(sent.sender_batch_header.sender_batch_id).toBe(payoutId);
    expect(sent.items[0]).toMatchObject({
      receiver: 'jane@example.com',
      amount: { value: '25.00', currency: 'USD' },
    });
    expect(await claimStatus(id)).toBe('processing');
    expect((await payoutOf(id))?.provider).toBe('paypal');

    const unclaimed = event('UNCLAIMED', 'UNCLAIMED', payoutId, batchId);
    const first = await webhook(unclaimed);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ result: 'recorded', payout_id: payoutId, status: 'processing' });
    // PayPal was asked about the exact text it sent, not a re-serialised copy.
    expect(fake.verifyBodies.at(-1)).toContain(`"webhook_event":${unclaimed}}`);
    expect(await claimStatus(id)).toBe('processing');

    const paid = await webhook(event('SUCCEEDED', 'SUCCESS', payoutId, batchId));
    expect(paid.body).toEqual({ result: 'recorded', payout_id: payoutId, status: 'paid' });
    expect(await claimStatus(id)).toBe('paid');
    // PayPal sends again: acknowledged, and the claim is paid once.
    const again = await webhook(event('SUCCEEDED', 'SUCCESS', payoutId, batchId));
    expect(again.body).toEqual({ result: 'recorded', payout_id: payoutId, status: 'paid' });
    expect((await events(id)).filter((t) => t === 'claim.paid')).toHaveLength(1);
    expect(fake.counts.payoutsCreated).toBe(1);
  });

  it('changes nothing for a refused, malformed, foreign or unverifiable webhook', async () => {
    const { id, payoutId, batchId } = await submittedClaim();
    const before = { events: await events(id), payout: await payoutOf(id) };
    const failed = event('FAILED', 'FAILED', payoutId, batchId);
    const verifications = () => fake.counts.requests.verify;

    const refused = await webhook(failed, headers('forged-signature'));
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe('refused');

    const asked = verifications();
    const { 'paypal-transmission-sig': _dropped, ...unsigned } = headers();
    const bare = await webhook(failed, unsigned);
    expect(bare.status).toBe(400);
    expect(bare.body.error).toMatchObject({ code: 'bad_request', message: /paypal-transmission-sig/ });
    const notEvent = await webhook('{"hello": "world"}');
    expect(notEvent.status).toBe(400);
    expect(notEvent.body.error.code).toBe('bad_request');
    expect(verifications()).toBe(asked); // neither was sent to PayPal

    const text = await h.request({
      method: 'POST',
      url: '/v1/providers/paypal/webhook',
      headers: { ...headers(), 'content-type': 'text/plain' },
      rawBody: failed,
    });
    expect(text.status).toBe(415);
    expect(text.body.error.code).toBe('unsupported_media_type');

    const sale = await webhook(
      '{"id": "WH-1", "event_type": "PAYMENT.SALE.COMPLETED", "resource": {"id": "80021663DE681814L"}}',
    );
    expect(sale.status).toBe(200);
    expect(sale.body).toEqual({ result: 'unsupported_event' });

    const foreign = await webhook(event('FAILED', 'FAILED', 'po_not-one-of-ours', batchId));
    expect(foreign.status).toBe(200);
    expect(foreign.body).toEqual({ result: 'unknown_payout', payout_id: 'po_not-one-of-ours' });

    fake.fault('verify', { kind: 'status', status: 500 });
    const unverifiable = await webhook(failed);
    expect(unverifiable.status).toBe(503);
    expect(unverifiable.body.error.code).toBe('unavailable');

    expect(await claimStatus(id)).toBe('processing');
    expect({ events: await events(id), payout: await payoutOf(id) }).toEqual(before);

    // The same event, verified, is then recorded: the claim fails and says why.
    const recorded = await webhook(failed);
    expect(recorded.body).toEqual({ result: 'recorded', payout_id: payoutId, status: 'failed' });
    expect(await claimStatus(id)).toBe('failed');
  });
});
