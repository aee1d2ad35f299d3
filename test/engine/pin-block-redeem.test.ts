// POST /v1/redeem with `pin_block`: the PIN as a PIN pad encrypted it (ISO 9564 format 0 under TDES
// DUKPT, format 4 under AES DUKPT), deciphered by the engine with its configured BDK and checked as a
// clear `pin` is: the same lockout, the same errors. Over real HTTP on 127.0.0.1 and a real SQLite
// file. A block that is not a valid block for the card is refused and changes nothing (no balance
// change, no PIN attempt); the PIN, the block and the PAN reach neither the database nor the log.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aesKsn, encryptPinAesDukpt } from '../../contract/crypto/aes-dukpt.ts';
import { encryptPinTdesDukpt, tdesKsnWithCounter } from '../../contract/crypto/tdes-dukpt.ts';
import { PinPad } from '../../drivers/pinpad/driver.ts';
import { PinPadSimulator, TEST_BDK } from '../../drivers/pinpad/simulator.ts';
import { memoryPair } from '../../drivers/transport/memory.ts';
import { ConfigError, loadEngineConfig, resolveSecrets } from '../../engine/config.ts';
import { DEMO_PIN_BDK, demoConfig } from '../../engine/demo.ts';
import { DomainError } from '../../engine/domain/errors.ts';
import { pinFromBlock } from '../../engine/domain/pin-blocks.ts';
import { pinBlockSchema } from '../../engine/routes/native.ts';
import { scanText } from '../fixtures/log-scan.ts';
import { VISA_PAN } from '../fixtures/secrets.ts';
import { testLogFile } from '../fixtures/test-log.ts';
import { nativeHttp, type NativeHttp } from './fixtures/native-http.ts';
import { startHarness, type Harness } from './harness.ts';

/** The public X9.24-1 test BDK the PIN pad simulator uses, and the first KSN of its test device. */
const TDES_BDK = '0123456789ABCDEFFEDCBA9876543210';
const TDES_KSN = Buffer.from('FFFF9876543210E00001', 'hex');
/** The X9.24-3 supplement's AES-128 BDK and initial key ID. */
const AES_BDK = 'FEDCBA9876543210F1F1F1F1F1F1F1F1';
const AES_KEY_ID = Buffer.from('1234567890123456', 'hex');
const OTHER_BDK = '00112233445566778899AABBCCDDEEFF';
const PIN = '4321';
const WRONG_PIN = '9999';
/** A second Luhn-valid card, linked to the same member: a block made for it is not one for VISA_PAN. */
const OTHER_PAN = '5350290149345177';

let h: Harness;
let api: NativeHttp;
let program: number;
let memberId: number;
let counter = 0;

/** A format 0 block from the test PIN pad: each entry uses the device's next KSN, as a real pad does. */
function tdesBlock(pin: string, opts: { pan?: string; bdk?: string } = {}) {
  const ksn = tdesKsnWithCounter(TDES_KSN, ++counter);
  const block = encryptPinTdesDukpt(Buffer.from(opts.bdk ?? TDES_BDK, 'hex'), ksn, pin, opts.pan ?? VISA_PAN);
  return { format: 'iso0-tdes-dukpt', ksn: ksn.toString('hex').toUpperCase(), block: block.toString('hex') };
}

function aesBlock(pin: string) {
  const ksn = aesKsn(AES_KEY_ID, ++counter);
  const block = encryptPinAesDukpt(Buffer.from(AES_BDK, 'hex'), ksn, pin, VISA_PAN);
  return { format: 'iso4-aes-dukpt', ksn: ksn.toString('hex'), block: block.toString('hex') };
}

const byCard = { card: { pan: VISA_PAN } };
const redeem = (extra: Record<string, unknown>, opts: { key?: string } = {}) =>
  api.post('/redeem', { program_id: program, member: byCard, amount: 1_000, ...extra }, opts);

async function state() {
  const balance = await api.get(`/members/${memberId}/balance?program_id=${program}`);
  const row = await h.store.read((tx) =>
    tx.one<{ failures: number; attempts: number; redeems: number }>(
      `SELECT (SELECT pin_failures FROM members WHERE id = ?) AS failures,
              (SELECT COUNT(*) FROM pin_attempts) AS attempts,
              (SELECT COUNT(*) FROM transactions WHERE type = 'redeem') AS redeems`,
      [memberId],
    ),
  );
  return { available: balance.body.balance.available as number, ...row };
}

async function engineWith(secrets: Record<string, string>) {
  counter = 0; // every test's PIN pad starts at KSN ...E00001
  h = await startHarness({ port: 0, secrets });
  const base = await h.engine.listen();
  const till = await h.app(['cashback_read', 'cashback_write']);
  const admin = await h.app(['admin']);
  api = nativeHttp(base, till.headers);
  program = await h.program({ currency: 'AUD', cashbackBps: 1_000, allowsPinRedemption: true });
  const created = await api.post('/members', { email: 'pat@example.com' });
  memberId = created.body.member_id;
  for (const pan of [VISA_PAN, OTHER_PAN]) {
    expect((await api.post(`/members/${memberId}/cards`, { pan })).status).toBe(201);
  }
  const res = await fetch(`${base}/v1/members/${memberId}/pin`, {
    method: 'PUT',
    headers: { ...admin.headers, 'content-type': 'application/json', 'idempotency-key': 'set-pin' },
    body: JSON.stringify({ pin: PIN }),
  });
  expect(res.status).toBe(200);
  const earned = await api.post('/earn', { program_id: program, member: byCard, purchase_amount: 1_000_000 });
  expect(earned.body.balance.available).toBe(100_000);
}

describe('with both BDKs configured', () => {
  beforeEach(() => engineWith({ pinBdk: TDES_BDK, pinAesBdk: AES_BDK }));
  afterEach(() => h.close());

  it('redeems with a format 0 TDES DUKPT block of the right PIN, once per Idempotency-Key', async () => {
    const pinBlock = tdesBlock(PIN);
    const ok = await redeem({ pin_block: pinBlock }, { key: 'sale-1' });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body).toMatchObject({ member_id: memberId, amount_redeemed: 1_000, replayed: false });
    expect(ok.body.balance.available).toBe(99_000);
    const again = await redeem({ pin_block: pinBlock }, { key: 'sale-1' });
    expect(again.body).toMatchObject({ transaction_id: ok.body.transaction_id, replayed: true });
    expect(await state()).toMatchObject({ available: 99_000, redeems: 1, attempts: 1, failures: 0 });

    // Nothing derived from the PIN, block or PAN is kept: not in the stored answer, not in the file.
    const keys = await h.store.read((tx) => tx.all('SELECT * FROM idempotency_keys'));
    expect(JSON.stringify(keys)).not.toMatch(
      new RegExp(`${VISA_PAN}|${pinBlock.block}|${pinBlock.ksn}`, 'i'),
    );
    // On SQLite, the database file and its write-ahead log (recent pages), read while the engine runs.
    const stored = (await h.store.storedText()).toLowerCase();
    expect(stored.includes(VISA_PAN)).toBe(false);
    expect(stored.includes(pinBlock.block)).toBe(false);
  });

  it('refuses a copied block (its KSN counter is not newer than the last seen) as no PIN attempt', async () => {
    const first = tdesBlock(PIN);
    const second = tdesBlock(PIN);
    expect((await redeem({ pin_block: second }, { key: 'sale-2' })).status).toBe(200);
    const before = await state();
    // The same block under another key, and an older block of the same pad: both copies.
    for (const copy of [second, first]) {
      const replayed = await redeem({ pin_block: copy }, { key: `copy-${copy.ksn}` });
      expect(replayed.status).toBe(409);
      expect(replayed.body.error).toMatchObject({
        code: 'pin_block_replayed',
        details: { field: 'pin_block' },
      });
      expect(JSON.stringify(replayed.body)).not.toContain(copy.block);
    }
    expect(await state()).toEqual(before);
    // Another PIN pad keeps its own counter; a wrong PIN's block is used up too.
    const aes = aesBlock(PIN);
    expect((await redeem({ pin_block: aes })).status).toBe(200);
    const wrong = tdesBlock(WRONG_PIN);
    expect((await redeem({ pin_block: wrong })).status).toBe(401);
    expect((await redeem({ pin_block: wrong })).status).toBe(409);
    // The pad's next entry works.
    expect((await redeem({ pin_block: tdesBlock(PIN) })).status).toBe(200);
  });

  it('counts a block of a wrong PIN as a wrong PIN: five lock PIN redemption (423)', async () => {
    for (let left = 4; left >= 1; left--) {
      const wrong = await redeem({ pin_block: tdesBlock(WRONG_PIN) });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error).toMatchObject({ code: 'pin_invalid', details: { attempts_left: left } });
    }
    const locked = await redeem({ pin_block: tdesBlock(WRONG_PIN) });
    expect(locked.status).toBe(423);
    expect(locked.body.error.code).toBe('pin_locked');
    // Locked for blocks and clear PINs alike, even the right one.
    expect((await redeem({ pin_block: tdesBlock(PIN) })).status).toBe(423);
    expect((await redeem({ pin: PIN })).status).toBe(423);
    expect(await state()).toMatchObject({ available: 100_000, redeems: 0, attempts: 7 });
    h.clock.now += 15 * 60_000;
    expect((await redeem({ pin_block: tdesBlock(PIN) })).status).toBe(200);
  });

  it('redeems with a format 4 AES DUKPT block, and counts a wrong one toward the same lock', async () => {
    const ok = await redeem({ pin_block: aesBlock(PIN) });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.balance.available).toBe(99_000);
    const wrong = await redeem({ pin_block: aesBlock(WRONG_PIN) });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toMatchObject({ code: 'pin_invalid', details: { attempts_left: 4 } });
    // Clear PINs and both block formats share one failure count.
    expect((await redeem({ pin: WRONG_PIN })).body.error.details).toEqual({ attempts_left: 3 });
    expect((await redeem({ pin_block: tdesBlock(WRONG_PIN) })).body.error.details).toEqual({
      attempts_left: 2,
    });
    expect(await state()).toMatchObject({ available: 99_000, redeems: 1, failures: 3 });
  });

  it('refuses a block that is not a valid block for this card with 400, changing nothing', async () => {
    const good = tdesBlock(PIN);
    const aes = aesBlock(PIN);
    const cases: [string, unknown, RegExp][] = [
      [
        'under another BDK',
        tdesBlock(PIN, { bdk: OTHER_BDK }),
        /does not decipher to a PIN block for this card/,
      ],
      ['made for another card', tdesBlock(PIN, { pan: OTHER_PAN }), /does not decipher to a PIN block/],
      ['one bit changed', { ...good, block: flipLastBit(good.block) }, /does not decipher/],
      ['KSN of another counter', { ...good, ksn: 'FFFF9876543210E00003' }, /does not decipher/],
      ['AES block flipped', { ...aes, block: flipLastBit(aes.block) }, /does not decipher/],
      ['counter zero', { ...good, ksn: 'FFFF9876543210E00000' }, /counter no PIN pad uses/],
      ['AES KSN for TDES', { ...good, ksn: aes.ksn }, /ksn must be 20 hex digits for iso0-tdes-dukpt/],
      ['AES block for TDES', { ...good, block: aes.block }, /block must be 16 hex digits/],
      ['not hex', { ...good, block: 'zz'.repeat(8) }, /pin_block\.block: must be 16 or 32 hex digits/],
      ['unknown format', { ...good, format: 'iso1' }, /pin_block\.format/],
      ['extra field', { ...good, pin: PIN }, /pin_block/],
      ['not an object', 'deadbeef', /pin_block/],
    ];
    const before = await state();
    for (const [what, pinBlock, message] of cases) {
      const res = await redeem({ pin_block: pinBlock });
      expect(res.status, what).toBe(400);
      expect(res.body.error.code, what).toBe('validation_error');
      expect(res.body.error.message, what).toMatch(message);
      expect(JSON.stringify(res.body), what).not.toMatch(new RegExp(`${VISA_PAN}|${good.block}`, 'i'));
    }
    expect(await state()).toEqual(before);
  });

  it('needs the member as card: {pan} and either pin or pin_block', async () => {
    const before = await state();
    const pinBlock = tdesBlock(PIN);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ pin: PIN, pin_block: pinBlock }, /pin_block: send the PIN as pin or as pin_block, not both/],
      [{ member: { email: 'pat@example.com' }, pin_block: pinBlock }, /name the member as card: \{pan\}/],
      [{ member: { id: memberId }, pin_block: pinBlock }, /name the member as card: \{pan\}/],
      [{ member: undefined, pin_block: pinBlock }, /name the member as card: \{pan\}/],
    ];
    for (const [extra, message] of cases) {
      const res = await redeem(extra);
      expect(res.status, JSON.stringify(extra)).toBe(400);
      expect(res.body.error).toMatchObject({ code: 'validation_error' });
      expect(res.body.error.message).toMatch(message);
    }
    expect(await state()).toEqual(before);
  });

  it('no arbitrary pin_block gets past the parser but as a validation error, and none changes anything (property)', async () => {
    const before = await state();
    await fc.assert(
      // undefined would send no pin_block at all (the request then has no PIN: 401).
      fc.asyncProperty(
        pinBlockInput().filter((v) => v !== undefined),
        async (pinBlock) => {
          const res = await redeem({ pin_block: pinBlock });
          expect(res.status).toBe(400);
          expect(res.body.error.code).toBe('validation_error');
        },
      ),
      { numRuns: 60 },
    );
    expect(await state()).toEqual(before);
  });

  it('writes no PIN, PIN block or card number to the engine log', async () => {
    const blocks = [tdesBlock(PIN), tdesBlock(WRONG_PIN), aesBlock(PIN), tdesBlock(PIN, { bdk: OTHER_BDK })];
    for (const pinBlock of blocks) await redeem({ pin_block: pinBlock });
    await redeem({ pin_block: { ...blocks[0], block: 'not hex' } });
    const log = readFileSync(testLogFile('engine'), 'utf8');
    expect(log).toContain('/v1/redeem'); // the requests were logged: the scan below has lines to read
    expect(scanText(log, { pans: [VISA_PAN, OTHER_PAN], pins: [PIN, WRONG_PIN] })).toEqual([]);
    for (const b of blocks) expect(log.toLowerCase()).not.toContain(b.block);
  });
});

describe("the demo's test BDK", () => {
  afterEach(() => h.close());

  it('deciphers a PIN entered at the simulated PIN pad, through the PIN pad driver', async () => {
    await engineWith({ pinBdk: DEMO_PIN_BDK });
    const [host, device] = memoryPair({ ids: ['memory:till', 'memory:pinpad'] });
    await Promise.all([host.open(), device.open()]);
    const pad = new PinPad(host, { ackTimeoutMs: 2_000 });
    const sim = new PinPadSimulator(device, { pin: PIN });
    try {
      const entry = await pad.enterPin({ pan: VISA_PAN });
      const res = await redeem({
        pin_block: { format: 'iso0-tdes-dukpt', ksn: entry.ksn, block: entry.pinBlock },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.balance.available).toBe(99_000);
    } finally {
      pad.close();
      sim.stop();
      await Promise.all([host.close(), device.close()]);
    }
  });
});

describe('without a BDK for the format', () => {
  afterEach(() => h.close());

  it('answers 422 pin_block_unsupported naming the setting, and counts no attempt', async () => {
    await engineWith({ pinBdk: TDES_BDK });
    const before = await state();
    const res = await redeem({ pin_block: aesBlock(PIN) });
    expect(res.status).toBe(422);
    expect(res.body.error).toMatchObject({
      code: 'pin_block_unsupported',
      details: { format: 'iso4-aes-dukpt' },
    });
    expect(res.body.error.message).toMatch(/secrets\.pinAesBdk \(TILLBACK_PIN_AES_BDK\)/);
    expect(await state()).toEqual(before);
  });

  it('with no BDK at all, TDES blocks too', async () => {
    await engineWith({});
    const res = await redeem({ pin_block: tdesBlock(PIN) });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/secrets\.pinBdk \(TILLBACK_PIN_BDK\)/);
    expect((await redeem({ pin: PIN })).status).toBe(200); // the clear PIN still works
  });
});

describe('the BDK settings', () => {
  it('come from the config file or TILLBACK_PIN_BDK / TILLBACK_PIN_AES_BDK, and never reach the secrets file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tillback-bdk-'));
    try {
      const config = loadEngineConfig({
        environment: { TILLBACK_PIN_BDK: TDES_BDK, TILLBACK_PIN_AES_BDK: AES_BDK },
        overrides: { secretsFile: join(dir, 'secrets.json') },
      });
      expect(config.secrets).toMatchObject({ pinBdk: TDES_BDK, pinAesBdk: AES_BDK });
      resolveSecrets(config); // generates the other secrets into the file
      const file = readFileSync(join(dir, 'secrets.json'), 'utf8');
      expect(Object.keys(JSON.parse(file)).sort()).toEqual([
        'cardHashKey',
        'credentialsKey',
        'memberTokenKey',
        'webhookSecret',
      ]);
      expect(file).not.toContain(TDES_BDK);
      expect(file).not.toContain(AES_BDK);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a BDK of the wrong length naming the setting, never its value', () => {
    const bad = `${TDES_BDK}0123456789ABCDEF`; // 48 hex: a triple-length key, which X9.24-1 DUKPT does not use
    let refusal: unknown;
    try {
      loadEngineConfig({ environment: { TILLBACK_PIN_BDK: bad } });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as Error).message).toMatch(/secrets\.pinBdk: pinBdk is a TDES DUKPT BDK: 32 hex digits/);
    expect((refusal as Error).message).not.toContain(TDES_BDK);
  });

  it("npm start's demo deciphers with the PIN pad simulator's test BDK unless one is configured", () => {
    expect(demoConfig(loadEngineConfig({ environment: {} })).secrets.pinBdk).toBe(TEST_BDK);
    const own = loadEngineConfig({ environment: { TILLBACK_PIN_BDK: OTHER_BDK } });
    expect(demoConfig(own).secrets.pinBdk).toBe(OTHER_BDK);
  });
});

describe('the pin_block parser (property)', () => {
  it('never throws anything but the API validation error, or gives a PIN of 4 to 12 digits', () => {
    const bdks = { tdes: TDES_BDK, aes: AES_BDK };
    let deciphered = 0;
    fc.assert(
      fc.property(pinBlockInput(), fc.constantFrom(VISA_PAN, OTHER_PAN), (input, pan) => {
        const parsed = pinBlockSchema.safeParse(input);
        if (!parsed.success) return;
        deciphered++;
        try {
          expect(pinFromBlock(bdks, { ...parsed.data, pan })).toMatch(/^\d{4,12}$/);
        } catch (error) {
          expect(error).toBeInstanceOf(DomainError);
          expect((error as DomainError).code).toBe('validation_error');
          expect((error as DomainError).status).toBe(400);
        }
      }),
      { numRuns: 500 },
    );
    // Most inputs get past the schema, so the property is about the decipherment, not the schema.
    expect(deciphered).toBeGreaterThan(125);
  });
});

function flipLastBit(hex: string): string {
  return hex.slice(0, -1) + (parseInt(hex.slice(-1), 16) ^ 1).toString(16);
}

/**
 * pin_block values mostly of the real shape (so most reach the decipherment), with wrong formats, hex of
 * wrong lengths, non-hex text and missing fields mixed in.
 */
function pinBlockInput() {
  const hexOf = (right: number[], wrong: number[]) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...right).chain(hexDigits), weight: 5 },
      { arbitrary: fc.constantFrom(...wrong).chain(hexDigits), weight: 1 },
      { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
    );
  const shaped = fc.record(
    {
      format: fc.oneof(
        { arbitrary: fc.constantFrom('iso0-tdes-dukpt', 'iso4-aes-dukpt'), weight: 5 },
        { arbitrary: fc.string({ maxLength: 16 }), weight: 1 },
      ),
      ksn: hexOf([20, 24], [0, 19, 21, 23, 25]),
      block: hexOf([16, 32], [0, 15, 17, 31, 33]),
    },
    { requiredKeys: ['format', 'ksn', 'block'] },
  );
  return fc.oneof({ arbitrary: shaped, weight: 8 }, { arbitrary: fc.anything(), weight: 1 });
}

const hexDigits = (n: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${n}}$`));
