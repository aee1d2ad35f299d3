// Seed 003's /cashout/link and /cashout/unlink over HTTP on a real SQLite file, for a "connected"
// member (app credentials plus a member token from a real OTP exchange): each documented request and
// response, a repeat, every documented error message, and random bodies, each refusal changing nothing.
// Payoneer's registration link and return go through the local Payoneer (test/fakes/payoneer-server.ts).
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { payoneerOptions, startFakePayoneer, type FakePayoneer } from '../fakes/payoneer-server.ts';
import { signedInMember } from './fixtures/member-token.ts';
import { startHarness, type Harness } from './harness.ts';

let payoneer: FakePayoneer;
let h: Harness;
let till: Record<string, string>;
let token: string;

beforeEach(async () => {
  payoneer = await startFakePayoneer();
  h = await startHarness({ payouts: { payoneer: payoneerOptions(payoneer) } });
  till = (await h.app(['cashback_read', 'cashback_write'])).headers;
  ({ token } = await signedInMember(h, till, { email: 'jane@example.com', name: 'Jane' }));
});
afterEach(async () => {
  await h.close();
  await payoneer.close();
});

const connected = (): Record<string, string> => ({ ...till, 'x-member-token': token });
const link = (body: unknown, headers = connected()) =>
  h.request({ method: 'POST', url: '/cashout/link', headers, body });
const unlink = (body: unknown, headers = connected()) =>
  h.request({ method: 'POST', url: '/cashout/unlink', headers, body });
const links = () =>
  h.store.read((tx) =>
    tx.all<{ provider: string; state: string; payee_id: string | null; details_sealed: string | null }>(
      'SELECT provider, state, payee_id, details_sealed FROM linked_payout_accounts ORDER BY id',
    ),
  );

const payee = {
  provider: 'tipalti',
  payeeType: 'Individual',
  firstName: 'Jane',
  lastName: 'Citizen',
  email: 'jane@example.com',
  address: { street1: '1 George St', city: 'Sydney', state: 'NSW', zip: '2000', country: 'AU' },
  phone: '+61 2 9000 0000',
  taxDetails: { tfn: '123456782' },
};

describe('seed 003: POST /cashout/link', () => {
  // PayPal's link ("Log in with PayPal") is tested in seed-003-paypal-link.test.ts.
  it("answers Payoneer's registration link, and links the account when Payoneer returns the member", async () => {
    const res = await link({ provider: 'payoneer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: {
        message: 'Cashout link created successfully',
        link: expect.stringMatching(new RegExp(`^${payoneer.url}/partners/lp\\.aspx\\?token=[0-9a-f]{32}$`)),
        provider: 'payoneer',
        method: 'link',
      },
    });
    const [asked] = payoneer.linkBodies.map((b) => JSON.parse(b));
    expect(asked).toEqual({
      payee_id: expect.stringMatching(/^tb_[0-9a-f]{24}$/),
      redirect_url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:8080\/cashout\/link\/[\w-]{32}$/),
    });
    expect(await links()).toEqual([
      { provider: 'payoneer', state: 'pending', payee_id: asked.payee_id, details_sealed: null },
    ]);
    // A repeat asks Payoneer again, for the same payee.
    const again = await link({ provider: 'payoneer' });
    expect(JSON.parse(payoneer.linkBodies[1]!)).toEqual(asked);

    // The member registers at Payoneer and is sent back to our page, which asks Payoneer.
    const registered = await fetch(again.body.data.link, { redirect: 'manual' });
    expect(registered.headers.get('location')).toBe(asked.redirect_url);
    const page = await h.request({ method: 'GET', url: new URL(asked.redirect_url).pathname });
    expect([page.status, page.text]).toEqual([
      200,
      'Your Payoneer account is linked. You can close this page.\n',
    ]);
    expect(await links()).toMatchObject([
      { provider: 'payoneer', state: 'linked', payee_id: asked.payee_id },
    ]);
    expect((await h.request({ method: 'GET', url: '/cashout/link/not-a-token' })).status).toBe(404);
  });

  it('keeps the link pending until Payoneer approves the payee, and says why', async () => {
    payoneer.approve = false;
    const res = await link({ provider: 'payoneer' });
    const redirect = JSON.parse(payoneer.linkBodies[0]!).redirect_url as string;
    const path = new URL(redirect).pathname;
    // Before registering, Payoneer does not know the payee (404): still pending.
    expect((await h.request({ method: 'GET', url: path })).text).toMatch(/^Payoneer has not approved/);
    await fetch(res.body.data.link, { redirect: 'manual' });
    expect((await h.request({ method: 'GET', url: path })).text).toMatch(/^Payoneer has not approved/);
    expect(await links()).toMatchObject([{ state: 'pending' }]);
    payoneer.fail('status', 503);
    const down = await h.request({ method: 'GET', url: path });
    expect(down.status).toBe(502);
    expect(down.text).toMatch(
      /^Payoneer could not say whether you are registered: payee status: payoneer answered HTTP 503/,
    );
    payoneer.payees.set(JSON.parse(payoneer.linkBodies[0]!).payee_id, 'ACTIVE');
    expect((await h.request({ method: 'GET', url: path })).text).toMatch(/^Your Payoneer account is linked/);
    expect(await links()).toMatchObject([{ state: 'linked' }]);
  });

  it('answers 502 with the reason when Payoneer gives no registration link', async () => {
    payoneer.fail('link', 503);
    const res = await link({ provider: 'payoneer' });
    expect([res.status, res.body]).toEqual([
      502,
      {
        status: 'error',
        message: 'Payoneer gave no registration link: registration link: payoneer answered HTTP 503',
      },
    ]);
    payoneer.fail('token', 401);
    expect((await link({ provider: 'payoneer' })).body.message).toBe(
      'Payoneer gave no registration link: Payoneer refused our client credentials (HTTP 401)',
    );
  });

  it('creates a Tipalti payee once, sealed, and says alreadyExists on a repeat', async () => {
    const first = await link(payee);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      status: 'success',
      data: {
        message: 'Tipalti payee account created successfully',
        provider: 'tipalti',
        payeeId: expect.stringMatching(/^payee_[0-9a-f]{18}$/),
        alreadyExists: false,
      },
    });
    const again = await link({ ...payee, firstName: 'Janet' });
    expect(again.body.data).toEqual({ ...first.body.data, alreadyExists: true });
    const rows = await links();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      provider: 'tipalti',
      state: 'linked',
      payee_id: first.body.data.payeeId,
    });
    // The payee's personal fields are ciphertext at rest.
    expect(rows[0]!.details_sealed).toMatch(/^v1\./);
    expect(rows[0]!.details_sealed).not.toContain('Citizen');
    expect(rows[0]!.details_sealed).not.toContain('123456782');

    const company = await link({
      provider: 'tipalti',
      payeeType: 'Company',
      companyName: 'Citizen Pty Ltd',
      email: 'accounts@example.com',
      address: { street1: '1 George St', city: 'Sydney', country: 'AU' },
    });
    // One Tipalti payee per member: the second is the first again.
    expect(company.body.data).toEqual({ ...first.body.data, alreadyExists: true });
  });

  it('answers each bad request with its message and changes nothing', async () => {
    const { firstName: _f, lastName: _l, ...nameless } = payee;
    const cases: [string, () => ReturnType<typeof link>, number, string | RegExp][] = [
      ['no member token', () => link({ provider: 'paypal' }, till), 401, 'User not authenticated'],
      [
        'a forged member token',
        () => link({ provider: 'paypal' }, { ...till, 'x-member-token': `${token}x` }),
        401,
        'User not authenticated',
      ],
      ['no provider', () => link({}), 400, 'Missing required parameter: provider'],
      ['unknown provider', () => link({ provider: 'venmo' }), 400, 'Invalid provider'],
      ['provider not a string', () => link({ provider: 7 }), 400, 'Invalid provider'],
      [
        'Individual without names',
        () => link(nameless),
        400,
        'Missing required parameters: firstName, lastName',
      ],
      [
        'Company without a name',
        () => link({ ...nameless, payeeType: 'Company' }),
        400,
        'Missing required parameters: companyName',
      ],
      [
        'no email or address',
        () => link({ provider: 'tipalti', firstName: 'J', lastName: 'C' }),
        400,
        'Missing required parameters: email, address',
      ],
      ['bad email', () => link({ ...payee, email: 'jane' }), 400, /^Invalid email: must be an email address/],
      ['bad payeeType', () => link({ ...payee, payeeType: 'Trust' }), 400, /^Invalid payeeType/],
      [
        'bad country',
        () => link({ ...payee, address: { ...payee.address, country: 'Australia' } }),
        400,
        /^Invalid address\.country: must be an ISO 3166-1 alpha-2 code/,
      ],
      ['bad phone', () => link({ ...payee, phone: 'call me' }), 400, /^Invalid phone/],
    ];
    for (const [what, send, status, message] of cases) {
      const res = await send();
      expect([what, res.status]).toEqual([what, status]);
      expect([what, res.body]).toEqual([what, { status: 'error', message: expect.any(String) }]);
      expect([what, res.body.message]).toEqual([
        what,
        typeof message === 'string' ? message : expect.stringMatching(message),
      ]);
    }
    expect(await links()).toEqual([]);
  });

  it('says Payoneer linking is not configured when payouts.payoneer is not set, changing nothing', async () => {
    await h.close();
    h = await startHarness();
    till = (await h.app(['cashback_read', 'cashback_write'])).headers;
    ({ token } = await signedInMember(h, till, { email: 'jo@example.com', name: 'Jo' }));
    const res = await link({ provider: 'payoneer' });
    expect([res.status, res.body]).toEqual([
      422,
      { status: 'error', message: 'Payoneer account linking is not configured here (payouts.payoneer)' },
    ]);
    expect(await links()).toEqual([]);
  });

  it('never fails in a 5xx or a changed store for random Tipalti bodies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom(...Object.keys(payee), 'x'), fc.jsonValue()),
        async (body) => {
          const before = (await links()).length;
          const res = await link({ ...body, provider: 'tipalti' });
          expect([200, 400]).toContain(res.status);
          if (res.status === 400) {
            expect(res.body).toEqual({ status: 'error', message: expect.any(String) });
            expect((await links()).length).toBe(before);
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('seed 003: POST /cashout/unlink', () => {
  it('unlinks a linked Payoneer account with the documented answer, then says it is not linked', async () => {
    await link({ provider: 'payoneer' });
    await link(payee);
    const res = await unlink({ provider: 'payoneer' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'success',
      data: { message: 'Payoneer cashout method unlinked successfully', provider: 'payoneer' },
    });
    expect((await links()).map((l) => l.provider)).toEqual(['tipalti']);
    const again = await unlink({ provider: 'payoneer' });
    expect(again.status).toBe(404);
    expect(again.body).toEqual({
      status: 'error',
      message: 'Failed to unlink cashout method. The method may not be linked or an error occurred.',
    });
  });

  it('answers each documented error and changes nothing', async () => {
    await link({ provider: 'payoneer' });
    await link(payee);
    const before = await links();
    const cases: [string, () => ReturnType<typeof unlink>, number, string][] = [
      ['no provider', () => unlink({}), 400, 'Missing required parameter: provider'],
      ['PayPal', () => unlink({ provider: 'paypal' }), 400, 'Invalid provider'],
      ['Tipalti', () => unlink({ provider: 'tipalti' }), 400, 'Invalid provider'],
      ['no member token', () => unlink({ provider: 'payoneer' }, till), 401, 'User not authenticated'],
      [
        'no app credentials',
        () => unlink({ provider: 'payoneer' }, { 'x-member-token': token }),
        401,
        'User not authenticated',
      ],
    ];
    for (const [what, send, status, message] of cases) {
      const res = await send();
      expect([what, res.status, res.body]).toEqual([what, status, { status: 'error', message }]);
    }
    expect(await links()).toEqual(before);
  });
});
