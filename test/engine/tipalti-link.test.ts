// Seed 003's /cashout/link for Tipalti with an engine configured with Tipalti (payouts.tipalti) against
// the local Tipalti in test/fakes: the payee is created there under the member's idap and stored here;
// a repeat answers alreadyExists from our store without a second call; a refusal, a wrong master key
// or a Tipalti that hangs stores nothing and says why in seed 003's error shape; and the engine's log
// file holds none of the payee's personal fields nor the master key.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadEngineConfig } from '../../engine/config.ts';
import { loggerOptions } from '../../engine/logger.ts';
import { testLogFile } from '../fixtures/test-log.ts';
import { startFakeTipalti, type FakeTipalti } from '../fakes/tipalti-server.ts';
import { signedInMember } from './fixtures/member-token.ts';
import { startHarness, type Harness } from './harness.ts';

let fake: FakeTipalti;
let h: Harness | undefined;
let headers: Record<string, string>;
let memberId: number;

async function start(tipalti: { masterKey?: string; timeoutMs?: number; idapPrefix?: string } = {}) {
  h = await startHarness({
    payouts: {
      tipalti: { url: fake.url, payerName: fake.payerName, masterKey: fake.masterKey, ...tipalti },
    },
  });
  const till = (await h!.app(['cashback_read', 'cashback_write'])).headers;
  const member = await signedInMember(h, till, { email: 'ysolde@example.com', name: 'Ysolde' });
  memberId = member.memberId;
  headers = { ...till, 'x-member-token': member.token };
}

beforeEach(async () => {
  fake = await startFakeTipalti();
});
afterEach(async () => {
  await h?.close();
  h = undefined;
  await fake.close();
});

const payee = {
  provider: 'tipalti',
  payeeType: 'Individual',
  firstName: 'Ysolde',
  lastName: 'Marchetti-Quarles',
  email: 'ysolde.mq@example.com',
  address: { street1: '88 Quokka Crescent', city: 'Fremantle', state: 'WA', zip: '6160', country: 'AU' },
  phone: '+61 8 9000 0000',
  taxDetails: { tfn: '123456782' },
};
const link = (body: unknown) => h!.request({ method: 'POST', url: '/cashout/link', headers, body });
const rows = () =>
  h!.store.read((tx) =>
    tx.all<{ payee_id: string }>("SELECT payee_id FROM linked_payout_accounts WHERE provider = 'tipalti'"),
  );

describe('/cashout/link with Tipalti configured', () => {
  it('creates the payee at Tipalti under the member idap, once, and answers alreadyExists from our store', async () => {
    await start();
    const first = await link(payee);
    expect(first.status).toBe(200);
    const idap = `tillback${memberId}`;
    expect(first.body).toEqual({
      status: 'success',
      data: {
        message: 'Tipalti payee account created successfully',
        provider: 'tipalti',
        payeeId: idap,
        alreadyExists: false,
      },
    });
    expect(fake.payees.get(idap)).toEqual({
      Idap: idap,
      FirstName: 'Ysolde',
      LastName: 'Marchetti-Quarles',
      Street1: '88 Quokka Crescent',
      City: 'Fremantle',
      State: 'WA',
      Zip: '6160',
      Country: 'AU',
      Email: 'ysolde.mq@example.com',
    });
    expect(await rows()).toEqual([{ payee_id: idap }]);

    const again = await link({ ...payee, firstName: 'Other' });
    expect(again.body.data).toEqual({ ...first.body.data, alreadyExists: true });
    expect(fake.bodies).toHaveLength(1); // no second remote call
    expect(fake.payees.get(idap)!.FirstName).toBe('Ysolde');
  });

  it('keeps one payee when first links race: every answer names it, one says it was created', async () => {
    await start();
    const answers = await Promise.all(Array.from({ length: 8 }, () => link(payee)));
    const idap = `tillback${memberId}`;
    for (const a of answers) expect(a.body.data.payeeId).toBe(idap);
    expect(answers.filter((a) => a.body.data.alreadyExists === false)).toHaveLength(1);
    expect(await rows()).toEqual([{ payee_id: idap }]);
    expect([...fake.payees.keys()]).toEqual([idap]); // Tipalti's upsert: one payee however many calls
  });

  it('stores nothing when Tipalti refuses a payee field, and links on a corrected try', async () => {
    await start();
    fake.fault({ kind: 'refuse', errorCode: 'UnknownState', errorMessage: 'UnknownState' });
    const refused = await link(payee);
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ status: 'error', message: 'The state is not an ISO 3166 state code' });
    expect(await rows()).toEqual([]);
    expect((await link(payee)).body.data.alreadyExists).toBe(false);
    expect(await rows()).toHaveLength(1);
  });

  it('refuses control characters XML cannot carry before asking Tipalti', async () => {
    await start();
    const res = await link({ ...payee, lastName: 'Quarles\u0000' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      status: 'error',
      message: 'Invalid lastName: must not contain control characters',
    });
    expect(fake.bodies).toHaveLength(0);
    expect(await rows()).toEqual([]);
  });

  it('stores nothing and answers 502 when Tipalti refuses our key', async () => {
    await start({ masterKey: 'the-wrong-master-key' });
    const refused = await link(payee);
    expect(refused.status).toBe(502);
    expect(refused.body).toEqual({
      status: 'error',
      message: "Tipalti refused the request's key: check the configured master key",
    });
    expect(await rows()).toEqual([]);
    expect(fake.payees.size).toBe(0);
  });

  it('stores nothing and answers 503 when Tipalti hangs or fails', async () => {
    await start({ timeoutMs: 300 });
    for (const fault of [{ kind: 'hang' }, { kind: 'status', status: 502 }, { kind: 'garbage' }] as const) {
      fake.fault(fault);
      const res = await link(payee);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({
        status: 'error',
        message: 'Tipalti could not be reached; try again shortly',
      });
      expect(await rows()).toEqual([]);
    }
  });

  it("writes none of the payee's personal fields nor the master key to the engine log", async () => {
    // An idap prefix of its own: the log file is shared by every engine this test process starts.
    await start({ timeoutMs: 300, idapPrefix: 'logscan' });
    fake.fault({ kind: 'hang' });
    await link(payee);
    await link(payee);
    const idap = `logscan${memberId}`;
    // The engine's pino file is written asynchronously: wait for the client's own line.
    const log = await vi.waitFor(
      () => {
        const text = readFileSync(testLogFile('engine'), 'utf8');
        expect(text).toContain(`"idap":"${idap}"`);
        expect(text).toContain('tipalti: payee created or updated');
        return text;
      },
      { timeout: 10_000, interval: 50 },
    );
    const secret = [
      payee.firstName,
      payee.lastName,
      payee.email,
      payee.address.street1,
      payee.address.city,
      payee.phone,
      payee.taxDetails.tfn,
      fake.masterKey,
    ];
    for (const s of secret) expect(log).not.toContain(s);
  });
});

describe('/cashout/link without Tipalti configured', () => {
  it('behaves as before: a payee id made here, no call to Tipalti', async () => {
    h = await startHarness();
    const till = (await h!.app(['cashback_read', 'cashback_write'])).headers;
    headers = {
      ...till,
      'x-member-token': (await signedInMember(h, till, { email: 'w@example.com', name: 'W' })).token,
    };
    const res = await link(payee);
    expect(res.body.data).toMatchObject({
      payeeId: expect.stringMatching(/^payee_[0-9a-f]{18}$/),
      alreadyExists: false,
    });
    expect(fake.bodies).toHaveLength(0);
  });
});

describe('payouts.tipalti configuration', () => {
  // From a file, as an operator would write it (the environment fills in what the file leaves out).
  const load = (tipalti: object, environment: NodeJS.ProcessEnv = {}) => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-tipalti-config-'));
    const file = join(dir, 'engine.json');
    writeFileSync(file, JSON.stringify({ payouts: { tipalti } }));
    try {
      return loadEngineConfig({ file, environment });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('takes the master key from the environment, and names a bad setting without its value', () => {
    const config = load({ payerName: 'Payer' }, { TILLBACK_TIPALTI_MASTER_KEY: 'key-from-env' });
    expect(config.payouts.tipalti).toMatchObject({ masterKey: 'key-from-env', environment: 'sandbox' });
    expect(() => load({ payerName: 'Payer' })).toThrow(/payouts\.tipalti\.masterKey/);
    let error: unknown;
    try {
      load({ payerName: 'Payer', masterKey: 'key-in-file', idapPrefix: 'no-dashes-key-in-file' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/payouts\.tipalti\.idapPrefix/);
    expect((error as Error).message).not.toContain('key-in-file');
  });

  it('keeps the master key out of a logged configuration', () => {
    const lines: string[] = [];
    const log = pino(loggerOptions('info'), { write: (line: string) => void lines.push(line) });
    const config = load({ payerName: 'PayerName1', masterKey: 'very-secret-master-key' });
    log.info({ payouts: { tipalti: config.payouts.tipalti } }, 'configuration');
    expect(lines.join('')).toContain('PayerName1');
    expect(lines.join('')).not.toContain('very-secret-master-key');
  });
});
