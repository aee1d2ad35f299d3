// The manager screen's routes that go through the engine, against a real till core and its embedded
// engine on SQLite: the settings (where the till points, its program as the engine says it, the offline
// limits, never a secret), the engine's webhook deliveries listed, shown with their attempts and re-sent
// with the till's own app credentials; a till made before the `webhooks` scope existed gets it on its
// same app; and a central engine out of reach answered in the local API's shape, in words.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTill, type Till } from '../../till/core.ts';
import { HOW_TO_CHANGE } from '../../till/manager/settings.ts';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLogDir } from '../fixtures/test-log.ts';

const WAIT = { timeout: 30_000, interval: 100 };
// Refused by the engine's address policy (loopback is not allowed by default): every attempt fails,
// so the deliveries stay pending with their error, which is what a manager comes to this tab for.
const SUBSCRIBER = 'http://127.0.0.1:9/tillback-hook';

const dirs: string[] = [];
const tills: Till[] = [];

async function start(config: Parameters<typeof startTill>[0]): Promise<Till> {
  const till = await startTill(
    {
      logDir: mkdtempSync(join(testLogDir(), 'till-manager-routes-')),
      api: { firstManager: { name: 'maria', pin: OPERATOR_PINS[0] } },
      ...config,
    },
    { simulate: 'never', handleSignals: false },
  );
  tills.push(till);
  return till;
}

function client(till: Till) {
  let session = '';
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${till.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${till.token}`,
        ...(session ? { 'x-operator-session': session } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as any };
  };
  return {
    call,
    async signIn(name: string, pin: string) {
      const r = await call('POST', '/api/operators/sign-in', { name, pin });
      expect(r.status).toBe(200);
      session = r.body.session as string;
    },
  };
}

/** A subscriber as the engine's `webhooks.subscribers` setting writes it at an engine's start. */
function subscribe(till: Till, url: string): void {
  const db = new Database(till.paths.engineDb);
  try {
    db.prepare('INSERT INTO webhook_subscribers (url) VALUES (?)').run(url);
  } finally {
    db.close();
  }
}

/** A port nothing listens on (taken, then let go). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let dir: string;
let till: Till;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-manager-routes-'));
  dirs.push(dir);
  till = await start({ dataDir: dir, outbox: { limits: { maxCount: 250, maxAmount: { AUD: 90_000 } } } });
  api = client(till);
  await api.signIn('maria', OPERATOR_PINS[0]);
}, 60_000);

afterAll(async () => {
  for (const each of tills) await each.close();
  for (const each of dirs) rmSync(each, { recursive: true, force: true });
});

describe('GET /api/settings', () => {
  it('says where the till points, its program as the engine has it, and its limits; no secret', async () => {
    const r = await api.call('GET', '/api/settings');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      store: { name: 'Tillback', locale: 'en-AU' },
      engine: { mode: 'embedded', url: till.engineUrl, publicUrl: till.enginePublicUrl },
      program: {
        id: till.program.id,
        currency: 'AUD',
        engine: { program_id: till.program.id, currency: 'AUD', cashback_bps: 500 },
        engineError: null,
      },
      outbox: { limits: { maxAgeHours: 24, maxCount: 250, maxAmount: { AUD: 90_000 } } },
      howToChange: HOW_TO_CHANGE,
    });
    expect(typeof r.body.timeZone).toBe('string');
    const secrets = JSON.parse(readFileSync(till.paths.secrets, 'utf8')) as Record<string, unknown>;
    const till_ = secrets.till as { apiKey: string };
    for (const secret of [till_.apiKey, secrets.cardHashKey, secrets.memberTokenKey, till.token])
      expect(r.text).not.toContain(String(secret));
  });
});

describe('webhook deliveries through the till', () => {
  it('lists the engine’s deliveries newest first, shows one with its attempts, and re-sends it', async () => {
    subscribe(till, SUBSCRIBER);
    // A member with a balance, then a cashout: the claim's creation and its cancel are events.
    const earned = await api.call('POST', '/api/earn', {
      programId: till.program.id,
      currency: 'AUD',
      member: { email: 'webhooks@example.com' },
      memberName: 'Web Hooks',
      purchaseAmount: 10_000,
    });
    expect(earned.status).toBe(201);
    await vi.waitFor(async () => {
      const op = (await api.call('GET', `/api/history/${earned.body.id}`)).body.operation;
      expect(op.state, JSON.stringify(op)).toBe('delivered');
    }, WAIT);
    const cashout = await api.call('POST', '/api/flows/cashout', {
      amount: 100,
      member: { email: 'webhooks@example.com' },
    });
    expect(cashout.status).toBe(201);
    await vi.waitFor(async () => {
      expect((await api.call('GET', '/api/flows/current')).body.flow.claim).not.toBeNull();
    }, WAIT);
    expect((await api.call('POST', '/api/flows/current/cancel')).status).toBe(200);
    await vi.waitFor(async () => {
      expect((await api.call('GET', '/api/flows/current')).body.flow.outcome).toBe('cancelled');
    }, WAIT);

    let list: any[] = [];
    await vi.waitFor(async () => {
      const r = await api.call('GET', '/api/webhooks/deliveries?limit=10');
      expect(r.status).toBe(200);
      list = r.body.deliveries;
      expect(list.map((d) => d.event_type).sort()).toEqual(['claim.cancelled', 'claim.created']);
      // The worker tried each at once and was refused by the address policy.
      expect(list.every((d) => d.attempts >= 1 && d.last_error)).toBe(true);
    }, WAIT);
    expect(list[0].event_type).toBe('claim.cancelled'); // newest first
    expect(list.every((d) => d.url === SUBSCRIBER && d.status === 'pending')).toBe(true);

    const filtered = await api.call('GET', '/api/webhooks/deliveries?status=delivered');
    expect(filtered.body.deliveries).toEqual([]);

    const one = await api.call('GET', `/api/webhooks/deliveries/${list[0].delivery_id}`);
    expect(one.status).toBe(200);
    expect(one.body.attempt_log.length).toBe(one.body.attempts);
    const attemptsBefore = one.body.attempts as number;

    const resent = await api.call('POST', `/api/webhooks/deliveries/${list[0].delivery_id}/resend`);
    expect(resent.status).toBe(200);
    expect(resent.body.deliveries[0]).toMatchObject({ delivery_id: list[0].delivery_id, status: 'pending' });
    await vi.waitFor(async () => {
      const again = await api.call('GET', `/api/webhooks/deliveries/${list[0].delivery_id}`);
      expect(again.body.attempts).toBeGreaterThan(attemptsBefore);
    }, WAIT);
  });

  it('refuses bad queries and ids in the local API’s shape, before asking the engine', async () => {
    for (const path of [
      '/api/webhooks/deliveries?status=lost',
      '/api/webhooks/deliveries?limit=0',
      '/api/webhooks/deliveries?limit=501',
      '/api/webhooks/deliveries?offset=x',
      '/api/webhooks/deliveries?url=x',
      '/api/webhooks/deliveries/evt_1',
    ]) {
      const r = await api.call('GET', path);
      expect({ path, status: r.status, code: r.body.error?.code }).toEqual({
        path,
        status: 400,
        code: 'validation_error',
      });
    }
    const missing = await api.call(
      'GET',
      `/api/webhooks/deliveries/dlv_${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`,
    );
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
  });
});

describe('a till made before the webhooks scope', () => {
  it('gets the scope on its same app at its next start', async () => {
    const scopesOf = () => {
      const db = new Database(join(dir, 'engine.sqlite'), { readonly: true });
      try {
        return db.prepare('SELECT app_id, scopes FROM apps').all() as { app_id: string; scopes: string }[];
      } finally {
        db.close();
      }
    };
    await till.close();
    const [before] = scopesOf();
    const db = new Database(join(dir, 'engine.sqlite'));
    db.prepare('UPDATE apps SET scopes = ?').run('cashback_read cashback_write card_read');
    db.close();

    till = await start({ dataDir: dir });
    api = client(till);
    await api.signIn('maria', OPERATOR_PINS[0]);
    expect((await api.call('GET', '/api/webhooks/deliveries')).status).toBe(200);
    const after = scopesOf();
    expect(after).toHaveLength(1);
    expect(after[0]!.app_id).toBe(before!.app_id);
    expect(after[0]!.scopes.split(' ')).toContain('webhooks');
  }, 60_000);
});

describe('a central engine out of reach', () => {
  it('is said in words in the local API’s shape; the settings still show what the till knows', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tillback-manager-routes-central-'));
    dirs.push(other);
    const url = `http://127.0.0.1:${await closedPort()}`;
    const central = await start({
      dataDir: other,
      engine: { url, appId: 'app_central', apiKey: 'sk_never_shown', tokenizationKey: 'k'.repeat(32) },
      program: { id: 7, currency: 'TND' },
      outbox: { timeoutMs: 2_000 },
    });
    const c = client(central);
    await c.signIn('maria', OPERATOR_PINS[0]);

    const list = await c.call('GET', '/api/webhooks/deliveries');
    expect(list.status).toBe(502);
    expect(list.body.error.code).toBe('engine_unreachable');
    expect(list.body.error.message).toMatch(/could not be reached.*cannot list webhook deliveries/);
    const resend = await c.call(
      'POST',
      `/api/webhooks/deliveries/dlv_${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/resend`,
    );
    expect(resend.status).toBe(502);

    const settings = await c.call('GET', '/api/settings');
    expect(settings.status).toBe(200);
    expect(settings.body).toMatchObject({
      engine: { mode: 'central', url, publicUrl: url, appId: 'app_central' },
      program: { id: 7, currency: 'TND', engine: null, engineError: { code: 'engine_unreachable' } },
    });
    expect(settings.text).not.toContain('sk_never_shown');
    expect(settings.text).not.toContain('k'.repeat(32));
  }, 60_000);
});
