// Every route the till core serves (its own, the history's, the flows' and the screens' pages), taken
// from the running local API itself, refused without the launch token, with a wrong one, with a wrong
// Host or a wrong Origin, without an operator session, and (manager routes) for a cashier; and
// nothing changes. A route added later without an entry in ROLES fails here, so none goes unchecked.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTill, type Till } from '../../till/core.ts';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLogDir } from '../fixtures/test-log.ts';

type Guard = 'pages' | 'preflight' | 'code' | 'stream' | 'token' | 'cashier' | 'manager';
/** What each route needs beyond the Host and Origin checks, which every route has. */
const ROLES: Record<string, Guard> = {
  'GET /cashier': 'pages',
  'GET /display': 'pages',
  'GET /manager': 'pages',
  'GET /assets/:file': 'pages',
  'GET /favicon.ico': 'pages',
  'GET /screens/settings.json': 'pages',
  'OPTIONS *': 'preflight',
  'GET /api/events': 'stream',
  'POST /api/displays/pair': 'code',
  'GET /api/health': 'token',
  'POST /api/operators/sign-in': 'token',
  'POST /api/operators/sign-out': 'cashier',
  'GET /api/operators': 'manager',
  'POST /api/operators': 'manager',
  'PATCH /api/operators/:id': 'manager',
  'POST /api/earn': 'cashier',
  'POST /api/refund': 'cashier',
  'GET /api/queue': 'cashier',
  'GET /api/devices': 'cashier',
  'POST /api/displays/pairing-code': 'manager',
  'GET /api/displays': 'manager',
  'DELETE /api/displays/:id': 'manager',
  'GET /api/history': 'manager',
  'GET /api/history/totals': 'manager',
  'GET /api/history/:id': 'manager',
  'GET /api/history.csv': 'manager',
  'GET /api/logs/devices': 'manager',
  'GET /api/logs/queue': 'manager',
  'POST /api/queue/:id/retry': 'manager',
  'POST /api/queue/:id/void': 'manager',
  'GET /api/webhooks/deliveries': 'manager',
  'GET /api/webhooks/deliveries/:id': 'manager',
  'POST /api/webhooks/deliveries/:id/resend': 'manager',
  'GET /api/settings': 'manager',
  'POST /api/flows/earn': 'cashier',
  'POST /api/flows/redeem': 'cashier',
  'POST /api/flows/refund': 'cashier',
  'POST /api/flows/cashout': 'cashier',
  'GET /api/flows/current': 'cashier',
  'POST /api/flows/current/cancel': 'cashier',
  'POST /api/flows/current/input': 'cashier',
};

/** The Electron windows' origin, allowed by configuration as electron/till-process.ts does. */
const WINDOWS = 'tillback://app';

let dir: string;
let till: Till;
let manager: string;
let cashier: string;

interface Answer {
  status: number;
  code: string | undefined;
}

/** One request with full control of the headers (fetch does not let a caller set Host). */
function call(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, till.apiUrl),
      { method, headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let code: string | undefined;
          try {
            code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          } catch {
            code = undefined; // a page or CSV
          }
          resolve({ status: res.statusCode ?? 0, code });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const bearer = () => ({ authorization: `Bearer ${till.token}` });

async function signIn(name: string, pin: string): Promise<string> {
  const r = await fetch(`${till.apiUrl}/api/operators/sign-in`, {
    method: 'POST',
    headers: { ...bearer(), 'content-type': 'application/json' },
    body: JSON.stringify({ name, pin }),
  });
  expect(r.status).toBe(200);
  return ((await r.json()) as { session: string }).session;
}

/** Everything a refused request could have changed in the till's file (read beside the till: WAL). */
function snapshot() {
  const db = new Database(till.paths.outbox, { readonly: true });
  try {
    return ['operators', 'operator_sessions', 'paired_displays', 'operations', 'outbox'].map((table) =>
      db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all(),
    );
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-every-route-'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-every-route-')),
      api: { firstManager: { name: 'maria', pin: OPERATOR_PINS[0] }, allowedOrigins: [WINDOWS] },
    },
    { simulate: 'never', handleSignals: false },
  );
  manager = await signIn('maria', OPERATOR_PINS[0]);
  const created = await fetch(`${till.apiUrl}/api/operators`, {
    method: 'POST',
    headers: { ...bearer(), 'x-operator-session': manager, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'carl', role: 'cashier', pin: OPERATOR_PINS[1] }),
  });
  expect(created.status).toBe(201);
  cashier = await signIn('carl', OPERATOR_PINS[1]);
}, 60_000);
afterAll(async () => {
  await till?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('every route of the till core', () => {
  it('is listed with what it needs, and nothing else is served', () => {
    const served = till.apiRoutes.map((r) => `${r.method} ${r.url}`).sort();
    expect(served).toEqual(Object.keys(ROLES).sort());
  });

  it('refuses a wrong Host and a wrong Origin, and (but the open ones) a missing or wrong token', async () => {
    for (const { method, url } of till.apiRoutes) {
      const key = `${method} ${url}`;
      const path = url.replace(':id', '1').replace(':file', 'x.js').replace('*', 'api/queue');
      const guard = ROLES[key];
      const port = new URL(till.apiUrl).port;
      const host = await call(method, path, { ...bearer(), host: `tillback.example:${port}` });
      expect({ key, ...host }).toEqual({ key, status: 403, code: 'host_not_allowed' });
      const origin = await call(method, path, { ...bearer(), origin: 'http://evil.example' });
      expect({ key, ...origin }).toEqual({ key, status: 403, code: 'origin_not_allowed' });
      if (guard === 'pages' || guard === 'preflight' || guard === 'stream' || guard === 'code') continue;
      const tokens: Record<string, string>[] = [
        {},
        { authorization: 'Bearer wrong' },
        { authorization: till.token },
      ];
      for (const headers of tokens) {
        const r = await call(method, path, { ...headers, 'x-operator-session': manager });
        expect({ key, ...r }).toEqual({ key, status: 401, code: 'unauthorized' });
      }
    }
  });

  it('refuses operator routes without a session, and manager routes for a cashier, changing nothing', async () => {
    for (const { method, url } of till.apiRoutes) {
      const key = `${method} ${url}`;
      const guard = ROLES[key];
      if (guard !== 'cashier' && guard !== 'manager') continue;
      const path = url.replace(':id', '1');
      const before = snapshot();
      const none = await call(method, path, bearer());
      expect({ key, ...none }).toEqual({ key, status: 401, code: 'session_required' });
      const expired = await call(method, path, { ...bearer(), 'x-operator-session': 'not-a-session' });
      expect({ key, ...expired }).toEqual({ key, status: 401, code: 'session_required' });
      if (guard === 'manager') {
        const r = await call(method, path, { ...bearer(), 'x-operator-session': cashier });
        expect({ key, ...r }).toEqual({ key, status: 403, code: 'forbidden' });
      }
      expect(snapshot(), key).toEqual(before);
    }
  });

  it('answers a CORS preflight for an allowed origin only, and marks the answers it may read', async () => {
    const ask = (origin: string) =>
      fetch(`${till.apiUrl}/api/queue`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization,x-operator-session',
        },
      });
    const ok = await ask(WINDOWS);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(WINDOWS);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/x-operator-session/);
    // Every other scheme's URL.origin is "null": none of them may pass for the windows' origin.
    for (const origin of [
      'http://evil.example',
      'file://',
      'null',
      'tillback://evil',
      'chrome-extension://x',
    ])
      expect((await ask(origin)).status, origin).toBe(403);
    const read = await fetch(`${till.apiUrl}/api/queue`, {
      headers: { ...bearer(), 'x-operator-session': cashier, origin: WINDOWS },
    });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBe(WINDOWS);
  });
});
