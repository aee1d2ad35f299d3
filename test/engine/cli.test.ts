// The engine CLI, run as a child process (`node --import tsx engine/cli.ts ...`) against a real
// SQLite file in a temporary directory: what it prints, what it stores, and its exit codes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptPinTdesDukpt } from '../../contract/crypto/tdes-dukpt.ts';
import { TEST_BDK } from '../../drivers/pinpad/simulator.ts';
import { cleanEnv } from '../fixtures/clean-env.ts';
import { VISA_PAN } from '../fixtures/secrets.ts';
import { nativeHttp } from './fixtures/native-http.ts';

const root = resolve(import.meta.dirname, '../..');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', 'engine/cli.ts', ...args], {
    cwd: root,
    env: cleanEnv({ TILLBACK_LOG_LEVEL: 'warn' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function cli(...args: string[]): Promise<Result> {
  return new Promise((done, fail) => {
    const child = start(args);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

let dir: string;
let db: string;
/** Runs a command against the test database. */
const run = (...args: string[]) => cli(...args, '--db', db);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-cli-'));
  db = join(dir, 'engine.sqlite');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('errors before any database exists', () => {
  it('refuses to list from a missing database (exit 2) instead of creating an empty one', async () => {
    const r = await run('apps', 'list');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`No database at ${db}`);
    expect(existsSync(db)).toBe(false);
  });

  it('reports a bad config file with the setting named, exit 2 and no stack', async () => {
    const config = join(dir, 'bad.json');
    writeFileSync(config, JSON.stringify({ db: { synchronous: 'SOMETIMES' }, port: 'eighty' }));
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "port": 80,');
    const [r, malformed] = await Promise.all([
      cli('apps', 'list', '--config', config),
      cli('verify', '--config', broken),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Invalid engine configuration (${config})`);
    expect(r.stderr).toContain('db.synchronous');
    expect(r.stderr).toContain('port');
    expect(r.stderr).not.toMatch(/\n\s+at /);

    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not valid JSON');
  });

  it('treats a bad flag as a usage error (exit 2)', async () => {
    const [r, unknown] = await Promise.all([
      run('apps', 'create', '--name', 'x', '--scopes', 'partner', '--rate-limit', 'lots'),
      run('apps', 'list', '--colour'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("option '--rate-limit <n>' argument 'lots' is invalid");
    expect(unknown.code).toBe(2);
  });
});

describe('apps', () => {
  let secret = '';
  let appId = '';

  it('creates an app and prints its secret once, with a warning', async () => {
    const r = await run('apps', 'create', '--name', 'Till 1', '--scopes', 'cashback_read,cashback_write');
    expect(r.code).toBe(0);
    appId = /App id:\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    secret = /Secret:\s+(\S+)/.exec(r.stdout)?.[1] ?? '';
    expect(appId).toMatch(/^app_/);
    expect(secret).toMatch(/^sk_.{20,}/);
    expect(r.stdout).toContain('NOT shown again');
    expect(r.stdout).toContain('cashback_read, cashback_write');
    // The first command made the file, and says which store it wrote to.
    expect(r.stderr).toContain(`Created a new SQLite database at ${db} (for PostgreSQL, set TILLBACK_DB_URL`);
  });

  it('creates an app with a chosen id and rate limit, as JSON', async () => {
    const r = await run(
      'apps',
      'create',
      '--name',
      'Partner shop',
      '--scopes',
      'partner',
      '--id',
      'app_shop',
      '--rate-limit',
      '120',
      '--json',
    );
    expect(r.code).toBe(0);
    const created = JSON.parse(r.stdout) as { appId: string; secret: string; rateLimitPerMinute: number };
    expect(created.appId).toBe('app_shop');
    expect(created.secret).toMatch(/^sk_/);
    expect(created.rateLimitPerMinute).toBe(120);
    expect(r.stderr).not.toContain('Created a new SQLite database');
  });

  it("creates a till's app with its store and till, listed with them", async () => {
    const r = await run(
      'apps',
      'create',
      '--name',
      'Harbour Rd till 2',
      '--scopes',
      'cashback_read,cashback_write',
      '--store',
      'Harbour Rd',
      '--till',
      'Till 2',
      '--json',
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ store: 'Harbour Rd', till: 'Till 2' });
    const list = await run('apps', 'list');
    expect(list.stdout).toMatch(/Harbour Rd till 2\s+Harbour Rd \/ Till 2/);
    const half = await run(
      'apps',
      'create',
      '--name',
      'x',
      '--scopes',
      'cashback_read',
      '--store',
      'Harbour Rd',
    );
    expect(half.code).toBe(1);
    expect(half.stderr).toContain('both its store and its till');
  });

  it('refuses an unknown scope and a taken id (exit 1, message only)', async () => {
    const [scope, taken] = await Promise.all([
      run('apps', 'create', '--name', 'x', '--scopes', 'cashback_read,everything'),
      run('apps', 'create', '--name', 'x', '--scopes', 'partner', '--id', 'app_shop'),
    ]);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('Unknown scope "everything"');
    expect(scope.stderr).not.toMatch(/\n\s+at /);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('An app "app_shop" already exists');
  });

  it('lists apps in an aligned table and as JSON, never with a secret', async () => {
    const [r, json] = await Promise.all([run('apps', 'list'), run('apps', 'list', '--json')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^APP ID\s+NAME\s+STORE \/ TILL\s+SCOPES\s+RATE\/MIN\s+CREATED \(UTC\)\s+STATUS$/,
    );
    expect(lines).toHaveLength(4); // the two above and the till's app of Harbour Rd
    expect(lines[1]).toContain(appId);
    expect(lines[2]).toMatch(/^app_shop\s+Partner shop\s+-\s+partner\s+120\s/);
    // Columns line up: every row starts its NAME where the header does.
    const [header = '', till = '', shop = ''] = lines;
    const nameAt = header.indexOf('NAME');
    expect(till.slice(nameAt)).toMatch(/^Till 1/);
    expect(shop.slice(nameAt)).toMatch(/^Partner shop/);
    expect(r.stdout).not.toContain(secret);
    expect(r.stdout).not.toContain('sk_');

    const apps = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(apps.map((a) => a['appId'])).toEqual([appId, 'app_shop', expect.stringMatching(/^app_/)]);
    expect(json.stdout).not.toContain('sk_');
    expect(apps.flatMap((a) => Object.keys(a))).not.toContain('secret');
  });

  it('revokes an app, says so again without changing it, and refuses an unknown one', async () => {
    const r = await run('apps', 'revoke', appId);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Revoked app ${appId}`);
    const again = await run('apps', 'revoke', appId);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already revoked');
    const list = await run('apps', 'list', '--json');
    const apps = JSON.parse(list.stdout) as { appId: string; revokedAt: string | null }[];
    expect(apps.find((a) => a.appId === appId)?.revokedAt).toMatch(/^\d{4}-/);
    expect(apps.find((a) => a.appId === 'app_shop')?.revokedAt).toBeNull();
    const unknown = await run('apps', 'revoke', 'app_nobody');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No app "app_nobody"');
  });
});

describe('programs', () => {
  it('creates programs with amounts parsed exactly from decimal text', async () => {
    const r = await run(
      'programs',
      'create',
      '--id',
      'CASH-001',
      '--name',
      'Premium Cashback Card',
      '--currency',
      'AUD',
      '--percent',
      '2.55',
      '--min',
      '10.10',
      '--max',
      '1000.01',
      '--pin',
      '--maturation-days',
      '3',
      '--expiry-days',
      '30',
      '--description',
      '2.55% back',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Created program CASH-001: card_id 1');
    expect(r.stdout).toMatch(/Minimum purchase:\s+10\.10 AUD/);
    expect(r.stdout).toMatch(/Max per purchase:\s+1000\.01 AUD/);
    const tnd = await run(
      'programs',
      'create',
      '--id',
      'CASH-TND',
      '--name',
      'Tunis',
      '--currency',
      'tnd',
      '--percent',
      '5',
      '--min',
      '0.105',
    );
    expect(tnd.code).toBe(0);
  });

  it('refuses amounts with more decimals than the currency, naming the option', async () => {
    const [r, pct, dup] = await Promise.all([
      run(
        'programs',
        'create',
        '--id',
        'CASH-X',
        '--name',
        'x',
        '--currency',
        'AUD',
        '--percent',
        '5',
        '--min',
        '0.105',
      ),
      run('programs', 'create', '--id', 'CASH-X', '--name', 'x', '--currency', 'AUD', '--percent', '100.5'),
      run('programs', 'create', '--id', 'CASH-001', '--name', 'x', '--currency', 'AUD', '--percent', '1'),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--min:');
    expect(r.stderr).toContain('0.105');
    expect(pct.code).toBe(1);
    expect(pct.stderr).toContain('--percent:');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('A program "CASH-001" already exists');
  });

  it('lists programs with formatted amounts, and minor units in JSON', async () => {
    const [r, listed] = await Promise.all([run('programs', 'list'), run('programs', 'list', '--json')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /CARD ID\s+IDENTIFIER\s+NAME\s+CURRENCY\s+PERCENT\s+MIN PURCHASE\s+MAX CASHBACK\s+PIN\s+MATURES\s+EXPIRES/,
    );
    expect(lines[1]).toMatch(
      /^\s*1\s+CASH-001\s+Premium Cashback Card\s+AUD\s+2\.55%\s+10\.10\s+1000\.01\s+yes\s+3 days\s+30 days$/,
    );
    expect(lines[2]).toMatch(/^\s*2\s+CASH-TND\s+Tunis\s+TND\s+5%\s+0\.105\s+-\s+no\s+at once\s+never$/);

    const json = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(json[0]).toMatchObject({
      cardId: 1,
      uniqueIdentifier: 'CASH-001',
      currency: 'AUD',
      cashbackBps: 255,
      minPurchase: 1010,
      maxCashback: 100001,
      allowsPinRedemption: true,
      maturationDays: 3,
      expiryDays: 30,
      description: '2.55% back',
    });
    expect(json[1]).toMatchObject({ currency: 'TND', cashbackBps: 500, minPurchase: 105, maxCashback: null });
  });
});

describe('partners', () => {
  it('makes a partner-scoped app a partner, and refuses one without the scope', async () => {
    const r = await run(
      'partners',
      'create',
      '--app',
      'app_shop',
      '--base-percent',
      '1',
      '--max-partner-percent',
      '12.5',
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('App app_shop (Partner shop) is now a cashback partner');
    expect(r.stdout).toMatch(/Max partner percent:\s+12\.5%/);
    await run('apps', 'create', '--name', 'No scope', '--scopes', 'cashback_read', '--id', 'app_plain');
    const refused = await run('partners', 'create', '--app', 'app_plain', '--base-percent', '1');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('lacks the "partner" scope');
  });

  it('deposits exactly, with a CLI idempotency key that makes a retry safe', async () => {
    const first = await run('partners', 'deposit', 'app_shop', '12.5');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Deposited 12.500000000 GBYTE to partner app_shop');
    expect(first.stdout).toMatch(/Idempotency key:\s+cli-[0-9a-f-]{36}/);

    const keyed = await run('partners', 'deposit', 'app_shop', '0.000000001', '--key', 'bank-77');
    expect(keyed.code).toBe(0);
    expect(keyed.stdout).toMatch(/Deposit now:\s+12\.500000001 GBYTE/);
    const retry = await run('partners', 'deposit', 'app_shop', '0.000000001', '--key', 'bank-77');
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('Already deposited with key bank-77');
    const other = await run('partners', 'deposit', 'app_shop', '5', '--key', 'bank-77');
    expect(other.code).toBe(1);
    expect(other.stderr).toContain('already used for a different request');

    const [tooPrecise, unknown] = await Promise.all([
      run('partners', 'deposit', 'app_shop', '0.0000000001'),
      run('partners', 'deposit', 'app_plain', '1'),
    ]);
    expect(tooPrecise.code).toBe(1);
    expect(tooPrecise.stderr).toContain('0.0000000001');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('is not a cashback partner');
  });

  it('lists partners with their deposits', async () => {
    const [r, listed] = await Promise.all([run('partners', 'list'), run('partners', 'list', '--json')]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^APP ID\s+NAME\s+UNIT\s+BASE %\s+MAX PARTNER %\s+DEPOSIT$/);
    expect(lines[1]).toMatch(/^app_shop\s+Partner shop\s+GBYTE\s+1\s+12\.5\s+12\.500000001$/);
    const json = JSON.parse(listed.stdout) as Record<string, unknown>[];
    expect(json).toEqual([
      expect.objectContaining({
        appId: 'app_shop',
        unit: 'GBYTE',
        baseBps: 100,
        maxPartnerBps: 1250,
        deposit: 12_500_000_001,
      }),
    ]);
  });
});

describe('verify', () => {
  it('reports a clean ledger with exit 0', async () => {
    const [r, verified] = await Promise.all([run('verify'), run('verify', '--json')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Accounts:\s+2/);
    expect(r.stdout).toMatch(/Transfers:\s+2/);
    expect(r.stdout).toMatch(/GBYTE\s+12\.500000001\s+12\.500000001\s+yes/);
    expect(r.stdout).toContain('Ledger OK');
    const json = JSON.parse(verified.stdout) as Record<string, unknown>;
    expect(json).toMatchObject({
      ok: true,
      accounts: 2,
      transfers: 2,
      currencies: { GBYTE: { debits: 12_500_000_001, credits: 12_500_000_001, balanced: true } },
      problems: [],
    });
  });

  it('finds a corrupted cached balance, names the account and exits 1', async () => {
    const sqlite = new Database(db);
    const account = sqlite
      .prepare('SELECT code FROM accounts WHERE credits_posted > 0 ORDER BY id LIMIT 1')
      .get() as {
      code: string;
    };
    sqlite
      .prepare('UPDATE accounts SET credits_posted = credits_posted + 1 WHERE code = ?')
      .run(account.code);
    sqlite.close();

    const [r, json] = await Promise.all([run('verify'), run('verify', '--json')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Ledger has 1 problem:');
    expect(r.stdout).toContain(`[cached_balance] ${account.code}:`);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { ok: boolean; problems: { kind: string; message: string }[] };
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { kind: 'cached_balance', message: expect.stringContaining(account.code) },
    ]);
  });
});

describe('serve', () => {
  /** Starts `serve`, resolves once it prints where it is, and collects everything it prints. */
  function serve(args: string[]) {
    const child = start(['serve', ...args]);
    const out = { stdout: '', stderr: '' };
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    const ready = new Promise<string>((done, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        out.stdout += d.toString();
        if (out.stdout.includes('Stop with Ctrl+C.')) done(out.stdout);
      });
      child.on('close', (code) => fail(new Error(`serve exited with ${code}: ${out.stderr}`)));
    });
    const exited = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    return { child, out, ready, exited };
  }

  /** Runs a curl command as printed (URL, -H headers, -d body) with fetch. */
  async function curlAsPrinted(lines: string[]) {
    const text = lines.join(' ').replaceAll('\\', ' ');
    const url = /curl -s -X POST (\S+)/.exec(text)?.[1] ?? '';
    const headers = Object.fromEntries(
      [...text.matchAll(/-H '([^:']+): ([^']*)'/g)].map((m) => [String(m[1]).toLowerCase(), String(m[2])]),
    );
    const body = /-d '([^']*)'/.exec(text)?.[1] ?? '';
    const res = await fetch(url, { method: 'POST', headers, body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  it('runs the demo: prints the API and docs, a working key and curl, then stops cleanly on SIGTERM', async () => {
    const demoDb = join(dir, 'demo', 'engine.sqlite');
    const first = serve(['--demo', '--port', '0', '--db', demoDb]);
    const printed = await first.ready;
    const base = /API:\s+(http:\/\/127\.0\.0\.1:\d+)\/v1\n/.exec(printed)?.[1];
    expect(base).toBeDefined();
    expect(base).not.toMatch(/:0$/);
    expect(printed).toContain(`Docs:      ${base}/docs`);
    expect(printed).toContain(`${base}/api/v1/cashback`);
    expect(printed).toMatch(/App id:\s+app_demo/);
    const secret = /Secret:\s+(sk_\S+)/.exec(printed)?.[1] ?? '';
    expect(secret).not.toBe('');

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', store: 'sqlite' });
    const docs = await fetch(`${base}/docs/json`);
    expect(docs.status).toBe(200);
    expect(((await docs.json()) as { openapi: string }).openapi).toBe('3.1.0');

    // The printed curl commands work as printed.
    const lines = printed.split('\n');
    const curlAt = (marker: string) => {
      const at = lines.findIndex((l) => l.includes(marker));
      return lines.slice(at, lines.findIndex((l, i) => i > at && l.includes(" -d '")) + 1);
    };
    const seed = await curlAsPrinted(curlAt('/api/v1/cashback/cashback/earn'));
    expect(seed.status).toBe(200);
    expect(seed.body).toMatchObject({ success: true, data: { cashback_earned: 2.5, currency: 'AUD' } });
    const native = await curlAsPrinted(curlAt('/v1/earn'));
    expect(native.status).toBe(200);
    expect(native.body).toMatchObject({ cashback_earned: 250, currency: 'AUD' });
    const claim = await curlAsPrinted(curlAt('/v1/claims'));
    expect(claim.status).toBe(201);
    expect(claim.body).toMatchObject({ status: 'created', amount: 2500, currency: 'AUD' });
    const page = await fetch(String(claim.body['url']));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>Your cashout</title>');
    expect(printed).toContain(`Claims:    ${base}/c/<claim id>`);
    expect(printed).toContain('Codes:     printed here, not sent');

    // The demo deciphers PIN blocks made under the PIN pad simulator's test key, and says so.
    expect(printed).toContain("PIN pad simulator's public TEST key");
    const demoApp = { 'x-app-id': 'app_demo', 'x-api-key': secret };
    const api = nativeHttp(String(base), demoApp);
    const jane = native.body['member_id'] as number;
    expect((await api.post(`/members/${jane}/cards`, { pan: VISA_PAN })).status).toBe(201);
    const pin = await fetch(`${base}/v1/members/${jane}/pin`, {
      method: 'PUT',
      headers: { ...demoApp, 'content-type': 'application/json', 'idempotency-key': 'demo-pin' },
      body: JSON.stringify({ pin: '4321' }),
    });
    expect(pin.status).toBe(200);
    const ksn = 'FFFF9876543210E00001';
    const block = encryptPinTdesDukpt(
      Buffer.from(TEST_BDK, 'hex'),
      Buffer.from(ksn, 'hex'),
      '4321',
      VISA_PAN,
    );
    const redeemed = await api.post('/redeem', {
      program_id: native.body['program_id'],
      member: { card: { pan: VISA_PAN } },
      amount: 100,
      pin_block: { format: 'iso0-tdes-dukpt', ksn, block: block.toString('hex') },
    });
    expect(redeemed.status, JSON.stringify(redeemed.body)).toBe(200);
    expect(redeemed.body).toMatchObject({ member_id: jane, amount_redeemed: 100 });

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.out.stdout).toContain('SIGTERM: stopping the engine');
    expect(first.out.stdout).toContain('Stopped.');

    // A later start finds the demo app and says how to make a key, without a secret.
    const second = serve(['--demo', '--port', '0', '--db', demoDb]);
    const again = await second.ready;
    expect(again).toContain('the demo app app_demo exists');
    expect(again).toContain('apps create --name');
    expect(again).not.toContain(secret);
    expect(again).not.toMatch(/Secret:/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    const verify = await cli('verify', '--db', demoDb);
    expect(verify.code).toBe(0);
  }, 60_000);

  it('refuses a bad port with the setting named (exit 2)', async () => {
    const r = await run('serve', '--port', '70000');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('port');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
