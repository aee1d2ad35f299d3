// An engine paying cards through noebs (the local noebs in test/fakes, which decrypts every IPIN block
// with EBS's private key) and everything else through the sandbox: a seed 000 claim submitted on the
// public API is paid once, from the card the cashout provider registered, whatever number of
// submissions race; a card claim with no funding card fails, saying why, and sends nothing.
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { requestUuid } from '../../engine/payouts/noebs.ts';
import { startFakeNoebs, type FakeNoebs } from '../fakes/noebs-server.ts';
import { startHarness, type Harness } from './harness.ts';
import { CUSTOMER_CARD, ebsKeyPair, SOURCE } from './payouts/noebs-keys.ts';

let keys: ReturnType<typeof ebsKeyPair>;
let fake: FakeNoebs;
let h: Harness;
let till: Record<string, string>;

beforeAll(() => {
  keys = ebsKeyPair();
});
beforeEach(async () => {
  fake = await startFakeNoebs({
    privateKey: keys.privateKey,
    publicKeyBase64: keys.publicKeyBase64,
    source: SOURCE,
  });
  h = await startHarness({
    payouts: {
      // No `source` here: a seed 000 claim brings its registered provider's card.
      provider: { card: 'noebs', au_bank: 'sandbox' },
      noebs: { baseUrl: fake.url, publicKey: keys.publicKeyBase64, timeoutMs: 20_000 },
    },
  });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
});
afterEach(async () => {
  await h.close();
  await fake.close();
});

const claim = async (id: string) => (await h.request({ method: 'GET', url: `/v1/public/claims/${id}` })).body;
const submit = (id: string) =>
  h.request({
    method: 'POST',
    url: `/v1/public/claims/${id}/submit`,
    body: {
      consent: true,
      method: { kind: 'card', number: CUSTOMER_CARD.replace(/(\d{4})/g, '$1 ').trim(), expiry: '12/30' },
    },
  });
async function settled(id: string): Promise<{ status: string; failure: unknown }> {
  await vi.waitFor(
    async () => {
      expect(['paid', 'failed']).toContain((await claim(id)).status);
    },
    { timeout: 20_000, interval: 50 },
  );
  return claim(id);
}

describe('the noebs provider, chosen for cards by configuration', () => {
  it('pays a seed 000 claim once, from the registered card, with the IPIN block EBS expects', async () => {
    const registered = await h.request({
      method: 'POST',
      url: '/cashout/register',
      headers: till,
      body: {
        name: 'shifa',
        ...SOURCE,
        consent: true,
        endpoint: 'https://shifa.example.com/noebs-hook',
      },
    });
    expect(registered.status).toBe(200);
    const generated = await h.request({
      method: 'POST',
      url: '/cashout/generate/shifa',
      headers: till,
      body: { amount: 1250, id: 'xcx' },
    });
    expect(generated.status).toBe(200);
    const id: string = generated.body.uuid;
    expect((await claim(id)).methods).toEqual(['card']);

    const answers = await Promise.all(Array.from({ length: 20 }, () => submit(id)));
    expect(answers.filter((a) => a.status === 202)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(19);
    expect((await settled(id)).status).toBe('paid');

    expect(fake.transfers).toHaveLength(1);
    expect(fake.transfers[0]).toMatchObject({ toCard: CUSTOMER_CARD, tranAmount: '12.50', responseCode: 0 });
    const payout = await h.store.read((tx) =>
      tx.row<{ id: string; provider: string }>('SELECT id, provider FROM payouts WHERE claim_id = ?', [id]),
    );
    expect(payout.provider).toBe('noebs');
    // The fake decrypted the block with EBS's key: UUID + the registered card's IPIN.
    expect(fake.decryptedBlocks).toEqual([requestUuid(payout.id) + SOURCE.ipin]);
    expect(JSON.parse(fake.bodies.p2p[0]!)).toMatchObject({ PAN: SOURCE.pan, expDate: SOURCE.expDate });

    // Another run of the worker pays nothing more.
    h.engine.payouts.kick();
    await h.engine.payouts.idle();
    expect(fake.transfers).toHaveLength(1);
    // Neither the registered card nor the customer's is on disk in clear.
    const disk = await h.store.storedText();
    expect(disk).not.toContain(SOURCE.pan);
    expect(disk).not.toContain(CUSTOMER_CARD);
  });

  it('fails a card claim that has no funding card, sending nothing to noebs', async () => {
    const created = await h.request({
      method: 'POST',
      url: '/v1/claims',
      headers: { ...till, 'idempotency-key': 'store-card-1' },
      body: { amount: 500, currency: 'SDG', store_name: 'Corner Store' },
    });
    expect(created.status).toBe(201);
    expect(created.body.methods).toEqual(['card', 'au_bank']);
    const id: string = created.body.claim_id;
    expect((await submit(id)).status).toBe(202);
    const done = await settled(id);
    expect(done).toMatchObject({ status: 'failed', failure: { code: 'no_funding_card' } });
    expect(fake.transfers).toHaveLength(0);
    expect(fake.bodies.p2p).toHaveLength(0);
  });
});
