// The flows as a component of the till core: startTill (embedded engine, simulated terminals) serves
// the flow routes, and a flow started without a program runs in the till's own program.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { startTill, type Till } from '../../till/core.ts';
import { testLog, testLogDir } from '../fixtures/test-log.ts';

let dir: string;
let till: Till;
let session: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tillback-flows-core-'));
  till = await startTill(
    {
      dataDir: dir,
      logDir: mkdtempSync(join(testLogDir(), 'till-flows-core-')),
      devices: { pollIntervalMs: 200 },
    },
    { simulate: 'always', simulatorOut: testLog('till-flows-core-simulator'), handleSignals: false },
  );
  const manager = till.firstManager!;
  session = (await call('/api/operators/sign-in', { name: manager.name, pin: manager.generatedPin })).body
    .session as string;
}, 60_000);
afterAll(async () => {
  await till?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${till.apiUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${till.token}`,
      ...(session ? { 'x-operator-session': session } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: await res.json() };
}

it("runs an earn in the till's own program over the core's local API", async () => {
  const started = await call('/api/flows/earn', { amount: 5_000, memberName: 'Jane Citizen' });
  expect(started.status).toBe(201);
  expect(started.body.state).toMatchObject({
    step: 'identify',
    amount: { minor: 5_000, currency: till.program.currency },
  });
  expect(
    (await call('/api/flows/current/input', { member: { email: 'jane.core@example.com' } })).status,
  ).toBe(200);
  await vi.waitFor(
    async () => expect((await call('/api/flows/current')).body.flow).toMatchObject({ outcome: 'done' }),
    { timeout: 20_000, interval: 100 },
  );
  const { flow } = (await call('/api/flows/current')).body;
  expect(flow.result).toMatchObject({ queued: false, cashback: expect.any(Number) });
  expect(flow.result.cashback).toBeGreaterThan(0);
});

it("serves browser mode's demo customer: an earn by swipe, then a redeem with the PIN typed on the simulated pad", async () => {
  const demo = till.demoCustomer!;
  expect(demo).toMatchObject({ email: 'demo@tillback.example', card: 'visa' });
  const finished = async () => {
    await vi.waitFor(
      async () => expect((await call('/api/flows/current')).body.flow.outcome).not.toBeNull(),
      { timeout: 30_000, interval: 100 },
    );
    return (await call('/api/flows/current')).body.flow;
  };

  expect((await call('/api/flows/earn', { amount: 10_000 })).status).toBe(201);
  await till.simulation!.swipe(demo.card);
  const earned = await finished();
  expect(earned).toMatchObject({ outcome: 'done', member: expect.stringMatching(/^\d{6}\*+\d{4}$/) });
  const available = earned.result.available as number | undefined;
  expect(earned.result.cashback).toBeGreaterThan(0);

  // The simulated PIN pad types the demo PIN; the embedded engine verifies the block with the
  // simulator's test key, which browser mode configures.
  expect((await call('/api/flows/redeem', { amount: 100 })).status).toBe(201);
  await till.simulation!.swipe(demo.card);
  const redeemed = await finished();
  expect(redeemed, JSON.stringify(redeemed)).toMatchObject({ outcome: 'done', result: { redeemed: 100 } });
  if (available !== undefined) expect(redeemed.result.available).toBe(available - 100);
});
