// The till's local API over real HTTP and WebSocket on 127.0.0.1, on a real till file and a real
// engine on loopback: the launch token, Host and Origin checks and roles on every route, PIN sign-in
// with its lockout, earns and refunds through the outbox, the event stream, bad bodies, and logs
// that never carry a PIN, a token or a card number.
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { EarnBodySchema, RefundBodySchema, SignInBodySchema } from '../../till/api/bodies.ts';
import { ServerMessageSchema, type ServerMessage } from '../../till/api/messages.ts';
import { PIN_LOCK_MS } from '../../till/api/operators.ts';
import { PAIRING_CODE_TTL_MS } from '../../till/api/pairing.ts';
import { createLocalApi, SESSION_HEADER, type LocalApi } from '../../till/api/server.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { OPERATOR_PINS, VISA_PAN } from '../fixtures/secrets.ts';
import { testLog } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

const MANAGER = { name: 'maria', pin: OPERATOR_PINS[0] };
const CASHIER = { name: 'carl', pin: OPERATOR_PINS[1] };
const PAN = VISA_PAN;
const writeTestLog = testLog('till-local-api');

let link: EngineLink;
let dir: string;
let outbox: Outbox;
let api: LocalApi;
let clockOffset = 0;
const logLines: string[] = [];
const secrets: string[] = [MANAGER.pin, CASHIER.pin, PAN];

beforeAll(async () => {
  link = await startEngineLink();
});
afterAll(async () => {
  await link.close();
  // Every line every API in this file logged, checked once all of them ran.
  expect(logLines.length).toBeGreaterThan(0);
  for (const line of logLines) for (const s of secrets) expect(line).not.toContain(s);
});

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-api-'));
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: link.url, ...link.credentials },
    retry: { baseMs: 10, maxMs: 100 },
    timeoutMs: 5_000,
  });
  clockOffset = 0;
  const logStream = new PassThrough();
  // Kept for the checks in afterAll, and written to the run's test log for the global secrets scan.
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      logLines.push(line);
      writeTestLog(line);
    }
  });
  api = await createLocalApi({
    outbox,
    config: { firstManager: MANAGER },
    logStream,
    now: () => Date.now() + clockOffset,
  });
  secrets.push(api.token);
});
afterEach(async () => {
  await api.close();
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: unknown;
}

/** One HTTP request with full control of the headers (fetch does not let a caller set Host). */
function call(
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: unknown; raw?: string; token?: string | null } = {},
): Promise<Answer> {
  const url = new URL(path, api.url);
  const payload = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const token = opts.token === undefined ? api.token : opts.token;
  const headers: Record<string, string> = {
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
    ...opts.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const errorShape = (code: string) => ({ error: { code, message: expect.any(String) } });

async function session(who: { name: string; pin: string }): Promise<string> {
  const r = await call('POST', '/api/operators/sign-in', { body: who });
  expect(r.status).toBe(200);
  const s = (r.body as { session: string }).session;
  secrets.push(s);
  return s;
}

async function cashierSession(): Promise<string> {
  const m = await session(MANAGER);
  const r = await call('POST', '/api/operators', {
    headers: { [SESSION_HEADER]: m },
    body: { ...CASHIER, role: 'cashier' },
  });
  expect(r.status).toBe(201);
  return session(CASHIER);
}

const earnBody = (extra: Record<string, unknown> = {}) => ({
  programId: link.programId,
  currency: 'TND',
  member: { email: 'jane@example.com' },
  memberName: 'Jane',
  purchaseAmount: 5_000,
  reference: `sale-${Math.random()}`,
  ...extra,
});

/** Everything a refused request could have changed: operators, sessions, the queue's history. */
const snapshot = () =>
  outbox.store.read(async (tx) => ({
    operators: await tx.all('SELECT * FROM operators ORDER BY id'),
    sessions: await tx.all('SELECT * FROM operator_sessions ORDER BY token_hash'),
    displays: await tx.all('SELECT * FROM paired_displays ORDER BY id'),
    operations: await tx.all('SELECT * FROM operations ORDER BY id'),
  }));

const ROUTES: { method: string; path: string; body?: () => unknown; role: 'none' | 'cashier' | 'manager' }[] =
  [
    { method: 'GET', path: '/api/health', role: 'none' },
    { method: 'POST', path: '/api/operators/sign-in', body: () => MANAGER, role: 'none' },
    { method: 'POST', path: '/api/operators/sign-out', role: 'cashier' },
    { method: 'GET', path: '/api/operators', role: 'manager' },
    {
      method: 'POST',
      path: '/api/operators',
      body: () => ({ name: 'x', role: 'manager', pin: '1234' }),
      role: 'manager',
    },
    { method: 'POST', path: '/api/earn', body: () => earnBody(), role: 'cashier' },
    {
      method: 'POST',
      path: '/api/refund',
      body: () => ({ ...earnBody(), purchaseAmount: undefined, memberName: undefined, refundAmount: 100 }),
      role: 'cashier',
    },
    { method: 'GET', path: '/api/queue', role: 'cashier' },
    { method: 'POST', path: '/api/displays/pairing-code', role: 'manager' },
    { method: 'PATCH', path: '/api/operators/2', body: () => ({ role: 'cashier' }), role: 'manager' },
    { method: 'GET', path: '/api/displays', role: 'manager' },
  ];

describe('auth on every route', () => {
  const host = () => new URL(api.url).host;
  const BAD: { name: string; opts: () => Parameters<typeof call>[2]; status: number; code: string }[] = [
    { name: 'no token', opts: () => ({ token: null }), status: 401, code: 'unauthorized' },
    { name: 'wrong token', opts: () => ({ token: 'x'.repeat(43) }), status: 401, code: 'unauthorized' },
    {
      name: 'token without Bearer',
      opts: () => ({ token: null, headers: { authorization: api.token } }),
      status: 401,
      code: 'unauthorized',
    },
    {
      name: 'wrong Host',
      opts: () => ({ headers: { host: `evil.example:${new URL(api.url).port}` } }),
      status: 403,
      code: 'host_not_allowed',
    },
    {
      name: 'wrong Origin',
      opts: () => ({ headers: { origin: 'http://evil.example' } }),
      status: 403,
      code: 'origin_not_allowed',
    },
    {
      name: 'own host, other port Origin',
      opts: () => ({ headers: { origin: 'http://127.0.0.1:1' } }),
      status: 403,
      code: 'origin_not_allowed',
    },
  ];

  for (const route of ROUTES) {
    it(`${route.method} ${route.path}: refused without the right token, Host, Origin and role; nothing changes`, async () => {
      const manager = await session(MANAGER);
      const cashier = await (async () => {
        const r = await call('POST', '/api/operators', {
          headers: { [SESSION_HEADER]: manager },
          body: { ...CASHIER, role: 'cashier' },
        });
        expect(r.status).toBe(201);
        return session(CASHIER);
      })();
      const before = await snapshot();
      for (const bad of BAD) {
        const o = bad.opts() ?? {};
        const r = await call(route.method, route.path, {
          ...o,
          headers: { [SESSION_HEADER]: manager, ...o.headers },
          body: route.body?.(),
        });
        expect({ case: bad.name, status: r.status, body: r.body }).toEqual({
          case: bad.name,
          status: bad.status,
          body: errorShape(bad.code),
        });
      }
      if (route.role !== 'none') {
        const r = await call(route.method, route.path, { body: route.body?.() });
        expect(r).toEqual({ status: 401, body: errorShape('session_required') });
      }
      if (route.role === 'manager') {
        const r = await call(route.method, route.path, {
          headers: { [SESSION_HEADER]: cashier },
          body: route.body?.(),
        });
        expect(r).toEqual({ status: 403, body: errorShape('forbidden') });
      }
      expect(await snapshot()).toEqual(before);
      // The same request with everything right goes through (the refusals were not for another reason).
      const ok = await call(route.method, route.path, {
        headers: { [SESSION_HEADER]: manager, origin: api.url, host: host() },
        body: route.body?.(),
      });
      expect(ok.status).toBeLessThan(300);
    });
  }

  it('refuses unknown routes in shape, and a listening address beyond loopback without lanAddress', async () => {
    expect(await call('GET', '/api/nope')).toEqual({ status: 404, body: errorShape('not_found') });
    await expect(
      createLocalApi({ outbox, config: { host: '0.0.0.0' }, logStream: new PassThrough() }),
    ).rejects.toMatchObject({
      status: 400,
      code: 'validation_error',
    });
  });

  it('accepts the configured LAN name as Host and a configured origin, and refuses other names and origins', async () => {
    await api.close();
    api = await createLocalApi({
      outbox,
      config: { lanAddress: 'till-7.lan', allowedOrigins: ['https://pos.example.com'] },
      logStream: new PassThrough(),
    });
    secrets.push(api.token);
    const port = new URL(api.url).port;
    const health = (headers: Record<string, string>) => call('GET', '/api/health', { headers });
    expect(await health({ host: `till-7.lan:${port}` })).toEqual({ status: 200, body: { ok: true } });
    expect(await health({ origin: 'https://pos.example.com' })).toEqual({ status: 200, body: { ok: true } });
    expect(await health({ origin: `http://till-7.lan:${port}` })).toEqual({
      status: 200,
      body: { ok: true },
    });
    expect(await health({ host: `till-8.lan:${port}` })).toEqual({
      status: 403,
      body: errorShape('host_not_allowed'),
    });
    expect(await health({ origin: 'http://pos.example.com' })).toEqual({
      status: 403,
      body: errorShape('origin_not_allowed'),
    });
  });
});

describe('stopping', () => {
  it("closes a connection that has sent nothing (a browser's speculative one) instead of waiting on it", async () => {
    const quiet = connect(Number(new URL(api.url).port), '127.0.0.1');
    quiet.on('error', () => undefined);
    await once(quiet, 'connect');
    const dropped = once(quiet, 'close');
    await api.close();
    await dropped;
    // afterEach closes an API of this test's own.
    api = await createLocalApi({ outbox, config: {}, logStream: new PassThrough() });
    secrets.push(api.token);
  });
});

function openSocket(headers: Record<string, string> = {}): WebSocket {
  return new WebSocket(`${api.url.replace('http', 'ws')}/api/events`, { headers });
}

/** Messages of a socket, each checked against the server's schema; resolves on close. */
function collect(ws: WebSocket): { messages: ServerMessage[]; closed: Promise<number> } {
  const messages: ServerMessage[] = [];
  ws.on('message', (d: Buffer) => messages.push(ServerMessageSchema.parse(JSON.parse(d.toString('utf8')))));
  return { messages, closed: new Promise((r) => ws.on('close', (code) => r(code))) };
}

describe('WebSocket /api/events', () => {
  it('refuses a wrong Host or Origin at the upgrade with 403', async () => {
    const cases: Record<string, string>[] = [{ host: 'evil.example' }, { origin: 'http://evil.example' }];
    for (const headers of cases) {
      const ws = openSocket(headers);
      const status = await new Promise<number>((resolve, reject) => {
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => reject(new Error('upgraded')));
        ws.on('error', () => undefined);
      });
      expect(status).toBe(403);
      ws.terminate();
    }
  });

  it('closes with 4401 on a missing, malformed or wrong token in the first message', async () => {
    for (const first of [
      'not json',
      JSON.stringify({ type: 'auth' }),
      JSON.stringify({ type: 'auth', token: 'nope' }),
    ]) {
      const ws = openSocket();
      const { messages, closed } = collect(ws);
      await new Promise((r) => ws.once('open', r));
      ws.send(first);
      expect(await closed).toBe(4401);
      expect(messages).toEqual([
        { type: 'error', error: { code: 'unauthorized', message: expect.any(String) } },
      ]);
    }
  });

  it('streams queue-state events after an earn, and the earn reaches the engine once', async () => {
    const cashier = await cashierSession();
    const ws = openSocket();
    const { messages, closed } = collect(ws);
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ type: 'auth', token: api.token }));
    await vi.waitFor(() => expect(messages[0]?.type).toBe('ready'), { timeout: 10_000 });
    outbox.start();
    const body = earnBody();
    const r = await call('POST', '/api/earn', { headers: { [SESSION_HEADER]: cashier }, body });
    expect(r.status).toBe(201);
    const { id } = r.body as { id: string };
    expect(r.body).toEqual({ id, state: 'queued', queue: expect.objectContaining({ failed: 0 }) });
    await vi.waitFor(
      () =>
        expect(
          messages.some(
            (m) =>
              m.type === 'queue_state' &&
              m.queue.waiting === 0 &&
              m.queue.failed === 0 &&
              m.queue.online === true,
          ),
        ).toBe(true),
      { timeout: 30_000, interval: 50 },
    );
    expect(messages.some((m) => m.type === 'queue_state' && m.queue.waiting === 1)).toBe(true);
    const applied = (await link.applied()).filter((t) => t.reference === body.reference);
    expect(applied).toEqual([expect.objectContaining({ type: 'earn', purchaseAmount: 5_000 })]);
    expect(await outbox.operation(id)).toMatchObject({ cashier: CASHIER.name, state: 'delivered' });
    ws.close();
    await closed;
  });
});

describe('operators', () => {
  it('locks an operator after 5 wrong PINs for 15 minutes, then lets the right PIN in', async () => {
    const wrong = { name: MANAGER.name, pin: '111111111111' };
    for (let i = 0; i < 4; i++)
      expect(await call('POST', '/api/operators/sign-in', { body: wrong })).toEqual({
        status: 401,
        body: errorShape('pin_invalid'),
      });
    expect(await call('POST', '/api/operators/sign-in', { body: wrong })).toEqual({
      status: 423,
      body: errorShape('pin_locked'),
    });
    expect(await call('POST', '/api/operators/sign-in', { body: MANAGER })).toEqual({
      status: 423,
      body: errorShape('pin_locked'),
    });
    clockOffset = PIN_LOCK_MS + 1_000;
    expect((await call('POST', '/api/operators/sign-in', { body: MANAGER })).status).toBe(200);
  });

  it('answers an unknown name like a wrong PIN', async () => {
    expect(await call('POST', '/api/operators/sign-in', { body: { name: 'nobody', pin: '1234' } })).toEqual({
      status: 401,
      body: errorShape('pin_invalid'),
    });
  });

  it('creates the first manager only once, lists operators, refuses a duplicate, ends sessions', async () => {
    expect(api.createdFirstManager).toBe(true);
    const again = await createLocalApi({
      outbox,
      config: { firstManager: { name: 'other', pin: '4444' } },
      logStream: new PassThrough(),
    });
    expect(again.createdFirstManager).toBe(false);
    await again.close();
    const cashier = await cashierSession();
    const manager = await session(MANAGER);
    const list = await call('GET', '/api/operators', { headers: { [SESSION_HEADER]: manager } });
    expect(list.body).toEqual({
      operators: [
        {
          id: expect.any(Number),
          name: MANAGER.name,
          role: 'manager',
          createdAt: expect.any(Number),
          disabledAt: null,
        },
        {
          id: expect.any(Number),
          name: CASHIER.name,
          role: 'cashier',
          createdAt: expect.any(Number),
          disabledAt: null,
        },
      ],
    });
    expect(JSON.stringify(list.body)).not.toContain('pin');
    const dup = await call('POST', '/api/operators', {
      headers: { [SESSION_HEADER]: manager },
      body: { ...CASHIER, role: 'cashier' },
    });
    expect(dup).toEqual({ status: 409, body: errorShape('operator_exists') });
    expect(
      (await call('POST', '/api/operators/sign-out', { headers: { [SESSION_HEADER]: cashier } })).status,
    ).toBe(204);
    expect(await call('GET', '/api/queue', { headers: { [SESSION_HEADER]: cashier } })).toEqual({
      status: 401,
      body: errorShape('session_required'),
    });
  });

  it('changes a PIN and a role, disables and enables an operator, and always keeps one manager', async () => {
    const cashier = await cashierSession();
    const manager = await session(MANAGER);
    const as = { [SESSION_HEADER]: manager };
    const patch = (id: number, body: unknown) => call('PATCH', `/api/operators/${id}`, { headers: as, body });
    const carl = 2;
    const before = await snapshot();
    expect(await patch(carl, {})).toEqual({ status: 400, body: errorShape('validation_error') });
    expect(await patch(carl, { pin: '12' })).toEqual({ status: 400, body: errorShape('validation_error') });
    expect(await patch(carl, { role: 'owner' })).toEqual({
      status: 400,
      body: errorShape('validation_error'),
    });
    expect(await patch(99, { role: 'manager' })).toEqual({ status: 404, body: errorShape('not_found') });
    // The only manager may not be demoted or disabled.
    expect(await patch(1, { role: 'cashier' })).toEqual({ status: 409, body: errorShape('last_manager') });
    expect(await patch(1, { disabled: true })).toEqual({ status: 409, body: errorShape('last_manager') });
    expect(await snapshot()).toEqual(before);

    // A role change is live at the operator's next request.
    expect((await call('GET', '/api/operators', { headers: { [SESSION_HEADER]: cashier } })).status).toBe(
      403,
    );
    expect((await patch(carl, { role: 'manager' })).body).toMatchObject({ operator: { role: 'manager' } });
    expect((await call('GET', '/api/operators', { headers: { [SESSION_HEADER]: cashier } })).status).toBe(
      200,
    );
    // Now there are two managers, the first may step down.
    expect((await patch(1, { role: 'cashier' })).status).toBe(200);
    // ... and is then a cashier at once: carl, a manager now, promotes her back.
    expect((await patch(1, { role: 'manager' })).status).toBe(403);
    const back = await call('PATCH', '/api/operators/1', {
      headers: { [SESSION_HEADER]: cashier },
      body: { role: 'manager' },
    });
    expect(back.status).toBe(200);

    // Disabling ends the sessions and refuses sign-in like a wrong PIN; enabling lets them back in.
    expect((await patch(carl, { disabled: true })).body).toMatchObject({
      operator: { disabledAt: expect.any(Number) },
    });
    expect(await call('GET', '/api/queue', { headers: { [SESSION_HEADER]: cashier } })).toEqual({
      status: 401,
      body: errorShape('session_required'),
    });
    expect(await call('POST', '/api/operators/sign-in', { body: CASHIER })).toEqual({
      status: 401,
      body: errorShape('pin_invalid'),
    });
    expect((await patch(carl, { disabled: false })).body).toMatchObject({ operator: { disabledAt: null } });
    await session(CASHIER);

    // A new PIN replaces the old one and clears a lock.
    for (let i = 0; i < 5; i++)
      await call('POST', '/api/operators/sign-in', { body: { ...CASHIER, pin: '0000' } });
    expect((await call('POST', '/api/operators/sign-in', { body: CASHIER })).status).toBe(423);
    const newPin = OPERATOR_PINS[2]!;
    expect((await patch(carl, { pin: newPin })).status).toBe(200);
    expect((await call('POST', '/api/operators/sign-in', { body: CASHIER })).status).toBe(401);
    await session({ name: CASHIER.name, pin: newPin });
  });

  it('expires sessions', async () => {
    const manager = await session(MANAGER);
    clockOffset = 12 * 60 * 60_000 + 1;
    expect(await call('GET', '/api/queue', { headers: { [SESSION_HEADER]: manager } })).toEqual({
      status: 401,
      body: errorShape('session_required'),
    });
  });
});

describe('bad bodies', () => {
  it('answers 400 in shape and queues nothing', async () => {
    const cashier = await cashierSession();
    const h = { [SESSION_HEADER]: cashier };
    const before = await snapshot();
    const cases: Parameters<typeof call>[2][] = [
      { raw: '{not json' },
      { raw: '' },
      { raw: '  ' },
      { body: earnBody({ purchaseAmount: 12.5 }) },
      { body: earnBody({ purchaseAmount: -1 }) },
      { body: earnBody({ purchaseAmount: undefined }) },
      { body: earnBody({ member: { card: PAN } }) },
      { body: earnBody({ cashier: 'someone-else' }) },
      { body: earnBody({ type: 'redeem' }) },
      { body: [] },
    ];
    for (const c of cases) {
      const r = await call('POST', '/api/earn', { ...c, headers: h });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        error: {
          code: expect.stringMatching(/^(validation_error|bad_request)$/),
          message: expect.any(String),
        },
      });
      expect(JSON.stringify(r.body)).not.toContain(PAN);
    }
    const r = await call('POST', '/api/operators/sign-in', { body: { name: MANAGER.name, pin: 'abcd' } });
    expect(r).toEqual({ status: 400, body: errorShape('validation_error') });
    expect(await snapshot()).toEqual(before);
    // A route that takes no body accepts an empty one sent as JSON (curl with a JSON header).
    expect(await call('POST', '/api/operators/sign-out', { raw: '', headers: h })).toEqual({
      status: 204,
      body: undefined,
    });
  });

  it('any JSON body to /api/earn gets 201 or a 400 in shape (fast-check over HTTP)', async () => {
    const cashier = await cashierSession();
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue(),
          fc.record({ purchaseAmount: fc.oneof(fc.integer(), fc.double()), member: fc.jsonValue() }),
        ),
        async (body) => {
          const r = await call('POST', '/api/earn', { headers: { [SESSION_HEADER]: cashier }, body });
          if (r.status === 201) return;
          expect(r).toEqual({
            status: 400,
            body: { error: { code: expect.any(String), message: expect.any(String) } },
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('body parsers (fast-check)', () => {
  it('never throw, and accept only positive integer amounts', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.oneof(fc.integer(), fc.double(), fc.string()), (junk, amount) => {
        for (const schema of [EarnBodySchema, RefundBodySchema, SignInBodySchema]) schema.safeParse(junk);
        const earn = EarnBodySchema.safeParse({
          programId: 1,
          currency: 'AUD',
          member: { id: 1 },
          purchaseAmount: amount,
        });
        expect(earn.success).toBe(Number.isSafeInteger(amount) && (amount as number) > 0);
      }),
    );
  });

  it('accept every well-formed earn, refund and sign-in', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.stringMatching(/^\d{4,12}$/),
        (amount, memberId, pin) => {
          const base = { programId: 3, currency: 'TND', member: { id: memberId } };
          expect(EarnBodySchema.parse({ ...base, purchaseAmount: amount }).purchaseAmount).toBe(amount);
          expect(RefundBodySchema.parse({ ...base, refundAmount: amount }).refundAmount).toBe(amount);
          expect(SignInBodySchema.parse({ name: 'ann', pin }).pin).toBe(pin);
        },
      ),
    );
  });
});

/** Opens /api/events, sends the auth message and resolves with the first answer. */
async function firstEvent(
  authToken: string,
): Promise<{ ws: WebSocket; first: ServerMessage; closed: Promise<number> }> {
  const ws = openSocket();
  const { messages, closed } = collect(ws);
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'auth', token: authToken }));
  await vi.waitFor(() => expect(messages.length).toBeGreaterThan(0), { timeout: 10_000 });
  return { ws, first: messages[0]!, closed };
}

describe('display pairing', () => {
  async function code(): Promise<string> {
    const manager = await session(MANAGER);
    const r = await call('POST', '/api/displays/pairing-code', { headers: { [SESSION_HEADER]: manager } });
    expect(r).toEqual({
      status: 201,
      body: { code: expect.stringMatching(/^\d{6}$/), expiresAt: expect.any(Number) },
    });
    return (r.body as { code: string }).code;
  }
  const pair = (c: string, opts: Parameters<typeof call>[2] = {}) =>
    call('POST', '/api/displays/pair', { token: null, body: { code: c, name: 'front display' }, ...opts });
  const wrong = (c: string) => String((Number(c) + 1) % 1_000_000).padStart(6, '0');

  it('gives a display token for the code, once; the token opens the event stream and nothing else', async () => {
    const c = await code();
    const r = await pair(c);
    expect(r).toEqual({ status: 201, body: { token: expect.any(String), displayId: expect.any(Number) } });
    const { token } = r.body as { token: string };
    secrets.push(token);
    expect(await pair(c)).toEqual({ status: 401, body: errorShape('pairing_invalid') });
    const { ws, first, closed } = await firstEvent(token);
    expect(first.type).toBe('ready');
    ws.close();
    await closed;
    expect(await call('GET', '/api/health', { token })).toEqual({
      status: 401,
      body: errorShape('unauthorized'),
    });
  });

  it('lists paired displays and unpairs one, closing its open stream', async () => {
    const r = await pair(await code());
    const { token, displayId } = r.body as { token: string; displayId: number };
    secrets.push(token);
    const manager = { [SESSION_HEADER]: await session(MANAGER) };
    expect((await call('GET', '/api/displays', { headers: manager })).body).toEqual({
      displays: [{ id: displayId, name: 'front display', createdAt: expect.any(Number) }],
    });
    const { first, closed } = await firstEvent(token);
    expect(first.type).toBe('ready');
    expect(await call('DELETE', `/api/displays/${displayId}`, { headers: manager })).toEqual({
      status: 204,
      body: undefined,
    });
    expect(await closed).toBe(4401);
    expect(await call('DELETE', `/api/displays/${displayId}`, { headers: manager })).toEqual({
      status: 404,
      body: errorShape('not_found'),
    });
    expect((await call('GET', '/api/displays', { headers: manager })).body).toEqual({ displays: [] });
    // Its token no longer opens the stream.
    const again = await firstEvent(token);
    expect(again.first).toMatchObject({ type: 'error' });
    expect(await again.closed).toBe(4401);
  });

  it('drops the code after 5 wrong tries, and refuses an expired one', async () => {
    const before = await snapshot();
    let c = await code();
    for (let i = 0; i < 5; i++)
      expect(await pair(wrong(c))).toEqual({ status: 401, body: errorShape('pairing_invalid') });
    expect(await pair(c)).toEqual({ status: 401, body: errorShape('pairing_invalid') });
    c = await code();
    clockOffset = PAIRING_CODE_TTL_MS + 1;
    expect(await pair(c)).toEqual({ status: 401, body: errorShape('pairing_invalid') });
    expect((await snapshot()).displays).toEqual(before.displays);
  });

  it('checks Host and Origin and the body on the pairing route, changing nothing', async () => {
    const c = await code();
    const before = await snapshot();
    expect(await pair(c, { headers: { host: 'evil.example' } })).toEqual({
      status: 403,
      body: errorShape('host_not_allowed'),
    });
    expect(await pair(c, { headers: { origin: 'http://evil.example' } })).toEqual({
      status: 403,
      body: errorShape('origin_not_allowed'),
    });
    expect(await pair(c, { body: { code: c } })).toEqual({
      status: 400,
      body: errorShape('validation_error'),
    });
    expect(await pair(c, { body: { code: 'abcdef', name: 'x' } })).toEqual({
      status: 400,
      body: errorShape('validation_error'),
    });
    expect(await snapshot()).toEqual(before);
    expect((await pair(c)).status).toBe(201); // the code survived the refused attempts
  });
});
