// What a load run sets up before and after its engines start: the engines' configuration file (every
// secret given, so N engines never race to generate a secrets file; a webhook subscriber; rate limits
// out of the way), one app per till and an admin app, a PIN-redemption program, and the shared pool
// of members, each with a PIN. Apps and the program are written through the store the CLI opens (so
// the same code sets up a SQLite file or a PostgreSQL database); members through the HTTP API.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EngineConfigInput } from '../../engine/config.ts';
import { loadCliConfig, openStore, type OpenedStore } from '../../engine/cli/common.ts';
import { createApp } from '../../engine/domain/apps.ts';
import { createProgram } from '../../engine/domain/programs.ts';
import type { TillClient } from './client.ts';

/** Every member's PIN (long, so the test run's log scan cannot match it by chance). */
export const LOAD_MEMBER_PIN = '48203917';
export const LOAD_CURRENCY = 'AUD';
/** 10% cashback: purchases of 10.00-100.00 earn 1.00-10.00. */
export const LOAD_CASHBACK_BPS = 1_000;
/** High enough that the per-app and per-address limits never refuse the load. */
const NO_RATE_LIMIT = 1_000_000_000;

const secret = () => randomBytes(32).toString('base64url');

/** Where till `t` stands (0-based; the outbox's till is the last): four tills a store, as a chain's report groups them. */
export const tillName = (t: number) => ({ store: `Store ${Math.floor(t / 4) + 1}`, till: `Till ${t + 1}` });

export interface Credentials {
  appId: string;
  secret: string;
}

export interface LoadSetup {
  tills: Credentials[];
  /** The till whose real outbox delivers earns (pg-restart). */
  outbox: Credentials;
  admin: Credentials;
  programId: number;
}

/**
 * Writes the engines' configuration; `receiver` gets every event (native body, signed with its
 * secret). Without one (the benchmark), no subscriber: an earn costs what it costs a lone till.
 */
export function writeEngineConfig(
  file: string,
  receiver: { url: string; secret: string } | undefined,
  runDir: string,
): void {
  const config: EngineConfigInput = {
    host: '127.0.0.1',
    logLevel: 'warn',
    secretsFile: join(runDir, 'engine-secrets.json'),
    defaultRateLimitPerMinute: NO_RATE_LIMIT,
    secrets: { cardHashKey: secret(), memberTokenKey: secret(), credentialsKey: secret() },
    payouts: { pollIntervalMs: 500, retryBaseMs: 200, retryMaxMs: 2_000 },
    webhooks: {
      secrets: [secret()],
      subscribers: receiver ? [{ url: receiver.url, secrets: [receiver.secret] }] : [],
      allowPrivateNetworks: ['127.0.0.1/32'],
      // Short, so a delivery leased by a killed engine is due again soon (the lease is this + 30 s).
      timeoutMs: 2_000,
      pollIntervalMs: 250,
      retryBaseSeconds: 1,
      retryMaxSeconds: 5,
    },
  };
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** The database as the CLI opens it (`--db` and `--config`), for setup and for the checks. */
export function openLoadStore(db: string, configFile: string): Promise<OpenedStore> {
  return openStore(loadCliConfig({ db, config: configFile }), 'create');
}

/**
 * One app per till (cashback read and write), one more for the till whose outbox delivers, an admin
 * app (PINs, ledger) and the program.
 */
export async function createLoadApps(store: OpenedStore, tills: number): Promise<LoadSetup> {
  return store.transact(async (tx) => {
    const now = Date.now();
    const made: Credentials[] = [];
    for (let t = 0; t <= tills; t++) {
      const { app, secret: s } = await createApp(
        tx,
        {
          name: `Till ${t + 1}`,
          scopes: ['cashback_read', 'cashback_write'],
          rateLimitPerMinute: NO_RATE_LIMIT,
          ...tillName(t),
        },
        now,
      );
      made.push({ appId: app.appId, secret: s });
    }
    const { app: admin, secret: adminSecret } = await createApp(
      tx,
      { name: 'Load admin', scopes: ['admin'], rateLimitPerMinute: NO_RATE_LIMIT },
      now,
    );
    const program = await createProgram(
      tx,
      {
        uniqueIdentifier: `LOAD-${randomBytes(4).toString('hex')}`,
        name: 'Load test 10%',
        currency: LOAD_CURRENCY,
        cashbackBps: LOAD_CASHBACK_BPS,
        allowsPinRedemption: true,
        maturationDays: 0,
      },
      now,
    );
    return {
      tills: made.slice(0, tills),
      outbox: made[tills]!,
      admin: { appId: admin.appId, secret: adminSecret },
      programId: program.id,
    };
  });
}

export interface Member {
  id: number;
  email: string;
}

/** Creates the shared pool over HTTP (admin app) and gives each member LOAD_MEMBER_PIN. */
export async function createMembers(admin: TillClient, count: number, runId: string): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) {
    const email = `member-${i}@load.example`;
    const created = await sure(
      admin.send('POST', '/v1/members', {
        body: { email, name: `Load member ${i}` },
        idempotencyKey: `${runId}-member-${i}`,
      }),
      201,
    );
    const id = (created as { member_id: number }).member_id;
    await sure(
      admin.send('PUT', `/v1/members/${id}/pin`, {
        body: { pin: LOAD_MEMBER_PIN },
        idempotencyKey: `${runId}-pin-${i}`,
      }),
      200,
    );
    members.push({ id, email });
  }
  return members;
}

/** The body of an answer with the expected status; anything else stops the setup. */
export async function sure(outcome: ReturnType<TillClient['send']>, status: number): Promise<unknown> {
  const o = await outcome;
  if (o.kind !== 'answered') throw new Error(`setup: no answer (${o.lastError})`);
  if (o.answer.status !== status) {
    throw new Error(`setup: expected ${status}, got ${o.answer.status} ${JSON.stringify(o.answer.body)}`);
  }
  return o.answer.body;
}
