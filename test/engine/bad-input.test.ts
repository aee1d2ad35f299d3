// Bad input for every route of the three APIs (seed 002 loyalty, seed 004 partner, native /v1) over a
// real SQLite file: missing or wrong credentials, a missing scope, malformed JSON, an oversized body,
// the wrong content type, wrong types, zero, negative and huge amounts, too many decimals, unknown
// members, cards, programs and partners, missing fields and (native money routes) unknown fields.
// Each must be a 4xx in that API's own error shape, with a message that names the field at fault, and
// must leave the ledger exactly as it was. A fast-check property then throws random JSON at the three
// earn-side routes. A control test shows each route's base request is accepted, so every case above
// fails for the one reason it names.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordEvent } from '../../engine/domain/outbox.ts';
import { startHarness, type Harness } from './harness.ts';

type Api = 'seed002' | 'seed004' | 'native';
type Method = 'GET' | 'POST' | 'PUT';
interface Creds {
  appId: string;
  secret: string;
}
type Json = Record<string, unknown>;
interface Response {
  status: number;
  body: any;
  text: string;
}

const VISA = '4111111111111111';
const WALLET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const UNKNOWN_ID = 999_999;
const GBYTE = 1_000_000_000;
/** Above the configured bodyLimitBytes (65,536 by default). */
const OVERSIZED_BYTES = 70 * 1024;
const HIGH_LIMIT = 1_000_000;

// ---------------------------------------------------------------------------------- request building

const RAW_MARK = '@@raw@@';
/** A JSON number written into the body text exactly as given (1e20, 99999999999999999999, 1.0005). */
class Raw {
  constructor(readonly text: string) {}
  toJSON(): string {
    return `${RAW_MARK}${this.text}${RAW_MARK}`;
  }
}
const raw = (text: string) => new Raw(text);
const serialize = (value: unknown): string =>
  JSON.stringify(value).replace(new RegExp(`"${RAW_MARK}(.*?)${RAW_MARK}"`, 'g'), '$1');

// ------------------------------------------------------------------------------------------- fixture

interface Fixture {
  till: Creds;
  /** cashback_read only: lacks cashback_write and card_read. */
  readOnly: Creds;
  /** cashback_write only: lacks cashback_read and card_read. */
  writeOnly: Creds;
  admin: Creds;
  /** A partner with a 10 GBYTE deposit. */
  partner: Creds;
  /** A partner whose deposit is empty. */
  emptyPartner: Creds;
  /** An app with the partner scope that is not (yet) a partner. */
  spare: Creds;
  program: number;
  programUid: string;
  member: number;
  memberEmail: string;
  /** The member's earn on a 5000.000 TND purchase (250.000 TND cashback, room for wrongly accepted cases). */
  earnTx: number;
  other: number;
  otherToken: string;
  token: string;
  /** An OTP challenge for the member, not yet verified, and its code. */
  challenge: number;
  code: string;
  /** The claim code of a textcoin sent to an email address. */
  claimCode: string;
  takenOrder: string;
  /** A webhook delivery (refused by the address policy, so it stays pending and never leaves). */
  delivery: string;
}

let h: Harness;
let fx: Fixture;
let keySeq = 0;
const newKey = () => `bad-input-${++keySeq}`;
const credHeaders = (c: Creds) => ({ 'x-app-id': c.appId, 'x-api-key': c.secret });

async function expectOk(res: Response, status = 200): Promise<any> {
  expect(res.status, res.text).toBe(status);
  return res.body;
}

function nativePost(url: string, body: unknown, creds: Creds, headers: Record<string, string> = {}) {
  return h.request({
    method: 'POST',
    url: `/v1${url}`,
    headers: { ...credHeaders(creds), 'idempotency-key': newKey(), ...headers },
    body,
  });
}

async function memberToken(memberId: number, creds: Creds): Promise<string> {
  const otp = await expectOk(await nativePost('/otp', { member: { id: memberId } }, creds));
  const code = h.sent.at(-1)?.code ?? '';
  const verified = await expectOk(
    await nativePost('/otp/verify', { challenge_id: otp.challenge_id, code }, creds),
  );
  return verified.member_token as string;
}

async function start(): Promise<void> {
  h = await startHarness({
    defaultRateLimitPerMinute: HIGH_LIMIT,
    rates: { 'USD:GBYTE': '0.04', 'EUR:GBYTE': '0.05', 'RUR:GBYTE': '0.0005', 'BTC:GBYTE': '3000' },
  });
  const app = async (scopes: Parameters<Harness['app']>[0], appId?: string): Promise<Creds> => {
    const a = await h.app(scopes, { rateLimitPerMinute: HIGH_LIMIT, ...(appId ? { appId } : {}) });
    return { appId: a.appId, secret: a.secret };
  };
  const till = await app(['cashback_read', 'cashback_write', 'card_read']);
  const readOnly = await app(['cashback_read']);
  const writeOnly = await app(['cashback_write']);
  const admin = await app(['admin']);
  const partner = await app(['partner'], 'shop-bad-input');
  const emptyPartner = await app(['partner'], 'shop-empty');
  const spare = await app(['partner'], 'shop-spare');
  const programUid = 'CASH-BAD-INPUT';
  const program = await h.program({ uniqueIdentifier: programUid, allowsPinRedemption: true });

  const memberEmail = 'ana@example.com';
  const earned = await expectOk(
    await h.request({
      method: 'POST',
      url: '/api/v1/cashback/cashback/earn',
      headers: credHeaders(till),
      rawBody: serialize({
        card_id: program,
        email: memberEmail,
        member_name: 'Ana',
        purchase_amount: raw('5000.000'),
        reference: 'ORDER-1',
      }),
    }),
  );
  const member = earned.data.member_id as number;
  const earnTx = earned.data.transaction_id as number;
  const other = (
    await expectOk(
      await nativePost('/members', { email: 'bo@example.com', phone: '+216 20 000 001', name: 'Bo' }, till),
      201,
    )
  ).member_id as number;
  await expectOk(
    await h.request({
      method: 'PUT',
      url: `/v1/members/${member}/pin`,
      headers: { ...credHeaders(admin), 'idempotency-key': newKey() },
      body: { pin: '1234' },
    }),
  );
  const token = await memberToken(member, till);
  const otherToken = await memberToken(other, till);
  const otp = await expectOk(await nativePost('/otp', { member: { id: member } }, till));
  const code = h.sent.at(-1)?.code ?? '';

  await expectOk(await nativePost('/partners', { app_id: partner.appId, base_bps: 100 }, admin), 201);
  await expectOk(await nativePost(`/partners/${partner.appId}/deposits`, { amount: 10 * GBYTE }, admin));
  await expectOk(await nativePost('/partners', { app_id: emptyPartner.appId, base_bps: 100 }, admin), 201);
  const purchase = (order: string, address: string) =>
    h.request({
      method: 'POST',
      url: '/new_purchase',
      body: {
        partner: partner.appId,
        partner_key: partner.secret,
        customer: 'carol',
        order_id: order,
        description: 'Setup purchase',
        address,
        currency: 'USD',
        currency_amount: 20,
      },
    });
  const takenOrder = 'taken-order';
  await expectOk(await purchase(takenOrder, WALLET));
  await expectOk(await purchase('gift-order', 'gift@example.com'));
  const claimCode = h.sent.find((m) => m.kind === 'textcoin')?.code ?? '';
  expect(claimCode).not.toBe('');
  await h.store.transact((tx) =>
    recordEvent(
      tx,
      {
        type: 'claim.paid',
        subject: { kind: 'claim', id: 'clm_bad_input' },
        data: { status: 'paid' },
        targets: [{ url: 'http://127.0.0.1:9/hook', format: 'native' }],
      },
      h.clock.now,
    ),
  );
  // Its first attempt (refused) is made now; the next is due seconds later on a clock that stands still.
  await h.engine.webhooks.drain();
  const delivery = (await h.store.read((tx) => tx.row<{ id: string }>('SELECT id FROM webhook_deliveries')))
    .id;

  fx = {
    till,
    readOnly,
    writeOnly,
    admin,
    partner,
    emptyPartner,
    spare,
    program,
    programUid,
    member,
    memberEmail,
    earnTx,
    other,
    otherToken,
    token,
    challenge: otp.challenge_id as number,
    code,
    claimCode,
    takenOrder,
    delivery,
  };
}

// --------------------------------------------------------------------------------- ledger snapshot

/** Everything a rejected request must leave as it was: balances, and how many rows each table holds. */
async function snapshot() {
  return h.store.read(async (tx) => ({
    accounts: await tx.all(
      `SELECT code, currency, debits_posted, credits_posted, debits_pending, credits_pending
         FROM accounts ORDER BY id`,
    ),
    // Where PostgreSQL keeps the balance changes of shared accounts (engine/domain/ledger.ts).
    shards: await tx.all('SELECT * FROM account_shards ORDER BY account_id, shard'),
    counts: await tx.one(
      `SELECT (SELECT COUNT(*) FROM transactions) AS transactions,
              (SELECT COUNT(*) FROM transfers) AS transfers,
              (SELECT COUNT(*) FROM members) AS members,
              (SELECT COUNT(*) FROM idempotency_keys) AS idempotency_keys,
              (SELECT COUNT(*) FROM member_cards) AS member_cards,
              (SELECT COUNT(*) FROM programs) AS programs,
              (SELECT COUNT(*) FROM partners) AS partners,
              (SELECT COUNT(*) FROM partner_orders) AS partner_orders,
              (SELECT COUNT(*) FROM textcoins) AS textcoins,
              (SELECT COUNT(*) FROM earn_lots) AS earn_lots,
              (SELECT COUNT(*) FROM webhook_attempts) AS webhook_attempts`,
    ),
    deliveries: await tx.all(
      'SELECT id, status, attempts, next_attempt_at, retry_from FROM webhook_deliveries ORDER BY id',
    ),
    members: await tx.all('SELECT id, email, phone, name, pin_hash FROM members ORDER BY id'),
    textcoins: await tx.all('SELECT id, state FROM textcoins ORDER BY id'),
  }));
}

// ------------------------------------------------------------------------------------ error shapes

/** Asserts the API's error envelope (exact keys) and returns its code (undefined for seed 004) and message. */
function errorOf(api: Api, res: Response): { code: string | undefined; message: string } {
  const body = res.body as Record<string, unknown> | undefined;
  expect(body, res.text).toBeTypeOf('object');
  expect(body).not.toBeNull();
  if (api === 'seed002') {
    expect(Object.keys(body ?? {}).sort(), res.text).toEqual(['error', 'success']);
    expect(body?.['success']).toBe(false);
    const error = body?.['error'] as Record<string, unknown>;
    expect(Object.keys(error ?? {}).sort(), res.text).toEqual(['code', 'message']);
    expect(error['code']).toBeTypeOf('string');
    expect(error['message']).toBeTypeOf('string');
    return { code: error['code'] as string, message: error['message'] as string };
  }
  if (api === 'seed004') {
    expect(Object.keys(body ?? {}).sort(), res.text).toEqual(['error', 'result']);
    expect(body?.['result']).toBe('error');
    expect(body?.['error']).toBeTypeOf('string');
    return { code: undefined, message: body?.['error'] as string };
  }
  expect(Object.keys(body ?? {}), res.text).toEqual(['error']);
  const error = body?.['error'] as Record<string, unknown>;
  const keys = Object.keys(error ?? {}).sort();
  expect(['code,message', 'code,details,message'], res.text).toContain(keys.join());
  expect(error['code']).toBeTypeOf('string');
  expect(error['message']).toBeTypeOf('string');
  if ('details' in error) expect(error['details']).toBeTypeOf('object');
  return { code: error['code'] as string, message: error['message'] as string };
}

// ----------------------------------------------------------------------------------- route table

interface BadCase {
  name: string;
  /** Expected status; a list when more than one 4xx is a fair answer. */
  status: number | number[];
  /** Expected error code (seed 002 and native). */
  code?: string;
  /** Text the message must contain: the field (or scope, or header) at fault. */
  field?: string | RegExp;
  /** Credentials to send instead of the route's; null sends none. */
  creds?: Creds | null;
  /** Fields merged into the base body. */
  body?: Json;
  /** Fields removed from the base body (after the merge). */
  omit?: string[];
  /** The body text, sent as is. */
  raw?: string;
  /** Header overrides; undefined removes a header. */
  headers?: Record<string, string | undefined>;
  contentType?: string;
  /** Path parameter overrides. */
  params?: Record<string, string>;
  /** Query overrides; undefined removes a parameter. */
  query?: Record<string, string | undefined>;
}

interface RouteDef {
  api: Api;
  method: Method;
  /** With :name path parameters. */
  url: string;
  scope: string;
  /** The credentials the base request uses (default: the till app). */
  creds?: () => Creds;
  /** An app without the route's scope. */
  lacking: () => Creds;
  params?: () => Record<string, string>;
  query?: () => Record<string, string>;
  body?: () => Json;
  headers?: () => Record<string, string>;
  /** Status of the accepted base request (default 200). */
  okStatus?: number;
  cases: BadCase[];
}

const isNativeWrite = (r: RouteDef) => r.api === 'native' && r.method !== 'GET';

function buildRequest(route: RouteDef, c: Partial<BadCase> = {}) {
  const params = { ...route.params?.(), ...c.params };
  let url = route.url.replace(/:([a-z_]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const query = { ...route.query?.(), ...c.query };
  const qs = Object.entries(query)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  if (qs) url += `?${qs}`;

  const creds = c.creds === undefined ? (route.creds ?? (() => fx.till))() : c.creds;
  const headers: Record<string, string | undefined> = {
    ...(route.api !== 'seed004' && creds ? credHeaders(creds) : {}),
    ...(isNativeWrite(route) ? { 'idempotency-key': newKey() } : {}),
    ...route.headers?.(),
    ...c.headers,
  };

  let rawBody: string | undefined = c.raw;
  if (rawBody === undefined && route.body) {
    const body: Json = {
      ...(route.api === 'seed004' && creds ? { partner: creds.appId, partner_key: creds.secret } : {}),
      ...route.body(),
      ...c.body,
    };
    if (route.api === 'seed004' && c.creds === null) {
      delete body['partner'];
      delete body['partner_key'];
    }
    const omit = new Set(c.omit ?? []);
    rawBody = serialize(Object.fromEntries(Object.entries(body).filter(([k]) => !omit.has(k))));
  }
  if (rawBody !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
  const clean = Object.fromEntries(
    Object.entries(headers).filter((e): e is [string, string] => e[1] !== undefined),
  );
  return { method: route.method, url, headers: clean, ...(rawBody === undefined ? {} : { rawBody }) };
}

const send = (route: RouteDef, c: Partial<BadCase> = {}): Promise<Response> =>
  h.request(buildRequest(route, c));

// Case families -------------------------------------------------------------------------------------

const V = 'validation_error';
const UNKNOWN_DELIVERY = 'dlv_00000000-0000-4000-8000-000000000000';
/** Well-formed, and no event has it. */
const UNKNOWN_EVENT = 'evt_00000000-0000-4000-8000-000000000000';

/** Credentials: none, a wrong secret, an unknown app, an app without the scope. */
function authCases(route: Pick<RouteDef, 'api' | 'scope' | 'lacking'>): BadCase[] {
  const wrong = () => ({ appId: (route.api === 'seed004' ? fx.partner : fx.till).appId, secret: 'sk_wrong' });
  return [
    {
      name: 'no credentials',
      status: 401,
      code: 'unauthorized',
      creds: null,
      ...(route.api === 'seed004' ? { field: 'partner_key' } : {}),
    },
    {
      name: 'wrong secret',
      status: 401,
      code: 'unauthorized',
      get creds() {
        return wrong();
      },
    },
    {
      name: 'unknown app',
      status: 401,
      code: 'unauthorized',
      creds: { appId: 'app_nobody', secret: 'sk_nobody' },
    },
    {
      name: `an app without the ${route.scope} scope`,
      status: 403,
      code: 'forbidden',
      field: route.scope,
      get creds() {
        return route.lacking();
      },
    },
  ];
}

/** The body as a whole: malformed, too large, the wrong content type, not an object. */
function bodyCases(api: Api): BadCase[] {
  return [
    { name: 'malformed JSON', status: 400, code: 'malformed_json', raw: '{"card_id":' },
    {
      name: `a body over the limit (${OVERSIZED_BYTES} bytes)`,
      status: 413,
      code: 'body_too_large',
      body: { padding: 'x'.repeat(OVERSIZED_BYTES) },
    },
    {
      name: 'content type text/plain',
      status: 415,
      code: 'unsupported_media_type',
      field: 'application/json',
      contentType: 'text/plain',
    },
    // Seed 004 carries its credentials in the body, so a body that is no object has none either.
    api === 'seed004'
      ? { name: 'a JSON array instead of an object', status: [400, 401], field: 'partner', raw: '[]' }
      : { name: 'a JSON array instead of an object', status: 400, code: V, raw: '[]' },
  ];
}

/** A seed API's decimal amount in a 3-decimal currency (TND) or, with `decimals`, another. */
function decimalAmountCases(
  field: string,
  tooPrecise = '1.0005',
  opts: { required?: boolean; zero?: boolean } = {},
): BadCase[] {
  const { required = true, zero = true } = opts;
  const c = (name: string, value: unknown): BadCase => ({
    name: `${field} ${name}`,
    status: 400,
    code: V,
    field,
    body: { [field]: value },
  });
  return [
    ...(zero ? [c('zero', 0), c('zero as text "0.00"', '0.00')] : []),
    c('negative', -5),
    c('1e20', raw('1e20')),
    c('"99999999999999999999" (text)', '99999999999999999999'),
    c('99999999999999999999 (a JSON number)', raw('99999999999999999999')),
    c(`${tooPrecise} (more decimals than the currency)`, raw(tooPrecise)),
    c('an object', { value: 5 }),
    c('a boolean', true),
    c('not a number ("ten")', 'ten'),
    ...(required ? [{ name: `${field} missing`, status: 400, code: V, field, omit: [field] }] : []),
  ];
}

/** A native amount: integer minor units. */
function minorAmountCases(field: string, opts: { zero?: boolean; required?: boolean } = {}): BadCase[] {
  const { zero = true, required = true } = opts;
  const c = (name: string, value: unknown): BadCase => ({
    name: `${field} ${name}`,
    status: 400,
    code: V,
    field,
    body: { [field]: value },
  });
  return [
    ...(zero ? [c('zero', 0)] : []),
    c('negative', -5),
    c('1e20', raw('1e20')),
    c('"99999999999999999999" (text)', '99999999999999999999'),
    c('99999999999999999999 (a JSON number)', raw('99999999999999999999')),
    c('1.5 (minor units are whole)', raw('1.5')),
    c('"1000" (text for an integer)', '1000'),
    c('an object', { value: 5 }),
    ...(required ? [{ name: `${field} missing`, status: 400, code: V, field, omit: [field] }] : []),
  ];
}

/** A seed 002 integer id in the body: wrong types must not be coerced into some other id. */
function bodyIdCases(field: string, valid: () => number): BadCase[] {
  return [
    { name: `${field} "abc"`, status: 400, code: V, field, body: { [field]: 'abc' } },
    {
      name: `${field} as text (a string for an int id)`,
      status: 400,
      code: V,
      field,
      get body() {
        return { [field]: String(valid()) };
      },
    },
    { name: `${field} true (a boolean)`, status: 400, code: V, field, body: { [field]: true } },
    {
      name: `${field} [id] (an array)`,
      status: 400,
      code: V,
      field,
      get body() {
        return { [field]: [valid()] };
      },
    },
    { name: `${field} "0x1" (hex text)`, status: 400, code: V, field, body: { [field]: '0x1' } },
    { name: `${field} an object`, status: 400, code: V, field, body: { [field]: { id: 1 } } },
    { name: `${field} 0`, status: 400, code: V, field, body: { [field]: 0 } },
    { name: `${field} negative`, status: 400, code: V, field, body: { [field]: -1 } },
    { name: `${field} 1.5`, status: 400, code: V, field, body: { [field]: raw('1.5') } },
    { name: `${field} 1e20`, status: 400, code: V, field, body: { [field]: raw('1e20') } },
  ];
}

/** A native integer id in the body. */
function nativeIdCases(field: string, valid: () => number): BadCase[] {
  return [
    { name: `${field} "abc"`, status: 400, code: V, field, body: { [field]: 'abc' } },
    {
      name: `${field} as text`,
      status: 400,
      code: V,
      field,
      get body() {
        return { [field]: String(valid()) };
      },
    },
    { name: `${field} true`, status: 400, code: V, field, body: { [field]: true } },
    { name: `${field} 0`, status: 400, code: V, field, body: { [field]: 0 } },
    { name: `${field} 1.5`, status: 400, code: V, field, body: { [field]: raw('1.5') } },
    { name: `${field} missing`, status: 400, code: V, field, omit: [field] },
  ];
}

/** An integer in the query string or path. */
function textIdCases(field: string, where: 'query' | 'params'): BadCase[] {
  const c = (name: string, value: string | undefined): BadCase => ({
    name: `${field} ${name}`,
    status: 400,
    code: V,
    field,
    [where]: { [field]: value },
  });
  return [
    c('"abc"', 'abc'),
    c('0', '0'),
    c('-1', '-1'),
    c('1.5', '1.5'),
    c('99999999999999999999', '99999999999999999999'),
    c('"0x1" (hex)', '0x1'),
    ...(where === 'query' ? [c('missing', undefined)] : []),
  ];
}

const missingKey: BadCase = {
  name: 'no Idempotency-Key header',
  status: 400,
  code: V,
  field: 'Idempotency-Key',
  headers: { 'idempotency-key': undefined },
};

const unknownField = (name: string, value: unknown = 'x'): BadCase => ({
  name: `an unknown field "${name}" (a misspelt field must not be ignored)`,
  status: 400,
  code: V,
  field: name,
  body: { [name]: value },
});

/** One earn of a batch, with a key of its own. */
const batchEarn = () => ({
  type: 'earn',
  idempotency_key: newKey(),
  body: {
    program_id: fx.program,
    member: { id: fx.member },
    purchase_amount: 50_000,
    reference: 'BASE-BATCH',
  },
});

const notFound = (name: string, code: string, field: string | RegExp, over: Partial<BadCase>): BadCase => ({
  name,
  status: 404,
  code,
  field,
  ...over,
});

// The routes -----------------------------------------------------------------------------------------

const S2 = '/api/v1/cashback';

const seed002: RouteDef[] = [
  {
    api: 'seed002',
    method: 'POST',
    url: `${S2}/cashback/earn`,
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({
      card_id: fx.program,
      member_id: fx.member,
      purchase_amount: raw('50.00'),
    }),
    cases: [
      ...bodyIdCases('card_id', () => fx.program),
      { name: 'card_id missing', status: 400, code: V, field: 'card_id', omit: ['card_id'] },
      notFound('unknown card_id', 'program_not_found', /card/, { body: { card_id: UNKNOWN_ID } }),
      notFound('unknown member_id', 'member_not_found', /member/, { body: { member_id: UNKNOWN_ID } }),
      ...bodyIdCases('member_id', () => fx.member),
      notFound('unknown email without member_name', 'member_not_found', 'member_name', {
        body: { email: 'nobody@example.com' },
        omit: ['member_id'],
      }),
      {
        name: 'email not an email',
        status: 400,
        code: V,
        field: 'email',
        body: { email: 'not-an-email' },
        omit: ['member_id'],
      },
      { name: 'no member_id, email or phone', status: 400, code: V, field: 'member_id', omit: ['member_id'] },
      {
        name: 'phone not a phone number (with member_name, which would create the member)',
        status: 400,
        code: V,
        field: 'phone',
        body: { phone: 'call me', member_name: 'Caller' },
        omit: ['member_id'],
      },
      {
        name: 'member_name a number',
        status: 400,
        code: V,
        field: 'member_name',
        body: { email: 'new@example.com', member_name: 42 },
        omit: ['member_id'],
      },
      ...decimalAmountCases('purchase_amount'),
      { name: 'metadata a string', status: 400, code: V, field: 'metadata', body: { metadata: 'till 3' } },
      { name: 'reference empty', status: 400, code: V, field: 'reference', body: { reference: '' } },
    ],
  },
  {
    api: 'seed002',
    method: 'POST',
    url: `${S2}/cashback/redeem`,
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    headers: () => ({ 'x-member-token': fx.token }),
    body: () => ({ card_id: fx.program, amount: raw('1.00') }),
    cases: [
      ...bodyIdCases('card_id', () => fx.program),
      notFound('unknown card_id', 'program_not_found', /card/, { body: { card_id: UNKNOWN_ID } }),
      ...decimalAmountCases('amount'),
      {
        name: 'amount more than the balance',
        status: 422,
        code: 'insufficient_balance',
        field: 'available',
        body: { amount: raw('1000000') },
      },
      {
        name: 'neither member token nor PIN',
        status: 401,
        code: 'member_token_required',
        field: 'X-Member-Token',
        headers: { 'x-member-token': undefined },
      },
      {
        name: 'a forged member token',
        status: 401,
        code: 'member_token_invalid',
        field: 'token',
        headers: { 'x-member-token': 'eyJhbGciOiJIUzI1NiJ9.e30.forged-signature' },
      },
      {
        name: "another member's token",
        status: 401,
        code: 'member_token_invalid',
        field: 'token',
        get headers() {
          return { 'x-member-token': fx.otherToken };
        },
        get body() {
          return { member_id: fx.member };
        },
      },
      {
        name: 'x-member-token too short',
        status: 400,
        code: V,
        field: 'x-member-token',
        headers: { 'x-member-token': 'abc' },
      },
      {
        name: 'pin not digits',
        status: 400,
        code: V,
        field: 'pin',
        headers: { 'x-member-token': undefined },
        get body() {
          return { member_id: fx.member, pin: '12ab' };
        },
      },
      {
        name: 'pin a number',
        status: 400,
        code: V,
        field: 'pin',
        headers: { 'x-member-token': undefined },
        get body() {
          return { member_id: fx.member, pin: 1234 };
        },
      },
      {
        name: 'a wrong PIN',
        status: 401,
        code: 'pin_invalid',
        field: 'PIN',
        headers: { 'x-member-token': undefined },
        get body() {
          return { member_id: fx.member, pin: '9999' };
        },
      },
      notFound('a PIN for an unknown member', 'member_not_found', /member/, {
        headers: { 'x-member-token': undefined },
        body: { member_id: UNKNOWN_ID, pin: '1234' },
      }),
    ],
  },
  {
    api: 'seed002',
    method: 'GET',
    url: `${S2}/cashback/balance`,
    scope: 'cashback_read',
    lacking: () => fx.writeOnly,
    query: () => ({ card_id: String(fx.program), member_id: String(fx.member) }),
    cases: [
      ...textIdCases('card_id', 'query'),
      ...textIdCases('member_id', 'query'),
      notFound('unknown card_id', 'program_not_found', /card/, { query: { card_id: String(UNKNOWN_ID) } }),
      notFound('unknown member_id', 'member_not_found', /member/, {
        query: { member_id: String(UNKNOWN_ID) },
      }),
    ],
  },
  {
    api: 'seed002',
    method: 'GET',
    url: `${S2}/cashback/history`,
    scope: 'cashback_read',
    lacking: () => fx.writeOnly,
    query: () => ({ card_id: String(fx.program), member_id: String(fx.member), limit: '20', offset: '0' }),
    cases: [
      ...textIdCases('card_id', 'query'),
      ...textIdCases('member_id', 'query'),
      notFound('unknown card_id', 'program_not_found', /card/, { query: { card_id: String(UNKNOWN_ID) } }),
      notFound('unknown member_id', 'member_not_found', /member/, {
        query: { member_id: String(UNKNOWN_ID) },
      }),
      { name: 'limit 0', status: 400, code: V, field: 'limit', query: { limit: '0' } },
      { name: 'limit 101', status: 400, code: V, field: 'limit', query: { limit: '101' } },
      { name: 'limit "abc"', status: 400, code: V, field: 'limit', query: { limit: 'abc' } },
      { name: 'offset -1', status: 400, code: V, field: 'offset', query: { offset: '-1' } },
      { name: 'offset "abc"', status: 400, code: V, field: 'offset', query: { offset: 'abc' } },
      { name: 'before "abc"', status: 400, code: V, field: 'before', query: { before: 'abc' } },
    ],
  },
  {
    api: 'seed002',
    method: 'POST',
    url: `${S2}/cashback/refund`,
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({
      card_id: fx.program,
      member_id: fx.member,
      refund_amount: raw('10.00'),
    }),
    cases: [
      ...bodyIdCases('card_id', () => fx.program),
      notFound('unknown card_id', 'program_not_found', /card/, { body: { card_id: UNKNOWN_ID } }),
      notFound('unknown member_id', 'member_not_found', /member/, { body: { member_id: UNKNOWN_ID } }),
      { name: 'no member_id, email or phone', status: 400, code: V, field: 'member_id', omit: ['member_id'] },
      ...decimalAmountCases('refund_amount'),
      ...decimalAmountCases('cashback_to_deduct', '1.0005', { required: false, zero: false }),
      {
        name: 'cashback_to_deduct far above refund_amount (999999999999.999 for a 1.000 refund)',
        status: [400, 422],
        field: 'cashback_to_deduct',
        body: { refund_amount: raw('1.000'), cashback_to_deduct: raw('999999999999.999') },
      },
      notFound('unknown original_transaction_id', 'transaction_not_found', /original/, {
        body: { original_transaction_id: UNKNOWN_ID },
      }),
      {
        name: 'original_transaction_id "abc"',
        status: 400,
        code: V,
        field: 'original_transaction_id',
        body: { original_transaction_id: 'abc' },
      },
      notFound('unknown original_reference', 'transaction_not_found', /original/, {
        body: { original_reference: 'NO-SUCH-ORDER' },
      }),
      {
        name: 'refund_amount above the original purchase',
        status: 422,
        code: 'refund_exceeds_purchase',
        field: 'purchase',
        get body() {
          return { original_transaction_id: fx.earnTx, refund_amount: raw('5000.001') };
        },
      },
    ],
  },
  {
    api: 'seed002',
    method: 'GET',
    url: `${S2}/cards`,
    scope: 'card_read',
    lacking: () => fx.writeOnly,
    cases: [],
  },
];

const seed004: RouteDef[] = [
  {
    api: 'seed004',
    method: 'POST',
    url: '/new_purchase',
    scope: 'partner',
    creds: () => fx.partner,
    lacking: () => fx.readOnly,
    body: () => ({
      customer: 'alice',
      order_id: 'base-order',
      description: 'Coffee and cake',
      merchant: 'cafe-7',
      address: WALLET,
      currency: 'USD',
      currency_amount: raw('100.00'),
      partner_cashback_percentage: 1,
    }),
    cases: [
      {
        name: 'partner_key missing',
        status: 401,
        field: 'partner_key',
        omit: ['partner_key'],
      },
      { name: 'partner missing', status: 401, field: 'partner', omit: ['partner'] },
      { name: 'partner_key a number', status: 401, field: 'partner_key', body: { partner_key: 12345 } },
      {
        name: 'an app with the partner scope that is not a partner',
        status: [401, 403, 404],
        field: 'partner',
        get creds() {
          return fx.spare;
        },
      },
      ...decimalAmountCases('currency_amount', '1.005'),
      {
        name: 'currency_amount too large once converted (9999999999999.99 USD)',
        status: 400,
        field: 'currency_amount',
        body: { currency_amount: raw('9999999999999.99') },
      },
      { name: 'currency JPY (unsupported)', status: 400, field: 'currency', body: { currency: 'JPY' } },
      { name: 'currency "usd" (lower case)', status: 400, field: 'currency', body: { currency: 'usd' } },
      { name: 'currency a number', status: 400, field: 'currency', body: { currency: 840 } },
      { name: 'currency missing', status: 400, field: 'currency', omit: ['currency'] },
      {
        name: 'address neither wallet nor email',
        status: 400,
        field: 'address',
        body: { address: 'not-an-address' },
      },
      { name: 'address a number', status: 400, field: 'address', body: { address: 12345 } },
      { name: 'address missing', status: 400, field: 'address', omit: ['address'] },
      { name: 'customer missing', status: 400, field: 'customer', omit: ['customer'] },
      { name: 'customer empty', status: 400, field: 'customer', body: { customer: '' } },
      { name: 'customer an object', status: 400, field: 'customer', body: { customer: { id: 1 } } },
      { name: 'order_id missing', status: 400, field: 'order_id', omit: ['order_id'] },
      { name: 'order_id a number', status: 400, field: 'order_id', body: { order_id: 42 } },
      {
        name: 'order_id already used',
        status: 409,
        field: 'order',
        get body() {
          return { order_id: fx.takenOrder };
        },
      },
      { name: 'description a number', status: 400, field: 'description', body: { description: 123 } },
      {
        name: 'partner_cashback_percentage negative',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: -1 },
      },
      {
        name: 'partner_cashback_percentage "abc"',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: 'abc' },
      },
      {
        name: 'partner_cashback_percentage 1.005 (too many decimals)',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: raw('1.005') },
      },
      {
        name: 'partner_cashback_percentage 1e20',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: raw('1e20') },
      },
      {
        name: 'partner_cashback_percentage above the partner maximum (50)',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: 50 },
      },
      {
        name: 'partner_cashback_percentage an object',
        status: 400,
        field: 'partner_cashback_percentage',
        body: { partner_cashback_percentage: { pct: 1 } },
      },
      {
        name: 'partner_cashback_percentage > 0 with an empty deposit',
        status: 422,
        field: 'deposit',
        get creds() {
          return fx.emptyPartner;
        },
        body: { partner_cashback_percentage: 5 },
      },
    ],
  },
];

const memberRefCases = (): BadCase[] => [
  notFound('unknown member id', 'member_not_found', /member/, { body: { member: { id: UNKNOWN_ID } } }),
  notFound('unknown member email', 'member_not_found', /member/, {
    body: { member: { email: 'nobody@example.com' } },
  }),
  { name: 'member {}', status: 400, code: V, field: 'member', body: { member: {} } },
  {
    name: 'member named two ways',
    status: 400,
    code: V,
    field: 'member',
    get body() {
      return { member: { id: fx.member, email: fx.memberEmail } };
    },
  },
  {
    name: 'member with an unknown field',
    status: 400,
    code: V,
    field: 'nickname',
    get body() {
      return { member: { id: fx.member, nickname: 'Ana' } };
    },
  },
  { name: 'member a string', status: 400, code: V, field: 'member', body: { member: 'ana@example.com' } },
  {
    name: 'member card with a bad PAN',
    status: 400,
    code: V,
    field: 'pan',
    body: { member: { card: { pan: '1234' } } },
  },
  { name: 'member id "abc"', status: 400, code: V, field: 'member.id', body: { member: { id: 'abc' } } },
  notFound('unknown member card hash', 'member_not_found', /member/, {
    body: { member: { card: { hash: 'ab'.repeat(32) } } },
  }),
  {
    name: 'member card hash in upper case',
    status: 400,
    code: V,
    field: 'member.card.hash',
    body: { member: { card: { hash: 'AB'.repeat(32) } } },
  },
  {
    name: 'member card with pan and hash',
    status: 400,
    code: V,
    field: 'member.card',
    body: { member: { card: { pan: '4111111111111111', hash: 'ab'.repeat(32) } } },
  },
  notFound('unknown member external_id', 'member_not_found', /member/, {
    body: { member: { external_id: 'TB-M-0000000' } },
  }),
  {
    name: 'member external_id all digits',
    status: 400,
    code: V,
    field: 'member.external_id',
    body: { member: { external_id: '12345' } },
  },
];

const programIdCases = (): BadCase[] => [
  ...nativeIdCases('program_id', () => fx.program),
  notFound('unknown program_id', 'program_not_found', /program/, { body: { program_id: UNKNOWN_ID } }),
];

const native: RouteDef[] = [
  {
    api: 'native',
    method: 'POST',
    url: '/v1/earn',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({
      program_id: fx.program,
      member: { id: fx.member },
      purchase_amount: 50_000,
      reference: 'BASE-EARN',
    }),
    cases: [
      missingKey,
      ...programIdCases(),
      ...memberRefCases(),
      { name: 'member missing', status: 400, code: V, field: 'member', omit: ['member'] },
      {
        name: 'member phone not a phone number (with member_name, which would create the member)',
        status: 400,
        code: V,
        field: 'phone',
        body: { member: { phone: 'call me' }, member_name: 'Caller' },
      },
      ...minorAmountCases('purchase_amount'),
      unknownField('refrence'),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/redeem',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    headers: () => ({ 'x-member-token': fx.token }),
    body: () => ({ program_id: fx.program, amount: 1_000 }),
    cases: [
      missingKey,
      ...programIdCases(),
      ...minorAmountCases('amount'),
      {
        name: 'amount more than the balance',
        status: 422,
        code: 'insufficient_balance',
        field: 'available',
        body: { amount: 1_000_000_000 },
      },
      {
        name: 'neither member token nor PIN',
        status: 401,
        code: 'member_token_required',
        field: 'X-Member-Token',
        headers: { 'x-member-token': undefined },
        get body() {
          return { member: { id: fx.member } };
        },
      },
      {
        name: 'a forged member token',
        status: 401,
        code: 'member_token_invalid',
        field: 'token',
        headers: { 'x-member-token': 'eyJhbGciOiJIUzI1NiJ9.e30.forged-signature' },
      },
      {
        name: "another member's token",
        status: 401,
        code: 'member_token_invalid',
        field: 'token',
        get headers() {
          return { 'x-member-token': fx.otherToken };
        },
        get body() {
          return { member: { id: fx.member } };
        },
      },
      {
        name: 'pin not digits',
        status: 400,
        code: V,
        field: 'pin',
        headers: { 'x-member-token': undefined },
        get body() {
          return { member: { id: fx.member }, pin: 'abcd' };
        },
      },
      ...memberRefCases().filter((c) => c.status === 400),
      unknownField('pinn', '1234'),
      {
        name: 'pin_block with the member not named by card number',
        status: 400,
        code: V,
        field: 'pin_block',
        get body() {
          return {
            member: { id: fx.member },
            pin_block: { format: 'iso0-tdes-dukpt', ksn: 'FFFF9876543210E00001', block: '1B9C1845EB993A7A' },
          };
        },
      },
      {
        name: 'pin and pin_block',
        status: 400,
        code: V,
        field: 'pin_block',
        body: {
          member: { card: { pan: '4111111111111111' } },
          pin: '1234',
          pin_block: { format: 'iso0-tdes-dukpt', ksn: 'FFFF9876543210E00001', block: '1B9C1845EB993A7A' },
        },
      },
      {
        name: 'pin_block of an unknown format',
        status: 400,
        code: V,
        field: 'pin_block.format',
        body: {
          member: { card: { pan: '4111111111111111' } },
          pin_block: { format: 'iso1', ksn: 'FFFF9876543210E00001', block: '1B9C1845EB993A7A' },
        },
      },
      {
        name: 'pin_block not hex',
        status: 400,
        code: V,
        field: 'pin_block.block',
        body: {
          member: { card: { pan: '4111111111111111' } },
          pin_block: { format: 'iso0-tdes-dukpt', ksn: 'FFFF9876543210E00001', block: 'not a pin block!' },
        },
      },
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/refund',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({
      program_id: fx.program,
      member: { id: fx.member },
      refund_amount: 10_000,
      reference: 'BASE-REFUND',
    }),
    cases: [
      missingKey,
      ...programIdCases(),
      ...memberRefCases(),
      ...minorAmountCases('refund_amount'),
      ...minorAmountCases('cashback_to_deduct', { zero: false, required: false }),
      {
        name: 'cashback_to_deduct far above refund_amount (999999999999999 for a 1000 refund)',
        status: [400, 422],
        field: 'cashback_to_deduct',
        body: { refund_amount: 1_000, cashback_to_deduct: 999_999_999_999_999 },
      },
      notFound('unknown original_transaction_id', 'transaction_not_found', /original/, {
        body: { original_transaction_id: UNKNOWN_ID },
      }),
      {
        name: 'both original_transaction_id and original_reference',
        status: 400,
        code: V,
        field: 'original_',
        get body() {
          return { original_transaction_id: fx.earnTx, original_reference: 'ORDER-1' };
        },
      },
      {
        name: 'refund_amount above the original purchase',
        status: 422,
        code: 'refund_exceeds_purchase',
        field: 'purchase',
        get body() {
          return { original_transaction_id: fx.earnTx, refund_amount: 5_000_001 };
        },
      },
      unknownField('cashback_to_deduc', 5),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/batch',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    // Each operation carries its own key; an operation the engine refuses is answered in the 200's
    // results (test/engine/native-batch.test.ts). Here: batches refused as a whole.
    body: () => ({ operations: [batchEarn()] }),
    cases: [
      { name: 'no operations', status: 400, code: V, field: 'operations', body: { operations: [] } },
      {
        name: 'more than 100 operations',
        status: 400,
        code: V,
        field: 'operations',
        get body() {
          return { operations: Array.from({ length: 101 }, batchEarn) };
        },
      },
      { name: 'operations missing', status: 400, code: V, field: 'operations', omit: ['operations'] },
      {
        name: 'an operation of an unknown type',
        status: 400,
        code: V,
        field: 'operations.0.type',
        get body() {
          return { operations: [{ ...batchEarn(), type: 'redeem' }] };
        },
      },
      {
        name: 'an operation without its idempotency_key',
        status: 400,
        code: V,
        field: 'operations.0.idempotency_key',
        get body() {
          const { idempotency_key: _omitted, ...op } = batchEarn();
          return { operations: [op] };
        },
      },
      {
        name: 'an operation whose body is not an object',
        status: 400,
        code: V,
        field: 'operations.0.body',
        get body() {
          return { operations: [{ ...batchEarn(), body: 'earn 5' }] };
        },
      },
      unknownField('idempotency_key'),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/adjustments',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    body: () => ({
      program_id: fx.program,
      member: { id: fx.member },
      amount: 100,
      reason: 'goodwill gesture',
    }),
    cases: [
      missingKey,
      ...programIdCases(),
      ...memberRefCases(),
      ...minorAmountCases('amount').filter((c) => c.name !== 'amount negative'),
      {
        name: 'amount debiting more than the balance',
        status: 422,
        code: 'insufficient_balance',
        body: { amount: -1_000_000_000 },
      },
      { name: 'reason missing', status: 400, code: V, field: 'reason', omit: ['reason'] },
      { name: 'reason too short', status: 400, code: V, field: 'reason', body: { reason: 'ok' } },
      { name: 'reason only spaces', status: 400, code: V, field: 'reason', body: { reason: '     ' } },
      { name: 'reason a number', status: 400, code: V, field: 'reason', body: { reason: 12345 } },
      unknownField('referense'),
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/members/lookup',
    scope: 'cashback_read',
    lacking: () => fx.writeOnly,
    query: () => ({ program_id: String(fx.program), email: fx.memberEmail }),
    cases: [
      ...textIdCases('program_id', 'query'),
      notFound('unknown program_id', 'program_not_found', /program/, {
        query: { program_id: String(UNKNOWN_ID) },
      }),
      notFound('unknown email', 'member_not_found', /member/, { query: { email: 'nobody@example.com' } }),
      notFound('unknown card_hash', 'member_not_found', /member/, {
        query: { email: undefined, card_hash: 'ab'.repeat(32) },
      }),
      { name: 'no member named', status: 400, code: V, field: 'external_id', query: { email: undefined } },
      {
        name: 'member named two ways',
        status: 400,
        code: V,
        field: 'card_hash',
        query: { phone: '+61412345678' },
      },
      {
        name: 'card_hash not 64 hex digits',
        status: 400,
        code: V,
        field: 'card_hash',
        query: { email: undefined, card_hash: 'abc' },
      },
      {
        name: 'external_id all digits',
        status: 400,
        code: V,
        field: 'external_id',
        query: { email: undefined, external_id: '12345' },
      },
      {
        name: 'a card number (never in a URL)',
        status: 400,
        code: V,
        field: 'pan',
        query: { email: undefined, pan: '4111111111111111' },
      },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/members/:id/balance',
    scope: 'cashback_read',
    lacking: () => fx.writeOnly,
    params: () => ({ id: String(fx.member) }),
    query: () => ({ program_id: String(fx.program) }),
    cases: [
      ...textIdCases('id', 'params'),
      ...textIdCases('program_id', 'query'),
      notFound('unknown member id', 'member_not_found', /member/, { params: { id: String(UNKNOWN_ID) } }),
      notFound('unknown program_id', 'program_not_found', /program/, {
        query: { program_id: String(UNKNOWN_ID) },
      }),
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/members/:id/history',
    scope: 'cashback_read',
    lacking: () => fx.writeOnly,
    params: () => ({ id: String(fx.member) }),
    query: () => ({ program_id: String(fx.program), limit: '20' }),
    cases: [
      ...textIdCases('id', 'params'),
      ...textIdCases('program_id', 'query'),
      notFound('unknown member id', 'member_not_found', /member/, { params: { id: String(UNKNOWN_ID) } }),
      notFound('unknown program_id', 'program_not_found', /program/, {
        query: { program_id: String(UNKNOWN_ID) },
      }),
      { name: 'limit 0', status: 400, code: V, field: 'limit', query: { limit: '0' } },
      { name: 'limit 101', status: 400, code: V, field: 'limit', query: { limit: '101' } },
      { name: 'offset -1', status: 400, code: V, field: 'offset', query: { offset: '-1' } },
      {
        name: 'offset and before together',
        status: 400,
        code: V,
        field: 'before',
        query: { offset: '0', before: '5' },
      },
      { name: 'before "abc"', status: 400, code: V, field: 'before', query: { before: 'abc' } },
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/members',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    okStatus: 201,
    body: () => ({ email: 'new-member@example.com', name: 'New member' }),
    cases: [
      missingKey,
      { name: 'email not an email', status: 400, code: V, field: 'email', body: { email: 'not-an-email' } },
      { name: 'email a number', status: 400, code: V, field: 'email', body: { email: 42 } },
      { name: 'neither email nor phone', status: 400, code: V, field: 'email', omit: ['email'] },
      { name: 'phone too short', status: 400, code: V, field: 'phone', body: { phone: '1' } },
      {
        name: 'phone not a phone number',
        status: 400,
        code: V,
        field: 'phone',
        body: { phone: 'call me maybe' },
      },
      { name: 'name empty', status: 400, code: V, field: 'name', body: { name: '' } },
      {
        name: "an existing member's email",
        status: 409,
        code: 'conflict',
        field: 'email',
        get body() {
          return { email: fx.memberEmail };
        },
      },
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/members/:id/cards',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    okStatus: 201,
    params: () => ({ id: String(fx.member) }),
    body: () => ({ pan: VISA }),
    cases: [
      missingKey,
      {
        name: 'pan failing the Luhn check',
        status: 400,
        code: V,
        field: 'pan',
        body: { pan: '4111111111111112' },
      },
      { name: 'pan as a JSON number', status: 400, code: V, field: 'pan', body: { pan: raw(VISA) } },
      { name: 'pan letters', status: 400, code: V, field: 'pan', body: { pan: 'abcd-efgh' } },
      { name: 'pan missing', status: 400, code: V, field: 'pan', omit: ['pan'] },
      { name: 'an unknown field', status: 400, code: V, field: 'cvv', body: { cvv: '123' } },
      ...textIdCases('id', 'params'),
      notFound('unknown member id', 'member_not_found', /member/, { params: { id: String(UNKNOWN_ID) } }),
    ],
  },
  {
    api: 'native',
    method: 'PUT',
    url: '/v1/members/:id/pin',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    params: () => ({ id: String(fx.member) }),
    headers: () => ({ 'x-member-token': fx.token }),
    body: () => ({ pin: '4321' }),
    cases: [
      missingKey,
      { name: 'pin not digits', status: 400, code: V, field: 'pin', body: { pin: 'abcd' } },
      { name: 'pin a number', status: 400, code: V, field: 'pin', body: { pin: 4321 } },
      { name: 'pin too short', status: 400, code: V, field: 'pin', body: { pin: '123' } },
      { name: 'pin missing', status: 400, code: V, field: 'pin', omit: ['pin'] },
      { name: 'an unknown field', status: 400, code: V, field: 'old_pin', body: { old_pin: '1234' } },
      {
        name: 'no member token (and not an admin app)',
        status: 401,
        code: 'member_token_required',
        field: 'X-Member-Token',
        headers: { 'x-member-token': undefined },
      },
      {
        name: "another member's token",
        status: 401,
        code: 'member_token_invalid',
        field: 'token',
        get headers() {
          return { 'x-member-token': fx.otherToken };
        },
      },
      {
        name: 'unknown member id (admin app)',
        status: 404,
        code: 'member_not_found',
        field: /member/,
        params: { id: String(UNKNOWN_ID) },
        headers: { 'x-member-token': undefined },
        get creds() {
          return fx.admin;
        },
      },
      ...textIdCases('id', 'params'),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/otp',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({ member: { id: fx.member } }),
    cases: [
      missingKey,
      ...memberRefCases(),
      { name: 'member missing', status: 400, code: V, field: 'member', omit: ['member'] },
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/otp/verify',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({ challenge_id: fx.challenge, code: fx.code }),
    cases: [
      missingKey,
      ...nativeIdCases('challenge_id', () => fx.challenge),
      { name: 'unknown challenge_id', status: 401, code: 'otp_invalid', body: { challenge_id: UNKNOWN_ID } },
      { name: 'code 2 digits', status: 400, code: V, field: 'code', body: { code: '12' } },
      { name: 'code a number', status: 400, code: V, field: 'code', body: { code: 123456 } },
      { name: 'code missing', status: 400, code: V, field: 'code', omit: ['code'] },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/programs',
    scope: 'card_read',
    lacking: () => fx.writeOnly,
    cases: [],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/programs',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    okStatus: 201,
    body: () => ({ unique_identifier: 'CASH-NEW', name: 'New card', currency: 'USD', cashback_bps: 500 }),
    cases: [
      missingKey,
      { name: 'currency XYZ (unknown)', status: 400, code: V, field: 'currency', body: { currency: 'XYZ' } },
      { name: 'currency "usd" (lower case)', status: 400, code: V, field: 'USD', body: { currency: 'usd' } },
      { name: 'currency missing', status: 400, code: V, field: 'currency', omit: ['currency'] },
      {
        name: 'cashback_bps 10001',
        status: 400,
        code: V,
        field: 'cashback_bps',
        body: { cashback_bps: 10_001 },
      },
      {
        name: 'cashback_bps negative',
        status: 400,
        code: V,
        field: 'cashback_bps',
        body: { cashback_bps: -1 },
      },
      {
        name: 'cashback_bps 1.5',
        status: 400,
        code: V,
        field: 'cashback_bps',
        body: { cashback_bps: raw('1.5') },
      },
      {
        name: 'cashback_bps as text',
        status: 400,
        code: V,
        field: 'cashback_bps',
        body: { cashback_bps: '500' },
      },
      {
        name: 'min_purchase negative',
        status: 400,
        code: V,
        field: 'min_purchase',
        body: { min_purchase: -1 },
      },
      {
        name: 'min_purchase 1e20',
        status: 400,
        code: V,
        field: 'min_purchase',
        body: { min_purchase: raw('1e20') },
      },
      { name: 'max_cashback 0', status: 400, code: V, field: 'max_cashback', body: { max_cashback: 0 } },
      {
        name: 'max_cashback 1.5',
        status: 400,
        code: V,
        field: 'max_cashback',
        body: { max_cashback: raw('1.5') },
      },
      {
        name: 'maturation_days negative',
        status: 400,
        code: V,
        field: 'maturation_days',
        body: { maturation_days: -1 },
      },
      {
        name: 'expiry_days not after maturation_days',
        status: 400,
        code: V,
        field: 'expiry_days',
        body: { maturation_days: 10, expiry_days: 5 },
      },
      { name: 'name missing', status: 400, code: V, field: 'name', omit: ['name'] },
      {
        name: 'unique_identifier already taken',
        status: 409,
        code: 'conflict',
        get field() {
          return fx.programUid;
        },
        get body() {
          return { unique_identifier: fx.programUid };
        },
      },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/partners',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    cases: [],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/partners',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    okStatus: 201,
    body: () => ({ app_id: fx.spare.appId, base_bps: 100 }),
    cases: [
      missingKey,
      notFound('unknown app_id', 'not_found', 'no-such-app', { body: { app_id: 'no-such-app' } }),
      {
        name: 'an app without the partner scope',
        status: 400,
        code: V,
        field: 'partner',
        get body() {
          return { app_id: fx.till.appId };
        },
      },
      {
        name: 'an app that is already a partner',
        status: 409,
        code: 'conflict',
        field: 'partner',
        get body() {
          return { app_id: fx.partner.appId };
        },
      },
      { name: 'app_id too short', status: 400, code: V, field: 'app_id', body: { app_id: 'x' } },
      { name: 'base_bps 10001', status: 400, code: V, field: 'base_bps', body: { base_bps: 10_001 } },
      { name: 'base_bps negative', status: 400, code: V, field: 'base_bps', body: { base_bps: -1 } },
      { name: 'base_bps as text', status: 400, code: V, field: 'base_bps', body: { base_bps: '100' } },
      { name: 'base_bps missing', status: 400, code: V, field: 'base_bps', omit: ['base_bps'] },
      {
        name: 'max_partner_bps 20000',
        status: 400,
        code: V,
        field: 'max_partner_bps',
        body: { max_partner_bps: 20_000 },
      },
      { name: 'unit XYZ', status: 400, code: V, field: 'unit', body: { unit: 'XYZ' } },
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/partners/:app_id/deposits',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    params: () => ({ app_id: fx.partner.appId }),
    body: () => ({ amount: 1_000, reference: 'WIRE-BASE' }),
    cases: [
      missingKey,
      ...minorAmountCases('amount'),
      notFound('unknown app_id', 'not_found', 'no-such-app', { params: { app_id: 'no-such-app' } }),
      {
        name: 'an app that is not a partner',
        status: 404,
        code: 'not_found',
        field: 'partner',
        get params() {
          return { app_id: fx.till.appId };
        },
      },
      { name: 'app_id too short (path)', status: 400, code: V, field: 'app_id', params: { app_id: 'x' } },
      unknownField('amout', 5),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/textcoins/claim',
    scope: 'cashback_write',
    lacking: () => fx.readOnly,
    body: () => ({ claim_code: fx.claimCode, address: WALLET }),
    cases: [
      missingKey,
      notFound('unknown claim_code', 'not_found', 'claim code', {
        body: { claim_code: 'no-such-claim-code' },
      }),
      { name: 'claim_code a number', status: 400, code: V, field: 'claim_code', body: { claim_code: 42 } },
      { name: 'claim_code empty', status: 400, code: V, field: 'claim_code', body: { claim_code: '' } },
      { name: 'claim_code missing', status: 400, code: V, field: 'claim_code', omit: ['claim_code'] },
      {
        name: 'address not a wallet',
        status: 400,
        code: V,
        field: 'address',
        body: { address: 'not-a-wallet' },
      },
      {
        name: 'address an email',
        status: 400,
        code: V,
        field: 'address',
        body: { address: 'friend@example.com' },
      },
      { name: 'address missing', status: 400, code: V, field: 'address', omit: ['address'] },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/ledger/verify',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    cases: [],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/reports/tills',
    scope: 'admin',
    creds: () => fx.admin,
    lacking: () => fx.till,
    query: () => ({ from: '2026-01-01', to: '2026-02-01' }),
    cases: [
      { name: 'from missing', status: 400, code: V, field: 'from', query: { from: undefined } },
      { name: 'from not a date', status: 400, code: V, field: 'from', query: { from: 'yesterday' } },
      { name: 'to an impossible date', status: 400, code: V, field: 'to', query: { to: '2026-02-30' } },
      {
        name: 'to with a local offset',
        status: 400,
        code: V,
        field: 'to',
        query: { to: '2026-02-01T00:00:00+02:00' },
      },
      { name: 'to before from', status: 400, code: V, field: 'from', query: { to: '2025-12-31' } },
      { name: 'more than 366 days', status: 400, code: V, field: '366', query: { to: '2027-01-03' } },
      { name: 'an unknown parameter', status: 400, code: V, field: 'store', query: { store: 'Main St' } },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/webhooks/deliveries',
    scope: 'webhooks',
    creds: () => fx.admin,
    lacking: () => fx.till,
    query: () => ({ status: 'pending', limit: '10' }),
    cases: [
      { name: 'status unknown', status: 400, code: V, field: 'status', query: { status: 'lost' } },
      { name: 'limit 0', status: 400, code: V, field: 'limit', query: { limit: '0' } },
      { name: 'limit 501', status: 400, code: V, field: 'limit', query: { limit: '501' } },
      { name: 'offset "x"', status: 400, code: V, field: 'offset', query: { offset: 'x' } },
      { name: 'an unknown parameter', status: 400, code: V, field: 'state', query: { state: 'failed' } },
    ],
  },
  {
    api: 'native',
    method: 'GET',
    url: '/v1/webhooks/deliveries/:id',
    scope: 'webhooks',
    creds: () => fx.admin,
    lacking: () => fx.till,
    params: () => ({ id: fx.delivery }),
    cases: [
      { name: 'id not a delivery id', status: 400, code: V, field: 'id', params: { id: 'nope' } },
      { name: 'an event id', status: 400, code: V, field: 'id', params: { id: UNKNOWN_EVENT } },
      notFound('unknown delivery', 'not_found', /dlv_/, { params: { id: UNKNOWN_DELIVERY } }),
    ],
  },
  {
    api: 'native',
    method: 'POST',
    url: '/v1/webhooks/resend/:id',
    scope: 'webhooks',
    creds: () => fx.admin,
    lacking: () => fx.till,
    params: () => ({ id: fx.delivery }),
    body: () => ({}),
    okStatus: 202,
    cases: [
      missingKey,
      unknownField('delay', 5),
      { name: 'id neither dlv_ nor evt_', status: 400, code: V, field: 'id', params: { id: 'clm_1' } },
      notFound('unknown delivery', 'not_found', /dlv_/, { params: { id: UNKNOWN_DELIVERY } }),
      notFound('unknown event', 'not_found', /evt_/, { params: { id: UNKNOWN_EVENT } }),
    ],
  },
];

const ROUTES: RouteDef[] = [...seed002, ...seed004, ...native];

const routeName = (r: RouteDef) => `${r.method} ${r.url}`;
const allCases = (r: RouteDef): BadCase[] => [
  ...authCases(r),
  ...(r.method === 'GET' ? [] : bodyCases(r.api)),
  ...r.cases,
];
async function expectRejected(route: RouteDef, c: BadCase): Promise<void> {
  const before = await snapshot();
  const res = await send(route, c);
  const shown = res.text.slice(0, 500);
  const statuses = Array.isArray(c.status) ? c.status : [c.status];
  expect.soft(statuses, `status ${res.status}: ${shown}`).toContain(res.status);
  expect.soft(res.status, shown).toBeGreaterThanOrEqual(400);
  expect.soft(res.status, shown).toBeLessThan(500);
  const { code, message } = errorOf(route.api, res);
  expect.soft(message.trim(), 'a non-empty message').not.toBe('');
  expect.soft(message).not.toMatch(/internal error/i);
  if (c.code && route.api !== 'seed004') expect.soft(code, shown).toBe(c.code);
  if (typeof c.field === 'string')
    expect.soft(message, 'the message names what is at fault').toContain(c.field);
  else if (c.field) expect.soft(message, 'the message names what is at fault').toMatch(c.field);
  expect(await snapshot(), 'the ledger is unchanged').toEqual(before);
}

describe('the sweep covers every route the three APIs register (except GET /health)', () => {
  beforeAll(start);
  afterAll(() => h.close());

  it('lists each registered route once', async () => {
    await h.engine.app.ready();
    const doc = h.engine.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    const registered = Object.entries(doc.paths)
      .flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{([a-z_]+)\}/g, ':$1')}`),
      )
      .filter((r) => r !== 'GET /health')
      // Cashout claim and seed 000/001/003 routes have their bad-input tables in claims.test.ts,
      // seed-000.test.ts, seed-001.test.ts, seed-003.test.ts and seed-003-link.test.ts; the PayPal
      // webhook (registered only with PayPal configured) has its own in paypal-payouts.test.ts.
      .filter((r) => !/ \/(v1\/claims|v1\/public\/claims|cashout|api\/v2\/cashbacks)\b/.test(r));
    expect(registered).toHaveLength(31);
    expect(ROUTES.map(routeName).sort()).toEqual(registered.sort());
    for (const route of ROUTES) {
      expect(h.engine.app.hasRoute({ method: route.method, url: route.url }), routeName(route)).toBe(true);
    }
  });
});

// One engine per route: a case that is wrongly accepted cannot disturb another route's cases.
describe.each(ROUTES.map((r) => [routeName(r), r] as const))('bad input on %s', (_name, route) => {
  beforeAll(start);
  afterAll(() => h.close());

  it.each(allCases(route).map((c) => [c.name, c] as const))('%s', (_case, c) => expectRejected(route, c));

  it('leaves a ledger that verifies', async () => {
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

// ---------------------------------------------------------------------------- the control requests

describe("each route's base request is accepted (so each case above fails for its own reason)", () => {
  beforeAll(start);
  afterAll(() => h.close());

  it.each(ROUTES.map((r) => [routeName(r), r] as const))('%s', async (_name, route) => {
    const res = await send(route);
    expect(res.status, res.text.slice(0, 500)).toBe(route.okStatus ?? 200);
    if (route.api === 'seed002') expect(res.body.success).toBe(true);
    if (route.api === 'seed004') expect(res.body.result).toBe('ok');
  });

  it('leaves a ledger that verifies', async () => {
    expect(await h.ledgerProblems()).toEqual([]);
  });
});

// ------------------------------------------------------------------------------ random JSON bodies

/** Values that are often almost right: amounts and ids in every wrong form, and anything JSON. */
const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      0,
      -1,
      1,
      '0',
      '-0.001',
      '1.0005',
      '1e20',
      '99999999999999999999',
      '50.00',
      '',
      ' 5',
      '0x10',
      'NaN',
      null,
      true,
      false,
      [],
      {},
      [1],
      { value: 1 },
      raw('1e20'),
      raw('99999999999999999999'),
      raw('1.0005'),
      raw('50.00'),
      raw('-0'),
      raw('1E3'),
      raw('0.1'),
    ),
  },
  { weight: 2, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);

/** A value known only once the fixture exists (ids, secrets), resolved when the body is serialized. */
class Lazy {
  constructor(readonly get: () => unknown) {}
  toJSON(): unknown {
    return this.get();
  }
}
const lazy = (get: () => unknown) => fc.constant(new Lazy(get));
const OMIT = Symbol('omit');

/** Exact decimal text of major units with `decimals` places, from an integer of minor units. */
const decimalText = (decimals: number, max = 10_000_000) =>
  fc.integer({ min: 1, max }).map((n) => {
    const digits = String(n).padStart(decimals + 1, '0');
    return raw(`${digits.slice(0, digits.length - decimals)}.${digits.slice(-decimals)}`);
  });

/** The fields with valid values, except up to two that get junk or are left out. */
function fieldsArb(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Json> {
  const junkOrOmit = fc.oneof(
    { weight: 4, arbitrary: junkValue },
    { weight: 1, arbitrary: fc.constant<unknown>(OMIT) },
  );
  return fc
    .tuple(
      fc.record(fields),
      fc.subarray(Object.keys(fields), { maxLength: 2 }),
      fc.tuple(junkOrOmit, junkOrOmit),
    )
    .map(([valid, broken, junk]) => {
      const out: Json = { ...valid };
      broken.forEach((key, i) => {
        out[key] = junk[i];
      });
      return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== OMIT));
    });
}

/**
 * A random body: any JSON value, a dictionary of random keys, random text, or the route's own fields
 * (valid values, up to two replaced by junk or left out) around an anchor that guarantees rejection
 * (an unknown member, an order id already used), so requests get deep into parsing and the domain
 * but can never rightly succeed.
 */
function randomBody(
  anchor: () => Json,
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<{ body?: unknown; raw?: string }> {
  return fc.oneof(
    { weight: 1, arbitrary: fc.jsonValue().map((body) => ({ body })) },
    {
      weight: 1,
      arbitrary: fc.dictionary(fc.string({ maxLength: 12 }), junkValue).map((body) => ({ body })),
    },
    {
      weight: 7,
      arbitrary: fc
        .tuple(fieldsArb(fields), fc.dictionary(fc.string({ maxLength: 12 }), junkValue, { maxKeys: 1 }))
        .map(([known, extra]) => ({ body: { ...extra, ...known, ...anchor() } })),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 60 }).map((text) => ({ raw: text })) },
  );
}

describe('random JSON bodies never give a 5xx, always the API error shape, never change the ledger', () => {
  beforeAll(start);
  afterAll(() => h.close());

  const text = fc.string({ minLength: 1, maxLength: 24 });
  const targets: {
    api: Api;
    url: string;
    body: fc.Arbitrary<{ body?: unknown; raw?: string }>;
  }[] = [
    {
      api: 'seed002',
      url: `${S2}/cashback/earn`,
      body: randomBody(() => ({ member_id: UNKNOWN_ID }), {
        card_id: lazy(() => fx.program),
        purchase_amount: fc.oneof(decimalText(3), decimalText(2), decimalText(1)),
        reference: text,
        metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
        member_name: text,
      }),
    },
    {
      api: 'native',
      url: '/v1/earn',
      body: randomBody(() => ({ member: { id: UNKNOWN_ID } }), {
        program_id: lazy(() => fx.program),
        purchase_amount: fc.integer({ min: 1, max: 1_000_000_000_000 }),
        member_name: text,
        reference: text,
        metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
      }),
    },
    {
      api: 'seed004',
      url: '/new_purchase',
      body: randomBody(() => ({ order_id: fx.takenOrder }), {
        partner: lazy(() => fx.partner.appId),
        partner_key: lazy(() => fx.partner.secret),
        customer: text,
        description: fc.string({ maxLength: 40 }),
        merchant: text,
        address: fc.constantFrom(WALLET, 'friend@example.com'),
        currency: fc.constantFrom('USD', 'EUR', 'RUR', 'GBYTE', 'BTC'),
        currency_amount: fc.oneof(decimalText(2), decimalText(8), fc.integer({ min: 1, max: 100_000 })),
        partner_cashback_percentage: fc.oneof(fc.integer({ min: 0, max: 10 }), decimalText(2, 1_000)),
        purchase_unit: text,
      }),
    },
  ];

  it.each(targets.map((t) => [t.url, t] as const))('POST %s: 300 random bodies', async (_url, target) => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(target.body, async (input) => {
        const rawBody = input.raw ?? serialize(input.body);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (target.api !== 'seed004') Object.assign(headers, credHeaders(fx.till));
        if (target.api === 'native') headers['idempotency-key'] = newKey();
        const res = await h.request({ method: 'POST', url: target.url, headers, rawBody });
        expect(res.status, `${rawBody.slice(0, 300)} -> ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(
          400,
        );
        expect(res.status, `${rawBody.slice(0, 300)} -> ${res.text.slice(0, 300)}`).toBeLessThan(500);
        const { message } = errorOf(target.api, res);
        expect(message.trim()).not.toBe('');
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 300 },
    );
    expect(await h.ledgerProblems()).toEqual([]);
  });

  it('POST /v1/batch: 200 random batches of random operations', async () => {
    const before = await snapshot();
    const nativeEarn = targets.find((t) => t.url === '/v1/earn')!.body;
    const fields = {
      type: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom('earn', 'refund') },
        { weight: 1, arbitrary: junkValue },
      ),
      idempotency_key: fc.oneof(
        { weight: 4, arbitrary: fc.string({ maxLength: 210 }) },
        { weight: 1, arbitrary: junkValue },
      ),
      body: nativeEarn.map((b) => b.body ?? b.raw),
    };
    const operation = fc.oneof(
      { weight: 4, arbitrary: fc.record(fields) },
      { weight: 1, arbitrary: fc.record(fields, { requiredKeys: [] }) },
    );
    const batch = fc.oneof(
      { weight: 6, arbitrary: fc.array(operation, { maxLength: 8 }).map((operations) => ({ operations })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
    await fc.assert(
      fc.asyncProperty(batch, async (body) => {
        const rawBody = serialize(body);
        const res = await h.request({
          method: 'POST',
          url: '/v1/batch',
          headers: { 'content-type': 'application/json', ...credHeaders(fx.till) },
          rawBody,
        });
        const shown = `${rawBody.slice(0, 300)} -> ${res.text.slice(0, 300)}`;
        if (res.status === 200) {
          // Every operation names an unknown member (or is malformed): each refused in the native shape.
          const ops = (body as { operations: unknown[] }).operations;
          expect(res.body.results, shown).toHaveLength(ops.length);
          for (const r of res.body.results as { status: number; body: { error: { message: string } } }[]) {
            expect(r.status, shown).toBeGreaterThanOrEqual(400);
            expect(r.status, shown).toBeLessThan(500);
            expect(r.body.error.message.trim(), shown).not.toBe('');
          }
        } else {
          expect(res.status, shown).toBe(400);
          expect(errorOf('native', res).message.trim()).not.toBe('');
        }
        expect(await snapshot()).toEqual(before);
      }),
      { numRuns: 200 },
    );
    expect(await h.ledgerProblems()).toEqual([]);
  });
});
