// The engine server around the routes: health, the OpenAPI document and its UI, configuration
// errors, and log redaction of card, PIN and key fields.
import { Writable } from 'node:stream';
import pino from 'pino';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeDatabase, describeReplica, loadCliConfig } from '../../engine/cli/common.ts';
import { ConfigError, loadEngineConfig } from '../../engine/config.ts';
import { loggerOptions, redactUrl } from '../../engine/logger.ts';
import { onPostgres } from './fixtures/test-store.ts';
import { startHarness, type Harness } from './harness.ts';

describe('engine server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(() => h.close());

  it('answers GET /health with the store it runs on', async () => {
    const res = await h.request({ method: 'GET', url: '/health' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', store: onPostgres ? 'postgres' : 'sqlite' });
  });

  it('limits each app to its own requests per minute, answering 429 in the error shape of the API', async () => {
    const slow = await h.app(['card_read'], { rateLimitPerMinute: 3 });
    const other = await h.app(['card_read']);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push(
        (await h.request({ method: 'GET', url: '/api/v1/cashback/cards', headers: slow.headers })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await h.request({ method: 'GET', url: '/api/v1/cashback/cards', headers: slow.headers });
    expect(limited.body).toEqual({
      success: false,
      error: { code: 'rate_limited', message: expect.stringMatching(/retry/i) },
    });
    // Another app is not affected.
    expect(
      (await h.request({ method: 'GET', url: '/api/v1/cashback/cards', headers: other.headers })).status,
    ).toBe(200);
  });

  it('serves an OpenAPI 3.1 document generated from the zod schemas, and a browsable UI at /docs', async () => {
    const doc = await h.request({ method: 'GET', url: '/docs/json' });
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    const paths = Object.keys(doc.body.paths);
    for (const p of [
      '/api/v1/cashback/cashback/earn',
      '/api/v1/cashback/cards',
      '/new_purchase',
      '/api/v2/cashbacks/withdraw',
      '/v1/earn',
      '/health',
    ]) {
      expect(paths).toContain(p);
    }
    const earn = doc.body.paths['/api/v1/cashback/cashback/earn'].post;
    const body = earn.requestBody.content['application/json'].schema;
    expect(body.required).toEqual(expect.arrayContaining(['card_id', 'purchase_amount']));
    expect(Object.keys(earn.responses)).toEqual(expect.arrayContaining(['200', '400', '401']));
    const ui = await h.request({ method: 'GET', url: '/docs/' });
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
  });
});

describe('engine configuration', () => {
  it('reads defaults, a file, then the environment, and names every bad setting', () => {
    const config = loadEngineConfig({
      environment: { TILLBACK_ENGINE_PORT: '9999', TILLBACK_DB_SYNCHRONOUS: 'NORMAL' },
    });
    expect(config.port).toBe(9999);
    expect(config.db.synchronous).toBe('NORMAL');
    expect(config.host).toBe('127.0.0.1');
    let error: unknown;
    try {
      loadEngineConfig({
        environment: { TILLBACK_ENGINE_PORT: 'eighty', TILLBACK_DB_SYNCHRONOUS: 'SOMETIMES' },
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/port/);
    expect((error as Error).message).toMatch(/db\.synchronous/);
    expect(() =>
      loadEngineConfig({ environment: {}, overrides: { rates: { 'USD:GBYTE': '0.04x' } } }),
    ).toThrow(/rates/);
    expect(() => loadEngineConfig({ environment: {}, file: '/nonexistent/tillback.json' })).toThrow(
      /does not exist/,
    );
  });
});

describe('the store setting', () => {
  const url = 'postgres://tillback:s3cret@db.example:5432/tillback';
  it('takes a PostgreSQL URL from db.url or TILLBACK_DB_URL, and SQLite stays the default', () => {
    const sqlite = loadEngineConfig({ environment: {} }).db;
    expect([sqlite.path, sqlite.url]).toEqual(['data/engine.sqlite', undefined]);
    const config = loadEngineConfig({ environment: { TILLBACK_DB_URL: url, TILLBACK_DB_POOL_SIZE: '4' } });
    expect(config.db).toMatchObject({ url, poolSize: 4 });
  });

  it('refuses a URL as db.path and anything but a postgres URL as db.url, naming the setting, not the value', () => {
    const refused = (environment: Record<string, string>) => {
      try {
        loadEngineConfig({ environment });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    const asPath = refused({ TILLBACK_DB: url });
    expect(asPath).toMatch(/db\.path: a postgres:\/\/ URL goes in db\.url/);
    expect(asPath).not.toContain('s3cret');
    expect(refused({ TILLBACK_DB_URL: 'mysql://x@y/z' })).toMatch(/db\.url: a PostgreSQL connection URL/);
  });

  it('takes a read replica beside a PostgreSQL primary, from db.replicaUrl, TILLBACK_DB_REPLICA_URL or --replica-db', () => {
    const replica = 'postgres://tillback:s3cret@replica.example:5433/tillback';
    const config = loadEngineConfig({
      environment: { TILLBACK_DB_URL: url, TILLBACK_DB_REPLICA_URL: replica },
    });
    expect(config.db).toMatchObject({ url, replicaUrl: replica });
    expect(loadEngineConfig({ environment: { TILLBACK_DB_URL: url } }).db.replicaUrl).toBeUndefined();
    const flagged = loadCliConfig({ db: url, replicaDb: replica });
    expect(flagged.db).toMatchObject({ url, replicaUrl: replica });
    expect(describeReplica(flagged.db)).toBe(
      'postgres://tillback:***@replica.example:5433/tillback (read replica, reports)',
    );
    expect(describeReplica(loadCliConfig({ db: url }).db)).toBeUndefined();
  });

  it('refuses a replica that is no postgres URL, or without a PostgreSQL primary, naming the setting, not the value', () => {
    const replica = 'postgres://tillback:s3cret@replica.example:5433/tillback';
    const refusal = (load: () => unknown) => {
      try {
        load();
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).not.toContain('s3cret');
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    const primaryNeeded = /db\.replicaUrl: a read replica is a copy of a PostgreSQL primary: set db\.url/;
    expect(refusal(() => loadEngineConfig({ environment: { TILLBACK_DB_REPLICA_URL: replica } }))).toMatch(
      primaryNeeded,
    );
    // A SQLite file given as --db drops the configured primary: the replica is refused with it.
    expect(refusal(() => loadCliConfig({ db: '/tmp/x/engine.sqlite', replicaDb: replica }))).toMatch(
      primaryNeeded,
    );
    expect(
      refusal(() =>
        loadEngineConfig({
          environment: { TILLBACK_DB_URL: url, TILLBACK_DB_REPLICA_URL: 'mysql://tillback:s3cret@y/z' },
        }),
      ),
    ).toMatch(/db\.replicaUrl: a PostgreSQL connection URL/);
  });

  it('reads --db as a file or a postgres:// URL, and prints a URL without its password', () => {
    const pg = loadCliConfig({ db: url });
    expect(pg.db.url).toBe(url);
    expect(describeDatabase(pg.db)).toBe(
      'postgres://tillback:***@db.example:5432/tillback (PostgreSQL, 10 connections)',
    );
    const file = loadCliConfig({ db: '/tmp/x/engine.sqlite' });
    expect(file.db).toMatchObject({ path: '/tmp/x/engine.sqlite', url: undefined });
    expect(describeDatabase(file.db)).toBe('/tmp/x/engine.sqlite (synchronous=FULL)');
  });
});

describe('log redaction', () => {
  it('never writes a PAN, PIN, IPIN, track data or a key into a log line', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino(loggerOptions('info'), sink);
    const secrets = {
      pan: '5350290149345177',
      pin: '1234',
      ipin: '0000',
      track2: ';5350290149345177=16042010000056700100?',
      partner_key: 'pk_live_secret',
    };
    log.info({ ...secrets, nested: { ...secrets, deeper: { ...secrets } } }, 'card read');
    log.info({
      req: {
        headers: { 'x-api-key': 'sk_secret_value', 'x-member-token': 'eyJ.token', authorization: 'Bearer x' },
      },
    });
    const output = lines.join('');
    for (const value of [...Object.values(secrets), 'sk_secret_value', 'eyJ.token', 'Bearer x']) {
      expect(output).not.toContain(value);
    }
    expect(output).toContain('[redacted]');
  });

  it('logs request URLs without the one-time code and state of a link callback', async () => {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = Fastify({ logger: { ...loggerOptions('info'), stream } });
    app.get('/cashout/link/paypal/callback', async () => 'ok');
    const res = await app.inject({
      url: '/cashout/link/paypal/callback?code=C0DE-SECRET&state=ST4TE-SECRET&x=1',
    });
    expect(res.statusCode).toBe(200);
    await app.close();
    const output = lines.join('');
    expect(output).toContain('/cashout/link/paypal/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&x=1');
    expect(output).not.toContain('C0DE-SECRET');
    expect(output).not.toContain('ST4TE-SECRET');
    expect(redactUrl('/v1/history?limit=5')).toBe('/v1/history?limit=5');
    // A card number in a query, under any name (no route takes one; a careless client may send it).
    expect(redactUrl('/v1/members/lookup?program_id=1&pan=4111111111111111')).toBe(
      '/v1/members/lookup?program_id=1&pan=%5Bredacted%5D',
    );
    expect(redactUrl('/v1/x?card=4111-1111-1111-1111&n=12')).toBe('/v1/x?card=%5Bredacted%5D&n=12');
  });
});
