// Members named by what a till may keep on its disk: the keyed card hash (contract/card-hash.ts, under
// the key the chain configures on engine and tills) and the scanned member card as external_id. Over
// real HTTP on 127.0.0.1 and a real SQLite file: earn, redeem-free balance lookups and member-funded
// claims reach the same member whether the card comes as its number or its hash.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cardHash } from '../../contract/card-hash.ts';
import { memberCode } from '../../drivers/cards/barcode.ts';
import { VISA_PAN } from '../fixtures/secrets.ts';
import { nativeHttp, type NativeHttp } from './fixtures/native-http.ts';
import { startHarness, type Harness } from './harness.ts';

/** The chain's card-hash key, configured on the engine as a till would hand it over. */
const CARD_HASH_KEY = 'chain-card-hash-key-0123456789abcdef';
/** A Luhn-valid card linked to nobody. */
const UNLINKED_PAN = '5350290149345177';

let h: Harness;
let api: NativeHttp;
let program: number;

beforeEach(async () => {
  h = await startHarness({ port: 0, secrets: { cardHashKey: CARD_HASH_KEY } });
  const base = await h.engine.listen();
  api = nativeHttp(base, (await h.app(['cashback_read', 'cashback_write'])).headers);
  program = await h.program({ currency: 'AUD', cashbackBps: 500 });
});
afterEach(() => h.close());

async function memberWithCard(email: string, pan: string): Promise<number> {
  const created = await api.post('/members', { email });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const linked = await api.post(`/members/${created.body.member_id}/cards`, { pan });
  expect(linked.status, JSON.stringify(linked.body)).toBe(201);
  return created.body.member_id as number;
}

const earn = (member: unknown, purchase: number) =>
  api.post('/earn', { program_id: program, member, purchase_amount: purchase });

describe('member: {card: {hash}}', () => {
  it('earns to the same member as card: {pan}, and the lookup by hash answers the same balance', async () => {
    const id = await memberWithCard('card@example.com', VISA_PAN);
    const byPan = await earn({ card: { pan: VISA_PAN } }, 10_000);
    expect(byPan.status, JSON.stringify(byPan.body)).toBe(200);
    expect(byPan.body).toMatchObject({ member_id: id, cashback_earned: 500 });

    const hash = cardHash(VISA_PAN, CARD_HASH_KEY);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const byHash = await earn({ card: { hash } }, 4_000);
    expect(byHash.status, JSON.stringify(byHash.body)).toBe(200);
    expect(byHash.body).toMatchObject({ member_id: id, cashback_earned: 200 });
    expect(byHash.body.balance).toEqual({ available: 700, maturing: 0, held: 0, currency: 'AUD' });

    const lookup = await api.get(`/members/lookup?program_id=${program}&card_hash=${hash}`);
    const byId = await api.get(`/members/${id}/balance?program_id=${program}`);
    expect(lookup.status, JSON.stringify(lookup.body)).toBe(200);
    expect(lookup.body).toEqual(byId.body);
    expect(lookup.body).toMatchObject({ member_id: id, program_id: program, balance: { available: 700 } });
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('a hash of no linked card is refused exactly as an unknown card number is, and nothing changes', async () => {
    await memberWithCard('card@example.com', VISA_PAN);
    const unknownPan = await earn({ card: { pan: UNLINKED_PAN } }, 10_000);
    const unknownHash = await earn({ card: { hash: cardHash(UNLINKED_PAN, CARD_HASH_KEY) } }, 10_000);
    // A hash under another key is a hash of no linked card too: the till must use the chain's key.
    const otherKey = await earn(
      { card: { hash: cardHash(VISA_PAN, 'another-key-0123456789abcdef-xyz') } },
      1,
    );
    expect(unknownPan.status).toBe(404);
    expect(unknownPan.body.error.code).toBe('member_not_found');
    expect(unknownHash).toEqual(unknownPan);
    expect(otherKey).toEqual(unknownPan);
    const lookup = await api.get(
      `/members/lookup?program_id=${program}&card_hash=${cardHash(UNLINKED_PAN, CARD_HASH_KEY)}`,
    );
    expect(lookup).toEqual(unknownPan);
    const earns = await h.store.read((tx) => tx.one<{ n: number }>('SELECT COUNT(*) AS n FROM transactions'));
    expect(earns?.n).toBe(0);
  });

  it('refuses a malformed hash, both pan and hash, or neither, in the native error shape', async () => {
    const hash = cardHash(VISA_PAN, CARD_HASH_KEY);
    const cases: [unknown, RegExp][] = [
      [{ card: { hash: hash.toUpperCase() } }, /member\.card\.hash: must be 64 lowercase hex digits/],
      [{ card: { hash: hash.slice(1) } }, /member\.card\.hash: must be 64 lowercase hex digits/],
      [{ card: { hash: 42 } }, /member\.card\.hash/],
      [{ card: { pan: VISA_PAN, hash } }, /member\.card: name the card by exactly one of pan or hash/],
      [{ card: {} }, /member\.card: name the card by exactly one of pan or hash/],
      [{ card: { hash }, email: 'a@example.com' }, /member: name the member by exactly one of/],
    ];
    for (const [member, message] of cases) {
      const res = await earn(member, 1_000);
      expect(res.status, JSON.stringify(member)).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
      expect(res.body.error.message).toMatch(message);
      expect(JSON.stringify(res.body)).not.toContain(VISA_PAN);
    }
  });

  it('a member-funded claim names the member by card hash', async () => {
    const id = await memberWithCard('claim@example.com', VISA_PAN);
    expect((await earn({ card: { pan: VISA_PAN } }, 100_000)).status).toBe(200);
    const hash = cardHash(VISA_PAN, CARD_HASH_KEY);
    const claim = await api.post('/claims', {
      amount: 2_000,
      funding: 'member',
      program_id: program,
      member: { card: { hash } },
      store_name: 'Corner Store',
    });
    expect(claim.status, JSON.stringify(claim.body)).toBe(201);
    expect(claim.body).toMatchObject({ amount: 2_000, currency: 'AUD', funding: 'member', member_id: id });
    const lookup = await api.get(`/members/lookup?program_id=${program}&card_hash=${hash}`);
    expect(lookup.body.balance).toEqual({ available: 3_000, maturing: 0, held: 2_000, currency: 'AUD' });
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

describe('member: {external_id}: a scanned member card', () => {
  it('creates a member with the scanned code, earns to it and looks its balance up by it', async () => {
    const code = memberCode('4006120');
    const created = await api.post('/members', { external_id: code, name: 'Sam' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.external_id).toBe(code);

    const earned = await earn({ external_id: code }, 20_000);
    expect(earned.status, JSON.stringify(earned.body)).toBe(200);
    expect(earned.body).toMatchObject({ member_id: created.body.member_id, cashback_earned: 1_000 });
    const lookup = await api.get(`/members/lookup?program_id=${program}&external_id=${code}`);
    expect(lookup.status, JSON.stringify(lookup.body)).toBe(200);
    expect(lookup.body).toMatchObject({ member_id: created.body.member_id, balance: { available: 1_000 } });
  });

  it('an unknown external id is member_not_found; an all-digit one is refused as our member id would be', async () => {
    const unknown = await earn({ external_id: memberCode('999999') }, 1_000);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({ code: 'member_not_found' });
    const digits = await earn({ external_id: '40061205' }, 1_000);
    expect(digits.status).toBe(400);
    expect(digits.body.error.message).toMatch(/member\.external_id: .*not all digits/);
  });
});

describe('GET /v1/members/lookup', () => {
  it('finds by email and phone, and needs exactly one name and the program', async () => {
    const created = await api.post('/members', { email: 'look@example.com', phone: '+61 412 345 678' });
    expect(created.status).toBe(201);
    for (const q of ['email=look%40example.com', 'phone=%2B61412345678']) {
      const res = await api.get(`/members/lookup?program_id=${program}&${q}`);
      expect(res.status, q).toBe(200);
      expect(res.body).toMatchObject({ member_id: created.body.member_id, balance: { available: 0 } });
    }
    const refused = [
      `/members/lookup?program_id=${program}`,
      `/members/lookup?program_id=${program}&email=look%40example.com&phone=%2B61412345678`,
      `/members/lookup?email=look%40example.com`,
      `/members/lookup?program_id=${program}&pan=${VISA_PAN}`,
    ];
    for (const url of refused) {
      const res = await api.get(url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('validation_error');
    }
  });
});
