// Test harness: a real engine on a real store (a SQLite file in a temporary directory, or a fresh
// PostgreSQL database in the `postgres` project: fixtures/test-store.ts), with a movable
// clock, a notifier that records what it sends (unless a code gateway is configured), and helpers
// to create apps and programs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEngineConfig, type EngineConfigInput } from '../../engine/config.ts';
import { createApp, type Scope } from '../../engine/domain/apps.ts';
import { createProgram, type NewProgram } from '../../engine/domain/programs.ts';
import { verifyLedger } from '../../engine/domain/ledger.ts';
import { createEngine, type Engine, type EngineOptions } from '../../engine/server.ts';
import { testLogFile } from '../fixtures/test-log.ts';
import { openTestStore, type TestStore, type TestStoreOptions } from './fixtures/test-store.ts';

export interface Harness {
  engine: Engine;
  store: TestStore;
  dir: string;
  clock: { now: number; advanceDays(days: number): void };
  sent: { to: string; kind: string; code: string }[];
  app(
    scopes: Scope[],
    opts?: { rateLimitPerMinute?: number; appId?: string; store?: string; till?: string },
  ): Promise<{ appId: string; secret: string; headers: Record<string, string> }>;
  program(p?: Partial<NewProgram>): Promise<number>;
  /** fastify.inject with JSON in; `body` is parsed as any client would (JSON.parse), `text` keeps exact digits. */
  request(opts: {
    method: 'GET' | 'POST' | 'PUT' | 'DELETE';
    url: string;
    headers?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
  }): Promise<{ status: number; body: any; text: string }>;
  ledgerProblems(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startHarness(
  config: EngineConfigInput = {},
  storeOptions: TestStoreOptions = {},
  engineOptions: Pick<EngineOptions, 'resolve' | 'laggingStore'> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'tillback-test-'));
  const store = await openTestStore(dir, storeOptions);
  const clock = {
    now: Date.UTC(2026, 0, 15, 10, 30),
    advanceDays(days: number) {
      clock.now += days * 86_400_000;
    },
  };
  const sent: Harness['sent'] = [];
  const engine = await createEngine({
    store,
    config: loadEngineConfig({
      environment: {},
      // Debug logs every request too; all of it goes to the run's log directory, scanned for PANs and PINs.
      overrides: { secretsFile: join(dir, 'secrets.json'), logLevel: 'debug', ...config },
    }),
    logFile: testLogFile('engine'),
    now: () => clock.now,
    // Given a code gateway, the engine's own delivery runs (code-delivery.test.ts).
    ...(config.codes?.gatewayUrl
      ? {}
      : {
          notifier: {
            // A code for an address at undeliverable.example fails as a gateway's refusal would.
            send: async (m: Harness['sent'][number] & { kind: 'otp' | 'textcoin' }) => {
              if (m.to.endsWith('@undeliverable.example')) throw new Error('the gateway refused the message');
              sent.push(m);
            },
          },
        }),
    ...engineOptions,
  });
  return {
    engine,
    store,
    dir,
    clock,
    sent,
    async app(scopes, opts = {}) {
      const { app, secret } = await store.transact((tx) =>
        createApp(tx, { name: 'test app', scopes, ...opts }, clock.now),
      );
      return { appId: app.appId, secret, headers: { 'x-app-id': app.appId, 'x-api-key': secret } };
    },
    async program(p = {}) {
      const program = await store.transact((tx) =>
        createProgram(
          tx,
          {
            uniqueIdentifier: `CASH-${Math.random().toString(36).slice(2, 8)}`,
            name: 'Premium Cashback Card',
            description: '5% cashback on all purchases',
            currency: 'TND',
            cashbackBps: 500,
            ...p,
          },
          clock.now,
        ),
      );
      return program.id;
    },
    async request(opts) {
      const res = await engine.app.inject({
        method: opts.method,
        url: opts.url,
        headers: {
          ...(opts.body !== undefined || opts.rawBody !== undefined
            ? { 'content-type': 'application/json' }
            : {}),
          ...opts.headers,
        },
        ...(opts.rawBody !== undefined
          ? { payload: opts.rawBody }
          : opts.body !== undefined
            ? { payload: JSON.stringify(opts.body) }
            : {}),
      });
      let body: unknown = undefined;
      try {
        body = JSON.parse(res.body);
      } catch {
        body = res.body;
      }
      return { status: res.statusCode, body, text: res.body };
    },
    async ledgerProblems() {
      const report = await store.read((tx) => verifyLedger(tx));
      return report.problems.map((p) => p.message);
    },
    async close() {
      await engine.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
