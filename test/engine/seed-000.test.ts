// Seed 000 (noebs cashout) over HTTP on a real SQLite file: the document's register and generate
// requests with their documented fields, the claim they make paid through the sandbox, the card
// sealed at rest and never answered, profiles only their registering app may change, and bad input
// on every route answered {"message","code"} with nothing changed.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isValidPan } from '../../contract/card.ts';
import { unseal } from '../../engine/domain/sealing.ts';
import { startHarness, type Harness } from './harness.ts';

const PAN = '5350290149345177';
const IPIN = '0000';
/** A 19-digit PAN: eighteen digits and the Luhn digit that completes them. */
const PAN19 = [...'0123456789'].map((d) => `601100099013942400${d}`).find(isValidPan)!;

let h: Harness;
let merchant: Record<string, string>;

beforeEach(async () => {
  h = await startHarness();
  merchant = (await h.app(['cashback_read', 'cashback_write'])).headers;
});
afterEach(() => h.close());

const registration = {
  name: 'shifa',
  pan: PAN,
  expDate: '3012',
  ipin: IPIN,
  consent: true,
  endpoint: 'https://shifa.example.com/noebs-hook',
};
const register = (body: unknown, headers = merchant) =>
  h.request({ method: 'POST', url: '/cashout/register', headers, body });
const generate = (name: string, body: unknown, headers = merchant) =>
  h.request({ method: 'POST', url: `/cashout/generate/${name}`, headers, body });
const update = (name: string, body: unknown, headers = merchant) =>
  h.request({ method: 'PUT', url: `/cashout/register/${name}`, headers, body });

async function count(table: string): Promise<number> {
  return Number((await h.store.read((tx) => tx.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`)))?.n);
}
const snapshot = async () =>
  Object.fromEntries(
    await Promise.all(
      ['cashout_providers', 'claims', 'events'].map(async (t) => [t, await count(t)] as const),
    ),
  );

describe('seed 000: register and generate as documented', () => {
  it('registers a provider, sealing its card, and never answers the card back', async () => {
    const res = await register(registration);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      result: 'ok',
      name: 'shifa',
      card: '535029******5177',
      endpoint: registration.endpoint,
      currency: 'SDG',
    });
    for (const secret of [PAN, '"ipin"', '3012']) expect(res.text).not.toContain(secret);
    const profile = await h.request({ method: 'GET', url: '/cashout/register/shifa', headers: merchant });
    expect(profile.body).toEqual(res.body);

    const row = await h.store.read((tx) =>
      tx.one<{ card_sealed: string }>("SELECT card_sealed FROM cashout_providers WHERE name = 'shifa'"),
    );
    expect(unseal(row!.card_sealed, h.engine.ctx.settings.credentialsKey, 'cashout_provider:shifa')).toEqual({
      pan: PAN,
      expDate: '3012',
      ipin: IPIN,
    });
    expect((await h.store.storedText()).includes(PAN)).toBe(false);
    expect((await register({ ...registration, name: 'shifa-19', pan: PAN19 })).status).toBe(200);
  });

  it('generates a claim from the documented request, once per id, and pays it through the sandbox', async () => {
    await register(registration);
    const res = await generate('shifa', { amount: 100, id: 'xcx' });
    expect(res.status).toBe(200);
    expect(typeof res.body.result).toBe('string');
    expect(res.body.uuid).toBe(res.body.result);
    expect(res.body.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(res.body.url).toMatch(new RegExp(`/c/${res.body.uuid}$`));

    const again = await generate('shifa', { amount: 100, id: 'xcx' });
    expect(again.body.uuid).toBe(res.body.uuid);
    const changed = await generate('shifa', { amount: 200, id: 'xcx' });
    expect(changed.status).toBe(409);
    expect(changed.body).toEqual({ message: expect.any(String), code: 'idempotency_conflict' });
    expect(await count('claims')).toBe(1);

    const view = await h.request({ method: 'GET', url: `/v1/public/claims/${res.body.uuid}` });
    expect(view.body).toMatchObject({ store_name: 'shifa', amount: 100, currency: 'SDG', methods: ['card'] });
    const sent = await h.request({
      method: 'POST',
      url: `/v1/public/claims/${res.body.uuid}/submit`,
      body: { method: { kind: 'card', number: '4111111111111111', expiry: '01/31' }, consent: true },
    });
    expect(sent.status).toBe(202);
    for (let i = 0; i < 200; i++) {
      await h.engine.payouts.idle();
      const s = await h.request({ method: 'GET', url: `/v1/public/claims/${res.body.uuid}/status` });
      if (s.body.status === 'paid') break;
      h.engine.payouts.kick();
      await new Promise((r) => setTimeout(r, 10));
    }
    // The outcome is in the outbox for the provider's endpoint, with what seed 000's webhook carries.
    const paid = await h.store.read((tx) =>
      tx.one<{ data: string }>("SELECT data FROM events WHERE subject_id = ? AND type = 'claim.paid'", [
        res.body.uuid,
      ]),
    );
    expect(JSON.parse(paid!.data)).toMatchObject({
      provider_name: 'shifa',
      reference: 'xcx',
      amount: 100,
      status: 'paid',
      name: 'shifa',
      response: 'Approval',
      code: 0,
    });
    // Only outcomes carry the seed 000 body's fields: the document sends one on completion.
    const created = await h.store.read((tx) =>
      tx.one<{ data: string }>("SELECT data FROM events WHERE subject_id = ? AND type = 'claim.created'", [
        res.body.uuid,
      ]),
    );
    expect(JSON.parse(created!.data)).not.toHaveProperty('code');
  });

  it('tells the provider a failed or cancelled claim with code 69 and the reason', async () => {
    await register(registration);
    const failing = (await generate('shifa', { amount: 9001, id: 'fails' })).body.uuid as string;
    await h.request({
      method: 'POST',
      url: `/v1/public/claims/${failing}/submit`,
      body: { method: { kind: 'card', number: '4111111111111111', expiry: '01/31' }, consent: true },
    });
    const outcome = async (id: string, type: string) => {
      for (let i = 0; i < 500; i++) {
        const row = await h.store.read((tx) =>
          tx.one<{ data: string }>('SELECT data FROM events WHERE subject_id = ? AND type = ?', [id, type]),
        );
        if (row) return JSON.parse(row.data);
        h.engine.payouts.kick();
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`no ${type} event`);
    };
    expect(await outcome(failing, 'claim.failed')).toMatchObject({
      name: 'shifa',
      code: 69,
      response: 'The payer account lacks funds',
      amount: 9001,
    });
  });

  it('lets only the registering app change a profile, and a new card only with consent again', async () => {
    await register(registration);
    const other = (await h.app(['cashback_read', 'cashback_write'])).headers;
    const stolen = await update('shifa', { endpoint: 'https://evil.example.com/' }, other);
    expect(stolen.status).toBe(404);
    expect(stolen.body.code).toBe('not_found');
    expect((await generate('shifa', { amount: 100, id: 'a' }, other)).status).toBe(404);
    expect((await register({ ...registration, pan: '4111111111111111' }, other)).status).toBe(409);

    const moved = await update('shifa', { endpoint: 'https://shifa.example.com/v2' });
    expect(moved.body.endpoint).toBe('https://shifa.example.com/v2');
    expect((await update('shifa', { pan: '4111111111111111', expDate: '3101', ipin: '1234' })).status).toBe(
      400,
    );
    const newCard = await update('shifa', {
      pan: '4111111111111111',
      expDate: '3101',
      ipin: '1234',
      consent: true,
    });
    expect(newCard.body.card).toBe('411111******1111');
    const profile = await h.request({ method: 'GET', url: '/cashout/register/shifa', headers: merchant });
    expect(profile.body).toMatchObject({
      card: '411111******1111',
      endpoint: 'https://shifa.example.com/v2',
    });
  });
});

describe('seed 000: bad input answers {"message","code"} and changes nothing', () => {
  it('refuses each bad register, update and generate request', async () => {
    await register(registration);
    const readOnly = (await h.app(['cashback_read'])).headers;
    const r = (patch: Record<string, unknown>) => ({ ...registration, name: 'other', ...patch });
    const { consent: _c, ...noConsent } = r({});
    const cases: [string, () => ReturnType<typeof register>, number, string][] = [
      ['name taken', () => register(registration), 409, 'conflict'],
      ['no credentials', () => register(r({}), {}), 401, 'unauthorized'],
      ['read-only app', () => register(r({}), readOnly), 403, 'forbidden'],
      ['15-digit pan', () => register(r({ pan: '411111111111111' })), 400, 'validation_error'],
      ['17-digit pan', () => register(r({ pan: '41111111111111113' })), 400, 'validation_error'],
      ['bad Luhn', () => register(r({ pan: '5350290149345178' })), 400, 'validation_error'],
      ['pan as number', () => register(r({ pan: 5350290149345177 })), 400, 'validation_error'],
      ['expired card', () => register(r({ expDate: '2512' })), 400, 'validation_error'],
      ['month 13', () => register(r({ expDate: '3013' })), 400, 'validation_error'],
      ['mmYY order', () => register(r({ expDate: '1230' })), 400, 'validation_error'],
      ['no consent', () => register(noConsent), 400, 'validation_error'],
      ['consent false', () => register(r({ consent: false })), 400, 'validation_error'],
      ['consent "true"', () => register(r({ consent: 'true' })), 400, 'validation_error'],
      ['endpoint not a URL', () => register(r({ endpoint: 'shifa hook' })), 400, 'validation_error'],
      ['ftp endpoint', () => register(r({ endpoint: 'ftp://shifa.example.com/' })), 400, 'validation_error'],
      ['ipin letters', () => register(r({ ipin: 'abcd' })), 400, 'validation_error'],
      ['ipin of 6 digits', () => register(r({ ipin: '123456' })), 400, 'validation_error'],
      ['bad name', () => register(r({ name: 'a b' })), 400, 'validation_error'],
      ['unknown currency', () => register(r({ currency: 'XYZ' })), 400, 'validation_error'],
      [
        'malformed JSON',
        () => h.request({ method: 'POST', url: '/cashout/register', headers: merchant, rawBody: '{"name":' }),
        400,
        'malformed_json',
      ],
      ['update nothing', () => update('shifa', {}), 400, 'validation_error'],
      ['update half a card', () => update('shifa', { pan: PAN, consent: true }), 400, 'validation_error'],
      ['update unknown', () => update('nobody', { endpoint: 'https://x.example.com/' }), 404, 'not_found'],
      ['generate for unknown', () => generate('nobody', { amount: 100, id: 'x' }), 404, 'not_found'],
      ['amount zero', () => generate('shifa', { amount: 0, id: 'x' }), 400, 'validation_error'],
      ['amount fraction', () => generate('shifa', { amount: 1.5, id: 'x' }), 400, 'validation_error'],
      ['amount text', () => generate('shifa', { amount: '100', id: 'x' }), 400, 'validation_error'],
      ['no id', () => generate('shifa', { amount: 100 }), 400, 'validation_error'],
      ['empty id', () => generate('shifa', { amount: 100, id: '' }), 400, 'validation_error'],
      [
        'unknown route',
        () => h.request({ method: 'GET', url: '/cashout/nowhere', headers: merchant }),
        404,
        'not_found',
      ],
    ];
    const before = await snapshot();
    for (const [what, send, status, code] of cases) {
      const res = await send();
      expect(res.status, what).toBe(status);
      expect(Object.keys(res.body).sort(), what).toEqual(['code', 'message']);
      expect(res.body.code, what).toBe(code);
      expect(res.text, what).not.toContain(PAN);
    }
    expect(await snapshot()).toEqual(before);
  });
});
