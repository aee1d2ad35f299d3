// A crash between the provider call and the state update: a child engine process pays a claim's
// payout through the sandbox and is SIGKILLed before recording the outcome. A new engine on the same
// SQLite file recovers the processing payout with the same payout id: the sandbox answers with its
// first outcome, the claim is paid once, the member's hold is posted once, and the ledger holds.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { loadEngineConfig } from '../../engine/config.ts';
import { createApp } from '../../engine/domain/apps.ts';
import { verifyLedger } from '../../engine/domain/ledger.ts';
import { createProgram } from '../../engine/domain/programs.ts';
import { createEngine } from '../../engine/server.ts';
import { openSqliteStore } from '../../engine/store/sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'tillback-payout-crash-'));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const path = join(dir, 'engine.sqlite');
const secretsFile = join(dir, 'secrets.json');
const config = () => loadEngineConfig({ environment: {}, overrides: { secretsFile, logLevel: 'silent' } });

async function engineOn(startPayoutWorker: boolean) {
  const store = await openSqliteStore({ path });
  const engine = await createEngine({ store, config: config(), logger: false, startPayoutWorker });
  const request = async (
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body?: object,
  ) => {
    const res = await engine.app.inject({
      method,
      url,
      headers,
      ...(body === undefined ? {} : { payload: body }),
    });
    return { status: res.statusCode, body: res.json() };
  };
  const count = async (sql: string, params: string[] = []) =>
    Number((await store.read((tx) => tx.one<{ n: number }>(sql, params)))?.n);
  return { store, engine, request, count };
}

it('recovers a payout whose outcome was never recorded, and pays it once', { timeout: 60_000 }, async () => {
  // 1. A member-funded claim, submitted, with no worker running.
  const first = await engineOn(false);
  const { app, secret } = await first.store.transact((tx) =>
    createApp(tx, { name: 'till', scopes: ['cashback_read', 'cashback_write'] }, Date.now()),
  );
  const headers = { 'x-app-id': app.appId, 'x-api-key': secret };
  const program = await first.store.transact((tx) =>
    createProgram(
      tx,
      { uniqueIdentifier: 'CASH-1', name: 'Cashback', description: '', currency: 'AUD', cashbackBps: 1000 },
      Date.now(),
    ),
  );
  const earned = await first.request(
    'POST',
    '/v1/earn',
    { ...headers, 'idempotency-key': 'e1' },
    {
      program_id: program.id,
      member: { email: 'jane@example.com' },
      member_name: 'Jane',
      purchase_amount: 100_000,
    },
  );
  expect(earned.status).toBe(200);
  const created = await first.request(
    'POST',
    '/v1/claims',
    { ...headers, 'idempotency-key': 'c1' },
    {
      amount: 4_000,
      funding: 'member',
      program_id: program.id,
      member: { id: earned.body.member_id },
      store_name: 'Corner Store',
    },
  );
  const claim = created.body.claim_id as string;
  const submitted = await first.request(
    'POST',
    `/v1/public/claims/${claim}/submit`,
    {},
    {
      method: { kind: 'au_bank', bsb: '062-000', account: '12345678' },
      consent: true,
    },
  );
  expect(submitted.status).toBe(202);
  await first.engine.close();
  await first.store.close();

  // 2. A child engine moves it to processing, calls the sandbox, and dies before recording the answer.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/engine/fixtures/payout-crash.ts', path, secretsFile],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, s) => resolve(s)),
  );
  expect(signal, stderr).toBe('SIGKILL');

  // 3. What the crash left: a processing claim and payout; the sandbox has paid it once already.
  const second = await engineOn(false);
  expect(
    await second.count("SELECT COUNT(*) AS n FROM claims WHERE id = ? AND state = 'processing'", [claim]),
  ).toBe(1);
  expect(
    await second.count(
      "SELECT COUNT(*) AS n FROM payouts WHERE claim_id = ? AND state = 'processing' AND submitted_at IS NULL",
      [claim],
    ),
  ).toBe(1);
  expect(
    await second.count("SELECT COUNT(*) AS n FROM sandbox_payouts WHERE status = 'paid' AND submissions = 1"),
  ).toBe(1);

  // 4. The new engine's worker recovers it at start, with the same payout id.
  second.engine.payouts.start();
  const deadline = Date.now() + 30_000;
  while ((await second.request('GET', `/v1/public/claims/${claim}/status`, {})).body.status !== 'paid') {
    if (Date.now() > deadline) throw new Error('the payout was not recovered');
    await new Promise((r) => setTimeout(r, 20));
  }
  expect(await second.count('SELECT COUNT(*) AS n FROM payouts')).toBe(1);
  expect(await second.count('SELECT COUNT(*) AS n FROM sandbox_payouts')).toBe(1);
  expect(await second.count('SELECT submissions AS n FROM sandbox_payouts')).toBe(2);
  expect(
    await second.count("SELECT COUNT(*) AS n FROM events WHERE subject_id = ? AND type = 'claim.paid'", [
      claim,
    ]),
  ).toBe(1);
  expect(await second.count("SELECT COUNT(*) AS n FROM transfers WHERE phase = 'post_pending'")).toBe(1);
  const balance = await second.request(
    'GET',
    `/v1/members/${earned.body.member_id}/balance?program_id=${program.id}`,
    headers,
  );
  expect(balance.body.balance).toMatchObject({ available: 6_000, held: 0 });
  expect((await second.store.read((tx) => verifyLedger(tx))).problems).toEqual([]);
  await second.engine.close();
  await second.store.close();
});
