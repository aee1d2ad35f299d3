// The till core in this process (startTill) on a temporary data directory, with the embedded engine and
// the simulated terminals over real socat pseudo-terminals: it starts, serves, reads a swipe, delivers an
// earn, and stops with nothing left listening or running; a second start reuses the secrets, the app,
// the program and the operators; bad configuration is refused by name, changing nothing; and no secret
// it holds reaches its log files.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CardRead } from '../../drivers/cards/magstripe.ts';
import { startTill, type Till, type TillComponent, type TillServices } from '../../till/core.ts';
import {
  TILL_ENVIRONMENT_VARIABLES,
  TillConfigError,
  loadTillConfig,
  parseTillConfig,
} from '../../till/config.ts';
import { scanText } from '../fixtures/log-scan.ts';
import { TEST_PANS, TEST_PINS } from '../fixtures/secrets.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';

let dir: string;
let logDir: string;
const simulatorLog = testLog('till-core-simulator');
/** Every secret the tills of this file held: none may appear in their logs. */
const secrets = new Set<string>();

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-core-'));
  logDir = mkdtempSync(join(testLogDir(), 'till-core-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const start = (dataDir: string) =>
  startTill(
    { dataDir, logDir, devices: { pollIntervalMs: 200 } },
    { simulate: 'always', simulatorOut: simulatorLog, handleSignals: false },
  );

async function call(
  till: Till,
  path: string,
  init: { method?: string; body?: unknown; session?: string } = {},
) {
  const res = await fetch(`${till.apiUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: {
      authorization: `Bearer ${till.token}`,
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.session ? { 'x-operator-session': init.session } : {}),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
}

const signIn = async (till: Till, name: string, pin: string) => {
  const r = await call(till, '/api/operators/sign-in', { body: { name, pin } });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  secrets.add(r.body.session);
  return r.body.session as string;
};

/** The status of a GET with these headers (node:http: fetch may not set Host). */
const statusWith = (url: string, headers: Record<string, string>) =>
  new Promise<number | undefined>((resolve, reject) => {
    const req = request(url, { headers }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    req.end();
  });

const reachable = (url: string) =>
  fetch(url).then(
    () => true,
    () => false,
  );

const alive = (pid: number | undefined) => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const fileSecrets = (dataDir: string) =>
  JSON.parse(readFileSync(join(dataDir, 'till-secrets.json'), 'utf8')) as Record<string, any>;

describe('a till on a fresh data directory', () => {
  let first: { pin: string; secretsFile: string; programId: number };
  const dataDir = () => join(dir, 'till');

  it(
    'starts the embedded engine, the outbox, simulated terminals and the local API, then stops them all',
    { timeout: 90_000 },
    async () => {
      const till = await start(dataDir());
      secrets.add(till.token);
      try {
        expect(till.embedded).toBe(true);
        expect(till.program.currency).toBe('AUD');
        const pin = till.firstManager?.generatedPin;
        expect(pin).toMatch(/^\d{6}$/);
        secrets.add(pin!);

        // till-secrets.json: the owner's only, and it holds the engine's keys and the till's app and program.
        const file = join(dataDir(), 'till-secrets.json');
        expect(statSync(file).mode & 0o777).toBe(0o600);
        const stored = fileSecrets(dataDir());
        for (const key of ['cardHashKey', 'memberTokenKey', 'webhookSecret', 'credentialsKey'])
          expect(stored[key], key).toMatch(/^[\w-]{43}$/);
        expect(stored.till).toEqual({
          appId: expect.stringMatching(/^app_/),
          apiKey: expect.stringMatching(/^sk_/),
          programId: till.program.id,
        });
        for (const value of [
          stored.cardHashKey,
          stored.memberTokenKey,
          stored.webhookSecret,
          stored.credentialsKey,
          stored.till.apiKey,
        ])
          secrets.add(value);
        expect(readdirSync(dataDir()).filter((f) => f.endsWith('.tmp'))).toEqual([]);

        const health = await fetch(`${till.engineUrl}/health`);
        expect(health.status).toBe(200);
        expect((await call(till, '/api/health')).body).toEqual({ ok: true });
        const page = await fetch(`${till.apiUrl}/cashier`); // no token: a page without data
        expect(page.status).toBe(200);
        expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
        expect(await page.text()).toContain('<div id="app"></div>'); // the renderer's build
        // ...but the Host and Origin checks still hold on it.
        expect(await statusWith(`${till.apiUrl}/cashier`, { host: 'tillback.example' })).toBe(403);
        expect(await statusWith(`${till.apiUrl}/cashier`, { origin: 'http://evil.example' })).toBe(403);
        expect(await statusWith(`${till.apiUrl}/api/queue`, {})).toBe(401);

        // No terminal attached here: every simulated one is found and connected through its manifest.
        const sim = till.simulation!;
        expect(sim.devices().length).toBeGreaterThanOrEqual(4);
        const connected = till.devices.list().filter((d) => d.state === 'connected');
        expect(connected.map((d) => d.kind).sort()).toEqual(
          expect.arrayContaining(['card_reader', 'pinpad', 'scanner', 'zvt']),
        );
        const swiped = new Promise<CardRead>((resolve) => till.devices.once('swipe', (s) => resolve(s.card)));
        await sim.swipe('visa');
        expect((await swiped).panMasked).toMatch(/^\d{6}\*+\d{4}$/);

        // An earn over the local API reaches the embedded engine.
        const session = await signIn(till, 'manager', pin!);
        const earn = await call(till, '/api/earn', {
          session,
          body: {
            programId: till.program.id,
            currency: 'AUD',
            member: { email: 'jane@example.com' },
            memberName: 'Jane Citizen',
            purchaseAmount: 5000,
            reference: 'core-1',
          },
        });
        expect(earn.status).toBe(201);
        await vi.waitFor(
          async () =>
            expect((await call(till, '/api/queue', { session })).body.queue).toMatchObject({
              waiting: 0,
              failed: 0,
            }),
          { timeout: 20_000, interval: 50 },
        );

        // The history component is in by default: the earn is in the history, and the swipe and the
        // earn's delivery in the event logs.
        const history = await call(till, '/api/history', { session });
        expect(history.body.operations).toEqual([
          expect.objectContaining({ type: 'earn', state: 'delivered', amount: 5000, reference: 'core-1' }),
        ]);
        await vi.waitFor(
          async () => {
            const devices = await call(till, '/api/logs/devices', { session });
            expect(devices.body.events.map((e: { type: string }) => e.type)).toContain('card');
            const queue = await call(till, '/api/logs/queue', { session });
            expect(queue.body.events.map((e: { kind: string }) => e.kind)).toEqual(['delivered', 'queued']);
          },
          { timeout: 10_000, interval: 50 },
        );

        first = { pin: pin!, secretsFile: readFileSync(file, 'utf8'), programId: till.program.id };
        const pids = sim.devices().map((d) => d.pid);
        const manifests = sim.devices().map((d) => d.manifest);
        await till.close();
        await till.close(); // idempotent
        await expect(till.closed).resolves.toBeUndefined();
        expect(await reachable(`${till.apiUrl}/api/health`)).toBe(false);
        expect(await reachable(`${till.engineUrl}/health`)).toBe(false);
        for (const pid of pids) expect(alive(pid), `socat ${pid}`).toBe(false);
        for (const manifest of manifests) expect(existsSync(manifest), manifest).toBe(false);
      } finally {
        await till.close();
      }
      // Both files are closed: SQLite opens them again and the earn is there, delivered once.
      const engineDb = new Database(join(dataDir(), 'engine.sqlite'), { readonly: true });
      const applied = engineDb
        .prepare("SELECT count(*) AS n FROM transactions WHERE reference = 'core-1'")
        .get();
      engineDb.close();
      expect(applied).toEqual({ n: 1 });
    },
  );

  it('starts again with the same secrets, app, program and manager', { timeout: 90_000 }, async () => {
    expect(first).toBeDefined();
    const till = await start(dataDir());
    secrets.add(till.token);
    try {
      expect(readFileSync(join(dataDir(), 'till-secrets.json'), 'utf8')).toBe(first.secretsFile);
      expect(till.program.id).toBe(first.programId);
      expect(till.firstManager).toBeUndefined(); // not created again, no new PIN
      const session = await signIn(till, 'manager', first.pin);
      const operators = await call(till, '/api/operators', { session });
      expect(operators.body.operators.map((o: { name: string }) => o.name)).toEqual(['manager']);
    } finally {
      await till.close();
    }
    const engineDb = new Database(join(dataDir(), 'engine.sqlite'), { readonly: true });
    const count = (table: string) =>
      (engineDb.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    expect([count('apps'), count('programs')]).toEqual([1, 1]);
    engineDb.close();
  });

  it('starts components with the till services, serves their routes, and closes them before the outbox', async () => {
    const events: string[] = [];
    let seen: TillServices | undefined;
    const recorder: TillComponent = {
      name: 'recorder',
      start(services) {
        seen = services;
        events.push(`started with ${services.devices.list().length} devices listed`);
        return {
          routes: ({ app, operator }) => {
            app.get('/api/recorder', async (req) => ({ cashier: (await operator(req, 'cashier')).name }));
          },
          close: async () => {
            await services.outbox.state(); // the outbox is still open
            events.push('recorder closed');
          },
        };
      },
    };
    const till = await startTill(
      { dataDir: dataDir(), logDir, devices: { simulate: 'never' } },
      { components: [recorder], handleSignals: false },
    );
    try {
      const stored = fileSecrets(dataDir());
      expect(seen?.tokenizationKey).toBe(stored.cardHashKey);
      expect(seen?.engine).toEqual({
        url: till.engineUrl,
        publicUrl: till.enginePublicUrl,
        appId: stored.till.appId,
        apiKey: stored.till.apiKey,
      });
      expect(seen?.program).toEqual(till.program);
      const session = await signIn(till, 'manager', first.pin);
      expect((await call(till, '/api/recorder', { session })).body).toEqual({ cashier: 'manager' });
      expect((await call(till, '/api/recorder')).status).toBe(401); // the API's checks apply to its routes
    } finally {
      await till.close();
    }
    // Components start before the first enumeration, so they see every device event of the run.
    expect(events).toEqual(['started with 0 devices listed', 'recorder closed']);

    // A component that fails to start: what started before it is stopped, and the start fails.
    const failing: TillComponent = {
      name: 'failing',
      start() {
        throw new Error('component broke');
      },
    };
    events.length = 0;
    await expect(
      startTill({ dataDir: dataDir(), logDir }, { components: [recorder, failing], handleSignals: false }),
    ).rejects.toThrow('component broke');
    expect(events).toEqual(['started with 0 devices listed', 'recorder closed']);
    expect(await reachable(seen!.engine.url + '/health')).toBe(false);
  });

  it('keeps no secret in its log files', () => {
    const text = readdirSync(logDir)
      .map((f) => readFileSync(join(logDir, f), 'utf8'))
      .join('\n');
    expect(text).toContain('till ready');
    expect(text).toContain('"url":"/api/earn"'); // the request lines are there, without their headers
    expect(secrets.size).toBeGreaterThanOrEqual(9);
    for (const secret of secrets) {
      // Word boundaries: a 6-digit PIN may sit inside a 13-digit timestamp by chance.
      expect(new RegExp(`(?<![\\w-])${secret}(?![\\w-])`).test(text), 'a secret is in the log').toBe(false);
    }
    expect(scanText(text, { pans: TEST_PANS, pins: TEST_PINS })).toEqual([]);
  });
});

describe('configuration', () => {
  const problems = (fn: () => unknown): string => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(TillConfigError);
      return (error as Error).message;
    }
    throw new Error('no error');
  };

  it('has defaults for a first start: data/till, embedded engine on loopback, 24 h offline, AUD', () => {
    const c = loadTillConfig({ environment: {} });
    expect(c.dataDir).toBe('data/till');
    expect(c.engine).toEqual({ listen: { host: '127.0.0.1', port: 0 } });
    expect(c.api.host).toBe('127.0.0.1');
    expect(c.outbox.limits.maxAgeHours).toBe(24);
    expect(c.program).toEqual({ currency: 'AUD', cashbackBps: 500 });
    expect(c.store).toEqual({ name: 'Tillback', locale: 'en-AU' });
  });

  it("takes the store's name and locale from the environment, and refuses a malformed locale", () => {
    const c = loadTillConfig({
      environment: { TILLBACK_TILL_STORE_NAME: 'Corner Store', TILLBACK_TILL_LOCALE: 'ar-SD' },
    });
    expect(c.store).toEqual({ name: 'Corner Store', locale: 'ar-SD' });
    expect(
      problems(() => loadTillConfig({ environment: { TILLBACK_TILL_LOCALE: 'not a locale!' } })),
    ).toContain('store.locale (from TILLBACK_TILL_LOCALE)');
  });

  it('names the bad setting, and the variable it came from', () => {
    const msg = problems(() =>
      loadTillConfig({
        environment: {
          TILLBACK_TILL_PORT: 'eighty',
          TILLBACK_TILL_CURRENCY: 'aud',
          TILLBACK_TILL_SIMULATE: 'yes',
        },
      }),
    );
    expect(msg).toContain('api.port (from TILLBACK_TILL_PORT)');
    expect(msg).toContain('program.currency (from TILLBACK_TILL_CURRENCY)');
    expect(msg).toContain('devices.simulate (from TILLBACK_TILL_SIMULATE)');
  });

  it('needs the credentials, tokenization key and program of a central engine, each by name', () => {
    const file = join(dir, 'central.json');
    writeFileSync(file, JSON.stringify({ engine: { url: 'http://127.0.0.1:8080' }, colour: 'red' }));
    const msg = problems(() => loadTillConfig({ file, environment: {} }));
    expect(msg).toContain(file);
    for (const field of ['engine.appId', 'engine.apiKey', 'engine.tokenizationKey', 'program.id'])
      expect(msg).toContain(`${field}: needed with engine.url`);
    expect(msg).toMatch(/colour/);
    expect(problems(() => loadTillConfig({ environment: { TILLBACK_TILL_APP_ID: 'x' } }))).toContain(
      'engine.appId (from TILLBACK_TILL_APP_ID): only with engine.url',
    );
    expect(
      problems(() =>
        loadTillConfig({
          environment: {},
          overrides: {
            engine: { url: 'http://h', appId: 'a', apiKey: 'k', tokenizationKey: 'short' },
            program: { id: 1 },
          },
        }),
      ),
    ).toContain('engine.tokenizationKey: needs at least 32 characters');
  });

  it('refuses a missing or broken file, and a bad start changes nothing on disk', async () => {
    expect(problems(() => loadTillConfig({ file: join(dir, 'none.json'), environment: {} }))).toContain(
      'does not exist',
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"dataDir": ');
    expect(problems(() => loadTillConfig({ file: broken, environment: {} }))).toContain('not valid JSON');
    const dataDir = join(dir, 'never');
    await expect(startTill({ dataDir, outbox: { limits: { maxAgeHours: 10_000 } } })).rejects.toThrow(
      /outbox\.limits\.maxAgeHours/,
    );
    expect(existsSync(dataDir)).toBe(false);
  });

  it('answers any TILLBACK_TILL_ variables with a configuration or a TillConfigError naming settings', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(...TILL_ENVIRONMENT_VARIABLES),
          fc.oneof(fc.string(), fc.nat().map(String)),
        ),
        (environment) => {
          try {
            loadTillConfig({ environment });
          } catch (error) {
            expect(error).toBeInstanceOf(TillConfigError);
            // Each problem names a setting (a cross-field one, e.g. api.lanAddress for a LAN host, by its own path).
            expect((error as Error).message).toMatch(/\n {2}- [\w.]+( \(from TILLBACK_TILL_\w+\))?: /);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('answers any JSON with a configuration or a TillConfigError, nothing else', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseTillConfig(value);
        } catch (error) {
          expect(error).toBeInstanceOf(TillConfigError);
        }
      }),
      { numRuns: 500 },
    );
  });
});
