// The flows over the local API: real HTTP and WebSocket on 127.0.0.1, a real till file and a real engine
// on loopback, a device manager with no terminal attached (members are typed). Starting, typed input,
// cancel, the current flow, one flow at a time, bad bodies in the API's error shape changing nothing,
// every FlowEvent as a `flow` message on /api/events, and no secret in the API's log.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { DeviceManager } from '../../drivers/devices/manager.ts';
import { ServerMessageSchema, type ServerMessage } from '../../till/api/messages.ts';
import { createLocalApi, SESSION_HEADER, type LocalApi } from '../../till/api/server.ts';
import type { FlowEvent } from '../../till/flows/events.ts';
import { flowRoutes } from '../../till/flows/routes.ts';
import { createFlows, type Flows } from '../../till/flows/runner.ts';
import { openOutbox, type Outbox } from '../../till/outbox/outbox.ts';
import { OPERATOR_PINS } from '../fixtures/secrets.ts';
import { testLog } from '../fixtures/test-log.ts';
import { startEngineLink, type EngineLink } from './engine-link.ts';

const MANAGER = { name: 'maria', pin: OPERATOR_PINS[0] };
const writeTestLog = testLog('till-flows-api');

let link: EngineLink;
let dir: string;
let devices: DeviceManager;
let outbox: Outbox;
let flows: Flows;
let api: LocalApi;
let session: string;
const logLines: string[] = [];
const messages: ServerMessage[] = [];
let ws: WebSocket;

beforeAll(async () => {
  link = await startEngineLink();
  dir = mkdtempSync(join(tmpdir(), 'tillback-flows-api-'));
  devices = new DeviceManager({ enumerators: [], probe: false });
  await devices.start();
  outbox = await openOutbox({
    path: join(dir, 'till.sqlite'),
    engine: { url: link.url, ...link.credentials },
    retry: { baseMs: 20, maxMs: 200 },
  });
  outbox.start();
  flows = createFlows({
    devices,
    outbox,
    config: { tokenizationKey: 'till-flows-api-test-card-hash-key-0123456789' },
  });
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      logLines.push(line);
      writeTestLog(line);
    }
  });
  api = await createLocalApi({
    outbox,
    config: { firstManager: MANAGER },
    routes: [flowRoutes(flows)],
    logStream,
  });
  const signIn = await call('POST', '/api/operators/sign-in', MANAGER, false);
  session = (signIn.body as { session: string }).session;
  ws = new WebSocket(`${api.url.replace('http', 'ws')}/api/events`);
  ws.on('message', (d: Buffer) => messages.push(ServerMessageSchema.parse(JSON.parse(d.toString('utf8')))));
  await new Promise((resolve) => ws.once('open', resolve));
  ws.send(JSON.stringify({ type: 'auth', token: api.token }));
  await vi.waitFor(() => expect(messages[0]?.type).toBe('ready'), { timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  ws?.close();
  await flows?.close();
  await api?.close();
  await devices?.close();
  await outbox?.close();
  await link?.close();
  rmSync(dir, { recursive: true, force: true });
  expect(logLines.length).toBeGreaterThan(0);
  for (const line of logLines) {
    for (const secret of [MANAGER.pin, api.token, session]) expect(line).not.toContain(secret);
  }
});

async function call(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  signedIn = true,
): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, api.url), {
    method,
    headers: {
      authorization: `Bearer ${api.token}`,
      ...(signedIn ? { [SESSION_HEADER]: session } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const flowMessages = (flowId: string): FlowEvent[] =>
  messages.flatMap((m) => (m.type === 'flow' && m.flow.flowId === flowId ? [m.flow] : []));
const lastOf = (flowId: string) => flowMessages(flowId).at(-1);
const errorShape = (code: string) => ({ error: { code, message: expect.any(String) } });

async function engineMember(email: string): Promise<number> {
  const r = await link.h.request({
    method: 'POST',
    url: '/v1/earn',
    headers: {
      'x-app-id': link.credentials.appId,
      'x-api-key': link.credentials.apiKey,
      'idempotency-key': email,
    },
    body: { program_id: link.programId, member: { email }, member_name: 'Jane', purchase_amount: 10_000 },
  });
  expect(r.status).toBe(200);
  return r.body.member_id as number;
}

describe('flows over the local API', () => {
  it('an earn: started, one at a time, the member typed in, each step a `flow` message', async () => {
    const sale = { programId: link.programId, currency: 'TND', amount: 2_000 };
    // A new member: the engine creates them, by the email typed, with this name.
    const started = await call('POST', '/api/flows/earn', { ...sale, memberName: 'Walk In' });
    expect(started.status).toBe(201);
    const { flowId, state } = started.body as { flowId: string; state: FlowEvent };
    expect(state).toMatchObject({
      flowId,
      kind: 'earn',
      step: 'identify',
      amount: { minor: 2_000, currency: 'TND' },
    });

    expect(await call('POST', '/api/flows/redeem', sale)).toEqual({
      status: 409,
      body: errorShape('flow_busy'),
    });
    expect(await call('POST', '/api/flows/current/input', { code: '123456' })).toEqual({
      status: 409,
      body: errorShape('not_waiting'),
    });
    const typed = await call('POST', '/api/flows/current/input', { member: { email: 'walkin@example.com' } });
    expect(typed.status).toBe(200);

    await vi.waitFor(() => expect(lastOf(flowId)?.outcome).toBe('done'), { timeout: 15_000 });
    expect(flowMessages(flowId).map((f) => f.step)).toEqual(['identify', 'enqueueing', 'delivering', 'done']);
    expect(lastOf(flowId)).toMatchObject({
      member: 'w***@example.com',
      result: { queued: false, cashback: 100 },
      prompt: { cashier: 'done', customer: 'thank_you' },
    });
    const current = await call('GET', '/api/flows/current');
    expect(current).toEqual({ status: 200, body: { flow: lastOf(flowId) } });
    expect(await call('POST', '/api/flows/current/cancel')).toEqual({
      status: 404,
      body: errorShape('no_flow'),
    });
  });

  it('a redeem by one-time code, cancelled while the code is awaited: nothing spent', async () => {
    const email = 'redeemer@example.com';
    const memberId = await engineMember(email);
    const balance = async () =>
      (
        await link.h.request({
          method: 'GET',
          url: `/v1/members/${memberId}/balance?program_id=${link.programId}`,
          headers: { 'x-app-id': link.credentials.appId, 'x-api-key': link.credentials.apiKey },
        })
      ).body.balance.available as number;
    const before = await balance();
    const started = await call('POST', '/api/flows/redeem', {
      programId: link.programId,
      currency: 'TND',
      amount: 100,
      member: { email },
    });
    const { flowId } = started.body as { flowId: string };
    await vi.waitFor(() => expect(lastOf(flowId)?.step).toBe('otp'), { timeout: 15_000 });
    expect(lastOf(flowId)?.prompt).toEqual({ cashier: 'enter_code', customer: 'tell_code' });
    const cancelled = await call('POST', '/api/flows/current/cancel');
    expect(cancelled).toMatchObject({ status: 200, body: { flow: { flowId, outcome: 'cancelled' } } });
    await vi.waitFor(() => expect(lastOf(flowId)?.outcome).toBe('cancelled'));
    expect(await balance()).toBe(before);
  });

  it('refuses bad bodies, cards in a body and no session in the API shape, starting nothing', async () => {
    const before = await call('GET', '/api/flows/current');
    const sale = { programId: link.programId, currency: 'TND', amount: 2_000 };
    const bad: unknown[] = [
      { ...sale, amount: 12.5 },
      { ...sale, amount: -1 },
      { ...sale, extra: true },
      { ...sale, member: { card: { hash: 'a'.repeat(64), masked: '411111******1111' } } },
      { programId: link.programId, amount: 2_000 },
    ];
    for (const body of bad) {
      expect(await call('POST', '/api/flows/earn', body)).toEqual({
        status: 400,
        body: errorShape('validation_error'),
      });
    }
    expect(await call('POST', '/api/flows/refund', { original: { operationId: 'not-a-uuid' } })).toEqual({
      status: 400,
      body: errorShape('validation_error'),
    });
    expect(await call('POST', '/api/flows/cashout', sale, false)).toEqual({
      status: 401,
      body: errorShape('session_required'),
    });
    expect(await call('GET', '/api/flows/current')).toEqual(before);
  });
});
