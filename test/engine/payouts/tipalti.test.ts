// The Tipalti payee client against the local Tipalti in test/fakes over real HTTP: a payee created
// under a key the fake recomputes, fields that would break a hand-built envelope carried exactly,
// every documented refusal mapped to a readable error, 5xx, SOAP faults, unreadable answers, hangs and
// an unreachable host as a retryable error, options checked without echoing them, no personal data or
// master key in any log line, and fast-check on the answer parser and the envelope.
import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loggerOptions } from '../../../engine/logger.ts';
import { PayoutUnavailable } from '../../../engine/payouts/provider.ts';
import {
  createTipaltiPayees,
  parseSoapResult,
  soapEnvelope,
  TipaltiRefused,
  type TipaltiOptions,
  type TipaltiPayeeFields,
} from '../../../engine/payouts/tipalti.ts';
import { startFakeTipalti, tipaltiAnswer, type FakeTipalti } from '../../fakes/tipalti-server.ts';

let fake: FakeTipalti;
const lines: string[] = [];
const logger = pino(loggerOptions('debug'), { write: (line: string) => void lines.push(line) });

beforeAll(async () => {
  fake = await startFakeTipalti();
});
afterAll(() => fake.close());

const client = (over: Partial<TipaltiOptions> = {}) =>
  createTipaltiPayees(
    { url: fake.url, payerName: fake.payerName, masterKey: fake.masterKey, timeoutMs: 2_000, ...over },
    { logger },
  );

const payee: TipaltiPayeeFields = {
  firstName: 'Zelda',
  lastName: 'Quixotic',
  email: 'zelda.quixotic@example.com',
  street1: '17 Wombat Way',
  city: 'Ballarat',
  state: 'VIC',
  zip: '3350',
  country: 'AU',
};

const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TipaltiRefused);
  return error as TipaltiRefused;
};

describe('Tipalti UpdateOrCreatePayeeInfo', () => {
  it('creates the payee under our idap with a key Tipalti accepts, and updates it on a repeat', async () => {
    const tipalti = client({ idapPrefix: 'tbtest' });
    expect(tipalti.idapFor(42)).toBe('tbtest42');
    await tipalti.updateOrCreatePayee('tbtest42', payee);
    expect(fake.payees.get('tbtest42')).toEqual({
      Idap: 'tbtest42',
      FirstName: 'Zelda',
      LastName: 'Quixotic',
      Street1: '17 Wombat Way',
      City: 'Ballarat',
      State: 'VIC',
      Zip: '3350',
      Country: 'AU',
      Email: 'zelda.quixotic@example.com',
    });
    const sent = fake.bodies.at(-1)!;
    expect(sent).toContain('<skipNulls>true</skipNulls>');
    expect(sent).not.toContain(fake.masterKey);
    // Same idap again: Tipalti's upsert, not a second payee.
    await tipalti.updateOrCreatePayee('tbtest42', { ...payee, city: 'Geelong' });
    expect(fake.payees.get('tbtest42')!.City).toBe('Geelong');
  });

  it('carries fields that would break a concatenated envelope exactly as given', async () => {
    const tricky = {
      ...payee,
      firstName: 'A</FirstName><Idap>evil</Idap>',
      lastName: `O'Brien & "Sons" ]]> <!-- x -->`,
      street1: '1 <b>Bold</b> St & Co',
    };
    await client().updateOrCreatePayee('tillback7', tricky);
    expect(fake.payees.get('tillback7')).toMatchObject({
      Idap: 'tillback7',
      FirstName: tricky.firstName,
      LastName: tricky.lastName,
      Street1: tricky.street1,
    });
    expect(fake.payees.has('evil')).toBe(false);
  });

  it('maps a wrong master key and an unknown payer to setup errors, storing nothing', async () => {
    const before = fake.payees.size;
    const badKey = await refusal(
      client({ masterKey: 'not-the-key' }).updateOrCreatePayee('tillback8', payee),
    );
    expect(badKey).toMatchObject({ code: 'EncryptionKeyFailedValidation', payeeFault: false });
    expect(badKey.message).toMatch(/check the configured master key/);
    const badPayer = await refusal(client({ payerName: 'Nobody' }).updateOrCreatePayee('tillback8', payee));
    expect(badPayer).toMatchObject({ code: 'PayerUnknown', payeeFault: false });
    expect(badPayer.message).toMatch(/payer name/);
    expect(fake.payees.size).toBe(before);
  });

  it("refuses an idap Tipalti's rules refuse", async () => {
    const error = await refusal(client().updateOrCreatePayee('bad-idap', payee));
    expect(error).toMatchObject({ code: 'IdapContainsIllegalCharacters', payeeFault: false });
  });

  it.each([
    [
      'ParameterError',
      'Invalid payee first name',
      /^Tipalti refused a payee field: Invalid payee first name$/,
    ],
    ['UnknownCountryCode', 'UnknownCountryCode', /^The country is not an ISO 3166 country code$/],
    [
      'CountryNotSupported',
      'Country is blocked',
      /^Tipalti does not pay to this country: Country is blocked$/,
    ],
    ['UnknownState', 'UnknownState', /^The state is not an ISO 3166 state code$/],
    ['StringContainsNonEBCDICCharacters', 'Street1', /^The address may contain only/],
  ])('maps %s to a payee error the member can fix', async (errorCode, errorMessage, message) => {
    fake.fault({ kind: 'refuse', errorCode, errorMessage });
    const error = await refusal(client().updateOrCreatePayee('tillback9', payee));
    expect(error).toMatchObject({ code: errorCode, payeeFault: true });
    expect(error.message).toMatch(message);
  });

  it('quotes an undocumented code, masking digits that look like a card number', async () => {
    fake.fault({
      kind: 'refuse',
      errorCode: 'BrandNewCode',
      errorMessage: 'card 4111 1111 1111 1111 refused',
    });
    const error = await refusal(client().updateOrCreatePayee('tillback10', payee));
    expect(error).toMatchObject({ code: 'BrandNewCode', payeeFault: false });
    expect(error.message).toBe('Tipalti refused the payee (BrandNewCode): card 411111******1111 refused');
  });

  it('masks a card-like errorCode in the code it keeps as well as in the message', async () => {
    fake.fault({ kind: 'refuse', errorCode: '4111111111111111', errorMessage: '4111111111111111' });
    const error = await refusal(client().updateOrCreatePayee('tillback10', payee));
    expect(error).toMatchObject({ code: '411111******1111', payeeFault: false });
    expect(error.message).toBe('Tipalti refused the payee (411111******1111)');
  });

  it.each([
    ['a 503', { kind: 'status', status: 503 }, /answered HTTP 503/],
    ['a SOAP fault (HTTP 500)', { kind: 'soap-fault' }, /answered HTTP 500/],
    ['an unreadable 200', { kind: 'garbage' }, /unreadable answer \(HTTP 200\)/],
    ['a hang', { kind: 'hang' }, /no answer within 300 ms/],
  ] as const)('makes %s a retryable PayoutUnavailable, storing nothing', async (_name, fault, message) => {
    fake.fault(fault);
    const error = await client({ timeoutMs: 300 })
      .updateOrCreatePayee('tillback11', payee)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect((error as Error).message).toMatch(message);
    expect(fake.payees.has('tillback11')).toBe(false);
  });

  it('makes an unreachable Tipalti a retryable PayoutUnavailable', async () => {
    const error = await client({ url: 'http://127.0.0.1:1/v6/PayeeFunctions.asmx' })
      .updateOrCreatePayee('tillback12', payee)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PayoutUnavailable);
    expect((error as Error).message).toMatch(/could not reach tipalti/);
  });

  it('names a bad option without echoing its value', () => {
    expect(() => createTipaltiPayees({ payerName: 'P', masterKey: '' })).toThrow(
      /^tipalti provider options: masterKey: masterKey is required$/,
    );
    expect(() => createTipaltiPayees({ payerName: 'P', masterKey: 'k', idapPrefix: 'has space!' })).toThrow(
      /idapPrefix: idapPrefix is 1 to 32 letters or digits/,
    );
    expect(() =>
      createTipaltiPayees({ payerName: 'P', masterKey: 'sekrit', environment: 'live' as never }),
    ).toThrow(/environment/);
    let message = '';
    try {
      createTipaltiPayees({ payerName: 'P', masterKey: 'sekrit-value', timeoutMs: -1 });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/timeoutMs/);
    expect(message).not.toContain('sekrit-value');
  });

  // Runs after the calls above (vitest keeps a file's order): every line they logged.
  it('never logs a personal field or the master key', () => {
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.some((l) => l.includes('tillback11'))).toBe(true); // the idap is what we log
    const secrets = [
      payee.firstName!,
      payee.lastName!,
      payee.email,
      payee.street1,
      payee.city,
      fake.masterKey,
    ];
    for (const line of lines) for (const s of secrets) expect(line).not.toContain(s);
  });
});

describe('the answer parser and the envelope (fast-check)', () => {
  const action = 'UpdateOrCreatePayeeInfo';
  // Strings XML 1.0 can carry: no control characters other than tab, newline (carriage returns are
  // normalised by every XML parser).
  const xmlChar = (ch: string) => {
    const c = ch.codePointAt(0)!;
    return c === 9 || c === 10 || (c >= 32 && c !== 0xfffe && c !== 0xffff);
  };
  const xmlText = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => [...s].filter(xmlChar).join(''));

  it('reads back any errorCode and errorMessage Tipalti could send', () => {
    fc.assert(
      fc.property(
        xmlText.filter((s) => s.trim().length > 0),
        xmlText,
        (code, message) => {
          const parsed = parseSoapResult(action, tipaltiAnswer(code, message));
          expect(parsed?.errorCode).toBe(code.trim());
          expect(parsed?.errorMessage ?? '').toBe(message.trim()); // the parser trims text
        },
      ),
    );
  });

  it('never throws on random or truncated text, and never takes it for OK', () => {
    const ok = tipaltiAnswer('OK', 'OK');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.nat({ max: ok.length - 1 }).map((n) => ok.slice(0, n)),
          fc.constantFrom('', '<a/>', '<Envelope><Body/></Envelope>', tipaltiAnswer('', 'x')),
        ),
        (text) => {
          const parsed = parseSoapResult(action, text);
          expect(parsed?.errorCode).not.toBe('OK');
        },
      ),
    );
  });

  it('builds envelopes whose fields parse back exactly, whatever they contain', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('FirstName', 'LastName', 'Street1', 'City'), xmlText),
        (item) => {
          const parsed = parseEnvelope(soapEnvelope(action, { idap: 'x1', item }));
          expect(parsed.idap).toBe('x1');
          expect(parsed.item ?? {}).toEqual(Object.keys(item).length ? item : {});
        },
      ),
    );
  });
});

function parseEnvelope(xml: string): { idap: string; item?: Record<string, string> } {
  const doc = new XMLParser({
    removeNSPrefix: true,
    parseTagValue: false,
    ignoreAttributes: true,
    trimValues: false,
  }).parse(xml, true);
  const call = doc.Envelope.Body.UpdateOrCreatePayeeInfo;
  return { idap: call.idap, item: call.item === '' ? {} : call.item };
}
